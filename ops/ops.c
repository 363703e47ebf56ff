/*
 * The administration operations (ops.h), shared by the leakgate command
 * and the admin API so that the two cannot disagree. Every change is
 * validated whole before the store is touched: a rule alone and the rule
 * set it would make, an exemption's every field, a time's every step.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "file.h"
#include "loader.h"
#include "ops.h"
#include "ruleset.h"
#include "scanner.h"
#include "selftest.h"
#include "store.h"
#include "vec.h"

/* Limits of what a person types, each an error past it. */
#define OPS_REASON_MAX 2000
#define OPS_GLOB_MAX 4096
#define OPS_NAME_MAX 200
/*
 * Memory (address space) an isolated check may use. AddressSanitizer
 * reserves terabytes of address space for its shadow memory, so a
 * sanitizer build cannot run under this limit: there the CPU limit and
 * the deadline still hold, the memory limit does not.
 */
#define OPS_CHECK_MEMORY (2ull << 30)
#if defined(__SANITIZE_ADDRESS__)
#define OPS_CHECK_MEMORY_LIMITED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OPS_CHECK_MEMORY_LIMITED 0
#endif
#endif
#ifndef OPS_CHECK_MEMORY_LIMITED
#define OPS_CHECK_MEMORY_LIMITED 1
#endif

/* ---- the rule set ---- */

int lg_ops_load_rules(struct lg_store *st, const struct lg_load_opts *base, struct lg_ruleset **out,
		      int *from_cache, struct lg_diag *d)
{
	struct lg_load_opts o = *base;
	char *pack = NULL, **sdis = NULL;
	const char **dis = NULL;
	size_t nsdis = 0;
	int err;

	*out = NULL;
	if (st) {
		if ((err = lg_store_rule_sources(st, &pack, &sdis, &nsdis, d)))
			return err;
		/* Only states that turn rules off matter; ids of rules no longer there are skipped below. */
		dis = calloc(base->ndisabled + nsdis + 1, sizeof(*dis));
		if (!dis) {
			err = LG_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < base->ndisabled; i++)
			dis[i] = base->disabled[i];
		o.ndisabled = base->ndisabled;
		for (size_t i = 0; i < nsdis; i++)
			dis[o.ndisabled++] = sdis[i];
		o.disabled = dis;
		o.extra_json = pack;
		o.extra_name = "custom";
		o.lenient_disable = 1;
	}
	err = lg_ruleset_load(out, &o, from_cache, d);
out:
	free(pack);
	free(dis);
	lg_store_free_list(sdis, nsdis);
	return err;
}

/*
 * The rule set the store would make with rules (an array of rule
 * objects) in place of the custom rules of the same ids: compiled, so
 * every problem of the combination shows. The store is not changed.
 */
static int combined_check(const struct lg_ops *o, const json_t *rules, struct lg_diag *d)
{
	struct lg_load_opts lo;
	struct lg_ruleset *rs = NULL;
	char *pack = NULL, **sdis = NULL, *text = NULL;
	size_t nsdis = 0, i;
	json_t *doc = NULL, *arr, *r;
	int err;

	if ((err = lg_store_rule_sources(o->st, &pack, &sdis, &nsdis, d)))
		return err;
	doc = pack ? json_loads(pack, 0, NULL) : json_pack("{s:s, s:[]}", "pack", "custom", "rules");
	arr = json_object_get(doc, "rules");
	if (!json_is_array(arr)) {
		err = LG_ENOMEM;
		goto out;
	}
	json_array_foreach(rules, i, r) {
		const char *id = json_string_value(json_object_get(r, "id"));
		for (size_t k = json_array_size(arr); id && k-- > 0;)
			if (!strcmp(json_string_value(json_object_get(json_array_get(arr, k), "id")) ?: "", id))
				json_array_remove(arr, k);
		json_array_append(arr, r);
	}
	if (!(text = json_dumps(doc, JSON_COMPACT))) {
		err = LG_ENOMEM;
		goto out;
	}
	memset(&lo, 0, sizeof(lo));
	lo.extra_json = text;
	lo.extra_name = "custom";
	lo.disabled = (const char *const *)sdis;
	lo.ndisabled = nsdis;
	lo.lenient_disable = 1;
	lo.cache_dir = o->cache_dir;
	lo.cache_key = o->cache_key;
	err = lg_ruleset_load(&rs, &lo, NULL, d);
	if (err && err != LG_ENOMEM)
		err = LG_EINVALID;
out:
	lg_ruleset_free(rs);
	free(text);
	free(pack);
	lg_store_free_list(sdis, nsdis);
	json_decref(doc);
	return err;
}

