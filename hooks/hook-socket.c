/* What the hook server and the client share: the socket path and whole reads and writes. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hook-server.h"
#include "paths.h"

int hs_socket_path(char *buf, size_t size)
{
	const char *e = getenv("LEAKGATE_SOCKET");
	int n;

	if (size > sizeof(((struct sockaddr_un *)0)->sun_path))
		size = sizeof(((struct sockaddr_un *)0)->sun_path);
	char *p;

	if (e)
		n = *e ? snprintf(buf, size, "%s", e) : -1;
	else if ((p = lg_dir_path(LG_DIR_STATE, "hook.sock"))) {
		n = snprintf(buf, size, "%s", p);
		free(p);
	} else
		n = -1;
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int hs_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int hs_read_all(int fd, void *buf, size_t n, int timeout_ms)
{
	char *p = buf;

	while (n) {
		ssize_t k;
		if (timeout_ms >= 0) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			int r = poll(&pfd, 1, timeout_ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
		}
		k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}
