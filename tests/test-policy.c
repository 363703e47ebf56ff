/*
 * The decision on a push (hooks/policy.c) over a table of cases: every
 * combination of what was found (new, pre-existing, carried away,
 * exempted), what failed, the fail mode and a bypass, with the verdict
 * each must give. A leaking push is never accepted unless failMode=open,
 * a bypass or an exemption chose it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "tap.h"

struct row {
	const char *name;
	struct policy_in in;
	int accept;
	enum policy_kind kind;
	int report_findings, report_failure;
	enum policy_bypass bypass;
};

/* in: blocking, preexisting, warnings, exempted, failures, fail_open, bypass requested, reason, allowed */
static const struct row rows[] = {
	{"nothing found", {0, 0, 0, 0, 0, 0, 0, 0, 1}, 1, POLICY_ACCEPTED, 0, 0, BYPASS_NONE},
	{"a new secret", {1, 0, 0, 0, 0, 0, 0, 0, 1}, 0, POLICY_REJECTED, 1, 0, BYPASS_NONE},
	{"a new secret, fail open", {1, 0, 0, 0, 0, 1, 0, 0, 1}, 0, POLICY_REJECTED, 1, 0, BYPASS_NONE},
	{"a pre-existing secret only", {0, 1, 0, 0, 0, 0, 0, 0, 1}, 1, POLICY_WARNED, 0, 0, BYPASS_NONE},
	{"a warning only", {0, 0, 1, 0, 0, 0, 0, 0, 1}, 1, POLICY_WARNED, 0, 0, BYPASS_NONE},
	{"an exempted secret only", {0, 0, 0, 1, 0, 0, 0, 0, 1}, 1, POLICY_EXEMPTED, 0, 0, BYPASS_NONE},
	{"exempted and pre-existing", {0, 1, 0, 1, 0, 0, 0, 0, 1}, 1, POLICY_EXEMPTED, 0, 0, BYPASS_NONE},
	{"exempted and a new one", {1, 0, 0, 1, 0, 0, 0, 0, 1}, 0, POLICY_REJECTED, 1, 0, BYPASS_NONE},
	{"failure, fail closed", {0, 0, 0, 0, 1, 0, 0, 0, 1}, 0, POLICY_FAILED, 0, 1, BYPASS_NONE},
	{"failure, fail open", {0, 0, 0, 0, 1, 1, 0, 0, 1}, 1, POLICY_FAILED, 0, 1, BYPASS_NONE},
	{"failure with a pre-existing secret, closed", {0, 1, 0, 0, 2, 0, 0, 0, 1}, 0, POLICY_FAILED, 0, 1, BYPASS_NONE},
	{"failure with an exemption, open", {0, 0, 0, 1, 1, 1, 0, 0, 1}, 1, POLICY_FAILED, 0, 1, BYPASS_NONE},
	{"a new secret and a failure, closed", {1, 0, 0, 0, 1, 0, 0, 0, 1}, 0, POLICY_REJECTED, 1, 1, BYPASS_NONE},
	{"a new secret and a failure, open: the secret still blocks", {1, 0, 0, 0, 1, 1, 0, 0, 1}, 0, POLICY_REJECTED, 1, 1, BYPASS_NONE},
	{"bypass with a reason", {2, 0, 0, 0, 0, 0, 1, 1, 1}, 1, POLICY_BYPASSED, 0, 0, BYPASS_USED},
	{"bypass without a reason", {2, 0, 0, 0, 0, 0, 1, 0, 1}, 0, POLICY_REJECTED, 1, 0, BYPASS_NO_REASON},
	{"bypass where not allowed", {2, 0, 0, 0, 0, 0, 1, 1, 0}, 0, POLICY_REJECTED, 1, 0, BYPASS_DISALLOWED},
	{"bypass, nothing to bypass", {0, 0, 0, 0, 0, 0, 1, 1, 1}, 1, POLICY_ACCEPTED, 0, 0, BYPASS_UNNEEDED},
	{"bypass of a new secret with a failure, closed", {1, 0, 0, 0, 1, 0, 1, 1, 1}, 0, POLICY_REJECTED, 1, 1, BYPASS_INCOMPLETE},
	{"bypass of a new secret with a failure, open", {1, 0, 0, 0, 1, 1, 1, 1, 1}, 1, POLICY_BYPASSED, 0, 1, BYPASS_USED},
	{"bypass with only a failure, closed", {0, 0, 0, 0, 1, 0, 1, 1, 1}, 0, POLICY_FAILED, 0, 1, BYPASS_INCOMPLETE},
	{"bypass with only a failure, open", {0, 0, 0, 0, 1, 1, 1, 1, 1}, 1, POLICY_FAILED, 0, 1, BYPASS_UNNEEDED},
	{"bypass not allowed (unreadable setting) with a failure", {1, 0, 0, 0, 1, 0, 1, 1, 0}, 0, POLICY_REJECTED, 1, 1, BYPASS_DISALLOWED},
};

