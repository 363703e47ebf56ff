/*
 * Rule packs: loading and validating JSON packs, and compiling the rule set
 * into Hyperscan databases.
 *
 * Hyperscan runs without start-of-match (SOM costs 35 times the throughput
 * on these patterns, see DESIGN.md): it only says "rule r matched, ending
 * at offset e". The scanner then confirms with PCRE2 on a bounded window
 * and extracts the secret group. Compiling a few hundred rules takes most
 * of a second, so the serialized databases are cached under a hash of
 * everything that decides matching; loading them back takes microseconds.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "builtin-packs.h"
#include "file.h"
#include "paths.h"
#include "ruleset-internal.h"
#include "vec.h"

/* A serialized database larger than this is not ours. */
#define LG_CACHE_MAX_BYTES (256u << 20)
/*
 * Changed whenever the rule table's meaning changes (LGHSDB07: validators
 * jwt, pypi-macaroon, azure-storage-key and jwt-base64), so that an older entry is a
 * miss and compiled again instead of being read with other numbers.
 */
#define LG_CACHE_MAGIC "LGHSDB07"
/*
 * magic, rule-set hash, lengths of the two databases and the rule table,
 * then an HMAC-SHA256 of all of it (the header before the MAC, and the
 * body) under the cache key: Hyperscan trusts what it deserializes, so an
 * entry that this user's leakgate did not write is never read.
 */
#define LG_CACHE_HDR 128
#define LG_CACHE_MAC_AT 96
/* Entries kept in a cache folder; older ones are removed when a new one is written. */
#define LG_CACHE_KEEP 16

int lg_ruleset_new(struct lg_ruleset **out)
{
	struct lg_ruleset *rs = calloc(1, sizeof(*rs));

	*out = NULL;
	if (!rs)
		return LG_ENOMEM;
	pthread_mutex_init(&rs->lock, NULL);
	*out = rs;
	return LG_OK;
}

static void example_list_free(struct lg_example *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].text);
	}
	free(v);
}

static void rule_free(struct lg_rule *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->name);
	free(r->description);
	free(r->remediation);
	free(r->pack);
	free(r->pattern);
	free(r->path_pattern);
	example_list_free(r->pos, r->npos);
	example_list_free(r->neg, r->nneg);
	pcre2_code_free(r->code);
	free(r);
}

void lg_ruleset_free(struct lg_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->nsrcs; i++) {
		free(rs->srcs[i].name);
		free(rs->srcs[i].data);
	}
	free(rs->srcs);
	for (size_t i = 0; i < rs->ndisabled; i++)
		free(rs->disabled[i]);
	free(rs->disabled);
	hs_free_scratch(rs->spare);
	for (size_t i = 0; i < LG_LAYERS; i++) {
		hs_free_database(rs->layers[i].content_db);
		hs_free_database(rs->layers[i].path_db);
	}
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}

/* ---- validation of one pack ---- */

static int valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > 64 || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* The names a rule's "validator" gives (docs/rule-format.md says what each checks). */
static const struct {
	const char *name;
	enum lg_validator validator;
} validator_names[] = {
	{"github-crc32", LG_VALIDATOR_GITHUB_CRC32},
	{"jwt", LG_VALIDATOR_JWT},
	{"pypi-macaroon", LG_VALIDATOR_PYPI_MACAROON},
	{"azure-storage-key", LG_VALIDATOR_AZURE_STORAGE_KEY},
	{"jwt-base64", LG_VALIDATOR_JWT_BASE64},
	{NULL, LG_VALIDATOR_NONE},
};

static const char *const rule_fields[] = {
	"id", "name", "description", "severity", "pattern", "secret_group",
	"case_insensitive", "path", "min_entropy", "validator", "placeholder_check", "generic",
	"confidence",
	"remediation", "tags", "examples", "negative_examples", NULL,
};

static int known_field(const char *key)
{
	for (size_t i = 0; rule_fields[i]; i++)
		if (strcmp(rule_fields[i], key) == 0)
			return 1;
	return 0;
}

/*
 * A required or optional string field. Returns a copy (caller frees), NULL
 * when absent; *bad is set when the field is present but wrong.
 */
static char *get_string(json_t *obj, const char *key, int required, size_t max,
			const char *file, const char *id, struct lg_diag *d, int *bad)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	if (!v) {
		if (required) {
			lg_diag_add(d, file, id, key, "missing (required)");
			*bad = 1;
		}
		return NULL;
	}
	if (!json_is_string(v)) {
		lg_diag_add(d, file, id, key, "must be a string");
		*bad = 1;
		return NULL;
	}
	s = json_string_value(v);
	if (json_string_length(v) != strlen(s)) {
		lg_diag_add(d, file, id, key, "contains a NUL character");
		*bad = 1;
		return NULL;
	}
	if (required && s[0] == '\0') {
		lg_diag_add(d, file, id, key, "must not be empty");
		*bad = 1;
		return NULL;
	}
	if (strlen(s) > max) {
		lg_diag_add(d, file, id, key, "longer than %zu bytes", max);
		*bad = 1;
		return NULL;
	}
	return strdup(s);
}

