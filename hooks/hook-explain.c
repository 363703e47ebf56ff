/*
 * Phase 7 of the hook: what the pusher reads (git shows the hook's
 * standard error as "remote:" lines). For a rejection, each secret with
 * its rule, ref, commit, place, redacted preview, fingerprint and what to
 * do, then the commands that rewrite the commits; otherwise one line per
 * thing worth knowing: files not scanned, secrets already on the server,
 * exemptions used, a bypass, a check that could not complete.
 *
 * Everything foreign (paths, ref names, commit subjects, reasons) is shown
 * redacted and with control characters escaped: a crafted file name
 * cannot draw "remote:" lines of its own, and a secret in a subject is not
 * printed in full (GitLab shows these lines in its web interface).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "hook.h"
#include "policy.h"
#include "text.h"

const struct push_item *hook_item(const struct hook *h, const struct hfinding *f)
{
	return PUSH_ITEM(&h->push, f->item);
}

const char *hook_where(const struct hook *h, const struct hfinding *f)
{
	const struct push_item *it = hook_item(h, f);

	switch (it->kind) {
	case ITEM_BLOB: return it->path;
	case ITEM_COMMIT: return f->part == PART_HEADER ? "(commit header)" : "(commit message)";
	case ITEM_TAG: return f->part == PART_HEADER ? "(tag header)" : "(tag message)";
	case ITEM_REF: return "(ref name)";
	}
	return "";
}

static int prefixed;

/* Where a finding is, for one line: its file, and the archive member in it. */
static char *hook_shown_member(struct hook *h, const struct hfinding *f)
{
	char *s, *all = NULL;

	if (!f->member)
		return hook_shown(h, hook_where(h, f));
	if (asprintf(&all, "%s!%s", hook_where(h, f), f->member) < 0)
		return hook_shown(h, hook_where(h, f));
	s = hook_shown(h, all);
	free(all);
	return s;
}

void hook_say(struct hook *h, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	const char *p, *nl;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Every line on its own, so that each carries GitLab's prefix. */
	for (p = line;; p = nl + 1) {
		nl = strchr(p, '\n');
		if (prefixed && (nl ? nl > p : *p))
			fputs("GL-HOOK-ERR: ", stderr);
		fwrite(p, 1, nl ? (size_t)(nl - p) : strlen(p), stderr);
		fputc('\n', stderr);
		if (!nl)
			break;
	}
	(void)h;
}

char *hook_shown(struct hook *h, const char *s)
{
	char *red = NULL, *out;

	if (!s)
		return strdup("");
	if (!h->scanner || lg_text_redact(h->scanner, s, strlen(s), &red, NULL))
		return strdup("(not shown: it could not be checked for secrets)");
	out = lg_text_printable(red, strlen(red));
	free(red);
	return out ? out : strdup("(not shown)");
}

