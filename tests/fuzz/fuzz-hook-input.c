/*
 * Fuzz harness: what the hook reads before it looks at the push. The
 * input is the hook's standard input for push_parse_updates, and each of
 * its lines is also one push option for push_bypass_option (as
 * GIT_PUSH_OPTION_n holds it, up to its first NUL).
 *
 * Invariants: an accepted input has one update per non-blank line, each
 * with a ref name of printable bytes and ids that read back as written; a
 * refused one says which line (a SHA-256 repository is said through
 * *sha256 instead); a bypass option is recognised exactly when it is
 * "leakgate.bypass" or "leakgate.bypass=...", and its reason is the value
 * with leading blanks trimmed, cut to PUSH_BYPASS_REASON_MAX bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "push.h"

static int is_hex40_zero(const char *s)
{
	for (int i = 0; i < 40; i++)
		if (s[i] != '0')
			return 0;
	return 1;
}

static void check_updates(const struct push *p, const char *input, size_t len)
{
	size_t lines = 0, k = 0;

	for (const char *s = input, *end = input + len; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end;
		if (e > s) {
			const struct push_update *u;
			char hex[GIT_OID_HEXSZ + 1];
			size_t rl;

			FUZZ_CHECK(k < p->updates.n);
			u = PUSH_UPDATE(p, k);
			FUZZ_CHECK((size_t)(e - s) > 82 && s[40] == ' ' && s[81] == ' ');
			rl = (size_t)(e - s) - 82;
			FUZZ_CHECK(strlen(u->ref) == rl && memcmp(u->ref, s + 82, rl) == 0);
			for (size_t i = 0; i < rl; i++)
				FUZZ_CHECK((unsigned char)u->ref[i] >= 0x20 && u->ref[i] != 0x7f);
			git_oid_tostr(hex, sizeof(hex), &u->old_id);
			FUZZ_CHECK(memcmp(hex, s, 40) == 0);
			git_oid_tostr(hex, sizeof(hex), &u->new_id);
			FUZZ_CHECK(memcmp(hex, s + 41, 40) == 0);
			FUZZ_CHECK(u->is_create == is_hex40_zero(s) && u->is_delete == is_hex40_zero(s + 41));
			k++;
		}
		lines++;
		s = nl ? nl + 1 : end;
	}
	FUZZ_CHECK(k == p->updates.n && k <= lines);
}

static void check_option(const char *opt)
{
	const size_t n = strlen(PUSH_BYPASS_OPTION);
	char *reason = (char *)1;
	int k = push_bypass_option(opt, &reason);
	int want = strncmp(opt, PUSH_BYPASS_OPTION, n) == 0 && (opt[n] == '=' || opt[n] == '\0');
	const char *v = opt + n + (want && opt[n] == '=');

	FUZZ_CHECK(k == want || (want && k == LG_ENOMEM));
	if (k != 1) {
		FUZZ_CHECK(reason == NULL);
		return;
	}
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v) {
		FUZZ_CHECK(reason == NULL);
		return;
	}
	FUZZ_CHECK(reason != NULL);
	FUZZ_CHECK(strlen(reason) <= PUSH_BYPASS_REASON_MAX);
	FUZZ_CHECK(strncmp(reason, v, strlen(reason)) == 0);
	FUZZ_CHECK(strlen(reason) == strlen(v) || strlen(reason) == PUSH_BYPASS_REASON_MAX);
	free(reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *input = (const char *)data;
	struct push p;
	struct lg_diag d;
	int sha256 = -1, err;
	char *opt;

	push_init(&p);
	lg_diag_init(&d);
	err = push_parse_updates(&p, input, size, &sha256, &d);
	FUZZ_CHECK(sha256 == 0 || sha256 == 1);
	if (err == LG_OK) {
		FUZZ_CHECK(!sha256);
		check_updates(&p, input, size);
	} else {
		FUZZ_CHECK(err == LG_EINVALID || err == LG_ETOOLARGE || err == LG_ENOMEM);
		FUZZ_CHECK(sha256 ? err == LG_EINVALID : (err == LG_ENOMEM || d.n > 0));
	}
	push_release(&p);
	lg_diag_release(&d);

	/* Each line as a push option. */
	for (const char *s = input, *end = input + size; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end;
		FUZZ_CHECK((opt = strndup(s, (size_t)(e - s))) != NULL);
		check_option(opt);
		free(opt);
		s = nl ? nl + 1 : end;
	}
	FUZZ_CHECK(push_bypass_option(NULL, &opt) == 0 && opt == NULL);
	return 0;
}