static int parse_examples(json_t *obj, const char *key, struct lg_example **out, size_t *nout,
			  int need_path, const char *file, const char *id, struct lg_diag *d)
{
	json_t *arr = json_object_get(obj, key), *e;
	struct lg_example *v = NULL;
	size_t i, n;
	int bad = 0;

	*out = NULL;
	*nout = 0;
	if (!arr || !json_is_array(arr)) {
		lg_diag_add(d, file, id, key, arr ? "must be an array" : "missing (required)");
		return -1;
	}
	n = json_array_size(arr);
	if (n < 2) {
		lg_diag_add(d, file, id, key, "needs at least 2 entries, has %zu", n);
		return -1;
	}
	if (n > 1000) {
		lg_diag_add(d, file, id, key, "more than 1000 entries");
		return -1;
	}
	v = calloc(n, sizeof(*v));
	if (!v)
		return -1;
	json_array_foreach(arr, i, e) {
		json_t *t = e, *p = NULL;
		char fname[64];

		snprintf(fname, sizeof(fname), "%s[%zu]", key, i);
		if (json_is_object(e)) {
			const char *k;
			json_t *unused;
			json_object_foreach(e, k, unused) {
				if (strcmp(k, "path") && strcmp(k, "text")) {
					lg_diag_add(d, file, id, fname, "unknown key '%s' (expected path, text)", k);
					bad = 1;
				}
			}
			t = json_object_get(e, "text");
			p = json_object_get(e, "path");
			if (!t)
				t = json_string("");
			else
				json_incref(t);
		} else {
			json_incref(t);
		}
		if (!json_is_string(t) || (p && !json_is_string(p))) {
			lg_diag_add(d, file, id, fname, "must be a string or {\"path\": string, \"text\": string}");
			bad = 1;
		} else if (json_string_length(t) > LG_EXAMPLE_MAX) {
			lg_diag_add(d, file, id, fname, "longer than %d bytes", LG_EXAMPLE_MAX);
			bad = 1;
		} else if (need_path && !p && strcmp(key, "examples") == 0) {
			lg_diag_add(d, file, id, fname, "a path rule's example needs a \"path\"");
			bad = 1;
		} else {
			v[i].len = json_string_length(t);
			v[i].text = malloc(v[i].len + 1);
			if (v[i].text) {
				memcpy(v[i].text, json_string_value(t), v[i].len);
				v[i].text[v[i].len] = '\0';
			}
			v[i].path = p ? strdup(json_string_value(p)) : NULL;
			if (!v[i].text || (p && !v[i].path))
				bad = 1;
		}
		json_decref(t);
	}
	if (bad) {
		example_list_free(v, n);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

/*
 * Parse one rule object. Returns the rule, or NULL with every problem in d.
 */
static struct lg_rule *parse_rule(json_t *obj, const char *file, const char *pack, size_t idx,
				  struct lg_diag *d)
{
	struct lg_rule *r = NULL;
	const char *key;
	json_t *v;
	char idbuf[32];
	const char *id;
	char *sev = NULL, *validator = NULL;
	int bad = 0;

	if (!json_is_object(obj)) {
		snprintf(idbuf, sizeof(idbuf), "#%zu", idx + 1);
		lg_diag_add(d, file, idbuf, NULL, "a rule must be a JSON object");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->placeholder_check = 1;
	r->enabled = 1;

	v = json_object_get(obj, "id");
	if (json_is_string(v) && valid_id(json_string_value(v))) {
		r->id = strdup(json_string_value(v));
		id = r->id;
	} else {
		snprintf(idbuf, sizeof(idbuf), "#%zu", idx + 1);
		id = idbuf;
		lg_diag_add(d, file, id, "id",
			    v ? "must be 2 to 64 characters of a-z, 0-9, '-' and '.', starting with a letter"
			      : "missing (required)");
		bad = 1;
	}
	json_object_foreach(obj, key, v) {
		if (!known_field(key)) {
			lg_diag_add(d, file, id, key, "unknown field");
			bad = 1;
		}
	}
	r->name = get_string(obj, "name", 1, 200, file, id, d, &bad);
	r->description = get_string(obj, "description", 1, LG_TEXT_MAX, file, id, d, &bad);
	r->remediation = get_string(obj, "remediation", 1, LG_TEXT_MAX, file, id, d, &bad);
	r->pattern = get_string(obj, "pattern", 0, LG_PATTERN_MAX, file, id, d, &bad);
	r->path_pattern = get_string(obj, "path", 0, LG_PATTERN_MAX, file, id, d, &bad);
	r->pack = strdup(pack ? pack : "");
	if (!r->pattern && !r->path_pattern && !json_object_get(obj, "pattern") &&
	    !json_object_get(obj, "path")) {
		lg_diag_add(d, file, id, "pattern", "a rule needs a \"pattern\", a \"path\", or both");
		bad = 1;
	}
	if ((r->pattern && !r->pattern[0]) || (r->path_pattern && !r->path_pattern[0])) {
		lg_diag_add(d, file, id, r->pattern && !r->pattern[0] ? "pattern" : "path",
			    "must not be empty");
		bad = 1;
	}

	sev = get_string(obj, "severity", 1, 32, file, id, d, &bad);
	if (sev) {
		if (strcmp(sev, "critical") == 0)
			r->severity = LG_SEV_CRITICAL;
		else if (strcmp(sev, "high") == 0)
			r->severity = LG_SEV_HIGH;
		else if (strcmp(sev, "medium") == 0)
			r->severity = LG_SEV_MEDIUM;
		else if (strcmp(sev, "low") == 0)
			r->severity = LG_SEV_LOW;
		else {
			lg_diag_add(d, file, id, "severity",
				    "'%s' is not one of critical, high, medium, low", sev);
			bad = 1;
		}
	}

	v = json_object_get(obj, "secret_group");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > LG_SECRET_GROUP_MAX) {
			lg_diag_add(d, file, id, "secret_group", "must be an integer from 0 to %d",
				    LG_SECRET_GROUP_MAX);
			bad = 1;
		} else {
			r->secret_group = (unsigned)json_integer_value(v);
		}
		if (!r->pattern && r->secret_group) {
			lg_diag_add(d, file, id, "secret_group", "needs a \"pattern\"");
			bad = 1;
		}
	}
	v = json_object_get(obj, "case_insensitive");
	if (v && !json_is_boolean(v)) {
		lg_diag_add(d, file, id, "case_insensitive", "must be true or false");
		bad = 1;
	}
	r->caseless = v && json_is_true(v);
	v = json_object_get(obj, "placeholder_check");
	if (v && !json_is_boolean(v)) {
		lg_diag_add(d, file, id, "placeholder_check", "must be true or false");
		bad = 1;
	}
	r->placeholder_check = !v || json_is_true(v);
	v = json_object_get(obj, "generic");
	if (v && !json_is_boolean(v)) {
		lg_diag_add(d, file, id, "generic", "must be true or false");
		bad = 1;
	}
	r->generic = v && json_is_true(v);
	/* How sure a match is a real secret: generic fallbacks are low unless they say otherwise. */
	r->confidence = r->generic ? LG_CONF_LOW : LG_CONF_HIGH;
	v = json_object_get(obj, "confidence");
	if (v) {
		const char *c = json_is_string(v) ? json_string_value(v) : "";
		if (!strcmp(c, "high"))
			r->confidence = LG_CONF_HIGH;
		else if (!strcmp(c, "medium"))
			r->confidence = LG_CONF_MEDIUM;
		else if (!strcmp(c, "low"))
			r->confidence = LG_CONF_LOW;
		else {
			lg_diag_add(d, file, id, "confidence", "must be \"high\", \"medium\" or \"low\"");
			bad = 1;
		}
	}
	v = json_object_get(obj, "min_entropy");
	if (v) {
		if (!json_is_number(v) || json_number_value(v) < 0 ||
		    json_number_value(v) > LG_ENTROPY_MAX) {
			lg_diag_add(d, file, id, "min_entropy",
				    "must be a number of bits per character from 0 to %d", LG_ENTROPY_MAX);
			bad = 1;
		} else {
			r->min_entropy = json_number_value(v);
		}
	}
	validator = get_string(obj, "validator", 0, 64, file, id, d, &bad);
	if (validator) {
		for (size_t i = 0; validator_names[i].name && !r->validator; i++)
			if (strcmp(validator, validator_names[i].name) == 0)
				r->validator = validator_names[i].validator;
		if (!r->validator) {
			lg_diag_add(d, file, id, "validator",
				    "unknown validator '%s' (known: github-crc32, jwt, pypi-macaroon, "
				    "azure-storage-key, jwt-base64)",
				    validator);
			bad = 1;
		}
		if (!r->pattern) {
			lg_diag_add(d, file, id, "validator", "needs a \"pattern\"");
			bad = 1;
		}
	}
	v = json_object_get(obj, "tags");
	if (v) {
		size_t i;
		json_t *t;
		if (!json_is_array(v)) {
			lg_diag_add(d, file, id, "tags", "must be an array of strings");
			bad = 1;
		} else {
			json_array_foreach(v, i, t) {
				if (!json_is_string(t)) {
					lg_diag_add(d, file, id, "tags", "must be an array of strings");
					bad = 1;
					break;
				}
			}
		}
	}
	if (parse_examples(obj, "examples", &r->pos, &r->npos, r->path_pattern && !r->pattern, file,
			   id, d) < 0)
		bad = 1;
	if (parse_examples(obj, "negative_examples", &r->neg, &r->nneg, 0, file, id, d) < 0)
		bad = 1;

	if (!r->id)
		bad = 1;
	free(sev);
	free(validator);
	if (bad) {
		rule_free(r);
		return NULL;
	}
	return r;
}

static const struct lg_rule *find_rule(const struct lg_ruleset *rs, const char *id)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->rules[i]->id, id) == 0)
			return rs->rules[i];
	return NULL;
}

