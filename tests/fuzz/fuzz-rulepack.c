/*
 * Fuzz harness: the rule-pack parser and compiler. The input is one pack
 * (JSON) added with lg_ruleset_add_json; a pack that parses with a handful
 * of rules is compiled (no cache) and its examples run, as `leakgate rules
 * check` and the API's rule upload do. Larger packs are only parsed:
 * Hyperscan needs milliseconds per rule, and the fuzzer many inputs a
 * second.
 *
 * Invariants: a pack that is refused adds no rule and says why in the
 * diagnostics; a pack that is taken has rules with the ids, fields and
 * examples the format guarantees; a compile or self-test that fails says
 * why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ruleset.h"
#include "selftest.h"

/* Rules compiled per input at most. */
#define FUZZ_COMPILE_RULES 3

static void check_diag(const struct lg_diag *d)
{
	char line[1024];

	FUZZ_CHECK(d->n > 0);
	for (size_t i = 0; i < d->n; i++) {
		FUZZ_CHECK(d->v[i].message != NULL);
		lg_diag_format(&d->v[i], line, sizeof(line));
		FUZZ_CHECK(strlen(line) < sizeof(line));
	}
}

static void check_rule(const struct lg_ruleset *rs, const struct lg_rule *r, size_t i)
{
	const char *id = lg_rule_id(r);

	FUZZ_CHECK(id && strlen(id) >= 2 && strlen(id) <= 64);
	FUZZ_CHECK(lg_ruleset_find(rs, id) == r);
	FUZZ_CHECK(lg_rule_index(r) == i);
	FUZZ_CHECK(lg_rule_name(r) && lg_rule_name(r)[0]);
	FUZZ_CHECK(lg_rule_description(r) && lg_rule_remediation(r) && lg_rule_pack(r));
	FUZZ_CHECK(lg_rule_pattern(r) || lg_rule_path_pattern(r));
	FUZZ_CHECK(!lg_rule_pattern(r) || strlen(lg_rule_pattern(r)) <= LG_PATTERN_MAX);
	FUZZ_CHECK(!lg_rule_path_pattern(r) || strlen(lg_rule_path_pattern(r)) <= LG_PATTERN_MAX);
	FUZZ_CHECK(strcmp(lg_severity_name(lg_rule_severity(r)), "unknown") != 0);
	FUZZ_CHECK(strcmp(lg_confidence_name(lg_rule_confidence(r)), "unknown") != 0);
	FUZZ_CHECK(lg_rule_enabled(r));
	for (int positive = 0; positive <= 1; positive++) {
		size_t n = lg_rule_example_count(r, positive);
		FUZZ_CHECK(n >= 2 && n <= 1000);
		for (size_t k = 0; k < n; k++) {
			const char *path, *text;
			size_t len;
			lg_rule_example(r, positive, k, &path, &text, &len);
			FUZZ_CHECK(text && len <= LG_EXAMPLE_MAX && text[len] == '\0');
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lg_ruleset *rs = NULL;
	struct lg_diag d;
	size_t n, checked;
	int err;

	lg_diag_init(&d);
	FUZZ_CHECK(lg_ruleset_new(&rs) == LG_OK);
	err = lg_ruleset_add_json(rs, "fuzz.json", (const char *)data, size, &d);
	n = lg_ruleset_count(rs);
	if (err) {
		FUZZ_CHECK(n == 0);
		if (err != LG_ENOMEM)
			check_diag(&d);
		goto out;
	}
	FUZZ_CHECK(n > 0 && n <= LG_RULES_MAX);
	for (size_t i = 0; i < n; i++)
		check_rule(rs, lg_ruleset_rule(rs, i), i);
	if (n > FUZZ_COMPILE_RULES)
		goto out;
	err = lg_ruleset_compile(rs, NULL, NULL, &d);
	if (err) {
		if (err != LG_ENOMEM)
			check_diag(&d);
		goto out;
	}
	FUZZ_CHECK(strlen(lg_ruleset_hash(rs)) == 64);
	lg_diag_release(&d);
	err = lg_selftest_run(rs, &checked, &d);
	FUZZ_CHECK(err == LG_OK || err == LG_EINVALID || err == LG_ENOMEM);
	if (err == LG_EINVALID)
		check_diag(&d);
out:
	lg_diag_release(&d);
	lg_ruleset_free(rs);
	return 0;
}