/* A long text as lines of at most 78 columns; the first starts with label. */
static void say_wrapped(struct hook *h, const char *label, const char *text)
{
	const size_t width = 78, indent = strlen(label);
	const char *p = text;
	int first = 1;

	while (*p) {
		size_t room = width > indent ? width - indent : 20, n = strlen(p), cut = n;
		if (n > room) {
			cut = room;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = room;
		}
		hook_say(h, "%*s%.*s", (int)indent, first ? label : "", (int)cut, p);
		first = 0;
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static struct hfinding *finding(const struct hook *h, size_t i)
{
	return &LG_VEC_AT(&h->found, struct hfinding, i);
}

static int same_place(const struct hook *h, const struct hfinding *a, const struct hfinding *b)
{
	return !strcmp(a->fingerprint, b->fingerprint) && !strcmp(hook_where(h, a), hook_where(h, b));
}

static void short_id(const git_oid *id, char *out)
{
	git_oid_tostr(out, 8, id);
}

/* The ref a finding reaches the server through. */
static const char *finding_ref(const struct hook *h, const struct hfinding *f)
{
	const struct push_item *it = hook_item(h, f);
	size_t u = it->commit != SIZE_MAX ? PUSH_COMMIT(&h->push, it->commit)->update : it->update;

	return u != SIZE_MAX && u < h->push.updates.n ? PUSH_UPDATE(&h->push, u)->ref : NULL;
}

static void say_finding(struct hook *h, const struct hfinding *f, size_t n, const char **advice,
			size_t *advice_n, size_t *nadvice, size_t advice_max)
{
	const struct push_item *it = hook_item(h, f);
	const char *ref = finding_ref(h, f);
	char sid[16], *shown;
	size_t same = 0;

	hook_say(h, "%s", "");
	hook_say(h, "[%zu] %s (%s)", n, lg_rule_name(f->rule), lg_severity_name(lg_rule_severity(f->rule)));
	if (ref && h->push.updates.n > 1) {
		shown = hook_shown(h, ref);
		hook_say(h, "    ref:         %s", shown);
		free(shown);
	}
	if (it->commit != SIZE_MAX) {
		const struct push_commit *c = PUSH_COMMIT(&h->push, it->commit);
		short_id(&c->id, sid);
		shown = hook_shown(h, c->summary);
		hook_say(h, "    commit:      %s %.60s", sid, shown);
		free(shown);
	} else if (it->kind == ITEM_TAG) {
		shown = hook_shown(h, it->path);
		hook_say(h, "    tag:         %s", shown);
		free(shown);
	}
	shown = hook_shown(h, it->kind == ITEM_BLOB ? it->path : "");
	if (it->kind == ITEM_BLOB && f->member) {
		char *m = hook_shown(h, f->member);
		if (f->line)
			hook_say(h, "    where:       %s!%s:%llu", shown, m, (unsigned long long)f->line);
		else
			hook_say(h, "    where:       %s!%s (the file itself)", shown, m);
		free(m);
	} else if (it->kind == ITEM_BLOB && f->line)
		hook_say(h, "    where:       %s:%llu", shown, (unsigned long long)f->line);
	else if (it->kind == ITEM_BLOB)
		hook_say(h, "    where:       %s (the file itself)", shown);
	else if (it->kind == ITEM_REF)
		hook_say(h, "    where:       the name of the ref itself");
	else
		hook_say(h, "    where:       %s, line %llu", hook_where(h, f), (unsigned long long)f->line);
	free(shown);
	if (f->layer)
		hook_say(h, "    encoded:     %s (the secret is shown decoded)", f->layer);
	hook_say(h, "    secret:      %s", f->preview);
	hook_say(h, "    fingerprint: %s", f->fingerprint);
	/* The same advice twice (two AWS rules) is said once. */
	for (size_t k = 0; k < *nadvice && !same; k++)
		if (!strcmp(advice[k], lg_rule_remediation(f->rule)))
			same = advice_n[k];
	if (same) {
		hook_say(h, "    what to do:  as for [%zu] above", same);
	} else {
		say_wrapped(h, "    what to do:  ", lg_rule_remediation(f->rule));
		if (*nadvice < advice_max) {
			advice[*nadvice] = lg_rule_remediation(f->rule);
			advice_n[(*nadvice)++] = n;
		}
	}
}

static void report_rejection(struct hook *h, size_t nblock)
{
	size_t shown = 0, more = 0, earliest = SIZE_MAX, nadvice = 0, *shown_idx;
	int all_in_tip = 1, in_message = 0, in_root = 0, in_ref = 0;
	const char *advice[64];
	size_t advice_n[64];
	char sid[16];

	shown_idx = calloc((size_t)h->cfg.max_report + 1, sizeof(*shown_idx));

	hook_say(h, "==============================================================");
	hook_say(h, "leakgate: push rejected: %zu secret%s in the commits you pushed", nblock, nblock == 1 ? "" : "s");
	hook_say(h, "==============================================================");
	for (size_t i = 0; i < h->found.n; i++) {
		const struct hfinding *f = finding(h, i);
		const struct push_item *it = hook_item(h, f);
		int dup = 0;

		if (f->status != F_BLOCK)
			continue;
		/* The same secret at the same place in several commits is shown once. */
		for (size_t k = 0; shown_idx && k < shown && !dup; k++)
			dup = same_place(h, finding(h, shown_idx[k]), f);
		if (dup)
			continue;
		if (it->commit != SIZE_MAX) {
			const struct push_commit *c = PUSH_COMMIT(&h->push, it->commit);
			if (earliest == SIZE_MAX || it->commit < earliest)
				earliest = it->commit;
			all_in_tip &= c->is_tip;
			in_root |= c->is_root;
		} else {
			all_in_tip = 0;
		}
		in_message |= it->kind == ITEM_COMMIT;
		in_ref |= it->kind == ITEM_REF;
		if ((int)shown >= h->cfg.max_report || !shown_idx) {
			more++;
			continue;
		}
		shown_idx[shown] = i;
		say_finding(h, f, ++shown, advice, advice_n, &nadvice, sizeof(advice) / sizeof(advice[0]));
	}
	free(shown_idx);
	if (more) {
		hook_say(h, "%s", "");
		hook_say(h, "... and %zu more not shown (leakgate.maxReport)", more);
	}
	hook_say(h, "%s", "");
	hook_say(h, "How to fix: remove the secret from every commit you push, then push again.");
	if (in_ref)
		hook_say(h, "  A ref's name holds a secret: push under another name (git push origin HEAD:<new-name>).");
	if (all_in_tip && earliest != SIZE_MAX) {
		hook_say(h, "  It is in the last commit of the branch. Edit the file (or the message), then:");
		hook_say(h, "      git add -A && git commit --amend%s && git push", in_message ? "" : " --no-edit");
	} else if (earliest != SIZE_MAX) {
		short_id(&PUSH_COMMIT(&h->push, earliest)->id, sid);
		hook_say(h, "  The first commit with a secret is %s. Rewrite from there:", sid);
		if (in_root)
			hook_say(h, "      git rebase -i --root");
		else
			hook_say(h, "      git rebase -i %s~1", sid);
		hook_say(h, "  mark that commit (and any later one listed) 'edit'%s, remove the secret,",
			 in_message ? " or 'reword'" : "");
		hook_say(h, "  then: git add -A && git commit --amend && git rebase --continue");
		hook_say(h, "  Or, to squash all your unpushed work into one new commit:");
		hook_say(h, "      git reset --soft <the commit the server has>   (then remove the secret and commit)");
	} else if (!in_ref) {
		hook_say(h, "  The secret is in an annotated tag: delete the tag locally");
		hook_say(h, "  (git tag -d <name>), create it again without the secret, and push it.");
	}
	hook_say(h, "  A secret that was ever shared should be revoked or rotated even so.");
	if (h->cfg.allow_bypass) {
		if (h->cfg.advertise_options)
			hook_say(h, "If this is a false positive, you may push anyway with a reason, which is recorded:\n"
				    "      git push -o " BYPASS_OPTION "=\"<why this is safe>\"");
		else
			hook_say(h, "Bypassing needs push options, which this server does not accept yet\n"
				    "(receive.advertisePushOptions=true): ask your administrator, or remove the secret.");
	}
	hook_say(h, "Findings that are not secrets can be exempted by an administrator using the fingerprint.");
}

/* Files the check did not scan whole, by choice of the settings. */
static void report_skipped(struct hook *h)
{
	size_t binary = 0, large = 0, partial = 0;

	for (size_t b = 0; h->blob_state && b < h->push.blobs.n; b++) {
		binary += h->blob_state[b] == BLOB_BINARY;
		large += h->blob_state[b] == BLOB_LARGE;
		partial += h->blob_notes && h->blob_notes[b];
	}
	if (partial) {
		char *n = hook_shown(h, h->first_note);
		hook_say(h, "leakgate: note: %zu archive%s not opened whole: %s%s", partial, partial == 1 ? "" : "s",
			 n ? n : "", partial > 1 ? " (and more)" : "");
		free(n);
	}
	if (binary)
		hook_say(h, "leakgate: note: %zu binary file%s scanned for provider tokens and keys only "
			    "(leakgate.scanBinary scans them whole)", binary, binary == 1 ? "" : "s");
	if (large)
		hook_say(h, "leakgate: note: %zu file%s not scanned: over %llu bytes (leakgate.maxBlobSize)", large,
			 large == 1 ? "" : "s", (unsigned long long)h->cfg.max_blob_size);
}

static void report_list(struct hook *h, enum fstatus which)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < h->found.n; i++)
		n += finding(h, i)->status == which;
	if (!n)
		return;
	if (which == F_PREEXISTING)
		hook_say(h, "leakgate: warning: %zu secret%s already on the server (not blocked):", n,
			 n == 1 ? " is" : "s are");
	else if (which == F_WARN)
		hook_say(h, "leakgate: warning: %zu possible secret%s (not blocked: lower confidence, or in a test, "
			    "documentation or template file; leakgate.block = %s):", n, n == 1 ? "" : "s",
			 policy_block_name((enum policy_block)h->cfg.block));
	else
		hook_say(h, "leakgate: %zu finding%s let through by an exemption:", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < h->found.n && k < (size_t)h->cfg.max_report; i++) {
		const struct hfinding *f = finding(h, i);
		char *where;
		if (f->status != which)
			continue;
		k++;
		where = hook_shown_member(h, f);
		if (which == F_PREEXISTING)
			hook_say(h, "  %s in %s:%llu (%s, fingerprint %s): revoke it and remove it.", lg_rule_name(f->rule),
				 where, (unsigned long long)f->line, f->preview, f->fingerprint);
		else if (which == F_WARN) {
			enum lg_context ctx = (enum lg_context)f->context;
			hook_say(h, "  %s in %s:%llu (%s, fingerprint %s; %s confidence%s%s%s): if it is a real "
				    "credential, revoke it and remove it.",
				 lg_rule_name(f->rule), where, (unsigned long long)f->line, f->preview, f->fingerprint,
				 lg_confidence_name(lg_rule_confidence(f->rule)), ctx ? ", in a " : "",
				 ctx ? lg_context_name(ctx) : "", ctx ? " file" : "");
		} else
			hook_say(h, "  %s in %s:%llu (fingerprint %s): exemption #%lld", lg_rule_name(f->rule), where,
				 (unsigned long long)f->line, f->fingerprint, (long long)f->exemption);
		free(where);
	}
}

