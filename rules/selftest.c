/*
 * Example self-tests. Each example is scanned as its own document with the
 * whole rule set, so an example also proves that its rule survives the
 * filters (entropy, placeholders, checksums).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner.h"
#include "selftest.h"

struct hit_ctx {
	const struct lg_rule *rule;
	int hit;
};

static int on_finding(const struct lg_finding *f, void *ctx)
{
	struct hit_ctx *h = ctx;

	if (f->rule == h->rule)
		h->hit = 1;
	return 0;
}

static int on_any(const struct lg_finding *f, void *ctx)
{
	(void)f;
	(void)ctx;
	return 0;
}

int lg_selftest_stress(struct lg_ruleset *rs, size_t *checked, struct lg_diag *d)
{
	static const char fill[] = "aAz0 9-_./+=\"':\tx";
	struct lg_scanner *s = NULL;
	struct lg_key key;
	char *text = NULL;
	int err, failed = 0;

	*checked = 0;
	if (lg_ruleset_is_lite(rs)) {
		lg_diag_add(d, NULL, NULL, NULL, "the rules were loaded from the cache without their examples");
		return LG_EINVALID;
	}
	memset(&key, 0, sizeof(key));
	if ((err = lg_scanner_new(&s, rs, &key)))
		return err;
	lg_scanner_set_match_limit(s, LG_STRESS_MATCH_LIMIT);
	for (size_t i = 0; i < lg_ruleset_count(rs); i++) {
		const struct lg_rule *r = lg_ruleset_rule(rs, i);
		int bad = 0;
		if (!lg_rule_enabled(r) || !lg_rule_pattern(r))
			continue;
		for (size_t k = 0; k < lg_rule_example_count(r, 1) && !bad; k++) {
			const char *path, *ex;
			size_t len;
			lg_rule_example(r, 1, k, &path, &ex, &len);
			free(text);
			if (!(text = malloc(LG_STRESS_RUN + 2 + len))) {
				lg_scanner_free(s);
				return LG_ENOMEM;
			}
			for (const char *c = fill; *c && !bad; c++) {
				for (int nl = 0; nl < 2 && !bad; nl++) {
					memset(text, *c, LG_STRESS_RUN);
					text[LG_STRESS_RUN] = nl ? '\n' : ' ';
					memcpy(text + LG_STRESS_RUN + 1, ex, len);
					err = lg_scan_buffer(s, path, text, LG_STRESS_RUN + 1 + len, on_any, NULL);
					(*checked)++;
					if (err == LG_ELIMIT) {
						lg_diag_add(d, lg_rule_pack(r), lg_rule_id(r), "pattern",
							    "backtracks too much: with %d '%s' before example %zu%s, "
							    "confirming a match takes more than %d PCRE2 steps; bound "
							    "or simplify the repetitions (nested or adjacent quantifiers "
							    "over the same characters)",
							    LG_STRESS_RUN, *c == '\t' ? "\\t" : *c == ' ' ? "spaces" : (char[]){*c, 0}, k,
							    nl ? " on the line before" : "", LG_STRESS_MATCH_LIMIT);
						bad = failed = 1;
					} else if (err) {
						lg_diag_add(d, lg_rule_pack(r), lg_rule_id(r), "pattern",
							    "the stress scan failed: %s", lg_scanner_error(s));
						bad = failed = 1;
					}
				}
			}
		}
	}
	free(text);
	lg_scanner_free(s);
	return failed ? LG_EINVALID : LG_OK;
}

int lg_selftest_run(struct lg_ruleset *rs, size_t *checked, struct lg_diag *d)
{
	struct lg_scanner *s = NULL;
	struct lg_key key;
	int err, failed = 0;

	*checked = 0;
	if (lg_ruleset_is_lite(rs)) {
		lg_diag_add(d, NULL, NULL, NULL, "the rules were loaded from the cache without their examples");
		return LG_EINVALID;
	}
	/* The key does not matter here: fingerprints are not compared. */
	memset(&key, 0, sizeof(key));
	err = lg_scanner_new(&s, rs, &key);
	if (err)
		return err;
	lg_scanner_set_dedupe(s, 0);
	for (size_t i = 0; i < lg_ruleset_count(rs); i++) {
		const struct lg_rule *r = lg_ruleset_rule(rs, i);
		if (!lg_rule_enabled(r))
			continue;
		for (int positive = 1; positive >= 0; positive--) {
			for (size_t k = 0; k < lg_rule_example_count(r, positive); k++) {
				struct hit_ctx h = {r, 0};
				const char *path, *text;
				size_t len;

				lg_rule_example(r, positive, k, &path, &text, &len);
				err = lg_scan_buffer(s, path, text, len, on_finding, &h);
				(*checked)++;
				if (err) {
					lg_diag_add(d, lg_rule_pack(r), lg_rule_id(r),
						    positive ? "examples" : "negative_examples",
						    "example %zu could not be scanned: %s", k,
						    lg_strerror(err));
					failed = 1;
				} else if (h.hit != positive) {
					char field[48];
					snprintf(field, sizeof(field), "%s[%zu]",
						 positive ? "examples" : "negative_examples", k);
					lg_diag_add(d, lg_rule_pack(r), lg_rule_id(r), field,
						    positive ? "expected a finding of this rule, got none"
							     : "expected no finding of this rule, got one");
					failed = 1;
				}
			}
		}
	}
	lg_scanner_free(s);
	return failed ? LG_EINVALID : LG_OK;
}
