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

#endif
