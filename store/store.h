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

struct lg_store_opts {
	int create;          /* create the database (and its folder) when there is none */
	int64_t deadline_ms; /* Unix ms after which no wait for a lock goes on (0: none) */
	/*
	 * Where markers of the databases this user's leakgate created are kept
	 * (NULL: beside the default fingerprint key; "": no markers). A
	 * database that a marker says existed, but is now missing or empty,
	 * or holds another database's id, is refused (LG_ENOTFOUND) instead
	 * of being silently created afresh: the rules, exemptions and history
	 * it held would be gone without a word.
	 */
	const char *marker_dir;
	int no_drain; /* do not move spooled events into it on open */
};

/*
 * Open the database at path and bring its schema up to date; events
 * waiting in its spool are moved in. Errors go to d. Caller closes.
 */
int lg_store_open_ex(struct lg_store **out, const char *path, const struct lg_store_opts *o,
		     struct lg_diag *d);
/* The same with the default options and create as given. */
int lg_store_open(struct lg_store **out, const char *path, int create, struct lg_diag *d);
/*
 * Forget the marker of the database at path (an administrator starting
 * over on purpose: `leakgate db init --force`), so that the next open
 * creates it afresh. marker_dir as in lg_store_opts.
 */
int lg_store_forget(const char *path, const char *marker_dir, struct lg_diag *d);
/* The database's own random id (32 hex digits), stable over its life. */
const char *lg_store_id(const struct lg_store *st);
/* Give up waiting for locks after deadline_ms (Unix ms; 0: only LG_STORE_BUSY_MS). */
void lg_store_set_deadline(struct lg_store *st, int64_t deadline_ms);
/* Set SQLite up for this process (lg_store_open does it on first use). */
void lg_store_init(void);
void lg_store_close(struct lg_store *st);

/*
 * The default database: $LEAKGATE_DB, else leakgate.db in the state
 * folder (paths.h: ~/.local/state/leakgate). Caller frees.
 */
char *lg_store_default_path(void);

#define LG_EVENT_UID_HEX 32

/* One audit event. Strings may be NULL; JSON fields are JSON texts. */
struct lg_event {
	/*
	 * Random id given when the event is made: an event written twice (to
	 * the spool and then the database, or by two processes) is stored once.
	 */
	char uid[LG_EVENT_UID_HEX + 1];
	int64_t time_ms;        /* Unix time in milliseconds */
	const char *kind;       /* accepted, rejected, bypassed, exempted, warned, failed */
	const char *repo;
	const char *pusher;
	const char *protocol;
	const char *refs_json;     /* [{"ref","old","new"}] */
	const char *findings_json; /* [{"rule_id","fingerprint","preview","path",...}] */
	const char *reason;        /* bypass reason or failure message */
	const char *exemptions_json;
	const char *skipped_json;  /* [{"path","commit","why"}]: files not scanned */
	int64_t duration_ms;
	int64_t bytes_scanned;
	int64_t objects_scanned;
	const char *ruleset;
};

/* A fresh random uid for an event, into ev->uid. */
int lg_event_new_uid(struct lg_event *ev);

/*
 * Append an event in its own transaction; *id_out (may be NULL) gets its
 * id (that of the stored copy when an event with the same uid was there).
 */
int lg_store_add_event(struct lg_store *st, const struct lg_event *ev, int64_t *id_out,
		       struct lg_diag *d);

/* ---- the spool (store/spool.c) ---- */

/*
 * When the database cannot take an event (missing, damaged, locked past
 * the deadline, disk full), the event goes to a spool beside it: the file
 * path + ".spool", one JSON object a line, appended under an exclusive
 * lock and fsync'd. The next writer that opens the database moves every
 * spooled event in (once each: events carry a uid) and empties the spool.
 */
#define LG_SPOOL_MAX_BYTES (64u << 20)

