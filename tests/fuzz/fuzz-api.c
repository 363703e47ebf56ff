/*
 * The admin API's fuzz harnesses' server (fuzz-api.h): leakgated as its
 * main() builds it, in this process. A private folder holds a database
 * created and migrated by lg_store_open, an admin token, one custom rule,
 * FUZZ_API_EXEMPTIONS exemptions and FUZZ_API_EVENTS events, and a
 * compiled cache seeded with the built-in rules' entry from the fuzz
 * cache (fuzz_builtin_rules), so that neither the start nor a change of
 * the custom rules compiles the built-in pack again. The live rule set is
 * published by srv_publish_rules, the work queue and the connection guard
 * run, and libmicrohttpd serves api_handle with the daemon's own flags,
 * without a listening socket: each request is a socket pair handed over
 * with MHD_add_connection.
 *
 * Candidate rules are checked in this process (no isolate_with, as
 * leakgated does when it finds no leakgate command): a separate process
 * per check would cost more than the request.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "fuzz-api.h"
#include "fuzz.h"
#include "ops.h"
#include "ruleset-internal.h"
#include "server.h"
#include "vec.h"

/* Longer than the guard's deadline for slow work: the guard cuts first. */
#define ANSWER_WAIT_MS (GUARD_SLOW_WORK_MS + 10000)
#define ANSWER_MAX (64u << 20)

static struct server srv;
static struct MHD_Daemon *mhd;
static char dir[64], token[128];
static int ready;

static const char rule_json[] =
	"{\"id\": \"" FUZZ_API_RULE_ID "\", \"name\": \"Fuzz acme token\","
	" \"description\": \"A credential format made up for the fuzz harness.\","
	" \"severity\": \"high\", \"pattern\": \"\\\\b(acme_[a-z0-9]{24})\\\\b\","
	" \"remediation\": \"Revoke the token, then rewrite the commits.\","
	" \"examples\": [\"token = acme_q8x2m4k9z7w3v5t1r6y0p2n8\", \"ACME_TOKEN=acme_7h3k9m2q5w8z1x4c6v0b3n7m\"],"
	" \"negative_examples\": [\"acme_short123\", \"token = acme_Q8X2M4K9Z7W3V5T1R6Y0P2N8\"]}";

