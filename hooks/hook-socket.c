/* The hook server's socket path, shared by the server and the client. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>

#include "hook-server.h"

int hs_socket_path(char *buf, size_t size)
{
	const char *e = getenv("LEAKGATE_SOCKET");
	int n;

	if (size > sizeof(((struct sockaddr_un *)0)->sun_path))
		size = sizeof(((struct sockaddr_un *)0)->sun_path);
	if (e)
		n = *e ? snprintf(buf, size, "%s", e) : -1;
	else if ((e = getenv("XDG_STATE_HOME")) && *e)
		n = snprintf(buf, size, "%s/leakgate/hook.sock", e);
	else if ((e = getenv("HOME")) && *e)
		n = snprintf(buf, size, "%s/.local/state/leakgate/hook.sock", e);
	else
		n = -1;
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
