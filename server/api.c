/*
 * The HTTP API of leakgated (docs/api.md): routing, authentication, bodies,
 * and one function per endpoint. Per-request state lives in *req_cls from
 * the first call to the completion callback, which logs the request and
 * frees it. Bodies are capped while they arrive.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>


#include "selftest.h"
#include "ops.h"
#include "server.h"
#include "text.h"
#include "vec.h"

struct req {
	char *method, *url;
	char *body;
	size_t len, cap;
	int too_large;
	int status;
	struct timespec t0;
	char role[8];
	char who[160]; /* the token, for created_by and the log */
	const char *allow; /* methods for a 405 answer */
	/* A cacheable read: where a 200 reply is kept, and the stamp it was made at. */
	struct server *srv;
	char *cache_key;
	struct srv_stamp stamp;
	/* Slow work (work.c): a candidate rule to check, test or store. */
	struct srv_job job;
	int job_kind; /* JOB_* */
	json_t *job_rule;
	char *job_text, *job_path;
	size_t job_text_len;
	char job_id[128];
	int job_err;
	json_t *job_verdict;
	struct lg_diag job_diag;
	json_t *job_findings; /* JOB_SCAN */
	char job_why[400];
};

enum { JOB_NONE, JOB_TEST, JOB_ADD, JOB_UPDATE, JOB_SCAN };

/* ---- replies ---- */

static enum MHD_Result send_body(struct MHD_Connection *c, struct req *r, int status,
				 const char *ctype, char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!text)
		return MHD_NO;
	if (status == 200 && r->cache_key)
		srv_cache_put(r->srv, r->cache_key, &r->stamp, text, strlen(text));
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (status == 405 && r->allow)
		MHD_add_response_header(resp, "Allow", r->allow);
	r->status = status;
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, struct req *r, int status, json_t *doc)
{
	/* Compact: serializing is most of the cost of a large listing. */
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	size_t n;
	char *t2;

	json_decref(doc);
	if (!text) {
		/* The answer could not be made: say so with the status that goes with it. */
		status = 500;
		text = strdup("{\"error\": {\"code\": \"internal\", \"message\": \"out of memory\"}}");
	}
	/* One newline at the end, as curl users expect. */
	n = strlen(text);
	t2 = realloc(text, n + 2);
	if (t2) {
		t2[n] = '\n';
		t2[n + 1] = '\0';
		text = t2;
	}
	return send_body(c, r, status, "application/json", text);
}

/*
 * A message as a JSON string. It may quote what the request said (a path,
 * an id) or be cut short inside a character: bytes that are not UTF-8
 * become \xNN, since jansson refuses such a string and the whole answer
 * would be lost with it.
 */
static json_t *text_json(const char *s)
{
	char *t = lg_text_lossless(s, strlen(s), NULL);
	json_t *j = t ? json_string(t) : NULL;

	free(t);
	return j;
}

static enum MHD_Result error_reply(struct MHD_Connection *c, struct req *r, int status,
				   const char *code, json_t *details, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static enum MHD_Result error_reply(struct MHD_Connection *c, struct req *r, int status,
				   const char *code, json_t *details, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = json_pack("{s:s, s:o}", "code", code, "message", text_json(msg));
	if (details)
		json_object_set_new(e, "details", details);
	return reply(c, r, status, json_pack("{s:o}", "error", e));
}

static json_t *diag_json(const struct lg_diag *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n; i++) {
		const struct lg_diag_entry *e = &d->v[i];
		json_t *o = json_pack("{s:o}", "message", text_json(e->message ? e->message : ""));
		json_object_set_new(o, "rule_id", e->rule_id ? text_json(e->rule_id) : json_null());
		json_object_set_new(o, "field", e->field ? text_json(e->field) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

/* ---- helpers ---- */

static json_t *parse_body(struct MHD_Connection *c, struct req *r, enum MHD_Result *ret)
{
	json_error_t jerr;
	json_t *doc;

	if (!r->body || r->len == 0) {
		*ret = error_reply(c, r, 400, "bad_request", NULL, "a JSON body is required");
		return NULL;
	}
	doc = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		*ret = error_reply(c, r, 400, "bad_request", NULL, "the body is not valid JSON (line %d, column %d: %s)",
				   jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		*ret = error_reply(c, r, 400, "bad_request", NULL, "the body must be a JSON object");
		return NULL;
	}
	return doc;
}

/* A time in a request: RFC 3339, Unix seconds, or a duration back from now (30d). */
static int parse_time(const char *s, int64_t *ms)
{
	return lg_ops_parse_time(s, LG_TIME_PAST, lg_now_ms(), ms) ? -1 : 0;
}

static int parse_id(const char *s, int64_t *id)
{
	return lg_ops_parse_id(s, id) ? -1 : 0;
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	return v && *v ? v : NULL;
}

static json_t *finding_json(const struct lg_finding *f)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "rule_id", lg_rule_id(f->rule), "rule_name",
			      lg_rule_name(f->rule), "severity",
			      lg_severity_name(lg_rule_severity(f->rule)), "preview", f->preview,
			      "fingerprint", f->fingerprint);
	if (f->line) {
		json_object_set_new(o, "line", json_integer((json_int_t)f->line));
		json_object_set_new(o, "column", json_integer((json_int_t)f->column));
		json_object_set_new(o, "end_line", json_integer((json_int_t)f->end_line));
		json_object_set_new(o, "end_column", json_integer((json_int_t)f->end_column));
	} else {
		json_object_set_new(o, "line", json_null());
		json_object_set_new(o, "kind", json_string("path"));
	}
	if (f->layer)
		json_object_set_new(o, "encoding", json_string(f->layer));
	if (f->member) {
		char *m = lg_text_lossless(f->member, strlen(f->member), NULL);
		json_object_set_new(o, "member", m ? json_string(m) : json_null());
		free(m);
	}
	return o;
}

static int collect_finding(const struct lg_finding *f, void *ctx)
{
	return json_array_append_new(ctx, finding_json(f)) ? LG_ENOMEM : 0;
}

/*
 * A scan that did not complete is not "no findings": 422 with what was
 * found so far and why the rest was not checked.
 */
static enum MHD_Result incomplete_reply(struct MHD_Connection *c, struct req *r, int err, const char *why,
					json_t *findings)
{
	json_t *e = json_pack("{s:s, s:s}", "code", "scan_incomplete", "message", why && *why ? why : lg_strerror(err));

	json_object_set_new(e, "findings", findings);
	return reply(c, r, 422, json_pack("{s:o}", "error", e));
}

static enum MHD_Result db_unavailable(struct MHD_Connection *c, struct req *r)
{
	return error_reply(c, r, 500, "internal", NULL, "the database is not available");
}

/* ---- rules ---- */

static json_t *rule_summary(const struct lg_rule *rule, json_t *admin)
{
	json_t *states = json_object_get(admin, "states");
	json_t *state = json_object_get(states, lg_rule_id(rule));
	/* From the live rule set itself: right also while a change waits to be published. */
	int is_custom = !strcmp(lg_rule_pack(rule), "custom");

	return json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", lg_rule_id(rule), "name", lg_rule_name(rule),
			 "severity", lg_severity_name(lg_rule_severity(rule)), "source",
			 is_custom ? "custom" : "builtin", "enabled",
			 state ? json_is_true(state) : lg_rule_enabled(rule));
}

