/*
 * The administration commands that work on the state database directly,
 * on the host: token, exemptions, events, and the rules changes (add,
 * disable, enable, remove). A running leakgated picks rule changes up on
 * SIGHUP; the hook reads the database at every push anyway.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "loader.h"
#include "ops.h"
#include "selftest.h"
#include "store.h"

struct common {
	const char *db;
	int json;
};

struct lg_store *cli_open_store(const char *db, int create, char **path_out)
{
	struct lg_store *st = NULL;
	struct lg_diag d;
	char *path = db ? strdup(db) : lg_store_default_path();

	lg_diag_init(&d);
	if (!path) {
		fprintf(stderr, "leakgate: no database: give --db PATH or set LEAKGATE_DB\n");
	} else if (lg_store_open(&st, path, create, &d)) {
		cli_print_diag("cannot open the database:", &d);
		st = NULL;
	}
	lg_diag_release(&d);
	if (path_out)
		*path_out = path;
	else
		free(path);
	return st;
}

static struct lg_store *open_store(const struct common *o)
{
	return cli_open_store(o->db, 1, NULL);
}

/* Who the CLI's changes are made by: the login of the account that runs it. */
static const char *cli_who(void)
{
	static char who[300];
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");

	if (!who[0])
		snprintf(who, sizeof(who), "cli:%s%s%s", pw ? pw->pw_name : "unknown", sudo && *sudo ? " via sudo by " : "",
			 sudo && *sudo ? sudo : "");
	return who;
}

static struct lg_ops cli_ops(struct lg_store *st)
{
	struct lg_ops o;

	memset(&o, 0, sizeof(o));
	o.st = st;
	o.by = cli_who();
	return o;
}

static void print_json(json_t *doc)
{
	json_dumpf(doc, stdout, JSON_INDENT(2));
	putchar('\n');
}

/* Options every admin command takes; returns the index of the first operand or -1. */
static int parse_common(int argc, char **argv, struct common *o, const char *usage,
			const struct option *extra, int (*on_extra)(int opt, const char *arg, void *ctx),
			void *ctx)
{
	struct option opts[16];
	size_t n = 0;
	int opt;

	opts[n++] = (struct option){"db", required_argument, 0, 'D'};
	opts[n++] = (struct option){"json", no_argument, 0, 'J'};
	opts[n++] = (struct option){"help", no_argument, 0, 'h'};
	for (size_t i = 0; extra && extra[i].name && n < 15; i++)
		opts[n++] = extra[i];
	opts[n] = (struct option){0, 0, 0, 0};
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'D')
			o->db = optarg;
		else if (opt == 'J')
			o->json = 1;
		else if (opt == 'h') {
			printf("%s", usage);
			exit(0);
		} else if (opt == '?' || !on_extra || on_extra(opt, optarg, ctx)) {
			fprintf(stderr, "%s", usage);
			return -1;
		}
	}
	return optind;
}

/* ---- token ---- */

struct token_opts {
	const char *role, *name;
};

static int token_opt(int opt, const char *arg, void *ctx)
{
	struct token_opts *t = ctx;
	if (opt == 'r')
		t->role = arg;
	else if (opt == 'n')
		t->name = arg;
	else
		return -1;
	return 0;
}

