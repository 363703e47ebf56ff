/*
 * What every table group of the store shares (sql.h): statements, steps
 * and their error codes, columns, times.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql.h"

int64_t lg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lg_sql_prepare(struct lg_store *st, const char *sql, sqlite3_stmt **q)
{
	return sqlite3_prepare_v2(lg_store_db(st), sql, -1, q, NULL) == SQLITE_OK ? LG_OK : LG_ERROR;
}

int lg_sql_step_done(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		return LG_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return LG_EEXISTS;
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return LG_EBUSY;
	return LG_ERROR;
}

void lg_sql_bind_opt(sqlite3_stmt *q, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

const char *lg_sql_text(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : "";
}

char *lg_sql_dup(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? NULL : strdup(lg_sql_text(q, i));
}

/* What a failed step means, as an lg code. */
int lg_sql_step_error(int rc)
{
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return LG_EBUSY;
	return (rc & 0xff) == SQLITE_NOMEM ? LG_ENOMEM : LG_ERROR;
}

void lg_sql_iso_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int lg_sql_get_one(struct lg_store *st, const char *sql, int64_t id, json_t *(*row)(sqlite3_stmt *),
		   json_t **out)
{
	sqlite3_stmt *q = NULL;
	int err, rc;

	*out = NULL;
	if (lg_sql_prepare(st, sql, &q))
		return LG_ERROR;
	if (sqlite3_bind_int64(q, 1, id) != SQLITE_OK) {
		sqlite3_finalize(q);
		return LG_ERROR;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		err = (*out = row(q)) ? LG_OK : LG_ENOMEM;
	else
		err = rc == SQLITE_DONE ? LG_ENOTFOUND : lg_sql_step_error(rc);
	sqlite3_finalize(q);
	return err;
}

void lg_store_free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