/* The operations' context for a request: its database, its caller, isolated rule checks. */
static struct lg_ops req_ops(struct server *srv, struct req *r)
{
	struct lg_ops o;

	memset(&o, 0, sizeof(o));
	o.st = srv_store(srv);
	o.by = r->who;
	o.cache_dir = srv->cache_dir;
	o.cache_key = &srv->key;
	o.isolate_with = srv->leakgate_bin;
	o.check_seconds = srv->check_seconds;
	return o;
}

/* An operation's refusal as an HTTP reply. */
static enum MHD_Result ops_reply(struct MHD_Connection *c, struct req *r, int err, const struct lg_diag *d,
				 const char *what)
{
	json_t *det = diag_json(d);
	const char *msg = d->n ? d->v[0].message : lg_strerror(err);

	switch (err) {
	case LG_EINVALID:
	case LG_ETIMEDOUT:
		/* A rule that does not hold is invalid_rule; anything else invalid. */
		return error_reply(c, r, 422, strstr(what, "rule") ? "invalid_rule" : "invalid", det, "%s: %s", what, msg);
	case LG_EEXISTS: return error_reply(c, r, 409, "conflict", det, "%s", msg);
	case LG_ENOTFOUND: return error_reply(c, r, 404, "not_found", det, "%s", msg);
	case LG_EBUSY: return error_reply(c, r, 503, "unavailable", det, "the database stayed locked");
	default: return error_reply(c, r, 500, "internal", det, "%s: %s", what, msg);
	}
}


static enum MHD_Result rules_list(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	struct lg_store *st = srv_store(srv);
	json_t *admin = NULL, *a = json_array();

	if (!st || lg_store_rules_admin(st, &admin)) {
		json_decref(a);
		return db_unavailable(c, r);
	}
	pthread_rwlock_rdlock(&srv->rs_lock);
	for (size_t i = 0; i < lg_ruleset_count(srv->rs); i++)
		json_array_append_new(a, rule_summary(lg_ruleset_rule(srv->rs, i), admin));
	pthread_rwlock_unlock(&srv->rs_lock);
	json_decref(admin);
	return reply(c, r, 200, json_pack("{s:o, s:I}", "rules", a, "count", (json_int_t)json_array_size(a)));
}

static enum MHD_Result rules_get(struct server *srv, struct MHD_Connection *c, struct req *r,
				 const char *id)
{
	struct lg_store *st = srv_store(srv);
	json_t *admin = NULL, *o = NULL, *custom;
	const struct lg_rule *rule;

	if (!st || lg_store_rules_admin(st, &admin))
		return db_unavailable(c, r);
	pthread_rwlock_rdlock(&srv->rs_lock);
	rule = lg_ruleset_find(srv->rs, id);
	if (rule) {
		o = rule_summary(rule, admin);
		json_object_set_new(o, "description", json_string(lg_rule_description(rule)));
		json_object_set_new(o, "remediation", json_string(lg_rule_remediation(rule)));
		json_object_set_new(o, "pack", json_string(lg_rule_pack(rule)));
		if (lg_rule_pattern(rule))
			json_object_set_new(o, "pattern", json_string(lg_rule_pattern(rule)));
		if (lg_rule_path_pattern(rule))
			json_object_set_new(o, "path", json_string(lg_rule_path_pattern(rule)));
	}
	pthread_rwlock_unlock(&srv->rs_lock);
	if (o && (custom = json_object_get(json_object_get(admin, "custom"), id)))
		json_object_set(o, "rule", custom);
	json_decref(admin);
	if (!o)
		return error_reply(c, r, 404, "not_found", NULL, "no rule has the id '%s'", id);
	return reply(c, r, 200, o);
}

