/*
 * leakgated internals shared by its modules: the server state, the live
 * rule set, per-thread resources, and the pieces each module offers.
 */
#ifndef LG_SERVER_H
#define LG_SERVER_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <microhttpd.h>

#include "fingerprint.h"
#include "ruleset.h"
#include "scanner.h"
#include "unpack.h"
#include "store.h"

/* Largest request body accepted; larger ones get 413 while they arrive. */
#define SRV_BODY_MAX (1u << 20)
#define SRV_WEBHOOKS_MAX 16

struct server {
	char *db_path;
	char *cache_dir;
	struct lg_key key;

	/* The live rule set; replaced whole when rules change. */
	pthread_rwlock_t rs_lock;
	struct lg_ruleset *rs;
	uint64_t rs_gen;
	pthread_mutex_t publish_lock; /* one rule change at a time */

	pthread_key_t tls;

	/* Request counters by status class, for /metrics. */
	pthread_mutex_t stats_lock;
	uint64_t http_by_status[6]; /* 1xx..5xx, index 1..5 */

	const char *webhooks[SRV_WEBHOOKS_MAX];
	size_t nwebhooks;
	volatile int stopping;

	/* The hook server it runs (hookserver.c); hook_bin NULL when none. */
	char *hook_bin;
	char hook_socket[108];
	pthread_mutex_t hook_lock;
	pthread_cond_t hook_cv;
	pid_t hook_pid;

	/* --gitea ROOT (gitea.c): the hook kept installed in every repository under it. */
	char *gitea_root;
	char *leakgate_bin;
	int check_seconds; /* CPU limit of a candidate rule's check (0: the default) */
	int gitea_stop[2]; /* a byte written to [1] wakes the watcher to stop */
};

/*
 * The locks and the thread-specific key of srv (state.c); -1 when they
 * cannot be made. srv_state_release_thread frees the calling thread's
 * connection, scanner and cached replies (other threads' go when they end).
 */
int srv_state_init(struct server *srv);
void srv_state_release_thread(struct server *srv);

/* The calling thread's database connection (opened on first use), or NULL. */
struct lg_store *srv_store(struct server *srv);
/*
 * Replies to reads are cached per thread: a reply made at one stamp is
 * served again while the stamp is the same, i.e. while the database (as
 * this thread's connection sees it) and the live rule set are unchanged.
 */
struct srv_stamp {
	int64_t db[2];
	uint64_t rs_gen;
};
/* The stamp now; -1 when the database cannot be read. */
int srv_stamp(struct server *srv, struct srv_stamp *s);
/* The reply cached under key at stamp now, or NULL; valid until the next put. */
const char *srv_cache_get(struct server *srv, const char *key, const struct srv_stamp *now, size_t *len);
void srv_cache_put(struct server *srv, const char *key, const struct srv_stamp *made,
		   const char *body, size_t len);

/*
 * The calling thread's scanner over the live rule set, with the read lock
 * held: call srv_scanner_release() when done.
 */
struct lg_scanner *srv_scanner_acquire(struct server *srv);
void srv_scanner_release(struct server *srv);

/* Rebuild the rule set from the store and make it live; errors in d. */
int srv_publish_rules(struct server *srv, struct lg_diag *d);

/* Slow work (work.c): run() on a worker while the connection is suspended. */
struct srv_job {
	void (*run)(struct srv_job *j);
	struct MHD_Connection *c;
	int done; /* set (atomically) once run() returned, or when it was refused */
	int busy; /* refused: the queue was full, the daemon is stopping, or its deadline passed waiting */
	int scan; /* a scan over the live rules (its own queue limits), not a rule check */
	size_t bytes; /* a scan's text, counted against the queue's limit */
	int64_t deadline_ms; /* not run when its turn comes after this (0: no deadline) */
};
/* A scan still waiting for a worker this long after it came is answered busy. */
#define WORK_WAIT_MS 30000
int srv_work_start(void);
void srv_work_stop(void);
/* Suspend j->c and queue j; -1 when refused (j->busy set, the connection resumed). */
int srv_work_submit(struct srv_job *j);

/*
 * The connection guard (guard.c): deadlines for headers and requests, a
 * share of connections per client address, room kept near the limit.
 */
#define GUARD_HEADER_MS 10000     /* from accept (or the last answer) to complete headers */
#define GUARD_REQUEST_MS 60000    /* from the headers to the answer */
#define GUARD_SLOW_WORK_MS 120000 /* the same for a request waiting on slow work */
enum { GUARD_HEADERS_IN, GUARD_SUSPENDED, GUARD_DONE };
void srv_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		      enum MHD_ConnectionNotificationCode code);
void srv_guard_request(struct MHD_Connection *c, int state);
int srv_guard_start(size_t per_ip, size_t total);
void srv_guard_stop(void);
/* Connections cut for being slow, cut to make room, and open now. */
void srv_guard_counts(uint64_t *slow, uint64_t *flood, size_t *open);

/* The request handler (api.c). */
enum MHD_Result api_handle(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const char *version, const char *upload_data,
			   size_t *upload_size, void **req_cls);
void api_completed(void *cls, struct MHD_Connection *c, void **req_cls,
		   enum MHD_RequestTerminationCode toe);

/* The webhook delivery thread (webhook.c). */
void *webhook_main(void *arg);

/*
 * Start argv[0] with envp and no blocked signals (quiet: standard input and
 * output on /dev/null); its pid, or -1.
 */
pid_t srv_spawn(char *const argv[], char *const envp[], int quiet);

/* The hook server (hookserver.c): run it, stop it. */
void *hook_server_main(void *arg);
void hook_server_stop(struct server *srv);

/* The Gitea watcher (gitea.c); it runs srv->leakgate_bin. */
void *gitea_main(void *arg);

#endif
