/*
 * slowclients: many HTTP clients that never finish their headers, the way
 * a slow-loris attack holds a server's connections. Used by
 * tests/api/slow.sh and bench/api-load.sh.
 *
 *   slowclients HOST:PORT N SECONDS [INTERVAL [FROM,...]]
 *
 * Opens N connections to HOST:PORT (IPv4), from the source addresses FROM
 * in turn (default: any), sends a request line and then one header line
 * every INTERVAL seconds (default 5) on each, never the blank line that
 * ends the headers. A connection the server closes is opened again at
 * once, as an attacker would. After SECONDS it prints one line:
 *
 *   opened N cut C open K failed F
 *
 * (connections opened in all, closed by the server, still open at the end,
 * connects that failed) and exits 0; 2 on bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FROM 16

static struct sockaddr_in to, from[MAX_FROM];
static int nfrom;
static unsigned long opened, cut, failed;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_addr(const char *s, struct sockaddr_in *a, int need_port)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t n = colon && need_port ? (size_t)(colon - s) : strlen(s);
	char *end;
	long port = 0;

	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (need_port) {
		if (!colon)
			return -1;
		port = strtol(colon + 1, &end, 10);
		if (*end || port < 1 || port > 65535)
			return -1;
	}
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((unsigned short)port);
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

/* A new connection (non-blocking; its request line goes once connected), or -1. */
static int open_one(unsigned long k)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		failed++;
		return -1;
	}
	if (nfrom && bind(fd, (struct sockaddr *)&from[k % (unsigned long)nfrom], sizeof(from[0])) < 0) {
		close(fd);
		failed++;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) {
		close(fd);
		failed++;
		return -1;
	}
	opened++;
	return fd;
}

static void send_str(int fd, const char *s)
{
	/* A full socket buffer or an error shows up as a close later. */
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0 && errno != EAGAIN)
		return;
}

int main(int argc, char **argv)
{
	struct pollfd *p;
	unsigned char *started;
	unsigned long n, seq = 0, open_at_end = 0;
	double seconds, interval = 5, end, next_tick, next_retry = 0;
	struct rlimit rl;
	char *e;

	if (argc < 4 || argc > 6 || parse_addr(argv[1], &to, 1)) {
		fprintf(stderr, "usage: slowclients HOST:PORT N SECONDS [INTERVAL [FROM,...]]\n");
		return 2;
	}
	n = strtoul(argv[2], &e, 10);
	if (*e || n < 1 || n > 100000)
		return fprintf(stderr, "slowclients: N must be 1 to 100000\n"), 2;
	seconds = strtod(argv[3], &e);
	if (*e || seconds <= 0)
		return fprintf(stderr, "slowclients: SECONDS must be positive\n"), 2;
	if (argc > 4 && ((interval = strtod(argv[4], &e)) <= 0 || *e))
		return fprintf(stderr, "slowclients: INTERVAL must be positive\n"), 2;
	if (argc > 5) {
		char *list = strdup(argv[5]), *save = NULL;
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (nfrom == MAX_FROM || parse_addr(t, &from[nfrom], 0))
				return fprintf(stderr, "slowclients: bad source address %s\n", t), 2;
			nfrom++;
		}
		free(list);
	}
	/* One descriptor per connection: as many as the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max < n + 64 ? rl.rlim_max : n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	p = calloc(n, sizeof(*p));
	started = calloc(n, 1);
	if (!p || !started)
		return fprintf(stderr, "slowclients: out of memory\n"), 2;
	for (unsigned long i = 0; i < n; i++) {
		p[i].fd = open_one(seq++);
		p[i].events = POLLOUT;
	}
	end = now() + seconds;
	next_tick = now() + interval;
	while (now() < end) {
		int r = poll(p, n, 100);
		if (r < 0 && errno != EINTR)
			break;
		for (unsigned long i = 0; i < n && r > 0; i++) {
			char buf[512];
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (p[i].revents & (POLLERR | POLLHUP | POLLIN)) {
				/* Anything the server sends (an error page) or a close ends it. */
				if ((p[i].revents & POLLIN) && recv(p[i].fd, buf, sizeof(buf), 0) > 0 &&
				    !(p[i].revents & (POLLERR | POLLHUP)))
					continue;
				close(p[i].fd);
				cut++;
				started[i] = 0;
				p[i].fd = -1; /* opened again with the next retry round */
				continue;
			}
			if ((p[i].revents & POLLOUT) && !started[i]) {
				send_str(p[i].fd, "GET /healthz HTTP/1.1\r\nHost: leakgate\r\n");
				started[i] = 1;
				p[i].events = POLLIN;
			}
		}
		if (now() >= next_tick) {
			for (unsigned long i = 0; i < n; i++)
				if (p[i].fd >= 0 && started[i])
					send_str(p[i].fd, "X-Slow: still here\r\n");
			next_tick += interval;
		}
		/* Connections that were cut or could not be opened are tried again,
		 * 5 times a second. */
		if (now() >= next_retry) {
			for (unsigned long i = 0; i < n; i++)
				if (p[i].fd < 0) {
					p[i].fd = open_one(seq++);
					p[i].events = POLLOUT;
				}
			next_retry = now() + 0.2;
		}
	}
	for (unsigned long i = 0; i < n; i++)
		if (p[i].fd >= 0) {
			open_at_end += started[i];
			close(p[i].fd);
		}
	printf("opened %lu cut %lu open %lu failed %lu\n", opened, cut, open_at_end, failed);
	free(p);
	free(started);
	return 0;
}