/* On a worker: store (and publish) the rule of a POST or PUT. */
static void run_rule_put(struct srv_job *j)
{
	struct req *r = (struct req *)((char *)j - offsetof(struct req, job));
	struct server *srv = r->srv;
	struct lg_ops o = req_ops(srv, r);

	if (!o.st) {
		r->job_err = LG_EBUSY;
		return;
	}
	pthread_mutex_lock(&srv->publish_lock);
	r->job_err = r->job_kind == JOB_UPDATE ? lg_ops_rule_update(&o, r->job_id, r->job_rule, &r->job_diag)
					       : lg_ops_rule_add(&o, r->job_rule, &r->job_diag);
	if (!r->job_err && srv_publish_rules(srv, &r->job_diag))
		r->job_err = LG_ERROR; /* stored, and valid as a whole: only publishing failed */
	pthread_mutex_unlock(&srv->publish_lock);
}

static enum MHD_Result rule_put_reply(struct MHD_Connection *c, struct req *r)
{
	struct lg_store *st = srv_store(r->srv);
	json_t *stored = NULL;
	char *text = NULL;

	if (r->job_err)
		return ops_reply(c, r, r->job_err, &r->job_diag, "the rule is refused");
	if (st && lg_store_rule_get(st, r->job_id, &text) == 0)
		stored = json_loads(text, 0, NULL);
	free(text);
	/* The state as stored: a rule that was disabled stays disabled when it is replaced. */
	return reply(c, r, r->job_kind == JOB_UPDATE ? 200 : 201,
		     json_pack("{s:s, s:s, s:b, s:o}", "id", r->job_id, "source", "custom", "enabled",
			       st ? lg_ops_rule_is_enabled(st, r->job_id) : 1, "rule",
			       stored ? stored : json_incref(r->job_rule)));
}

static enum MHD_Result rules_put(struct server *srv, struct MHD_Connection *c, struct req *r,
				 const char *path_id)
{
	enum MHD_Result ret = MHD_NO;
	json_t *rule = parse_body(c, r, &ret);

	if (!rule)
		return ret;
	if (!srv_store(srv)) {
		json_decref(rule);
		return db_unavailable(c, r);
	}
	if (path_id && !json_object_get(rule, "id"))
		json_object_set_new(rule, "id", json_string(path_id));
	snprintf(r->job_id, sizeof(r->job_id), "%s",
		 path_id ? path_id : json_string_value(json_object_get(rule, "id")) ?: "");
	r->job_rule = rule;
	r->job_kind = path_id ? JOB_UPDATE : JOB_ADD;
	r->job.run = run_rule_put;
	srv_guard_request(c, GUARD_SUSPENDED);
	srv_work_submit(&r->job);
	return MHD_YES;
}

static enum MHD_Result rules_delete(struct server *srv, struct MHD_Connection *c, struct req *r,
				    const char *id)
{
	struct lg_ops o = req_ops(srv, r);
	struct lg_diag d;
	enum MHD_Result ret;
	int err;

	if (!o.st)
		return db_unavailable(c, r);
	lg_diag_init(&d);
	pthread_mutex_lock(&srv->publish_lock);
	err = lg_ops_rule_remove(&o, id, &d);
	if (!err && srv_publish_rules(srv, &d))
		err = LG_ERROR;
	pthread_mutex_unlock(&srv->publish_lock);
	ret = err ? ops_reply(c, r, err, &d, "the rule cannot be removed")
		  : reply(c, r, 200, json_pack("{s:s, s:b}", "id", id, "deleted", 1));
	lg_diag_release(&d);
	return ret;
}

static enum MHD_Result rules_enable(struct server *srv, struct MHD_Connection *c, struct req *r,
				    const char *id, int on)
{
	struct lg_ops o = req_ops(srv, r);
	struct lg_diag d;
	enum MHD_Result ret;
	int err;

	if (!o.st)
		return db_unavailable(c, r);
	lg_diag_init(&d);
	pthread_mutex_lock(&srv->publish_lock);
	err = lg_ops_rule_set_enabled(&o, id, on, &d);
	if (!err && srv_publish_rules(srv, &d))
		err = LG_ERROR;
	pthread_mutex_unlock(&srv->publish_lock);
	ret = err ? ops_reply(c, r, err, &d, "the rule's state cannot be changed")
		  : reply(c, r, 200, json_pack("{s:s, s:b}", "id", id, "enabled", on));
	lg_diag_release(&d);
	return ret;
}

/* On a worker: the candidate's checks, in a process of their own with a time limit. */
static void run_rules_test(struct srv_job *j)
{
	struct req *r = (struct req *)((char *)j - offsetof(struct req, job));
	struct lg_ops o = req_ops(r->srv, r);

	r->job_err = lg_ops_rule_check_run(&o, r->job_rule, r->job_text, r->job_text_len, r->job_path,
					   &r->job_verdict);
}

static enum MHD_Result rules_test_reply(struct MHD_Connection *c, struct req *r)
{
	json_t *v = r->job_verdict;