/* The rule set as it is now (built-in and custom): for checking that ids exist. */
static int current_rules(const struct lg_ops *o, struct lg_ruleset **rs, struct lg_diag *d)
{
	struct lg_load_opts lo;

	memset(&lo, 0, sizeof(lo));
	lo.cache_dir = o->cache_dir;
	lo.cache_key = o->cache_key;
	return lg_ops_load_rules(o->st, &lo, rs, NULL, d);
}

/* ---- one candidate rule ---- */

static int to_json_findings(const struct lg_finding *f, void *ctx)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "rule_id", lg_rule_id(f->rule), "severity",
			      lg_severity_name(lg_rule_severity(f->rule)), "fingerprint", f->fingerprint, "preview",
			      f->preview);

	if (!o)
		return LG_ENOMEM;
	json_object_set_new(o, "line", f->line ? json_integer((json_int_t)f->line) : json_null());
	if (f->line)
		json_object_set_new(o, "column", json_integer((json_int_t)f->column));
	return json_array_append_new(ctx, o) ? LG_ENOMEM : 0;
}

int lg_ops_rule_check(const json_t *rule, const char *text, size_t text_len, const char *path,
		      size_t *examples, json_t **findings, struct lg_diag *d)
{
	json_t *pack = NULL;
	char *src = NULL;
	struct lg_ruleset *rs = NULL;
	struct lg_scanner *sc = NULL;
	struct lg_key key;
	size_t stressed = 0;
	int err;

	if (examples)
		*examples = 0;
	if (findings)
		*findings = NULL;
	if (!json_is_object(rule)) {
		lg_diag_add(d, NULL, NULL, NULL, "a rule must be a JSON object");
		return LG_EINVALID;
	}
	if (text && text_len > LG_OPS_TEST_TEXT_MAX) {
		lg_diag_add(d, NULL, NULL, "text", "longer than %u bytes", LG_OPS_TEST_TEXT_MAX);
		return LG_EINVALID;
	}
	pack = json_pack("{s:s, s:[O]}", "pack", "custom", "rules", rule);
	src = pack ? json_dumps(pack, JSON_COMPACT) : NULL;
	err = src ? lg_ruleset_new(&rs) : LG_ENOMEM;
	if (!err)
		err = lg_ruleset_add_json(rs, "custom", src, strlen(src), d);
	if (!err)
		err = lg_ruleset_compile(rs, NULL, NULL, d);
	if (!err)
		err = lg_selftest_run(rs, examples ? examples : &(size_t){0}, d);
	if (!err)
		err = lg_selftest_stress(rs, &stressed, d);
	if (!err && text) {
		json_t *a = json_array();
		memset(&key, 0, sizeof(key));
		lg_key_random(&key);
		err = a ? lg_scanner_new(&sc, rs, &key) : LG_ENOMEM;
		if (!err && (err = lg_scan_buffer(sc, path, text, text_len, to_json_findings, a)))
			lg_diag_add(d, NULL, NULL, "text", "the scan did not complete: %s", lg_scanner_error(sc));
		if (findings)
			*findings = a;
		else
			json_decref(a);
		lg_scanner_free(sc);
		if (err)
			err = err == LG_ENOMEM ? err : LG_ELIMIT;
	}
	if (err && err != LG_ENOMEM && err != LG_ELIMIT)
		err = LG_EINVALID;
	lg_ruleset_free(rs);
	free(src);
	json_decref(pack);
	return err;
}