/* One line: why the check is incomplete and what failMode made of it. */
static void report_failure(struct hook *h)
{
	const struct hfailure *first = &LG_VEC_AT(&h->failures, struct hfailure, 0);
	size_t more = h->failures.n - 1 + h->failures_dropped;
	int retry = 1, config = 0;
	char also[64] = "";
	const char *verdict, *advice;

	for (size_t i = 0; i < h->failures.n; i++) {
		const struct hfailure *f = &LG_VEC_AT(&h->failures, struct hfailure, i);
		retry &= f->retry;
		config |= !strncmp(f->message, "invalid setting", 15);
	}
	if (more)
		snprintf(also, sizeof(also), " (and %zu more problem%s)", more, more == 1 ? "" : "s");
	if (h->pout.kind == POLICY_REJECTED || h->pout.kind == POLICY_BYPASSED)
		verdict = h->pout.accept ? "the rest was accepted unchecked because leakgate.failMode is open"
					 : "the secrets above block the push in any case";
	else
		verdict = h->pout.accept ? "accepted unchecked because leakgate.failMode is open"
					 : "rejected because leakgate.failMode is closed";
	advice = h->pout.accept || h->pout.kind == POLICY_REJECTED ? ""
		 : retry ? " Try again in a few minutes; tell your administrator if it keeps failing."
		 : config ? " This will fail until the setting is fixed: tell your administrator (leakgate config check)."
			  : " This will fail until it is fixed: tell your administrator.";
	hook_say(h, "leakgate: could not check this push completely: %s%s; %s.%s", first->message, also, verdict,
		 advice);
}