const char *fuzz_api_rule_json(void)
{
	return rule_json;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void teardown(void)
{
	if (!ready)
		return;
	ready = 0;
	/* Suspended connections are resumed before the daemon stops, as in leakgated. */
	srv.stopping = 1;
	srv_work_stop();
	MHD_stop_daemon(mhd);
	srv_guard_stop();
	srv_state_release_thread(&srv);
	lg_ruleset_free(srv.rs);
	free(srv.db_path);
	free(srv.cache_dir);
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Copy the built-in rules' compiled entry from the fuzz cache into the
 * private one. Nothing is copied when the fuzz cache has none; the first
 * load then compiles the built-in pack.
 */
static void seed_cache(const char *to)
{
	struct lg_ruleset *rs = fuzz_builtin_rules();
	const struct lg_layer *l = lg_rule_layer(rs, lg_ruleset_rule(rs, 0));
	char *from_dir = fuzz_cache_dir(), *from = NULL, *dst = NULL, *buf = NULL;
	struct lg_diag d;
	size_t len;

	lg_diag_init(&d);
	FUZZ_CHECK(from_dir != NULL);
	if (*from_dir && asprintf(&from, "%s/%s.hsdb", from_dir, l->hash) >= 0 &&
	    asprintf(&dst, "%s/%s.hsdb", to, l->hash) >= 0 && lg_file_read(from, 256u << 20, &buf, &len, &d) == LG_OK)
		FUZZ_CHECK(lg_file_write_atomic(dst, buf, len, 0600, 0, &d) == LG_OK);
	lg_diag_release(&d);
	free(buf);
	free(from);
	free(dst);
	free(from_dir);
}

/* The store's starting contents, through the same operations the CLI and the API use. */
static void seed_store(void)
{
	static const char *const kinds[] = {"accepted", "rejected", "bypassed", "exempted", "warned", "failed"};
	static const char *const repos[] = {"team/a.git", "team/b.git", "other/c.git"};
	struct lg_store *st = NULL;
	struct lg_ops o;
	struct lg_diag d;
	json_t *rule;
	char *tok = NULL;
	int64_t id, now = lg_now_ms();

	lg_diag_init(&d);
	FUZZ_CHECK(lg_store_open(&st, srv.db_path, 1, &d) == LG_OK);
	memset(&o, 0, sizeof(o));
	o.st = st;
	o.by = "fuzz";
	o.cache_dir = srv.cache_dir;
	o.cache_key = &srv.key;
	FUZZ_CHECK(lg_ops_token_create(&o, "admin", "fuzz", &tok, &id, &d) == LG_OK);
	FUZZ_CHECK(strlen(tok) < sizeof(token));
	strcpy(token, tok);
	free(tok);
	FUZZ_CHECK((rule = json_loads(rule_json, 0, NULL)) != NULL);
	FUZZ_CHECK(lg_ops_rule_add(&o, rule, &d) == LG_OK);
	json_decref(rule);
	for (int i = 0; i < FUZZ_API_EXEMPTIONS; i++) {
		struct lg_exemption_spec e;
		memset(&e, 0, sizeof(e));
		e.repo = i == 1 ? "team/*" : NULL;
		e.rule_id = i == 0 ? FUZZ_API_RULE_ID : i == 1 ? "aws-access-key-id" : NULL;
		e.path = i == 2 ? "fixtures/**" : NULL;
		e.reason = "fuzz fixture";
		e.expires = i == 2 ? "30d" : NULL;
		FUZZ_CHECK(lg_ops_exemption_add(&o, &e, &id, &d) == LG_OK);
	}
	for (int i = 0; i < FUZZ_API_EVENTS; i++) {
		struct lg_event ev;
		memset(&ev, 0, sizeof(ev));
		FUZZ_CHECK(lg_event_new_uid(&ev) == 0);
		ev.time_ms = now - (int64_t)(FUZZ_API_EVENTS - i) * 3600 * 1000;
		ev.kind = kinds[i % 6];
		ev.repo = repos[i % 3];
		ev.pusher = i % 2 ? "alice" : "Jane Doe";
		ev.protocol = "ssh";
		ev.refs_json = "[{\"ref\":\"refs/heads/main\",\"old\":\"0000000000000000000000000000000000000000\","
			       "\"new\":\"1111111111111111111111111111111111111111\"}]";
		ev.findings_json = i % 6 == 1 ? "[{\"rule_id\":\"" FUZZ_API_RULE_ID "\",\"fingerprint\":"
						"\"0123456789abcdef0123456789abcdef\",\"preview\":\"acme_q8x2****\","
						"\"path\":\"a.txt\",\"line\":3}]"
					      : "[]";
		ev.reason = i % 6 == 2 ? "emergency fix" : NULL;
		ev.duration_ms = i * 7;
		ev.bytes_scanned = i * 1000;
		ev.objects_scanned = i;
		ev.ruleset = "fuzz";
		FUZZ_CHECK(lg_store_add_event(st, &ev, &id, &d) == LG_OK);
	}
	lg_store_close(st);
	lg_diag_release(&d);
}

void fuzz_api_setup(void)
{
	struct lg_diag d;
	char *kp;

	if (ready)
		return;
	strcpy(dir, "/tmp/leakgate-fuzz-api-XXXXXX");
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	FUZZ_CHECK(asprintf(&srv.db_path, "%s/leakgate.db", dir) >= 0);
	FUZZ_CHECK(asprintf(&srv.cache_dir, "%s/cache", dir) >= 0);
	FUZZ_CHECK(mkdir(srv.cache_dir, 0700) == 0);
	/* The key the fuzz cache's entries are made with (fuzz_builtin_rules: the default one). */
	lg_diag_init(&d);
	FUZZ_CHECK((kp = lg_key_default_path()) != NULL);
	FUZZ_CHECK(lg_key_load(&srv.key, kp, 1, &d) == LG_OK);
	free(kp);
	seed_cache(srv.cache_dir);
	seed_store();
	FUZZ_CHECK(srv_state_init(&srv) == 0);
	FUZZ_CHECK(srv_publish_rules(&srv, &d) == LG_OK);
	lg_diag_release(&d);
	FUZZ_CHECK(srv_work_start() == 0);
	FUZZ_CHECK(srv_guard_start(256, 4096) == 0);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
				       MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
			       0, NULL, NULL, api_handle, &srv, MHD_OPTION_CONNECTION_TIMEOUT, 15u,
			       MHD_OPTION_NOTIFY_COMPLETED, api_completed, &srv, MHD_OPTION_NOTIFY_CONNECTION,
			       srv_guard_notify, &srv, MHD_OPTION_END);
	FUZZ_CHECK(mhd != NULL);
	ready = 1;
	atexit(teardown);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write req and read everything the server sends until it closes; the answer into got. */
static void exchange(const char *req, size_t len, struct lg_vec *got)
{
	struct sockaddr_in sin;
	int sv[2], reading = 1;
	size_t off = 0;
	int64_t deadline = mono_ms() + ANSWER_WAIT_MS;

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	FUZZ_CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	FUZZ_CHECK(MHD_add_connection(mhd, sv[1], (const struct sockaddr *)&sin, sizeof(sin)) == MHD_YES);
	while (reading) {
		struct pollfd p = {sv[0], POLLIN | (off < len ? POLLOUT : 0), 0};
		int64_t left = deadline - mono_ms();
		int n;

		FUZZ_CHECK(left > 0); /* an answer in time */
		n = poll(&p, 1, (int)(left < 1000 ? left : 1000));
		FUZZ_CHECK(n >= 0 || errno == EINTR);
		if (n <= 0)
			continue;
		if (off < len && (p.revents & POLLOUT)) {
			ssize_t w = send(sv[0], req + off, len - off, MSG_NOSIGNAL);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				off = len; /* the server stopped reading (a 413 before the body): read its answer */
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[65536];
			ssize_t r = recv(sv[0], buf, sizeof(buf), 0);
			if (r > 0)
				FUZZ_CHECK(lg_vec_append(got, buf, (size_t)r) == 0);
			else if (r == 0 || (errno != EAGAIN && errno != EINTR))
				reading = 0;
		}
	}
	close(sv[0]);
}

static const char *header(const char *head, const char *end, const char *name, size_t *len)
{
	size_t n = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l && l + 2 < end; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2, *e = strstr(v, "\r\n");
		if (!strncasecmp(v, name, n) && v[n] == ':') {
			v += n + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			*len = (size_t)((e ? e : end) - v);
			return v;
		}
	}
	return NULL;
}

void fuzz_api_request(const char *method, const char *target, const char *ctype, const void *body,
		      size_t len, int chunked, struct fuzz_api_resp *out)
{
	struct lg_vec req = LG_VEC_INIT(1, ANSWER_MAX), got = LG_VEC_INIT(1, ANSWER_MAX);
	const char *end, *v;
	size_t vlen;
	char *text;

	memset(out, 0, sizeof(*out));
	out->content_length = -1;
	FUZZ_CHECK(lg_vec_printf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
				       "Connection: close\r\n", method, target, token) == 0);
	if (ctype)
		FUZZ_CHECK(lg_vec_printf(&req, "Content-Type: %s\r\n", ctype) == 0);
	if (body && chunked) {
		/* In pieces of up to 1000 bytes, then the last chunk. */
		FUZZ_CHECK(lg_vec_puts(&req, "Transfer-Encoding: chunked\r\n\r\n") == 0);
		for (size_t at = 0; at < len; at += 1000) {
			size_t n = len - at < 1000 ? len - at : 1000;
			FUZZ_CHECK(lg_vec_printf(&req, "%zx\r\n", n) == 0);
			FUZZ_CHECK(lg_vec_append(&req, (const char *)body + at, n) == 0);
			FUZZ_CHECK(lg_vec_puts(&req, "\r\n") == 0);
		}
		FUZZ_CHECK(lg_vec_puts(&req, "0\r\n\r\n") == 0);
	} else if (body) {
		FUZZ_CHECK(lg_vec_printf(&req, "Content-Length: %zu\r\n\r\n", len) == 0);
		FUZZ_CHECK(len == 0 || lg_vec_append(&req, body, len) == 0);
	} else {
		FUZZ_CHECK(lg_vec_puts(&req, "\r\n") == 0);
	}
	exchange(lg_vec_str(&req), req.n, &got);
	lg_vec_release(&req);
	FUZZ_CHECK(lg_vec_reserve(&got, 1) == 0);
	((char *)got.v)[got.n] = '\0';
	out->text = text = lg_vec_steal(&got);
	/* A complete answer: a status line, headers, and as many body bytes as announced. */
	FUZZ_CHECK(!strncmp(text, "HTTP/1.1 ", 9));
	FUZZ_CHECK(text[9] >= '1' && text[9] <= '5' && text[10] >= '0' && text[10] <= '9' && text[11] >= '0' &&
		   text[11] <= '9' && text[12] == ' ');
	out->status = (text[9] - '0') * 100 + (text[10] - '0') * 10 + (text[11] - '0');
	FUZZ_CHECK((end = strstr(text, "\r\n\r\n")) != NULL);
	out->body = end + 4;
	out->body_len = strlen(text) - (size_t)(out->body - text);
	if ((v = header(text, end, "Content-Type", &vlen)) && vlen < sizeof(out->ctype)) {
		memcpy(out->ctype, v, vlen);
		out->ctype[vlen] = '\0';
	}
	if ((v = header(text, end, "Content-Length", &vlen)))
		out->content_length = strtoll(v, NULL, 10);
	out->has_allow = header(text, end, "Allow", &vlen) != NULL;
}

