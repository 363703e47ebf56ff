/*
 * Fuzz harness: the admin API's query strings and path ids, through the
 * real request handling (api_handle behind libmicrohttpd and the store;
 * fuzz-api.c). Byte 0 steers: bits 0-2 choose the endpoint,
 *
 *   0 /api/v1/events           4 /api/v1/events/{id}
 *   1 /api/v1/exemptions       5 /api/v1/exemptions/{id}
 *   2 /api/v1/rules            6 /metrics
 *   3 /api/v1/rules/{id}       7 /healthz
 *
 * bit 3 sends printable bytes raw on the request line (else everything
 * but letters, digits, "-._~", and "&=+" in the query, is
 * percent-encoded), bit 4 asks with HEAD instead of GET. The rest is the
 * query string; where the path takes an id, the bytes up to the first
 * newline are the id and the rest the query.
 *
 * Invariants, each an abort when broken:
 * - a complete HTTP/1.1 answer comes back; an answer of the API has a
 *   JSON body (Content-Type and Content-Length right, none for HEAD) that
 *   is {"error": {"code", "message"}} with the status's code on an
 *   error; only a request line sent raw may get libmicrohttpd's own
 *   refusal (400, 414, 431) instead;
 * - the status is 200, 400, 404 or 405 (with Allow): never 401 or 403
 *   (the token is an admin's), 500 or 503 (the store is healthy); a
 *   listing without a query is 200;
 * - a 200 has the documented shape: events newest first, at most 500, a
 *   next_cursor that is null or a number, and no next page without a
 *   full one; exemptions and rules counted, each with its id; one rule,
 *   event or exemption an object with its id; /healthz "ok" with the
 *   rule count and hash; /metrics Prometheus text.
 *
 * Nothing here changes the store.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-api.h"
#include "fuzz.h"

static const char *const paths[8] = {
	"/api/v1/events", "/api/v1/exemptions", "/api/v1/rules", "/api/v1/rules/",
	"/api/v1/events/", "/api/v1/exemptions/", "/metrics", "/healthz",
};

/* Bytes that may go raw on a request line: printable, no space. */
static void raw_or_escape(char *out, const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f) {
			*out++ = (char)s[i];
		} else {
			*out++ = '%';
			*out++ = hex[s[i] >> 4];
			*out++ = hex[s[i] & 15];
		}
	}
	*out = '\0';
}

static int is_number(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void check_events(json_t *doc)
{
	json_t *a = json_object_get(doc, "events"), *next = json_object_get(doc, "next_cursor"), *e;
	json_int_t last = 0;
	size_t i;

	FUZZ_CHECK(json_is_array(a) && json_array_size(a) <= 500);
	FUZZ_CHECK(json_is_null(next) || is_number(json_string_value(next)));
	FUZZ_CHECK(json_is_null(next) || json_array_size(a) > 0);
	json_array_foreach(a, i, e) {
		json_int_t id = json_integer_value(json_object_get(e, "id"));
		FUZZ_CHECK(json_is_integer(json_object_get(e, "id")) && id > 0);
		FUZZ_CHECK(i == 0 || id < last); /* newest first */
		FUZZ_CHECK(json_is_string(json_object_get(e, "kind")));
		last = id;
	}
}

static void check_counted(json_t *doc, const char *key, int string_ids)
{
	json_t *a = json_object_get(doc, key), *e;
	size_t i;

	FUZZ_CHECK(json_is_array(a));
	FUZZ_CHECK(json_integer_value(json_object_get(doc, "count")) == (json_int_t)json_array_size(a));
	json_array_foreach(a, i, e)
		FUZZ_CHECK(string_ids ? json_is_string(json_object_get(e, "id")) : json_is_integer(json_object_get(e, "id")));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_api_resp r;
	const unsigned char *q, *nl;
	size_t qlen, idlen = 0;
	char *target, *p;
	int ep, raw, head, st;
	json_t *doc = NULL;

	fuzz_api_setup();
	if (size < 1)
		return 0;
	ep = data[0] & 7;
	raw = (data[0] >> 3) & 1;
	head = (data[0] >> 4) & 1;
	q = data + 1;
	qlen = size - 1;
	if (ep >= 3 && ep <= 5) {
		nl = memchr(q, '\n', qlen);
		idlen = nl ? (size_t)(nl - q) : qlen;
		q += nl ? idlen + 1 : idlen;
		qlen -= nl ? idlen + 1 : idlen;
	}
	FUZZ_CHECK((target = malloc(strlen(paths[ep]) + 3 * (idlen + qlen) + 2)) != NULL);
	p = target + sprintf(target, "%s", paths[ep]);
	if (raw)
		raw_or_escape(p, data + 1, idlen);
	else
		fuzz_api_escape(p, data + 1, idlen, NULL);
	p += strlen(p);
	if (qlen) {
		*p++ = '?';
		if (raw)
			raw_or_escape(p, q, qlen);
		else
			fuzz_api_escape(p, q, qlen, "&=+");
	}
	fuzz_api_request(head ? "HEAD" : "GET", target, NULL, NULL, 0, 0, &r);
	st = r.status;
	if (raw && !fuzz_api_is_json(&r) && (st == 400 || st == 414 || st == 431)) {
		/* libmicrohttpd's own refusal of the request line. */
		free(target);
		fuzz_api_resp_release(&r);
		return 0;
	}
	FUZZ_CHECK(st == 200 || st == 400 || st == 404 || st == 405);
	if (ep <= 2 && !qlen)
		FUZZ_CHECK(st == 200);
	if (ep == 6 && st == 200) {
		/* Prometheus text, not JSON. */
		FUZZ_CHECK(!strncmp(r.ctype, "text/plain", 10));
		FUZZ_CHECK(r.content_length >= 0);
		FUZZ_CHECK(head ? r.body_len == 0
				: (size_t)r.content_length == r.body_len && !strncmp(r.body, "# HELP ", 7));
	} else {
		doc = fuzz_api_json(&r, head);
	}
	if (doc && st == 200) {
		switch (ep) {
		case 0: check_events(doc); break;
		case 1:
			check_counted(doc, "exemptions", 0);
			FUZZ_CHECK(json_array_size(json_object_get(doc, "exemptions")) <= FUZZ_API_EXEMPTIONS);
			break;
		case 2: check_counted(doc, "rules", 1); break;
		/* With an id: one object (an escaped '/' in it may name another endpoint). */
		case 3:
			if (!idlen)
				check_counted(doc, "rules", 1);
			break;
		case 4:
			if (!idlen)
				check_events(doc);
			break;
		case 5:
			if (!idlen)
				check_counted(doc, "exemptions", 0);
			break;
		case 7:
			FUZZ_CHECK(!strcmp(json_string_value(json_object_get(doc, "status")) ?: "", "ok"));
			FUZZ_CHECK(json_integer_value(json_object_get(doc, "rules")) > 0);
			FUZZ_CHECK(json_is_string(json_object_get(doc, "ruleset")));
			break;
		}
	}
	json_decref(doc);
	free(target);
	fuzz_api_resp_release(&r);
	return 0;
}
