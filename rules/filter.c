/*
 * Candidate filters. Each one is cheap and runs only on the few bytes a
 * confirmed match extracted, never on the scanned text as a whole.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

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
	"replaceme", "<", ">", "${", "{{", "%(", "process.env", "os.environ",
	"getenv", "env(", "env[", "fake", "sample", "1234567890", "abcdefgh",
	"not-for-prod", "not_for_prod", "notforprod", "do-not-use", "do_not_use",
	"0123456789", NULL,
};

int lg_is_placeholder(const char *s, size_t len)
{
	size_t run = 1;

	for (size_t i = 0; placeholder_words[i]; i++)
		if (contains_ci(s, len, placeholder_words[i]))
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
