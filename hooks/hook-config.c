/*
 * Hook settings from git config files, read with libgit2 without opening
 * the repository, so that even a repository libgit2 cannot open (a
 * SHA-256 one, a damaged one) still gets its administrator's fail mode.
 *
 * Each key has a type and a range. A value is parsed here, not by the
 * libgit2 getters (whose failure looks the same as a missing key), so that
 * a typo such as `allowBypass = flase` is reported instead of meaning the
 * default.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <git2.h>

#include "hook-config.h"
#include "policy.h"

enum kind { K_MODE, K_BLOCK, K_SECONDS, K_SIZE, K_BOOL, K_COUNT, K_LIST, K_PATH };

static const struct {
	const char *name;  /* as documented */
	enum kind kind;
	int64_t min, max;
	const char *env;   /* environment variable that wins, or NULL */
} keys[HK_COUNT] = {
	[HK_FAIL_MODE] = {"leakgate.failMode", K_MODE, 0, 0, NULL},
	[HK_TIMEOUT] = {"leakgate.timeout", K_SECONDS, 1, 86400, NULL},
	[HK_MAX_BLOB_SIZE] = {"leakgate.maxBlobSize", K_SIZE, 1, (int64_t)1 << 40, NULL},
	[HK_SCAN_BINARY] = {"leakgate.scanBinary", K_BOOL, 0, 1, NULL},
	[HK_ARCHIVE_DEPTH] = {"leakgate.archiveDepth", K_COUNT, 0, LG_ARCHIVE_DEPTH_MAX, NULL},
	[HK_MAX_ARCHIVE_SIZE] = {"leakgate.maxArchiveSize", K_SIZE, 1, (int64_t)1 << 40, NULL},
	[HK_MAX_ARCHIVE_MEMBERS] = {"leakgate.maxArchiveMembers", K_COUNT, 1, 100000000, NULL},
	[HK_DECODE] = {"leakgate.decode", K_BOOL, 0, 1, NULL},
	[HK_ALLOW_BYPASS] = {"leakgate.allowBypass", K_BOOL, 0, 1, NULL},
	[HK_MAX_REPORT] = {"leakgate.maxReport", K_COUNT, 1, 1000, NULL},
	[HK_THREADS] = {"leakgate.threads", K_COUNT, 1, 64, NULL},
	[HK_BLOCK] = {"leakgate.block", K_BLOCK, 0, 0, NULL},
	[HK_RULES] = {"leakgate.rules", K_LIST, 0, 0, NULL},
	[HK_DISABLE_RULE] = {"leakgate.disableRule", K_LIST, 0, 0, NULL},
	[HK_DB] = {"leakgate.db", K_PATH, 0, 0, "LEAKGATE_DB"},
	[HK_KEY_FILE] = {"leakgate.keyFile", K_PATH, 0, 0, "LEAKGATE_KEY_FILE"},
	[HK_CACHE_DIR] = {"leakgate.cacheDir", K_PATH, 0, 0, "LEAKGATE_CACHE_DIR"},
};

static enum hook_source source_of(git_config_level_t level)
{
	switch (level) {
	case GIT_CONFIG_LEVEL_PROGRAMDATA:
	case GIT_CONFIG_LEVEL_SYSTEM: return HS_SYSTEM;
	case GIT_CONFIG_LEVEL_XDG: return HS_XDG;
	case GIT_CONFIG_LEVEL_GLOBAL: return HS_GLOBAL;
	default: return HS_REPOSITORY;
	}
}

static void problem(struct hook_config *c, enum hook_key k, struct lg_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void problem(struct hook_config *c, enum hook_key k, struct lg_diag *d, const char *fmt, ...)
{
	struct hook_setting *s = &c->settings[k];
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!s->problem) {
		s->problem = strdup(msg);
		c->ninvalid++;
	}
	lg_diag_add(d, NULL, NULL, keys[k].name, "'%s' %s", s->value ? s->value : "", msg);
}

