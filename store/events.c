/*
 * The store's audit events as JSON: pages with a cursor, one by id, and
 * the ones after an id (webhook delivery).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"
#include "vec.h"

/* One page of events as JSON (pages are at most a few hundred events). */
#define LG_EVENTS_PAGE_MAX_BYTES (256u << 20)

#define EVENT_COLS                                                                          \
	"id, time_ms, kind, repo, pusher, protocol, refs, findings, reason, exemptions,"     \
	" duration_ms, bytes_scanned, objects_scanned, ruleset, uid, skipped"

static json_t *parsed(sqlite3_stmt *q, int i, const char *dflt)
{
	json_t *v = json_loads(lg_sql_text(q, i), 0, NULL);
	return v ? v : json_loads(dflt, 0, NULL);
}

static json_t *event_row(sqlite3_stmt *q)
{
	char when[32];
	json_t *o;

	lg_sql_iso_time(sqlite3_column_int64(q, 1), when, sizeof(when));
	o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s}", "id",
		      (json_int_t)sqlite3_column_int64(q, 0), "time", when, "time_ms",
		      (json_int_t)sqlite3_column_int64(q, 1), "kind", lg_sql_text(q, 2), "repo",
		      lg_sql_text(q, 3), "pusher", lg_sql_text(q, 4), "protocol", lg_sql_text(q, 5));
	json_object_set_new(o, "refs", parsed(q, 6, "[]"));
	json_object_set_new(o, "findings", parsed(q, 7, "[]"));
	json_object_set_new(o, "reason", json_string(lg_sql_text(q, 8)));
	json_object_set_new(o, "exemptions", parsed(q, 9, "[]"));
	json_object_set_new(o, "duration_ms", json_integer(sqlite3_column_int64(q, 10)));
	json_object_set_new(o, "bytes_scanned", json_integer(sqlite3_column_int64(q, 11)));
	json_object_set_new(o, "objects_scanned", json_integer(sqlite3_column_int64(q, 12)));
	json_object_set_new(o, "ruleset", json_string(lg_sql_text(q, 13)));
	json_object_set_new(o, "uid", json_string(lg_sql_text(q, 14)));
	json_object_set_new(o, "skipped", parsed(q, 15, "[]"));
	return o;
}

const char *const lg_event_kinds[] = {"accepted", "rejected", "bypassed", "exempted", "warned", "failed", NULL};

int lg_event_kind_valid(const char *s)
{
	for (size_t i = 0; s && lg_event_kinds[i]; i++)
		if (!strcmp(lg_event_kinds[i], s))
			return 1;
	return 0;
}

/* One event as JSON text, written by SQLite's JSON functions. */
#define EVENT_JSON_SQL                                                                         \
	"json_object('id', id, 'time', strftime('%Y-%m-%dT%H:%M:%SZ', time_ms / 1000, 'unixepoch'),"  \
	" 'time_ms', time_ms, 'kind', kind, 'repo', repo, 'pusher', pusher, 'protocol', protocol,"    \
	" 'refs', json(CASE WHEN json_valid(refs) THEN refs ELSE '[]' END),"                          \
	" 'findings', json(CASE WHEN json_valid(findings) THEN findings ELSE '[]' END),"              \
	" 'reason', reason,"                                                                          \
	" 'exemptions', json(CASE WHEN json_valid(exemptions) THEN exemptions ELSE '[]' END),"        \
	" 'duration_ms', duration_ms, 'bytes_scanned', bytes_scanned,"                                \
	" 'objects_scanned', objects_scanned, 'ruleset', ruleset, 'uid', coalesce(uid, ''),"         \
	" 'skipped', json(CASE WHEN json_valid(skipped) THEN skipped ELSE '[]' END))"

int lg_store_events_page(struct lg_store *st, const struct lg_event_filter *f, char **text,
			 int64_t *next_cursor)
{
	sqlite3_stmt *q = NULL;
	int limit = f->limit > 0 ? f->limit : 50, n = 0, rc;
	int64_t last = 0;
	struct lg_vec buf = LG_VEC_INIT(1, LG_EVENTS_PAGE_MAX_BYTES);
	int err = LG_OK;

	*text = NULL;
	*next_cursor = 0;
	/*
	 * Only the filters given, each a plain constraint, so that SQLite reads
	 * the page from the id (or from the index of the filtered column)
	 * downwards from the cursor instead of scanning the history. Every value
	 * is bound; the text is one of a fixed set.
	 */
	char sql[sizeof("SELECT id, " EVENT_JSON_SQL " FROM events WHERE 1") + 256];
	snprintf(sql, sizeof(sql), "%s%s%s%s%s%s%s ORDER BY id DESC LIMIT ?7",
		 "SELECT id, " EVENT_JSON_SQL " FROM events WHERE 1", f->repo ? " AND repo = ?1" : "",
		 f->pusher ? " AND pusher = ?2" : "", f->kind ? " AND kind = ?3" : "",
		 f->since_ms ? " AND time_ms >= ?4" : "", f->until_ms ? " AND time_ms <= ?5" : "",
		 f->before_id ? " AND id < ?6" : "");
	if (lg_sql_prepare(st, sql, &q))
		return LG_ERROR;
	if (f->repo)
		sqlite3_bind_text(q, 1, f->repo, -1, SQLITE_TRANSIENT);
	if (f->pusher)
		sqlite3_bind_text(q, 2, f->pusher, -1, SQLITE_TRANSIENT);
	if (f->kind)
		sqlite3_bind_text(q, 3, f->kind, -1, SQLITE_TRANSIENT);
	if (f->since_ms)
		sqlite3_bind_int64(q, 4, f->since_ms);
	if (f->until_ms)
		sqlite3_bind_int64(q, 5, f->until_ms);
	if (f->before_id)
		sqlite3_bind_int64(q, 6, f->before_id);
	/* One more than asked: it tells whether there is a next page. */
	sqlite3_bind_int(q, 7, limit + 1);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *row = lg_sql_text(q, 1);
		size_t rl = strlen(row);
		if (n == limit) {
			*next_cursor = last;
			break;
		}
		last = sqlite3_column_int64(q, 0);
		if ((err = lg_vec_putn(&buf, n ? "," : "[", 1)) || (err = lg_vec_putn(&buf, row, rl)))
			break;
		n++;
	}
	sqlite3_finalize(q);
	if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = lg_sql_step_error(rc);
	if (!err)
		err = lg_vec_puts(&buf, n ? "]" : "[]");
	if (err) {
		lg_vec_release(&buf);
		*next_cursor = 0;
		return err;
	}
	*text = lg_vec_steal(&buf);
	return LG_OK;
}

int lg_store_event_get(struct lg_store *st, int64_t id, json_t **out)
{
	return lg_sql_get_one(st, "SELECT " EVENT_COLS " FROM events WHERE id = ?", id, event_row, out);
}

int lg_store_events_after(struct lg_store *st, int64_t after_id, const char *kinds, int limit,
			  json_t **out)
{
	sqlite3_stmt *q = NULL;
	json_t *a = json_array();
	int rc;

	*out = NULL;
	if (lg_sql_prepare(st, "SELECT " EVENT_COLS " FROM events WHERE id > ?1 AND"
			" instr(',' || ?2 || ',', ',' || kind || ',') > 0 ORDER BY id LIMIT ?3",
		    &q)) {
		json_decref(a);
		return LG_ERROR;
	}
	sqlite3_bind_int64(q, 1, after_id);
	sqlite3_bind_text(q, 2, kinds, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 3, limit);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(a, event_row(q));
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return LG_ERROR;
	}
	*out = a;
	return LG_OK;
}
