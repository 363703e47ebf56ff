/*
 * leakgated --gitea ROOT: keeps the hook installed in every repository
 * under a Gitea (or Forgejo) repository root, the ones created later
 * included. Gitea has no global hook folder, and a repository it creates
 * has only Gitea's own hooks: without this, pushes to a new repository
 * would not be checked until `leakgate install --gitea` ran again.
 *
 * At start, and then every GITEA_RESCAN_S seconds as a safety net, it runs
 * `leakgate install --gitea ROOT`. In between, inotify reports new owner
 * folders and new `*.git` folders (created or moved in). A new repository
 * gets the hook as soon as Gitea has written its own hooks (the folder
 * hooks/pre-receive.d exists), so that the hook goes beside Gitea's and
 * Gitea does not overwrite it; a repository that never gets that folder
 * (made by hand) gets the hook after GITEA_WAIT_MS. The installing is done
 * by the leakgate command (`install --repo`), the code the CLI runs.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "vec.h"

#define GITEA_RESCAN_S 300
#define GITEA_WAIT_MS 5000
#define GITEA_PENDING_MAX 1024
#define GITEA_WATCHES_MAX 65536

extern char **environ;

struct pending {
	char *path;
	int64_t since_ms;
};

struct watcher {
	struct server *srv;
	int ifd;
	char **wd_path; /* watch descriptor -> folder (ROOT or an owner folder) */
	size_t nwd;
	struct pending pend[GITEA_PENDING_MAX];
	size_t npend;
};

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int is_dir(const char *p)
{
	struct stat s;
	return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

static int ends_with_git(const char *name)
{
	size_t l = strlen(name);
	return l > 4 && !strcmp(name + l - 4, ".git");
}

/* Run leakgate (argv[0]) and wait: its exit status, or -1. Its output goes to /dev/null, its errors to the log. */
static int run_leakgate(char *const argv[])
{
	pid_t pid = srv_spawn(argv, environ, 1);
	int status;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void install_all(struct watcher *w)
{
	char *argv[] = {w->srv->leakgate_bin, "install", "--gitea", w->srv->gitea_root, NULL};
	int rc = run_leakgate(argv);

	if (rc != 0)
		fprintf(stderr, "leakgated: leakgate install --gitea %s failed (status %d)\n", w->srv->gitea_root,
			rc);
}

static void install_one(struct watcher *w, const char *repo)
{
	char *argv[] = {w->srv->leakgate_bin, "install", "--repo", (char *)repo, NULL};
	int rc = run_leakgate(argv);

	if (rc == 0)
		fprintf(stderr, "leakgated: new repository %s: hook installed\n", repo);
	else
		fprintf(stderr, "leakgated: new repository %s: leakgate install --repo failed (status %d)\n", repo,
			rc);
}

static void add_pending(struct watcher *w, const char *dir, const char *name)
{
	char *p = NULL;

	for (size_t i = 0; i < w->npend; i++) {
		size_t l = strlen(dir);
		if (!strncmp(w->pend[i].path, dir, l) && w->pend[i].path[l] == '/' &&
		    !strcmp(w->pend[i].path + l + 1, name))
			return;
	}
	if (w->npend == GITEA_PENDING_MAX || asprintf(&p, "%s/%s", dir, name) < 0) {
		fprintf(stderr, "leakgated: too many new repositories at once; the next rescan installs the rest\n");
		return;
	}
	w->pend[w->npend].path = p;
	w->pend[w->npend].since_ms = mono_ms();
	w->npend++;
}

static void watch_dir(struct watcher *w, const char *path)
{
	int wd = inotify_add_watch(w->ifd, path, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);

	if (wd < 0) {
		fprintf(stderr, "leakgated: cannot watch %s: %s\n", path, strerror(errno));
		return;
	}
	if ((size_t)wd >= w->nwd) {
		size_t n = (size_t)wd + 64, cap = w->nwd;
		if (lg_array_reserve((void **)&w->wd_path, &cap, n, sizeof(*w->wd_path), GITEA_WATCHES_MAX)) {
			/* The periodic install still reaches what is not watched. */
			fprintf(stderr, "leakgated: cannot watch %s: too many folders watched, or out of memory; "
					"new repositories there get the hook at the next periodic install\n", path);
			inotify_rm_watch(w->ifd, wd);
			return;
		}
		memset(w->wd_path + w->nwd, 0, (cap - w->nwd) * sizeof(*w->wd_path));
		w->nwd = cap;
	}
	free(w->wd_path[wd]);
	w->wd_path[wd] = strdup(path);
}

/* Watch ROOT and every owner folder in it; with queue, new repositories found become pending. */
static void watch_tree(struct watcher *w)
{
	DIR *d;
	struct dirent *de;

	watch_dir(w, w->srv->gitea_root);
	if (!(d = opendir(w->srv->gitea_root)))
		return;
	while ((de = readdir(d))) {
		char *p = NULL;
		if (de->d_name[0] == '.' || asprintf(&p, "%s/%s", w->srv->gitea_root, de->d_name) < 0)
			continue;
		if (is_dir(p))
			watch_dir(w, p);
		free(p);
	}
	closedir(d);
}

static void new_owner(struct watcher *w, const char *path)
{
	DIR *d;
	struct dirent *de;

	watch_dir(w, path);
	/* Repositories made before the watch was in place. */
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && ends_with_git(de->d_name))
			add_pending(w, path, de->d_name);
	closedir(d);
}

static void read_events(struct watcher *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(w->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			const char *dir = ev->wd >= 0 && (size_t)ev->wd < w->nwd ? w->wd_path[ev->wd] : NULL;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				fprintf(stderr, "leakgated: too many changes under %s at once; rescanning\n",
					w->srv->gitea_root);
				install_all(w);
				continue;
			}
			if (ev->mask & IN_IGNORED) {
				if (dir) {
					free(w->wd_path[ev->wd]);
					w->wd_path[ev->wd] = NULL;
				}
				continue;
			}
			if (!dir || !ev->len || !(ev->mask & IN_ISDIR) || ev->name[0] == '.')
				continue;
			if (!strcmp(dir, w->srv->gitea_root)) {
				char *owner = NULL;
				if (asprintf(&owner, "%s/%s", dir, ev->name) >= 0) {
					new_owner(w, owner);
					free(owner);
				}
			} else if (ends_with_git(ev->name)) {
				add_pending(w, dir, ev->name);
			}
		}
	}
}

