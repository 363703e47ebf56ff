/*
 * leakgate install: put the pre-receive hook where git (or the forge in
 * front of it) runs it.
 *
 * --repo PATH    one repository: hooks/pre-receive.d/leakgate where that
 *                folder exists (Gitea, GitLab), else hooks/pre-receive. An
 *                existing foreign hooks/pre-receive is kept: it moves into
 *                hooks/pre-receive.d/ and a small dispatcher runs every
 *                hook there with the same input.
 * --gitlab DIR   GitLab's global server hooks: DIR/pre-receive.d/leakgate.
 * --gitea ROOT   every repository under a Gitea repository root
 *                (ROOT/owner/name.git); safe to re-run for new ones.
 *
 * What is installed is a three-line script that runs the hook binary (an
 * upgrade of the binary needs no re-install). Not a symbolic link: git
 * treats a dangling link as "no hook" and would accept every push if the
 * binary went missing; the script rejects instead. Push options are
 * turned on (receive.advertisePushOptions) so that bypass reasons reach
 * the hook.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "cli.h"
#include "vec.h"
#include "file.h"
#include "loader.h"

#define MARK "# installed by leakgate"

struct install_opts {
	const char *hook_bin;
	int dry_run;
};

static int is_ours(const char *path)
{
	char buf[512];
	int fd;
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n > 0) {
		const char *base;
		buf[n] = '\0';
		base = strrchr(buf, '/');
		return !strcmp(base ? base + 1 : buf, "leakgate-pre-receive");
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, MARK) != NULL;
}

/* Write content to path atomically, mode 0755; 0 or -1. */
static int write_script(const char *path, const char *content)
{
	return lg_file_write_atomic(path, content, strlen(content), 0755, 0, NULL) == LG_OK ? 0 : -1;
}

static char *shell_quote(const char *s)
{
	size_t n = 2;
	char *q, *o;

	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	q = malloc(n + 1);
	if (!q)
		return NULL;
	o = q;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}

/*
 * Install at path a script that runs the hook binary, or rejects without
 * it. When leakgate-pre-receive-client sits next to the hook binary, the
 * script is a "#!" line that has the kernel start the client directly (no
 * shell: about a millisecond less per push); git rejects the push if the
 * client is missing. The client hands the push to a running hook server,
 * or runs the hook binary itself.
 */
static int link_hook(const char *path, const char *bin)
{
	char *q = shell_quote(bin), *script = NULL, *client = NULL;
	const char *slash = strrchr(bin, '/');
	int err = -1, n = -1;

	if (slash && asprintf(&client, "%.*s/leakgate-pre-receive-client", (int)(slash - bin), bin) < 0)
		client = NULL;
	/* Linux reads at most 127 bytes of a "#!" line before 5.1; the interpreter path has no blanks. */
	if (client && access(client, X_OK) == 0 && !strpbrk(client, " \t\n") && !strchr(bin, '\n') &&
	    strlen(client) + strlen(bin) + 4 <= 127)
		n = asprintf(&script,
			     "#!%s %s\n" MARK ": the secret-leak gate for pushes.\n"
			     "# The kernel runs the client named above: it hands the push to a running\n"
			     "# hook server (leakgated starts one) or runs the hook program itself.\n",
			     client, bin);
	else if (q)
		n = asprintf(&script,
			     "#!/bin/sh\n" MARK ": the secret-leak gate for pushes.\n"
			     "hook=%s\n"
			     "[ -x \"$hook\" ] || { echo \"leakgate: the hook program $hook is missing;"
			     " push rejected. Tell your administrator.\" >&2; exit 1; }\n"
			     "# The client hands the push to a running hook server (leakgated starts one)\n"
			     "# and runs the hook itself when there is none.\n"
			     "client=${hook%%/*}/leakgate-pre-receive-client\n"
			     "[ -x \"$client\" ] && exec \"$client\" \"$hook\" \"$@\"\n"
			     "exec \"$hook\" \"$@\"\n",
			     q);
	if (n >= 0)
		err = write_script(path, script);
	free(q);
	free(client);
	free(script);
	return err;
}

/*
 * Runs every executable in pre-receive.d with the same standard input;
 * the first failure rejects the push. Used only when we had to move a
 * foreign hook aside.
 */
static const char dispatcher[] =
	"#!/bin/sh\n" MARK ": runs each hook in pre-receive.d with the same input.\n"
	"input=$(mktemp) || exit 1\n"
	"trap 'rm -f \"$input\"' EXIT\n"
	"cat > \"$input\"\n"
	"for hook in \"$(dirname \"$0\")\"/pre-receive.d/*; do\n"
	"\t[ -f \"$hook\" ] && [ -x \"$hook\" ] || continue\n"
	"\t\"$hook\" \"$@\" < \"$input\" || exit $?\n"
	"done\n"
	"exit 0\n";

