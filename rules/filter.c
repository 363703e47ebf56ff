/*
 * Candidate filters. Each one is cheap and runs only on the few bytes a
 * confirmed match extracted, never on the scanned text as a whole.
 *
 * The structural validators (JWT, PyPI macaroon, Azure key) decode what
 * they judge: base64 through GnuTLS, a JWT header through jansson. They
 * refuse anything longer than LG_VALIDATE_MAX before decoding, so one
 * candidate costs at most a few KiB of work.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <zlib.h>

#include "filter.h"

double lg_entropy(const char *s, size_t len)
{
	size_t count[256] = {0};
	double h = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		count[(unsigned char)s[i]]++;
	for (size_t i = 0; i < 256; i++) {
		if (count[i]) {
			double p = (double)count[i] / (double)len;
			h -= p * log2(p);
		}
	}
	return h;
}

static int contains_ci(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(s + i, needle, n) == 0)
			return 1;
	return 0;
}

/*
 * Words that mark a value as a stand-in: documentation examples, template
 * variables, environment lookups written where a literal was expected.
 */
static const char *const placeholder_words[] = {
	"example", "changeme", "change_me", "change-me", "placeholder", "dummy",
	"redacted", "your_", "your-", "yourtoken", "yourkey", "insert", "replace_me",
	"replaceme", "${", "{{", "%(", "process.env", "os.environ",
	"getenv", "env(", "env[", "fake", "sample", "1234567890", "abcdefgh",
	"not-for-prod", "not_for_prod", "notforprod", "do-not-use", "do_not_use",
	"0123456789", NULL,
};

/*
 * Values that specifications print as their examples, copied into code
 * and documentation everywhere (OAuth 1.0, RFC 5849; OAuth 2.0, RFC 6749):
 * the whole value must be one of them.
 */
static const char *const spec_examples[] = {
	/* RFC 5849 */
	"dpf43f3p2l4k3l03", "kd94hf93k423kf44", "hh5s93j4hdidpola", "hdhd0244k9j7ao03",
	"nnch734d00sl2jdk", "pfkkdhi9sl3r4s00", "9djdj82h48djs9d2", "kkk9d7dh3k39sjv7",
	"0685bd9184jfhq22", "ad180jjd733klru7", "wOJIO9A2W5mFwDgiDvZbTSMK%2FPY%3D", "wOJIO9A2W5mFwDgiDvZbTSMK/PY=",
	"gKgrFCywp7rO0OXSjdot%2FIHF7IU%3D", "tR3+Ty81lMeYAr/Fid0kMTYa/WM=", "7insIqdGmbmaB6F0sO6fWRhuLWg=",
	/* RFC 6749 */
	"2YotnFZFEjr1zCsicMWpAA", "tGzv3JOkF0XG5Qx2TlKWIA", "SplxlOBeZQQYbYS6WxSbIA", "s6BhdRkqt3",
	"7Fjfp0ZBr1KtDRbnfVdmIw", "czZCaGRSa3F0MzpnWDFmQmF0M2JW", "gX1fBat3bV", "mF_9.B5f-4.1JqM",
	NULL,
};

/*
 * Words in brackets stand for a value in documentation: (whatever),
 * [password], {api key}, (your password here). A real secret has digits
 * or other characters inside.
 */
static int bracketed_words(const char *s, size_t len)
{
	static const char open[] = "([{", close[] = ")]}";
	const char *o;

	if (len < 3 || !(o = memchr(open, s[0], 3)) || s[len - 1] != close[o - open])
		return 0;
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '_' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

/*
 * A name in angle brackets anywhere in the value (<your-token>,
 * sk_live_<key>, <API_KEY here>) stands for a value; a lone < or > is
 * only a character of a password (p<ss).
 */
static int angle_name(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		size_t j = i + 1;
		if (s[i] != '<')
			continue;
		while (j < len && (s[j] == ' ' || s[j] == '_' || s[j] == '-' || s[j] == '.' ||
				   (s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= '0' && s[j] <= '9')))
			j++;
		if (j < len && s[j] == '>' && j > i + 1)
			return 1;
	}
	return 0;
}

