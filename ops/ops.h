/*
 * The administration operations, once, for every front end: the leakgate
 * command, the admin API, and whatever comes later. Each operation
 * validates what it is given (ids, fingerprints, globs, times, the rule
 * itself and the rule set it would make) before it changes anything, and
 * says why it refuses in d; the front ends only translate the result
 * (an lg code) into an exit status or an HTTP status:
 *
 *   LG_EINVALID   the request is not valid (422 / exit 1), d says why
 *   LG_EEXISTS    it conflicts with what exists (409)
 *   LG_ENOTFOUND  what it names does not exist (404)
 *   LG_EBUSY      the database stayed locked (503)
 *   LG_ETIMEDOUT  a check ran out of time (422 for a rule: it is refused)
 *   other         the store failed (500)
 */
#ifndef LG_OPS_H
#define LG_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "lg.h"

struct lg_store;
struct lg_key;
struct lg_ruleset;
struct lg_load_opts;
struct json_t;

/* The context of a change: where, by whom, and how candidate rules are checked. */
struct lg_ops {
	struct lg_store *st;
	const char *by;        /* who makes the change: "cli:alice", "token #3 (ci)" */
	const char *cache_dir; /* compiled cache for the combined rule set (NULL: default) */
	const struct lg_key *cache_key; /* its key (NULL: the default fingerprint key) */
	/*
	 * When set, candidate rules are checked in a separate process (this
	 * program, run as `leakgate rules check-candidate`), with a time and
	 * memory limit: a rule can take minutes to compile, and a request must
	 * not hold the daemon that long.
	 */
	const char *isolate_with;
	int check_seconds; /* time limit of an isolated check (0: LG_OPS_CHECK_SECONDS) */
};

/* How long a candidate rule's checks may take, in CPU seconds. */
#define LG_OPS_CHECK_SECONDS 10
/* A candidate's test text may be this long at most. */
#define LG_OPS_TEST_TEXT_MAX (1u << 20)

/*
 * The rule set every program loads: the options given plus the store's
 * custom rules and disabled ids (st may be NULL). The hook and the daemon
 * agree on the result, and so share one compiled cache entry.
 */
int lg_ops_load_rules(struct lg_store *st, const struct lg_load_opts *base, struct lg_ruleset **out,
		      int *from_cache, struct lg_diag *d);

/*
 * Check one candidate rule (a JSON object) on its own: its fields, both
 * pattern compilers, its examples, and stress texts that make badly
 * backtracking patterns hit a low match limit (such a rule is refused,
 * naming the field). With text, also scan it with the rule alone, into
 * *findings (a JSON array, caller frees; may be NULL). *examples counts
 * the examples run. LG_EINVALID with d when the rule is refused.
 */
int lg_ops_rule_check(const struct json_t *rule, const char *text, size_t text_len, const char *path,
		      size_t *examples, struct json_t **findings, struct lg_diag *d);
/*
 * The same in a separate process when o->isolate_with is set (see above),
 * else in this one. *verdict (caller frees) gets {"valid", "problems",
 * "examples_checked", "findings", "complete", "error"}.
 */
int lg_ops_rule_check_run(const struct lg_ops *o, const struct json_t *rule, const char *text,
			  size_t text_len, const char *path, struct json_t **verdict);

/* Add a custom rule (its id must be new: not a built-in rule, not a custom one). */
int lg_ops_rule_add(const struct lg_ops *o, const struct json_t *rule, struct lg_diag *d);
/*
 * Store the rules of a pack (an array of rule objects) as custom rules in
 * one change: new ids are added, custom ones replaced, built-in ones
 * refused; all or nothing.
 */
int lg_ops_rules_put(const struct lg_ops *o, const struct json_t *rules, struct lg_diag *d);
/* Replace custom rule id; when anything is wrong, the old rule stays as it was. */
int lg_ops_rule_update(const struct lg_ops *o, const char *id, const struct json_t *rule, struct lg_diag *d);
/* Remove custom rule id; a built-in rule is LG_EEXISTS (disable it instead). */
int lg_ops_rule_remove(const struct lg_ops *o, const char *id, struct lg_diag *d);
/* Turn any rule on or off; LG_ENOTFOUND when no rule has the id. */
int lg_ops_rule_set_enabled(const struct lg_ops *o, const char *id, int on, struct lg_diag *d);
/* Whether rule id is on, as the store says (1 on, 0 off). */
int lg_ops_rule_is_enabled(struct lg_store *st, const char *id);

/* An exemption as a front end receives it: strings as typed (NULL: not given). */
struct lg_exemption_spec {
	const char *repo, *fingerprint, *rule_id, *path, *reason, *expires;
	int64_t expires_ms; /* used when expires is NULL (an API may give a number); 0: never */
};
/* Validate and add; *id_out gets its id. */
int lg_ops_exemption_add(const struct lg_ops *o, const struct lg_exemption_spec *s, int64_t *id_out,
			 struct lg_diag *d);
int lg_ops_exemption_remove(const struct lg_ops *o, int64_t id, struct lg_diag *d);

/* A new API token (role admin or read); *token (caller frees) is shown once. */
int lg_ops_token_create(const struct lg_ops *o, const char *role, const char *name, char **token,
			int64_t *id_out, struct lg_diag *d);
int lg_ops_token_revoke(const struct lg_ops *o, int64_t id, struct lg_diag *d);

/*
 * Times as people give them: YYYY-MM-DD, RFC 3339 (UTC or an offset),
 * Unix seconds, or a duration (30d, 12h, 45m, 2w) counted back from now
 * (LG_TIME_PAST: --since) or forward (LG_TIME_FUTURE: --expires). Every
 * step is overflow-checked: LG_EINVALID for anything out of range.
 */
enum lg_time_dir { LG_TIME_PAST, LG_TIME_FUTURE };
int lg_ops_parse_time(const char *s, enum lg_time_dir dir, int64_t now_ms, int64_t *ms);
/* A positive id (1 to 2^53); LG_EINVALID otherwise. */
int lg_ops_parse_id(const char *s, int64_t *id);

/* 1 if s is a fingerprint as leakgate shows them (32 lower-case hex digits). */
int lg_ops_valid_fingerprint(const char *s);

#endif