static json_t *diag_array(const struct lg_diag *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n; i++) {
		const struct lg_diag_entry *e = &d->v[i];
		json_t *o = json_pack("{s:s}", "message", e->message ? e->message : "");
		json_object_set_new(o, "rule_id", e->rule_id ? json_string(e->rule_id) : json_null());
		json_object_set_new(o, "field", e->field ? json_string(e->field) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

/* The verdict of a check made here, as the isolated one reports it. */
static json_t *verdict_of(int err, size_t examples, json_t *findings, const struct lg_diag *d)
{
	json_t *v = json_object();

	json_object_set_new(v, "valid", json_boolean(err == LG_OK || err == LG_ELIMIT));
	json_object_set_new(v, "complete", json_boolean(err != LG_ELIMIT));
	json_object_set_new(v, "problems", err == LG_ELIMIT ? json_array() : diag_array(d));
	json_object_set_new(v, "examples_checked", json_integer((json_int_t)examples));
	json_object_set_new(v, "findings", findings ? findings : json_array());
	if (err == LG_ELIMIT && d->n)
		json_object_set_new(v, "error", json_string(d->v[d->n - 1].message));
	return v;
}

/*
 * Run `prog rules check-candidate` on the request (a JSON document) with a
 * CPU-time and memory limit and a wall-clock deadline; its verdict JSON
 * into *out.
 */
static int run_isolated(const char *prog, int seconds, const char *rule_id, const char *request, json_t **out,
			struct lg_diag *d)
{
	char in_path[] = "/tmp/leakgate-check-XXXXXX";
	int in = mkstemp(in_path), pipefd[2] = {-1, -1}, status = 0, err = LG_ERROR, timed_out = 0;
	struct lg_vec got = LG_VEC_INIT(1, 64u << 20);
	int64_t deadline;
	pid_t pid = -1;

	*out = NULL;
	if (in < 0) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot make a temporary file for the check: %s", strerror(errno));
		return LG_EIO;
	}
	unlink(in_path);
	if (lg_fd_write_all(in, request, strlen(request)) || lseek(in, 0, SEEK_SET) != 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot hand the rule to its check: %s", strerror(errno));
		err = LG_EIO;
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls until exec: this process may have threads. */
		struct rlimit cpu = {(rlim_t)seconds, (rlim_t)seconds + 1}, mem = {OPS_CHECK_MEMORY, OPS_CHECK_MEMORY};
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in, 0) < 0 || dup2(pipefd[1], 1) < 0 || setrlimit(RLIMIT_CPU, &cpu) < 0 ||
		    (OPS_CHECK_MEMORY_LIMITED && setrlimit(RLIMIT_AS, &mem) < 0))
			_exit(126);
		execl(prog, prog, "rules", "check-candidate", (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot start the rule's check: %s", strerror(errno));
		goto out;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	deadline = lg_now_ms() + (int64_t)seconds * 1000 + 2000;
	for (;;) {
		struct pollfd p = {pipefd[0], POLLIN, 0};
		int64_t left = deadline - lg_now_ms();
		char buf[65536];
		ssize_t k;
		int r;
		if (left <= 0) {
			/* Past the CPU limit and then some: a check stuck off the CPU. */
			kill(pid, SIGKILL);
			timed_out = 1;
			break;
		}
		r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0)
			continue;
		k = read(pipefd[0], buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || lg_vec_putn(&got, buf, (size_t)k))
			break;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0 && got.n &&
	    (*out = json_loads(lg_vec_str(&got), 0, NULL))) {
		err = LG_OK;
	} else if (timed_out || (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL))) {
		lg_diag_add(d, NULL, rule_id, "pattern",
			    "checking the rule took more than %d s (its patterns compile too slowly): simplify them",
			    seconds);
		err = LG_ETIMEDOUT;
	} else {
		lg_diag_add(d, NULL, NULL, NULL, "the rule's check failed (%s %d): is %s the leakgate program?",
			    WIFSIGNALED(status) ? "signal" : "exit status",
			    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), prog);
		err = LG_ERROR;
	}
out:
	close(in);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	lg_vec_release(&got);
	return err;
}