static int parse_pack(struct lg_ruleset *rs, const char *name, const char *text, size_t len, unsigned layer,
		      struct lg_diag *d)
{
	json_error_t jerr;
	json_t *root = NULL, *rules, *v;
	const char *key, *pack = NULL;
	struct lg_rule **fresh = NULL;
	size_t i, n = 0, nfresh = 0;
	int err = LG_EINVALID, bad = 0;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		lg_diag_add(d, name, NULL, NULL, "not valid JSON at line %d, column %d: %s", jerr.line,
			    jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		lg_diag_add(d, name, NULL, NULL, "a pack must be a JSON object with a \"rules\" array");
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "pack") && strcmp(key, "rules") && strcmp(key, "description")) {
			lg_diag_add(d, name, NULL, key, "unknown top-level field (expected pack, description, rules)");
			bad = 1;
		}
	}
	v = json_object_get(root, "pack");
	if (v && !json_is_string(v)) {
		lg_diag_add(d, name, NULL, "pack", "must be a string");
		bad = 1;
	}
	pack = json_is_string(v) ? json_string_value(v) : name;
	rules = json_object_get(root, "rules");
	if (!json_is_array(rules)) {
		lg_diag_add(d, name, NULL, "rules", rules ? "must be an array" : "missing (required)");
		goto out;
	}
	n = json_array_size(rules);
	if (n == 0) {
		lg_diag_add(d, name, NULL, "rules", "the pack has no rules");
		goto out;
	}
	if (rs->n + n > LG_RULES_MAX) {
		lg_diag_add(d, name, NULL, "rules", "more than %d rules in the rule set", LG_RULES_MAX);
		err = LG_ETOOLARGE;
		goto out;
	}
	fresh = calloc(n, sizeof(*fresh));
	if (!fresh) {
		err = LG_ENOMEM;
		goto out;
	}
	json_array_foreach(rules, i, v) {
		struct lg_rule *r = parse_rule(v, name, pack, i, d);
		if (!r) {
			bad = 1;
			continue;
		}
		if (find_rule(rs, r->id)) {
			lg_diag_add(d, name, r->id, "id", "duplicates a rule already loaded");
			bad = 1;
		}
		for (size_t j = 0; j < nfresh; j++) {
			if (strcmp(fresh[j]->id, r->id) == 0) {
				lg_diag_add(d, name, r->id, "id", "used twice in this pack");
				bad = 1;
				break;
			}
		}
		fresh[nfresh++] = r;
	}
	if (bad)
		goto out;
	if ((err = lg_array_reserve((void **)&rs->rules, &rs->cap, rs->n + nfresh, sizeof(*rs->rules),
				    LG_RULES_MAX + 1)))
		goto out;
	for (i = 0; i < nfresh; i++) {
		fresh[i]->index = rs->n;
		fresh[i]->layer = layer;
		rs->rules[rs->n++] = fresh[i];
		fresh[i] = NULL;
	}
	nfresh = 0;
	err = LG_OK;
out:
	for (i = 0; i < nfresh; i++)
		rule_free(fresh[i]);
	free(fresh);
	json_decref(root);
	return err;
}

int lg_ruleset_prepare_scratch(struct lg_ruleset *rs)
{
	if (!rs->compiled || rs->spare)
		return rs->compiled ? LG_OK : LG_EINVALID;
	for (size_t i = 0; i < rs->nlayers; i++) {
		const struct lg_layer *l = &rs->layers[i];
		if ((l->content_db && hs_alloc_scratch(l->content_db, &rs->spare) != HS_SUCCESS) ||
		    (l->path_db && hs_alloc_scratch(l->path_db, &rs->spare) != HS_SUCCESS)) {
			hs_free_scratch(rs->spare);
			rs->spare = NULL;
			return LG_ENOMEM;
		}
	}
	return LG_OK;
}

void lg_ruleset_set_lazy(struct lg_ruleset *rs, int on)
{
	rs->lazy = on;
}

void lg_ruleset_set_lenient(struct lg_ruleset *rs, int on)
{
	rs->lenient = on;
}

int lg_ruleset_is_lite(const struct lg_ruleset *rs)
{
	return rs->lite;
}

int lg_ruleset_add_json(struct lg_ruleset *rs, const char *name, const char *text, size_t len,
			struct lg_diag *d)
{
	struct lg_source *v;
	unsigned layer;