int cmd_token(int argc, char **argv)
{
	static const char usage[] =
		"usage: leakgate token create --role admin|read [--name NAME] [--db PATH]\n"
		"       leakgate token list [--db PATH] [--json]\n"
		"       leakgate token revoke ID [--db PATH]\n";
	static const struct option extra[] = {
		{"role", required_argument, 0, 'r'}, {"name", required_argument, 0, 'n'}, {0, 0, 0, 0}};
	struct common o = {0};
	struct token_opts t = {0};
	struct lg_store *st = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	int i, status = 2;

	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		printf("%s", usage);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	i = parse_common(argc - 1, argv + 1, &o, usage, extra, token_opt, &t);
	if (i < 0)
		return 2;
	i += 1;
	if (!strcmp(sub, "create")) {
		char *token = NULL;
		int64_t id = 0;
		if (!t.role || (strcmp(t.role, "admin") && strcmp(t.role, "read")) || i != argc) {
			fprintf(stderr, "leakgate token create: --role must be admin or read\n");
			return 2;
		}
		if (!(st = open_store(&o)))
			return 2;
		{
			struct lg_ops ops = cli_ops(st);
			struct lg_diag d;
			lg_diag_init(&d);
			if (lg_ops_token_create(&ops, t.role, t.name, &token, &id, &d) == 0) {
				printf("Created %s token #%lld%s%s. It is shown once; keep it safe:\n", t.role,
				       (long long)id, t.name ? " " : "", t.name ? t.name : "");
				printf("%s\n", token);
				status = 0;
			} else {
				cli_print_diag("the token could not be made:", &d);
				status = 1;
			}
			lg_diag_release(&d);
		}
		free(token);
	} else if (!strcmp(sub, "list")) {
		json_t *a = NULL;
		size_t k;
		json_t *v;
		if (!(st = open_store(&o)))
			return 2;
		if (lg_store_tokens_list(st, &a) == 0) {
			if (o.json) {
				print_json(a);
			} else {
				json_array_foreach(a, k, v) {
					printf("#%-4lld %-5s %-14s created %s%s%s  %s\n",
					       (long long)json_integer_value(json_object_get(v, "id")),
					       json_string_value(json_object_get(v, "role")),
					       json_string_value(json_object_get(v, "prefix")),
					       json_string_value(json_object_get(v, "created")),
					       json_is_string(json_object_get(v, "revoked")) ? ", revoked " : "",
					       json_is_string(json_object_get(v, "revoked"))
						       ? json_string_value(json_object_get(v, "revoked"))
						       : "",
					       json_string_value(json_object_get(v, "name")));
				}
				if (json_array_size(a) == 0)
					printf("no tokens\n");
			}
			status = 0;
		}
		json_decref(a);
	} else if (!strcmp(sub, "revoke")) {
		int64_t id = 0;
		struct lg_diag d;
		if (i + 1 != argc || lg_ops_parse_id(argv[i], &id)) {
			fprintf(stderr, "leakgate token revoke: give the token's number (from token list)\n");
			return 2;
		}
		if (!(st = open_store(&o)))
			return 2;
		lg_diag_init(&d);
		{
			struct lg_ops ops = cli_ops(st);
			if (lg_ops_token_revoke(&ops, id, &d) == 0) {
				printf("revoked token #%lld\n", (long long)id);
				status = 0;
			} else {
				cli_print_diag("the token could not be revoked:", &d);
				status = 1;
			}
		}
		lg_diag_release(&d);
	} else {
		fprintf(stderr, "%s", usage);
	}
	lg_store_close(st);
	return status;
}

/* ---- exemptions ---- */

struct ex_opts {
	struct lg_exemption e;
	const char *reason, *expires, *repo_filter, *rule_filter;
	int expired;
};

static int ex_opt(int opt, const char *arg, void *ctx)
{
	struct ex_opts *x = ctx;
	switch (opt) {
	case 'r': x->e.repo_glob = (char *)arg; x->repo_filter = arg; break;
	case 'f': x->e.fingerprint = (char *)arg; break;
	case 'u': x->e.rule_id = (char *)arg; x->rule_filter = arg; break;
	case 'p': x->e.path_glob = (char *)arg; break;
	case 'R': x->reason = arg; break;
	case 'e': x->expires = arg; break;
	case 'x': x->expired = 1; break;
	case 'a': x->expired = 0; break;
	default: return -1;
	}
	return 0;
}

