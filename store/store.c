/*
 * SQLite state store. Every connection sets WAL mode and a busy timeout,
 * so hooks running side by side and the daemon queue up instead of
 * failing; each write is one short transaction. Schema changes are
 * numbered migrations recorded in PRAGMA user_version.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sqlite3.h>

#include "fingerprint.h"
#include "file.h"
#include "paths.h"
#include "store.h"

struct lg_store {
	sqlite3 *db;
	sqlite3_stmt *data_version; /* prepared on first use */
	int64_t deadline_ms;        /* no lock wait goes past it (0: none) */
	int64_t busy_since;
	char id[33];
};

static const char *const migrations[] = {
	/* 1: audit events. */
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time_ms INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" repo TEXT NOT NULL DEFAULT '',"
	" pusher TEXT NOT NULL DEFAULT '',"
	" protocol TEXT NOT NULL DEFAULT '',"
	" refs TEXT NOT NULL DEFAULT '[]',"
	" findings TEXT NOT NULL DEFAULT '[]',"
	" reason TEXT NOT NULL DEFAULT '',"
	" exemptions TEXT NOT NULL DEFAULT '[]',"
	" duration_ms INTEGER NOT NULL DEFAULT 0,"
	" bytes_scanned INTEGER NOT NULL DEFAULT 0,"
	" objects_scanned INTEGER NOT NULL DEFAULT 0,"
	" ruleset TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX events_time ON events(time_ms);"
	"CREATE INDEX events_repo ON events(repo, time_ms);",
	/* 2: administration: custom rules, rule states, exemptions, tokens, webhooks. */
	"CREATE TABLE rules ("
	" id TEXT PRIMARY KEY,"
	" json TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" updated_ms INTEGER NOT NULL,"
	" updated_by TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE rule_states ("
	" id TEXT PRIMARY KEY,"
	" enabled INTEGER NOT NULL,"
	" updated_ms INTEGER NOT NULL,"
	" updated_by TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE exemptions ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" repo_glob TEXT NOT NULL DEFAULT '*',"
	" fingerprint TEXT,"
	" rule_id TEXT,"
	" path_glob TEXT,"
	" reason TEXT NOT NULL,"
	" created_by TEXT NOT NULL DEFAULT '',"
	" created_ms INTEGER NOT NULL,"
	" expires_ms INTEGER);"
	"CREATE TABLE tokens ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL DEFAULT '',"
	" role TEXT NOT NULL CHECK (role IN ('admin', 'read')),"
	" prefix TEXT NOT NULL,"
	" hash TEXT NOT NULL UNIQUE,"
	" created_ms INTEGER NOT NULL,"
	" revoked_ms INTEGER);"
	"CREATE INDEX tokens_prefix ON tokens(prefix);"
	"CREATE TABLE webhook_cursors ("
	" url TEXT PRIMARY KEY,"
	" last_event_id INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_ms INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/*
	 * 3: event pages read by id under every filter (an index on one column
	 * is ordered by id within each value), and the totals /metrics reports,
	 * kept by a trigger as events are added (by any writer) instead of
	 * counted over the whole history at every scrape. A bucket row counts
	 * the events whose value is at most its bound (cumulative, as Prometheus
	 * histograms are).
	 */
	"DROP INDEX events_repo;"
	"CREATE INDEX events_repo ON events(repo);"
	"CREATE INDEX events_pusher ON events(pusher);"
	"CREATE INDEX events_kind ON events(kind);"
	"CREATE TABLE event_totals ("
	" kind TEXT PRIMARY KEY,"
	" events INTEGER NOT NULL DEFAULT 0,"
	" duration_ms INTEGER NOT NULL DEFAULT 0,"
	" bytes_scanned INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE event_buckets ("
	" metric TEXT NOT NULL,"
	" le INTEGER NOT NULL,"
	" events INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (metric, le));"
	"INSERT INTO event_buckets (metric, le) VALUES"
	" ('duration_ms', 10), ('duration_ms', 25), ('duration_ms', 50), ('duration_ms', 100),"
	" ('duration_ms', 250), ('duration_ms', 500), ('duration_ms', 1000), ('duration_ms', 2500),"
	" ('duration_ms', 5000), ('duration_ms', 10000), ('duration_ms', 30000), ('duration_ms', 60000),"
	" ('bytes_scanned', 1000), ('bytes_scanned', 10000), ('bytes_scanned', 100000),"
	" ('bytes_scanned', 1000000), ('bytes_scanned', 10000000), ('bytes_scanned', 100000000),"
	" ('bytes_scanned', 1000000000);"
	"INSERT INTO event_totals (kind, events, duration_ms, bytes_scanned)"
	" SELECT kind, count(*), sum(duration_ms), sum(bytes_scanned) FROM events GROUP BY kind;"
	"UPDATE event_buckets SET events = (SELECT count(*) FROM events"
	" WHERE (event_buckets.metric = 'duration_ms' AND duration_ms <= event_buckets.le)"
	" OR (event_buckets.metric = 'bytes_scanned' AND bytes_scanned <= event_buckets.le));"
	"CREATE TRIGGER events_count AFTER INSERT ON events BEGIN"
	" INSERT OR IGNORE INTO event_totals (kind) VALUES (new.kind);"
	" UPDATE event_totals SET events = events + 1, duration_ms = duration_ms + new.duration_ms,"
	" bytes_scanned = bytes_scanned + new.bytes_scanned WHERE kind = new.kind;"
	" UPDATE event_buckets SET events = events + 1"
	" WHERE (metric = 'duration_ms' AND le >= new.duration_ms)"
	" OR (metric = 'bytes_scanned' AND le >= new.bytes_scanned);"
	" END;",
	/*
	 * 4: events carry a uid, so that one written twice (to the spool and
	 * later to the database) is stored once; the files a push skipped; and
	 * the database's own id, which markers beside the key remember.
	 */
	"ALTER TABLE events ADD COLUMN uid TEXT;"
	"ALTER TABLE events ADD COLUMN skipped TEXT NOT NULL DEFAULT '[]';"
	"CREATE UNIQUE INDEX events_uid ON events(uid);"
	"INSERT OR IGNORE INTO meta (key, value) VALUES ('db_id', lower(hex(randomblob(16))));",
};
#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