static void report_bypass(struct hook *h, size_t nblock)
{
	char *reason;

	switch (h->pout.bypass) {
	case BYPASS_USED:
		reason = hook_shown(h, h->bypass_reason);
		hook_say(h, "leakgate: %zu secret%s found; push accepted because of " BYPASS_OPTION
			    " (reason recorded: \"%s\")", nblock, nblock == 1 ? "" : "s", reason);
		free(reason);
		break;
	case BYPASS_DISALLOWED:
		hook_say(h, "leakgate: " BYPASS_OPTION " was given, but this server does not allow bypasses.");
		break;
	case BYPASS_NO_REASON:
		hook_say(h, "leakgate: " BYPASS_OPTION " needs a reason: git push -o " BYPASS_OPTION
			    "=\"<why this is safe>\"");
		break;
	case BYPASS_INCOMPLETE:
		hook_say(h, "leakgate: " BYPASS_OPTION " cannot let through a push whose check did not complete.");
		break;
	case BYPASS_UNNEEDED:
	case BYPASS_NONE:
		break;
	}
}

void hook_explain(struct hook *h)
{
	size_t nblock = h->pin.blocking;

	prefixed = h->gitlab && !h->pout.accept;
	if (h->pout.report_findings)
		report_rejection(h, nblock);
	report_skipped(h);
	report_list(h, F_PREEXISTING);
	report_list(h, F_WARN);
	report_list(h, F_EXEMPT);
	report_bypass(h, nblock);
	if (h->pout.report_failure && h->failures.n)
		report_failure(h);
	if (h->stored == 2)
		hook_say(h, "leakgate: note: the audit database could not take this push's event; it was kept "
			    "in the spool beside it and will be moved in later.");
	else if (h->stored == 0)
		hook_say(h, "leakgate: note: this push's audit event could not be recorded (only the system log has it).");
}
