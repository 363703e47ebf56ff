/*
 * The event spool (store.h): where a decision's audit event goes when the
 * database cannot take it, so that no decision is ever left without a
 * trace. One JSON object a line. Writers and the drainer take an exclusive
 * lock on the file (flock), so a line is never half written or lost while
 * the spool is being emptied. Lines that cannot be read back are not
 * thrown away: they move to path + ".rejected" for an administrator.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "file.h"
#include "store.h"
#include "vec.h"

char *lg_spool_path(const char *db_path)
{
	char *p = NULL;

	return asprintf(&p, "%s.spool", db_path) < 0 ? NULL : p;
}

/* The JSON text t as a value; a text that is not JSON is kept as a string. */
static json_t *embedded(const char *t, const char *dflt)
{
	json_t *v;

	if (!t)
		t = dflt;
	v = json_loads(t, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(t);
}

char *lg_event_to_json(const struct lg_event *ev)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "uid", json_string(ev->uid));
	json_object_set_new(o, "time_ms", json_integer(ev->time_ms));
	json_object_set_new(o, "kind", json_string(ev->kind ? ev->kind : "failed"));
	json_object_set_new(o, "repo", json_string(ev->repo ? ev->repo : ""));
	json_object_set_new(o, "pusher", json_string(ev->pusher ? ev->pusher : ""));
	json_object_set_new(o, "protocol", json_string(ev->protocol ? ev->protocol : ""));
	json_object_set_new(o, "refs", embedded(ev->refs_json, "[]"));
	json_object_set_new(o, "findings", embedded(ev->findings_json, "[]"));
	json_object_set_new(o, "reason", json_string(ev->reason ? ev->reason : ""));
	json_object_set_new(o, "exemptions", embedded(ev->exemptions_json, "[]"));
	json_object_set_new(o, "skipped", embedded(ev->skipped_json, "[]"));
	json_object_set_new(o, "duration_ms", json_integer(ev->duration_ms));
	json_object_set_new(o, "bytes_scanned", json_integer(ev->bytes_scanned));
	json_object_set_new(o, "objects_scanned", json_integer(ev->objects_scanned));
	json_object_set_new(o, "ruleset", json_string(ev->ruleset ? ev->ruleset : ""));
	s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	return s;
}

/* Lock fd exclusively, polling until deadline_ms (0: wait as long as it takes). */
static int lock_until(int fd, int64_t deadline_ms)
{
	for (;;) {
		if (flock(fd, deadline_ms ? LOCK_EX | LOCK_NB : LOCK_EX) == 0)
			return LG_OK;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return LG_EIO;
		if (lg_now_ms() >= deadline_ms)
			return LG_ETIMEDOUT;
		usleep(2000);
	}
}

int lg_spool_append(const char *db_path, const struct lg_event *ev, int64_t deadline_ms,
		    struct lg_diag *d)
{
	char *line = lg_event_to_json(ev);
	int err = line ? lg_spool_append_line(db_path, line, deadline_ms, d) : LG_ENOMEM;

	free(line);
	return err;
}