	if (r->job_err || !v)
		return error_reply(c, r, 500, "internal", NULL, "the rule could not be checked: %s",
				   lg_strerror(r->job_err ? r->job_err : LG_ERROR));
	if (json_is_false(json_object_get(v, "complete"))) {
		const char *why = json_string_value(json_object_get(v, "error"));
		return incomplete_reply(c, r, LG_ELIMIT, why ? why : "the scan did not complete",
					json_incref(json_object_get(v, "findings")));
	}
	r->job_verdict = NULL;
	json_object_del(v, "complete");
	json_object_del(v, "error");
	return reply(c, r, 200, v);
}

static enum MHD_Result rules_test(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	enum MHD_Result ret = MHD_NO;
	json_t *body = parse_body(c, r, &ret), *rule, *text, *path;

	(void)srv;
	if (!body)
		return ret;
	rule = json_object_get(body, "rule");
	text = json_object_get(body, "text");
	path = json_object_get(body, "path");
	if (!json_is_object(rule) || (text && !json_is_string(text)) || (path && !json_is_string(path))) {
		json_decref(body);
		return error_reply(c, r, 400, "bad_request", NULL,
				   "expected {\"rule\": {...}, \"text\": \"...\", \"path\": \"...\"}");
	}
	if (text && json_string_length(text) > LG_OPS_TEST_TEXT_MAX) {
		json_decref(body);
		return error_reply(c, r, 413, "too_large", NULL, "the text may be %u bytes at most", LG_OPS_TEST_TEXT_MAX);
	}
	r->job_rule = json_incref(rule);
	if (text && !(r->job_text = malloc(json_string_length(text) + 1))) {
		json_decref(body);
		return error_reply(c, r, 500, "internal", NULL, "out of memory");
	}
	if (text) {
		memcpy(r->job_text, json_string_value(text), json_string_length(text) + 1);
		r->job_text_len = json_string_length(text);
	}
	r->job_path = path ? strdup(json_string_value(path)) : NULL;
	json_decref(body);
	r->job_kind = JOB_TEST;
	/* In a process of its own, with a time limit (a rule can take minutes to compile), off the request threads. */
	r->job.run = run_rules_test;
	srv_guard_request(c, GUARD_SUSPENDED);
	srv_work_submit(&r->job);
	return MHD_YES;
}

/* ---- scan ---- */

/*
 * On a worker: scan the text with the live rule set as the hook scans a
 * file (its decoded views too: base64, percent-encoding, escaped
 * strings), within the time budget (--rule-check-seconds): past it the
 * scan stops and the answer says it is incomplete. The scanner looks at
 * the clock between hits and every confirmation is bounded by PCRE2's
 * match limit, so the budget is overrun by little.
 */
static void run_scan(struct srv_job *j)
{
	struct req *r = (struct req *)((char *)j - offsetof(struct req, job));
	struct server *srv = r->srv;
	struct lg_unpack_opts uo;
	struct lg_unpack_result res;
	struct lg_scanner *sc;
	const char *name = r->job_path;
	int err;

	if (!(r->job_findings = json_array())) {
		r->job_err = LG_ENOMEM;
		return;
	}
	sc = srv_scanner_acquire(srv);
	if (!sc) {
		srv_scanner_release(srv);
		r->job_err = LG_ENOMEM;
		snprintf(r->job_why, sizeof(r->job_why), "no scanner available (out of memory)");
		return;
	}
	lg_unpack_defaults(&uo);
	lg_scanner_set_time_budget(sc, 1000LL * (srv->check_seconds > 0 ? srv->check_seconds : 10));
	err = lg_scan_deep(sc, &uo, &name, name ? 1 : 0, r->job_text, r->job_text_len, collect_finding,
			   r->job_findings, &res);
	lg_scanner_set_time_budget(sc, 0);
	if (err) {
		if (err == LG_ECANCELED)
			snprintf(r->job_why, sizeof(r->job_why),
				 "the scan took more than %d s (--rule-check-seconds) and was stopped",
				 srv->check_seconds > 0 ? srv->check_seconds : 10);
		else
			snprintf(r->job_why, sizeof(r->job_why), "%s", lg_scanner_error(sc));
	}
	srv_scanner_release(srv);
	r->job_err = err;
}

static enum MHD_Result scan_reply(struct MHD_Connection *c, struct req *r)
{
	json_t *findings = r->job_findings;

	if (!findings)
		return error_reply(c, r, 500, "internal", NULL, "out of memory");
	r->job_findings = NULL;
	if (r->job_err)
		return incomplete_reply(c, r, r->job_err, r->job_why, findings);
	return reply(c, r, 200, json_pack("{s:o, s:I}", "findings", findings, "count",
					  (json_int_t)json_array_size(findings)));
}

/* The answer of a request whose slow work is done. */
static enum MHD_Result job_reply(struct MHD_Connection *c, struct req *r)
{
	if (r->job.busy)
		return error_reply(c, r, 503, "busy", NULL,
				   r->job_kind == JOB_SCAN
					   ? "too many scans are running or waiting: try again in a few seconds"
					   : "too many rule checks are running or waiting: try again in a few seconds");
	if (r->job_kind == JOB_SCAN)
		return scan_reply(c, r);
	return r->job_kind == JOB_TEST ? rules_test_reply(c, r) : rule_put_reply(c, r);
}

