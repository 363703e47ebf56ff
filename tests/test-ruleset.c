/*
 * Unit tests: pack validation (every problem reported with rule and field,
 * a bad pack refused whole), Hyperscan errors mapped back to rules, and the
 * compiled-database cache.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "ruleset.h"
#include "tap.h"

#define RULE(id, extra)                                                                     \
	"{\"id\":\"" id "\",\"name\":\"N\",\"description\":\"D\",\"severity\":\"high\","  \
	"\"remediation\":\"R\",\"examples\":[\"tok_Zq8Kp3Lx\",\"tok_Wm2Vb7Yc\"],"           \
	"\"negative_examples\":[\"a\",\"b\"]" extra "}"

static int has_diag(const struct lg_diag *d, const char *rule, const char *field, const char *text)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct lg_diag_entry *e = &d->v[i];
		if ((!rule || (e->rule_id && !strcmp(e->rule_id, rule))) &&
		    (!field || (e->field && !strcmp(e->field, field))) &&
		    (!text || strstr(e->message, text)))
			return 1;
	}
	return 0;
}

static int add(struct lg_ruleset *rs, const char *json, struct lg_diag *d)
{
	return lg_ruleset_add_json(rs, "test.json", json, strlen(json), d);
}

static void dump(const struct lg_diag *d)
{
	char line[1024];
	for (size_t i = 0; i < d->n; i++) {
		lg_diag_format(&d->v[i], line, sizeof(line));
		printf("#   %s\n", line);
	}
}

int main(void)
{
	struct lg_ruleset *rs;
	struct lg_diag d;
	char dir[] = "/tmp/lg-test-cacheXXXXXX";
	int from_cache = -1, err;

	/* A good pack loads and compiles. */
	lg_diag_init(&d);
	lg_ruleset_new(&rs);
	err = add(rs, "{\"rules\":[" RULE("tok-a", ",\"pattern\":\"tok_[A-Za-z0-9]{8}\"") "]}", &d);
	is_int(err, 0, "valid pack accepted");
	is_int(lg_ruleset_compile(rs, NULL, NULL, &d), 0, "valid pack compiles");
	dump(&d);
	lg_ruleset_free(rs);
	lg_diag_release(&d);

	/* Every problem is reported, and nothing of the pack is kept. */
	lg_diag_init(&d);
	lg_ruleset_new(&rs);
	err = add(rs,
		  "{\"rules\":[" RULE("ok-rule", ",\"pattern\":\"tok_[a-z]{8}\"") ","
		  "{\"id\":\"Bad ID\",\"name\":\"N\"},"
		  RULE("typo", ",\"pattern\":\"x{3}y\",\"min_entopy\":3") ","
		  "{\"id\":\"sev\",\"name\":\"N\",\"description\":\"D\",\"severity\":\"urgent\","
		  "\"pattern\":\"abc\",\"remediation\":\"R\",\"examples\":[\"a\",\"b\"],"
		  "\"negative_examples\":[\"a\",\"b\"]},"
		  RULE("nopat", "") ","
		  RULE("grp", ",\"pattern\":\"abc\",\"secret_group\":-1") "]}",
		  &d);
	is_int(err, LG_EINVALID, "pack with errors refused");
	is_int(lg_ruleset_count(rs), 0, "no rule of a refused pack is kept");
	ok(has_diag(&d, "#2", "id", NULL), "bad id reported by position");
	ok(has_diag(&d, "typo", "min_entopy", "unknown field"), "unknown field reported with rule and field");
	ok(has_diag(&d, "sev", "severity", "urgent"), "bad severity reported");
	ok(has_diag(&d, "nopat", "pattern", NULL), "rule without pattern or path reported");
	ok(has_diag(&d, "grp", "secret_group", NULL), "negative secret_group reported");
	ok(d.n >= 6, "all problems listed (%zu)", d.n);
	dump(&d);
	lg_ruleset_free(rs);
	lg_diag_release(&d);

	/* Malformed JSON, wrong shapes, duplicates. */
	lg_diag_init(&d);
	lg_ruleset_new(&rs);
	ok(add(rs, "{\"rules\": [", &d) == LG_EINVALID && has_diag(&d, NULL, NULL, "line 1"),
	   "truncated JSON refused with its position");
	ok(add(rs, "[1,2]", &d) == LG_EINVALID, "array at top level refused");
	ok(add(rs, "{\"rules\": []}", &d) == LG_EINVALID, "empty pack refused");
	ok(add(rs, "{\"rules\":[" RULE("dup", ",\"pattern\":\"a\"") "," RULE("dup", ",\"pattern\":\"b\"") "]}",
	       &d) == LG_EINVALID && has_diag(&d, "dup", "id", "twice"),
	   "duplicate id in one pack refused");
	ok(add(rs, "{\"rules\":[" RULE("one", ",\"pattern\":\"a\"") "]}", &d) == 0, "a later good pack loads");
	ok(add(rs, "{\"rules\":[" RULE("one", ",\"pattern\":\"a\"") "]}", &d) == LG_EINVALID &&
	       has_diag(&d, "one", "id", "already loaded"),
	   "id clashing with a loaded pack refused");
	ok(add(rs, "{\"rules\":[{\"id\":\"nul\",\"name\":\"a\\u0000b\"}]}", &d) == LG_EINVALID,
	   "NUL inside a string refused");
	lg_ruleset_free(rs);
	lg_diag_release(&d);

	/* Every validator name loads; an unknown one is refused with the list of known ones. */
	lg_diag_init(&d);
	lg_ruleset_new(&rs);
	ok(add(rs, "{\"rules\":[" RULE("v-crc", ",\"pattern\":\"a\",\"validator\":\"github-crc32\"") ","
		   RULE("v-jwt", ",\"pattern\":\"b\",\"validator\":\"jwt\"") ","
		   RULE("v-pypi", ",\"pattern\":\"c\",\"validator\":\"pypi-macaroon\"") ","
		   RULE("v-azure", ",\"pattern\":\"d\",\"validator\":\"azure-storage-key\"") ","
		   RULE("v-jwt64", ",\"pattern\":\"f\",\"validator\":\"jwt-base64\"") "]}",
	       &d) == 0,
	   "github-crc32, jwt, pypi-macaroon, azure-storage-key and jwt-base64 are validators");
	ok(add(rs, "{\"rules\":[" RULE("v-bad", ",\"pattern\":\"e\",\"validator\":\"jws\"") "]}", &d) ==
		       LG_EINVALID &&
		   has_diag(&d, "v-bad", "validator", "'jws' (known: github-crc32, jwt, pypi-macaroon, azure-storage-key, "
			     "jwt-base64)"),
	   "an unknown validator is refused, naming the known ones");
	dump(&d);
	lg_ruleset_free(rs);
	lg_diag_release(&d);

	/* Pattern errors found at compile time name the rule. */
	lg_diag_init(&d);
	lg_ruleset_new(&rs);
	add(rs, "{\"rules\":[" RULE("good", ",\"pattern\":\"tok_[a-z]{8}\"") ","
		RULE("unbalanced", ",\"pattern\":\"tok_(abc\"") ","
		RULE("lookbehind", ",\"pattern\":\"(?<=x)tok_[a-z]+\"") ","
		RULE("backref", ",\"pattern\":\"(a)\\\\1tok\"") ","
		RULE("groups", ",\"pattern\":\"tok_([a-z]+)\",\"secret_group\":2") "]}",
	    &d);
	is_int(d.n, 0, "structurally valid");
	err = lg_ruleset_compile(rs, NULL, NULL, &d);
	is_int(err, LG_EINVALID, "bad patterns refused at compile");
	ok(has_diag(&d, "unbalanced", "pattern", NULL), "PCRE2 syntax error reported for its rule");
	ok(has_diag(&d, "groups", "secret_group", "1 capture group"), "secret_group beyond the groups reported");
	dump(&d);
	lg_ruleset_free(rs);
	lg_diag_release(&d);

	lg_diag_init(&d);
	lg_ruleset_new(&rs);
	add(rs, "{\"rules\":[" RULE("good", ",\"pattern\":\"tok_[a-z]{8}\"") ","
		RULE("lookbehind", ",\"pattern\":\"(?<=x)tok_[a-z]+\"") ","
		RULE("backref", ",\"pattern\":\"(a)\\\\1tok\"") "]}",
	    &d);
	err = lg_ruleset_compile(rs, NULL, NULL, &d);
	is_int(err, LG_EINVALID, "Hyperscan-incompatible patterns refused");
	ok(has_diag(&d, "lookbehind", "pattern", "Hyperscan"), "lookbehind reported for its rule");
	ok(has_diag(&d, "backref", "pattern", "Hyperscan"), "back-reference reported for its rule");
	ok(!has_diag(&d, "good", NULL, NULL), "the good rule is not blamed");
	dump(&d);
	lg_ruleset_free(rs);
	lg_diag_release(&d);

	/* The cache: a second load comes from disk; a corrupt file is rebuilt. */
	if (!mkdtemp(dir))
		return 1;
	for (int round = 0; round < 5; round++) {
		lg_diag_init(&d);
		lg_ruleset_new(&rs);
		err = add(rs, "{\"rules\":[" RULE("tok-a", ",\"pattern\":\"tok_[A-Za-z0-9]{8}\"") ","
			  "{\"id\":\"file\",\"name\":\"N\",\"description\":\"D\",\"severity\":\"high\","
			  "\"remediation\":\"R\",\"path\":\"(^|/)id_rsa$\","
			  "\"examples\":[{\"path\":\"id_rsa\",\"text\":\"\"},{\"path\":\"a/id_rsa\",\"text\":\"\"}],"
			  "\"negative_examples\":[\"a\",\"b\"]}]}",
			  &d);
		is_int(err, 0, "round %d pack loads", round);
		dump(&d);
		/*
		 * Rounds 0-2 share a key; round 3 has another (an entry written
		 * under a key the reader does not hold is a forgery to it);
		 * round 4 has none, and then no cache is read or written.
		 */
		if (round < 3)
			lg_ruleset_set_cache_key(rs, (const unsigned char *)"test cache key 0123456789abcdef", 32);
		else if (round == 3)
			lg_ruleset_set_cache_key(rs, (const unsigned char *)"another key 0123456789abcdefghij", 32);
		err = lg_ruleset_compile(rs, dir, &from_cache, &d);
		is_int(err, 0, "round %d compiles", round);
		is_int(from_cache, round == 1, "round %d %s the cache", round, round == 1 ? "uses" : "does not use");
		if (round == 1) {
			/* Corrupt the cached file for round 2. */
			char path[512] = "";
			FILE *f = NULL;
			DIR *dh = opendir(dir);
			struct dirent *de;
			int entries = 0;

			/* One layer (no built-in rules here): one cache entry. */
			while (dh && (de = readdir(dh))) {
				size_t len = strlen(de->d_name);
				if (len == 64 + 5 && !strcmp(de->d_name + 64, ".hsdb")) {
					snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
					entries++;
				}
			}
			if (dh)
				closedir(dh);
			is_int(entries, 1, "one cache entry, named by a 64-digit hash");
			if (entries == 1)
				f = fopen(path, "r+");
			ok(f != NULL, "the cache entry opens");
			if (f) {
				fseek(f, 100, SEEK_SET);
				fputs("garbage garbage garbage", f);
				fclose(f);
			}
		}
		lg_ruleset_free(rs);
		lg_diag_release(&d);
	}
	/*
	 * The loader's lazy path: the second load comes from the cache's rule
	 * table without parsing JSON, and must be the same rule set.
	 */
	{
		struct lg_ruleset *a = NULL, *b = NULL;
		struct lg_load_opts lo;
		const char *off[] = {"aws-access-key-id"};
		int fa = -1, fb = -1, same = 1;

		memset(&lo, 0, sizeof(lo));
		lo.cache_dir = dir;
		lo.disabled = off;
		lg_diag_init(&d);
		is_int(lg_ruleset_load(&a, &lo, &fa, &d), 0, "built-in rules load");
		is_int(lg_ruleset_load(&b, &lo, &fb, &d), 0, "built-in rules load again");
		ok(fa == 0 && fb == 1, "the second load comes from the cache (%d, %d)", fa, fb);
		ok(a && b && lg_ruleset_is_lite(b) && !lg_ruleset_is_lite(a), "and without parsing the packs");
		if (a && b) {
			is_int(lg_ruleset_count(b), lg_ruleset_count(a), "same number of rules");
			for (size_t i = 0; i < lg_ruleset_count(a) && same; i++) {
				const struct lg_rule *x = lg_ruleset_rule(a, i), *y = lg_ruleset_rule(b, i);
				same = !strcmp(lg_rule_id(x), lg_rule_id(y)) && !strcmp(lg_rule_name(x), lg_rule_name(y)) &&
				       !strcmp(lg_rule_remediation(x), lg_rule_remediation(y)) &&
				       lg_rule_severity(x) == lg_rule_severity(y) && lg_rule_enabled(x) == lg_rule_enabled(y);
			}
			ok(same, "every rule the same, field by field");
			is_str(lg_ruleset_hash(a), lg_ruleset_hash(b), "same rule-set hash");
		}
		lg_ruleset_free(a);
		lg_ruleset_free(b);
		a = b = NULL;
		lo.ndisabled = 1;
		is_int(lg_ruleset_load(&a, &lo, &fa, &d), 0, "with a rule disabled");
		is_int(lg_ruleset_load(&b, &lo, &fb, &d), 0, "with a rule disabled, again");
		ok(a && b && fb == 1 && !lg_rule_enabled(lg_ruleset_find(b, off[0])),
		   "the disabled rule stays disabled when loaded from the cache");
		lg_ruleset_free(a);
		lg_ruleset_free(b);
		lg_diag_release(&d);
	}
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return done();
}