int cmd_exemptions(int argc, char **argv)
{
	static const char usage[] =
		"usage: leakgate exemptions list [--repo REPO] [--rule ID] [--expired|--active] [--json] [--db PATH]\n"
		"       leakgate exemptions add --reason TEXT [--fingerprint FP] [--rule ID] [--path GLOB]\n"
		"                               [--repo GLOB] [--expires DATE|Nd] [--db PATH]\n"
		"       leakgate exemptions remove ID [--db PATH]\n";
	static const struct option extra[] = {
		{"repo", required_argument, 0, 'r'},   {"fingerprint", required_argument, 0, 'f'},
		{"rule", required_argument, 0, 'u'},   {"path", required_argument, 0, 'p'},
		{"reason", required_argument, 0, 'R'}, {"expires", required_argument, 0, 'e'},
		{"expired", no_argument, 0, 'x'},      {"active", no_argument, 0, 'a'},
		{0, 0, 0, 0}};
	struct common o = {0};
	struct ex_opts x;
	struct lg_store *st = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	int i, status = 2;

	memset(&x, 0, sizeof(x));
	x.expired = -1;
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		printf("%s", usage);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	i = parse_common(argc - 1, argv + 1, &o, usage, extra, ex_opt, &x);
	if (i < 0)
		return 2;
	i += 1;
	if (!strcmp(sub, "list")) {
		json_t *a = NULL, *v;
		size_t k;
		if (!(st = open_store(&o)))
			return 2;
		if (lg_store_exemptions_list(st, x.repo_filter, x.rule_filter, x.expired, &a) == 0) {
			if (o.json) {
				print_json(a);
			} else {
				json_array_foreach(a, k, v) {
					const char *fp = json_string_value(json_object_get(v, "fingerprint"));
					const char *rule = json_string_value(json_object_get(v, "rule_id"));
					const char *path = json_string_value(json_object_get(v, "path"));
					const char *exp = json_string_value(json_object_get(v, "expires"));
					printf("#%-4lld repo %s%s%s%s%s%s%s  expires %s%s\n    reason: %s\n",
					       (long long)json_integer_value(json_object_get(v, "id")),
					       json_string_value(json_object_get(v, "repo")),
					       fp ? "  fingerprint " : "", fp ? fp : "", rule ? "  rule " : "",
					       rule ? rule : "", path ? "  path " : "", path ? path : "",
					       exp ? exp : "never",
					       json_is_true(json_object_get(v, "expired")) ? " (expired)" : "",
					       json_string_value(json_object_get(v, "reason")));
				}
				if (json_array_size(a) == 0)
					printf("no exemptions\n");
			}
			status = 0;
		}
		json_decref(a);
	} else if (!strcmp(sub, "add")) {
		int64_t id = 0;
		struct lg_exemption_spec spec;
		struct lg_diag d;
		if (i != argc) {
			fprintf(stderr, "%s", usage);
			return 2;
		}
		if (!(st = open_store(&o)))
			return 2;
		memset(&spec, 0, sizeof(spec));
		spec.repo = x.e.repo_glob;
		spec.fingerprint = x.e.fingerprint;
		spec.rule_id = x.e.rule_id;
		spec.path = x.e.path_glob;
		spec.reason = x.reason;
		spec.expires = x.expires;
		lg_diag_init(&d);
		{
			struct lg_ops ops = cli_ops(st);
			int err = lg_ops_exemption_add(&ops, &spec, &id, &d);
			if (!err) {
				printf("added exemption #%lld\n", (long long)id);
				status = 0;
			} else {
				cli_print_diag("the exemption is refused:", &d);
				status = err == LG_EINVALID ? 2 : 1;
			}
		}
		lg_diag_release(&d);
	} else if (!strcmp(sub, "remove")) {
		int64_t id = 0;
		struct lg_diag d;
		if (i + 1 != argc || lg_ops_parse_id(argv[i], &id)) {
			fprintf(stderr, "leakgate exemptions remove: give the exemption's number\n");
			return 2;
		}
		if (!(st = open_store(&o)))
			return 2;
		lg_diag_init(&d);
		{
			struct lg_ops ops = cli_ops(st);
			status = lg_ops_exemption_remove(&ops, id, &d) == 0 ? 0 : 1;
		}
		if (status)
			cli_print_diag("the exemption could not be removed:", &d);
		else
			printf("removed exemption #%lld\n", (long long)id);
		lg_diag_release(&d);
	} else {
		fprintf(stderr, "%s", usage);
	}
	lg_store_close(st);
	return status;
}

/* ---- events ---- */

struct ev_opts {
	struct lg_event_filter f;
	const char *since, *until;
	int bad; /* an option value was refused (already said) */
};

/* A whole positive decimal number within max, else -1. */
static long long parse_count(const char *s, long long max)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end || errno == ERANGE || v <= 0 || v > max ? -1 : v;
}

static int ev_opt(int opt, const char *arg, void *ctx)
{
	struct ev_opts *e = ctx;
	switch (opt) {
	case 'r': e->f.repo = arg; break;
	case 'p': e->f.pusher = arg; break;
	case 'k': e->f.kind = arg; break;
	case 's': e->since = arg; break;
	case 'u': e->until = arg; break;
	case 'l':
		if ((e->f.limit = (int)parse_count(arg, 500)) < 0) {
			fprintf(stderr, "leakgate events: --limit must be 1 to 500\n");
			e->bad = 1;
		}
		break;
	case 'c':
		if ((e->f.before_id = parse_count(arg, INT64_MAX)) < 0) {
			fprintf(stderr, "leakgate events: --cursor takes the id of an event (the last one of "
					"the previous page)\n");
			e->bad = 1;
		}
		break;
	default: return -1;
	}
	return 0;
}

