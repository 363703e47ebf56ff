/*
 * The store's exemptions: added, removed, listed, and the ones in force
 * that the hook matches findings against.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"
#include "vec.h"

/* Exemptions in force at once; more is an administrator's mistake, and refused. */
#define LG_EXEMPTIONS_MAX 100000

int lg_store_exemption_add(struct lg_store *st, const struct lg_exemption *e, const char *reason,
			   const char *by, int64_t *id_out)
{
	sqlite3_stmt *q = NULL;
	int err;

	if (!e->fingerprint && !e->rule_id && !e->path_glob)
		return LG_EINVALID;
	if (lg_sql_prepare(st, "INSERT INTO exemptions (repo_glob, fingerprint, rule_id, path_glob, reason,"
			" created_by, created_ms, expires_ms) VALUES (?,?,?,?,?,?,?,?)",
		    &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, e->repo_glob ? e->repo_glob : "*", -1, SQLITE_TRANSIENT);
	lg_sql_bind_opt(q, 2, e->fingerprint);
	lg_sql_bind_opt(q, 3, e->rule_id);
	lg_sql_bind_opt(q, 4, e->path_glob);
	sqlite3_bind_text(q, 5, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 6, by ? by : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 7, lg_now_ms());
	if (e->expires_ms)
		sqlite3_bind_int64(q, 8, e->expires_ms);
	else
		sqlite3_bind_null(q, 8);
	err = lg_sql_step_done(q);
	if (!err && id_out)
		*id_out = sqlite3_last_insert_rowid(lg_store_db(st));
	return err;
}

int lg_store_exemption_delete(struct lg_store *st, int64_t id)
{
	sqlite3_stmt *q = NULL;
	int err;

	if (lg_sql_prepare(st, "DELETE FROM exemptions WHERE id = ?", &q))
		return LG_ERROR;
	sqlite3_bind_int64(q, 1, id);
	err = lg_sql_step_done(q);
	if (!err && sqlite3_changes(lg_store_db(st)) == 0)
		return LG_ENOTFOUND;
	return err;
}

void lg_exemptions_free(struct lg_exemption *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].repo_glob);
		free(v[i].fingerprint);
		free(v[i].rule_id);
		free(v[i].path_glob);
	}
	free(v);
}

int lg_store_exemptions_active(struct lg_store *st, int64_t now_ms, struct lg_exemption **out,
			       size_t *nout)
{
	sqlite3_stmt *q = NULL;
	struct lg_vec v = LG_VEC_INIT(sizeof(struct lg_exemption), LG_EXEMPTIONS_MAX);
	int rc, err = LG_OK;

	*out = NULL;
	*nout = 0;
	if (lg_sql_prepare(st, "SELECT id, repo_glob, fingerprint, rule_id, path_glob, expires_ms FROM exemptions"
			" WHERE expires_ms IS NULL OR expires_ms > ? ORDER BY id",
		    &q))
		return LG_ERROR;
	sqlite3_bind_int64(q, 1, now_ms);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct lg_exemption *e;
		if ((err = lg_vec_grow(&v, 1, (void **)&e)))
			break;
		e->id = sqlite3_column_int64(q, 0);
		e->repo_glob = lg_sql_dup(q, 1);
		e->fingerprint = lg_sql_dup(q, 2);
		e->rule_id = lg_sql_dup(q, 3);
		e->path_glob = lg_sql_dup(q, 4);
		e->expires_ms = sqlite3_column_int64(q, 5);
		/* A glob or value lost to a failed copy would widen or drop the exemption. */
		if ((sqlite3_column_type(q, 1) != SQLITE_NULL && !e->repo_glob) ||
		    (sqlite3_column_type(q, 2) != SQLITE_NULL && !e->fingerprint) ||
		    (sqlite3_column_type(q, 3) != SQLITE_NULL && !e->rule_id) ||
		    (sqlite3_column_type(q, 4) != SQLITE_NULL && !e->path_glob)) {
			err = LG_ENOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	if (!err && rc != SQLITE_DONE)
		err = lg_sql_step_error(rc);
	if (err) {
		lg_exemptions_free(v.v, v.n);
		return err;
	}
	*nout = v.n;
	*out = lg_vec_steal(&v);
	return LG_OK;
}

const struct lg_exemption *lg_exemption_match(const struct lg_exemption *v, size_t n,
					      const char *repo, const char *fingerprint,
					      const char *rule_id, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		const struct lg_exemption *e = &v[i];
		if (e->repo_glob && fnmatch(e->repo_glob, repo ? repo : "", 0) != 0)
			continue;
		if (e->fingerprint && strcmp(e->fingerprint, fingerprint))
			continue;
		if (e->rule_id && strcmp(e->rule_id, rule_id))
			continue;
		if (e->path_glob && fnmatch(e->path_glob, path ? path : "", 0) != 0)
			continue;
		return e;
	}
	return NULL;
}