int lg_is_placeholder(const char *s, size_t len)
{
	size_t run = 1;

	for (size_t i = 0; spec_examples[i]; i++)
		if (strlen(spec_examples[i]) == len && !memcmp(s, spec_examples[i], len))
			return 1;

	for (size_t i = 0; placeholder_words[i]; i++)
		if (contains_ci(s, len, placeholder_words[i]))
			return 1;
	if (bracketed_words(s, len) || angle_name(s, len))
		return 1;
	/*
	 * xxxx and ****: four of a filler character; any character six times
	 * in a row. Real hex keys hold runs of four digits often enough (about
	 * one in a hundred) that digits alone must not count.
	 */
	for (size_t i = 1; i < len; i++) {
		run = s[i] == s[i - 1] ? run + 1 : 1;
		if (run >= 6 || (run >= 4 && s[i] && strchr("xX*#.?", s[i])))
			return 1;
	}
	return 0;
}

static int base62_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

int lg_github_crc32_valid(const char *s, size_t len)
{
	uint64_t want = 0;
	uLong got;

	if (len < 4 + 1 + 6)
		return 0;
	for (size_t i = len - 6; i < len; i++) {
		int v = base62_value(s[i]);
		if (v < 0)
			return 0;
		want = want * 62 + (uint64_t)v;
	}
	got = crc32(0L, (const Bytef *)s + 4, (uInt)(len - 10));
	return want == (uint64_t)got;
}

/* Folder names that hold tests and fixtures, or documentation and examples. */
static const char *const test_dirs[] = {
	"test", "tests", "testing", "testdata", "test-data", "test_data", "testfixtures", "__tests__",
	"__test__", "spec", "specs", "fixture", "fixtures", "__fixtures__", "__mocks__", "mocks",
	"mock", "e2e", "unittest", "unittests", "unit-tests", "integration-tests", "factories", "seeders",
	NULL,
};
static const char *const doc_dirs[] = {
	"doc", "docs", "documentation", "example", "examples", "sample", "samples", "demo",
	"demos", "tutorial", "tutorials", "_templates", NULL,
};

/* Folders that hold other projects' code, copied in. */
static const char *const vendor_dirs[] = {
	"vendor", "_vendor", "vendored", "third_party", "third-party", "thirdparty", "node_modules",
	"bower_components", NULL,
};

static int in_list_n(const char *s, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == n && !strncasecmp(s, list[i], n))
			return 1;
	return 0;
}

static int has_suffix_ci(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n >= k && !strncasecmp(s + n - k, suf, k);
}

static int has_prefix_ci(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);
	return n > k && !strncasecmp(s, pre, k);
}

/* docs_src, docs-site, test_utils, examples-app: a context word, then - or _ and more */
static int dir_prefixed(const char *s, size_t n, const char *word)
{
	size_t k = strlen(word);
	return n > k + 1 && !strncasecmp(s, word, k) && (s[k] == '_' || s[k] == '-');
}

/* The file name alone: test_x.py, x_test.go, x.test.js, XTest.java, conftest.py ... */
static enum lg_context name_context(const char *b, size_t n)
{
	static const char *const test_suffixes[] = {
		"_test.go", "_test.py", "_tests.py", "_test.rb", "_spec.rb", "_test.rs", "_test.c", "_test.cc",
		"_test.cpp", "_test.exs", "_test.dart", "_test.ts", "_test.js", NULL,
	};
	static const char *const doc_suffixes[] = {".md", ".markdown", ".mdx", ".rst", ".adoc", ".asciidoc", NULL};
	static const char *const tmpl_marks[] = {".example", ".sample", ".template", ".dist", ".tmpl", NULL};
	const char *dot;

