/*
 * The state leakgated's request threads share and keep: each thread's own
 * database connection, scanner and small cache of replies
 * (thread-specific data, since neither a SQLite connection nor a scanner
 * may be shared), and the live rule set behind its read-write lock,
 * replaced whole when rules change. leakgated's main() sets it up with
 * srv_state_init; the API's fuzz harnesses (tests/fuzz/fuzz-api.c) use
 * the same code.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "ops.h"
#include "server.h"

/* Replies kept per thread, and the bytes they may use together. */
#define CACHE_ENTRIES 8
#define CACHE_BYTES (4u << 20)

struct cached_reply {
	char *key, *body;
	size_t len;
	struct srv_stamp stamp;
};

struct thread_res {
	struct lg_store *st;
	struct lg_scanner *sc;
	uint64_t gen;
	struct cached_reply cache[CACHE_ENTRIES];
	size_t cache_next, cache_bytes;
};

static void cached_reply_clear(struct thread_res *t, struct cached_reply *e)
{
	t->cache_bytes -= e->len;
	free(e->key);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

static void thread_res_free(void *p)
{
	struct thread_res *t = p;

	if (!t)
		return;
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		cached_reply_clear(t, &t->cache[i]);
	lg_scanner_free(t->sc);
	lg_store_close(t->st);
	free(t);
}

static struct thread_res *thread_res(struct server *srv)
{
	struct thread_res *t = pthread_getspecific(srv->tls);

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (t)
			pthread_setspecific(srv->tls, t);
	}
	return t;
}

struct lg_store *srv_store(struct server *srv)
{
	struct thread_res *t = thread_res(srv);
	struct lg_diag d;

	if (!t)
		return NULL;
	if (!t->st) {
		lg_diag_init(&d);
		if (lg_store_open(&t->st, srv->db_path, 0, &d))
			t->st = NULL;
		lg_diag_release(&d);
	}
	return t->st;
}

int srv_stamp(struct server *srv, struct srv_stamp *s)
{
	struct lg_store *st = srv_store(srv);

	if (!st || lg_store_version(st, s->db))
		return -1;
	pthread_rwlock_rdlock(&srv->rs_lock);
	s->rs_gen = srv->rs_gen;
	pthread_rwlock_unlock(&srv->rs_lock);
	return 0;
}

static int stamp_equal(const struct srv_stamp *a, const struct srv_stamp *b)
{
	return a->db[0] == b->db[0] && a->db[1] == b->db[1] && a->rs_gen == b->rs_gen;
}

const char *srv_cache_get(struct server *srv, const char *key, const struct srv_stamp *now, size_t *len)
{
	struct thread_res *t = thread_res(srv);

	for (size_t i = 0; t && i < CACHE_ENTRIES; i++) {
		struct cached_reply *e = &t->cache[i];
		if (!e->key || strcmp(e->key, key))
			continue;
		if (!stamp_equal(&e->stamp, now)) {
			cached_reply_clear(t, e);
			return NULL;
		}
		*len = e->len;
		return e->body;
	}
	return NULL;
}

void srv_cache_put(struct server *srv, const char *key, const struct srv_stamp *made,
		   const char *body, size_t len)
{
	struct thread_res *t = thread_res(srv);
	struct cached_reply *e;

	if (!t || len > CACHE_BYTES / 2)
		return;
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		if (t->cache[i].key && !strcmp(t->cache[i].key, key))
			cached_reply_clear(t, &t->cache[i]);
	/* Oldest first, until the new reply fits. */
	do {
		e = &t->cache[t->cache_next];
		t->cache_next = (t->cache_next + 1) % CACHE_ENTRIES;
		if (e->key)
			cached_reply_clear(t, e);
	} while (t->cache_bytes + len > CACHE_BYTES);
	e->key = strdup(key);
	e->body = malloc(len);
	if (!e->key || !e->body) {
		free(e->key);
		free(e->body);
		e->key = e->body = NULL;
		return;
	}
	memcpy(e->body, body, len);
	e->len = len;
	e->stamp = *made;
	t->cache_bytes += len;
}

struct lg_scanner *srv_scanner_acquire(struct server *srv)
{
	struct thread_res *t = thread_res(srv);

	pthread_rwlock_rdlock(&srv->rs_lock);
	if (!t)
		return NULL;
	if (!t->sc || t->gen != srv->rs_gen) {
		lg_scanner_free(t->sc);
		t->sc = NULL;
		if (lg_scanner_new(&t->sc, srv->rs, &srv->key))
			t->sc = NULL;
		t->gen = srv->rs_gen;
	}
	return t->sc;
}

void srv_scanner_release(struct server *srv)
{
	pthread_rwlock_unlock(&srv->rs_lock);
}

int srv_publish_rules(struct server *srv, struct lg_diag *d)
{
	struct lg_load_opts lo;
	struct lg_ruleset *rs = NULL, *old;
	struct lg_store *st = srv_store(srv);
	int err;

	if (!st) {
		lg_diag_add(d, srv->db_path, NULL, NULL, "the database cannot be opened");
		return LG_ERROR;
	}
	memset(&lo, 0, sizeof(lo));
	lo.cache_dir = srv->cache_dir;
	lo.cache_key = &srv->key;
	/* Compiling into the shared cache is what publishes it to the hooks. */
	err = lg_ops_load_rules(st, &lo, &rs, NULL, d);
	if (err)
		return err;
	pthread_rwlock_wrlock(&srv->rs_lock);
	old = srv->rs;
	srv->rs = rs;
	srv->rs_gen++;
	pthread_rwlock_unlock(&srv->rs_lock);
	lg_ruleset_free(old);
	return LG_OK;
}

int srv_state_init(struct server *srv)
{
	if (pthread_rwlock_init(&srv->rs_lock, NULL) || pthread_mutex_init(&srv->publish_lock, NULL) ||
	    pthread_mutex_init(&srv->stats_lock, NULL) || pthread_key_create(&srv->tls, thread_res_free))
		return -1;
	return 0;
}

void srv_state_release_thread(struct server *srv)
{
	thread_res_free(pthread_getspecific(srv->tls));
	pthread_setspecific(srv->tls, NULL);
}