	if (rs->compiled) {
		lg_diag_add(d, name, NULL, NULL, "rule set already compiled");
		return LG_EINVALID;
	}
	if (len > LG_PACK_MAX_BYTES) {
		lg_diag_add(d, name, NULL, NULL, "pack is %zu bytes, over the limit of %u", len,
			    LG_PACK_MAX_BYTES);
		return LG_ETOOLARGE;
	}
	/* The built-in packs are the first layer only while nothing else came before them. */
	layer = rs->adding_builtin && (rs->nsrcs == 0 || rs->srcs[rs->nsrcs - 1].layer == 0) ? 0 : 1;
	if (!rs->lazy) {
		int err = parse_pack(rs, name, text, len, layer, d);
		if (err)
			return err;
	}
	{
		int err = lg_array_reserve((void **)&rs->srcs, &rs->capsrcs, rs->nsrcs + 1, sizeof(*rs->srcs),
					   LG_PACKS_MAX);
		if (err) {
			if (err == LG_ETOOLARGE)
				lg_diag_add(d, name, NULL, NULL, "more than %d rule packs", LG_PACKS_MAX);
			return err;
		}
	}
	v = &rs->srcs[rs->nsrcs];
	v->name = strdup(name);
	v->data = malloc(len + 1);
	v->len = len;
	v->layer = layer;
	if (!v->name || !v->data) {
		free(v->name);
		free(v->data);
		return LG_ENOMEM;
	}
	memcpy(v->data, text, len);
	v->data[len] = '\0';
	rs->nsrcs++;
	if (rs->lazy)
		rs->pending = 1;
	return LG_OK;
}

int lg_ruleset_add_builtin(struct lg_ruleset *rs, struct lg_diag *d)
{
	int err = LG_OK;

	rs->adding_builtin = 1;
	for (size_t i = 0; i < lg_builtin_pack_count; i++) {
		int e = lg_ruleset_add_json(rs, lg_builtin_packs[i].name, lg_builtin_packs[i].data,
					    lg_builtin_packs[i].len, d);
		if (e && !err)
			err = e;
	}
	rs->adding_builtin = 0;
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lg_ruleset_add_path(struct lg_ruleset *rs, const char *path, struct lg_diag *d)
{
	struct stat st;
	DIR *dir = NULL;
	struct dirent *de;
	char **names = NULL, *text = NULL;
	size_t n = 0, cap = 0, len = 0;
	int err = LG_OK;

	if (stat(path, &st) < 0) {
		lg_diag_add(d, path, NULL, NULL, "cannot read rule pack: %s", strerror(errno));
		return LG_ENOTFOUND;
	}
	if (!S_ISDIR(st.st_mode)) {
		err = lg_file_read(path, LG_PACK_MAX_BYTES, &text, &len, d);
		if (!err)
			err = lg_ruleset_add_json(rs, path, text, len, d);
		free(text);
		return err;
	}
	dir = opendir(path);
	if (!dir) {
		lg_diag_add(d, path, NULL, NULL, "cannot open directory: %s", strerror(errno));
		return LG_EIO;
	}
	while ((de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") || de->d_name[0] == '.')
			continue;
		if ((err = lg_array_reserve((void **)&names, &cap, n + 1, sizeof(*names), LG_PACKS_MAX))) {
			if (err == LG_ETOOLARGE)
				lg_diag_add(d, path, NULL, NULL, "more than %d rule packs in this directory", LG_PACKS_MAX);
			goto out;
		}
		if (asprintf(&names[n], "%s/%s", path, de->d_name) < 0) {
			err = LG_ENOMEM;
			goto out;
		}
		n++;
	}
	if (n == 0) {
		lg_diag_add(d, path, NULL, NULL, "no *.json rule packs in this directory");
		err = LG_ENOTFOUND;
		goto out;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		int e = lg_file_read(names[i], LG_PACK_MAX_BYTES, &text, &len, d);
		if (!e)
			e = lg_ruleset_add_json(rs, names[i], text, len, d);
		free(text);
		text = NULL;
		if (e && !err)
			err = e;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return err;
}

int lg_ruleset_disable(struct lg_ruleset *rs, const char *id)
{
	struct lg_rule *r = (struct lg_rule *)find_rule(rs, id);
	char **v;

	if (rs->compiled)
		return LG_EINVALID;
	if (!r && !rs->pending && !rs->lenient)
		return LG_ENOTFOUND;
	/* Applied when the rule set is compiled: the databases do not depend on it. */
	{
		int err = lg_array_reserve((void **)&rs->disabled, &rs->capdisabled, rs->ndisabled + 1,
					   sizeof(*rs->disabled), LG_RULES_MAX);
		if (err)
			return err;
	}
	v = rs->disabled;
	if (!(v[rs->ndisabled] = strdup(id)))
		return LG_ENOMEM;
	rs->ndisabled++;
	return LG_OK;
}

/* ---- compilation ---- */

static uint32_t pcre2_flags(const struct lg_rule *r)
{
	return PCRE2_MULTILINE | (r->caseless ? PCRE2_CASELESS : 0);
}

/* Validate a pattern with PCRE2; for content patterns check secret_group. */
static int check_pcre2(const struct lg_rule *r, const char *pattern, const char *field,
		       struct lg_diag *d)
{
	int code;
	PCRE2_SIZE off;
	uint32_t groups = 0;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, pcre2_flags(r),
				      &code, &off, NULL);

	if (!c) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		lg_diag_add(d, r->pack, r->id, field, "invalid pattern at offset %zu: %s", (size_t)off,
			    (char *)msg);
		return -1;
	}
	pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &groups);
	pcre2_code_free(c);
	if (strcmp(field, "pattern") == 0 && r->secret_group > groups) {
		lg_diag_add(d, r->pack, r->id, "secret_group",
			    "is %u but the pattern has %u capture group%s", r->secret_group, groups,
			    groups == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

/*
 * Compile the patterns selected by use_path into one database. On failure,
 * compile each pattern alone so that every bad rule is reported, not just
 * the first one Hyperscan stops at.
 */
static int build_db(struct lg_ruleset *rs, const struct lg_layer *l, int use_path, hs_database_t **out,
		    struct lg_diag *d)
{
	const char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL;
	unsigned n = 0;
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;
	int err = LG_ENOMEM;

	*out = NULL;
	exprs = calloc(l->n + 1, sizeof(*exprs));
	flags = calloc(l->n + 1, sizeof(*flags));
	ids = calloc(l->n + 1, sizeof(*ids));
	if (!exprs || !flags || !ids)
		goto out;
	/* Every rule of the layer, off or on: the databases do not change when a rule is turned off. */
	for (size_t i = l->first; i < l->first + l->n; i++) {
		struct lg_rule *r = rs->rules[i];
		const char *p = use_path ? r->path_pattern : r->pattern;
		if (!p)
			continue;
		exprs[n] = p;
		/* A path only needs a yes or no; content needs every match end. */
		flags[n] = HS_FLAG_MULTILINE | (r->caseless ? HS_FLAG_CASELESS : 0) |
			   (use_path ? HS_FLAG_SINGLEMATCH : 0);
		ids[n] = (unsigned)(i - l->first);
		n++;
	}
	err = LG_OK;
	if (n == 0)
		goto out;
	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &db, &cerr) == HS_SUCCESS) {
		*out = db;
		goto out;
	}
	hs_free_compile_error(cerr);
	cerr = NULL;
	err = LG_EINVALID;
	for (unsigned k = 0; k < n; k++) {
		hs_database_t *one = NULL;
		if (hs_compile(exprs[k], flags[k], HS_MODE_BLOCK, NULL, &one, &cerr) != HS_SUCCESS) {
			const struct lg_rule *r = rs->rules[l->first + ids[k]];
			lg_diag_add(d, r->pack, r->id, use_path ? "path" : "pattern",
				    "Hyperscan cannot compile it: %s", cerr ? cerr->message : "unknown error");
			hs_free_compile_error(cerr);
			cerr = NULL;
		}
		hs_free_database(one);
	}
	if (d && d->n == 0)
		lg_diag_add(d, NULL, NULL, NULL, "Hyperscan could not compile the rule set as a whole");
out:
	free(exprs);
	free(flags);
	free(ids);
	return err;
}

static void compute_hash(struct lg_ruleset *rs)
{
	gnutls_hash_hd_t h;
	unsigned char dig[32];
	static const char hex[] = "0123456789abcdef";
	const char *ver = hs_version();

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		snprintf(rs->hash, sizeof(rs->hash), "unhashed");
		return;
	}
	gnutls_hash(h, "leakgate-rules-v2\n", 18);
	gnutls_hash(h, ver, strlen(ver) + 1);
	for (size_t i = 0; i < rs->nsrcs; i++) {
		char len[32];
		int n = snprintf(len, sizeof(len), "%zu:", rs->srcs[i].len);
		gnutls_hash(h, rs->srcs[i].name, strlen(rs->srcs[i].name) + 1);
		gnutls_hash(h, len, (size_t)n);
		gnutls_hash(h, rs->srcs[i].data, rs->srcs[i].len);
	}
	for (size_t i = 0; i < rs->ndisabled; i++)
		gnutls_hash(h, rs->disabled[i], strlen(rs->disabled[i]) + 1);
	gnutls_hash_deinit(h, dig);
	for (size_t i = 0; i < 32; i++) {
		rs->hash[2 * i] = hex[dig[i] >> 4];
		rs->hash[2 * i + 1] = hex[dig[i] & 15];
	}
	rs->hash[64] = '\0';
}

