/*
 * The usual way a program gets its rule set: built-in packs, extra packs,
 * disabled rules, compiled through the on-disk cache.
 */
#ifndef LG_LOADER_H
#define LG_LOADER_H

#include <stddef.h>

#include "fingerprint.h"
#include "ruleset.h"

struct lg_load_opts {
	const char *const *packs; /* extra pack files or directories */
	size_t npacks;
	int no_builtin;            /* leave out the built-in packs */
	const char *const *disabled; /* rule ids to turn off */
	size_t ndisabled;
	const char *cache_dir;     /* NULL: lg_cache_dir_default(); "": no cache */
	int lenient_disable;       /* ignore disabled ids that match no rule */
	const char *extra_json;    /* one more pack, in memory (the store's custom rules) */
	const char *extra_name;
	/*
	 * The key that authenticates the cache's entries; NULL: the default
	 * fingerprint key (lg_key_default_path), created when missing.
	 */
	const struct lg_key *cache_key;
};

/*
 * Load and compile. On failure *out is NULL and d holds every problem.
 * The caller frees the rule set with lg_ruleset_free().
 */
int lg_ruleset_load(struct lg_ruleset **out, const struct lg_load_opts *o, int *from_cache,
		    struct lg_diag *d);

/*
 * $LEAKGATE_CACHE_DIR, else the cache folder (paths.h: ~/.cache/leakgate).
 * Caller frees.
 */
char *lg_cache_dir_default(void);

/*
 * A leakgate program: next to the running one, in the build tree
 * (../hooks/NAME), or in bindir. Caller frees; NULL when not found.
 */
char *lg_find_program(const char *name, const char *bindir);

#endif