int main(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct policy_out out;

		policy_decide(&r->in, &out);
		ok(out.accept == r->accept && out.kind == r->kind && out.report_findings == r->report_findings &&
			   out.report_failure == r->report_failure && out.bypass == r->bypass,
		   "%s: %s, %s", r->name, r->accept ? "accepted" : "rejected", policy_kind_name(r->kind));
		if (out.accept != r->accept || out.kind != r->kind)
			printf("#   got %s / %s, bypass %d\n", out.accept ? "accepted" : "rejected",
			       policy_kind_name(out.kind), (int)out.bypass);
	}
	/* The invariant, over every combination: a new secret is accepted only by a bypass. */
	{
		size_t bad = 0, n = 0;
		for (int blocking = 0; blocking < 2; blocking++)
			for (int pre = 0; pre < 2; pre++)
				for (int ex = 0; ex < 2; ex++)
					for (int fail = 0; fail < 2; fail++)
						for (int open = 0; open < 2; open++)
							for (int req = 0; req < 2; req++)
								for (int reason = 0; reason < 2; reason++)
									for (int allowed = 0; allowed < 2; allowed++) {
										struct policy_in in = {(size_t)blocking, (size_t)pre, 0, (size_t)ex,
												       (size_t)fail, open, req, reason, allowed};
										struct policy_out out;
										policy_decide(&in, &out);
										n++;
										if (blocking && out.accept &&
										    !(out.kind == POLICY_BYPASSED && req && reason && allowed))
											bad++;
										if (fail && !blocking && out.accept != open)
											bad++;
										if (fail && out.kind != POLICY_FAILED && !blocking)
											bad++;
									}
		is_int(bad, 0, "over all %zu combinations: a new secret passes only through a bypass, and a "
			       "failure alone always follows failMode as a failed event", n);
	}
	/* One finding: blocks or warns, by confidence, context and leakgate.block. */
	{
		static const struct {
			int conf, ctx;
			enum policy_block block;
			int want;
		} b[] = {
			{2, 0, BLOCK_MEDIUM, 1}, {2, 1, BLOCK_MEDIUM, 1}, /* a provider token blocks anywhere */
			{1, 0, BLOCK_MEDIUM, 1}, {1, 1, BLOCK_MEDIUM, 0}, /* medium: blocks outside tests and docs */
			{0, 0, BLOCK_MEDIUM, 0}, {0, 1, BLOCK_MEDIUM, 0}, /* low: warns by default */
			{0, 0, BLOCK_LOW, 1},    {0, 1, BLOCK_LOW, 0},    {1, 1, BLOCK_LOW, 0},
			{1, 0, BLOCK_HIGH, 0},   {2, 1, BLOCK_HIGH, 1},   {0, 0, BLOCK_HIGH, 0},
			{0, 1, BLOCK_ALL, 1},    {1, 1, BLOCK_ALL, 1},    {0, 0, BLOCK_ALL, 1},
		};
		for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
			is_int(policy_blocks(b[i].conf, b[i].ctx, b[i].block), b[i].want,
			       "confidence %d, %s, block=%s: %s", b[i].conf, b[i].ctx ? "in test/doc context" : "elsewhere",
			       policy_block_name(b[i].block), b[i].want ? "blocks" : "warns");
	}
	is_str(policy_kind_name(POLICY_WARNED), "warned", "kind names are the store's");
	return done();
}
