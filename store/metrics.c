/*
 * The store's metrics: push totals by kind and the duration and size
 * histograms, kept by triggers as events are added (store.c, migration 3),
 * so /metrics never reads the history.
 */
#include "config.h"

#include <string.h>

#include "sql.h"

/* The buckets of one metric, in order of their bound. */
static int buckets(struct lg_store *st, const char *metric, struct lg_metric_bucket *v, size_t *n)
{
	sqlite3_stmt *q = NULL;
	int rc;

	*n = 0;
	if (lg_sql_prepare(st, "SELECT le, events FROM event_buckets WHERE metric = ? ORDER BY le", &q))
		return LG_ERROR;
	if (sqlite3_bind_text(q, 1, metric, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(q);
		return LG_ERROR;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < LG_METRIC_BUCKETS_MAX) {
		v[*n].le = sqlite3_column_int64(q, 0);
		v[*n].events = sqlite3_column_int64(q, 1);
		(*n)++;
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW) /* more buckets than a release makes: a damaged table */
		return LG_EINVALID;
	return rc == SQLITE_DONE ? LG_OK : lg_sql_step_error(rc);
}

int lg_store_metrics(struct lg_store *st, struct lg_store_metrics *m)
{
	sqlite3_stmt *q = NULL;
	int rc, err;

	memset(m, 0, sizeof(*m));
	if (lg_sql_prepare(st, "SELECT kind, events, duration_ms, bytes_scanned FROM event_totals", &q))
		return LG_ERROR;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *kind = lg_sql_text(q, 0);
		for (size_t i = 0; lg_event_kinds[i] && i < sizeof(m->by_kind) / sizeof(m->by_kind[0]); i++)
			if (!strcmp(lg_event_kinds[i], kind))
				m->by_kind[i] = sqlite3_column_int64(q, 1);
		m->events += sqlite3_column_int64(q, 1);
		m->duration_ms += sqlite3_column_int64(q, 2);
		m->bytes_scanned += sqlite3_column_int64(q, 3);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return lg_sql_step_error(rc);
	if ((err = buckets(st, "duration_ms", m->duration, &m->nduration)))
		return err;
	return buckets(st, "bytes_scanned", m->bytes, &m->nbytes);
}
