/*
 * The store's rules: custom rules (their JSON as given), and which rules
 * are turned off, as the loader and the operations layer read and change
 * them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ruleset.h" /* LG_RULES_MAX */
#include "sql.h"
#include "vec.h"

int lg_store_rule_sources(struct lg_store *st, char **pack, char ***disabled, size_t *ndisabled,
			  struct lg_diag *d)
{
	sqlite3_stmt *q = NULL;
	json_t *rules = json_array();
	struct lg_vec v = LG_VEC_INIT(sizeof(char *), LG_RULES_MAX);
	int err = LG_ENOMEM, rc;

	*pack = NULL;
	*disabled = NULL;
	*ndisabled = 0;
	if (!rules)
		goto out;
	err = LG_ERROR;
	if (lg_sql_prepare(st, "SELECT id, json FROM rules ORDER BY id", &q)) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot read the custom rules: %s", sqlite3_errmsg(lg_store_db(st)));
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		json_error_t je;
		json_t *r = json_loads(lg_sql_text(q, 1), 0, &je);
		/* A stored rule that no longer parses is not left out: the rules are broken. */
		if (!json_is_object(r)) {
			lg_diag_add(d, "custom", lg_sql_text(q, 0), NULL,
				    "the rule stored in the database is not a JSON object (%s); fix or remove it "
				    "(leakgate rules remove %s)",
				    r ? "another JSON value" : je.text, lg_sql_text(q, 0));
			json_decref(r);
			err = LG_EINVALID;
			goto out;
		}
		if (json_array_append_new(rules, r)) {
			err = LG_ENOMEM;
			goto out;
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE) {
		err = lg_sql_step_error(rc);
		lg_diag_add(d, NULL, NULL, NULL, "cannot read the custom rules: %s", sqlite3_errmsg(lg_store_db(st)));
		goto out;
	}
	if (json_array_size(rules)) {
		json_t *doc = json_pack("{s:s, s:O}", "pack", "custom", "rules", rules);
		*pack = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		json_decref(doc);
		if (!*pack)
			goto out;
	}
	if (lg_sql_prepare(st, "SELECT id FROM rule_states WHERE enabled = 0 ORDER BY id", &q)) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot read the rule states: %s", sqlite3_errmsg(lg_store_db(st)));
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *id = strdup(lg_sql_text(q, 0));
		if (!id || (err = lg_vec_push(&v, &id))) {
			free(id);
			err = id ? err : LG_ENOMEM;
			goto out;
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE) {
		err = lg_sql_step_error(rc);
		lg_diag_add(d, NULL, NULL, NULL, "cannot read the rule states: %s", sqlite3_errmsg(lg_store_db(st)));
		goto out;
	}
	*ndisabled = v.n;
	*disabled = lg_vec_steal(&v);
	err = LG_OK;
out:
	if (err) {
		free(*pack);
		*pack = NULL;
	}
	sqlite3_finalize(q);
	lg_store_free_list(v.v, v.n);
	json_decref(rules);
	return err;
}

int lg_store_rule_put(struct lg_store *st, const char *id, const char *rule_json, const char *by,
		      int create)
{
	sqlite3_stmt *q = NULL;
	int64_t now = lg_now_ms();

	if (lg_sql_prepare(st,
		    create ? "INSERT INTO rules (id, json, created_ms, updated_ms, updated_by) VALUES (?,?,?,?,?)"
			   : "UPDATE rules SET json = ?2, updated_ms = ?4, updated_by = ?5 WHERE id = ?1",
		    &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, rule_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_int64(q, 4, now);
	lg_sql_bind_opt(q, 5, by ? by : "");
	if (lg_sql_step_done(q) == LG_EEXISTS)
		return LG_EEXISTS;
	if (!create && sqlite3_changes(lg_store_db(st)) == 0)
		return LG_ENOTFOUND;
	return LG_OK;
}

int lg_store_rule_get(struct lg_store *st, const char *id, char **rule_json)
{
	sqlite3_stmt *q = NULL;
	int err = LG_ENOTFOUND;

	*rule_json = NULL;
	if (lg_sql_prepare(st, "SELECT json FROM rules WHERE id = ?", &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*rule_json = strdup(lg_sql_text(q, 0));
		err = *rule_json ? LG_OK : LG_ENOMEM;
	}
	sqlite3_finalize(q);
	return err;
}

int lg_store_rule_delete(struct lg_store *st, const char *id)
{
	sqlite3_stmt *q = NULL;
	int err;

	if (lg_sql_prepare(st, "DELETE FROM rules WHERE id = ?", &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	err = lg_sql_step_done(q);
	if (!err && sqlite3_changes(lg_store_db(st)) == 0)
		return LG_ENOTFOUND;
	if (!err && lg_sql_prepare(st, "DELETE FROM rule_states WHERE id = ?", &q) == 0) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
		err = lg_sql_step_done(q);
	}
	return err;
}

int lg_store_rule_set_enabled(struct lg_store *st, const char *id, int enabled, const char *by)
{
	sqlite3_stmt *q = NULL;

	if (lg_sql_prepare(st, "INSERT INTO rule_states (id, enabled, updated_ms, updated_by) VALUES (?,?,?,?)"
			" ON CONFLICT(id) DO UPDATE SET enabled = excluded.enabled,"
			" updated_ms = excluded.updated_ms, updated_by = excluded.updated_by",
		    &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, enabled ? 1 : 0);
	sqlite3_bind_int64(q, 3, lg_now_ms());
	lg_sql_bind_opt(q, 4, by ? by : "");
	return lg_sql_step_done(q);
}

int lg_store_rule_enabled(struct lg_store *st, const char *id)
{
	sqlite3_stmt *q = NULL;
	int v = -1;

	if (lg_sql_prepare(st, "SELECT enabled FROM rule_states WHERE id = ?", &q))
		return -1;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0) ? 1 : 0;
	sqlite3_finalize(q);
	return v;
}

int lg_store_rules_admin(struct lg_store *st, json_t **out)
{
	sqlite3_stmt *q = NULL;
	json_t *custom = json_object(), *states = json_object();

	*out = NULL;
	if (lg_sql_prepare(st, "SELECT id, json FROM rules", &q) == 0) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			json_t *r = json_loads(lg_sql_text(q, 1), 0, NULL);
			if (r)
				json_object_set_new(custom, lg_sql_text(q, 0), r);
		}
		sqlite3_finalize(q);
	}
	if (lg_sql_prepare(st, "SELECT id, enabled FROM rule_states", &q) == 0) {
		while (sqlite3_step(q) == SQLITE_ROW)
			json_object_set_new(states, lg_sql_text(q, 0), json_boolean(sqlite3_column_int(q, 1)));
		sqlite3_finalize(q);
	}
	*out = json_pack("{s:o, s:o}", "custom", custom, "states", states);
	return *out ? LG_OK : LG_ENOMEM;
}

int lg_store_has_rule_changes(struct lg_store *st)
{
	sqlite3_stmt *q = NULL;
	int yes = 0;

	if (lg_sql_prepare(st, "SELECT EXISTS (SELECT 1 FROM rules) OR EXISTS (SELECT 1 FROM rule_states)", &q))
		return 1; /* unsure: take the slow, correct path */
	if (sqlite3_step(q) == SQLITE_ROW)
		yes = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return yes;
}

