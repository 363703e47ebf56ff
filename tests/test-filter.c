/* Unit tests: entropy, placeholder detection, GitHub checksum, redaction. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "filter.h"
#include "fingerprint.h"
#include "tap.h"

#define S(x) x, strlen(x)

int main(void)
{
	char out[LG_PREVIEW_MAX], fp1[LG_FP_HEX + 1], fp2[LG_FP_HEX + 1], fp3[LG_FP_HEX + 1];
	struct lg_key k1, k2;

	ok(lg_entropy(S("aaaaaaaa")) == 0, "entropy of one repeated byte is 0");
	ok(fabs(lg_entropy(S("abcd")) - 2.0) < 1e-9, "entropy of 4 distinct bytes is 2 bits");
	ok(lg_entropy(S("")) == 0, "entropy of nothing is 0");
	ok(lg_entropy(S("wJa7rXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKE")) > 4.0, "random base64 is above 4 bits");

	ok(lg_is_placeholder(S("AKIAIOSFODNN7EXAMPLE")), "AWS documentation key is a placeholder");
	ok(lg_is_placeholder(S("changeme")), "changeme");
	ok(lg_is_placeholder(S("<your-token>")), "<your-token>");
	ok(lg_is_placeholder(S("${GITHUB_TOKEN}")), "${VAR}");
	ok(lg_is_placeholder(S("process.env.API_KEY")), "process.env.X");
	ok(lg_is_placeholder(S("xxxxxxxxxxxxxxxx")), "xxxx");
	ok(lg_is_placeholder(S("sk_live_************")), "stars");
	ok(!lg_is_placeholder(S("Qm9vdF8xY3p4dkJ3S2h4")), "random value is not a placeholder");
	ok(lg_is_placeholder(S("2YotnFZFEjr1zCsicMWpAA")), "the access token of RFC 6749's examples");
	ok(lg_checksum_token_invalid(S("ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT")), "a made-up GitHub token fails its checksum");
	ok(lg_looks_like_type_name(S("OAuth2Token")), "OAuth2Token is a type name");
	ok(lg_looks_like_type_name(S("RSAPublicKey2")) == 0, "a name that does not end in a known word is not");
	ok(lg_looks_like_type_name(S("Oauth2Credentials")), "Oauth2Credentials is a type name");
	ok(!lg_looks_like_type_name(S("Hq8vNz3KpWm7RtXc2L")), "a random value is not a type name");
	ok(!lg_looks_like_type_name(S("TOKEN")), "an all-capital word is not judged");
	ok(!lg_looks_like_type_name(S("k8Jq2mZx9Token")), "nor a value with a small first letter");
	ok(!lg_checksum_token_invalid(S("ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRs")), "a value of another length is not judged");
	ok(!lg_checksum_token_invalid(S("xyz_aBcD1234eFgH5678iJkL9012mNoP3456qRsT")), "nor one without the prefix");
	ok(lg_is_placeholder(S("ad180jjd733klru7")), "the token of RFC 5849's examples");
	ok(!lg_is_placeholder(S("ad180jjd733klru7x")), "a longer value that starts like one is not");
	ok(!lg_is_placeholder(S("2YotnFZFEjr1zCsicMWpA")), "nor a shorter one");
	ok(!lg_is_placeholder(S("9f3a0000c1d2")), "four zeros in a hex key do not make a placeholder");
	ok(lg_is_placeholder(S("aaaaaa")), "six of any character do");

	ok(lg_github_crc32_valid(S("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")), "valid ghp_ checksum");
	ok(!lg_github_crc32_valid(S("ghp_cBShNgFPhN9LhLfVizZbl3g7Jerabz1ai0KU")), "last char changed");
	ok(!lg_github_crc32_valid(S("ghp_dBShNgFPhN9LhLfVizZbl3g7Jerabz1ai0KT")), "body changed");
	ok(!lg_github_crc32_valid(S("ghp_")), "too short");
	ok(!lg_github_crc32_valid(S("ghp_cBShNgFPhN9LhLfVizZbl3g7Jerabz1ai0-T")), "non-base62 checksum");

	lg_redact(S("AKIAQ3EGRTLE5Z7QWFXD"), out);
	ok(strstr(out, "Q3EGRTLE5Z7QWFXD") == NULL && strncmp(out, "AKIA", 4) == 0,
	   "AWS key preview keeps the prefix and hides the rest (%s)", out);
	lg_redact(S("hunter2"), out);
	ok(strchr(out, 'h') == NULL && strchr(out, '2') == NULL, "short secret fully hidden (%s)", out);
	lg_redact(S("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"), out);
	{
		size_t shown = 0;
		for (const char *p = out; *p; p++)
			shown += *p != '*';
		ok(shown * 4 <= 40, "at most a quarter shown (%s)", out);
	}
	lg_redact(S("ab\x01\x02\x03\x04\x05\x06\x07\x08"), out);
	ok(strchr(out, '\x01') == NULL, "control bytes never printed");

	memset(&k1, 1, sizeof(k1));
	memset(&k2, 2, sizeof(k2));
	lg_fingerprint(&k1, "rule-a", S("secret-value"), fp1);
	lg_fingerprint(&k1, "rule-a", S("secret-value"), fp2);
	lg_fingerprint(&k2, "rule-a", S("secret-value"), fp3);
	is_str(fp1, fp2, "same key, rule and secret: same fingerprint");
	ok(strcmp(fp1, fp3) != 0, "another key: another fingerprint");
	lg_fingerprint(&k1, "rule-b", S("secret-value"), fp3);
	ok(strcmp(fp1, fp3) != 0, "another rule: another fingerprint");
	is_int(strlen(fp1), LG_FP_HEX, "fingerprint length");
	ok(strstr(fp1, "secret") == NULL, "fingerprint does not contain the secret");
	/* Path context: tests, documentation, templates; the rest is none. */
	{
		static const struct {
			const char *path;
			enum lg_context want;
		} cases[] = {
			{"tests/certs/server.key", LG_CTX_TEST},
			{"src/test/resources/application.properties", LG_CTX_TEST},
			{"pkg/auth/testdata/token.json", LG_CTX_TEST},
			{"web/__tests__/login.js", LG_CTX_TEST},
			{"spec/fixtures/keys.yml", LG_CTX_TEST},
			{"client/auth_test.go", LG_CTX_TEST},
			{"test_settings.py", LG_CTX_TEST},
			{"lib/api.spec.ts", LG_CTX_TEST},
			{"app/src/LoginTest.java", LG_CTX_TEST},
			{"app/src/LoginTests.kt", LG_CTX_TEST},
			{"conftest.py", LG_CTX_TEST},
			{"database/factories/UserFactory.php", LG_CTX_TEST},
			{"test_utils/fixtures.go", LG_CTX_TEST},
			{"docs_src/security/tutorial004.py", LG_CTX_DOC},
			{"examples-app/config.js", LG_CTX_DOC},
			{"docs/config.rst", LG_CTX_DOC},
			{"README.md", LG_CTX_DOC},
			{"guide/setup.adoc", LG_CTX_DOC},
			{"examples/client.py", LG_CTX_DOC},
			{"docs/_templates/sidebar.html", LG_CTX_DOC},
			{".env.example", LG_CTX_TEMPLATE},
			{"config/database.yml.sample", LG_CTX_TEMPLATE},
			{"config.sample.yml", LG_CTX_TEMPLATE},
			{"settings.py.dist", LG_CTX_TEMPLATE},
			{"src/pip/_vendor/urllib3/builder.py", LG_CTX_VENDOR},
			{"web/node_modules/pkg/index.js", LG_CTX_VENDOR},
			{"third_party/zlib/zconf.h", LG_CTX_VENDOR},
			{"config/settings.py", LG_CTX_NONE},
			{"vendors.py", LG_CTX_NONE},
			{".env", LG_CTX_NONE},
			{".env.production", LG_CTX_NONE},
			{"deploy/aws.ini", LG_CTX_NONE},
			{"src/latest.py", LG_CTX_NONE},
			{"src/contest/Manifest.java", LG_CTX_NONE},
			{"attestation/keys.go", LG_CTX_NONE},
			{"testimonials/index.html", LG_CTX_NONE},
			{"doctor/settings.py", LG_CTX_NONE},
			{"docker/compose.env", LG_CTX_NONE},
			{"src/examplesite/config.py", LG_CTX_NONE},
			{"notes.txt", LG_CTX_NONE},
			{"", LG_CTX_NONE},
		};
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			is_str(lg_context_name(lg_path_context(cases[i].path)), lg_context_name(cases[i].want),
			       "context of '%s' is %s", cases[i].path, lg_context_name(cases[i].want));
		}
		ok(lg_path_context(NULL) == LG_CTX_NONE, "no path: no context");
	}
	return done();
}