static enum MHD_Result scan(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	enum MHD_Result ret = MHD_NO;
	json_t *body = parse_body(c, r, &ret), *text, *path;

	(void)srv;
	if (!body)
		return ret;
	text = json_object_get(body, "text");
	path = json_object_get(body, "path");
	if (!json_is_string(text) || (path && !json_is_string(path))) {
		json_decref(body);
		return error_reply(c, r, 400, "bad_request", NULL,
				   "expected {\"text\": \"...\"} (and optionally \"path\")");
	}
	r->job_text_len = json_string_length(text);
	r->job_text = malloc(r->job_text_len + 1);
	r->job_path = path ? strdup(json_string_value(path)) : NULL;
	if (!r->job_text || (path && !r->job_path)) {
		json_decref(body);
		return error_reply(c, r, 500, "internal", NULL, "out of memory");
	}
	memcpy(r->job_text, json_string_value(text), r->job_text_len + 1);
	json_decref(body);
	/* Off the request threads, with a time budget (run_scan). */
	r->job_kind = JOB_SCAN;
	r->job.run = run_scan;
	r->job.scan = 1;
	r->job.bytes = r->job_text_len;
	/* Still waiting after WORK_WAIT_MS, it is answered busy, not run. */
	r->job.deadline_ms = lg_now_ms() + WORK_WAIT_MS;
	srv_guard_request(c, GUARD_SUSPENDED);
	srv_work_submit(&r->job);
	return MHD_YES;
}

/* ---- exemptions ---- */


static enum MHD_Result exemption_create(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	static const char *const fields[] = {"repo", "fingerprint", "rule_id", "path", "reason", "expires", NULL};
	enum MHD_Result ret = MHD_NO;
	json_t *body = parse_body(c, r, &ret), *v, *out = NULL;
	struct lg_ops o = req_ops(srv, r);
	struct lg_exemption_spec spec;
	struct lg_diag d;
	const char *key;
	char expires[32];
	int64_t id = 0;
	int err;

	if (!body)
		return ret;
	if (!o.st) {
		json_decref(body);
		return db_unavailable(c, r);
	}
	lg_diag_init(&d);
	memset(&spec, 0, sizeof(spec));
	json_object_foreach(body, key, v) {
		int known = 0;
		for (size_t i = 0; fields[i] && !known; i++)
			known = !strcmp(fields[i], key);
		if (!known)
			lg_diag_add(&d, NULL, NULL, key, "unknown field");
	}
	/* Strings (null: not given), without NUL bytes inside. */
#define FIELD(name, dst)                                                                                  \
	do {                                                                                               \
		v = json_object_get(body, name);                                                           \
		if (v && !json_is_null(v)) {                                                               \
			if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))    \
				lg_diag_add(&d, NULL, NULL, name, "must be a string");                     \
			else                                                                               \
				dst = json_string_value(v);                                                \
		}                                                                                          \
	} while (0)
	FIELD("repo", spec.repo);
	FIELD("fingerprint", spec.fingerprint);
	FIELD("rule_id", spec.rule_id);
	FIELD("path", spec.path);
	FIELD("reason", spec.reason);
#undef FIELD
	v = json_object_get(body, "expires");
	if (json_is_integer(v)) {
		snprintf(expires, sizeof(expires), "%lld", (long long)json_integer_value(v));
		spec.expires = expires;
	} else if (json_is_string(v)) {
		spec.expires = json_string_value(v);
	} else if (v && !json_is_null(v)) {
		lg_diag_add(&d, NULL, NULL, "expires", "must be RFC 3339 or Unix seconds");
	}
	err = d.n ? LG_EINVALID : lg_ops_exemption_add(&o, &spec, &id, &d);
	json_decref(body);
	if (err) {
		ret = ops_reply(c, r, err, &d, "the exemption is not valid");
		lg_diag_release(&d);
		return ret;
	}
	lg_diag_release(&d);
	if (lg_store_exemption_get(o.st, id, &out))
		return db_unavailable(c, r);
	return reply(c, r, 201, out);
}

static enum MHD_Result exemptions_list(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	struct lg_store *st = srv_store(srv);
	const char *expired = arg(c, "expired");
	int ex = -1;
	json_t *a = NULL;

	if (!st)
		return db_unavailable(c, r);
	if (expired) {
		if (!strcmp(expired, "true") || !strcmp(expired, "1"))
			ex = 1;
		else if (!strcmp(expired, "false") || !strcmp(expired, "0"))
			ex = 0;
		else
			return error_reply(c, r, 400, "bad_request", NULL, "expired must be true or false");
	}
	if (lg_store_exemptions_list(st, arg(c, "repo"), arg(c, "rule"), ex, &a))
		return db_unavailable(c, r);
	return reply(c, r, 200, json_pack("{s:o, s:I}", "exemptions", a, "count",
					  (json_int_t)json_array_size(a)));
}

/* ---- events ---- */

