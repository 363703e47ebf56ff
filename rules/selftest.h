/*
 * Running each rule's own examples: every positive example must give a
 * finding of its rule, no negative example may.
 */
#ifndef LG_SELFTEST_H
#define LG_SELFTEST_H

#include <stddef.h>

#include "fingerprint.h"
#include "ruleset.h"

/*
 * Check every enabled rule of the compiled rule set. Each failing example
 * is one entry in d (rule id, field "examples[i]" or "negative_examples[i]").
 * *checked receives the number of examples run. Returns 0 when all hold,
 * LG_EINVALID when any failed, another code on an internal error.
 */
int lg_selftest_run(struct lg_ruleset *rs, size_t *checked, struct lg_diag *d);

/*
 * Stress every enabled rule for backtracking: each positive example behind
 * long runs of one character (letters, digits, blanks, punctuation), on
 * the same line and on the line before, scanned with PCRE2's match limit
 * lowered to LG_STRESS_MATCH_LIMIT, a twentieth of what pushes get. A rule
 * whose confirmation hits it would make pushes fail (a scan that cannot
 * complete) or crawl: one entry in d each (field "pattern"), LG_EINVALID.
 */
#define LG_STRESS_MATCH_LIMIT 50000
#define LG_STRESS_RUN 1500
int lg_selftest_stress(struct lg_ruleset *rs, size_t *checked, struct lg_diag *d);

#endif
