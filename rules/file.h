/*
 * Whole files, for every program: read one into memory, write all of a
 * buffer to a descriptor, replace one atomically, make a folder path.
 * Errors are LG_* codes (lg.h) with a line in the diag given (may be NULL).
 */
#ifndef LG_FILE_H
#define LG_FILE_H

#include <stddef.h>

#include "lg.h"

/*
 * Read the regular file path of at most max bytes into *out (malloc'd,
 * NUL-terminated; *len without the NUL). LG_ENOTFOUND when it does not
 * exist, LG_ETOOLARGE over max, LG_EINVALID when not a regular file,
 * LG_ENOMEM, LG_EIO.
 */
int lg_file_read(const char *path, size_t max, char **out, size_t *len, struct lg_diag *d);

/* Write all n bytes of buf to fd (retrying short writes and EINTR); 0, or -1 with errno. */
int lg_fd_write_all(int fd, const void *buf, size_t n);

/* lg_file_write_atomic's flags. */
enum {
	LG_WRITE_EXCL = 1, /* never replace: LG_EEXISTS when path exists (then nothing is changed) */
};

/*
 * Replace path with buf[0..n) (mode given, whatever the umask and the
 * folder's): written to a private temporary file beside it (mkstemp, so no
 * name another account prepared is followed), flushed to disk, then
 * renamed into place (linked, with LG_WRITE_EXCL), so that a reader sees
 * the old file or the new one, never a part. LG_OK, LG_EEXISTS, LG_EIO or
 * LG_ENOMEM; errno is that of the failure.
 */
int lg_file_write_atomic(const char *path, const void *buf, size_t n, unsigned mode, int flags,
			 struct lg_diag *d);

/* mkdir -p with mode for the folders it makes; LG_OK, LG_ENOMEM or LG_EIO. */
int lg_mkdir_p(const char *dir, unsigned mode);

/* The folder part of path (malloc'd; "." when it has none), or NULL when out of memory. */
char *lg_dirname(const char *path);

#endif
