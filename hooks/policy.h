/*
 * The decision on a push, as a pure function: what was found and what the
 * administrator set go in, the verdict comes out. No I/O, no clock, no
 * globals, so that one table-driven unit test (tests/test-policy.c) covers
 * every combination the hook can meet.
 *
 * The rules, in order:
 *  - A secret the push introduces (new, not pre-existing, not exempted)
 *    rejects the push. A bypass with a reason, where bypasses are allowed,
 *    accepts it instead (recorded as bypassed). That holds even when some
 *    other part of the check could not complete, except that with
 *    failMode=closed an incomplete check is never bypassed.
 *  - Otherwise, a check that could not complete (a failure of any kind:
 *    an invalid setting, unreadable rules, database or objects, a scan
 *    error, a time-out, too many findings) follows failMode: open accepts,
 *    closed rejects; both are recorded as failed.
 *  - Otherwise the push is accepted: exempted if an exemption let a
 *    finding through, warned if it carried warnings (secrets the server
 *    already had), else accepted.
 */
#ifndef LG_POLICY_H
#define LG_POLICY_H

#include <stddef.h>

struct policy_in {
	size_t blocking;    /* secrets the push introduces, not exempted */
	size_t preexisting; /* secrets the server already had at the same place */
	size_t warnings;    /* other findings that only warn */
	size_t exempted;    /* findings an exemption let through */
	size_t failures;    /* reasons the check did not complete */
	int fail_open;      /* leakgate.failMode = open */
	int bypass_requested; /* -o leakgate.bypass was given */
	int bypass_reason;    /* ... with a reason */
	int bypass_allowed;   /* leakgate.allowBypass (an unreadable value: 0) */
};

enum policy_kind {
	POLICY_ACCEPTED,
	POLICY_WARNED,
	POLICY_EXEMPTED,
	POLICY_BYPASSED,
	POLICY_REJECTED,
	POLICY_FAILED,
};

enum policy_bypass {
	BYPASS_NONE,       /* not requested */
	BYPASS_USED,       /* it let the push through */
	BYPASS_UNNEEDED,   /* requested, nothing to bypass */
	BYPASS_NO_REASON,  /* requested without a reason */
	BYPASS_DISALLOWED, /* requested where bypasses are not allowed */
	BYPASS_INCOMPLETE, /* requested, but the check is incomplete and failMode is closed */
};

struct policy_out {
	int accept;            /* exit status 0 */
	enum policy_kind kind; /* the audit event's kind */
	int report_findings;   /* tell the pusher every blocking secret */
	int report_failure;    /* tell the pusher the check did not complete */
	enum policy_bypass bypass;
};

void policy_decide(const struct policy_in *in, struct policy_out *out);

/*
 * Whether one finding blocks (else it warns), from its rule's confidence,
 * the context of its path (test, documentation, template: filter.h) and
 * leakgate.block:
 *  - BLOCK_ALL: every finding blocks, wherever it is;
 *  - BLOCK_LOW, BLOCK_MEDIUM (the default), BLOCK_HIGH: a finding of at
 *    least that confidence blocks outside test and documentation context;
 *    a high-confidence finding (a structured provider token) blocks
 *    wherever it is; every other finding warns.
 * Confidence values: 0 low, 1 medium, 2 high (enum lg_confidence).
 */
enum policy_block { BLOCK_LOW, BLOCK_MEDIUM, BLOCK_HIGH, BLOCK_ALL };
int policy_blocks(int confidence, int in_context, enum policy_block block);
const char *policy_block_name(enum policy_block b);

/* "accepted", "rejected", ...: the event kinds of the store. */
const char *policy_kind_name(enum policy_kind k);

#endif