/* Events that could not be written to the database wait in its spool: say so. */
static void spool_note(const char *db)
{
	long n = db ? lg_spool_depth(db) : 0;

	if (n > 0)
		fprintf(stderr, "leakgate: %ld event%s wait%s in the spool %s.spool (the database could not take "
				"them); they are moved in when the database can be written again\n",
			n, n == 1 ? "" : "s", n == 1 ? "s" : "", db);
}

int cmd_events(int argc, char **argv)
{
	static const char usage[] =
		"usage: leakgate events [--repo REPO] [--pusher NAME] [--kind KIND] [--since TIME]\n"
		"                       [--until TIME] [--limit N] [--cursor ID] [--json] [--db PATH]\n"
		"KIND: accepted, rejected, bypassed, exempted, warned, failed. TIME: YYYY-MM-DD,\n"
		"RFC 3339 or Unix seconds. Newest first, N per page (default 50, at most 500);\n"
		"--cursor ID continues with the events older than event ID (the last one shown).\n";
	static const struct option extra[] = {
		{"repo", required_argument, 0, 'r'},  {"pusher", required_argument, 0, 'p'},
		{"kind", required_argument, 0, 'k'},  {"since", required_argument, 0, 's'},
		{"until", required_argument, 0, 'u'}, {"limit", required_argument, 0, 'l'},
		{"cursor", required_argument, 0, 'c'}, {0, 0, 0, 0}};
	struct common o = {0};
	struct ev_opts e;
	struct lg_store *st;
	json_t *a = NULL, *v;
	char *text = NULL, *dbpath = NULL;
	int64_t next = 0;
	size_t k;
	int i;

	memset(&e, 0, sizeof(e));
	i = parse_common(argc, argv, &o, usage, extra, ev_opt, &e);
	if (i < 0 || i != argc || e.bad)
		return 2;
	if (e.f.kind && !lg_event_kind_valid(e.f.kind)) {
		fprintf(stderr, "leakgate events: --kind must be one of accepted, rejected, bypassed, "
				"exempted, warned, failed\n");
		return 2;
	}
	if ((e.since && lg_ops_parse_time(e.since, LG_TIME_PAST, lg_now_ms(), &e.f.since_ms)) ||
	    (e.until && lg_ops_parse_time(e.until, LG_TIME_PAST, lg_now_ms(), &e.f.until_ms))) {
		fprintf(stderr, "leakgate events: --since/--until want YYYY-MM-DD, RFC 3339, Unix seconds, or a "
				"duration back from now such as 30d or 12h\n");
		return 2;
	}
	if (!e.f.limit)
		e.f.limit = 50;
	if (!(st = cli_open_store(o.db, 1, &dbpath))) {
		spool_note(dbpath);
		free(dbpath);
		return 2;
	}
	if (lg_store_events_page(st, &e.f, &text, &next) || !(a = json_loads(text, 0, NULL))) {
		fprintf(stderr, "leakgate events: the events cannot be read\n");
		free(text);
		free(dbpath);
		lg_store_close(st);
		return 2;
	}
	free(text);
	if (o.json) {
		print_json(a);
	} else {
		json_array_foreach(a, k, v) {
			json_t *f = json_object_get(v, "findings");
			printf("#%-5lld %s  %-8s %s by %s (%zu finding%s)%s%s\n",
			       (long long)json_integer_value(json_object_get(v, "id")),
			       json_string_value(json_object_get(v, "time")),
			       json_string_value(json_object_get(v, "kind")),
			       json_string_value(json_object_get(v, "repo")),
			       json_string_value(json_object_get(v, "pusher")), json_array_size(f),
			       json_array_size(f) == 1 ? "" : "s",
			       *json_string_value(json_object_get(v, "reason")) ? ": " : "",
			       json_string_value(json_object_get(v, "reason")));
		}
		if (json_array_size(a) == 0)
			printf("no events\n");
		else if (next)
			printf("(more: add --cursor %lld for the next page)\n", (long long)next);
	}
	spool_note(dbpath);
	free(dbpath);
	json_decref(a);
	lg_store_close(st);
	return 0;
}

