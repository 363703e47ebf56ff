/*
 * leakgated runs the hook server (hooks/hook-server.h): the resident
 * `leakgate-pre-receive --serve SOCKET` that installed hooks hand pushes to,
 * so that a push does not pay for loading the hook's libraries. It is
 * restarted when it stops, with a growing pause if it keeps stopping at
 * once (for example because another one already serves on the socket),
 * and asked to stop (SIGTERM: it finishes the checks it is running) when
 * leakgated stops. srv_spawn, which starts it, also starts the leakgate
 * commands the Gitea watcher runs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

extern char **environ;

pid_t srv_spawn(char *const argv[], char *const envp[], int quiet)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid = -1;

	posix_spawn_file_actions_init(&fa);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	}
	/* leakgated's threads block the signals it waits for; the child must not inherit that. */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	if (posix_spawn(&pid, argv[0], &fa, &attr, argv, envp) != 0)
		pid = -1;
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Start it with the daemon's environment and its cache folder. */
static pid_t spawn(struct server *srv)
{
	char *argv[] = {srv->hook_bin, "--serve", srv->hook_socket, NULL};
	size_t n = 0;
	char **env, *cache = NULL;
	pid_t pid;

	for (char **e = environ; *e; e++)
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return -1;
	n = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "LEAKGATE_CACHE_DIR=", 19))
			env[n++] = *e;
	/* The server loads the built-in rules from the daemon's cache. */
	if (srv->cache_dir && asprintf(&cache, "LEAKGATE_CACHE_DIR=%s", srv->cache_dir) >= 0)
		env[n++] = cache;
	pid = srv_spawn(argv, env, 0);
	free(cache);
	free(env);
	return pid;
}

static void pause_for(struct server *srv, int seconds)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	while (!srv->stopping &&
	       pthread_cond_timedwait(&srv->hook_cv, &srv->hook_lock, &until) != ETIMEDOUT)
		;
}

void *hook_server_main(void *arg)
{
	struct server *srv = arg;
	int backoff = 1;

	pthread_mutex_lock(&srv->hook_lock);
	while (!srv->stopping) {
		time_t started = time(NULL);
		pid_t pid = spawn(srv);
		int status = 0;

		if (pid < 0) {
			fprintf(stderr, "leakgated: cannot start the hook server %s: %s\n", srv->hook_bin,
				strerror(errno));
			pause_for(srv, 60);
			continue;
		}
		srv->hook_pid = pid;
		pthread_mutex_unlock(&srv->hook_lock);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&srv->hook_lock);
		srv->hook_pid = 0;
		if (srv->stopping)
			break;
		backoff = time(NULL) - started < 10 ? (backoff < 60 ? backoff * 2 : 60) : 1;
		if (WIFSIGNALED(status))
			fprintf(stderr, "leakgated: the hook server stopped on signal %d; restarting in %d s\n",
				WTERMSIG(status), backoff);
		else
			fprintf(stderr, "leakgated: the hook server exited with status %d; restarting in %d s\n",
				WEXITSTATUS(status), backoff);
		pause_for(srv, backoff);
	}
	pthread_mutex_unlock(&srv->hook_lock);
	return NULL;
}

void hook_server_stop(struct server *srv)
{
	pthread_mutex_lock(&srv->hook_lock);
	srv->stopping = 1;
	if (srv->hook_pid > 0)
		kill(srv->hook_pid, SIGTERM);
	pthread_cond_broadcast(&srv->hook_cv);
	pthread_mutex_unlock(&srv->hook_lock);
}