	for (size_t i = 0; test_suffixes[i]; i++)
		if (has_suffix_ci(b, n, test_suffixes[i]))
			return LG_CTX_TEST;
	if (has_prefix_ci(b, n, "test_") || (n == 11 && !strncmp(b, "conftest.py", 11)))
		return LG_CTX_TEST;
	/* x.test.js, x.spec.tsx: ".test." or ".spec." before the extension */
	for (const char *p = b; (p = memchr(p, '.', (size_t)(b + n - p))); p++)
		if ((size_t)(b + n - p) > 6 && (!strncasecmp(p, ".test.", 6) || !strncasecmp(p, ".spec.", 6)))
			return LG_CTX_TEST;
	/* FooTest.java, FooTests.kt, FooSpec.scala: a capital T or S starts the suffix */
	dot = memchr(b, '.', n);
	if (dot) {
		size_t stem = (size_t)(dot - b);
		if ((stem > 4 && (!strncmp(dot - 4, "Test", 4) || !strncmp(dot - 4, "Spec", 4))) ||
		    (stem > 5 && !strncmp(dot - 5, "Tests", 5)))
			return LG_CTX_TEST;
	}
	for (size_t i = 0; doc_suffixes[i]; i++)
		if (has_suffix_ci(b, n, doc_suffixes[i]))
			return LG_CTX_DOC;
	/* .env.example, config.sample.yml, settings.py.dist: a marker among the dotted parts */
	for (size_t i = 0; tmpl_marks[i]; i++) {
		size_t k = strlen(tmpl_marks[i]);
		for (const char *p = b; (p = memchr(p, '.', (size_t)(b + n - p))); p++)
			if ((size_t)(b + n - p) >= k && !strncasecmp(p, tmpl_marks[i], k) &&
			    ((size_t)(b + n - p) == k || p[k] == '.'))
				return LG_CTX_TEMPLATE;
	}
	return LG_CTX_NONE;
}

int lg_checksum_token_invalid(const char *s, size_t len)
{
	static const char *const prefixes[] = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_", NULL};
	int known = 0;

	if (len != 40)
		return 0;
	for (size_t i = 0; prefixes[i] && !known; i++)
		known = !memcmp(s, prefixes[i], 4);
	if (!known)
		return 0;
	for (size_t i = 4; i < len; i++)
		if (base62_value(s[i]) < 0)
			return 0;
	return !lg_github_crc32_valid(s, len);
}

int lg_looks_like_type_name(const char *s, size_t len)
{
	static const char *const suffixes[] = {
		"Token", "Tokens", "Key", "Keys", "Secret", "Secrets", "Password", "Credential", "Credentials",
		"Auth", "Config", "Type", "Provider", "Handler", "Service", "Client", "Manager", "Factory",
		"Model", "Schema", "Request", "Response", "Info", "Data", "Options", "Settings", "Store", NULL,
	};
	int lower = 0;

	if (len < 4 || len > 64 || s[0] < 'A' || s[0] > 'Z')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return 0;
		lower |= c >= 'a' && c <= 'z';
	}
	if (!lower)
		return 0;
	for (size_t i = 0; suffixes[i]; i++) {
		size_t k = strlen(suffixes[i]);
		if (len > k && !memcmp(s + len - k, suffixes[i], k))
			return 1;
	}
	return 0;
}

enum lg_context lg_path_context(const char *path)
{
	const char *p = path, *slash;
	enum lg_context dir = LG_CTX_NONE;

	if (!path)
		return LG_CTX_NONE;
	while ((slash = strchr(p, '/'))) {
		size_t n = (size_t)(slash - p);
		if (dir == LG_CTX_NONE) {
			if (in_list_n(p, n, test_dirs) || dir_prefixed(p, n, "test") || dir_prefixed(p, n, "tests"))
				dir = LG_CTX_TEST;
			else if (in_list_n(p, n, doc_dirs) || dir_prefixed(p, n, "doc") || dir_prefixed(p, n, "docs") ||
				 dir_prefixed(p, n, "example") || dir_prefixed(p, n, "examples"))
				dir = LG_CTX_DOC;
			else if (in_list_n(p, n, vendor_dirs))
				dir = LG_CTX_VENDOR;
		}
		p = slash + 1;
	}
	if (dir != LG_CTX_NONE)
		return dir;
	return name_context(p, strlen(p));
}

const char *lg_context_name(enum lg_context c)
{
	switch (c) {
	case LG_CTX_TEST: return "test";
	case LG_CTX_DOC: return "documentation";
	case LG_CTX_TEMPLATE: return "template";
	case LG_CTX_VENDOR: return "vendored";
	case LG_CTX_NONE: break;
	}
	return "none";
}