/* ---- rules changes in the store ---- */

int cmd_rules_store(int argc, char **argv)
{
	static const char usage[] =
		"usage: leakgate rules add FILE [--db PATH]     add (or replace) the rules of a pack as custom rules\n"
		"       leakgate rules disable ID [--db PATH]\n"
		"       leakgate rules enable ID [--db PATH]\n"
		"       leakgate rules remove ID [--db PATH]    remove a custom rule\n"
		"Then send SIGHUP to a running leakgated (the hook sees changes at once).\n";
	struct common o = {0};
	struct lg_store *st;
	struct lg_ops ops;
	struct lg_diag d;
	const char *sub = argv[0];
	int i, status = 1, err;

	i = parse_common(argc, argv, &o, usage, NULL, NULL, NULL);
	if (i < 0 || i + 1 != argc) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if (!(st = open_store(&o)))
		return 2;
	ops = cli_ops(st);
	lg_diag_init(&d);
	if (!strcmp(sub, "add")) {
		json_error_t jerr;
		json_t *doc = json_load_file(argv[i], 0, &jerr), *rules = json_object_get(doc, "rules");
		if (!doc) {
			if (jerr.line > 0)
				fprintf(stderr, "leakgate rules add: %s:%d:%d: not valid JSON: %s\n", argv[i], jerr.line,
					jerr.column, jerr.text);
			else
				fprintf(stderr, "leakgate rules add: %s: %s\n", argv[i], jerr.text);
		} else if (!json_is_array(rules)) {
			fprintf(stderr, "leakgate rules add: %s: a pack is {\"pack\": ..., \"rules\": [...]}\n", argv[i]);
		} else if ((err = lg_ops_rules_put(&ops, rules, &d))) {
			cli_print_diag("the pack is refused (nothing was stored):", &d);
		} else {
			size_t k;
			json_t *r;
			json_array_foreach(rules, k, r)
				printf("stored custom rule %s\n", json_string_value(json_object_get(r, "id")));
			status = 0;
		}
		json_decref(doc);
	} else if (!strcmp(sub, "disable") || !strcmp(sub, "enable")) {
		int on = !strcmp(sub, "enable");
		if ((err = lg_ops_rule_set_enabled(&ops, argv[i], on, &d))) {
			char head[96];
			snprintf(head, sizeof(head), "rules %s %s:", sub, argv[i]);
			cli_print_diag(head, &d);
		} else {
			printf("rule %s %s\n", argv[i], on ? "enabled" : "disabled");
			status = 0;
		}
	} else if (!strcmp(sub, "remove")) {
		if ((err = lg_ops_rule_remove(&ops, argv[i], &d))) {
			char head[96];
			snprintf(head, sizeof(head), "rules remove %s:", argv[i]);
			cli_print_diag(head, &d);
		} else {
			printf("removed custom rule %s\n", argv[i]);
			status = 0;
		}
	}
	lg_diag_release(&d);
	lg_store_close(st);
	return status;
}

/*
 * leakgate rules check-candidate: the isolated check of one candidate rule
 * that leakgated runs (ops.h): {"rule": {...}, "text": "...", "path":
 * "..."} on standard input, the verdict as JSON on standard output.
 */
int cmd_rules_check_candidate(void)
{
	json_error_t jerr;
	json_t *req = json_loadf(stdin, 0, &jerr), *v = NULL, *text;
	struct lg_ops ops;
	int err;

	if (!json_is_object(req)) {
		fprintf(stderr, "leakgate rules check-candidate: standard input is not a JSON object: %s\n", jerr.text);
		json_decref(req);
		return 2;
	}
	memset(&ops, 0, sizeof(ops));
	text = json_object_get(req, "text");
	err = lg_ops_rule_check_run(&ops, json_object_get(req, "rule"), json_is_string(text) ? json_string_value(text) : NULL,
				    json_is_string(text) ? json_string_length(text) : 0,
				    json_string_value(json_object_get(req, "path")), &v);
	if (!err) {
		json_dumpf(v, stdout, JSON_COMPACT);
		putchar('\n');
	}
	json_decref(v);
	json_decref(req);
	return err ? 1 : 0;
}
