/* Whole files (file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

int lg_file_read(const char *path, size_t max, char **out, size_t *len, struct lg_diag *d)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, err = LG_EIO;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = errno == ENOENT ? LG_ENOTFOUND : LG_EIO;
		lg_diag_add(d, path, NULL, NULL, "cannot open: %s", strerror(errno));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		lg_diag_add(d, path, NULL, NULL, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		lg_diag_add(d, path, NULL, NULL, "not a regular file");
		err = LG_EINVALID;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		lg_diag_add(d, path, NULL, NULL, "%lld bytes, over the limit of %zu", (long long)st.st_size, max);
		err = LG_ETOOLARGE;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		lg_diag_add(d, path, NULL, NULL, "out of memory reading %lld bytes", (long long)st.st_size);
		err = LG_ENOMEM;
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			lg_diag_add(d, path, NULL, NULL, "read failed: %s", r < 0 ? strerror(errno) : "the file shrank");
			goto out;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	err = LG_OK;
out:
	free(buf);
	close(fd);
	return err;
}

int lg_fd_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

char *lg_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int lg_file_write_atomic(const char *path, const void *buf, size_t n, unsigned mode, int flags,
			 struct lg_diag *d)
{
	char *dir = lg_dirname(path), *tmp = NULL;
	const char *base = strrchr(path, '/');
	int fd = -1, err = LG_EIO, saved;

	base = base ? base + 1 : path;
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		err = LG_ENOMEM;
		lg_diag_add(d, path, NULL, NULL, "out of memory");
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		lg_diag_add(d, path, NULL, NULL, "cannot create a file in %s: %s", dir, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, (mode_t)mode) < 0 || lg_fd_write_all(fd, buf, n) < 0 || fsync(fd) < 0) {
		lg_diag_add(d, path, NULL, NULL, "cannot write: %s", strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		lg_diag_add(d, path, NULL, NULL, "cannot write: %s", strerror(errno));
		goto out;
	}
	fd = -1;
	if (flags & LG_WRITE_EXCL) {
		/* link() fails when the name exists: whoever was first wins. */
		if (link(tmp, path) < 0) {
			err = errno == EEXIST ? LG_EEXISTS : LG_EIO;
			if (err == LG_EIO)
				lg_diag_add(d, path, NULL, NULL, "cannot create: %s", strerror(errno));
			goto out;
		}
	} else if (rename(tmp, path) < 0) {
		lg_diag_add(d, path, NULL, NULL, "cannot replace: %s", strerror(errno));
		goto out;
	} else {
		free(tmp);
		tmp = NULL;
	}
	/* The new name itself must survive a crash: flush the folder too. */
	{
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd); /* best effort: some file systems refuse fsync on a folder */
			close(dfd);
		}
	}
	err = LG_OK;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(dir);
	errno = err ? saved : 0;
	return err;
}

int lg_mkdir_p(const char *dir, unsigned mode)
{
	char *p = strdup(dir);
	int err = LG_OK;

	if (!p)
		return LG_ENOMEM;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
				err = LG_EIO;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return err;
}
