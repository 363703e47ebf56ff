/*
 * The rule and rule-set bodies, shared by ruleset.c and scanner.c only.
 */
#ifndef LG_RULESET_INTERNAL_H
#define LG_RULESET_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <jansson.h>
#include <pcre2.h>

#include "ruleset.h"

/*
 * A rule's offline check of its secret (filter.h). The number is stored in
 * the compiled cache's rule table: append new ones, never renumber, and
 * change LG_CACHE_MAGIC when the list grows.
 */
enum lg_validator {
	LG_VALIDATOR_NONE,
	LG_VALIDATOR_GITHUB_CRC32,
	LG_VALIDATOR_JWT,
	LG_VALIDATOR_PYPI_MACAROON,
	LG_VALIDATOR_AZURE_STORAGE_KEY,
	LG_VALIDATOR_JWT_BASE64,
	LG_VALIDATOR_COUNT /* not a validator: one past the last */
};

/*
 * The highest capture group a rule may name as its secret: the scanner's
 * PCRE2 match data holds this many groups besides the whole match.
 */
#define LG_SECRET_GROUP_MAX 99
/* Bits per character: min_entropy is from 0 to this. */
#define LG_ENTROPY_MAX 8

struct lg_example {
	char *path; /* may be NULL */
	char *text;
	size_t len;
};

struct lg_rule {
	char *id, *name, *description, *remediation, *pack;
	char *pattern;      /* content pattern, or NULL */
	char *path_pattern; /* path pattern, or NULL */
	enum lg_severity severity;
	unsigned secret_group;
	unsigned layer;
	int caseless;
	double min_entropy;
	enum lg_validator validator;
	int placeholder_check;
	enum lg_confidence confidence;
	int generic; /* yields to specific rules that find the same bytes */
	int enabled;
	size_t index;
	struct lg_example *pos, *neg;
	size_t npos, nneg;

	/*
	 * PCRE2 form of the content pattern, compiled and JIT-compiled on the
	 * first candidate so that a push with no candidates pays nothing.
	 * Guarded by the rule set's lock until code_ready is set.
	 */
	pcre2_code *code;
	int code_ready;
	int code_failed;
};

struct lg_source {
	char *name;
	char *data;
	size_t len;
	unsigned layer;
};

/*
 * The rule set is compiled in layers, each a Hyperscan database of its
 * own cached under the hash of its own sources: the built-in packs (large,
 * the same for every program of a release) and everything else (packs
 * from the settings, the store's custom rules: small). Adding a custom
 * rule compiles only the second; turning a rule off or on compiles
 * nothing: disabled rules stay in the databases and are skipped when they
 * match. Hyperscan ids are local to their layer.
 */
#define LG_LAYERS 2
struct lg_layer {
	size_t first, n;           /* rules[first .. first + n) */
	hs_database_t *content_db; /* NULL when no rule of the layer has a pattern */
	hs_database_t *path_db;    /* NULL when no rule of the layer has a path */
	char hash[65];
	int from_cache;
};

struct lg_ruleset {
	struct lg_rule **rules;
	size_t n, cap;
	/*
	 * The packs as given, in order, and the ids turned off: together they
	 * decide the rule set, and their hash names the compiled cache. In
	 * lazy mode they are parsed only when the cache has no entry; a cache
	 * hit loads a compact rule table instead (rules without examples).
	 */
	struct lg_source *srcs;
	size_t nsrcs, capsrcs;
	char **disabled;
	size_t ndisabled, capdisabled;
	int lazy, pending, lite, lenient;
	int adding_builtin;
	struct lg_layer layers[LG_LAYERS];
	size_t nlayers;
	unsigned loading; /* the layer whose cache entry is being read */
	int compiled;
	char hash[65];
	pthread_mutex_t lock;
	/*
	 * A Hyperscan scratch made ahead of time (lg_ruleset_prepare_scratch)
	 * that the first scanner takes instead of allocating its own.
	 */
	hs_scratch_t *spare;
	int spare_taken;
	/* The compiled cache's MAC key (lg_ruleset_set_cache_key); no key, no cache. */
	unsigned char cache_key[32];
	int have_cache_key;
};

/*
 * The compiled cache's readers, for the loader and the fuzz harnesses: an
 * entry from memory (1 when it was used, 0 for a miss of any kind), and
 * the compact rule table inside it (0, or -1 leaving no rules).
 */
int lg_ruleset_cache_read(struct lg_ruleset *rs, const char *buf, size_t len);
/*
 * The check an entry must pass before the databases in it reach Hyperscan
 * (which trusts what it deserializes): magic, the hash of the layer being
 * loaded (rs->loading), lengths that add up to len (into lens: content
 * database, path database, rule table), and the HMAC under the cache key
 * (no key, no entry). 1 when it holds, else 0.
 */
int lg_ruleset_cache_envelope(const struct lg_ruleset *rs, const char *buf, size_t len,
			      uint64_t lens[3]);
int lg_ruleset_table_read(struct lg_ruleset *rs, const unsigned char *p, size_t len);
/* The layer a rule belongs to. */
const struct lg_layer *lg_rule_layer(const struct lg_ruleset *rs, const struct lg_rule *r);

/* Compile (once) the PCRE2 form of rule r; 0 or LG_EINVALID. Thread-safe. */
int lg_rule_prepare_code(struct lg_ruleset *rs, struct lg_rule *r);

#endif