int lg_ops_rule_check_run(const struct lg_ops *o, const json_t *rule, const char *text, size_t text_len,
			  const char *path, json_t **verdict)
{
	struct lg_diag d;
	size_t examples = 0;
	json_t *findings = NULL;
	int err;

	*verdict = NULL;
	lg_diag_init(&d);
	if (o->isolate_with) {
		json_t *req = json_pack("{s:O}", "rule", rule);
		char *s;
		if (text)
			json_object_set_new(req, "text", json_stringn(text, text_len));
		if (path)
			json_object_set_new(req, "path", json_string(path));
		s = req ? json_dumps(req, JSON_COMPACT) : NULL;
		json_decref(req);
		err = s ? run_isolated(o->isolate_with, o->check_seconds ? o->check_seconds : LG_OPS_CHECK_SECONDS,
				       json_string_value(json_object_get(rule, "id")), s, verdict, &d)
			: LG_ENOMEM;
		free(s);
		if (err == LG_ETIMEDOUT)
			*verdict = verdict_of(LG_EINVALID, 0, NULL, &d);
		lg_diag_release(&d);
		return err == LG_ETIMEDOUT ? LG_OK : err;
	}
	err = lg_ops_rule_check(rule, text, text_len, path, &examples, &findings, &d);
	if (err == LG_ENOMEM) {
		json_decref(findings);
		lg_diag_release(&d);
		return err;
	}
	*verdict = verdict_of(err, examples, findings, &d);
	lg_diag_release(&d);
	return LG_OK;
}

/* The check of one rule as a change needs it: 0 valid, LG_EINVALID with every problem in d. */
static int check_candidate(const struct lg_ops *o, const json_t *rule, struct lg_diag *d)
{
	json_t *v = NULL, *p;
	size_t i;
	int err = lg_ops_rule_check_run(o, rule, NULL, 0, NULL, &v);

	if (err)
		return err;
	if (json_is_true(json_object_get(v, "valid"))) {
		json_decref(v);
		return LG_OK;
	}
	json_array_foreach(json_object_get(v, "problems"), i, p)
		lg_diag_add(d, NULL, json_string_value(json_object_get(p, "rule_id")),
			    json_string_value(json_object_get(p, "field")), "%s",
			    json_string_value(json_object_get(p, "message")) ?: "");
	if (!json_array_size(json_object_get(v, "problems")))
		lg_diag_add(d, NULL, NULL, NULL, "the rule is not valid");
	json_decref(v);
	return LG_EINVALID;
}

/* ---- rule changes ---- */

static const char *rule_id_of(const json_t *rule)
{
	return json_string_value(json_object_get(rule, "id"));
}

enum put_mode { PUT_NEW, PUT_REPLACE, PUT_ANY };

/*
 * Store rules (an array) as custom rules: each checked alone, then the
 * rule set they make together with every other rule, then all written in
 * one transaction. PUT_NEW refuses ids that exist, PUT_REPLACE ids that
 * are not custom rules, PUT_ANY (a pack added again) takes both new and
 * custom ids. A built-in rule's id is always refused: storing it would
 * make every rule set fail to load.
 */
