/*
 * Hook settings from git config files, read with libgit2 without opening
 * the repository, so that even a repository libgit2 cannot open (a
 * SHA-256 one, a damaged one) still gets its administrator's fail mode.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <git2.h>

#include "hook-config.h"

struct multi {
	char **v;
	size_t *n;
};

static int add_multi(const git_config_entry *e, void *payload)
{
	struct multi *m = payload;

	if (*m->n < HOOK_LIST_MAX && e->value && *e->value)
		m->v[(*m->n)++] = strdup(e->value);
	return 0;
}

static char *get_str(git_config *cfg, const char *key)
{
	git_buf b = {0};
	char *s = NULL;

	if (git_config_get_string_buf(&b, cfg, key) == 0 && b.ptr && *b.ptr)
		s = strdup(b.ptr);
	git_buf_dispose(&b);
	return s;
}

static char *env_or(const char *env, char *fallback)
{
	const char *e = getenv(env);

	if (e && *e) {
		free(fallback);
		return strdup(e);
	}
	return fallback;
}

int hook_config_load(struct hook_config *c, const char *git_dir, struct lg_diag *d)
{
	git_config *cfg = NULL;
	char *path = NULL, *mode;
	int64_t n;
	int b;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct multi m;

	memset(c, 0, sizeof(*c));
	c->max_blob_size = HOOK_DEFAULT_MAX_BLOB;
	c->timeout = HOOK_DEFAULT_TIMEOUT;
	c->allow_bypass = 1;
	c->max_report = HOOK_DEFAULT_MAX_REPORT;
	c->threads = cores < 1 ? 1 : cores > 4 ? 4 : (int)cores;

	if (git_config_open_default(&cfg) < 0 && git_config_new(&cfg) < 0) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot read git configuration");
		goto env;
	}
	if (git_dir && asprintf(&path, "%s/config", git_dir) >= 0 && access(path, R_OK) == 0)
		git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_LOCAL, NULL, 1);
	free(path);

	mode = get_str(cfg, "leakgate.failmode");
	if (mode) {
		if (!strcasecmp(mode, "open"))
			c->fail_open = 1;
		else if (strcasecmp(mode, "closed"))
			lg_diag_add(d, NULL, NULL, "leakgate.failMode",
				    "'%s' is neither 'open' nor 'closed'; using closed", mode);
		free(mode);
	}
	if (git_config_get_int64(&n, cfg, "leakgate.maxblobsize") == 0) {
		if (n > 0)
			c->max_blob_size = (uint64_t)n;
		else
			lg_diag_add(d, NULL, NULL, "leakgate.maxBlobSize", "must be positive");
	}
	if (git_config_get_int64(&n, cfg, "leakgate.timeout") == 0) {
		if (n > 0 && n <= 86400)
			c->timeout = (int)n;
		else
			lg_diag_add(d, NULL, NULL, "leakgate.timeout", "must be 1 to 86400 seconds");
	}
	if (git_config_get_int64(&n, cfg, "leakgate.maxreport") == 0 && n > 0 && n <= 1000)
		c->max_report = (int)n;
	if (git_config_get_int64(&n, cfg, "leakgate.threads") == 0 && n > 0 && n <= 64)
		c->threads = (int)n;
	if (git_config_get_bool(&b, cfg, "leakgate.allowbypass") == 0)
		c->allow_bypass = b;
	if (git_config_get_bool(&b, cfg, "leakgate.scanbinary") == 0)
		c->scan_binary = b;
	if (git_config_get_bool(&b, cfg, "receive.advertisepushoptions") == 0)
		c->advertise_options = b;
	m.v = c->packs;
	m.n = &c->npacks;
	git_config_get_multivar_foreach(cfg, "leakgate.rules", NULL, add_multi, &m);
	m.v = c->disabled;
	m.n = &c->ndisabled;
	git_config_get_multivar_foreach(cfg, "leakgate.disablerule", NULL, add_multi, &m);
	c->cache_dir = get_str(cfg, "leakgate.cachedir");
	c->key_file = get_str(cfg, "leakgate.keyfile");
	c->db_path = get_str(cfg, "leakgate.db");
	git_config_free(cfg);
env:
	c->cache_dir = env_or("LEAKGATE_CACHE_DIR", c->cache_dir);
	c->key_file = env_or("LEAKGATE_KEY_FILE", c->key_file);
	c->db_path = env_or("LEAKGATE_DB", c->db_path);
	return LG_OK;
}

void hook_config_release(struct hook_config *c)
{
	for (size_t i = 0; i < c->npacks; i++)
		free(c->packs[i]);
	for (size_t i = 0; i < c->ndisabled; i++)
		free(c->disabled[i]);
	free(c->cache_dir);
	free(c->key_file);
	free(c->db_path);
	memset(c, 0, sizeof(*c));
}