/* The spool file of the database at db_path. Caller frees. */
char *lg_spool_path(const char *db_path);
/* Append ev; LG_ETOOLARGE when the spool is full, LG_EIO/LG_ETIMEDOUT otherwise. */
int lg_spool_append(const char *db_path, const struct lg_event *ev, int64_t deadline_ms,
		    struct lg_diag *d);
/* The same for an event already made into its line (lg_event_to_json). */
int lg_spool_append_line(const char *db_path, const char *line, int64_t deadline_ms, struct lg_diag *d);
/* Move the spooled events into st; *moved (may be NULL) counts them. */
int lg_spool_drain(struct lg_store *st, const char *db_path, size_t *moved, struct lg_diag *d);
/* Events waiting in the spool (0 when there is none); negative on a read error. */
long lg_spool_depth(const char *db_path);
/* An event as one JSON line (no newline), as the spool keeps it. Caller frees. */
char *lg_event_to_json(const struct lg_event *ev);

/*
 * Two numbers that together change whenever the database may have changed
 * since the last call on this connection: a commit by another connection
 * (PRAGMA data_version) or a change made through this one.
 */
int lg_store_version(struct lg_store *st, int64_t v[2]);

/* One write transaction: begin (IMMEDIATE), commit, or roll back; lg codes. */
int lg_store_begin(struct lg_store *st);
int lg_store_commit(struct lg_store *st);
void lg_store_rollback(struct lg_store *st);

/* The underlying handle, for modules that add their own tables. */
struct sqlite3 *lg_store_db(struct lg_store *st);

/* Milliseconds since the epoch. */
int64_t lg_now_ms(void);

/* ---- rules (store/state.c) ---- */

/*
 * The administrator's rules as one pack text ({"pack": "custom", "rules":
 * [...]}, NULL when there are none) and the ids turned off, as the hook and
 * the daemon feed them to the loader. Caller frees all of it.
 */
int lg_store_rule_sources(struct lg_store *st, char **pack, char ***disabled, size_t *ndisabled,
			  struct lg_diag *d);
void lg_store_free_list(char **v, size_t n);
/* Store a custom rule (rule_json is its validated JSON); LG_EEXISTS when create finds it. */
int lg_store_rule_put(struct lg_store *st, const char *id, const char *rule_json, const char *by,
		      int create);
/* The JSON of a custom rule (caller frees), or LG_ENOTFOUND. */
int lg_store_rule_get(struct lg_store *st, const char *id, char **rule_json);
int lg_store_rule_delete(struct lg_store *st, const char *id);
int lg_store_rule_set_enabled(struct lg_store *st, const char *id, int enabled, const char *by);
/* 1 enabled, 0 disabled, -1 no state recorded (the rule's default: on). */
int lg_store_rule_enabled(struct lg_store *st, const char *id);

/* 1 if the store holds custom rules or rule states. */
int lg_store_has_rule_changes(struct lg_store *st);

/* ---- exemptions ---- */

struct lg_exemption {
	int64_t id;
	char *repo_glob, *fingerprint, *rule_id, *path_glob;
	int64_t expires_ms; /* 0: never */
};

/*
 * Add an exemption. Each of fingerprint, rule_id, path_glob may be NULL but
 * not all; repo_glob NULL means every repository. *id_out gets its id.
 */
int lg_store_exemption_add(struct lg_store *st, const struct lg_exemption *e, const char *reason,
			   const char *by, int64_t *id_out);
int lg_store_exemption_delete(struct lg_store *st, int64_t id);
/* Exemptions in force at now_ms (not expired); caller frees with lg_exemptions_free. */
int lg_store_exemptions_active(struct lg_store *st, int64_t now_ms, struct lg_exemption **v,
			       size_t *n);
void lg_exemptions_free(struct lg_exemption *v, size_t n);
/* The first exemption of v covering this finding, or NULL. */
const struct lg_exemption *lg_exemption_match(const struct lg_exemption *v, size_t n,
					      const char *repo, const char *fingerprint,
					      const char *rule_id, const char *path);

