/*
 * Helpers of the fuzz harnesses (fuzz.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "loader.h"

static struct lg_ruleset *builtin;
static struct lg_scanner *scanner;

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

/*
 * The cache folder: $LEAKGATE_CACHE_DIR (the test suite's), else
 * /tmp/leakgate-fuzz-UID when it is this user's alone, else none (the
 * built-in rules are then compiled in every process, in about a second).
 */
char *fuzz_cache_dir(void)
{
	const char *e = getenv("LEAKGATE_CACHE_DIR");
	struct stat st;
	char *dir;

	if (e && *e)
		return strdup(e);
	if (asprintf(&dir, "/tmp/leakgate-fuzz-%u", (unsigned)getuid()) < 0)
		return NULL;
	mkdir(dir, 0700);
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 022)) {
		free(dir);
		return strdup("");
	}
	return dir;
}

struct lg_ruleset *fuzz_builtin_rules(void)
{
	struct lg_load_opts o;
	struct lg_diag d;
	char *dir;
	int err;

	if (builtin)
		return builtin;
	memset(&o, 0, sizeof(o));
	lg_diag_init(&d);
	FUZZ_CHECK((dir = fuzz_cache_dir()) != NULL);
	o.cache_dir = dir;
	err = lg_ruleset_load(&builtin, &o, NULL, &d);
	for (size_t i = 0; i < d.n; i++) {
		char line[512];
		lg_diag_format(&d.v[i], line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	lg_diag_release(&d);
	free(dir);
	FUZZ_CHECK(err == LG_OK);
	return builtin;
}

struct lg_scanner *fuzz_scanner(void)
{
	struct lg_key key;

	if (scanner)
		return scanner;
	memset(&key, 0x5a, sizeof(key));
	FUZZ_CHECK(lg_scanner_new(&scanner, fuzz_builtin_rules(), &key) == LG_OK);
	return scanner;
}

int fuzz_valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	/* Written apart from text.c on purpose: the harnesses check text.c against it. */
	while (i < len) {
		unsigned c = p[i], n, min;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 2, min = 0x80, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			n = 3, min = 0x800, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			n = 4, min = 0x10000, cp = c & 0x07;
		else
			return 0;
		if (len - i < n)
			return 0;
		for (unsigned k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}