/* The winning entry of a single-valued key, recorded in c; NULL when unset. */
static const char *get_single(struct hook_config *c, git_config *cfg, enum hook_key k)
{
	git_config_entry *e = NULL;
	struct hook_setting *s = &c->settings[k];

	if (git_config_get_entry(&e, cfg, keys[k].name) < 0 || !e)
		return NULL;
	s->value = strdup(e->value ? e->value : "");
	s->source = source_of(e->level);
	git_config_entry_free(e);
	return s->value;
}

struct multi {
	struct hook_config *c;
	enum hook_key k;
	char **v;
	size_t *n;
	int too_many, empty;
};

static int add_multi(const git_config_entry *e, void *payload)
{
	struct multi *m = payload;
	struct hook_setting *s = &m->c->settings[m->k];

	free(s->value);
	s->value = strdup(e->value ? e->value : "");
	s->source = source_of(e->level);
	if (!e->value || !*e->value) {
		m->empty = 1;
		return 0;
	}
	if (*m->n == HOOK_LIST_MAX) {
		m->too_many = 1;
		return 0;
	}
	if (!(m->v[*m->n] = strdup(e->value)))
		return -1;
	(*m->n)++;
	return 0;
}

static void load_list(struct hook_config *c, git_config *cfg, enum hook_key k, char **v, size_t *n,
		      struct lg_diag *d)
{
	struct multi m = {c, k, v, n, 0, 0};
	int rc = git_config_get_multivar_foreach(cfg, keys[k].name, NULL, add_multi, &m);

	if (rc < 0 && rc != GIT_ENOTFOUND)
		problem(c, k, d, "cannot be read: %s", git_error_last() ? git_error_last()->message : "error");
	else if (m.empty)
		problem(c, k, d, "is empty: give a value, or remove the key");
	else if (m.too_many)
		problem(c, k, d, "is given more than %d times", HOOK_LIST_MAX);
}

static int is_known(const char *name)
{
	for (int k = 0; k < HK_COUNT; k++)
		if (!strcasecmp(keys[k].name, name))
			return 1;
	return 0;
}

static int note_unknown(const git_config_entry *e, void *payload)
{
	struct hook_config *c = payload;
	char *name;

	/* Config names are case-insensitive in their section. */
	if (strncasecmp(e->name, "leakgate.", 9) || is_known(e->name))
		return 0;
	for (size_t i = 0; i < c->unknown.n; i++)
		if (!strcasecmp(LG_VEC_AT(&c->unknown, char *, i), e->name))
			return 0;
	if (!(name = strdup(e->name)) || lg_vec_push(&c->unknown, &name)) {
		free(name);
		return -1;
	}
	c->ninvalid++;
	return 0;
}

static char *path_from(struct hook_config *c, git_config *cfg, enum hook_key k, struct lg_diag *d)
{
	const char *e = getenv(keys[k].env), *v;
	struct hook_setting *s = &c->settings[k];

	if (e && *e) {
		free(s->value);
		s->value = strdup(e);
		s->source = HS_ENV;
		return strdup(e);
	}
	if (!cfg || !(v = get_single(c, cfg, k)))
		return NULL;
	if (!*v) {
		problem(c, k, d, "is empty: give a path, or remove the key");
		return NULL;
	}
	return strdup(v);
}

