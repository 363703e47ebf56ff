/*
 * Phase 6 of the hook: the audit event. Every decision leaves one, with
 * fingerprints and redacted previews only: into the database, or, when
 * the database cannot take it within the time budget, into the spool
 * beside it (store.h), from which the next writer moves it in. One line
 * per decision also goes to the system log (kind, repository, pusher,
 * counts, fingerprints; never a secret or a preview), so that even a push
 * whose event could be kept nowhere else has a trace.
 *
 * Names are stored losslessly (text.h: valid UTF-8, with "_escaped" set
 * when bytes had to be escaped) and redacted where they hold a secret.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "hook.h"
#include "text.h"

/* obj[key] = s, losslessly; obj[key "_escaped"] = true when bytes had to be escaped. */
static void set_name(json_t *obj, const char *key, const char *s)
{
	int escaped = 0;
	char *v = lg_text_lossless(s ? s : "", s ? strlen(s) : 0, &escaped);

	json_object_set_new(obj, key, json_string(v ? v : "(out of memory)"));
	if (escaped) {
		char k[64];
		snprintf(k, sizeof(k), "%s_escaped", key);
		json_object_set_new(obj, k, json_true());
	}
	free(v);
}

/* s with the secrets in it redacted; caller frees. */
static char *redacted(struct hook *h, const char *s)
{
	char *out = NULL;

	if (!s)
		return strdup("");
	if (!h->scanner || lg_text_redact(h->scanner, s, strlen(s), &out, NULL))
		return strdup("(not stored: it could not be checked for secrets)");
	return out;
}

