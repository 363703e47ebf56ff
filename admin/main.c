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
		"  rules check PATH    validate a rule pack and run its examples\n"
		"  rules list          list the rules in use\n"
		"  install --repo PATH | --gitlab DIR | --gitea ROOT\n"
		"                      install the pre-receive hook\n"
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
	if (strcmp(argv[1], "install") == 0)
		return cmd_install(argc - 1, argv + 1);
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
