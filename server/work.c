/*
 * Slow work off the request threads. Checking a candidate rule (compile,
 * examples, backtracking stress, a test scan) can take seconds; done on
 * the request threads, a few such requests leave /healthz and every
 * other request unanswered. Instead the request's connection is
 * suspended, the job waits in a small bounded queue for one of a few
 * workers, and the connection is resumed with the result. A full queue
 * is answered at once with 503 (retry later), never by waiting.
 *
 * Two kinds share the queue and the workers, with limits of their own:
 * rule checks (any pattern: at most WORK_CHECKS_MAX waiting) and scans
 * over the live rules (cheap per byte: at most WORK_SCANS_MAX waiting and
 * WORK_SCAN_BYTES_MAX of text among them), so that a burst of small scans
 * is queued rather than refused, and rule checks cannot crowd them out.
 * A job that waited past its deadline is answered busy when its turn
 * comes instead of being run for a client that has given up.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "server.h"

#define WORK_THREADS 2
#define WORK_CHECKS_MAX 6
#define WORK_SCANS_MAX 256
#define WORK_SCAN_BYTES_MAX (32u << 20)
#define WORK_QUEUE_MAX (WORK_CHECKS_MAX + WORK_SCANS_MAX)

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct srv_job *q[WORK_QUEUE_MAX];
	size_t head, n;
	size_t checks, scans, scan_bytes; /* waiting, by kind */
	int stopping, started;
	pthread_t t[WORK_THREADS];
} work = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0, 0, 0, 0, 0, {0}};

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct srv_job *j;

		pthread_mutex_lock(&work.lock);
		while (!work.n && !work.stopping)
			pthread_cond_wait(&work.cv, &work.lock);
		if (!work.n) {
			pthread_mutex_unlock(&work.lock);
			return NULL;
		}
		j = work.q[work.head];
		work.head = (work.head + 1) % WORK_QUEUE_MAX;
		work.n--;
		if (j->scan) {
			work.scans--;
			work.scan_bytes -= j->bytes;
		} else {
			work.checks--;
		}
		pthread_mutex_unlock(&work.lock);
		if (j->deadline_ms && lg_now_ms() >= j->deadline_ms)
			j->busy = 1; /* its time went by in the queue */
		else
			j->run(j);
		__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
		MHD_resume_connection(j->c);
	}
}

int srv_work_start(void)
{
	for (int i = 0; i < WORK_THREADS; i++) {
		if (pthread_create(&work.t[i], NULL, worker, NULL) != 0)
			return -1;
		work.started++;
	}
	return 0;
}

void srv_work_stop(void)
{
	pthread_mutex_lock(&work.lock);
	work.stopping = 1;
	pthread_cond_broadcast(&work.cv);
	pthread_mutex_unlock(&work.lock);
	/* Workers finish the queue first: every suspended connection is resumed. */
	for (int i = 0; i < work.started; i++)
		pthread_join(work.t[i], NULL);
	work.started = 0;
}

int srv_work_submit(struct srv_job *j)
{
	int ok = 0;

	/* Suspended before it is queued: a worker may resume it at once. */
	MHD_suspend_connection(j->c);
	pthread_mutex_lock(&work.lock);
	if (!work.stopping && work.started && work.n < WORK_QUEUE_MAX &&
	    (j->scan ? work.scans < WORK_SCANS_MAX && j->bytes <= WORK_SCAN_BYTES_MAX - work.scan_bytes
		     : work.checks < WORK_CHECKS_MAX)) {
		work.q[(work.head + work.n) % WORK_QUEUE_MAX] = j;
		work.n++;
		if (j->scan) {
			work.scans++;
			work.scan_bytes += j->bytes;
		} else {
			work.checks++;
		}
		ok = 1;
		pthread_cond_signal(&work.cv);
	}
	pthread_mutex_unlock(&work.lock);
	if (!ok) {
		j->busy = 1;
		__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
		MHD_resume_connection(j->c);
	}
	return ok ? 0 : -1;
}
