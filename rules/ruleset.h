/*
 * A rule set: rules loaded from JSON packs, validated as a whole, then
 * compiled into Hyperscan databases (one over content, one over paths).
 * After lg_ruleset_compile() a rule set is read-only and may be shared by
 * any number of scanner threads.
 */
#ifndef LG_RULESET_H
#define LG_RULESET_H

#include <stddef.h>

#include "lg.h"

struct lg_ruleset;
struct lg_rule;

/* Hard caps on what a pack may hold; each is an error, not a truncation. */
#define LG_PACK_MAX_BYTES (8u << 20) /* one pack file */
#define LG_PATTERN_MAX 4096          /* one pattern, in bytes */
#define LG_RULES_MAX 4096            /* rules in one rule set */
#define LG_PACKS_MAX 1024            /* packs in one rule set */
#define LG_TEXT_MAX 8192             /* name, description, remediation */
#define LG_EXAMPLE_MAX 65536         /* one example text */

enum lg_severity { LG_SEV_LOW, LG_SEV_MEDIUM, LG_SEV_HIGH, LG_SEV_CRITICAL };
/*
 * How likely a match is a real secret: high for structured tokens (a
 * provider prefix, a checksum), medium for a provider's secret found by a
 * keyword next to it, low for generic assignments.
 */
enum lg_confidence { LG_CONF_LOW, LG_CONF_MEDIUM, LG_CONF_HIGH };

/* A new, empty rule set; the caller frees it with lg_ruleset_free(). */
int lg_ruleset_new(struct lg_ruleset **out);
void lg_ruleset_free(struct lg_ruleset *rs);

/*
 * Add the packs compiled into the program (rules/builtin/). Each pack is
 * validated completely: on any problem nothing of it is added, every
 * problem goes to d and the result is LG_EINVALID.
 */
int lg_ruleset_add_builtin(struct lg_ruleset *rs, struct lg_diag *d);
/* Add a pack from a file, or every *.json file of a directory (sorted). */
int lg_ruleset_add_path(struct lg_ruleset *rs, const char *path, struct lg_diag *d);
/* Add a pack from memory; name is used in diagnostics. */
int lg_ruleset_add_json(struct lg_ruleset *rs, const char *name, const char *text,
			size_t len, struct lg_diag *d);
/*
 * Lazy mode: packs added from now on are only recorded; they are parsed at
 * compile time, and only when the compiled cache has no entry for them (a
 * hit loads the rules from the cache, without their examples). Errors in
 * the packs then come from lg_ruleset_compile().
 */
void lg_ruleset_set_lazy(struct lg_ruleset *rs, int on);

/*
 * Allocate, ahead of time, the Hyperscan scratch space the first scanner
 * over rs will use (it costs a fraction of a millisecond for the built-in
 * pack: the hook server does it once before forking).
 */
int lg_ruleset_prepare_scratch(struct lg_ruleset *rs);
/* Lenient: disabling an id that matches no rule is not an error. */
void lg_ruleset_set_lenient(struct lg_ruleset *rs, int on);
/* 1 when the rules came from the cache without examples. */
int lg_ruleset_is_lite(const struct lg_ruleset *rs);
/* Turn a rule off before compiling; LG_ENOTFOUND if no rule has that id. */
int lg_ruleset_disable(struct lg_ruleset *rs, const char *id);

/*
 * The key that authenticates the compiled cache's entries (a MAC key of
 * its own is derived from it). Without one the cache is neither read nor
 * written.
 */
void lg_ruleset_set_cache_key(struct lg_ruleset *rs, const unsigned char *key, size_t len);

/*
 * Validate every pattern and build the Hyperscan databases. With a
 * cache_dir (and a cache key), a database serialized earlier under the
 * rule set's hash is loaded instead of compiling, when its MAC holds, and
 * a fresh compile is stored there (atomically, mode 0600; a cache that
 * cannot be written is not an error). *from_cache says which happened.
 */
int lg_ruleset_compile(struct lg_ruleset *rs, const char *cache_dir, int *from_cache,
		       struct lg_diag *d);

/* Hex SHA-256 of everything that decides matching (valid after compile). */
const char *lg_ruleset_hash(const struct lg_ruleset *rs);
size_t lg_ruleset_count(const struct lg_ruleset *rs);
/* Rule i (0 <= i < count); owned by the rule set. */
const struct lg_rule *lg_ruleset_rule(const struct lg_ruleset *rs, size_t i);
/* Rule by id, or NULL. */
const struct lg_rule *lg_ruleset_find(const struct lg_ruleset *rs, const char *id);

const char *lg_rule_id(const struct lg_rule *r);
const char *lg_rule_name(const struct lg_rule *r);
const char *lg_rule_description(const struct lg_rule *r);
const char *lg_rule_remediation(const struct lg_rule *r);
const char *lg_rule_pack(const struct lg_rule *r);
/* The content and path patterns, or NULL. */
const char *lg_rule_pattern(const struct lg_rule *r);
const char *lg_rule_path_pattern(const struct lg_rule *r);
enum lg_severity lg_rule_severity(const struct lg_rule *r);
enum lg_confidence lg_rule_confidence(const struct lg_rule *r);
const char *lg_confidence_name(enum lg_confidence c);
int lg_rule_enabled(const struct lg_rule *r);
size_t lg_rule_index(const struct lg_rule *r);
const char *lg_severity_name(enum lg_severity s);

/* Examples of a rule, for self-tests: positive (kind 1) or negative (0). */
size_t lg_rule_example_count(const struct lg_rule *r, int positive);
void lg_rule_example(const struct lg_rule *r, int positive, size_t i, const char **path,
		     const char **text, size_t *len);

#endif