static int put_rules(const struct lg_ops *o, const json_t *rules, enum put_mode mode, struct lg_diag *d)
{
	struct lg_ruleset *rs = NULL;
	size_t i, n = json_array_size(rules);
	json_t *r;
	int err, bad = 0, *custom = NULL;

	if (!json_is_array(rules) || n == 0) {
		lg_diag_add(d, NULL, NULL, "rules", "no rules given");
		return LG_EINVALID;
	}
	if (n > LG_RULES_MAX) {
		lg_diag_add(d, NULL, NULL, "rules", "more than %d rules", LG_RULES_MAX);
		return LG_EINVALID;
	}
	if (!(custom = calloc(n, sizeof(*custom))))
		return LG_ENOMEM;
	json_array_foreach(rules, i, r) {
		const char *id = rule_id_of(r);
		if ((err = check_candidate(o, r, d))) {
			if (err != LG_EINVALID)
				goto out;
			bad = 1;
			continue;
		}
		for (size_t k = 0; k < i && id; k++)
			if (!strcmp(rule_id_of(json_array_get(rules, k)) ?: "", id)) {
				lg_diag_add(d, NULL, id, "id", "given twice");
				bad = 1;
			}
	}
	if (bad) {
		err = LG_EINVALID;
		goto out;
	}
	if ((err = current_rules(o, &rs, d))) {
		err = err == LG_ENOMEM ? err : LG_EINVALID;
		goto out;
	}
	json_array_foreach(rules, i, r) {
		const char *id = rule_id_of(r);
		char *old = NULL;
		custom[i] = lg_store_rule_get(o->st, id, &old) == 0;
		free(old);
		if (!custom[i] && lg_ruleset_find(rs, id)) {
			lg_diag_add(d, NULL, id, "id", "a built-in rule has this id: built-in rules can be disabled, "
				    "not replaced; give yours another id");
			err = LG_EEXISTS;
		} else if (custom[i] && mode == PUT_NEW) {
			lg_diag_add(d, NULL, id, "id", "a custom rule has this id already");
			err = LG_EEXISTS;
		} else if (!custom[i] && mode == PUT_REPLACE) {
			lg_diag_add(d, NULL, id, NULL, "no custom rule has the id '%s'", id);
			err = LG_ENOTFOUND;
		}
	}
	if (err)
		goto out;
	/* Checked whole before anything is written: a refused change leaves every rule as it was. */
	if ((err = combined_check(o, rules, d)))
		goto out;
	if ((err = lg_store_begin(o->st)))
		goto out;
	json_array_foreach(rules, i, r) {
		char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
		err = text ? lg_store_rule_put(o->st, rule_id_of(r), text, o->by, !custom[i]) : LG_ENOMEM;
		free(text);
		if (err)
			break;
	}
	if (err)
		lg_store_rollback(o->st);
	else
		err = lg_store_commit(o->st);
	if (err == LG_EEXISTS)
		lg_diag_add(d, NULL, NULL, "id", "another change stored the same id meanwhile: try again");
out:
	free(custom);
	lg_ruleset_free(rs);
	return err;
}

int lg_ops_rule_add(const struct lg_ops *o, const json_t *rule, struct lg_diag *d)
{
	json_t *one = json_pack("[O]", rule);
	int err;

	if (!json_is_object(rule)) {
		json_decref(one);
		lg_diag_add(d, NULL, NULL, NULL, "a rule must be a JSON object");
		return LG_EINVALID;
	}
	err = one ? put_rules(o, one, PUT_NEW, d) : LG_ENOMEM;
	json_decref(one);
	return err;
}

int lg_ops_rules_put(const struct lg_ops *o, const json_t *rules, struct lg_diag *d)
{
	return put_rules(o, rules, PUT_ANY, d);
}

int lg_ops_rule_update(const struct lg_ops *o, const char *id, const json_t *rule, struct lg_diag *d)
{
	const char *rid = rule_id_of(rule);
	json_t *one;
	int err;

	if (!json_is_object(rule)) {
		lg_diag_add(d, NULL, NULL, NULL, "a rule must be a JSON object");
		return LG_EINVALID;
	}
	if (rid && strcmp(rid, id)) {
		lg_diag_add(d, NULL, id, "id", "the rule's id must be '%s', the one it replaces", id);
		return LG_EINVALID;
	}
	one = json_pack("[O]", rule);
	err = one ? put_rules(o, one, PUT_REPLACE, d) : LG_ENOMEM;
	json_decref(one);
	return err;
}

int lg_ops_rule_remove(const struct lg_ops *o, const char *id, struct lg_diag *d)
{
	struct lg_ruleset *rs = NULL;
	int err = lg_store_rule_delete(o->st, id);

	if (err != LG_ENOTFOUND)
		return err;
	if (current_rules(o, &rs, d) == 0 && lg_ruleset_find(rs, id)) {
		lg_diag_add(d, NULL, id, NULL, "'%s' is a built-in rule: disable it instead", id);
		err = LG_EEXISTS;
	} else {
		lg_diag_add(d, NULL, id, NULL, "no custom rule has the id '%s'", id);
	}
	lg_ruleset_free(rs);
	return err;
}

