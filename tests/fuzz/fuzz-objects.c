/*
 * Fuzz harness: a commit or tag object as the hook reads it
 * (hook-scan.c's scan_objects): push_split_object finds where its headers
 * end, and a scan of the whole raw object, every byte, with the built-in
 * rules, finds what it holds. The input is the object's raw text (what
 * `git cat-file commit` prints), which a push may make anything.
 *
 * Invariants: the message starts after the first empty line, or the
 * object has none (the body offset is then its length), and the header
 * count is the number of lines before it; a finding is in the headers
 * exactly when its line is at most that count, so the hook's split of
 * findings into header and message lines (message lines from 1) agrees
 * with the bytes.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "push.h"

struct split {
	size_t len, body, header_lines;
};

static int on_finding(const struct lg_finding *f, void *ctx)
{
	const struct split *sp = ctx;

	/* No names are given, so no path finding. */
	FUZZ_CHECK(f->line >= 1 && f->start < f->end && f->end <= sp->len);
	FUZZ_CHECK((f->start < sp->body) == (f->line <= sp->header_lines));
	if (f->line > sp->header_lines)
		FUZZ_CHECK(f->line - (sp->header_lines + 1) >= 1);
	return 0;
}

/* The built-in rules are compiled (or read from the cache) before the first input, untimed. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_scanner();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw = (const char *)data;
	struct split sp = {size, (size_t)-1, (size_t)-1};
	size_t lines = 0, i = 0;
	int blank = 0;

	push_split_object(raw, size, &sp.body, &sp.header_lines);
	FUZZ_CHECK(sp.body <= size);
	/* The first empty line, counted independently. */
	while (i < size) {
		const char *nl = memchr(raw + i, '\n', size - i);
		if (nl == raw + i) {
			blank = 1;
			break;
		}
		lines++;
		i = nl ? (size_t)(nl - raw) + 1 : size;
	}
	if (blank) {
		FUZZ_CHECK(sp.body == i + 1 && raw[sp.body - 1] == '\n');
		FUZZ_CHECK(sp.body == 1 || raw[sp.body - 2] == '\n');
	} else {
		FUZZ_CHECK(sp.body == size);
	}
	FUZZ_CHECK(sp.header_lines == lines);
	lg_scan_buffer(fuzz_scanner(), NULL, raw, size, on_finding, &sp);
	return 0;
}
