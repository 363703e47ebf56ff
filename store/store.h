/*
 * The state store: one SQLite database (WAL) shared by the hook, the admin
 * daemon and the CLI. The schema is versioned; migrations run on open.
 * Nothing stored here is a secret: findings keep a fingerprint and a
 * redacted preview only.
 */
#ifndef LG_STORE_H
#define LG_STORE_H

#include <stdint.h>

#include "lg.h"

struct lg_store;

/* How long a writer waits for another one before the store reports busy. */
#define LG_STORE_BUSY_MS 10000

/*
 * Open (creating it and its folder when create is set) the database at
 * path and bring its schema up to date. Errors go to d. Caller closes.
 */
int lg_store_open(struct lg_store **out, const char *path, int create, struct lg_diag *d);
void lg_store_close(struct lg_store *st);

/*
 * The default database: $LEAKGATE_DB, else
 * $XDG_STATE_HOME/leakgate/leakgate.db, else
 * ~/.local/state/leakgate/leakgate.db. Caller frees.
 */
char *lg_store_default_path(void);

/* One audit event. Strings may be NULL; JSON fields are JSON texts. */
struct lg_event {
	int64_t time_ms;        /* Unix time in milliseconds */
	const char *kind;       /* accepted, rejected, bypassed, exempted, warned, failed */
	const char *repo;
	const char *pusher;
	const char *protocol;
	const char *refs_json;     /* [{"ref","old","new"}] */
	const char *findings_json; /* [{"rule_id","fingerprint","preview","path",...}] */
	const char *reason;        /* bypass reason or failure message */
	const char *exemptions_json;
	int64_t duration_ms;
	int64_t bytes_scanned;
	int64_t objects_scanned;
	const char *ruleset;
};

/* Append an event in its own transaction; *id_out (may be NULL) gets its id. */
int lg_store_add_event(struct lg_store *st, const struct lg_event *ev, int64_t *id_out,
		       struct lg_diag *d);

/* The underlying handle, for modules that add their own tables. */
struct sqlite3 *lg_store_db(struct lg_store *st);

#endif
