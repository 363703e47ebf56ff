/*
 * What the admin API's fuzz harnesses (fuzz-api-body.c, fuzz-api-query.c)
 * share: a leakgated set up as its main() sets one up (fuzz-api.c), with
 * the real request handling (api_handle, the work queue, the connection
 * guard) behind a libmicrohttpd daemon that has no listening socket; a
 * request goes in through a socket pair and its whole HTTP answer comes
 * back, parsed, for the harness to check.
 */
#ifndef LG_FUZZ_API_H
#define LG_FUZZ_API_H

#include <stddef.h>

#include <jansson.h>

/* The custom rule the store starts with (PUT replaces it, the harness puts it back). */
#define FUZZ_API_RULE_ID "fuzz-acme"
/* Events and exemptions the store starts with. */
#define FUZZ_API_EVENTS 60
#define FUZZ_API_EXEMPTIONS 3

struct fuzz_api_resp {
	int status;
	char *text;        /* the whole answer, NUL-terminated (owned) */
	const char *body;  /* inside text */
	size_t body_len;
	char ctype[128];   /* Content-Type, "" when none */
	int has_allow;     /* an Allow header */
	long long content_length; /* -1 when none */
};

/* Set everything up on the first call; aborts when it cannot. */
void fuzz_api_setup(void);

/*
 * Send one request (target: path and query as they go on the request
 * line; ctype NULL: no Content-Type; body NULL: no body; chunked: the body
 * in chunks rather than with a Content-Length) with the admin token, and
 * read the answer until the server closes the connection. Aborts when no
 * complete HTTP/1.1 answer comes back in time.
 */
void fuzz_api_request(const char *method, const char *target, const char *ctype, const void *body,
		      size_t len, int chunked, struct fuzz_api_resp *out);
void fuzz_api_resp_release(struct fuzz_api_resp *r);

/* 1 when the answer says it is JSON (the API's own, not libmicrohttpd's). */
int fuzz_api_is_json(const struct fuzz_api_resp *r);

/*
 * The answer's JSON (caller frees), checked: an API answer (JSON
 * content type, a Content-Length that is the body's length, a body that
 * parses); an error status has {"error": {"code", "message"}} with the
 * code the API gives that status (docs/api.md); a success is an object.
 */
json_t *fuzz_api_json(const struct fuzz_api_resp *r, int head);

/* s percent-encoded into out (3 * len + 1 bytes), keeping unreserved bytes and those of keep. */
void fuzz_api_escape(char *out, const unsigned char *s, size_t len, const char *keep);

/* The JSON of the custom rule the store starts with (to PUT it back). */
const char *fuzz_api_rule_json(void);

#endif
