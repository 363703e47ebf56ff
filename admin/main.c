/*
 * leakgate: the command administrators and developers use. Each
 * subcommand lives in its own cmd-*.c file.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leakgate <command> [options]\n"
		"\n"
		"commands:\n"
		"  scan [--format text|json|sarif] [--rules PATH] PATH... | -\n"
		"                      find secrets in files, directories or standard input\n"
		"  scan --git [--all-objects] [--threads N] REPO...\n"
		"                      find secrets in the whole history of Git repositories\n"
		"  rules check PATH    validate a rule pack and run its examples\n"
		"  rules list          list the rules in use\n"
		"  rules add FILE | disable ID | enable ID | remove ID\n"
		"                      change the server's rules (state database)\n"
		"  install --repo PATH | --gitlab DIR | --gitea ROOT\n"
		"                      install the pre-receive hook\n"
		"  token create --role admin|read | list | revoke ID\n"
		"                      API tokens for leakgated\n"
		"  exemptions list | add | remove ID\n"
		"                      findings let through on purpose\n"
		"  events [--repo R] [--pusher P] [--kind K] [--since T] [--until T]\n"
		"                      the audit trail\n"
		"  config check [--repo PATH]\n"
		"                      the hook's settings, where each comes from, and every problem\n"
		"  db init [--force] | status\n"
		"                      create or inspect the state database\n"
		"Admin commands take --db PATH (default $LEAKGATE_DB or\n"
		"~/.local/state/leakgate/leakgate.db) and --json.\n"
		"  version             print the version\n"
		"\n"
		"Run 'leakgate <command> --help' for a command's options.\n");
}

void cli_print_diag(const char *headline, const struct lg_diag *d)
{
	char line[2048];

	fprintf(stderr, "leakgate: %s\n", headline);
	for (size_t i = 0; i < d->n; i++) {
		lg_diag_format(&d->v[i], line, sizeof(line));
		fprintf(stderr, "  %s\n", line);
	}
	if (d->dropped)
		fprintf(stderr, "  (%zu more problems not shown)\n", d->dropped);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "scan") == 0)
		return cmd_scan(argc - 1, argv + 1);
	if (strcmp(argv[1], "rules") == 0)
		return cmd_rules(argc - 1, argv + 1);
	if (strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	if (strcmp(argv[1], "exemptions") == 0)
		return cmd_exemptions(argc - 1, argv + 1);
	if (strcmp(argv[1], "events") == 0)
		return cmd_events(argc - 1, argv + 1);
	if (strcmp(argv[1], "install") == 0)
		return cmd_install(argc - 1, argv + 1);
	if (strcmp(argv[1], "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(argv[1], "db") == 0)
		return cmd_db(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("leakgate %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "leakgate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