int lg_spool_append_line(const char *db_path, const char *line, int64_t deadline_ms, struct lg_diag *d)
{
	char *path = lg_spool_path(db_path), *dir = NULL, *slash;
	struct stat sb;
	int fd = -1, err = LG_ENOMEM;

	if (!path || !line)
		goto out;
	if ((dir = strdup(path)) && (slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		lg_mkdir_p(dir, 0700);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		lg_diag_add(d, path, NULL, NULL, "cannot open the event spool: %s", strerror(errno));
		err = LG_EIO;
		goto out;
	}
	if ((err = lock_until(fd, deadline_ms))) {
		lg_diag_add(d, path, NULL, NULL, "the event spool stayed locked");
		goto out;
	}
	if (fstat(fd, &sb) < 0 || (uint64_t)sb.st_size + strlen(line) + 1 > LG_SPOOL_MAX_BYTES) {
		lg_diag_add(d, path, NULL, NULL, "the event spool is full (%u MiB): the database has been "
			    "unusable for a long time", LG_SPOOL_MAX_BYTES >> 20);
		err = LG_ETOOLARGE;
		goto out;
	}
	/* One write of the whole line: a reader never sees part of it. */
	{
		size_t len = strlen(line);
		char *full = malloc(len + 1);
		int bad;
		if (!full) {
			err = LG_ENOMEM;
			goto out;
		}
		memcpy(full, line, len);
		full[len] = '\n';
		bad = lg_fd_write_all(fd, full, len + 1) < 0 || fsync(fd) < 0;
		free(full);
		if (!bad) {
			err = LG_OK;
			goto out;
		}
	}
	{
		lg_diag_add(d, path, NULL, NULL, "cannot write the event spool: %s", strerror(errno));
		/* Leave no half line behind for the reader. */
		if (ftruncate(fd, sb.st_size) < 0) {
			/* the reader skips a line it cannot parse into .rejected */
		}
		err = LG_EIO;
	}
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	free(path);
	return err;
}

long lg_spool_depth(const char *db_path)
{
	char *path = lg_spool_path(db_path), buf[65536];
	long lines = 0;
	ssize_t n;
	int fd;

	if (!path)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return n < 0 ? -1 : lines;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* One spooled line into the database; LG_EINVALID when it is not an event. */
static int add_line(struct lg_store *st, const char *line, size_t len, struct lg_diag *d)
{
	json_t *o = json_loadb(line, len, 0, NULL);
	struct lg_event ev;
	char *refs = NULL, *findings = NULL, *ex = NULL, *skipped = NULL;
	int err = LG_EINVALID;

	memset(&ev, 0, sizeof(ev));
	if (!json_is_object(o) || strlen(jstr(o, "uid")) != LG_EVENT_UID_HEX || !json_is_integer(json_object_get(o, "time_ms")))
		goto out;
	memcpy(ev.uid, jstr(o, "uid"), LG_EVENT_UID_HEX + 1);
	ev.time_ms = json_integer_value(json_object_get(o, "time_ms"));
	ev.kind = jstr(o, "kind");
	if (!lg_event_kind_valid(ev.kind))
		goto out;
	ev.repo = jstr(o, "repo");
	ev.pusher = jstr(o, "pusher");
	ev.protocol = jstr(o, "protocol");
	ev.reason = jstr(o, "reason");
	ev.ruleset = jstr(o, "ruleset");
	ev.refs_json = refs = json_dumps(json_object_get(o, "refs"), JSON_COMPACT | JSON_ENCODE_ANY);
	ev.findings_json = findings = json_dumps(json_object_get(o, "findings"), JSON_COMPACT | JSON_ENCODE_ANY);
	ev.exemptions_json = ex = json_dumps(json_object_get(o, "exemptions"), JSON_COMPACT | JSON_ENCODE_ANY);
	ev.skipped_json = skipped = json_dumps(json_object_get(o, "skipped"), JSON_COMPACT | JSON_ENCODE_ANY);
	ev.duration_ms = json_integer_value(json_object_get(o, "duration_ms"));
	ev.bytes_scanned = json_integer_value(json_object_get(o, "bytes_scanned"));
	ev.objects_scanned = json_integer_value(json_object_get(o, "objects_scanned"));
	err = lg_store_add_event(st, &ev, NULL, d);
out:
	free(refs);
	free(findings);
	free(ex);
	free(skipped);
	json_decref(o);
	return err;
}

/* Keep a line that cannot be read back, for an administrator. */
static int keep_rejected(const char *spool, const char *line, size_t len)
{
	char *path = NULL;
	int fd, ok;

	if (asprintf(&path, "%s.rejected", spool) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0)
		return -1;
	ok = lg_fd_write_all(fd, line, len) == 0 && lg_fd_write_all(fd, "\n", 1) == 0 && fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -1;
}

int lg_spool_drain(struct lg_store *st, const char *db_path, size_t *moved, struct lg_diag *d)
{
	char *path = lg_spool_path(db_path);
	struct lg_vec text = LG_VEC_INIT(1, LG_SPOOL_MAX_BYTES + 2);
	struct stat sb;
	size_t n = 0;
	int fd = -1, err = LG_OK;
	char *msg = NULL;

	if (moved)
		*moved = 0;
	if (!path)
		return LG_ENOMEM;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		free(path);
		return errno == ENOENT ? LG_OK : LG_EIO;
	}
	if (fstat(fd, &sb) < 0 || sb.st_size == 0)
		goto out;
	if ((err = lock_until(fd, lg_now_ms() + 2000)))
		goto out;
	for (;;) {
		char buf[65536];
		ssize_t k = read(fd, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err = LG_EIO;
			goto out;
		}
		if (k == 0)
			break;
		if ((err = lg_vec_putn(&text, buf, (size_t)k)))
			goto out;
	}
	if (text.n == 0)
		goto out;
	if (sqlite3_exec(lg_store_db(st), "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
		lg_diag_add(d, path, NULL, NULL, "cannot move the spooled events: %s", msg ? msg : "");
		err = LG_EBUSY;
		goto out;
	}
	for (const char *p = text.v, *end = p + text.n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int e = len ? add_line(st, p, len, d) : LG_OK;
		if (e == LG_EINVALID && keep_rejected(path, p, len) == 0)
			e = LG_OK;
		if (e) {
			err = e;
			break;
		}
		n += len > 0;
		p += len + 1;
	}
	if (err) {
		sqlite3_exec(lg_store_db(st), "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	if (sqlite3_exec(lg_store_db(st), "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_exec(lg_store_db(st), "ROLLBACK", NULL, NULL, NULL);
		lg_diag_add(d, path, NULL, NULL, "cannot move the spooled events: %s", msg ? msg : "");
		err = LG_EBUSY;
		goto out;
	}
	/* In the database now: the spool starts over (still under the lock). */
	if (ftruncate(fd, 0) < 0 || fsync(fd) < 0) {
		/* They would be added again, once each (uid), on the next drain. */
		err = LG_EIO;
		goto out;
	}
	if (moved)
		*moved = n;
out:
	sqlite3_free(msg);
	if (fd >= 0)
		close(fd);
	lg_vec_release(&text);
	free(path);
	return err;
}
