/*
 * Rule-set loading as every program does it, so that the CLI, the hook and
 * the daemon agree on what "the rules" are and share one compiled cache.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "loader.h"
#include "paths.h"

char *lg_find_program(const char *name, const char *bindir)
{
	/* Installed side by side, or in the build tree (hooks/, admin/ beside server/). */
	const char *cands[] = {"", "/../hooks", "/../admin"};
	char self[PATH_MAX], *slash, *p = NULL;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/'))) {
			*slash = '\0';
			for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
				if (asprintf(&p, "%s%s/%s", self, cands[i], name) < 0)
					return NULL;
				if (access(p, X_OK) == 0) {
					char *r = realpath(p, NULL);
					free(p);
					return r;
				}
				free(p);
			}
		}
	}
	if (asprintf(&p, "%s/%s", bindir, name) < 0)
		return NULL;
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	return NULL;
}

char *lg_cache_dir_default(void)
{
	const char *e = getenv("LEAKGATE_CACHE_DIR");

	if (e && *e)
		return strdup(e);
	return lg_dir_path(LG_DIR_CACHE, NULL);
}

int lg_ruleset_load(struct lg_ruleset **out, const struct lg_load_opts *o, int *from_cache,
		    struct lg_diag *d)
{
	struct lg_ruleset *rs = NULL;
	char *cache = NULL;
	int err;

	*out = NULL;
	err = lg_ruleset_new(&rs);
	if (err)
		return err;
	/* Parse the packs only if the cache has not seen them yet. */
	lg_ruleset_set_lazy(rs, 1);
	lg_ruleset_set_lenient(rs, o->lenient_disable);
	if (!o->no_builtin && (err = lg_ruleset_add_builtin(rs, d)))
		goto fail;
	for (size_t i = 0; i < o->npacks; i++) {
		int e = lg_ruleset_add_path(rs, o->packs[i], d);
		if (e && !err)
			err = e;
	}
	if (!err && o->extra_json)
		err = lg_ruleset_add_json(rs, o->extra_name ? o->extra_name : "custom", o->extra_json,
					  strlen(o->extra_json), d);
	if (err)
		goto fail;
	if (o->no_builtin && o->npacks == 0 && !o->extra_json) {
		lg_diag_add(d, NULL, NULL, NULL, "no rules to scan with (--no-builtin without --rules)");
		err = LG_EINVALID;
		goto fail;
	}
	for (size_t i = 0; i < o->ndisabled; i++) {
		if (lg_ruleset_disable(rs, o->disabled[i]) && !o->lenient_disable) {
			lg_diag_add(d, NULL, o->disabled[i], NULL, "cannot disable: no rule has this id");
			err = LG_ENOTFOUND;
			goto fail;
		}
	}
	if (!o->cache_dir)
		cache = lg_cache_dir_default();
	else if (o->cache_dir[0])
		cache = strdup(o->cache_dir);
	if (cache && lg_mkdir_p(cache, 0700)) {
		free(cache);
		cache = NULL;
	}
	if (cache) {
		char why[512];
		struct lg_key key;
		/* A cache another account can write could turn every rule off: refuse it. */
		if (lg_path_trusted(cache, why, sizeof(why)) == LG_EINVALID) {
			lg_diag_add(d, cache, NULL, NULL, "the compiled-rule cache folder is not trusted: %s", why);
			err = LG_EINVALID;
			goto fail;
		}
		if (o->cache_key) {
			lg_ruleset_set_cache_key(rs, o->cache_key->k, sizeof(o->cache_key->k));
		} else {
			char *kp = lg_key_default_path();
			/* Without a key the cache is not used: slower, never less safe. */
			if (kp && lg_key_load(&key, kp, 1, NULL) == 0)
				lg_ruleset_set_cache_key(rs, key.k, sizeof(key.k));
			free(kp);
		}
	}
	err = lg_ruleset_compile(rs, cache, from_cache, d);
	if (err)
		goto fail;
	free(cache);
	*out = rs;
	return LG_OK;
fail:
	free(cache);
	lg_ruleset_free(rs);
	return err;
}