char *hook_refs_json(struct hook *h);
char *hook_refs_json(struct hook *h)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; i < h->push.updates.n; i++) {
		const struct push_update *u = PUSH_UPDATE(&h->push, i);
		char o[GIT_OID_HEXSZ + 1], n[GIT_OID_HEXSZ + 1], *ref = redacted(h, u->ref);
		json_t *r = json_object();
		git_oid_tostr(o, sizeof(o), &u->old_id);
		git_oid_tostr(n, sizeof(n), &u->new_id);
		set_name(r, "ref", ref);
		json_object_set_new(r, "old", json_string(o));
		json_object_set_new(r, "new", json_string(n));
		json_array_append_new(a, r);
		free(ref);
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static const char *status_name(enum fstatus s)
{
	switch (s) {
	case F_BLOCK: return "new";
	case F_EXEMPT: return "exempted";
	case F_PREEXISTING: return "pre-existing";
	case F_CARRIED: return "carried";
	case F_WARN: return "warning";
	}
	return "new";
}

static json_t *findings_json(struct hook *h, size_t *left_out)
{
	json_t *a = json_array();
	size_t kept = 0;

	*left_out = 0;
	for (size_t i = 0; i < h->found.n; i++) {
		const struct hfinding *f = &LG_VEC_AT(&h->found, struct hfinding, i);
		const struct push_item *it = hook_item(h, f);
		char c[GIT_OID_HEXSZ + 1] = "";
		const char *ref;
		json_t *o;

		/* Carried: the same secret is recorded at the commit that added it. */
		if (f->status == F_CARRIED)
			continue;
		if (kept == HOOK_EVENT_FINDINGS_MAX) {
			(*left_out)++;
			continue;
		}
		kept++;
		if (it->commit != SIZE_MAX)
			git_oid_tostr(c, sizeof(c), &PUSH_COMMIT(&h->push, it->commit)->id);
		else
			git_oid_tostr(c, sizeof(c), &it->id);
		o = json_object();
		json_object_set_new(o, "rule_id", json_string(lg_rule_id(f->rule)));
		json_object_set_new(o, "severity", json_string(lg_severity_name(lg_rule_severity(f->rule))));
		json_object_set_new(o, "confidence", json_string(lg_confidence_name(lg_rule_confidence(f->rule))));
		json_object_set_new(o, "fingerprint", json_string(f->fingerprint));
		json_object_set_new(o, "preview", json_string(f->preview));
		if (it->kind == ITEM_BLOB) {
			char *p = redacted(h, it->path);
			set_name(o, "path", p);
			free(p);
		} else {
			json_object_set_new(o, "path", json_string(hook_where(h, f)));
		}
		if (f->member) {
			char *m = redacted(h, f->member);
			set_name(o, "member", m);
			free(m);
		}
		if (f->layer)
			json_object_set_new(o, "encoding", json_string(f->layer));
		json_object_set_new(o, "commit", json_string(c));
		json_object_set_new(o, "line", json_integer((json_int_t)f->line));
		json_object_set_new(o, "status", json_string(status_name(f->status)));
		if ((ref = it->commit != SIZE_MAX ? (PUSH_COMMIT(&h->push, it->commit)->update != SIZE_MAX
						      ? PUSH_UPDATE(&h->push, PUSH_COMMIT(&h->push, it->commit)->update)->ref
						      : NULL)
				  : it->update != SIZE_MAX ? PUSH_UPDATE(&h->push, it->update)->ref : NULL)) {
			char *r = redacted(h, ref);
			set_name(o, "ref", r);
			free(r);
		}
		if (f->status == F_EXEMPT)
			json_object_set_new(o, "exemption_id", json_integer(f->exemption));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *exemptions_json(const struct hook *h)
{
	json_t *ex = json_array();

	for (size_t i = 0; i < h->found.n; i++) {
		const struct hfinding *f = &LG_VEC_AT(&h->found, struct hfinding, i);
		int seen = 0;
		if (f->status != F_EXEMPT)
			continue;
		for (size_t k = 0; k < json_array_size(ex) && !seen; k++)
			seen = json_integer_value(json_array_get(ex, k)) == f->exemption;
		if (!seen)
			json_array_append_new(ex, json_integer(f->exemption));
	}
	return ex;
}

static const char *skip_reason(enum blob_state s)
{
	switch (s) {
	case BLOB_BINARY: return "binary";
	case BLOB_LARGE: return "too-large";
	case BLOB_UNREADABLE: return "unreadable";
	case BLOB_FAILED: return "scan-failed";
	case BLOB_PENDING: return "not-reached";
	case BLOB_SCANNED: break;
	}
	return NULL;
}

/* Every file of the push that was not scanned whole, and why. */
static json_t *skipped_json(struct hook *h, size_t *left_out)
{
	json_t *a = json_array();

	*left_out = 0;
	for (size_t i = 0; i < h->push.items.n; i++) {
		const struct push_item *it = PUSH_ITEM(&h->push, i);
		const char *why;
		char c[GIT_OID_HEXSZ + 1], *p, notes[128];
		json_t *o;

		if (it->kind != ITEM_BLOB)
			continue;
		why = h->blob_state ? skip_reason((enum blob_state)h->blob_state[it->blob]) : "not-reached";
		/* Scanned, but parts of an archive could not be opened. */
		if (!why && h->blob_notes && h->blob_notes[it->blob])
			why = lg_unpack_notes_name(h->blob_notes[it->blob], notes, sizeof(notes));
		if (!why)
			continue;
		if (json_array_size(a) == HOOK_EVENT_SKIPPED_MAX) {
			(*left_out)++;
			continue;
		}
		o = json_object();
		p = redacted(h, it->path);
		set_name(o, "path", p);
		free(p);
		git_oid_tostr(c, sizeof(c), it->commit != SIZE_MAX ? &PUSH_COMMIT(&h->push, it->commit)->id : &it->id);
		json_object_set_new(o, "commit", json_string(c));
		json_object_set_new(o, "why", json_string(why));
		json_array_append_new(a, o);
	}
	return a;
}

static char *reason_text(struct hook *h, size_t findings_left, size_t skipped_left)
{
	struct lg_vec v = LG_VEC_INIT(1, 1u << 20);
	int err = lg_vec_puts(&v, "");

	if (!err && h->pout.bypass == BYPASS_USED) {
		char *r = redacted(h, h->bypass_reason);
		err = lg_vec_puts(&v, r ? r : "");
		free(r);
	}
	for (size_t i = 0; i < h->failures.n && !err; i++) {
		const struct hfailure *f = &LG_VEC_AT(&h->failures, struct hfailure, i);
		char *m = redacted(h, f->message);
		err = lg_vec_printf(&v, "%s%s", v.n ? "; " : "", m ? m : "");
		free(m);
	}
	if (!err && h->failures_dropped)
		err = lg_vec_printf(&v, "; and %zu more problems", h->failures_dropped);
	if (!err && findings_left)
		err = lg_vec_printf(&v, "%s%zu more findings not kept in this event", v.n ? "; " : "", findings_left);
	if (!err && skipped_left)
		err = lg_vec_printf(&v, "%s%zu more skipped files not listed", v.n ? "; " : "", skipped_left);
	if (err) {
		lg_vec_release(&v);
		return strdup("(the reason did not fit in memory)");
	}
	return lg_vec_steal(&v);
}

/* A value for a syslog field: no spaces or control characters. */
static void field(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && o + 4 < len; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

void hook_syslog(struct hook *h, const char *kind, const char *stored, const char *fps);
void hook_syslog(struct hook *h, const char *kind, const char *stored, const char *fps)
{
	char repo[512], pusher[256], proto[32];

	field(repo, sizeof(repo), h->repo_name);
	field(pusher, sizeof(pusher), h->pusher);
	field(proto, sizeof(proto), h->protocol);
	openlog("leakgate", LOG_PID, LOG_AUTH);
	syslog(kind && (!strcmp(kind, "rejected") || !strcmp(kind, "failed") || !strcmp(kind, "bypassed"))
		       ? LOG_WARNING
		       : LOG_INFO,
	       "%s repo=%s pusher=%s protocol=%s refs=%zu blocked=%zu preexisting=%zu exempted=%zu "
	       "failures=%zu event=%s stored=%s fingerprints=%s",
	       kind, repo, pusher, proto, h->push.updates.n, h->pin.blocking, h->pin.preexisting, h->pin.exempted,
	       h->failures.n + h->failures_dropped, h->ev.uid, stored, fps && *fps ? fps : "-");
	closelog();
}

/* Up to 20 distinct fingerprints of blocking and bypassed findings, comma-separated. */
static void fingerprints(const struct hook *h, char *out, size_t len)
{
	size_t o = 0, n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < h->found.n && n < 20; i++) {
		const struct hfinding *f = &LG_VEC_AT(&h->found, struct hfinding, i);
		if (f->status != F_BLOCK && f->status != F_EXEMPT)
			continue;
		if (strstr(out, f->fingerprint))
			continue;
		if (o + LG_FP_HEX + 2 >= len)
			break;
		o += (size_t)snprintf(out + o, len - o, "%s%s", n ? "," : "", f->fingerprint);
		n++;
	}
}

char *hook_published_line; /* the watchdog's copy of the finished event */

void hook_record(struct hook *h)
{
	struct lg_diag d;
	json_t *fj, *ex, *sk;
	size_t fleft = 0, sleft = 0;
	char *refs, *f_s, *ex_s, *sk_s, *reason, *line, fps[20 * (LG_FP_HEX + 1) + 1];
	int64_t until = h->deadline_ms + WATCHDOG_GRACE_MS - 500;

	refs = hook_refs_json(h);
	fj = findings_json(h, &fleft);
	ex = exemptions_json(h);
	sk = skipped_json(h, &sleft);
	f_s = json_dumps(fj, JSON_COMPACT);
	ex_s = json_dumps(ex, JSON_COMPACT);
	sk_s = json_dumps(sk, JSON_COMPACT);
	reason = reason_text(h, fleft, sleft);
	h->ev.time_ms = hook_now_ms();
	h->ev.kind = policy_kind_name(h->pout.kind);
	h->ev.repo = h->repo_name;
	h->ev.pusher = h->pusher;
	h->ev.protocol = h->protocol;
	h->ev.refs_json = refs;
	h->ev.findings_json = f_s;
	h->ev.exemptions_json = ex_s;
	h->ev.skipped_json = sk_s;
	h->ev.reason = reason;
	h->ev.duration_ms = h->ev.time_ms - h->t0_ms;
	h->ev.bytes_scanned = (int64_t)h->bytes_scanned;
	h->ev.objects_scanned = (int64_t)h->objects_scanned;
	h->ev.ruleset = h->rs ? lg_ruleset_hash(h->rs) : "";
	/* Names are stored as valid UTF-8 whatever bytes the hosting layer gave. */
	{
		char *r = lg_text_lossless(h->repo_name ? h->repo_name : "", h->repo_name ? strlen(h->repo_name) : 0, NULL);
		char *p = lg_text_lossless(h->pusher ? h->pusher : "", h->pusher ? strlen(h->pusher) : 0, NULL);
		if (r) {
			free(h->repo_name);
			h->ev.repo = h->repo_name = r;
		}
		if (p) {
			free(h->pusher);
			h->ev.pusher = h->pusher = p;
		}
	}

	/* From here the watchdog writes this very event if the store hangs. */
	line = lg_event_to_json(&h->ev);
	pthread_mutex_lock(&h->lock);
	hook_published_line = line;
	h->decided = 1;
	h->decided_status = h->pout.accept ? 0 : 1;
	pthread_mutex_unlock(&h->lock);

	lg_diag_init(&d);
	h->stored = 0;
	if (h->store) {
		lg_store_set_deadline(h->store, until);
		if (lg_store_add_event(h->store, &h->ev, NULL, &d) == 0)
			h->stored = 1;
	}
	if (!h->stored && h->store_path && lg_spool_append(h->store_path, &h->ev, until, &d) == 0)
		h->stored = 2;
	lg_diag_release(&d);
	fingerprints(h, fps, sizeof(fps));
	hook_syslog(h, h->ev.kind, h->stored == 1 ? "database" : h->stored == 2 ? "spool" : "none", fps);
	json_decref(fj);
	json_decref(ex);
	json_decref(sk);
	/* The watchdog has its own copy (the published line). */
	h->ev.refs_json = h->ev.findings_json = h->ev.exemptions_json = h->ev.skipped_json = NULL;
	h->ev.reason = NULL;
	free(refs);
	free(f_s);
	free(ex_s);
	free(sk_s);
	free(reason);
}