struct sqlite3 *lg_store_db(struct lg_store *st)
{
	return st->db;
}

char *lg_store_default_path(void)
{
	const char *e = getenv("LEAKGATE_DB");

	if (e && *e)
		return strdup(e);
	return lg_dir_path(LG_DIR_STATE, "leakgate.db");
}

static int exec(struct lg_store *st, const char *sql, const char *path, struct lg_diag *d)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		lg_diag_add(d, path, NULL, NULL, "database error: %s", msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return LG_ERROR;
	}
	return LG_OK;
}

static int schema_version(struct lg_store *st)
{
	sqlite3_stmt *q = NULL;
	int version = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return version;
}

/* Bring the schema from version (read before any transaction) up to date. */
static int migrate(struct lg_store *st, int version, const char *path, struct lg_diag *d)
{
	int err;

	/* Up to date, the usual case: no write transaction at all. */
	if (version == (int)N_MIGRATIONS)
		return LG_OK;

	/* BEGIN IMMEDIATE: two processes opening a new file migrate one at a time. */
	if ((err = exec(st, "BEGIN IMMEDIATE", path, d)))
		return err;
	/* Read again inside the transaction: another process may have migrated meanwhile. */
	if ((version = schema_version(st)) < 0)
		version = 0;
	if (version > (int)N_MIGRATIONS) {
		lg_diag_add(d, path, NULL, NULL,
			    "database schema version %d is newer than this leakgate knows (%zu): upgrade leakgate",
			    version, N_MIGRATIONS);
		exec(st, "ROLLBACK", path, NULL);
		return LG_EINVALID;
	}
	for (size_t i = (size_t)version; i < N_MIGRATIONS; i++) {
		char pragma[64];
		if ((err = exec(st, migrations[i], path, d))) {
			exec(st, "ROLLBACK", path, NULL);
			return err;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", i + 1);
		if ((err = exec(st, pragma, path, d))) {
			exec(st, "ROLLBACK", path, NULL);
			return err;
		}
	}
	return exec(st, "COMMIT", path, d);
}

/*
 * Each connection is used by one thread at a time (SQLITE_OPEN_NOMUTEX), so
 * the one global lock left on SQLite's hot path is its memory statistics:
 * every allocation took it, and four API threads paging events spent more
 * time waiting on it than reading rows. Nothing here reads those statistics.
 */
static void configure_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_initialize();
}

void lg_store_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, configure_sqlite);
}

/*
 * Waiting for another writer: at most LG_STORE_BUSY_MS per wait, and never
 * past the deadline, so that a hook always decides within its budget.
 */
