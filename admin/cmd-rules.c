/*
 * leakgate rules: check a pack (validation plus its examples) and list
 * the rules in use.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "loader.h"
#include "selftest.h"
#include "store.h"

#define MAX_PACKS 64

static void rules_usage(FILE *f)
{
	fprintf(f, "usage: leakgate rules check PATH...\n"
		   "       leakgate rules list [--rules PATH] [--no-builtin] [--json]\n"
		   "       leakgate rules list --server [--db PATH] [--json]\n"
		   "\n"
		   "check: validate rule packs (files or directories of *.json) as a whole,\n"
		   "       then run every rule's examples and negative examples.\n"
		   "       Exit status: 0 all good, 1 problems found, 2 usage error.\n"
		   "list:  print the rules the scanner uses; with --server (or --db), the\n"
		   "       server's rules from its state database: built-in and custom rules,\n"
		   "       enabled or disabled, as the hook and leakgated use them.\n");
}

static int rules_check(int argc, char **argv)
{
	struct lg_load_opts lo;
	struct lg_ruleset *rs = NULL;
	struct lg_diag d;
	size_t checked = 0;
	int status = 1, err;

	if (argc < 2 || !strcmp(argv[1], "--help")) {
		rules_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	memset(&lo, 0, sizeof(lo));
	lo.packs = (const char *const *)argv + 1;
	lo.npacks = (size_t)argc - 1;
	lo.no_builtin = 1;
	lo.cache_dir = "";
	lg_diag_init(&d);
	err = lg_ruleset_load(&rs, &lo, NULL, &d);
	if (err) {
		cli_print_diag("the pack is refused:", &d);
		goto out;
	}
	err = lg_selftest_run(rs, &checked, &d);
	if (err) {
		char head[128];
		snprintf(head, sizeof(head), "%zu of %zu examples failed:", d.n + d.dropped, checked);
		cli_print_diag(head, &d);
		goto out;
	}
	{
		size_t stressed = 0;
		if ((err = lg_selftest_stress(rs, &stressed, &d))) {
			cli_print_diag("rules that backtrack too much (they would make pushes fail):", &d);
			goto out;
		}
	}
	printf("ok: %zu rules, %zu examples pass\n", lg_ruleset_count(rs), checked);
	status = 0;
out:
	lg_ruleset_free(rs);
	lg_diag_release(&d);
	return status;
}

static int rule_in(const char *id, char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], id))
			return 1;
	return 0;
}

static int rules_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rules", required_argument, 0, 'r'}, {"no-builtin", no_argument, 0, 'B'},
		{"json", no_argument, 0, 'j'},        {"help", no_argument, 0, 'h'},
		{"server", no_argument, 0, 'S'},      {"db", required_argument, 0, 'd'},
		{0, 0, 0, 0},
	};
	const char *packs[MAX_PACKS];
	struct lg_load_opts lo;
	struct lg_ruleset *rs = NULL;
	struct lg_store *st = NULL;
	struct lg_diag d;
	char *db = NULL, *custom = NULL, **disabled = NULL;
	size_t ndisabled = 0, ndis_shown = 0;
	int opt, json = 0, server = 0, status = 2;

	memset(&lo, 0, sizeof(lo));
	lo.packs = packs;
	lg_diag_init(&d);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (lo.npacks == MAX_PACKS)
				goto out;
			packs[lo.npacks++] = optarg;
			break;
		case 'B': lo.no_builtin = 1; break;
		case 'j': json = 1; break;
		case 'S': server = 1; break;
		case 'd':
			free(db);
			db = strdup(optarg);
			server = 1;
			break;
		case 'h': rules_usage(stdout); status = 0; goto out;
		default: rules_usage(stderr); goto out;
		}
	}
	if (optind != argc || (server && (lo.npacks || lo.no_builtin))) {
		if (optind == argc)
			fprintf(stderr, "leakgate rules list: --server/--db lists the server's rules; "
					"--rules and --no-builtin are for the scanner's\n");
		rules_usage(stderr);
		goto out;
	}
	if (server) {
		/* Every rule the server knows, the disabled ones included. */
		char *path = NULL;
		st = cli_open_store(db, 0, &path);
		free(db);
		db = path;
		if (!st)
			goto out;
		if (lg_store_rule_sources(st, &custom, &disabled, &ndisabled, NULL)) {
			fprintf(stderr, "leakgate rules list: cannot read the rules from %s\n", db);
			goto out;
		}
		lo.extra_json = custom;
		lo.extra_name = "custom";
	}
	if (lg_ruleset_load(&rs, &lo, NULL, &d)) {
		cli_print_diag("cannot load the rules:", &d);
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < lg_ruleset_count(rs); i++) {
			const struct lg_rule *r = lg_ruleset_rule(rs, i);
			json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", lg_rule_id(r), "name",
					      lg_rule_name(r), "severity", lg_severity_name(lg_rule_severity(r)),
					      "confidence", lg_confidence_name(lg_rule_confidence(r)),
					      "pack", lg_rule_pack(r), "description", lg_rule_description(r));
			if (server) {
				json_object_set_new(o, "source", json_string(strcmp(lg_rule_pack(r), "custom")
										     ? "builtin"
										     : "custom"));
				json_object_set_new(o, "enabled",
						    json_boolean(!rule_in(lg_rule_id(r), disabled, ndisabled)));
			}
			json_array_append_new(a, o);
		}
		json_dumpf(a, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(a);
	} else {
		for (size_t i = 0; i < lg_ruleset_count(rs); i++) {
			const struct lg_rule *r = lg_ruleset_rule(rs, i);
			int off = server && rule_in(lg_rule_id(r), disabled, ndisabled);
			ndis_shown += (size_t)off;
			if (server)
				printf("%-36s %-9s %-8s %-8s %s\n", lg_rule_id(r),
				       lg_severity_name(lg_rule_severity(r)),
				       strcmp(lg_rule_pack(r), "custom") ? "builtin" : "custom",
				       off ? "disabled" : "enabled", lg_rule_name(r));
			else
				printf("%-36s %-9s %s\n", lg_rule_id(r), lg_severity_name(lg_rule_severity(r)),
				       lg_rule_name(r));
		}
		if (server)
			printf("%zu rules, %zu enabled, %zu disabled (database %s)\n", lg_ruleset_count(rs),
			       lg_ruleset_count(rs) - ndis_shown, ndis_shown, db);
		else
			printf("%zu rules (rule set %.12s)\n", lg_ruleset_count(rs), lg_ruleset_hash(rs));
	}
	status = 0;
out:
	lg_ruleset_free(rs);
	lg_store_close(st);
	lg_store_free_list(disabled, ndisabled);
	free(custom);
	free(db);
	lg_diag_release(&d);
	return status;
}

int cmd_rules(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return rules_check(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return rules_list(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "check-candidate"))
		return cmd_rules_check_candidate();
	if (argc >= 2 && (!strcmp(argv[1], "add") || !strcmp(argv[1], "disable") ||
			  !strcmp(argv[1], "enable") || !strcmp(argv[1], "remove")))
		return cmd_rules_store(argc - 1, argv + 1);
	rules_usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
}
