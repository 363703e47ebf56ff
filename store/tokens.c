/*
 * The store's API tokens: only their SHA-256 is kept; a token is shown
 * once, when it is made.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "sql.h"

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
	if (lg_sql_prepare(st, "INSERT INTO tokens (name, role, prefix, hash, created_ms) VALUES (?,?,?,?,?)", &q)) {
		free(t);
		return LG_ERROR;
	}
	sqlite3_bind_text(q, 1, name ? name : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, role, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, prefix, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 4, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 5, lg_now_ms());
	err = lg_sql_step_done(q);
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
	if (lg_sql_prepare(st, "SELECT hash, role, id, name FROM tokens WHERE prefix = ? AND revoked_ms IS NULL", &q))
		return LG_ERROR;
	sqlite3_bind_text(q, 1, prefix, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *h = lg_sql_text(q, 0);
		if (strlen(h) == 64 && same_const_time(h, hash, 64) && !found) {
			snprintf(role, 8, "%s", lg_sql_text(q, 1));
			if (who)
				snprintf(who, wholen, "token #%lld%s%s%s", (long long)sqlite3_column_int64(q, 2),
					 *lg_sql_text(q, 3) ? " (" : "", lg_sql_text(q, 3), *lg_sql_text(q, 3) ? ")" : "");
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

	if (lg_sql_prepare(st, "UPDATE tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL", &q))
		return LG_ERROR;
	sqlite3_bind_int64(q, 1, lg_now_ms());
	sqlite3_bind_int64(q, 2, id);
	err = lg_sql_step_done(q);
	if (!err && sqlite3_changes(lg_store_db(st)) == 0)
		return LG_ENOTFOUND;
	return err;
}

int lg_store_tokens_list(struct lg_store *st, json_t **out)
{
	sqlite3_stmt *q = NULL;
	json_t *a = json_array();

	*out = NULL;
	if (lg_sql_prepare(st, "SELECT id, name, role, prefix, created_ms, revoked_ms FROM tokens ORDER BY id", &q)) {
		json_decref(a);
		return LG_ERROR;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		char created[32], revoked[32];
		lg_sql_iso_time(sqlite3_column_int64(q, 4), created, sizeof(created));
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
				      (json_int_t)sqlite3_column_int64(q, 0), "name", lg_sql_text(q, 1),
				      "role", lg_sql_text(q, 2), "prefix", lg_sql_text(q, 3), "created", created);
		if (sqlite3_column_type(q, 5) == SQLITE_NULL) {
			json_object_set_new(o, "revoked", json_null());
		} else {
			lg_sql_iso_time(sqlite3_column_int64(q, 5), revoked, sizeof(revoked));
			json_object_set_new(o, "revoked", json_string(revoked));
		}
		json_array_append_new(a, o);
	}
	sqlite3_finalize(q);
	*out = a;
	return LG_OK;
}

