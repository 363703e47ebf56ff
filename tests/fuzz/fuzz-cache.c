/*
 * Fuzz harness: the compiled cache's readers (ruleset-internal.h). The
 * first byte of the input chooses:
 *
 *   0  the rest is a rule table, read with lg_ruleset_table_read;
 *   1  the rest is a cache entry, read with lg_ruleset_cache_read into a
 *      rule set prepared as the loader prepares one (lazy, a pack
 *      recorded, not parsed);
 *   2  the same into a rule set whose pack is already parsed.
 *
 * Hyperscan trusts a database it deserializes, which is why an entry must
 * pass lg_ruleset_cache_envelope (an HMAC under the cache key) first. The
 * harness never hands Hyperscan fuzzed bytes: an input that would pass
 * the envelope (it cannot without the key) has its MAC broken first, and every entry must then be a miss that leaves the rule
 * set as it was, still able to compile. The rule table, which is read by
 * leakgate's own code, is fuzzed directly.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ruleset-internal.h"

/* The pack of the prepared rule sets: a content rule and a path rule. */
static const char pack[] =
	"{\"pack\":\"fuzz\",\"rules\":["
	"{\"id\":\"fuzz-aws\",\"name\":\"AWS\",\"description\":\"d\",\"severity\":\"critical\","
	"\"pattern\":\"\\\\b((?:AKIA|ASIA)[A-Z2-7]{16})\\\\b\",\"secret_group\":1,\"min_entropy\":3,"
	"\"remediation\":\"r\",\"examples\":[\"AKIAQ3EGRTLE5Z7QWFXD\",\"x=AKIAQ3EGRTLE5Z7QWFXD\"],"
	"\"negative_examples\":[\"a\",\"b\"]},"
	"{\"id\":\"fuzz-idrsa\",\"name\":\"Key file\",\"description\":\"d\",\"severity\":\"high\","
	"\"path\":\"(^|/)id_rsa$\",\"remediation\":\"r\","
	"\"examples\":[{\"path\":\"id_rsa\",\"text\":\"\"},{\"path\":\"a/id_rsa\",\"text\":\"\"}],"
	"\"negative_examples\":[\"a\",\"b\"]}"
	"]}";
#define PACK_RULES 2

/* The hash the prepared rule sets' layer has once compiled (their cache entries' name). */
static char pack_hash[65];
static unsigned pack_layer;
/* Entries are authenticated under a key the fuzzer does not know. */
static const unsigned char cache_key[32] = "fuzz-cache: a fixed MAC key....";

static void prepare(struct lg_ruleset **out, int lazy)
{
	struct lg_ruleset *rs;

	FUZZ_CHECK(lg_ruleset_new(&rs) == LG_OK);
	lg_ruleset_set_lazy(rs, lazy);
	FUZZ_CHECK(lg_ruleset_add_json(rs, "fuzz.json", pack, strlen(pack), NULL) == LG_OK);
	if (!pack_hash[0]) {
		struct lg_ruleset *c;
		FUZZ_CHECK(lg_ruleset_new(&c) == LG_OK);
		FUZZ_CHECK(lg_ruleset_add_json(c, "fuzz.json", pack, strlen(pack), NULL) == LG_OK);
		FUZZ_CHECK(lg_ruleset_compile(c, NULL, NULL, NULL) == LG_OK);
		FUZZ_CHECK(c->nlayers >= 1);
		pack_layer = (unsigned)c->nlayers - 1;
		memcpy(pack_hash, c->layers[pack_layer].hash, sizeof(pack_hash));
		lg_ruleset_free(c);
	}
	/* What lg_ruleset_compile sets up before it looks in the cache. */
	lg_ruleset_set_cache_key(rs, cache_key, sizeof(cache_key));
	rs->loading = pack_layer;
	memcpy(rs->layers[pack_layer].hash, pack_hash, sizeof(pack_hash));
	*out = rs;
}

/* What the scanner and the messages rely on in every rule of a table. */
static void check_table(const struct lg_ruleset *rs)
{
	FUZZ_CHECK(rs->n <= LG_RULES_MAX);
	for (size_t i = 0; i < rs->n; i++) {
		const struct lg_rule *r = rs->rules[i];
		FUZZ_CHECK(r->index == i);
		FUZZ_CHECK(r->id && r->name && r->description && r->remediation && r->pack);
		FUZZ_CHECK(strcmp(lg_severity_name(r->severity), "unknown") != 0);
		FUZZ_CHECK(strcmp(lg_confidence_name(r->confidence), "unknown") != 0);
		FUZZ_CHECK(r->validator < LG_VALIDATOR_COUNT);
		/* The scanner reads the secret group from match data of 100 pairs. */
		FUZZ_CHECK(r->secret_group <= 99);
		FUZZ_CHECK(r->min_entropy >= 0 && r->min_entropy <= 8);
		FUZZ_CHECK(!r->pos && !r->neg && !r->code);
	}
}

static void fuzz_table(const uint8_t *data, size_t size)
{
	struct lg_ruleset *rs;

	FUZZ_CHECK(lg_ruleset_new(&rs) == LG_OK);
	if (lg_ruleset_table_read(rs, data, size) == 0)
		check_table(rs);
	else
		FUZZ_CHECK(rs->n == 0); /* no rules left behind */
	lg_ruleset_free(rs);
}

static void fuzz_entry(const uint8_t *data, size_t size, int lazy)
{
	struct lg_ruleset *rs;
	uint64_t lens[3];
	char *buf = malloc(size ? size : 1);
	int hashed;

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	prepare(&rs, lazy);
	if (lg_ruleset_cache_envelope(rs, buf, size, lens)) {
		buf[96] ^= 1; /* the first byte of the MAC */
		FUZZ_CHECK(!lg_ruleset_cache_envelope(rs, buf, size, lens));
	}
	hashed = size >= 72 && memcmp(buf + 8, pack_hash, 64) == 0;
	FUZZ_CHECK(lg_ruleset_cache_read(rs, buf, size) == 0);
	/* A miss changes nothing: the rule set is as the loader left it. */
	for (unsigned k = 0; k < LG_LAYERS; k++)
		FUZZ_CHECK(rs->layers[k].content_db == NULL && rs->layers[k].path_db == NULL);
	FUZZ_CHECK(!rs->lite);
	FUZZ_CHECK(lazy ? rs->pending && rs->n == 0 : rs->n == PACK_RULES);
	/* It still compiles (rarely: this is Hyperscan's time, not the reader's). */
	if (hashed) {
		FUZZ_CHECK(lg_ruleset_compile(rs, NULL, NULL, NULL) == LG_OK);
		FUZZ_CHECK(lg_ruleset_count(rs) == PACK_RULES && !lg_ruleset_is_lite(rs));
	}
	lg_ruleset_free(rs);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_table(data + 1, size - 1);
		break;
	case 1:
		fuzz_entry(data + 1, size - 1, 1);
		break;
	default:
		fuzz_entry(data + 1, size - 1, 0);
		break;
	}
	return 0;
}