/* The hash of one layer's sources: its compiled cache entry's name. */
static void layer_hash(const struct lg_ruleset *rs, unsigned layer, char out[65])
{
	gnutls_hash_hd_t h;
	unsigned char dig[32];
	static const char hex[] = "0123456789abcdef";
	const char *ver = hs_version();
	char tag[32];

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		snprintf(out, 65, "unhashed");
		return;
	}
	snprintf(tag, sizeof(tag), "leakgate-layer-v1 %u\n", layer);
	gnutls_hash(h, tag, strlen(tag));
	gnutls_hash(h, ver, strlen(ver) + 1);
	for (size_t i = 0; i < rs->nsrcs; i++) {
		char len[32];
		int n;
		if (rs->srcs[i].layer != layer)
			continue;
		n = snprintf(len, sizeof(len), "%zu:", rs->srcs[i].len);
		gnutls_hash(h, rs->srcs[i].name, strlen(rs->srcs[i].name) + 1);
		gnutls_hash(h, len, (size_t)n);
		gnutls_hash(h, rs->srcs[i].data, rs->srcs[i].len);
	}
	gnutls_hash_deinit(h, dig);
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = hex[dig[i] >> 4];
		out[2 * i + 1] = hex[dig[i] & 15];
	}
	out[64] = '\0';
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/*
 * The rule table stored beside the databases: every field the scanner and
 * the messages need, so that a cache hit parses no JSON. Little-endian
 * integers; strings as a 32-bit length and bytes.
 */
struct wbuf {
	unsigned char *p;
	size_t n, cap;
	int oom;
};

