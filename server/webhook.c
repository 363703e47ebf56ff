/*
 * Webhook delivery. The hook only writes audit events; this thread reads
 * the rejected and bypassed ones in order and POSTs each to every
 * configured URL with libcurl. A cursor per URL in the database records
 * what was delivered, so restarts neither lose nor repeat events; a failed
 * delivery is retried after a delay that doubles up to five minutes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "server.h"

#define WEBHOOK_KINDS "rejected,bypassed"
#define WEBHOOK_BATCH 20
#define WEBHOOK_POLL_MS 1000
#define WEBHOOK_RETRY_MAX_MS (300 * 1000)
#define WEBHOOK_TIMEOUT_S 10L

/* A delivery problem on stderr at most once a minute per URL (the database may stay away for long). */
static void complain(int64_t *last_ms, const char *url, const char *what, int err)
{
	int64_t now = lg_now_ms();

	if (now - *last_ms < 60000)
		return;
	*last_ms = now;
	fprintf(stderr, "leakgated: webhook %s: %s: %s\n", url, what, lg_strerror(err));
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* POST body to url; 0 on a 2xx answer, else -1 with a reason in err. */
static int post(CURL *curl, const char *url, const char *body, char *err, size_t errlen)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	long code = 0;
	CURLcode rc;

	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, WEBHOOK_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "leakgated/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(curl);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		snprintf(err, errlen, "HTTP %ld", code);
		return -1;
	}
	return 0;
}

static void deliver(struct server *srv, struct lg_store *st, CURL *curl, const char *url, int64_t *complained)
{
	struct lg_webhook_cursor c;
	json_t *events = NULL, *ev;
	size_t i;
	char err[256] = "";
	int e;

	if ((e = lg_store_webhook_cursor(st, url, &c))) {
		complain(complained, url, "cannot read where delivery stands; will try again", e);
		return;
	}
	if (lg_now_ms() < c.next_ms)
		return;
	if ((e = lg_store_events_after(st, c.last_id, WEBHOOK_KINDS, WEBHOOK_BATCH, &events))) {
		complain(complained, url, "cannot read the events to deliver; will try again", e);
		return;
	}
	json_array_foreach(events, i, ev) {
		json_t *doc = json_pack("{s:s, s:O}", "source", "leakgate", "event", ev);
		char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		int ok = body && post(curl, url, body, err, sizeof(err)) == 0;

		free(body);
		json_decref(doc);
		if (!ok) {
			int64_t delay = 1000;
			c.attempts++;
			for (int k = 1; k < c.attempts && delay < WEBHOOK_RETRY_MAX_MS; k++)
				delay *= 2;
			c.next_ms = lg_now_ms() + (delay < WEBHOOK_RETRY_MAX_MS ? delay : WEBHOOK_RETRY_MAX_MS);
			if ((e = lg_store_webhook_cursor_put(st, url, &c, err)))
				complain(complained, url, "cannot record the failed attempt", e);
			fprintf(stderr, "leakgated: webhook %s: event %lld not delivered (%s); retry #%d in %lld s\n",
				url, (long long)json_integer_value(json_object_get(ev, "id")), err, c.attempts,
				(long long)((c.next_ms - lg_now_ms() + 999) / 1000));
			break;
		}
		c.last_id = json_integer_value(json_object_get(ev, "id"));
		c.attempts = 0;
		c.next_ms = 0;
		if ((e = lg_store_webhook_cursor_put(st, url, &c, NULL))) {
			/* At least once: the event may be delivered again after a restart. */
			complain(complained, url, "delivered, but cannot record it (it may be delivered again)", e);
			break;
		}
		if (srv->stopping)
			break;
	}
	json_decref(events);
}

void *webhook_main(void *arg)
{
	struct server *srv = arg;
	struct lg_store *st = NULL;
	struct lg_diag d;
	CURL *curl = curl_easy_init();
	int64_t *complained = NULL;

	lg_diag_init(&d);
	if (!curl || lg_store_open(&st, srv->db_path, 0, &d)) {
		fprintf(stderr, "leakgated: webhooks disabled: cannot start the delivery thread\n");
		goto out;
	}
	complained = calloc(srv->nwebhooks ? srv->nwebhooks : 1, sizeof(*complained));
	if (!complained) {
		fprintf(stderr, "leakgated: webhooks disabled: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < srv->nwebhooks; i++)
		complained[i] = INT64_MIN / 2;
	while (!srv->stopping) {
		for (size_t i = 0; i < srv->nwebhooks && !srv->stopping; i++)
			deliver(srv, st, curl, srv->webhooks[i], &complained[i]);
		for (int t = 0; t < WEBHOOK_POLL_MS / 50 && !srv->stopping; t++)
			usleep(50 * 1000);
	}
out:
	free(complained);
	lg_store_close(st);
	if (curl)
		curl_easy_cleanup(curl);
	lg_diag_release(&d);
	return NULL;
}