static enum MHD_Result events_list(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	struct lg_store *st = srv_store(srv);
	struct lg_event_filter f;
	const char *v;
	int64_t next = 0;
	char *text = NULL, *doc = NULL;
	int err, n;

	if (!st)
		return db_unavailable(c, r);
	memset(&f, 0, sizeof(f));
	f.repo = arg(c, "repo");
	f.pusher = arg(c, "pusher");
	f.kind = arg(c, "kind");
	if (f.kind && !lg_event_kind_valid(f.kind))
		return error_reply(c, r, 400, "bad_request", NULL,
				   "kind must be one of accepted, rejected, bypassed, exempted, warned, failed");
	if ((v = arg(c, "since")) && parse_time(v, &f.since_ms))
		return error_reply(c, r, 400, "bad_request", NULL, "since: not RFC 3339 or Unix seconds");
	if ((v = arg(c, "until")) && parse_time(v, &f.until_ms))
		return error_reply(c, r, 400, "bad_request", NULL, "until: not RFC 3339 or Unix seconds");
	f.limit = 50;
	if ((v = arg(c, "limit"))) {
		int64_t l;
		if (parse_id(v, &l) || l > 500)
			return error_reply(c, r, 400, "bad_request", NULL, "limit must be 1 to 500");
		f.limit = (int)l;
	}
	if ((v = arg(c, "cursor")) && parse_id(v, &f.before_id))
		return error_reply(c, r, 400, "bad_request", NULL, "cursor: use the next_cursor of a previous page");
	err = lg_store_events_page(st, &f, &text, &next);
	if (err)
		return error_reply(c, r, err == LG_EBUSY ? 503 : 500, "internal", NULL, "the events cannot be read");
	if (next)
		n = asprintf(&doc, "{\"events\":%s,\"next_cursor\":\"%lld\"}\n", text, (long long)next);
	else
		n = asprintf(&doc, "{\"events\":%s,\"next_cursor\":null}\n", text);
	free(text);
	if (n < 0)
		return error_reply(c, r, 500, "internal", NULL, "out of memory");
	return send_body(c, r, 200, "application/json", doc);
}

/* ---- health and metrics ---- */

static enum MHD_Result healthz(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	json_t *doc;

	pthread_rwlock_rdlock(&srv->rs_lock);
	doc = json_pack("{s:s, s:I, s:s}", "status", "ok", "rules", (json_int_t)lg_ruleset_count(srv->rs),
			"ruleset", lg_ruleset_hash(srv->rs));
	pthread_rwlock_unlock(&srv->rs_lock);
	if (!srv_store(srv)) {
		json_decref(doc);
		return error_reply(c, r, 503, "unavailable", NULL, "the database cannot be opened");
	}
	return reply(c, r, 200, doc);
}

/* Text built piece by piece; once a piece fails, the whole text is unusable. */
struct mbuf {
	struct lg_vec v;
	int err;
};

#define MBUF_INIT {LG_VEC_INIT(1, 1u << 20), 0}

static void mprintf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mprintf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int err;

	if (b->err)
		return;
	va_start(ap, fmt);
	err = lg_vec_vprintf(&b->v, fmt, ap);
	va_end(ap);
	if (err)
		b->err = err;
}

static void metrics_histogram(struct mbuf *b, const char *name, const char *help,
			      const struct lg_metric_bucket *v, size_t n, double scale, long long count, long long sum)
{
	mprintf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < n; i++)
		mprintf(b, "%s_bucket{le=\"%g\"} %lld\n", name, (double)v[i].le / scale, (long long)v[i].events);
	mprintf(b, "%s_bucket{le=\"+Inf\"} %lld\n", name, count);
	if (scale != 1)
		mprintf(b, "%s_sum %.3f\n", name, sum / scale);
	else
		mprintf(b, "%s_sum %lld\n", name, sum);
	mprintf(b, "%s_count %lld\n", name, count);
}

static enum MHD_Result metrics(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	struct lg_store *st = srv_store(srv);
	struct mbuf b = MBUF_INIT;
	struct lg_store_metrics m;
	int err;

	if (!st)
		return db_unavailable(c, r);
	/* Totals kept as events are added (store/metrics.c): no scan of the history. */
	if ((err = lg_store_metrics(st, &m)))
		return error_reply(c, r, err == LG_EBUSY ? 503 : 500, "internal", NULL, "the metrics cannot be read");
	mprintf(&b, "# HELP leakgate_pushes_total Pushes checked by the hook, by decision.\n"
		    "# TYPE leakgate_pushes_total counter\n");
	for (size_t i = 0; lg_event_kinds[i] && i < sizeof(m.by_kind) / sizeof(m.by_kind[0]); i++)
		mprintf(&b, "leakgate_pushes_total{kind=\"%s\"} %lld\n", lg_event_kinds[i], (long long)m.by_kind[i]);
	metrics_histogram(&b, "leakgate_push_duration_seconds", "Time the hook took per push.", m.duration,
			  m.nduration, 1000, (long long)m.events, (long long)m.duration_ms);
	metrics_histogram(&b, "leakgate_scan_bytes", "Bytes scanned per push.", m.bytes, m.nbytes, 1,
			  (long long)m.events, (long long)m.bytes_scanned);
	pthread_rwlock_rdlock(&srv->rs_lock);
	mprintf(&b, "# HELP leakgate_ruleset_info The live rule set.\n# TYPE leakgate_ruleset_info gauge\n"
		    "leakgate_ruleset_info{hash=\"%s\",rules=\"%zu\"} 1\n",
		lg_ruleset_hash(srv->rs), lg_ruleset_count(srv->rs));
	pthread_rwlock_unlock(&srv->rs_lock);
	mprintf(&b, "# HELP leakgate_http_requests_total API requests answered, by status class.\n"
		    "# TYPE leakgate_http_requests_total counter\n");
	pthread_mutex_lock(&srv->stats_lock);
	for (int i = 1; i <= 5; i++)
		mprintf(&b, "leakgate_http_requests_total{code=\"%dxx\"} %llu\n", i,
			(unsigned long long)srv->http_by_status[i]);
	pthread_mutex_unlock(&srv->stats_lock);
	if (b.err) {
		lg_vec_release(&b.v);
		return error_reply(c, r, 500, "internal", NULL, "out of memory while writing the metrics");
	}
	return send_body(c, r, 200, "text/plain; version=0.0.4", lg_vec_steal(&b.v));
}