int hook_config_load(struct hook_config *c, const char *git_dir, struct lg_diag *d)
{
	git_config *cfg = NULL;
	char *path = NULL;
	const char *v;
	int64_t n;
	int b, err = LG_OK;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof(*c));
	lg_vec_init(&c->unknown, sizeof(char *), 1000);
	for (int k = 0; k < HK_COUNT; k++)
		c->settings[k].key = keys[k].name;
	c->max_blob_size = HOOK_DEFAULT_MAX_BLOB;
	c->timeout = HOOK_DEFAULT_TIMEOUT;
	c->allow_bypass = 1;
	c->max_report = HOOK_DEFAULT_MAX_REPORT;
	c->threads = cores < 1 ? 1 : cores > 4 ? 4 : (int)cores;
	c->block = BLOCK_MEDIUM;
	lg_unpack_defaults(&c->unpack);

	if (git_config_open_default(&cfg) < 0 && git_config_new(&cfg) < 0) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot read the git configuration: %s",
			    git_error_last() ? git_error_last()->message : "unknown error");
		err = LG_ERROR;
		cfg = NULL;
		goto env;
	}
	if (git_dir && asprintf(&path, "%s/config", git_dir) >= 0) {
		if (access(path, F_OK) == 0 &&
		    (access(path, R_OK) < 0 || git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_LOCAL, NULL, 1) < 0)) {
			lg_diag_add(d, path, NULL, NULL, "cannot read the repository's configuration: %s",
				    access(path, R_OK) < 0 ? strerror(errno)
				    : git_error_last()  ? git_error_last()->message
							: "unknown error");
			err = LG_ERROR;
		}
	}
	free(path);

	/* A failMode that cannot be read is closed: the safe side. */
	if ((v = get_single(c, cfg, HK_FAIL_MODE))) {
		if (!strcasecmp(v, "open"))
			c->fail_open = 1;
		else if (strcasecmp(v, "closed"))
			problem(c, HK_FAIL_MODE, d, "is neither 'open' nor 'closed'; using closed");
	}
	if ((v = get_single(c, cfg, HK_TIMEOUT))) {
		if (git_config_parse_int64(&n, v) < 0 || n < keys[HK_TIMEOUT].min || n > keys[HK_TIMEOUT].max)
			problem(c, HK_TIMEOUT, d, "is not a number of seconds from 1 to 86400; using %d",
				HOOK_DEFAULT_TIMEOUT);
		else
			c->timeout = (int)n;
	}
	if ((v = get_single(c, cfg, HK_MAX_BLOB_SIZE))) {
		if (git_config_parse_int64(&n, v) < 0 || n < 1 || n > keys[HK_MAX_BLOB_SIZE].max)
			problem(c, HK_MAX_BLOB_SIZE, d,
				"is not a positive size in bytes (suffixes k, m, g); using %u", HOOK_DEFAULT_MAX_BLOB);
		else
			c->max_blob_size = (uint64_t)n;
	}
	if ((v = get_single(c, cfg, HK_SCAN_BINARY))) {
		if (git_config_parse_bool(&b, v) < 0)
			problem(c, HK_SCAN_BINARY, d, "is not a boolean (true or false); using false");
		else
			c->scan_binary = b;
	}
	/* Archive and decoding settings that cannot be read keep their defaults: everything is opened. */
	if ((v = get_single(c, cfg, HK_ARCHIVE_DEPTH))) {
		if (git_config_parse_int64(&n, v) < 0 || n < 0 || n > LG_ARCHIVE_DEPTH_MAX)
			problem(c, HK_ARCHIVE_DEPTH, d, "is not a number from 0 to %d; using %d", LG_ARCHIVE_DEPTH_MAX,
				LG_ARCHIVE_DEPTH_DEFAULT);
		else
			c->unpack.archive_depth = (unsigned)n;
	}
	if ((v = get_single(c, cfg, HK_MAX_ARCHIVE_SIZE))) {
		if (git_config_parse_int64(&n, v) < 0 || n < 1 || n > keys[HK_MAX_ARCHIVE_SIZE].max)
			problem(c, HK_MAX_ARCHIVE_SIZE, d, "is not a positive size in bytes (suffixes k, m, g); using %llu",
				(unsigned long long)LG_ARCHIVE_MAX_DEFAULT);
		else
			c->unpack.archive_max = (uint64_t)n;
	}
	if ((v = get_single(c, cfg, HK_MAX_ARCHIVE_MEMBERS))) {
		if (git_config_parse_int64(&n, v) < 0 || n < 1 || n > keys[HK_MAX_ARCHIVE_MEMBERS].max)
			problem(c, HK_MAX_ARCHIVE_MEMBERS, d, "is not a number from 1 to %lld; using %d",
				(long long)keys[HK_MAX_ARCHIVE_MEMBERS].max, LG_ARCHIVE_MEMBERS_DEFAULT);
		else
			c->unpack.archive_members = (uint64_t)n;
	}
	if ((v = get_single(c, cfg, HK_DECODE))) {
		if (git_config_parse_bool(&b, v) < 0)
			problem(c, HK_DECODE, d, "is not a boolean (true or false); using true");
		else
			c->unpack.decode = b;
	}
	/* An allowBypass that cannot be read never allows a bypass. */
	if ((v = get_single(c, cfg, HK_ALLOW_BYPASS))) {
		if (git_config_parse_bool(&b, v) < 0) {
			c->allow_bypass = 0;
			problem(c, HK_ALLOW_BYPASS, d, "is not a boolean (true or false); no bypass is allowed");
		} else {
			c->allow_bypass = b;
		}
	}
	if ((v = get_single(c, cfg, HK_MAX_REPORT))) {
		if (git_config_parse_int64(&n, v) < 0 || n < 1 || n > 1000)
			problem(c, HK_MAX_REPORT, d, "is not a number from 1 to 1000; using %d",
				HOOK_DEFAULT_MAX_REPORT);
		else
			c->max_report = (int)n;
	}
	if ((v = get_single(c, cfg, HK_THREADS))) {
		if (git_config_parse_int64(&n, v) < 0 || n < 1 || n > 64)
			problem(c, HK_THREADS, d, "is not a number from 1 to 64; using %d", c->threads);
		else
			c->threads = (int)n;
	}
	/* A block level that cannot be read blocks everything: the safe side. */
	if ((v = get_single(c, cfg, HK_BLOCK))) {
		int found = 0;
		for (int l = BLOCK_LOW; l <= BLOCK_ALL && !found; l++)
			if (!strcasecmp(v, policy_block_name((enum policy_block)l))) {
				c->block = l;
				found = 1;
			}
		if (!found) {
			c->block = BLOCK_ALL;
			problem(c, HK_BLOCK, d, "is none of 'high', 'medium', 'low', 'all'; every finding blocks");
		}
	}
	if (git_config_get_bool(&b, cfg, "receive.advertisepushoptions") == 0)
		c->advertise_options = b;
	load_list(c, cfg, HK_RULES, c->packs, &c->npacks, d);
	load_list(c, cfg, HK_DISABLE_RULE, c->disabled, &c->ndisabled, d);
	/*
	 * Every entry, filtered by name in note_unknown: libgit2 1.5's regex
	 * match (git_config_foreach_match) leaks its match data on every entry
	 * that does not match.
	 */
	if (git_config_foreach(cfg, note_unknown, c) < 0) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot list the leakgate settings");
		err = LG_ERROR;
	}
	for (size_t i = 0; i < c->unknown.n; i++)
		lg_diag_add(d, NULL, NULL, LG_VEC_AT(&c->unknown, char *, i),
			    "is not a leakgate setting (a typo?): see the README for the settings");
