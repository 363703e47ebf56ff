/* What the hook server and the client share: the socket path and whole reads and writes. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int hs_parse_header(const unsigned char *hdr, uint32_t *envlen, uint32_t *umask_out)
{
	if (memcmp(hdr, HS_MAGIC, 4))
		return -1;
	memcpy(envlen, hdr + 4, 4);
	memcpy(umask_out, hdr + 8, 4);
	return *envlen > HS_ENV_MAX || *umask_out > 0777 ? -1 : 0;
}

int hs_parse_env(char *env, size_t envlen, char ***out)
{
	size_t n = 0, got = 0;
	char **arr;

	*out = NULL;
	if (envlen > HS_ENV_MAX || (envlen && env[envlen - 1] != '\0'))
		return -1;
	for (size_t i = 0; i < envlen; i++)
		n += env[i] == '\0';
	if (!(arr = calloc(n + 1, sizeof(*arr))))
		return -1;
	for (size_t i = 0; i < envlen; i += strlen(env + i) + 1)
		arr[got++] = env + i;
	*out = arr;
	return 0;
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