void fuzz_api_resp_release(struct fuzz_api_resp *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

int fuzz_api_is_json(const struct fuzz_api_resp *r)
{
	return !strcmp(r->ctype, "application/json");
}

/* The error code each status is answered with (docs/api.md, "Errors"). */
static int code_fits(int status, const char *code)
{
	switch (status) {
	case 400: return !strcmp(code, "bad_request");
	case 401: return !strcmp(code, "unauthorized");
	case 403: return !strcmp(code, "forbidden");
	case 404: return !strcmp(code, "not_found");
	case 405: return !strcmp(code, "method_not_allowed");
	case 409: return !strcmp(code, "conflict");
	case 413: return !strcmp(code, "too_large");
	case 422: return !strcmp(code, "invalid_rule") || !strcmp(code, "invalid") || !strcmp(code, "scan_incomplete");
	case 500: return !strcmp(code, "internal");
	case 503: return !strcmp(code, "unavailable") || !strcmp(code, "busy");
	default: return 0;
	}
}

json_t *fuzz_api_json(const struct fuzz_api_resp *r, int head)
{
	json_error_t jerr;
	json_t *doc, *e;

	FUZZ_CHECK(fuzz_api_is_json(r));
	FUZZ_CHECK(r->content_length >= 0);
	if (head) {
		/* HEAD: the length a GET would have, and no body. */
		FUZZ_CHECK(r->body_len == 0);
		return NULL;
	}
	FUZZ_CHECK((size_t)r->content_length == r->body_len);
	FUZZ_CHECK(r->body_len > 0 && r->body[r->body_len - 1] == '\n');
	doc = json_loadb(r->body, r->body_len, 0, &jerr);
	FUZZ_CHECK(doc != NULL);
	FUZZ_CHECK(json_is_object(doc));
	if (r->status >= 400) {
		e = json_object_get(doc, "error");
		FUZZ_CHECK(json_is_object(e));
		FUZZ_CHECK(json_is_string(json_object_get(e, "code")));
		FUZZ_CHECK(json_is_string(json_object_get(e, "message")));
		FUZZ_CHECK(code_fits(r->status, json_string_value(json_object_get(e, "code"))));
		FUZZ_CHECK(r->status != 405 || r->has_allow);
	}
	return doc;
}

void fuzz_api_escape(char *out, const unsigned char *s, size_t len, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("-._~", (int)c)) ||
		    (c && keep && strchr(keep, (int)c))) {
			*out++ = (char)c;
		} else {
			*out++ = '%';
			*out++ = hex[c >> 4];
			*out++ = hex[c & 15];
		}
	}
	*out = '\0';
}

/* Set up before the first input: loading the built-in rules may compile them, which takes longer than an input may. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_api_setup();
	return 0;
}
