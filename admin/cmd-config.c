/*
 * leakgate config check [--repo PATH] [--json]: the settings the hook
 * would use for a repository (or for every repository, from the global
 * and system git configuration), where each came from, and every invalid
 * one. It reads them exactly as the hook does (hook-config.c), and then
 * tries what the hook would do with them: open the database, load the
 * key and the rules. Exit status: 0 all usable, 1 something is not (the
 * hook would then fail every push as leakgate.failMode says), 2 usage.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "cli.h"
#include "fingerprint.h"
#include "hook-config.h"
#include "loader.h"
#include "ops.h"
#include "store.h"

static const char usage[] =
	"usage: leakgate config check [--repo PATH] [--json]\n"
	"  the hook's settings for the repository at PATH (default: the global and\n"
	"  system git configuration only), where each comes from, and every problem\n";

/* A repository's git directory: PATH itself when bare, PATH/.git otherwise. */
static char *git_dir_of(const char *path)
{
	char *p = NULL;

	if (asprintf(&p, "%s/.git", path) >= 0) {
		FILE *f = fopen(p, "r");
		if (f) {
			fclose(f);
			return p;
		}
	}
	free(p);
	return strdup(path);
}

/* Try what the hook does with the settings; each problem is one more entry in d. */
static void try_settings(const struct hook_config *c, struct lg_diag *d)
{
	char *db = c->db_path ? strdup(c->db_path) : lg_store_default_path();
	char *key = c->key_file ? strdup(c->key_file) : lg_key_default_path();
	struct lg_key k;
	struct lg_store *st = NULL;
	struct lg_store_opts so = {0};
	struct lg_load_opts lo;
	struct lg_ruleset *rs = NULL;
	int err;

	if (!key)
		lg_diag_add(d, NULL, NULL, "leakgate.keyFile", "no key path");
	else if ((err = lg_key_load(&k, key, 0, NULL)) == LG_ENOTFOUND)
		printf("note: the fingerprint key %s does not exist yet; the first push creates it\n", key);
	else if (err)
		lg_key_load(&k, key, 0, d);
	so.no_drain = 1;
	if (!db) {
		lg_diag_add(d, NULL, NULL, "leakgate.db", "no database path");
	} else if (access(db, F_OK) < 0) {
		/* Not there yet: fine, unless leakgate made one there before (the marker says so). */
		struct lg_diag md;
		lg_diag_init(&md);
		if (lg_store_open_ex(&st, db, &so, &md) == LG_ENOTFOUND)
			for (size_t i = 0; i < md.n; i++)
				lg_diag_add(d, md.v[i].file, NULL, NULL, "%s", md.v[i].message);
		else
			printf("note: the database %s does not exist yet; the first push creates it\n", db);
		lg_diag_release(&md);
		lg_store_close(st);
		st = NULL;
	} else if (lg_store_open_ex(&st, db, &so, d)) {
		st = NULL;
	}
	memset(&lo, 0, sizeof(lo));
	lo.packs = (const char *const *)c->packs;
	lo.npacks = c->npacks;
	lo.disabled = (const char *const *)c->disabled;
	lo.ndisabled = c->ndisabled;
	lo.cache_dir = c->cache_dir;
	if (lg_ops_load_rules(st, &lo, &rs, NULL, d) == 0)
		lg_ruleset_free(rs);
	if (db) {
		long n = lg_spool_depth(db);
		if (n > 0)
			lg_diag_add(d, db, NULL, NULL, "%ld audit event%s wait in the spool (%s.spool): the database "
				    "could not take them; the next writer that opens it moves them in", n,
				    n == 1 ? "" : "s", db);
	}
	lg_store_close(st);
	free(db);
	free(key);
}