/* The value of a standard base64 character, or -1. */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/*
 * Decode base64 of at most LG_VALIDATE_MAX characters: standard, with its
 * padding, or (url set) base64url without padding, which is turned into
 * the standard form that gnutls_base64_decode2 reads. The characters and
 * the length are checked here, and so is that the unused low bits of the
 * last character are zero: GnuTLS would accept a value no encoder writes.
 * 0 and the bytes in *out (the caller frees them with gnutls_free), or -1.
 */
static int b64_decode(const char *s, size_t len, int url, unsigned char **out, size_t *outlen)
{
	char buf[LG_VALIDATE_MAX + 3];
	gnutls_datum_t in, res = {NULL, 0};
	size_t n = len, pad = 0;
	int last = 0;

	*out = NULL;
	*outlen = 0;
	if (len > LG_VALIDATE_MAX)
		return -1;
	while (!url && n > 0 && pad < 2 && s[n - 1] == '=') {
		n--;
		pad++;
	}
	if (n == 0 || n % 4 == 1 || (pad && (n + pad) % 4))
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (url) {
			if (!b64url_char(c))
				return -1;
			c = c == '-' ? '+' : c == '_' ? '/' : c;
		}
		if ((last = b64_value(c)) < 0)
			return -1;
		buf[i] = c;
	}
	if ((n % 4 == 2 && (last & 0x0f)) || (n % 4 == 3 && (last & 0x03)))
		return -1;
	while (n % 4)
		buf[n++] = '=';
	in.data = (unsigned char *)buf;
	in.size = (unsigned)n;
	if (gnutls_base64_decode2(&in, &res) < 0)
		return -1;
	*out = res.data;
	*outlen = res.size;
	return 0;
}

static int json_has_string(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_string(v) && json_string_length(v) > 0;
}

int lg_jwt_valid(const char *s, size_t len)
{
	size_t dot[4], ndots = 0, start = 0;
	unsigned char *hdr = NULL;
	size_t hlen;
	json_t *h;
	int valid;

	if (len == 0 || len > LG_VALIDATE_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (ndots == 4)
				return 0;
			dot[ndots++] = i;
		} else if (!b64url_char(s[i])) {
			return 0;
		}
	}
	if (ndots != 2 && ndots != 4)
		return 0;
	/*
	 * Only the header is decoded, but every part must have a length that
	 * base64 can have. Parts may be empty: the signature of alg none, the
	 * encrypted key of a JWE with alg dir, a detached payload.
	 */
	for (size_t k = 0; k <= ndots; k++) {
		size_t end = k < ndots ? dot[k] : len;
		if ((end - start) % 4 == 1)
			return 0;
		start = end + 1;
	}
	if (b64_decode(s, dot[0], 1, &hdr, &hlen))
		return 0;
	h = json_loadb((const char *)hdr, hlen, JSON_REJECT_DUPLICATES, NULL);
	valid = json_is_object(h) && json_has_string(h, "alg") && (ndots == 2 || json_has_string(h, "enc"));
	json_decref(h);
	gnutls_free(hdr);
	return valid;
}

int lg_jwt_base64_valid(const char *s, size_t len)
{
	unsigned char *text = NULL;
	size_t n;
	int valid;

	if (b64_decode(s, len, 0, &text, &n))
		return 0;
	/* echo "$TOKEN" | base64 encodes the newline too. */
	if (n > 0 && text[n - 1] == '\n')
		n--;
	valid = lg_jwt_valid((const char *)text, n);
	gnutls_free(text);
	return valid;
}

/* A field of a version 2 binary macaroon: a type, a varint length and data, or a lone 0 (end). */
struct mac_field {
	unsigned type;
	const unsigned char *data;
	size_t len;
};

