/*
 * Administration state in the store: custom rules and rule states,
 * exemptions, API tokens, and the JSON views of events and exemptions that
 * the daemon and the CLI show. Every statement binds its parameters; every
 * write is one statement or one short transaction.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <sqlite3.h>

#include "ruleset.h"
#include "store.h"
#include "vec.h"

/* Exemptions in force at once; more is an administrator's mistake, and refused. */
#define LG_EXEMPTIONS_MAX 100000
/* One page of events as JSON (pages are at most a few hundred events). */
#define LG_EVENTS_PAGE_MAX_BYTES (256u << 20)

int64_t lg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int prepare(struct lg_store *st, const char *sql, sqlite3_stmt **q)
{
	return sqlite3_prepare_v2(lg_store_db(st), sql, -1, q, NULL) == SQLITE_OK ? LG_OK : LG_ERROR;
}

static int step_done(sqlite3_stmt *q)
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

static void bind_opt(sqlite3_stmt *q, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

static const char *col_text(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : "";
}

static char *col_dup(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? NULL : strdup(col_text(q, i));
}

/* ---- rules ---- */

void lg_store_free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* What a failed step means, as an lg code. */
static int step_error(int rc)
{
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return LG_EBUSY;
	return (rc & 0xff) == SQLITE_NOMEM ? LG_ENOMEM : LG_ERROR;
}

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
	if (prepare(st, "SELECT id, json FROM rules ORDER BY id", &q)) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot read the custom rules: %s", sqlite3_errmsg(lg_store_db(st)));
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		json_error_t je;
		json_t *r = json_loads(col_text(q, 1), 0, &je);
		/* A stored rule that no longer parses is not left out: the rules are broken. */
		if (!json_is_object(r)) {
			lg_diag_add(d, "custom", col_text(q, 0), NULL,
				    "the rule stored in the database is not a JSON object (%s); fix or remove it "
				    "(leakgate rules remove %s)",
				    r ? "another JSON value" : je.text, col_text(q, 0));
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
		err = step_error(rc);
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
	if (prepare(st, "SELECT id FROM rule_states WHERE enabled = 0 ORDER BY id", &q)) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot read the rule states: %s", sqlite3_errmsg(lg_store_db(st)));
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *id = strdup(col_text(q, 0));
		if (!id || (err = lg_vec_push(&v, &id))) {
			free(id);
			err = id ? err : LG_ENOMEM;
			goto out;
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE) {
		err = step_error(rc);
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

	if (prepare(st,
		    create ? "INSERT INTO rules (id, json, created_ms, updated_ms, updated_by) VALUES (?,?,?,?,?)"
			   : "UPDATE rules SET json = ?2, updated_ms = ?4, updated_by = ?5 WHERE id = ?1",
		    &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, rule_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_int64(q, 4, now);
	bind_opt(q, 5, by ? by : "");
	if (step_done(q) == LG_EEXISTS)
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
	if (prepare(st, "SELECT json FROM rules WHERE id = ?", &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*rule_json = strdup(col_text(q, 0));
		err = *rule_json ? LG_OK : LG_ENOMEM;
	}
	sqlite3_finalize(q);
	return err;
}

int lg_store_rule_delete(struct lg_store *st, const char *id)
{
	sqlite3_stmt *q = NULL;
	int err;

	if (prepare(st, "DELETE FROM rules WHERE id = ?", &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	err = step_done(q);
	if (!err && sqlite3_changes(lg_store_db(st)) == 0)
		return LG_ENOTFOUND;
	if (!err && prepare(st, "DELETE FROM rule_states WHERE id = ?", &q) == 0) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
		err = step_done(q);
	}
	return err;
}

int lg_store_rule_set_enabled(struct lg_store *st, const char *id, int enabled, const char *by)
{
	sqlite3_stmt *q = NULL;

	if (prepare(st, "INSERT INTO rule_states (id, enabled, updated_ms, updated_by) VALUES (?,?,?,?)"
			" ON CONFLICT(id) DO UPDATE SET enabled = excluded.enabled,"
			" updated_ms = excluded.updated_ms, updated_by = excluded.updated_by",
		    &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, enabled ? 1 : 0);
	sqlite3_bind_int64(q, 3, lg_now_ms());
	bind_opt(q, 4, by ? by : "");
	return step_done(q);
}

int lg_store_rule_enabled(struct lg_store *st, const char *id)
{
	sqlite3_stmt *q = NULL;
	int v = -1;

	if (prepare(st, "SELECT enabled FROM rule_states WHERE id = ?", &q))
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
	if (prepare(st, "SELECT id, json FROM rules", &q) == 0) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			json_t *r = json_loads(col_text(q, 1), 0, NULL);
			if (r)
				json_object_set_new(custom, col_text(q, 0), r);
		}
		sqlite3_finalize(q);
	}
	if (prepare(st, "SELECT id, enabled FROM rule_states", &q) == 0) {
		while (sqlite3_step(q) == SQLITE_ROW)
			json_object_set_new(states, col_text(q, 0), json_boolean(sqlite3_column_int(q, 1)));
		sqlite3_finalize(q);
	}
	*out = json_pack("{s:o, s:o}", "custom", custom, "states", states);
	return *out ? LG_OK : LG_ENOMEM;
}

int lg_store_has_rule_changes(struct lg_store *st)
{
	sqlite3_stmt *q = NULL;
	int yes = 0;

	if (prepare(st, "SELECT EXISTS (SELECT 1 FROM rules) OR EXISTS (SELECT 1 FROM rule_states)", &q))
		return 1; /* unsure: take the slow, correct path */
	if (sqlite3_step(q) == SQLITE_ROW)
		yes = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return yes;
}

/* ---- exemptions ---- */

int lg_store_exemption_add(struct lg_store *st, const struct lg_exemption *e, const char *reason,
			   const char *by, int64_t *id_out)
{
	sqlite3_stmt *q = NULL;
	int err;

	if (!e->fingerprint && !e->rule_id && !e->path_glob)
		return LG_EINVALID;
	if (prepare(st, "INSERT INTO exemptions (repo_glob, fingerprint, rule_id, path_glob, reason,"
			" created_by, created_ms, expires_ms) VALUES (?,?,?,?,?,?,?,?)",
		    &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, e->repo_glob ? e->repo_glob : "*", -1, SQLITE_TRANSIENT);
	bind_opt(q, 2, e->fingerprint);
	bind_opt(q, 3, e->rule_id);
	bind_opt(q, 4, e->path_glob);
	sqlite3_bind_text(q, 5, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 6, by ? by : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 7, lg_now_ms());
	if (e->expires_ms)
		sqlite3_bind_int64(q, 8, e->expires_ms);
	else
		sqlite3_bind_null(q, 8);
	err = step_done(q);
	if (!err && id_out)
		*id_out = sqlite3_last_insert_rowid(lg_store_db(st));
	return err;
}

int lg_store_exemption_delete(struct lg_store *st, int64_t id)
{
	sqlite3_stmt *q = NULL;
	int err;

	if (prepare(st, "DELETE FROM exemptions WHERE id = ?", &q))
		return LG_ERROR;
	sqlite3_bind_int64(q, 1, id);
	err = step_done(q);
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
	if (prepare(st, "SELECT id, repo_glob, fingerprint, rule_id, path_glob, expires_ms FROM exemptions"
			" WHERE expires_ms IS NULL OR expires_ms > ? ORDER BY id",
		    &q))
		return LG_ERROR;
	sqlite3_bind_int64(q, 1, now_ms);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct lg_exemption *e;
		if ((err = lg_vec_grow(&v, 1, (void **)&e)))
			break;
		e->id = sqlite3_column_int64(q, 0);
		e->repo_glob = col_dup(q, 1);
		e->fingerprint = col_dup(q, 2);
		e->rule_id = col_dup(q, 3);
		e->path_glob = col_dup(q, 4);
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
		err = step_error(rc);
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

static void iso_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *exemption_row(sqlite3_stmt *q, int64_t now)
{
	char created[32], expires[32];
	int64_t exp = sqlite3_column_int64(q, 8);
	json_t *o;

	iso_time(sqlite3_column_int64(q, 7), created, sizeof(created));
	o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)sqlite3_column_int64(q, 0),
		      "repo", col_text(q, 1), "reason", col_text(q, 5), "created_by", col_text(q, 6),
		      "created", created);
	json_object_set_new(o, "fingerprint", sqlite3_column_type(q, 2) == SQLITE_NULL ? json_null()
										      : json_string(col_text(q, 2)));
	json_object_set_new(o, "rule_id", sqlite3_column_type(q, 3) == SQLITE_NULL ? json_null()
										  : json_string(col_text(q, 3)));
	json_object_set_new(o, "path", sqlite3_column_type(q, 4) == SQLITE_NULL ? json_null()
									       : json_string(col_text(q, 4)));
	if (sqlite3_column_type(q, 8) == SQLITE_NULL) {
		json_object_set_new(o, "expires", json_null());
		json_object_set_new(o, "expired", json_false());
	} else {
		iso_time(exp, expires, sizeof(expires));
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
	if (prepare(st, "SELECT " EXEMPTION_COLS " FROM exemptions"
			" WHERE (?1 IS NULL OR rule_id = ?1)"
			" AND (?2 < 0 OR (?2 = 1) = (expires_ms IS NOT NULL AND expires_ms <= ?3))"
			" ORDER BY id",
		    &q)) {
		json_decref(a);
		return LG_ERROR;
	}
	bind_opt(q, 1, rule);
	sqlite3_bind_int(q, 2, expired);
	sqlite3_bind_int64(q, 3, now);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		/* A repository filter keeps the exemptions whose glob covers it. */
		if (repo && fnmatch(col_text(q, 1), repo, 0) != 0)
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

/* One row by id, as JSON; LG_ENOTFOUND when there is none. */
static int get_one(struct lg_store *st, const char *sql, int64_t id, json_t *(*row)(sqlite3_stmt *),
		   json_t **out)
{
	sqlite3_stmt *q = NULL;
	int err = LG_ENOTFOUND;

	*out = NULL;
	if (prepare(st, sql, &q))
		return LG_ERROR;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*out = row(q);
		err = LG_OK;
	}
	sqlite3_finalize(q);
	return err;
}

int lg_store_exemption_get(struct lg_store *st, int64_t id, json_t **out)
{
	return get_one(st, "SELECT " EXEMPTION_COLS " FROM exemptions WHERE id = ?", id,
		       exemption_row_now, out);
}

/* ---- tokens ---- */

static void sha256_hex(const char *s, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char dig[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), dig);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[dig[i] >> 4];
		out[2 * i + 1] = hex[dig[i] & 15];
	}
	out[64] = '\0';
}

/* Compare two equal-length strings without an early exit. */
static int same_const_time(const char *a, const char *b, size_t n)
{
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

#define TOKEN_RANDOM_BYTES 24
#define TOKEN_PREFIX_LEN (sizeof(LG_TOKEN_PREFIX) - 1 + 8)

int lg_store_token_create(struct lg_store *st, const char *role, const char *name, char **token,
			  int64_t *id_out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[TOKEN_RANDOM_BYTES];
	char *t, hash[65], prefix[TOKEN_PREFIX_LEN + 1];
	sqlite3_stmt *q = NULL;
	size_t pl = sizeof(LG_TOKEN_PREFIX) - 1;
	int err;

	*token = NULL;
	if (strcmp(role, "admin") && strcmp(role, "read"))
		return LG_EINVALID;
	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) < 0)
		return LG_ERROR;
	t = malloc(pl + 2 * sizeof(rnd) + 1);
	if (!t)
		return LG_ENOMEM;
	memcpy(t, LG_TOKEN_PREFIX, pl);
	for (size_t i = 0; i < sizeof(rnd); i++) {
		t[pl + 2 * i] = hex[rnd[i] >> 4];
		t[pl + 2 * i + 1] = hex[rnd[i] & 15];
	}
	t[pl + 2 * sizeof(rnd)] = '\0';
	sha256_hex(t, hash);
	memcpy(prefix, t, TOKEN_PREFIX_LEN);
	prefix[TOKEN_PREFIX_LEN] = '\0';
	if (prepare(st, "INSERT INTO tokens (name, role, prefix, hash, created_ms) VALUES (?,?,?,?,?)", &q)) {
		free(t);
		return LG_ERROR;
	}
	sqlite3_bind_text(q, 1, name ? name : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, role, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, prefix, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 4, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 5, lg_now_ms());
	err = step_done(q);
	if (err) {
		free(t);
		return err;
	}
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(lg_store_db(st));
	*token = t;
	return LG_OK;
}

int lg_store_token_check(struct lg_store *st, const char *token, char *role, char *who,
			 size_t wholen)
{
	sqlite3_stmt *q = NULL;
	char hash[65], prefix[TOKEN_PREFIX_LEN + 1];
	int found = 0;

	role[0] = '\0';
	if (strlen(token) < TOKEN_PREFIX_LEN || strlen(token) > 256)
		return LG_ENOTFOUND;
	sha256_hex(token, hash);
	memcpy(prefix, token, TOKEN_PREFIX_LEN);
	prefix[TOKEN_PREFIX_LEN] = '\0';
	/* Look up by the public prefix, then compare the hash in constant time. */
	if (prepare(st, "SELECT hash, role, id, name FROM tokens WHERE prefix = ? AND revoked_ms IS NULL", &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, prefix, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *h = col_text(q, 0);
		if (strlen(h) == 64 && same_const_time(h, hash, 64) && !found) {
			snprintf(role, 8, "%s", col_text(q, 1));
			if (who)
				snprintf(who, wholen, "token #%lld%s%s%s", (long long)sqlite3_column_int64(q, 2),
					 *col_text(q, 3) ? " (" : "", col_text(q, 3), *col_text(q, 3) ? ")" : "");
			found = 1;
		}
	}
	sqlite3_finalize(q);
	return found ? LG_OK : LG_ENOTFOUND;
}

int lg_store_token_revoke(struct lg_store *st, int64_t id)
{
	sqlite3_stmt *q = NULL;
	int err;

	if (prepare(st, "UPDATE tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL", &q))
		return LG_ERROR;
	sqlite3_bind_int64(q, 1, lg_now_ms());
	sqlite3_bind_int64(q, 2, id);
	err = step_done(q);
	if (!err && sqlite3_changes(lg_store_db(st)) == 0)
		return LG_ENOTFOUND;
	return err;
}

int lg_store_tokens_list(struct lg_store *st, json_t **out)
{
	sqlite3_stmt *q = NULL;
	json_t *a = json_array();

	*out = NULL;
	if (prepare(st, "SELECT id, name, role, prefix, created_ms, revoked_ms FROM tokens ORDER BY id", &q)) {
		json_decref(a);
		return LG_ERROR;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		char created[32], revoked[32];
		iso_time(sqlite3_column_int64(q, 4), created, sizeof(created));
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
				      (json_int_t)sqlite3_column_int64(q, 0), "name", col_text(q, 1),
				      "role", col_text(q, 2), "prefix", col_text(q, 3), "created", created);
		if (sqlite3_column_type(q, 5) == SQLITE_NULL) {
			json_object_set_new(o, "revoked", json_null());
		} else {
			iso_time(sqlite3_column_int64(q, 5), revoked, sizeof(revoked));
			json_object_set_new(o, "revoked", json_string(revoked));
		}
		json_array_append_new(a, o);
	}
	sqlite3_finalize(q);
	*out = a;
	return LG_OK;
}

/* ---- events ---- */

#define EVENT_COLS                                                                          \
	"id, time_ms, kind, repo, pusher, protocol, refs, findings, reason, exemptions,"     \
	" duration_ms, bytes_scanned, objects_scanned, ruleset, uid, skipped"

static json_t *parsed(sqlite3_stmt *q, int i, const char *dflt)
{
	json_t *v = json_loads(col_text(q, i), 0, NULL);
	return v ? v : json_loads(dflt, 0, NULL);
}

static json_t *event_row(sqlite3_stmt *q)
{
	char when[32];
	json_t *o;

	iso_time(sqlite3_column_int64(q, 1), when, sizeof(when));
	o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s}", "id",
		      (json_int_t)sqlite3_column_int64(q, 0), "time", when, "time_ms",
		      (json_int_t)sqlite3_column_int64(q, 1), "kind", col_text(q, 2), "repo",
		      col_text(q, 3), "pusher", col_text(q, 4), "protocol", col_text(q, 5));
	json_object_set_new(o, "refs", parsed(q, 6, "[]"));
	json_object_set_new(o, "findings", parsed(q, 7, "[]"));
	json_object_set_new(o, "reason", json_string(col_text(q, 8)));
	json_object_set_new(o, "exemptions", parsed(q, 9, "[]"));
	json_object_set_new(o, "duration_ms", json_integer(sqlite3_column_int64(q, 10)));
	json_object_set_new(o, "bytes_scanned", json_integer(sqlite3_column_int64(q, 11)));
	json_object_set_new(o, "objects_scanned", json_integer(sqlite3_column_int64(q, 12)));
	json_object_set_new(o, "ruleset", json_string(col_text(q, 13)));
	json_object_set_new(o, "uid", json_string(col_text(q, 14)));
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
	if (prepare(st, sql, &q))
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
		const char *row = col_text(q, 1);
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
		err = step_error(rc);
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
	return get_one(st, "SELECT " EVENT_COLS " FROM events WHERE id = ?", id, event_row, out);
}

int lg_store_events_after(struct lg_store *st, int64_t after_id, const char *kinds, int limit,
			  json_t **out)
{
	sqlite3_stmt *q = NULL;
	json_t *a = json_array();
	int rc;

	*out = NULL;
	if (prepare(st, "SELECT " EVENT_COLS " FROM events WHERE id > ?1 AND"
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
