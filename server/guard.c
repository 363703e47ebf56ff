/*
 * The connection guard: slow clients cannot starve the API. libmicrohttpd
 * only knows an idle timeout, so a client that sends one header line
 * every few seconds holds its connection for ever, and a thousand such
 * clients hold every slot. The guard tracks each connection from accept
 * to close (MHD_OPTION_NOTIFY_CONNECTION) and
 *
 *  - gives a request GUARD_HEADER_MS to get its headers in, and
 *    GUARD_REQUEST_MS to be answered, else shuts its socket (MHD then
 *    closes the connection);
 *  - holds every client address to a number of connections: past it, the
 *    oldest connection of that address still waiting for its headers is
 *    cut to make room, so a flood from one address evicts itself, while a
 *    request that sends its headers at once (a health check) gets in;
 *  - near the total limit, cuts the oldest header-less connections of any
 *    address the same way.
 *
 * Shutting the socket from the reaper is safe because a connection leaves
 * the list, under the same lock, before libmicrohttpd closes its socket.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

struct tracked {
	struct tracked *prev, *next;
	int fd;
	int64_t since;   /* start of the current request (or of the connection) */
	int in_request;  /* the request's headers are in: the handler has seen it */
	int suspended;   /* waiting for slow work: its own deadline applies */
	unsigned char addr[16];
	size_t addrlen;
};

static struct {
	pthread_mutex_t lock;
	struct tracked head; /* circular list */
	size_t n;
	size_t per_ip, total;
	pthread_t reaper;
	int stop, started;
	uint64_t cut_slow, cut_flood;
} g = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0, 0, 0, 0, 0, 0, 0};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cut(struct tracked *t)
{
	shutdown(t->fd, SHUT_RDWR);
	t->since = INT64_MAX / 2; /* cut once */
}

/* The oldest connection waiting for its headers, of addr (NULL: any), older than min_age ms. */
static struct tracked *oldest_waiting(const struct tracked *like, int64_t now, int64_t min_age)
{
	struct tracked *best = NULL;

	for (struct tracked *t = g.head.next; t != &g.head; t = t->next) {
		if (t->in_request || t == like || t->since > now - min_age)
			continue;
		if (like && (t->addrlen != like->addrlen || memcmp(t->addr, like->addr, t->addrlen)))
			continue;
		if (!best || t->since < best->since)
			best = t;
	}
	return best;
}

void srv_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		      enum MHD_ConnectionNotificationCode code)
{
	struct tracked *t = *socket_context;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ad = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		size_t same = 0;
		int64_t now = mono_ms();

		if (!(t = calloc(1, sizeof(*t))))
			return;
		t->fd = fd ? fd->connect_fd : -1;
		t->since = now;
		if (ad && ad->client_addr) {
			const struct sockaddr *sa = ad->client_addr;
			if (sa->sa_family == AF_INET) {
				memcpy(t->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
				t->addrlen = 4;
			} else if (sa->sa_family == AF_INET6) {
				memcpy(t->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
				t->addrlen = 16;
			}
		}
		pthread_mutex_lock(&g.lock);
		if (!g.head.next)
			g.head.next = g.head.prev = &g.head;
		t->prev = g.head.prev;
		t->next = &g.head;
		g.head.prev->next = t;
		g.head.prev = t;
		g.n++;
		for (struct tracked *x = g.head.next; x != &g.head; x = x->next)
			same += x->addrlen == t->addrlen && !memcmp(x->addr, t->addr, t->addrlen);
		/* Over its address's share, or near the total: make room from the slowest. */
		if ((g.per_ip && same > g.per_ip) || (g.total && g.n > g.total - g.total / 16)) {
			struct tracked *victim = oldest_waiting(g.per_ip && same > g.per_ip ? t : NULL, now, 500);
			if (!victim && g.per_ip && same > g.per_ip)
				victim = t; /* every other one is working: this one waits its turn elsewhere */
			if (victim) {
				cut(victim);
				g.cut_flood++;
			}
		}
		pthread_mutex_unlock(&g.lock);
		*socket_context = t;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && t) {
		pthread_mutex_lock(&g.lock);
		t->prev->next = t->next;
		t->next->prev = t->prev;
		g.n--;
		pthread_mutex_unlock(&g.lock);
		free(t);
		*socket_context = NULL;
	}
}

/* Looked up through MHD_CONNECTION_INFO_SOCKET_CONTEXT by the handler. */
static struct tracked *of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return i ? i->socket_context : NULL;
}

void srv_guard_request(struct MHD_Connection *c, int state)
{
	struct tracked *t = of(c);

	if (!t)
		return;
	pthread_mutex_lock(&g.lock);
	if (state == GUARD_HEADERS_IN && !t->in_request) {
		t->in_request = 1;
	} else if (state == GUARD_DONE) {
		/* Kept alive for the next request: its headers get their own time. */
		t->in_request = 0;
		t->suspended = 0;
		t->since = mono_ms();
	} else if (state == GUARD_SUSPENDED) {
		t->suspended = 1;
	}
	pthread_mutex_unlock(&g.lock);
}

static void *reaper(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&g.stop, __ATOMIC_ACQUIRE)) {
		int64_t now = mono_ms();
		struct timespec nap = {0, 250 * 1000000};

		pthread_mutex_lock(&g.lock);
		for (struct tracked *t = g.head.next; t && t != &g.head; t = t->next) {
			int64_t age = now - t->since;
			if ((!t->in_request && age > GUARD_HEADER_MS) ||
			    (t->in_request && age > (t->suspended ? GUARD_SLOW_WORK_MS : GUARD_REQUEST_MS))) {
				cut(t);
				g.cut_slow++;
			}
		}
		pthread_mutex_unlock(&g.lock);
		nanosleep(&nap, NULL);
	}
	return NULL;
}

int srv_guard_start(size_t per_ip, size_t total)
{
	g.per_ip = per_ip;
	g.total = total;
	pthread_mutex_lock(&g.lock);
	if (!g.head.next)
		g.head.next = g.head.prev = &g.head;
	pthread_mutex_unlock(&g.lock);
	if (pthread_create(&g.reaper, NULL, reaper, NULL) != 0)
		return -1;
	g.started = 1;
	return 0;
}

void srv_guard_stop(void)
{
	if (!g.started)
		return;
	__atomic_store_n(&g.stop, 1, __ATOMIC_RELEASE);
	pthread_join(g.reaper, NULL);
	g.started = 0;
}

void srv_guard_counts(uint64_t *slow, uint64_t *flood, size_t *open)
{
	pthread_mutex_lock(&g.lock);
	*slow = g.cut_slow;
	*flood = g.cut_flood;
	*open = g.n;
	pthread_mutex_unlock(&g.lock);
}
