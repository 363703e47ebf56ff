/*
 * The verdict on a push (policy.h): a pure function of what the check
 * found and what the administrator set.
 */
#include "config.h"

#include <string.h>

#include "policy.h"

void policy_decide(const struct policy_in *in, struct policy_out *out)
{
	int incomplete = in->failures > 0;

	memset(out, 0, sizeof(*out));
	out->report_failure = incomplete;
	if (in->bypass_requested) {
		if (!in->bypass_allowed)
			out->bypass = BYPASS_DISALLOWED;
		else if (!in->bypass_reason)
			out->bypass = BYPASS_NO_REASON;
		else if (incomplete && !in->fail_open)
			out->bypass = BYPASS_INCOMPLETE;
		else if (in->blocking == 0)
			out->bypass = BYPASS_UNNEEDED;
		else
			out->bypass = BYPASS_USED;
	}

	if (in->blocking > 0) {
		out->report_findings = out->bypass != BYPASS_USED;
		if (out->bypass == BYPASS_USED) {
			out->accept = 1;
			out->kind = POLICY_BYPASSED;
		} else {
			/*
			 * A secret that was found blocks, whatever could not be checked
			 * besides (the event's reason says what that was).
			 */
			out->accept = 0;
			out->kind = POLICY_REJECTED;
		}
		return;
	}
	if (incomplete) {
		out->accept = in->fail_open;
		out->kind = POLICY_FAILED;
		return;
	}
	out->accept = 1;
	out->kind = in->exempted ? POLICY_EXEMPTED
		    : in->preexisting || in->warnings ? POLICY_WARNED
						       : POLICY_ACCEPTED;
}

const char *policy_kind_name(enum policy_kind k)
{
	switch (k) {
	case POLICY_ACCEPTED: return "accepted";
	case POLICY_WARNED: return "warned";
	case POLICY_EXEMPTED: return "exempted";
	case POLICY_BYPASSED: return "bypassed";
	case POLICY_REJECTED: return "rejected";
	case POLICY_FAILED: return "failed";
	}
	return "failed";
}

int policy_blocks(int confidence, int in_context, enum policy_block block)
{
	if (block == BLOCK_ALL || confidence >= 2)
		return 1;
	if (in_context)
		return 0;
	return confidence >= (int)block;
}

const char *policy_block_name(enum policy_block b)
{
	switch (b) {
	case BLOCK_LOW: return "low";
	case BLOCK_MEDIUM: return "medium";
	case BLOCK_HIGH: return "high";
	case BLOCK_ALL: return "all";
	}
	return "all";
}