static int set_push_options(const char *git_dir)
{
	git_config *cfg = NULL;
	char *path = NULL;
	int err = -1;

	if (asprintf(&path, "%s/config", git_dir) < 0)
		return -1;
	if (git_config_open_ondisk(&cfg, path) == 0 &&
	    git_config_set_bool(cfg, "receive.advertisePushOptions", 1) == 0)
		err = 0;
	git_config_free(cfg);
	free(path);
	return err;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A repository's git directory: PATH itself when bare, PATH/.git otherwise. */
static char *git_dir_of(const char *path)
{
	char *p = NULL;

	if (asprintf(&p, "%s/objects", path) >= 0 && is_dir(p)) {
		free(p);
		return strdup(path);
	}
	free(p);
	if (asprintf(&p, "%s/.git", path) >= 0 && is_dir(p))
		return p;
	free(p);
	return NULL;
}

static int install_repo(const char *path, const struct install_opts *o, int quiet)
{
	char *gd = git_dir_of(path), *hooks = NULL, *dropin = NULL, *main_hook = NULL;
	char *target = NULL, *moved = NULL;
	int status = 2;

	if (!gd) {
		fprintf(stderr, "leakgate install: %s is not a git repository (no objects folder)\n", path);
		return 2;
	}
	if (asprintf(&hooks, "%s/hooks", gd) < 0 || asprintf(&dropin, "%s/pre-receive.d", hooks) < 0 ||
	    asprintf(&main_hook, "%s/pre-receive", hooks) < 0)
		goto out;
	if (mkdir(hooks, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "leakgate install: cannot create %s: %s\n", hooks, strerror(errno));
		goto out;
	}
	if (is_dir(dropin)) {
		/* Gitea / GitLab layout: their dispatcher runs pre-receive.d/. */
		if (asprintf(&target, "%s/leakgate", dropin) < 0)
			goto out;
		if (access(main_hook, F_OK) != 0 && !o->dry_run &&
		    write_script(main_hook, dispatcher) < 0) {
			fprintf(stderr, "leakgate install: cannot write %s: %s\n", main_hook, strerror(errno));
			goto out;
		}
	} else if (access(main_hook, F_OK) == 0 && !is_ours(main_hook)) {
		/* Someone else's hook: keep it, beside ours, behind a dispatcher. */
		if (mkdir(dropin, 0755) < 0 ||
		    asprintf(&moved, "%s/00-previous-pre-receive", dropin) < 0 ||
		    rename(main_hook, moved) < 0) {
			fprintf(stderr, "leakgate install: cannot move the existing %s aside: %s\n",
				main_hook, strerror(errno));
			goto out;
		}
		if (write_script(main_hook, dispatcher) < 0) {
			fprintf(stderr, "leakgate install: cannot write %s: %s\n", main_hook, strerror(errno));
			goto out;
		}
		if (asprintf(&target, "%s/leakgate", dropin) < 0)
			goto out;
	} else if (asprintf(&target, "%s", main_hook) < 0) {
		goto out;
	}
	if (o->dry_run) {
		printf("would install %s\n", target);
		status = 0;
		goto out;
	}
	if (link_hook(target, o->hook_bin) < 0) {
		fprintf(stderr, "leakgate install: cannot write %s: %s\n", target, strerror(errno));
		goto out;
	}
	if (set_push_options(gd) < 0) {
		fprintf(stderr, "leakgate install: cannot set receive.advertisePushOptions in %s/config\n", gd);
		goto out;
	}
	if (!quiet)
		printf("installed %s%s\n", target, moved ? " (the previous hook now runs from pre-receive.d/)" : "");
	status = 0;
out:
	free(gd);
	free(hooks);
	free(dropin);
	free(main_hook);
	free(target);
	free(moved);
	return status;
}

static int install_gitlab(const char *dir, const struct install_opts *o)
{
	char *dropin = NULL, *target = NULL;
	int status = 2;

	if (asprintf(&dropin, "%s/pre-receive.d", dir) < 0 ||
	    asprintf(&target, "%s/leakgate", dropin) < 0)
		goto out;
	if (!is_dir(dir)) {
		fprintf(stderr, "leakgate install: %s is not a directory (GitLab's custom_hooks_dir)\n", dir);
		goto out;
	}
	if (mkdir(dropin, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "leakgate install: cannot create %s: %s\n", dropin, strerror(errno));
		goto out;
	}
	if (o->dry_run) {
		printf("would install %s\n", target);
	} else if (link_hook(target, o->hook_bin) < 0) {
		fprintf(stderr, "leakgate install: cannot write %s: %s\n", target, strerror(errno));
		goto out;
	} else {
		printf("installed %s\n", target);
		printf("GitLab passes push options to server hooks; bypass reasons work as they are.\n");
	}
	status = 0;
out:
	free(dropin);
	free(target);
	return status;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Sorted names of the subdirectories of dir ending in suffix (NULL: any).
 * *failed is set when some could not be listed (they are not installed).
 */
static char **list_dirs(const char *dir, const char *suffix, size_t *n, size_t *failed)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char *p = NULL;
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.')
			continue;
		if (suffix && (l <= strlen(suffix) || strcmp(de->d_name + l - strlen(suffix), suffix)))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			fprintf(stderr, "leakgate install: out of memory listing %s\n", dir);
			(*failed)++;
			break;
		}
		if (!is_dir(p)) {
			free(p);
			continue;
		}
		if (lg_array_reserve((void **)&v, &cap, *n + 1, sizeof(*v), 1u << 24)) {
			fprintf(stderr, "leakgate install: out of memory listing %s\n", dir);
			free(p);
			(*failed)++;
			break;
		}
		v[(*n)++] = p;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

static int install_gitea(const char *root, const struct install_opts *o)
{
	size_t nown = 0, done = 0, failed = 0;
	char **owners;

	if (!is_dir(root)) {
		fprintf(stderr, "leakgate install: %s is not a directory (Gitea's repository root)\n", root);
		return 2;
	}
	owners = list_dirs(root, NULL, &nown, &failed);
	for (size_t i = 0; i < nown; i++) {
		size_t nrepo = 0;
		char **repos = list_dirs(owners[i], ".git", &nrepo, &failed);
		for (size_t k = 0; k < nrepo; k++) {
			if (install_repo(repos[k], o, 1) == 0)
				done++;
			else
				failed++;
			free(repos[k]);
		}
		free(repos);
		free(owners[i]);
	}
	free(owners);
	printf("%s %zu repositor%s under %s%s\n", o->dry_run ? "would install into" : "installed into",
	       done, done == 1 ? "y" : "ies", root, failed ? "" : "");
	if (failed)
		fprintf(stderr, "leakgate install: %zu repositor%s failed (see above)\n", failed,
			failed == 1 ? "y" : "ies");
	printf("Gitea creates new repositories without the hook: run leakgated --gitea %s,\n"
	       "which installs it into each new repository as it is created, or run this again.\n",
	       root);
	return failed ? 2 : 0;
}

static void install_usage(FILE *f)
{
	fprintf(f, "usage: leakgate install --repo PATH | --gitlab DIR | --gitea ROOT\n"
		   "                        [--hook-binary PATH] [--dry-run]\n"
		   "\n"
		   "  --repo PATH     one repository (bare, or a work tree's .git)\n"
		   "  --gitlab DIR    GitLab's global hooks folder (custom_hooks_dir)\n"
		   "  --gitea ROOT    every repository under Gitea's repository root\n"
		   "  --hook-binary   the leakgate-pre-receive to run (default: found\n"
		   "                  next to this program)\n"
		   "  --dry-run       say what would be installed\n");
}

int cmd_install(int argc, char **argv)
{
	static const struct option opts[] = {
		{"repo", required_argument, 0, 'r'},  {"gitlab", required_argument, 0, 'l'},
		{"gitea", required_argument, 0, 'g'}, {"hook-binary", required_argument, 0, 'b'},
		{"dry-run", no_argument, 0, 'n'},     {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct install_opts o = {0};
	const char *repo = NULL, *gitlab = NULL, *gitea = NULL;
	char *bin = NULL;
	int opt, modes, status = 2;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': repo = optarg; break;
		case 'l': gitlab = optarg; break;
		case 'g': gitea = optarg; break;
		case 'b': o.hook_bin = optarg; break;
		case 'n': o.dry_run = 1; break;
		case 'h': install_usage(stdout); return 0;
		default: install_usage(stderr); return 2;
		}
	}
	modes = !!repo + !!gitlab + !!gitea;
	if (modes != 1 || optind != argc) {
		fprintf(stderr, "leakgate install: give exactly one of --repo, --gitlab, --gitea\n");
		install_usage(stderr);
		return 2;
	}
	if (o.hook_bin) {
		bin = realpath(o.hook_bin, NULL);
		if (!bin || access(bin, X_OK) != 0) {
			fprintf(stderr, "leakgate install: %s is not an executable file\n", o.hook_bin);
			goto out;
		}
	} else if (!(bin = lg_find_program("leakgate-pre-receive", BINDIR))) {
		fprintf(stderr, "leakgate install: cannot find leakgate-pre-receive; give --hook-binary PATH\n");
		goto out;
	}
	o.hook_bin = bin;
	git_libgit2_init();
	if (repo)
		status = install_repo(repo, &o, 0);
	else if (gitlab)
		status = install_gitlab(gitlab, &o);
	else
		status = install_gitea(gitea, &o);
	git_libgit2_shutdown();
out:
	free(bin);
	return status;
}