static int on_busy(void *arg, int count)
{
	struct lg_store *st = arg;
	int64_t now = lg_now_ms(), until, wait;

	if (count == 0)
		st->busy_since = now;
	until = st->busy_since + LG_STORE_BUSY_MS;
	if (st->deadline_ms && st->deadline_ms < until)
		until = st->deadline_ms;
	if (now >= until)
		return 0;
	wait = count < 10 ? 1 : count < 100 ? 5 : 20;
	if (wait > until - now)
		wait = until - now;
	usleep((useconds_t)wait * 1000);
	return 1;
}

void lg_store_set_deadline(struct lg_store *st, int64_t deadline_ms)
{
	st->deadline_ms = deadline_ms;
}

const char *lg_store_id(const struct lg_store *st)
{
	return st->id;
}

/* ---- markers: which databases this user's leakgate has created ---- */

/* The absolute form of path (its folder resolved when it exists). Caller frees. */
static char *absolute(const char *path)
{
	char *dir = strdup(path), *slash, *real = NULL, *out = NULL, cwd[4096];
	const char *base;

	if (!dir)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		base = slash + 1;
		real = realpath(slash == dir ? "/" : dir, NULL);
	} else {
		base = path;
		real = getcwd(cwd, sizeof(cwd)) ? strdup(cwd) : NULL;
	}
	if (real) {
		if (asprintf(&out, "%s/%s", strcmp(real, "/") ? real : "", base) < 0)
			out = NULL;
	} else if (path[0] == '/') {
		out = strdup(path);
	} else if (getcwd(cwd, sizeof(cwd)) && asprintf(&out, "%s/%s", cwd, path) < 0) {
		out = NULL;
	}
	free(real);
	free(dir);
	return out;
}

/* The marker file of the database at abs, or NULL (no markers, or no memory). */
static char *marker_path(const char *marker_dir, const char *abs)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char dig[32];
	char name[33], *dir = NULL, *key = NULL, *p = NULL, *slash;

	if (marker_dir && !*marker_dir)
		return NULL;
	if (!marker_dir) {
		if (!(key = lg_key_default_path()))
			return NULL;
		slash = strrchr(key, '/');
		if (slash)
			*slash = '\0';
		if (asprintf(&dir, "%s/databases", slash ? key : ".") < 0)
			dir = NULL;
		free(key);
	} else if (asprintf(&dir, "%s", marker_dir) < 0) {
		dir = NULL;
	}
	if (!dir)
		return NULL;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, abs, strlen(abs), dig) < 0) {
		free(dir);
		return NULL;
	}
	for (int i = 0; i < 16; i++) {
		name[2 * i] = hex[dig[i] >> 4];
		name[2 * i + 1] = hex[dig[i] & 15];
	}
	name[32] = '\0';
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		p = NULL;
	free(dir);
	return p;
}

/* The id a marker remembers, into id (33 bytes); 0, or -1 when there is no marker. */
static int marker_read(const char *file, char id[33])
{
	char *text = NULL;
	size_t len = 0, n = 0;

	if (!file || lg_file_read(file, 64 * 1024, &text, &len, NULL))
		return -1;
	while (n < 32 && n < len && strchr("0123456789abcdef", text[n]) && text[n])
		n++;
	memcpy(id, text, n);
	id[n] = '\0';
	free(text);
	return n == 32 ? 0 : -1;
}

/*
 * Remember the database's id for its path. When this cannot be written,
 * the next open tries again: the marker only adds a check, it never
 * decides anything by its absence.
 */
static void marker_write(const char *file, const char *id, const char *abs)
{
	char *dir = lg_dirname(file), *line = NULL;

	if (dir)
		lg_mkdir_p(dir, 0700);
	free(dir);
	if (asprintf(&line, "%s %s\n", id, abs) < 0)
		return;
	(void)lg_file_write_atomic(file, line, strlen(line), 0600, 0, NULL);
	free(line);
}

int lg_store_forget(const char *path, const char *marker_dir, struct lg_diag *d)
{
	char *abs = absolute(path), *m = abs ? marker_path(marker_dir, abs) : NULL;
	int err = LG_OK;

	if (!abs || !m) {
		err = abs ? LG_OK : LG_ENOMEM;
	} else if (unlink(m) < 0 && errno != ENOENT) {
		lg_diag_add(d, m, NULL, NULL, "cannot remove the marker: %s", strerror(errno));
		err = LG_EIO;
	}
	free(m);
	free(abs);
	return err;
}

