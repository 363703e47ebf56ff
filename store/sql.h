/*
 * Inside the store: the helpers its table groups (rules.c, exemptions.c,
 * tokens.c, events.c, metrics.c, webhooks.c) share. Not for use outside
 * store/: other code calls the functions of store.h.
 */
#ifndef LG_STORE_SQL_H
#define LG_STORE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "store.h"

/* Prepare sql on st's connection; LG_OK or LG_ERROR. */
int lg_sql_prepare(struct lg_store *st, const char *sql, sqlite3_stmt **q);
/*
 * Step a statement that returns no rows and finalize it: LG_OK, LG_EEXISTS
 * (a constraint), LG_EBUSY (locked), else LG_ERROR.
 */
int lg_sql_step_done(sqlite3_stmt *q);
/* What a failed step's result code means, as an LG_* code. */
int lg_sql_step_error(int rc);
/* Bind s, or NULL when s is NULL. */
void lg_sql_bind_opt(sqlite3_stmt *q, int i, const char *s);
/* Column i as text ("" when NULL), and as a malloc'd copy (NULL when NULL). */
const char *lg_sql_text(sqlite3_stmt *q, int i);
char *lg_sql_dup(sqlite3_stmt *q, int i);
/* A time in milliseconds as ISO 8601 UTC ("2026-12-04T10:00:00Z"). */
void lg_sql_iso_time(int64_t ms, char *buf, size_t len);
/*
 * The one row sql (binding id as its parameter) returns, through row(), as
 * JSON: LG_OK, LG_ENOTFOUND when there is none, or the step's error.
 */
int lg_sql_get_one(struct lg_store *st, const char *sql, int64_t id, json_t *(*row)(sqlite3_stmt *),
		   json_t **out);

#endif