static void wput(struct wbuf *b, const void *data, size_t len)
{
	if (b->oom)
		return;
	if (len > SIZE_MAX - b->n ||
	    lg_array_reserve((void **)&b->p, &b->cap, b->n + len, 1, LG_CACHE_MAX_BYTES)) {
		b->oom = 1;
		return;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
}

static void wput_u64(struct wbuf *b, uint64_t v)
{
	unsigned char x[8];
	put_u64(x, v);
	wput(b, x, 8);
}

static void wput_str(struct wbuf *b, const char *s)
{
	uint64_t len = s ? strlen(s) : UINT32_MAX;
	wput_u64(b, len);
	if (s)
		wput(b, s, (size_t)len);
}

static void table_write(const struct lg_ruleset *rs, const struct lg_layer *l, struct wbuf *b)
{
	wput_u64(b, l->n);
	for (size_t i = l->first; i < l->first + l->n; i++) {
		const struct lg_rule *r = rs->rules[i];
		uint64_t bits;
		memcpy(&bits, &r->min_entropy, sizeof(bits));
		wput_u64(b, (uint64_t)r->severity | (uint64_t)r->caseless << 8 |
				    (uint64_t)r->validator << 16 | (uint64_t)r->placeholder_check << 24 |
				    (uint64_t)1 << 32 | (uint64_t)r->generic << 40 |
				    (uint64_t)r->confidence << 48);
		wput_u64(b, r->secret_group);
		wput_u64(b, bits);
		wput_str(b, r->id);
		wput_str(b, r->name);
		wput_str(b, r->description);
		wput_str(b, r->remediation);
		wput_str(b, r->pack);
		wput_str(b, r->pattern);
		wput_str(b, r->path_pattern);
	}
}

struct rbuf {
	const unsigned char *p, *end;
	int bad;
};

static uint64_t rget_u64(struct rbuf *b)
{
	uint64_t v;
	if (b->bad || b->end - b->p < 8) {
		b->bad = 1;
		return 0;
	}
	v = get_u64(b->p);
	b->p += 8;
	return v;
}

static char *rget_str(struct rbuf *b, int *absent)
{
	uint64_t len = rget_u64(b);
	char *s;

	*absent = len == UINT32_MAX;
	if (b->bad || *absent)
		return NULL;
	if ((uint64_t)(b->end - b->p) < len) {
		b->bad = 1;
		return NULL;
	}
	s = strndup((const char *)b->p, (size_t)len);
	if (!s)
		b->bad = 1;
	b->p += len;
	return s;
}

/* Build the rules from a table; 0, or -1 (and no rules) when it is damaged. */
/* Forget the rules from index n on (a layer that could not be read whole). */
static void drop_rules_from(struct lg_ruleset *rs, size_t n)
{
	while (rs->n > n)
		rule_free(rs->rules[--rs->n]);
}

int lg_ruleset_table_read(struct lg_ruleset *rs, const unsigned char *p, size_t len)
{
	struct rbuf b = {p, p + len, 0};
	uint64_t n = rget_u64(&b);
	size_t before = rs->n;

	if (b.bad || n > LG_RULES_MAX || rs->n + n > LG_RULES_MAX)
		return -1;
	if (lg_array_reserve((void **)&rs->rules, &rs->cap, rs->n + (size_t)n + 1, sizeof(*rs->rules),
			     LG_RULES_MAX + 1))
		return -1;
	for (uint64_t i = 0; i < n && !b.bad; i++) {
		struct lg_rule *r = calloc(1, sizeof(*r));
		uint64_t flags, group, bits;
		int absent;
		if (!r) {
			b.bad = 1;
			break;
		}
		r->index = rs->n;
		r->layer = rs->loading;
		rs->rules[rs->n++] = r;
		flags = rget_u64(&b);
		group = rget_u64(&b);
		r->secret_group = (unsigned)group;
		bits = rget_u64(&b);
		memcpy(&r->min_entropy, &bits, sizeof(bits));
		r->severity = (enum lg_severity)(flags & 0xff);
		r->caseless = (flags >> 8) & 1;
		r->validator = (enum lg_validator)((flags >> 16) & 0xff);
		r->placeholder_check = (flags >> 24) & 1;
		r->enabled = 1; /* turned off, if at all, by the disabled ids when compiling */
		r->generic = (flags >> 40) & 1;
		r->confidence = (enum lg_confidence)((flags >> 48) & 0xff);
		r->id = rget_str(&b, &absent);
		r->name = rget_str(&b, &absent);
		r->description = rget_str(&b, &absent);
		r->remediation = rget_str(&b, &absent);
		r->pack = rget_str(&b, &absent);
		r->pattern = rget_str(&b, &absent);
		r->path_pattern = rget_str(&b, &absent);
		if (!r->id || !r->name || !r->description || !r->remediation || !r->pack ||
		    r->severity > LG_SEV_CRITICAL || r->validator >= LG_VALIDATOR_COUNT ||
		    r->confidence > LG_CONF_HIGH)
			b.bad = 1;
		/*
		 * No pack gives these, and the scanner trusts them: a secret group
		 * past its match data would be read out of bounds.
		 */
		if (group > LG_SECRET_GROUP_MAX ||
		    !(r->min_entropy >= 0 && r->min_entropy <= LG_ENTROPY_MAX))
			b.bad = 1;
	}
	if (b.bad || b.p != b.end) {
		drop_rules_from(rs, before);
		return -1;
	}
	return 0;
}

/*
 * Load the cache entry: both databases and, for a rule set not parsed yet,
 * the rule table. Any mismatch or damage is a miss.
 */
static int cache_load(struct lg_ruleset *rs, const char *file)
{
	char *buf = NULL, why[512];
	size_t len = 0;
	int ok;

	/* A file another account could have written is a miss (it is replaced). */
	if (lg_path_trusted(file, why, sizeof(why)) || lg_file_read(file, LG_CACHE_MAX_BYTES, &buf, &len, NULL))
		return 0;
	ok = lg_ruleset_cache_read(rs, buf, len);
	free(buf);
	/*
	 * Used now: pruning keeps the newest entries by time, and an entry
	 * loaded on every run (the built-in rules') must not be the first to
	 * go once a few rule changes have written newer ones.
	 */
	if (ok)
		utimensat(AT_FDCWD, file, NULL, 0);
	return ok;
}

/* HMAC-SHA256 under the cache key of the header (up to the MAC) and the body. */
static int cache_mac(const struct lg_ruleset *rs, const unsigned char *hdr, const unsigned char *body,
		     size_t len, unsigned char out[32])
{
	gnutls_hmac_hd_t h;

	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, rs->cache_key, sizeof(rs->cache_key)) < 0)
		return -1;
	if (gnutls_hmac(h, hdr, LG_CACHE_MAC_AT) < 0 || (len && gnutls_hmac(h, body, len) < 0)) {
		gnutls_hmac_deinit(h, NULL);
		return -1;
	}
	gnutls_hmac_deinit(h, out);
	return 0;
}

static int same_bytes(const unsigned char *a, const unsigned char *b, size_t n)
{
	unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

void lg_ruleset_set_cache_key(struct lg_ruleset *rs, const unsigned char *key, size_t len)
{
	static const char label[] = "leakgate compiled-rule cache v1";

	/* Its own key, derived from the given one: a cache MAC is never a fingerprint. */
	rs->have_cache_key = gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, len, label, sizeof(label) - 1, rs->cache_key) == 0;
}

int lg_ruleset_cache_envelope(const struct lg_ruleset *rs, const char *buf, size_t len, uint64_t lens[3])
{
	const struct lg_layer *l = &rs->layers[rs->loading < LG_LAYERS ? rs->loading : 0];
	const unsigned char *u = (const unsigned char *)buf;
	unsigned char mac[32];

	if (len < LG_CACHE_HDR || memcmp(buf, LG_CACHE_MAGIC, 8) || !l->hash[0] || memcmp(buf + 8, l->hash, 64))
		return 0;
	for (int i = 0; i < 3; i++) {
		lens[i] = get_u64(u + 72 + 8 * i);
		if (lens[i] > len)
			return 0;
	}
	if (LG_CACHE_HDR + lens[0] + lens[1] + lens[2] != len)
		return 0;
	/*
	 * Hyperscan trusts a database it deserializes: an entry must be one
	 * this user's leakgate wrote (the MAC), not torn, damaged or planted.
	 */
	return rs->have_cache_key &&
	       !cache_mac(rs, u, u + LG_CACHE_HDR, (size_t)(lens[0] + lens[1] + lens[2]), mac) &&
	       same_bytes(mac, u + LG_CACHE_MAC_AT, 32);
}

int lg_ruleset_cache_read(struct lg_ruleset *rs, const char *buf, size_t len)
{
	uint64_t lens[3], l1, l2, l3;
	hs_database_t *c = NULL, *p = NULL;
	const unsigned char *u = (const unsigned char *)buf;
	struct lg_layer *l = &rs->layers[rs->loading < LG_LAYERS ? rs->loading : 0];
	size_t before = rs->n;
	int ok = 0;

	if (!lg_ruleset_cache_envelope(rs, buf, len, lens))
		goto out;
	l1 = lens[0];
	l2 = lens[1];
	l3 = lens[2];
	if (rs->pending) {
		/* The layer's rules come from the entry: no JSON is parsed. */
		l->first = rs->n;
		if (lg_ruleset_table_read(rs, u + LG_CACHE_HDR + l1 + l2, (size_t)l3) < 0)
			goto out;
		l->n = rs->n - l->first;
	} else if (l3 < 8 || get_u64(u + LG_CACHE_HDR + l1 + l2) != l->n) {
		goto out;
	}
	if ((l1 && hs_deserialize_database(buf + LG_CACHE_HDR, l1, &c) != HS_SUCCESS) ||
	    (l2 && hs_deserialize_database(buf + LG_CACHE_HDR + l1, l2, &p) != HS_SUCCESS))
		goto out;
	/* An empty entry must mean that the layer has no such rules. */
	for (size_t i = l->first; i < l->first + l->n; i++) {
		if (rs->rules[i]->pattern && !c)
			goto out;
		if (rs->rules[i]->path_pattern && !p)
			goto out;
	}
	l->content_db = c;
	l->path_db = p;
	l->from_cache = 1;
	c = p = NULL;
	ok = 1;
out:
	if (!ok && rs->pending)
		drop_rules_from(rs, before);
	hs_free_database(c);
	hs_free_database(p);
	return ok;
}