int lg_ops_rule_set_enabled(const struct lg_ops *o, const char *id, int on, struct lg_diag *d)
{
	struct lg_ruleset *rs = NULL;
	int err = current_rules(o, &rs, d);

	if (!err && !lg_ruleset_find(rs, id)) {
		lg_diag_add(d, NULL, id, NULL, "no rule has the id '%s'", id);
		err = LG_ENOTFOUND;
	}
	lg_ruleset_free(rs);
	if (!err)
		err = lg_store_rule_set_enabled(o->st, id, on, o->by);
	return err;
}

int lg_ops_rule_is_enabled(struct lg_store *st, const char *id)
{
	return lg_store_rule_enabled(st, id) != 0;
}

/* ---- exemptions ---- */

int lg_ops_valid_fingerprint(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n != 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A string a person typed: present, not too long, no control characters. */
static int check_text(const char *v, const char *field, size_t max, struct lg_diag *d)
{
	size_t n = strlen(v);

	if (!n) {
		lg_diag_add(d, NULL, NULL, field, "must not be empty");
		return 0;
	}
	if (n > max) {
		lg_diag_add(d, NULL, NULL, field, "longer than %zu characters", max);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			lg_diag_add(d, NULL, NULL, field, "has a control character");
			return 0;
		}
	return 1;
}

int lg_ops_exemption_add(const struct lg_ops *o, const struct lg_exemption_spec *s, int64_t *id_out,
			 struct lg_diag *d)
{
	struct lg_exemption e;
	int64_t now = lg_now_ms();
	size_t before = d ? d->n : 0;
	int bad = 0, err;

	memset(&e, 0, sizeof(e));
	if (!s->reason)
		lg_diag_add(d, NULL, NULL, "reason", "a reason is required"), bad = 1;
	else if (!check_text(s->reason, "reason", OPS_REASON_MAX, d))
		bad = 1;
	if (!s->fingerprint && !s->rule_id && !s->path)
		lg_diag_add(d, NULL, NULL, "fingerprint", "give at least one of fingerprint, rule_id, path"), bad = 1;
	if (s->fingerprint && !lg_ops_valid_fingerprint(s->fingerprint))
		lg_diag_add(d, NULL, NULL, "fingerprint",
			    "must be the 32 lower-case hex digits shown in the rejection"), bad = 1;
	if (s->repo && !check_text(s->repo, "repo", OPS_GLOB_MAX, d))
		bad = 1;
	if (s->path && !check_text(s->path, "path", OPS_GLOB_MAX, d))
		bad = 1;
	if (s->expires) {
		if (lg_ops_parse_time(s->expires, LG_TIME_FUTURE, now, &e.expires_ms))
			lg_diag_add(d, NULL, NULL, "expires",
				    "must be YYYY-MM-DD, RFC 3339 (2027-01-31T00:00:00Z), Unix seconds, or a "
				    "duration from now such as 30d"), bad = 1;
	} else {
		e.expires_ms = s->expires_ms;
	}
	if (!bad && e.expires_ms && e.expires_ms <= now)
		lg_diag_add(d, NULL, NULL, "expires", "is in the past: the exemption would never apply"), bad = 1;
	if (s->rule_id) {
		struct lg_ruleset *rs = NULL;
		if (!check_text(s->rule_id, "rule_id", 64, d)) {
			bad = 1;
		} else if ((err = current_rules(o, &rs, d))) {
			lg_ruleset_free(rs);
			return err;
		} else if (!lg_ruleset_find(rs, s->rule_id)) {
			lg_diag_add(d, NULL, s->rule_id, "rule_id", "no rule has the id '%s'", s->rule_id);
			bad = 1;
		}
		lg_ruleset_free(rs);
	}
	if (!o->by || !*o->by)
		lg_diag_add(d, NULL, NULL, NULL, "who makes the exemption is not known"), bad = 1;
	if (bad || (d && d->n > before))
		return LG_EINVALID;
	e.repo_glob = (char *)s->repo;
	e.fingerprint = (char *)s->fingerprint;
	e.rule_id = (char *)s->rule_id;
	e.path_glob = (char *)s->path;
	return lg_store_exemption_add(o->st, &e, s->reason, o->by, id_out);
}

int lg_ops_exemption_remove(const struct lg_ops *o, int64_t id, struct lg_diag *d)
{
	int err = lg_store_exemption_delete(o->st, id);

	if (err == LG_ENOTFOUND)
		lg_diag_add(d, NULL, NULL, NULL, "no exemption #%lld", (long long)id);
	return err;
}

/* ---- tokens ---- */

int lg_ops_token_create(const struct lg_ops *o, const char *role, const char *name, char **token,
			int64_t *id_out, struct lg_diag *d)
{
	*token = NULL;
	if (!role || (strcmp(role, "admin") && strcmp(role, "read"))) {
		lg_diag_add(d, NULL, NULL, "role", "must be admin or read");
		return LG_EINVALID;
	}
	if (name && strlen(name) > OPS_NAME_MAX) {
		lg_diag_add(d, NULL, NULL, "name", "longer than %d characters", OPS_NAME_MAX);
		return LG_EINVALID;
	}
	if (name && *name && !check_text(name, "name", OPS_NAME_MAX, d))
		return LG_EINVALID;
	return lg_store_token_create(o->st, role, name, token, id_out);
}

int lg_ops_token_revoke(const struct lg_ops *o, int64_t id, struct lg_diag *d)
{
	int err = lg_store_token_revoke(o->st, id);

	if (err == LG_ENOTFOUND)
		lg_diag_add(d, NULL, NULL, NULL, "no active token #%lld", (long long)id);
	return err;
}

/* ---- times and ids ---- */

/* Unix milliseconds that are safe in every use: 0 to year 9999. */
#define OPS_TIME_MAX_MS 253402300799999LL

int lg_ops_parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (!s || !isdigit((unsigned char)*s))
		return LG_EINVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno == ERANGE || v <= 0 || v > (1LL << 53))
		return LG_EINVALID;
	*id = v;
	return LG_OK;
}