int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {{"repo", required_argument, 0, 'r'},
					     {"json", no_argument, 0, 'j'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	struct hook_config c;
	struct lg_diag d, use;
	const char *repo = NULL;
	char *git_dir = NULL;
	int json = 0, opt, rc;

	if (argc < 2 || strcmp(argv[1], "check")) {
		int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
		fprintf(help ? stdout : stderr, "%s", usage);
		return help ? 0 : 2;
	}
	optind = 1;
	while ((opt = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		if (opt == 'r')
			repo = optarg;
		else if (opt == 'j')
			json = 1;
		else if (opt == 'h') {
			printf("%s", usage);
			return 0;
		} else {
			fprintf(stderr, "%s", usage);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	git_libgit2_init();
	if (repo)
		git_dir = git_dir_of(repo);
	lg_diag_init(&d);
	lg_diag_init(&use);
	rc = hook_config_load(&c, git_dir, &d);
	/* Show the paths the hook would use, not "(default)". */
	if (!c.db_path)
		c.db_path = lg_store_default_path();
	if (!c.key_file)
		c.key_file = lg_key_default_path();
	if (!c.cache_dir)
		c.cache_dir = lg_cache_dir_default();
	try_settings(&c, &use);
	if (json) {
		json_t *o = json_object(), *settings = json_object(), *problems = json_array();
		for (int k = 0; k < HK_COUNT; k++) {
			char eff[2048], src[1024];
			const struct hook_setting *s = &c.settings[k];
			json_t *e = json_object();
			hook_config_effective(&c, (enum hook_key)k, eff, sizeof(eff));
			hook_source_describe(&c, s, git_dir, src, sizeof(src));
			json_object_set_new(e, "value", json_string(eff));
			json_object_set_new(e, "written", s->value ? json_string(s->value) : json_null());
			json_object_set_new(e, "source", json_string(src));
			json_object_set_new(e, "problem", s->problem ? json_string(s->problem) : json_null());
			json_object_set_new(settings, s->key, e);
		}
		for (size_t i = 0; i < d.n + use.n; i++) {
			char line[2048];
			lg_diag_format(i < d.n ? &d.v[i] : &use.v[i - d.n], line, sizeof(line));
			json_array_append_new(problems, json_string(line));
		}
		json_object_set_new(o, "repository", git_dir ? json_string(git_dir) : json_null());
		json_object_set_new(o, "settings", settings);
		json_object_set_new(o, "problems", problems);
		json_object_set_new(o, "ok", json_boolean(d.n + use.n == 0 && rc == LG_OK));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		printf("leakgate settings for %s\n", git_dir ? git_dir : "every repository (global and system git configuration)");
		for (int k = 0; k < HK_COUNT; k++) {
			char eff[2048], src[1024];
			const struct hook_setting *s = &c.settings[k];
			hook_config_effective(&c, (enum hook_key)k, eff, sizeof(eff));
			hook_source_describe(&c, s, git_dir, src, sizeof(src));
			printf("  %-26s %-30s %s\n", s->key, eff, src);
			if (s->problem)
				printf("  %-26s ^ INVALID: '%s' %s\n", "", s->value ? s->value : "", s->problem);
		}
		for (size_t i = 0; i < c.unknown.n; i++)
			printf("  %-26s INVALID: not a leakgate setting (a typo?)\n", LG_VEC_AT(&c.unknown, char *, i));
		if (d.n + use.n) {
			printf("problems (each makes every push fail as leakgate.failMode says):\n");
			for (size_t i = 0; i < d.n + use.n; i++) {
				char line[2048];
				lg_diag_format(i < d.n ? &d.v[i] : &use.v[i - d.n], line, sizeof(line));
				printf("  %s\n", line);
			}
		} else {
			printf("ok: every setting is valid and usable\n");
		}
	}
	rc = d.n + use.n || rc ? 1 : 0;
	hook_config_release(&c);
	lg_diag_release(&d);
	lg_diag_release(&use);
	free(git_dir);
	return rc;
}

int cmd_db(int argc, char **argv)
{
	static const char db_usage[] =
		"usage: leakgate db init [--force] [--db PATH]\n"
		"         create the state database; --force starts over where leakgate created\n"
		"         one before that is now missing, empty or replaced (its rules, exemptions\n"
		"         and audit trail are gone: restore a backup instead if you can)\n"
		"       leakgate db status [--db PATH]\n"
		"         the database, its id, its schema, and events waiting in its spool\n";
	static const struct option opts[] = {{"db", required_argument, 0, 'D'},
					     {"force", no_argument, 0, 'f'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	const char *db = NULL, *sub = argc > 1 ? argv[1] : "";
	char *path = NULL;
	int force = 0, opt, status = 1;
	struct lg_store *st = NULL;
	struct lg_diag d;

	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		printf("%s", db_usage);
		return 0;
	}
	if (strcmp(sub, "init") && strcmp(sub, "status")) {
		fprintf(stderr, "%s", db_usage);
		return 2;
	}
	optind = 1;
	while ((opt = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		if (opt == 'D')
			db = optarg;
		else if (opt == 'f' && !strcmp(sub, "init"))
			force = 1;
		else if (opt == 'h') {
			printf("%s", db_usage);
			return 0;
		} else {
			fprintf(stderr, "%s", db_usage);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s", db_usage);
		return 2;
	}
	path = db ? strdup(db) : lg_store_default_path();
	if (!path) {
		fprintf(stderr, "leakgate db: no database path\n");
		return 2;
	}
	lg_diag_init(&d);
	if (force && lg_store_forget(path, NULL, &d)) {
		cli_print_diag("cannot start over:", &d);
		goto out;
	}
	if (force) {
		/* What is there is not the database leakgate made: set it aside, never delete it. */
		char *aside = NULL;
		FILE *f = fopen(path, "r");
		if (f) {
			fclose(f);
			if (asprintf(&aside, "%s.replaced-%lld", path, (long long)(lg_now_ms() / 1000)) >= 0 &&
			    rename(path, aside) == 0)
				printf("moved %s aside to %s\n", path, aside);
			free(aside);
		}
	}
	{
		struct lg_store_opts o = {0};
		o.create = !strcmp(sub, "init");
		o.no_drain = !o.create; /* status reports the spool as it is */
		if (lg_store_open_ex(&st, path, &o, &d)) {
			cli_print_diag("cannot open the database:", &d);
			goto out;
		}
	}
	if (!strcmp(sub, "init"))
		printf("database %s ready (id %s)\n", path, lg_store_id(st));
	else
		printf("database %s\n  id %s\n  events waiting in the spool: %ld\n", path, lg_store_id(st),
		       lg_spool_depth(path));
	status = 0;
out:
	lg_store_close(st);
	lg_diag_release(&d);
	free(path);
	return status;
}