/* Store the databases and the rule table; written to a temporary name, then renamed. */
struct cache_entry {
	char *path;
	struct timespec mtime; /* to the nanosecond: many entries can be written in one second */
};

static int cmp_newest(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
	return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec < y->mtime.tv_nsec;
}

/*
 * Keep the LG_CACHE_KEEP entries used last (cache_load touches an entry it
 * loads); remove older ones and stale temporary files.
 */
static void cache_prune(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct cache_entry *v = NULL;
	size_t n = 0, cap = 0;
	time_t now = time(NULL);

	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		/* Entries are HASH.hsdb; lg_file_write_atomic's temporary files .HASH.hsdb.XXXXXX. */
		int temp = de->d_name[0] == '.' && strstr(de->d_name, ".hsdb.") != NULL;
		int entry = !temp && de->d_name[0] != '.' && l > 5 && !strcmp(de->d_name + l - 5, ".hsdb");
		struct stat st;
		char *path = NULL;
		if ((!entry && !temp) || asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			continue;
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
			free(path);
			continue;
		}
		if (temp) {
			if (now - st.st_mtime > 3600)
				unlink(path);
			free(path);
			continue;
		}
		if (lg_array_reserve((void **)&v, &cap, n + 1, sizeof(*v), 1u << 16)) {
			free(path);
			break;
		}
		v[n].path = path;
		v[n++].mtime = st.st_mtim;
	}
	if (d)
		closedir(d);
	if (n > LG_CACHE_KEEP) {
		qsort(v, n, sizeof(*v), cmp_newest);
		for (size_t i = LG_CACHE_KEEP; i < n; i++)
			unlink(v[i].path);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/*
 * Write the entry: lg_file_write_atomic (a private temporary file that no
 * other account could have prepared, mode 0600 whatever the folder's,
 * renamed into place once complete).
 */
static void cache_store(struct lg_ruleset *rs, const struct lg_layer *l, const char *dir, const char *file)
{
	char *s1 = NULL, *s2 = NULL;
	size_t l1 = 0, l2 = 0;
	unsigned char *hdr, *body = NULL;
	struct wbuf table = {0};

	if (!rs->have_cache_key)
		return;
	if ((l->content_db && hs_serialize_database(l->content_db, &s1, &l1) != HS_SUCCESS) ||
	    (l->path_db && hs_serialize_database(l->path_db, &s2, &l2) != HS_SUCCESS))
		goto out;
	table_write(rs, l, &table);
	if (table.oom || !(body = malloc(LG_CACHE_HDR + l1 + l2 + table.n + 1)))
		goto out;
	hdr = body;
	/* A layer without path rules (or without content rules) has no database: no bytes, no pointer. */
	if (l1)
		memcpy(body + LG_CACHE_HDR, s1, l1);
	if (l2)
		memcpy(body + LG_CACHE_HDR + l1, s2, l2);
	if (table.n)
		memcpy(body + LG_CACHE_HDR + l1 + l2, table.p, table.n);
	memset(hdr, 0, LG_CACHE_HDR);
	memcpy(hdr, LG_CACHE_MAGIC, 8);
	memcpy(hdr + 8, l->hash, 64);
	put_u64(hdr + 72, l1);
	put_u64(hdr + 80, l2);
	put_u64(hdr + 88, table.n);
	if (cache_mac(rs, hdr, body + LG_CACHE_HDR, l1 + l2 + table.n, hdr + LG_CACHE_MAC_AT))
		goto out;
	/* A cache that cannot be written costs the next program a compile, nothing else. */
	if (lg_file_write_atomic(file, body, LG_CACHE_HDR + l1 + l2 + table.n, 0600, 0, NULL) == LG_OK)
		cache_prune(dir);
out:
	free(body);
	free(s1);
	free(s2);
	free(table.p);
}

/* Parse the packs of one layer recorded in lazy mode. */
static int parse_layer(struct lg_ruleset *rs, unsigned layer, struct lg_diag *d)
{
	int err = LG_OK;

	for (size_t i = 0; i < rs->nsrcs; i++) {
		int e;
		if (rs->srcs[i].layer != layer)
			continue;
		e = parse_pack(rs, rs->srcs[i].name, rs->srcs[i].data, rs->srcs[i].len, layer, d);
		if (e && !err)
			err = e;
	}
	return err;
}

/* Every id once across the layers (a cached layer was not checked against the others). */
static int check_unique(const struct lg_ruleset *rs, struct lg_diag *d)
{
	size_t cap = 64, mask;
	const struct lg_rule **set;
	int err = LG_OK;

	while (cap < rs->n * 2)
		cap *= 2;
	mask = cap - 1;
	if (!(set = calloc(cap, sizeof(*set))))
		return LG_ENOMEM;
	for (size_t i = 0; i < rs->n; i++) {
		const struct lg_rule *r = rs->rules[i];
		size_t h = 5381;
		for (const char *c = r->id; *c; c++)
			h = h * 33 + (unsigned char)*c;
		for (h &= mask; set[h]; h = (h + 1) & mask) {
			if (!strcmp(set[h]->id, r->id)) {
				lg_diag_add(d, r->pack, r->id, "id", "duplicates a rule already loaded (from %s)",
					    set[h]->pack);
				err = LG_EINVALID;
				break;
			}
		}
		if (!set[h])
			set[h] = r;
	}
	free(set);
	return err;
}

/* The disabled ids, applied to the rules as loaded. */
static int apply_disabled(struct lg_ruleset *rs, struct lg_diag *d)
{
	for (size_t i = 0; i < rs->ndisabled; i++) {
		struct lg_rule *r = (struct lg_rule *)find_rule(rs, rs->disabled[i]);
		if (!r && rs->lenient)
			continue;
		if (!r) {
			lg_diag_add(d, NULL, rs->disabled[i], NULL, "cannot disable: no rule has this id");
			return LG_ENOTFOUND;
		}
		r->enabled = 0;
	}
	return LG_OK;
}

/* Build one layer's databases; its rules are parsed. */
static int build_layer(struct lg_ruleset *rs, struct lg_layer *l, struct lg_diag *d)
{
	int err, bad = 0;

	/* Validate with PCRE2 too: it extracts the secret at scan time. */
	for (size_t i = l->first; i < l->first + l->n; i++) {
		const struct lg_rule *r = rs->rules[i];
		if (r->pattern && check_pcre2(r, r->pattern, "pattern", d))
			bad = 1;
		if (r->path_pattern && check_pcre2(r, r->path_pattern, "path", d))
			bad = 1;
	}
	if (bad)
		return LG_EINVALID;
	err = build_db(rs, l, 0, &l->content_db, d);
	if (!err)
		err = build_db(rs, l, 1, &l->path_db, d);
	if (err) {
		hs_free_database(l->content_db);
		l->content_db = NULL;
	}
	return err;
}

int lg_ruleset_compile(struct lg_ruleset *rs, const char *cache_dir, int *from_cache,
		       struct lg_diag *d)
{
	char *file = NULL;
	int err = LG_OK, all_cached = 1;

	if (from_cache)
		*from_cache = 0;
	if (rs->compiled)
		return LG_OK;
	compute_hash(rs);
	rs->nlayers = rs->nsrcs && rs->srcs[rs->nsrcs - 1].layer == 1 ? 2 : 1;
	for (unsigned k = 0; k < rs->nlayers; k++) {
		struct lg_layer *l = &rs->layers[k];
		int have_sources = 0;

		for (size_t i = 0; i < rs->nsrcs; i++)
			have_sources |= rs->srcs[i].layer == k;
		layer_hash(rs, k, l->hash);
		if (!rs->pending) {
			/* Parsed already (not lazy): the layer's rules are in place. */
			l->first = l->n = 0;
			for (size_t i = 0; i < rs->n; i++)
				if (rs->rules[i]->layer == k) {
					if (!l->n)
						l->first = i;
					l->n++;
				}
		}
		if (!have_sources && !l->n)
			continue;
		free(file);
		file = NULL;
		if (cache_dir && rs->have_cache_key && asprintf(&file, "%s/%s.hsdb", cache_dir, l->hash) < 0)
			file = NULL;
		rs->loading = k;
		if (file && cache_load(rs, file))
			continue;
		all_cached = 0;
		if (rs->pending) {
			l->first = rs->n;
			if ((err = parse_layer(rs, k, d)))
				goto out;
			l->n = rs->n - l->first;
		}
		if ((err = build_layer(rs, l, d)))
			goto out;
		if (file)
			cache_store(rs, l, cache_dir, file);
	}
	if (rs->pending) {
		rs->pending = 0;
		for (unsigned k = 0; k < rs->nlayers; k++)
			rs->lite |= rs->layers[k].from_cache;
	}
	if (rs->n == 0) {
		lg_diag_add(d, NULL, NULL, NULL, "no rules to scan with");
		err = LG_EINVALID;
		goto out;
	}
	if ((err = check_unique(rs, d)) || (err = apply_disabled(rs, d)))
		goto out;
	if (from_cache)
		*from_cache = all_cached;
	rs->compiled = 1;
out:
	free(file);
	return err;
}

const struct lg_layer *lg_rule_layer(const struct lg_ruleset *rs, const struct lg_rule *r)
{
	return &rs->layers[r->layer < LG_LAYERS ? r->layer : 0];
}

int lg_rule_prepare_code(struct lg_ruleset *rs, struct lg_rule *r)
{
	int err = LG_OK;

	pthread_mutex_lock(&rs->lock);
	if (r->code_ready)
		goto out;
	if (r->code_failed) {
		err = LG_EINVALID;
		goto out;
	}
	{
		int code;
		PCRE2_SIZE off;
		r->code = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED, pcre2_flags(r),
					&code, &off, NULL);
		if (!r->code) {
			r->code_failed = 1;
			err = LG_EINVALID;
			goto out;
		}
		/* Without JIT (unsupported CPU) the interpreter still gives the same answers. */
		pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
		r->code_ready = 1;
	}
out:
	pthread_mutex_unlock(&rs->lock);
	return err;
}

