/*
 * leakgate-pre-receive-client HOOK [ARG...]: the fast way into the
 * pre-receive hook. It links only libc, so it starts in well under a
 * millisecond, and hands the push to the hook server (hook-server.h) when
 * one runs for this user; otherwise, or when the server does not take the
 * push, it executes HOOK (leakgate-pre-receive) itself, which then does all
 * the work in-process. Once the server has taken the push its verdict is
 * final. A check that dies before deciding (the server stopped, the
 * forked check or the in-process hook was killed) is never taken as a
 * verdict: the client runs `leakgate-pre-receive --failed REASON`, which
 * records a failed event and exits as leakgate.failMode says.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hook-server.h"

extern char **environ;

/* How long the server may take to fork a process for the push. */
#define START_TIMEOUT_MS 5000

/*
 * The check of this push was lost (the process that ran it died): the
 * hook program records a failed event and exits as leakgate.failMode says.
 */
static void report_lost(char **argv, const char *reason) __attribute__((noreturn));
static void report_lost(char **argv, const char *reason)
{
	execl(argv[1], argv[1], "--failed", reason, (char *)NULL);
	fprintf(stderr, "leakgate: %s, and the hook program %s cannot be run to record it (%s); push rejected. "
			"Tell your administrator.\n", reason, argv[1], strerror(errno));
	exit(1);
}

static void lost_on_signal(char **argv, int sig) __attribute__((noreturn));
static void lost_on_signal(char **argv, int sig)
{
	char reason[160];

	snprintf(reason, sizeof(reason), "the check of this push stopped on signal %d (%s) before deciding", sig,
		 strsignal(sig));
	report_lost(argv, reason);
}

/* Run the hook program here, and notice when it dies without a verdict. */
static void run_in_process(char **argv) __attribute__((noreturn));
static void run_in_process(char **argv)
{
	pid_t pid = fork();
	int status;

	/* A pre-receive hook takes no arguments (the kernel adds the script's path after a "#!" line). */
	char *hook_argv[] = {argv[1], NULL};

	if (pid == 0) {
		execv(argv[1], hook_argv);
		fprintf(stderr, "leakgate: cannot run the hook program %s: %s; push rejected. Tell your administrator.\n",
			argv[1], strerror(errno));
		_exit(1);
	}
	if (pid < 0) {
		/* No process to spare: run it in this one (a crash then goes unrecorded). */
		execv(argv[1], hook_argv);
		fprintf(stderr, "leakgate: cannot run the hook program %s: %s; push rejected. Tell your administrator.\n",
			argv[1], strerror(errno));
		exit(1);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "leakgate: lost the hook program: %s; push rejected.\n", strerror(errno));
			exit(1);
		}
	}
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	lost_on_signal(argv, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Connect to a server of this user; -1 when there is none. */
static int connect_server(void)
{
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (hs_socket_path(sa.sun_path, sizeof(sa.sun_path)))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid()) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send the request: header, environment, and the four descriptors. */
static int send_request(int fd)
{
	size_t envlen = 0;
	char *env, *p;
	unsigned char hdr[12];
	uint32_t v;
	mode_t um;
	int fds[4], cwd, ok;
	struct iovec iov;
	struct msghdr msg;
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct cmsghdr *cm;

	for (char **e = environ; *e; e++)
		envlen += strlen(*e) + 1;
	if (envlen > HS_ENV_MAX)
		return -1;
	env = malloc(envlen ? envlen : 1);
	if (!env)
		return -1;
	p = env;
	for (char **e = environ; *e; e++) {
		size_t n = strlen(*e) + 1;
		memcpy(p, *e, n);
		p += n;
	}
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0) {
		free(env);
		return -1;
	}
	um = umask(077);
	umask(um);
	memcpy(hdr, HS_MAGIC, 4);
	v = (uint32_t)envlen;
	memcpy(hdr + 4, &v, 4);
	v = (uint32_t)um;
	memcpy(hdr + 8, &v, 4);

	fds[0] = 0;
	fds[1] = 1;
	fds[2] = 2;
	fds[3] = cwd;
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = hdr;
	iov.iov_len = sizeof(hdr);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	ok = sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(hdr) && hs_write_all(fd, env, envlen) == 0;
	close(cwd);
	free(env);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned char st[5];
	char c;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "leakgate: usage: leakgate-pre-receive-client /path/to/leakgate-pre-receive; push rejected.\n");
		return 1;
	}
	fd = connect_server();
	if (fd < 0)
		run_in_process(argv);
	/* Until 'G' is sent nothing has read stdin: falling back is safe. */
	if (send_request(fd) || hs_read_all(fd, &c, 1, START_TIMEOUT_MS) || c != 'S' || hs_write_all(fd, "G", 1)) {
		close(fd);
		run_in_process(argv);
	}
	if (hs_read_all(fd, st, sizeof(st), -1) || st[0] != 'X')
		report_lost(argv, "the hook server stopped before deciding on this push");
	{
		int32_t status;
		memcpy(&status, st + 1, 4);
		if (status >= 0 && status < 256)
			return status;
		lost_on_signal(argv, status - 256);
	}
}