static int read_id(struct lg_store *st)
{
	sqlite3_stmt *q = NULL;
	int err = LG_ENOTFOUND;

	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'db_id'", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32) {
		memcpy(st->id, sqlite3_column_text(q, 0), 32);
		st->id[32] = '\0';
		err = LG_OK;
	}
	sqlite3_finalize(q);
	return err;
}

int lg_store_open_ex(struct lg_store **out, const char *path, const struct lg_store_opts *o,
		     struct lg_diag *d)
{
	struct lg_store *st = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (o->create ? SQLITE_OPEN_CREATE : 0);
	int err = LG_ERROR, version, fresh;
	char *abs = NULL, *marker = NULL, known[33];
	struct stat sb;

	lg_store_init();
	*out = NULL;
	if (!path || !*path) {
		lg_diag_add(d, NULL, NULL, NULL, "no database path");
		return LG_EINVALID;
	}
	abs = absolute(path);
	marker = abs ? marker_path(o->marker_dir, abs) : NULL;
	fresh = stat(path, &sb) < 0 ? errno == ENOENT : sb.st_size == 0;
	if (marker && marker_read(marker, known) == 0) {
		if (fresh) {
			lg_diag_add(d, path, NULL, NULL,
				    "the database is %s, but leakgate created it before (id %s, marker %s): its "
				    "rules, exemptions and audit trail are gone. Restore it from a backup; to start "
				    "over on purpose, run: leakgate db init --force --db %s",
				    stat(path, &sb) < 0 ? "missing" : "empty", known, marker, path);
			err = LG_ENOTFOUND;
			goto fail;
		}
	} else {
		known[0] = '\0';
	}
	{
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL, why[512];
		int t;
		if (slash && slash != dir)
			*slash = '\0';
		if (dir && o->create && slash && slash != dir)
			lg_mkdir_p(dir, 0700);
		/*
		 * A database (or its folder) that another account can write could
		 * hold its exemptions and rules: it is refused, as ssh refuses such
		 * files.
		 */
		t = dir && slash ? lg_path_trusted(slash == dir ? "/" : dir, why, sizeof(why)) : LG_OK;
		if (t != LG_EINVALID)
			t = lg_path_trusted(path, why, sizeof(why));
		free(dir);
		if (t == LG_EINVALID) {
			lg_diag_add(d, path, NULL, NULL, "the database is not trusted: %s", why);
			err = LG_EINVALID;
			goto fail;
		}
		/* Created private, whatever the folder's mode and the umask (SQLite's files follow it). */
		if (o->create && t == LG_ENOTFOUND) {
			int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd >= 0)
				close(fd);
		}
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		err = LG_ENOMEM;
		goto fail;
	}
	st->deadline_ms = o->deadline_ms;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		lg_diag_add(d, path, NULL, NULL, "cannot open the database: %s",
			    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_handler(st->db, on_busy, st);
	sqlite3_extended_result_codes(st->db, 1);
	/* A database from a newer leakgate is refused before anything is changed in it. */
	if ((version = schema_version(st)) > (int)N_MIGRATIONS) {
		lg_diag_add(d, path, NULL, NULL,
			    "database schema version %d is newer than this leakgate knows (%zu): upgrade leakgate",
			    version, N_MIGRATIONS);
		err = LG_EINVALID;
		goto fail;
	}
	if (version < 0) {
		lg_diag_add(d, path, NULL, NULL, "not a leakgate database (or damaged): %s",
			    sqlite3_errmsg(st->db));
		goto fail;
	}
	if (exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
		 path, d))
		goto fail;
	if ((err = migrate(st, version, path, d)))
		goto fail;
	if (read_id(st)) {
		lg_diag_add(d, path, NULL, NULL, "the database has no id (meta.db_id): damaged?");
		err = LG_EINVALID;
		goto fail;
	}
	if (known[0] && strcmp(known, st->id)) {
		lg_diag_add(d, path, NULL, NULL,
			    "this is not the database leakgate created here (id %s, marker %s), but another "
			    "one (id %s): it was replaced. Put the original back; to adopt this one on "
			    "purpose, run: leakgate db init --force --db %s",
			    known, marker, st->id, path);
		err = LG_EINVALID;
		goto fail;
	}
	if (marker && !known[0])
		marker_write(marker, st->id, abs);
	if (!o->no_drain) {
		struct lg_diag dd;
		lg_diag_init(&dd);
		/* Failing to move them is not a failure to open: they wait for the next writer. */
		lg_spool_drain(st, path, NULL, &dd);
		lg_diag_release(&dd);
	}
	free(abs);
	free(marker);
	*out = st;
	return LG_OK;