/* ---- cached reads ---- */

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct mbuf *b = cls;

	(void)kind;
	mprintf(b, "%c%s=%s", b->v.n ? '&' : '?', key, value ? value : "");
	return MHD_YES;
}

/*
 * Serve a read from this thread's cache when the database and rule set are
 * as they were when the reply was made; otherwise note the key so that the
 * handler's 200 reply is kept. Returns 1 when answered.
 */
static int cached(struct server *srv, struct MHD_Connection *c, struct req *r, enum MHD_Result *ret)
{
	struct mbuf args = MBUF_INIT;
	struct MHD_Response *resp;
	const char *body;
	size_t len;

	if (srv_stamp(srv, &r->stamp))
		return 0;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &args);
	/* A key cut short could name another query's reply: no key, no cache. */
	if (args.err || asprintf(&r->cache_key, "%s%s", r->url, lg_vec_str(&args.v)) < 0)
		r->cache_key = NULL;
	lg_vec_release(&args.v);
	if (!r->cache_key || !(body = srv_cache_get(srv, r->cache_key, &r->stamp, &len)))
		return 0;
	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return 0;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	r->status = 200;
	*ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return 1;
}

/* ---- routing ---- */

static int authenticate(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	struct lg_store *st;

	if (!h || strncasecmp(h, "Bearer ", 7))
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	st = srv_store(srv);
	return st && lg_store_token_check(st, h, r->role, r->who, sizeof(r->who)) == 0;
}

static enum MHD_Result not_allowed(struct MHD_Connection *c, struct req *r, const char *allow)
{
	r->allow = allow;
	return error_reply(c, r, 405, "method_not_allowed", NULL, "use %s here", allow);
}

static enum MHD_Result route(struct server *srv, struct MHD_Connection *c, struct req *r)
{
	const char *m = r->method, *p = r->url;
	char seg[3][256];
	int nseg = 0, is_get = !strcmp(m, "GET") || !strcmp(m, "HEAD"), is_post = !strcmp(m, "POST");
	int need_admin;

	if (!strcmp(p, "/healthz"))
		return is_get ? healthz(srv, c, r) : not_allowed(c, r, "GET");
	if (strcmp(p, "/metrics") && strncmp(p, "/api/v1/", 8))
		return error_reply(c, r, 404, "not_found", NULL, "no such endpoint: %s", p);
	if (!authenticate(srv, c, r))
		return error_reply(c, r, 401, "unauthorized", NULL,
				   "a valid token is required: Authorization: Bearer <token> (leakgate token create)");
	if (!strcmp(p, "/metrics"))
		return is_get ? metrics(srv, c, r) : not_allowed(c, r, "GET");
	/* Split what follows /api/v1/ into at most three segments. */
	for (const char *s = p + 8; *s && nseg < 3;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 || n >= sizeof(seg[0]))
			return error_reply(c, r, 404, "not_found", NULL, "no such endpoint: %s", p);
		memcpy(seg[nseg], s, n);
		seg[nseg++][n] = '\0';
		s += n;
		if (*s == '/') {
			s++;
			if (!*s)
				break;
			if (nseg == 3)
				return error_reply(c, r, 404, "not_found", NULL, "no such endpoint: %s", p);
		}
	}
	need_admin = !is_get && !(is_post && nseg == 1 && !strcmp(seg[0], "scan")) &&
		     !(is_post && nseg == 2 && !strcmp(seg[0], "rules") && !strcmp(seg[1], "test"));
	if (need_admin && strcmp(r->role, "admin"))
		return error_reply(c, r, 403, "forbidden", NULL, "this needs an admin token");
	/* Listings and single rules and events: the same bytes until something changes. */
	r->srv = srv;
	if (is_get && nseg >= 1 && nseg <= 2 && (!strcmp(seg[0], "rules") || !strcmp(seg[0], "events"))) {
		enum MHD_Result ret;
		if (cached(srv, c, r, &ret))
			return ret;
	}

	if (nseg >= 1 && !strcmp(seg[0], "rules")) {
		if (nseg == 1)
			return is_get ? rules_list(srv, c, r) : is_post ? rules_put(srv, c, r, NULL) : not_allowed(c, r, "GET, POST");
		/* POST .../rules/test tries a rule; a rule may still be called "test". */
		if (nseg == 2 && !strcmp(seg[1], "test") && is_post)
			return rules_test(srv, c, r);
		if (nseg == 2) {
			if (is_get)
				return rules_get(srv, c, r, seg[1]);
			if (!strcmp(m, "PUT"))
				return rules_put(srv, c, r, seg[1]);
			if (!strcmp(m, "DELETE"))
				return rules_delete(srv, c, r, seg[1]);
			return not_allowed(c, r, "GET, PUT, DELETE");
		}
		if (nseg == 3 && (!strcmp(seg[2], "enable") || !strcmp(seg[2], "disable")))
			return is_post ? rules_enable(srv, c, r, seg[1], !strcmp(seg[2], "enable")) : not_allowed(c, r, "POST");
	} else if (nseg == 1 && !strcmp(seg[0], "scan")) {
		return is_post ? scan(srv, c, r) : not_allowed(c, r, "POST");
	} else if (nseg >= 1 && !strcmp(seg[0], "exemptions")) {
		if (nseg == 1)
			return is_get ? exemptions_list(srv, c, r) : is_post ? exemption_create(srv, c, r) : not_allowed(c, r, "GET, POST");
		if (nseg == 2) {
			int64_t id;
			json_t *o = NULL;
			struct lg_store *st = srv_store(srv);
			if (parse_id(seg[1], &id))
				return error_reply(c, r, 404, "not_found", NULL, "no exemption %s", seg[1]);
			if (!st)
				return db_unavailable(c, r);
			if (is_get)
				return lg_store_exemption_get(st, id, &o) ? error_reply(c, r, 404, "not_found", NULL, "no exemption %s", seg[1])
									  : reply(c, r, 200, o);
			if (!strcmp(m, "DELETE")) {
				struct lg_ops ops = req_ops(srv, r);
				struct lg_diag d;
				enum MHD_Result res;
				int err;
				lg_diag_init(&d);
				err = lg_ops_exemption_remove(&ops, id, &d);
				res = err ? ops_reply(c, r, err, &d, "the exemption cannot be removed")
					  : reply(c, r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1));
				lg_diag_release(&d);
				return res;
			}
			return not_allowed(c, r, "GET, DELETE");
		}
	} else if (nseg >= 1 && !strcmp(seg[0], "events")) {
		if (nseg == 1)
			return is_get ? events_list(srv, c, r) : not_allowed(c, r, "GET");
		if (nseg == 2) {
			int64_t id;
			json_t *o = NULL;
			struct lg_store *st = srv_store(srv);
			if (!is_get)
				return not_allowed(c, r, "GET");
			if (parse_id(seg[1], &id))
				return error_reply(c, r, 404, "not_found", NULL, "no event %s", seg[1]);
			if (!st)
				return db_unavailable(c, r);
			return lg_store_event_get(st, id, &o) ? error_reply(c, r, 404, "not_found", NULL, "no event %s", seg[1])
							      : reply(c, r, 200, o);
		}
	}
	return error_reply(c, r, 404, "not_found", NULL, "no such endpoint: %s", p);
}