static json_t *exemption_row(sqlite3_stmt *q, int64_t now)
{
	char created[32], expires[32];
	int64_t exp = sqlite3_column_int64(q, 8);
	json_t *o;

	lg_sql_iso_time(sqlite3_column_int64(q, 7), created, sizeof(created));
	o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)sqlite3_column_int64(q, 0),
		      "repo", lg_sql_text(q, 1), "reason", lg_sql_text(q, 5), "created_by", lg_sql_text(q, 6),
		      "created", created);
	json_object_set_new(o, "fingerprint", sqlite3_column_type(q, 2) == SQLITE_NULL ? json_null()
										      : json_string(lg_sql_text(q, 2)));
	json_object_set_new(o, "rule_id", sqlite3_column_type(q, 3) == SQLITE_NULL ? json_null()
										  : json_string(lg_sql_text(q, 3)));
	json_object_set_new(o, "path", sqlite3_column_type(q, 4) == SQLITE_NULL ? json_null()
									       : json_string(lg_sql_text(q, 4)));
	if (sqlite3_column_type(q, 8) == SQLITE_NULL) {
		json_object_set_new(o, "expires", json_null());
		json_object_set_new(o, "expired", json_false());
	} else {
		lg_sql_iso_time(exp, expires, sizeof(expires));
		json_object_set_new(o, "expires", json_string(expires));
		json_object_set_new(o, "expired", json_boolean(exp <= now));
	}
	return o;
}

#define EXEMPTION_COLS "id, repo_glob, fingerprint, rule_id, path_glob, reason, created_by, created_ms, expires_ms"

int lg_store_exemptions_list(struct lg_store *st, const char *repo, const char *rule, int expired,
			     json_t **out)
{
	sqlite3_stmt *q = NULL;
	int64_t now = lg_now_ms();
	json_t *a = json_array();
	int rc;

	*out = NULL;
	if (lg_sql_prepare(st, "SELECT " EXEMPTION_COLS " FROM exemptions"
			" WHERE (?1 IS NULL OR rule_id = ?1)"
			" AND (?2 < 0 OR (?2 = 1) = (expires_ms IS NOT NULL AND expires_ms <= ?3))"
			" ORDER BY id",
		    &q)) {
		json_decref(a);
		return LG_ERROR;
	}
	lg_sql_bind_opt(q, 1, rule);
	sqlite3_bind_int(q, 2, expired);
	sqlite3_bind_int64(q, 3, now);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		/* A repository filter keeps the exemptions whose glob covers it. */
		if (repo && fnmatch(lg_sql_text(q, 1), repo, 0) != 0)
			continue;
		json_array_append_new(a, exemption_row(q, now));
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return LG_ERROR;
	}
	*out = a;
	return LG_OK;
}

static json_t *exemption_row_now(sqlite3_stmt *q)
{
	return exemption_row(q, lg_now_ms());
}

int lg_store_exemption_get(struct lg_store *st, int64_t id, json_t **out)
{
	return lg_sql_get_one(st, "SELECT " EXEMPTION_COLS " FROM exemptions WHERE id = ?", id,
		       exemption_row_now, out);
}