int lg_ops_parse_time(const char *s, enum lg_time_dir dir, int64_t now_ms, int64_t *ms)
{
	struct tm tm;
	char *end;
	long long v;
	const char *p;
	int off = 0;
	int64_t unit = 0, t;

	if (!s || !*s)
		return LG_EINVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end != s && errno != ERANGE && v >= 0) {
		if (*end == '\0') {
			/* Unix seconds */
			if (v > OPS_TIME_MAX_MS / 1000)
				return LG_EINVALID;
			*ms = (int64_t)v * 1000;
			return LG_OK;
		}
		if (end[1] == '\0') {
			switch (end[0]) {
			case 's': unit = 1000; break;
			case 'm': unit = 60000; break;
			case 'h': unit = 3600000; break;
			case 'd': case 'D': unit = 86400000; break;
			case 'w': unit = 7 * 86400000LL; break;
			}
		}
		if (unit) {
			if (v > OPS_TIME_MAX_MS / unit)
				return LG_EINVALID;
			t = dir == LG_TIME_PAST ? now_ms - (int64_t)v * unit : now_ms + (int64_t)v * unit;
			if (t < 0 || t > OPS_TIME_MAX_MS)
				return LG_EINVALID;
			*ms = t;
			return LG_OK;
		}
	}
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!p) {
		memset(&tm, 0, sizeof(tm));
		p = strptime(s, "%Y-%m-%d", &tm);
		if (!p || *p)
			return LG_EINVALID;
	}
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		   p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	}
	if (*p)
		return LG_EINVALID;
	{
		time_t secs = timegm(&tm);
		if (secs == (time_t)-1 || secs < 0 || (int64_t)secs - off < 0 ||
		    (int64_t)secs - off > OPS_TIME_MAX_MS / 1000)
			return LG_EINVALID;
		*ms = ((int64_t)secs - off) * 1000;
	}
	return LG_OK;
}