enum MHD_Result api_handle(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const char *version, const char *upload_data,
			   size_t *upload_size, void **req_cls)
{
	struct server *srv = cls;
	struct req *r = *req_cls;

	(void)version;
	if (!r) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &r->t0);
		srv_guard_request(c, GUARD_HEADERS_IN);
		r->srv = srv;
		r->job.c = c;
		lg_diag_init(&r->job_diag);
		r->method = strdup(method);
		r->url = strdup(url);
		*req_cls = r;
		if (!r->method || !r->url)
			return MHD_NO;
		/* Refuse an announced oversized body before reading any of it. */
		if (cl && strtoull(cl, NULL, 10) > SRV_BODY_MAX)
			return error_reply(c, r, 413, "too_large", NULL, "the body is over %u bytes", SRV_BODY_MAX);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_large && r->len + *upload_size > SRV_BODY_MAX) {
			r->too_large = 1;
			free(r->body);
			r->body = NULL;
			r->len = r->cap = 0;
		}
		if (!r->too_large) {
			/* Out of memory for a body within the limit: the connection is closed, nothing half-read is used. */
			if (lg_array_reserve((void **)&r->body, &r->cap, r->len + *upload_size + 1, 1, SRV_BODY_MAX + 1))
				return MHD_NO;
			memcpy(r->body + r->len, upload_data, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->status)
		return MHD_YES; /* already answered (413 on the first call) */
	if (r->job_kind) {
		/* Called again once the job's connection was resumed. */
		if (!__atomic_load_n(&r->job.done, __ATOMIC_ACQUIRE))
			return MHD_YES;
		return job_reply(c, r);
	}
	if (r->too_large)
		return error_reply(c, r, 413, "too_large", NULL, "the body is over %u bytes", SRV_BODY_MAX);
	return route(srv, c, r);
}

void api_completed(void *cls, struct MHD_Connection *c, void **req_cls,
		   enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct req *r = *req_cls;
	struct timespec t1;
	char when[32], *method, *url;
	time_t now = time(NULL);
	struct tm tm;

	(void)toe;
	srv_guard_request(c, GUARD_DONE);
	if (!r)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/*
	 * The method and path as libmicrohttpd decoded them (%0A is a newline):
	 * printable, so that a request cannot write log lines of its own.
	 */
	method = r->method ? lg_text_printable(r->method, strlen(r->method)) : NULL;
	url = r->url ? lg_text_printable(r->url, strlen(r->url)) : NULL;
	fprintf(stderr, "%s %s %s %d %.1fms%s%s\n", when, method ? method : "-", url ? url : "-", r->status,
		(double)(t1.tv_sec - r->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6,
		r->who[0] ? " " : "", r->who);
	free(method);
	free(url);
	if (r->status >= 100 && r->status < 600) {
		pthread_mutex_lock(&srv->stats_lock);
		srv->http_by_status[r->status / 100]++;
		pthread_mutex_unlock(&srv->stats_lock);
	}
	free(r->method);
	free(r->url);
	free(r->body);
	free(r->cache_key);
	json_decref(r->job_rule);
	json_decref(r->job_verdict);
	json_decref(r->job_findings);
	free(r->job_text);
	free(r->job_path);
	lg_diag_release(&r->job_diag);
	free(r);
	*req_cls = NULL;
}