const char *lg_ruleset_hash(const struct lg_ruleset *rs)
{
	return rs->hash;
}

size_t lg_ruleset_count(const struct lg_ruleset *rs)
{
	return rs->n;
}

const struct lg_rule *lg_ruleset_rule(const struct lg_ruleset *rs, size_t i)
{
	return i < rs->n ? rs->rules[i] : NULL;
}

const struct lg_rule *lg_ruleset_find(const struct lg_ruleset *rs, const char *id)
{
	return find_rule(rs, id);
}

const char *lg_rule_id(const struct lg_rule *r) { return r->id; }
const char *lg_rule_name(const struct lg_rule *r) { return r->name; }
const char *lg_rule_description(const struct lg_rule *r) { return r->description; }
const char *lg_rule_remediation(const struct lg_rule *r) { return r->remediation; }
const char *lg_rule_pack(const struct lg_rule *r) { return r->pack; }
const char *lg_rule_pattern(const struct lg_rule *r) { return r->pattern; }
const char *lg_rule_path_pattern(const struct lg_rule *r) { return r->path_pattern; }
enum lg_severity lg_rule_severity(const struct lg_rule *r) { return r->severity; }
enum lg_confidence lg_rule_confidence(const struct lg_rule *r) { return r->confidence; }

const char *lg_confidence_name(enum lg_confidence c)
{
	switch (c) {
	case LG_CONF_HIGH: return "high";
	case LG_CONF_MEDIUM: return "medium";
	case LG_CONF_LOW: return "low";
	}
	return "unknown";
}
int lg_rule_enabled(const struct lg_rule *r) { return r->enabled; }
size_t lg_rule_index(const struct lg_rule *r) { return r->index; }

const char *lg_severity_name(enum lg_severity s)
{
	switch (s) {
	case LG_SEV_CRITICAL: return "critical";
	case LG_SEV_HIGH: return "high";
	case LG_SEV_MEDIUM: return "medium";
	case LG_SEV_LOW: return "low";
	}
	return "unknown";
}

size_t lg_rule_example_count(const struct lg_rule *r, int positive)
{
	return positive ? r->npos : r->nneg;
}

void lg_rule_example(const struct lg_rule *r, int positive, size_t i, const char **path,
		     const char **text, size_t *len)
{
	const struct lg_example *e = positive ? &r->pos[i] : &r->neg[i];
	*path = e->path;
	*text = e->text;
	*len = e->len;
}
