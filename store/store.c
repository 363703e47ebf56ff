/*
 * SQLite state store. Every connection sets WAL mode and a busy timeout,
 * so hooks running side by side and the daemon queue up instead of
 * failing; each write is one short transaction. Schema changes are
 * numbered migrations recorded in PRAGMA user_version.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "loader.h"
#include "store.h"

struct lg_store {
	sqlite3 *db;
	sqlite3_stmt *data_version; /* prepared on first use */
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
};
#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

struct sqlite3 *lg_store_db(struct lg_store *st)
{
	return st->db;
}

char *lg_store_default_path(void)
{
	const char *e = getenv("LEAKGATE_DB");
	char *p = NULL;

	if (e && *e)
		return strdup(e);
	e = getenv("XDG_STATE_HOME");
	if (e && *e)
		return asprintf(&p, "%s/leakgate/leakgate.db", e) < 0 ? NULL : p;
	e = getenv("HOME");
	if (e && *e)
		return asprintf(&p, "%s/.local/state/leakgate/leakgate.db", e) < 0 ? NULL : p;
	return NULL;
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

int lg_store_open(struct lg_store **out, const char *path, int create, struct lg_diag *d)
{
	struct lg_store *st = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int err = LG_ERROR, version;

	lg_store_init();
	*out = NULL;
	if (create) {
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
		if (slash && slash != dir) {
			*slash = '\0';
			lg_mkdir_p(dir, 0700);
		}
		free(dir);
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return LG_ENOMEM;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		lg_diag_add(d, path, NULL, NULL, "cannot open the database: %s",
			    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, LG_STORE_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	/* A database from a newer leakgate is refused before anything is changed in it. */
	if ((version = schema_version(st)) > (int)N_MIGRATIONS) {
		lg_diag_add(d, path, NULL, NULL,
			    "database schema version %d is newer than this leakgate knows (%zu): upgrade leakgate",
			    version, N_MIGRATIONS);
		err = LG_EINVALID;
		goto fail;
	}
	if (exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
		 path, d))
		goto fail;
	if ((err = migrate(st, version, path, d)))
		goto fail;
	*out = st;
	return LG_OK;
fail:
	lg_store_close(st);
	return err ? err : LG_ERROR;
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

int lg_store_add_event(struct lg_store *st, const struct lg_event *ev, int64_t *id_out,
		       struct lg_diag *d)
{
	static const char sql[] =
		"INSERT INTO events (time_ms, kind, repo, pusher, protocol, refs, findings, reason,"
		" exemptions, duration_ms, bytes_scanned, objects_scanned, ruleset)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
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
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot record the event: %s", sqlite3_errmsg(st->db));
		return LG_ERROR;
	}
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return LG_OK;
}