env:
	c->db_path = path_from(c, cfg, HK_DB, d);
	c->key_file = path_from(c, cfg, HK_KEY_FILE, d);
	c->cache_dir = path_from(c, cfg, HK_CACHE_DIR, d);
	git_config_free(cfg);
	c->unpack.member_max = c->max_blob_size;
	c->unpack.scan_binary = c->scan_binary;
	if (err)
		return err;
	return c->ninvalid ? LG_EINVALID : LG_OK;
}

void hook_config_release(struct hook_config *c)
{
	for (size_t i = 0; i < c->npacks; i++)
		free(c->packs[i]);
	for (size_t i = 0; i < c->ndisabled; i++)
		free(c->disabled[i]);
	for (int k = 0; k < HK_COUNT; k++) {
		free(c->settings[k].value);
		free(c->settings[k].problem);
	}
	for (size_t i = 0; i < c->unknown.n; i++)
		free(LG_VEC_AT(&c->unknown, char *, i));
	lg_vec_release(&c->unknown);
	free(c->cache_dir);
	free(c->key_file);
	free(c->db_path);
	memset(c, 0, sizeof(*c));
}

void hook_source_describe(const struct hook_config *c, const struct hook_setting *s,
			  const char *git_dir, char *buf, size_t len)
{
	git_buf b = {0};
	int rc = -1;
	int k = (int)(s - c->settings);

	switch (s->source) {
	case HS_DEFAULT:
		snprintf(buf, len, "default");
		return;
	case HS_ENV:
		snprintf(buf, len, "environment (%s)", k >= 0 && k < HK_COUNT && keys[k].env ? keys[k].env : "?");
		return;
	case HS_REPOSITORY:
		snprintf(buf, len, "repository (%s/config)", git_dir ? git_dir : ".");
		return;
	case HS_SYSTEM: rc = git_config_find_system(&b); break;
	case HS_XDG: rc = git_config_find_xdg(&b); break;
	case HS_GLOBAL: rc = git_config_find_global(&b); break;
	}
	snprintf(buf, len, "%s (%s)",
		 s->source == HS_SYSTEM ? "system" : s->source == HS_XDG ? "user" : "global",
		 rc == 0 && b.ptr ? b.ptr : "?");
	git_buf_dispose(&b);
}

