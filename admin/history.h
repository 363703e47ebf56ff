/*
 * leakgate scan --git: the whole history of a repository (every blob
 * reachable from a ref or HEAD, each once; every commit and annotated tag
 * object; with all_objects the unreachable objects too), each finding
 * named with its path, the commit that introduced it and the refs that
 * contain that commit.
 */
#ifndef LG_HISTORY_H
#define LG_HISTORY_H

#include <stdint.h>

#include "fingerprint.h"
#include "report.h"
#include "unpack.h"
#include "ruleset.h"

/*
 * Blobs larger than this are listed as skipped when --max-size is not
 * given: libgit2 cannot stream a packed object, so each scanning thread
 * holds one blob whole, and this bounds that memory.
 */
#define HISTORY_MAX_BLOB_DEFAULT (256ull << 20)
#define HISTORY_THREADS_MAX 64

struct history_opts {
	struct lg_ruleset *rs;
	const struct lg_key *key;
	int threads;         /* scanning threads, 1 or more */
	int binary;          /* scan binary blobs whole */
	int all_objects;     /* unreachable objects too */
	int progress;        /* a progress line on stderr */
	int several;         /* more than one repository: findings name theirs */
	uint64_t max_size;   /* larger blobs are skipped; 0: HISTORY_MAX_BLOB_DEFAULT */
	const struct lg_unpack_opts *unpack; /* archives and decoding, as for files (scan_binary: binary) */
};

/*
 * Scan the history of the repository at path (bare, a .git folder, or a
 * work tree's top) into r. Every failure is a report_error() naming the
 * repository or the object: nothing is skipped without a note.
 */
void history_scan(const struct history_opts *o, struct report *r, const char *path);

#endif