/* ---- tokens ---- */

#define LG_TOKEN_PREFIX "lgt_"

/* A new random token with a role (admin or read); *token (caller frees) is shown once. */
int lg_store_token_create(struct lg_store *st, const char *role, const char *name, char **token,
			  int64_t *id_out);
/*
 * The role of a valid, unrevoked token: "admin" or "read" into role (8
 * bytes), and "token #ID (NAME)" into who (may be NULL); else LG_ENOTFOUND.
 */
int lg_store_token_check(struct lg_store *st, const char *token, char *role, char *who,
			 size_t wholen);
int lg_store_token_revoke(struct lg_store *st, int64_t id);

/* ---- queries returning JSON (jansson), for the daemon and the CLI ---- */

/* The kinds of events, NULL-terminated, and whether s is one of them. */
extern const char *const lg_event_kinds[];
int lg_event_kind_valid(const char *s);

struct lg_event_filter {
	const char *repo, *pusher, *kind;
	int64_t since_ms, until_ms; /* 0: open */
	int64_t before_id;          /* cursor: only events with a smaller id; 0: newest */
	int limit;
};

struct json_t;
int lg_store_event_get(struct lg_store *st, int64_t id, struct json_t **out);
/*
 * A page of events, newest first, as the text of a JSON array built by
 * SQLite (the stored JSON is not parsed and encoded again). *next_cursor
 * is the cursor of the next page, 0 when there is none. Caller frees *text.
 */
int lg_store_events_page(struct lg_store *st, const struct lg_event_filter *f, char **text,
			 int64_t *next_cursor);
/* Events after after_id of the given kinds (comma-separated), oldest first. */
int lg_store_events_after(struct lg_store *st, int64_t after_id, const char *kinds, int limit,
			  struct json_t **out);
/* repo, rule: exact filters or NULL; expired: -1 all, 0 in force, 1 expired. */
int lg_store_exemptions_list(struct lg_store *st, const char *repo, const char *rule, int expired,
			     struct json_t **out);
int lg_store_exemption_get(struct lg_store *st, int64_t id, struct json_t **out);
int lg_store_tokens_list(struct lg_store *st, struct json_t **out);
/* Custom rules and rule states: {"custom": {id: rule}, "states": {id: bool}}. */
int lg_store_rules_admin(struct lg_store *st, struct json_t **out);

/* ---- metrics and webhook delivery ---- */

/* Histogram buckets kept as events are added (migration 3). */
#define LG_METRIC_BUCKETS_MAX 32
struct lg_metric_bucket {
	int64_t le;     /* upper bound, in the metric's unit (milliseconds, bytes) */
	int64_t events; /* events at or under it */
};
struct lg_store_metrics {
	int64_t by_kind[8]; /* events of each lg_event_kinds[i] */
	int64_t events, duration_ms, bytes_scanned;
	struct lg_metric_bucket duration[LG_METRIC_BUCKETS_MAX], bytes[LG_METRIC_BUCKETS_MAX];
	size_t nduration, nbytes;
};
/* The totals /metrics shows, without reading the history; LG_OK or the step's error. */
int lg_store_metrics(struct lg_store *st, struct lg_store_metrics *m);

/* Where the delivery of events to one webhook URL stands. */
struct lg_webhook_cursor {
	int64_t last_id; /* the last event delivered */
	int attempts;    /* failed attempts at the next one */
	int64_t next_ms; /* no attempt before this time */
};
/* url's cursor; a URL seen for the first time starts after the newest event. */
int lg_store_webhook_cursor(struct lg_store *st, const char *url, struct lg_webhook_cursor *c);
/* Record url's cursor and the last delivery error (NULL: none). */
int lg_store_webhook_cursor_put(struct lg_store *st, const char *url, const struct lg_webhook_cursor *c,
				const char *error);

#endif
