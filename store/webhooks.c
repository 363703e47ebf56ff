/*
 * The store's webhook cursors: for each URL, the last event delivered and
 * when to try the next one, so that a restart neither loses nor repeats
 * deliveries.
 */
#include "config.h"

#include <string.h>

#include "sql.h"

static int cursor_read(struct lg_store *st, const char *url, struct lg_webhook_cursor *c)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (lg_sql_prepare(st, "SELECT last_event_id, attempts, next_ms FROM webhook_cursors WHERE url = ?", &q))
		return LG_ERROR;
	if (sqlite3_bind_text(q, 1, url, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		sqlite3_finalize(q);
		return LG_ENOMEM;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		c->last_id = sqlite3_column_int64(q, 0);
		c->attempts = sqlite3_column_int(q, 1);
		c->next_ms = sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW)
		return LG_OK;
	return rc == SQLITE_DONE ? LG_ENOTFOUND : lg_sql_step_error(rc);
}

int lg_store_webhook_cursor(struct lg_store *st, const char *url, struct lg_webhook_cursor *c)
{
	sqlite3_stmt *q = NULL;
	int err;

	memset(c, 0, sizeof(*c));
	if ((err = cursor_read(st, url, c)) != LG_ENOTFOUND)
		return err;
	/* Two daemons may start at once: whichever inserts first decides. */
	if (lg_sql_prepare(st,
			   "INSERT OR IGNORE INTO webhook_cursors (url, last_event_id)"
			   " SELECT ?, coalesce(max(id), 0) FROM events",
			   &q))
		return LG_ERROR;
	if (sqlite3_bind_text(q, 1, url, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		sqlite3_finalize(q);
		return LG_ENOMEM;
	}
	if ((err = lg_sql_step_done(q)))
		return err;
	return cursor_read(st, url, c);
}

int lg_store_webhook_cursor_put(struct lg_store *st, const char *url, const struct lg_webhook_cursor *c,
				const char *error)
{
	sqlite3_stmt *q = NULL;

	if (lg_sql_prepare(st,
			   "UPDATE webhook_cursors SET last_event_id = ?, attempts = ?, next_ms = ?, last_error = ?"
			   " WHERE url = ?",
			   &q))
		return LG_ERROR;
	if (sqlite3_bind_int64(q, 1, c->last_id) != SQLITE_OK || sqlite3_bind_int(q, 2, c->attempts) != SQLITE_OK ||
	    sqlite3_bind_int64(q, 3, c->next_ms) != SQLITE_OK ||
	    sqlite3_bind_text(q, 4, error ? error : "", -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(q, 5, url, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		sqlite3_finalize(q);
		return LG_ENOMEM;
	}
	return lg_sql_step_done(q);
}