fail:
	free(abs);
	free(marker);
	lg_store_close(st);
	return err ? err : LG_ERROR;
}

int lg_store_open(struct lg_store **out, const char *path, int create, struct lg_diag *d)
{
	struct lg_store_opts o = {0};

	o.create = create;
	return lg_store_open_ex(out, path, &o, d);
}

static int tx(struct lg_store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return LG_OK;
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? LG_EBUSY : LG_ERROR;
}

int lg_store_begin(struct lg_store *st)
{
	return tx(st, "BEGIN IMMEDIATE");
}

int lg_store_commit(struct lg_store *st)
{
	return tx(st, "COMMIT");
}

void lg_store_rollback(struct lg_store *st)
{
	tx(st, "ROLLBACK");
}

void lg_store_close(struct lg_store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->data_version);
	sqlite3_close(st->db);
	free(st);
}

int lg_store_version(struct lg_store *st, int64_t v[2])
{
	int rc;

	if (!st->data_version &&
	    sqlite3_prepare_v3(st->db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT, &st->data_version, NULL) != SQLITE_OK)
		return LG_ERROR;
	rc = sqlite3_step(st->data_version);
	v[0] = rc == SQLITE_ROW ? sqlite3_column_int64(st->data_version, 0) : -1;
	v[1] = sqlite3_total_changes64(st->db);
	sqlite3_reset(st->data_version);
	return rc == SQLITE_ROW ? LG_OK : rc == SQLITE_BUSY ? LG_EBUSY : LG_ERROR;
}

static void bind_text(sqlite3_stmt *q, int i, const char *s, const char *dflt)
{
	sqlite3_bind_text(q, i, s ? s : dflt, -1, SQLITE_TRANSIENT);
}

int lg_event_new_uid(struct lg_event *ev)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[LG_EVENT_UID_HEX / 2];

	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
		return LG_ERROR;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		ev->uid[2 * i] = hex[rnd[i] >> 4];
		ev->uid[2 * i + 1] = hex[rnd[i] & 15];
	}
	ev->uid[LG_EVENT_UID_HEX] = '\0';
	return LG_OK;
}

int lg_store_add_event(struct lg_store *st, const struct lg_event *ev, int64_t *id_out,
		       struct lg_diag *d)
{
	static const char sql[] =
		"INSERT INTO events (time_ms, kind, repo, pusher, protocol, refs, findings, reason,"
		" exemptions, duration_ms, bytes_scanned, objects_scanned, ruleset, uid, skipped)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (uid) DO NOTHING";
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		lg_diag_add(d, NULL, NULL, NULL, "database error: %s", sqlite3_errmsg(st->db));
		return LG_ERROR;
	}
	sqlite3_bind_int64(q, 1, ev->time_ms);
	bind_text(q, 2, ev->kind, "accepted");
	bind_text(q, 3, ev->repo, "");
	bind_text(q, 4, ev->pusher, "");
	bind_text(q, 5, ev->protocol, "");
	bind_text(q, 6, ev->refs_json, "[]");
	bind_text(q, 7, ev->findings_json, "[]");
	bind_text(q, 8, ev->reason, "");
	bind_text(q, 9, ev->exemptions_json, "[]");
	sqlite3_bind_int64(q, 10, ev->duration_ms);
	sqlite3_bind_int64(q, 11, ev->bytes_scanned);
	sqlite3_bind_int64(q, 12, ev->objects_scanned);
	bind_text(q, 13, ev->ruleset, "");
	if (ev->uid[0])
		sqlite3_bind_text(q, 14, ev->uid, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, 14);
	bind_text(q, 15, ev->skipped_json, "[]");
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot record the event: %s", sqlite3_errmsg(st->db));
		return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? LG_EBUSY : LG_ERROR;
	}
	if (sqlite3_changes(st->db) == 0 && ev->uid[0]) {
		/* Stored before (from the spool, or by the same process): that copy is it. */
		if (id_out && sqlite3_prepare_v2(st->db, "SELECT id FROM events WHERE uid = ?", -1, &q, NULL) ==
				      SQLITE_OK) {
			sqlite3_bind_text(q, 1, ev->uid, -1, SQLITE_TRANSIENT);
			*id_out = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
			sqlite3_finalize(q);
		}
		return LG_OK;
	}
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return LG_OK;
}
