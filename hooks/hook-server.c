/*
 * The hook server (protocol in hook-server.h). One thread: a poll loop over
 * the listening socket, a self-pipe for SIGCHLD and SIGTERM, and the
 * connection of each running check, watched for the client going away (git
 * killed it: the check is killed too). Forking from a single-threaded
 * process keeps the child's libraries in a clean state; the child starts
 * its own threads as the hook always does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook-server.h"
#include "file.h"
#include "loader.h"

extern char **environ;

struct child {
	pid_t pid;
	int conn;
	int killed;
};

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGTERM || sig == SIGINT)
		stop_requested = 1;
	if (write(sig_pipe[1], &c, 1) < 0) {
		/* the pipe is full: the loop wakes anyway */
	}
	errno = saved;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s leakgate-pre-receive --serve: ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Bind path, replacing a socket nobody serves on any more. */
static int listen_on(const char *path)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	mode_t old;
	int fd, err;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		logf_("the socket path %s is too long for a Unix socket", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		lg_mkdir_p(dir, 0700);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		logf_("socket: %s", strerror(errno));
		return -1;
	}
	old = umask(077);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (err < 0 && errno == EADDRINUSE) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			umask(old);
			close(fd);
			logf_("another hook server already serves on %s", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		struct stat stt;
		if (lstat(path, &stt) == 0 && S_ISSOCK(stt.st_mode))
			unlink(path);
		err = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	umask(old);
	if (err < 0 || listen(fd, 128) < 0) {
		logf_("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Read one request: the four descriptors and the environment as a
 * NULL-terminated array inside one allocation (*block). -1 on any error.
 */
static int read_request(int conn, int fds[4], char ***envp, char **block, mode_t *um)
{
	unsigned char hdr[HS_HEADER];
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg;
	struct cmsghdr *cm;
	uint32_t envlen, umv;
	char *env = NULL, **arr = NULL;
	ssize_t k;

	for (int i = 0; i < 4; i++)
		fds[i] = -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	do
		k = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (k < 0 && errno == EINTR);
	for (cm = k > 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int tmp[8];
			if (nfd > 8)
				nfd = 8;
			memcpy(tmp, CMSG_DATA(cm), nfd * sizeof(int));
			for (size_t i = 0; i < nfd; i++) {
				if (i < 4 && nfd == 4)
					fds[i] = tmp[i];
				else
					close(tmp[i]);
			}
		}
	}
	if (k <= 0 || (msg.msg_flags & MSG_CTRUNC) || fds[3] < 0)
		goto bad;
	/* The rest of the header, if it came in pieces. */
	if ((size_t)k < sizeof(hdr) && hs_read_all(conn, hdr + k, sizeof(hdr) - (size_t)k, -1))
		goto bad;
	if (hs_parse_header(hdr, &envlen, &umv))
		goto bad;
	env = malloc((size_t)envlen + 1);
	if (!env || hs_read_all(conn, env, envlen, -1))
		goto bad;
	env[envlen] = '\0';
	if (hs_parse_env(env, envlen, &arr))
		goto bad;
	*envp = arr;
	*block = env;
	*um = (mode_t)umv;
	return 0;
bad:
	free(env);
	free(arr);
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return -1;
}

/* In the forked process: become the hook for this push. Does not return. */
void hs_send_verdict(int conn, int status)
{
	unsigned char msg[5] = {'X'};
	int32_t v = status;

	memcpy(msg + 1, &v, 4);
	if (send(conn, msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg)) {
		/* the server tells the client once this process is reaped */
	}
}

static void become_hook(int conn, int fds[4], char **env, mode_t um, int (*run)(int))
{
	char c = 0;
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Exist, then wait for the client's go (it may still run the hook itself). */
	if (send(conn, "S", 1, MSG_NOSIGNAL) != 1 || recv(conn, &c, 1, 0) != 1 || c != 'G')
		_exit(0);
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(1);
	if (fchdir(fds[3]) < 0) {
		fprintf(stderr, "leakgate: the hook server cannot enter the repository folder: %s; push rejected.\n",
			strerror(errno));
		_exit(1);
	}
	for (int i = 0; i < 4; i++)
		if (fds[i] > 2)
			close(fds[i]);
	umask(um);
	environ = env;
	exit(run(conn));
}

/*
 * The program the server runs, as it was at start. When a new version is
 * installed over it (a new file renamed into place, or the same file
 * rewritten), the server must not go on checking pushes with the old code
 * and the old built-in rules: it hands the push in hand back to the
 * client, which runs the new program itself, and stops (leakgated starts
 * the new one).
 */
static char exe_path[PATH_MAX];
static struct stat exe_st;

static void exe_remember(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);

	exe_path[n > 0 ? n : 0] = '\0';
	if (exe_path[0] && stat(exe_path, &exe_st) < 0)
		exe_path[0] = '\0';
}

static int exe_replaced(void)
{
	struct stat st;

	if (!exe_path[0])
		return 0;
	if (stat(exe_path, &st) < 0)
		return 1;
	return st.st_dev != exe_st.st_dev || st.st_ino != exe_st.st_ino || st.st_size != exe_st.st_size ||
	       st.st_mtim.tv_sec != exe_st.st_mtim.tv_sec || st.st_mtim.tv_nsec != exe_st.st_mtim.tv_nsec;
}

int hs_serve(const char *path, int (*run)(int))
{
	char pathbuf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct child *kids;
	size_t nkids = 0;
	struct pollfd *pfd;
	struct sigaction sa;
	int lfd, listening = 1;
	uint64_t served = 0;

	if (!path) {
		if (hs_socket_path(pathbuf, sizeof(pathbuf))) {
			logf_("no socket path (set LEAKGATE_SOCKET, XDG_STATE_HOME or HOME)");
			return 2;
		}
		path = pathbuf;
	}
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return 1;
	kids = calloc(HS_CHILDREN_MAX, sizeof(*kids));
	pfd = calloc(HS_CHILDREN_MAX + 2, sizeof(*pfd));
	if (!kids || !pfd) {
		free(kids);
		free(pfd);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(path);
	if (lfd < 0) {
		free(kids);
		free(pfd);
		return 1;
	}
	exe_remember();
	logf_("serving on %s (pid %d)", path, (int)getpid());

	while (listening || nkids) {
		size_t np = 0;
		int r;

		if (stop_requested && listening) {
			close(lfd);
			unlink(path);
			listening = 0;
			logf_("stopping: %zu check%s still running", nkids, nkids == 1 ? "" : "s");
			continue;
		}
		pfd[np++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
		if (listening)
			pfd[np++] = (struct pollfd){.fd = nkids < HS_CHILDREN_MAX ? lfd : -1, .events = POLLIN};
		for (size_t i = 0; i < nkids; i++)
			pfd[np++] = (struct pollfd){.fd = kids[i].killed ? -1 : kids[i].conn, .events = POLLRDHUP};
		r = poll(pfd, np, -1);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		/* A client that hung up takes its check with it (pfd still matches kids here). */
		for (size_t i = 0, k = listening ? 2 : 1; i < nkids; i++, k++) {
			if (pfd[k].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
				kill(kids[i].pid, SIGKILL);
				kids[i].killed = 1;
			}
		}
		if (pfd[0].revents) {
			char drain[64];
			pid_t pid;
			int status;
			while (read(sig_pipe[0], drain, sizeof(drain)) > 0) {
			}
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				for (size_t i = 0; i < nkids; i++) {
					if (kids[i].pid != pid)
						continue;
					if (!kids[i].killed)
						hs_send_verdict(kids[i].conn, WIFEXITED(status) ? WEXITSTATUS(status)
							: 256 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
					close(kids[i].conn);
					kids[i] = kids[--nkids];
					break;
				}
			}
		}
		if (listening && (pfd[1].revents & POLLIN)) {
			int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), fds[4];
			struct ucred cred;
			socklen_t len = sizeof(cred);
			struct timeval tv = {.tv_sec = 2};
			char **env = NULL, *block = NULL;
			mode_t um;
			pid_t pid;

			if (conn < 0)
				continue;
			if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid()) {
				close(conn);
				continue;
			}
			if (exe_replaced()) {
				/* No go sent: the client runs the (new) hook program itself. */
				close(conn);
				logf_("%s was replaced (an upgrade?): stopping, so that the new program serves",
				      exe_path);
				stop_requested = 1;
				continue;
			}
			setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (read_request(conn, fds, &env, &block, &um)) {
				close(conn);
				continue;
			}
			pid = fork();
			if (pid == 0) {
				close(lfd);
				close(sig_pipe[0]);
				close(sig_pipe[1]);
				for (size_t i = 0; i < nkids; i++)
					close(kids[i].conn);
				tv.tv_sec = 0;
				setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
				become_hook(conn, fds, env, um, run);
			}
			for (int i = 0; i < 4; i++)
				close(fds[i]);
			free(env);
			free(block);
			if (pid < 0) {
				logf_("fork: %s", strerror(errno));
				close(conn); /* the client runs the hook itself */
				continue;
			}
			kids[nkids++] = (struct child){.pid = pid, .conn = conn};
			served++;
		}
	}
	logf_("stopped after %llu check%s", (unsigned long long)served, served == 1 ? "" : "s");
	free(kids);
	free(pfd);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	return 0;
}
