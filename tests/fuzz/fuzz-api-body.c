/*
 * Fuzz harness: the admin API's request bodies, through the real request
 * handling (api_handle behind libmicrohttpd, the work queue, the store;
 * fuzz-api.c). Byte 0 steers: bits 0-2 choose the endpoint,
 *
 *   0 POST /api/v1/rules              4 POST /api/v1/exemptions
 *   1 PUT  /api/v1/rules/fuzz-acme    5 PUT  /api/v1/rules/test
 *   2 POST /api/v1/rules/test         6 PUT  /api/v1/rules/aws-access-key-id
 *   3 POST /api/v1/scan               7 POST /api/v1/rules/fuzz-acme/disable
 *
 * bits 3-4 the Content-Type (application/json, none, text/plain,
 * application/x-www-form-urlencoded: the API reads the body as JSON
 * whatever it says), bit 5 sends the body chunked instead of with its
 * Content-Length. The rest of the input is the body.
 *
 * Invariants, each an abort when broken:
 * - a complete HTTP/1.1 answer comes back, with a JSON body (Content-Type
 *   and Content-Length right) that is {"error": {"code", "message"}} with
 *   the status's code on an error, an object otherwise;
 * - the status is one docs/api.md gives the endpoint, never 401 or 403
 *   (the token is an admin's), 500 or 503 (the store is healthy), or 413
 *   for a body within the limit; a body that is not a JSON object (as
 *   jansson reads it, duplicate keys refused) is 400 bad_request on every
 *   endpoint that reads one, whatever the Content-Type;
 * - a success has the documented shape: a stored rule its id, source
 *   custom, enabled and the rule; a test its verdict (valid, problems,
 *   none when valid); a scan its findings, counted, each with a rule id
 *   and a 32-hex fingerprint; an exemption its id.
 *
 * What an input creates is removed through the API again (DELETE of the
 * rule or exemption, the custom rule PUT back, the rule enabled again),
 * each of which must answer 200, so every input meets the same store.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-api.h"
#include "fuzz.h"
#include "server.h"

static const struct {
	const char *method, *target;
} endpoints[8] = {
	{"POST", "/api/v1/rules"},
	{"PUT", "/api/v1/rules/" FUZZ_API_RULE_ID},
	{"POST", "/api/v1/rules/test"},
	{"POST", "/api/v1/scan"},
	{"POST", "/api/v1/exemptions"},
	{"PUT", "/api/v1/rules/test"},
	{"PUT", "/api/v1/rules/aws-access-key-id"},
	{"POST", "/api/v1/rules/" FUZZ_API_RULE_ID "/disable"},
};

static const char *const ctypes[4] = {"application/json", NULL, "text/plain",
				      "application/x-www-form-urlencoded"};

static int is_fingerprint(const char *s)
{
	if (!s || strlen(s) != 32)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* One more request that must succeed with 200: the clean-up after an input. */
static json_t *must(const char *method, const char *target, const char *body)
{
	struct fuzz_api_resp r;
	json_t *doc;

	fuzz_api_request(method, target, "application/json", body, body ? strlen(body) : 0, 0, &r);
	FUZZ_CHECK(r.status == 200);
	doc = fuzz_api_json(&r, 0);
	fuzz_api_resp_release(&r);
	return doc;
}

static void check_findings(json_t *a)
{
	size_t i;
	json_t *f;

	FUZZ_CHECK(json_is_array(a));
	json_array_foreach(a, i, f) {
		FUZZ_CHECK(json_is_string(json_object_get(f, "rule_id")));
		FUZZ_CHECK(is_fingerprint(json_string_value(json_object_get(f, "fingerprint"))));
		FUZZ_CHECK(json_is_string(json_object_get(f, "preview")));
	}
}