void hook_config_effective(const struct hook_config *c, enum hook_key k, char *buf, size_t len)
{
	switch (k) {
	case HK_FAIL_MODE: snprintf(buf, len, "%s", c->fail_open ? "open" : "closed"); break;
	case HK_TIMEOUT: snprintf(buf, len, "%d", c->timeout); break;
	case HK_MAX_BLOB_SIZE: snprintf(buf, len, "%llu", (unsigned long long)c->max_blob_size); break;
	case HK_SCAN_BINARY: snprintf(buf, len, "%s", c->scan_binary ? "true" : "false"); break;
	case HK_ARCHIVE_DEPTH: snprintf(buf, len, "%u", c->unpack.archive_depth); break;
	case HK_MAX_ARCHIVE_SIZE: snprintf(buf, len, "%llu", (unsigned long long)c->unpack.archive_max); break;
	case HK_MAX_ARCHIVE_MEMBERS: snprintf(buf, len, "%llu", (unsigned long long)c->unpack.archive_members); break;
	case HK_DECODE: snprintf(buf, len, "%s", c->unpack.decode ? "true" : "false"); break;
	case HK_ALLOW_BYPASS: snprintf(buf, len, "%s", c->allow_bypass ? "true" : "false"); break;
	case HK_MAX_REPORT: snprintf(buf, len, "%d", c->max_report); break;
	case HK_THREADS: snprintf(buf, len, "%d", c->threads); break;
	case HK_BLOCK: snprintf(buf, len, "%s", policy_block_name((enum policy_block)c->block)); break;
	case HK_RULES:
	case HK_DISABLE_RULE: {
		char *const *v = k == HK_RULES ? c->packs : c->disabled;
		size_t n = k == HK_RULES ? c->npacks : c->ndisabled, o = 0;
		buf[0] = '\0';
		for (size_t i = 0; i < n && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", v[i]);
		if (n == 0)
			snprintf(buf, len, "(none)");
		break;
	}
	case HK_DB: snprintf(buf, len, "%s", c->db_path ? c->db_path : "(default)"); break;
	case HK_KEY_FILE: snprintf(buf, len, "%s", c->key_file ? c->key_file : "(default)"); break;
	case HK_CACHE_DIR: snprintf(buf, len, "%s", c->cache_dir ? c->cache_dir : "(default)"); break;
	default: snprintf(buf, len, "?"); break;
	}
}