/* Install into the pending repositories that are ready; drop what is not a repository. */
static void handle_pending(struct watcher *w)
{
	int64_t now = mono_ms();

	for (size_t i = 0; i < w->npend;) {
		struct pending *pd = &w->pend[i];
		char *dropin = NULL, *head = NULL;
		int64_t age = now - pd->since_ms;
		int done = 0;

		if (asprintf(&dropin, "%s/hooks/pre-receive.d", pd->path) >= 0 &&
		    asprintf(&head, "%s/HEAD", pd->path) >= 0 &&
		    (is_dir(dropin) || (age >= GITEA_WAIT_MS && access(head, F_OK) == 0))) {
			install_one(w, pd->path);
			done = 1;
		}
		/* Never a repository (or gone): forgotten after a while. */
		if (age >= 6 * GITEA_WAIT_MS)
			done = 1;
		free(dropin);
		free(head);
		if (done) {
			free(pd->path);
			w->pend[i] = w->pend[--w->npend];
		} else {
			i++;
		}
	}
}

void *gitea_main(void *arg)
{
	struct watcher w;
	int64_t last_scan;

	memset(&w, 0, sizeof(w));
	w.srv = arg;
	{
		struct stat st;
		if (stat(w.srv->gitea_root, &st) == 0 && st.st_uid != geteuid())
			fprintf(stderr, "leakgated: warning: %s belongs to uid %u, not to this user (%u): the hooks and "
					"config files written there will not be Gitea's; run leakgated as Gitea's user\n",
				w.srv->gitea_root, (unsigned)st.st_uid, (unsigned)geteuid());
	}
	w.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w.ifd < 0)
		fprintf(stderr, "leakgated: inotify: %s; new Gitea repositories get the hook at the next rescan (%d s)\n",
			strerror(errno), GITEA_RESCAN_S);
	else
		watch_tree(&w);
	/* After the watches: a repository made during the first install is seen either way. */
	install_all(&w);
	fprintf(stderr, "leakgated: watching %s for new repositories\n", w.srv->gitea_root);
	last_scan = mono_ms();
	while (!w.srv->stopping) {
		struct pollfd p[2] = {{w.ifd, POLLIN, 0}, {w.srv->gitea_stop[0], POLLIN, 0}};
		int timeout = w.npend ? 50 : 1000;

		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (w.srv->stopping || p[1].revents)
			break;
		if (w.ifd >= 0 && (p[0].revents & POLLIN))
			read_events(&w);
		handle_pending(&w);
		if (mono_ms() - last_scan >= GITEA_RESCAN_S * 1000) {
			install_all(&w);
			last_scan = mono_ms();
		}
	}
	for (size_t i = 0; i < w.npend; i++)
		free(w.pend[i].path);
	for (size_t i = 0; i < w.nwd; i++)
		free(w.wd_path[i]);
	free(w.wd_path);
	if (w.ifd >= 0)
		close(w.ifd);
	return NULL;
}