/* Read the field at *at of p[0 .. n); 0, or -1 when it runs past the end. */
static int mac_next(const unsigned char *p, size_t n, size_t *at, struct mac_field *f)
{
	size_t i = *at;
	uint64_t v = 0;

	if (i >= n)
		return -1;
	f->type = p[i++];
	f->data = NULL;
	f->len = 0;
	if (f->type == 0) {
		*at = i;
		return 0;
	}
	/* Field types are varints too, but every defined one fits in a byte. */
	if (f->type & 0x80)
		return -1;
	for (unsigned shift = 0;; shift += 7) {
		if (i >= n || shift > 28)
			return -1;
		v |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i++] & 0x80))
			break;
	}
	if (v > n - i)
		return -1;
	f->data = p + i;
	f->len = (size_t)v;
	*at = i + (size_t)v;
	return 0;
}

enum { MAC_EOS = 0, MAC_LOCATION = 1, MAC_IDENTIFIER = 2, MAC_VID = 4, MAC_SIGNATURE = 6 };

static int mac_field_is(const struct mac_field *f, const char *s)
{
	return f->len == strlen(s) && !memcmp(f->data, s, f->len);
}

/*
 * The whole macaroon: version 2; a header of location (which PyPI always
 * writes), identifier and end; caveats, each an optional location, an
 * identifier, an optional verification id and end; an empty caveat that
 * ends them; a 32-byte signature (HMAC-SHA256) that ends the data.
 */
static int pypi_macaroon(const unsigned char *p, size_t n)
{
	struct mac_field f;
	size_t at = 1;

	if (n < 1 || p[0] != 2)
		return 0;
	if (mac_next(p, n, &at, &f) || f.type != MAC_LOCATION ||
	    !(mac_field_is(&f, "pypi.org") || mac_field_is(&f, "test.pypi.org")))
		return 0;
	if (mac_next(p, n, &at, &f) || f.type != MAC_IDENTIFIER || f.len == 0)
		return 0;
	if (mac_next(p, n, &at, &f) || f.type != MAC_EOS)
		return 0;
	/* Each caveat takes at least two bytes, so this ends. */
	for (;;) {
		if (mac_next(p, n, &at, &f))
			return 0;
		if (f.type == MAC_EOS)
			break;
		if (f.type == MAC_LOCATION && mac_next(p, n, &at, &f))
			return 0;
		if (f.type != MAC_IDENTIFIER || f.len == 0 || mac_next(p, n, &at, &f))
			return 0;
		if (f.type == MAC_VID && mac_next(p, n, &at, &f))
			return 0;
		if (f.type != MAC_EOS)
			return 0;
	}
	if (mac_next(p, n, &at, &f) || f.type != MAC_SIGNATURE || f.len != 32)
		return 0;
	return at == n;
}

int lg_pypi_macaroon_valid(const char *s, size_t len)
{
	unsigned char *bin = NULL;
	size_t n;
	int valid;

	if (len <= 5 || len > LG_VALIDATE_MAX || memcmp(s, "pypi-", 5))
		return 0;
	if (b64_decode(s + 5, len - 5, 1, &bin, &n))
		return 0;
	valid = pypi_macaroon(bin, n);
	gnutls_free(bin);
	return valid;
}

int lg_azure_storage_key_valid(const char *s, size_t len)
{
	unsigned char *key = NULL;
	size_t n;

	/* 64 bytes take 86 characters and two of padding. */
	if (len != 88 || s[86] != '=' || s[87] != '=')
		return 0;
	if (b64_decode(s, len, 0, &key, &n))
		return 0;
	gnutls_free(key);
	return n == 64;
}

int lg_structured_token_invalid(const char *s, size_t len)
{
	size_t i, dots = 0;

	if (lg_checksum_token_invalid(s, len))
		return 1;
	if (len > 3 && !memcmp(s, "eyJ", 3)) {
		for (i = 3; i < len && (s[i] == '.' || b64url_char(s[i])); i++)
			dots += s[i] == '.';
		if (i == len && dots >= 2)
			return !lg_jwt_valid(s, len);
	}
	/* Ag: the version byte 2 of a macaroon, as every PyPI token starts. */
	if (len > 7 && !memcmp(s, "pypi-Ag", 7)) {
		for (i = 7; i < len && b64url_char(s[i]); i++)
			;
		if (i == len)
			return !lg_pypi_macaroon_valid(s, len);
	}
	return 0;
}