/* The stored rule of a 201 or 200 answer, and what the input left to undo. */
static void check_rule_stored(json_t *doc, const char *want_id)
{
	const char *id = json_string_value(json_object_get(doc, "id"));

	FUZZ_CHECK(id != NULL && (!want_id || !strcmp(id, want_id)));
	FUZZ_CHECK(!strcmp(json_string_value(json_object_get(doc, "source")) ?: "", "custom"));
	FUZZ_CHECK(json_is_boolean(json_object_get(doc, "enabled")));
	FUZZ_CHECK(json_is_object(json_object_get(doc, "rule")));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_api_resp r;
	json_t *mine, *doc, *v;
	const char *body;
	size_t len;
	int ep, st, is_obj;

	fuzz_api_setup();
	if (size < 1)
		return 0;
	ep = data[0] & 7;
	body = (const char *)data + 1;
	len = size - 1;
	mine = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	is_obj = json_is_object(mine);
	fuzz_api_request(endpoints[ep].method, endpoints[ep].target, ctypes[(data[0] >> 3) & 3], body, len,
			 (data[0] >> 5) & 1, &r);
	st = r.status;
	doc = fuzz_api_json(&r, 0);
	FUZZ_CHECK(st != 401 && st != 403 && st != 500 && st != 503);
	FUZZ_CHECK(st != 413 || len > SRV_BODY_MAX);
	if (st != 413 && ep != 7 && !is_obj)
		FUZZ_CHECK(st == 400);
	switch (ep) {
	case 0: /* a new rule */
		FUZZ_CHECK(st == 201 || st == 400 || st == 409 || st == 413 || st == 422);
		if (st == 201) {
			const char *id = json_string_value(json_object_get(mine, "id"));
			char target[512], esc[3 * 128 + 1];
			check_rule_stored(doc, id);
			FUZZ_CHECK(strlen(id) < 128);
			fuzz_api_escape(esc, (const unsigned char *)id, strlen(id), NULL);
			snprintf(target, sizeof(target), "/api/v1/rules/%s", esc);
			json_decref(must("DELETE", target, NULL));
		}
		break;
	case 1: /* the custom rule replaced */
		FUZZ_CHECK(st == 200 || st == 400 || st == 404 || st == 409 || st == 413 || st == 422);
		if (st == 200) {
			check_rule_stored(doc, FUZZ_API_RULE_ID);
			json_decref(must("PUT", "/api/v1/rules/" FUZZ_API_RULE_ID, fuzz_api_rule_json()));
		}
		break;
	case 2: /* a rule tried, nothing stored */
		FUZZ_CHECK(st == 200 || st == 400 || st == 413 || st == 422);
		if (st == 200) {
			FUZZ_CHECK(json_is_boolean(json_object_get(doc, "valid")));
			FUZZ_CHECK(json_is_array(json_object_get(doc, "problems")));
			FUZZ_CHECK(!json_is_true(json_object_get(doc, "valid")) ||
				   json_array_size(json_object_get(doc, "problems")) == 0);
			if ((v = json_object_get(doc, "findings")))
				check_findings(v);
		}
		break;
	case 3: /* a scan with the live rules */
		FUZZ_CHECK(st == 200 || st == 400 || st == 413 || st == 422);
		if (st == 200) {
			check_findings(json_object_get(doc, "findings"));
			FUZZ_CHECK(json_integer_value(json_object_get(doc, "count")) ==
				   (json_int_t)json_array_size(json_object_get(doc, "findings")));
		}
		break;
	case 4: /* a new exemption */
		FUZZ_CHECK(st == 201 || st == 400 || st == 404 || st == 409 || st == 413 || st == 422);
		if (st == 201) {
			char target[64];
			json_int_t id = json_integer_value(json_object_get(doc, "id"));
			FUZZ_CHECK(json_is_integer(json_object_get(doc, "id")) && id > 0);
			snprintf(target, sizeof(target), "/api/v1/exemptions/%lld", (long long)id);
			json_decref(must("DELETE", target, NULL));
		}
		break;
	case 5: /* no custom rule is called "test": never replaced */
	case 6: /* a built-in rule: never replaced */
		FUZZ_CHECK(st == 400 || st == 404 || st == 409 || st == 413 || st == 422);
		break;
	case 7: /* a body where none is read */
		FUZZ_CHECK(st == 200 || st == 413);
		if (st == 200) {
			FUZZ_CHECK(json_is_false(json_object_get(doc, "enabled")));
			json_decref(must("POST", "/api/v1/rules/" FUZZ_API_RULE_ID "/enable", NULL));
		}
		break;
	}
	json_decref(doc);
	json_decref(mine);
	fuzz_api_resp_release(&r);
	return 0;
}
