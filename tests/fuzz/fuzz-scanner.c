/*
 * Fuzz harness: the scanner with the built-in rules, on arbitrary bytes.
 * The first FUZZ_CTL bytes of the input steer it; the rest is the
 * document. Byte 0: bits 0-1 choose the document's names, bit 2 UTF-16
 * big-endian rather than little-endian, bits 3 and 4 both set also scan
 * the document inside a large one (across a pass boundary), bit 7 feeds
 * streams in pieces of up to 4096 bytes rather than 61. Bytes 1 to 3 seed
 * the piece sizes; bytes 1 and 2 also place the document in the large
 * one, and byte 3 sets the filler after it.
 *
 * Invariants, each an abort when broken:
 * - every finding lies inside its document (start < end <= length), on a
 *   line and column from 1, with a NUL-terminated preview and a full
 *   fingerprint; a path finding names one of the document's names;
 * - a stream fed in pieces of any size gives exactly the findings of the
 *   whole buffer, also when the document crosses the scanner's passes;
 *   and where the passes fall changes nothing that is found;
 * - UTF-16 text (with its byte-order mark) gives the findings of the UTF-8
 *   text it stands for, however the UTF-16 is cut into pieces;
 * - lg_text_lossless gives valid UTF-8 that is the input itself when
 *   nothing was escaped, and from which the input comes back otherwise;
 *   lg_text_printable gives valid UTF-8 without control characters;
 *   lg_text_redact replaces as many secrets as the scan finds, and
 *   changes nothing when it finds none.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "text.h"
#include "utf16.h"
#include "vec.h"

#define FUZZ_CTL 4
/* scanner.c's pass (LG_CHUNK) and the overlap between passes (LG_OVERLAP). */
#define FUZZ_PASS (1u << 20)
#define FUZZ_OVERLAP (2 * LG_MATCH_MAX)

struct found {
	const struct lg_rule *rule;
	uint64_t start, end, line, column, end_line, end_column, column_chars, end_column_chars;
	char path[64];
	char preview[LG_PREVIEW_MAX];
	char fingerprint[LG_FP_HEX + 1];
};

struct found_list {
	struct lg_vec v;
	uint64_t len;              /* the document's length (an upper bound for UTF-16) */
	const char *const *paths;  /* its names */
	size_t npaths;
};

static int collect(const struct lg_finding *f, void *ctx)
{
	struct found_list *l = ctx;
	struct found x;
	int named = 0;

	FUZZ_CHECK(f->rule != NULL);
	FUZZ_CHECK(memchr(f->preview, '\0', sizeof(f->preview)) != NULL);
	FUZZ_CHECK(strlen(f->fingerprint) == LG_FP_HEX);
	for (size_t i = 0; i < l->npaths; i++)
		named |= f->path && strcmp(f->path, l->paths[i]) == 0;
	if (f->line == 0) {
		/* A path rule without content: the name is the finding. */
		FUZZ_CHECK(named && lg_rule_path_pattern(f->rule) && !lg_rule_pattern(f->rule));
	} else {
		FUZZ_CHECK(f->start < f->end && f->end <= l->len);
		FUZZ_CHECK(f->end - f->start <= 2 * LG_MATCH_MAX);
		FUZZ_CHECK(f->column >= 1 && f->column_chars >= 1 && f->column_chars <= f->column);
		FUZZ_CHECK(f->end_line > f->line || (f->end_line == f->line && f->end_column >= f->column));
		FUZZ_CHECK(l->npaths ? named && strcmp(f->path, l->paths[0]) == 0 : f->path == NULL);
		FUZZ_CHECK(lg_rule_pattern(f->rule) != NULL);
	}
	memset(&x, 0, sizeof(x));
	x.rule = f->rule;
	x.start = f->start;
	x.end = f->end;
	x.line = f->line;
	x.column = f->column;
	x.end_line = f->end_line;
	x.end_column = f->end_column;
	x.column_chars = f->column_chars;
	x.end_column_chars = f->end_column_chars;
	snprintf(x.path, sizeof(x.path), "%s", f->path ? f->path : "");
	memcpy(x.preview, f->preview, sizeof(x.preview));
	memcpy(x.fingerprint, f->fingerprint, sizeof(x.fingerprint));
	FUZZ_CHECK(lg_vec_push(&l->v, &x) == LG_OK);
	return 0;
}

static void list_init(struct found_list *l, uint64_t len, const char *const *paths, size_t npaths)
{
	lg_vec_init(&l->v, sizeof(struct found), 1u << 20);
	l->len = len;
	l->paths = paths;
	l->npaths = npaths;
}

static void same_findings(const struct found_list *a, const struct found_list *b)
{
	FUZZ_CHECK(a->v.n == b->v.n);
	for (size_t i = 0; i < a->v.n; i++) {
		const struct found *x = &LG_VEC_AT(&a->v, struct found, i);
		const struct found *y = &LG_VEC_AT(&b->v, struct found, i);
		FUZZ_CHECK(x->rule == y->rule && x->start == y->start && x->end == y->end);
		FUZZ_CHECK(x->line == y->line && x->column == y->column);
		FUZZ_CHECK(x->end_line == y->end_line && x->end_column == y->end_column);
		FUZZ_CHECK(x->column_chars == y->column_chars && x->end_column_chars == y->end_column_chars);
		FUZZ_CHECK(strcmp(x->path, y->path) == 0 && strcmp(x->preview, y->preview) == 0);
		FUZZ_CHECK(strcmp(x->fingerprint, y->fingerprint) == 0);
	}
}

/* Piece sizes: a small generator seeded from the input, from 1 to max bytes. */
static size_t next_piece(uint32_t *state, size_t max)
{
	*state = *state * 1103515245u + 12345u;
	return 1 + (*state >> 8) % max;
}

static int scan_whole(const char *const *paths, size_t npaths, const char *doc, size_t len,
		      struct found_list *out)
{
	list_init(out, len, paths, npaths);
	return lg_scan_buffer_paths(fuzz_scanner(), paths, npaths, doc, len, collect, out);
}

static int scan_stream(const char *const *paths, size_t npaths, const char *doc, size_t len,
		       uint32_t seed, size_t max_piece, struct found_list *out)
{
	struct lg_scanner *s = fuzz_scanner();
	int err;

	list_init(out, len, paths, npaths);
	err = lg_scan_begin_paths(s, paths, npaths, collect, out);
	for (size_t at = 0; !err && at < len;) {
		size_t n = next_piece(&seed, max_piece);
		if (n > len - at)
			n = len - at;
		err = lg_scan_feed(s, doc + at, n);
		at += n;
	}
	/* A scan that failed ends all the same (the API's promise: it ends in that code). */
	if (!err)
		return lg_scan_end(s);
	lg_scan_end(s);
	return err;
}

/* UTF-16 in pieces through lg_utf16_feed, as a large blob would arrive. */
static int scan_utf16_pieces(enum lg_utf16_kind kind, const char *const *paths, size_t npaths,
			     const char *doc, size_t len, uint64_t bound, uint32_t seed,
			     struct found_list *out)
{
	struct lg_scanner *s = fuzz_scanner();
	struct lg_utf16 *u = lg_utf16_new(kind);
	int err, err2;

	FUZZ_CHECK(u != NULL);
	list_init(out, bound, paths, npaths);
	err = lg_scan_begin_paths(s, paths, npaths, collect, out);
	for (size_t at = 0; !err && at < len;) {
		size_t n = next_piece(&seed, 7);
		if (n > len - at)
			n = len - at;
		err = lg_utf16_feed(u, s, doc + at, n);
		at += n;
	}
	err2 = lg_scan_end(s);
	lg_utf16_free(u);
	return err ? err : err2;
}

/* The UTF-16 form (with its mark) of valid UTF-8 text; caller frees. */
static char *to_utf16(const char *s, size_t len, int big_endian, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char *o = malloc(2 + 4 * len), *q = o;

	FUZZ_CHECK(o != NULL);
	*q++ = big_endian ? 0xfe : 0xff;
	*q++ = big_endian ? 0xff : 0xfe;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		unsigned units[2], n = 1;
		if (p[i] < 0x80)
			cp = p[i++];
		else if (p[i] < 0xe0)
			cp = (uint32_t)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f), i += 2;
		else if (p[i] < 0xf0)
			cp = (uint32_t)(p[i] & 0x0f) << 12 | (uint32_t)(p[i + 1] & 0x3f) << 6 | (p[i + 2] & 0x3f),
			i += 3;
		else
			cp = (uint32_t)(p[i] & 0x07) << 18 | (uint32_t)(p[i + 1] & 0x3f) << 12 |
			     (uint32_t)(p[i + 2] & 0x3f) << 6 | (p[i + 3] & 0x3f),
			i += 4;
		units[0] = cp;
		if (cp >= 0x10000) {
			units[0] = 0xd800 | ((cp - 0x10000) >> 10);
			units[1] = 0xdc00 | ((cp - 0x10000) & 0x3ff);
			n = 2;
		}
		for (unsigned k = 0; k < n; k++) {
			*q++ = (unsigned char)(big_endian ? units[k] >> 8 : units[k]);
			*q++ = (unsigned char)(big_endian ? units[k] : units[k] >> 8);
		}
	}
	*out_len = (size_t)(q - o);
	return (char *)o;
}

static void check_text_helpers(const char *doc, size_t len, const struct found_list *plain)
{
	int escaped, valid = fuzz_valid_utf8(doc, len) && !memchr(doc, '\0', len);
	char *out = lg_text_lossless(doc, len, &escaped), *back, *q;
	size_t n, found = 0;
	int err;

	/* Lossless: valid UTF-8, the input itself when nothing was escaped, else recoverable. */
	FUZZ_CHECK(out != NULL);
	n = strlen(out);
	FUZZ_CHECK(fuzz_valid_utf8(out, n));
	FUZZ_CHECK(escaped == !valid);
	if (!escaped) {
		FUZZ_CHECK(n == len && memcmp(out, doc, len) == 0);
	} else {
		back = q = malloc(n + 1);
		FUZZ_CHECK(back != NULL);
		for (size_t i = 0; i < n;) {
			if (out[i] != '\\') {
				*q++ = out[i++];
			} else if (out[i + 1] == '\\') {
				*q++ = '\\';
				i += 2;
			} else {
				FUZZ_CHECK(out[i + 1] == 'x' && i + 3 < n);
				*q++ = (char)strtoul((char[]){out[i + 2], out[i + 3], '\0'}, NULL, 16);
				i += 4;
			}
		}
		FUZZ_CHECK((size_t)(q - back) == len && memcmp(back, doc, len) == 0);
		free(back);
	}
	free(out);

	/* Printable: valid UTF-8, no C0, DEL or C1 control character left. */
	out = lg_text_printable(doc, len);
	FUZZ_CHECK(out != NULL);
	n = strlen(out);
	FUZZ_CHECK(fuzz_valid_utf8(out, n));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		FUZZ_CHECK(c >= 0x20 && c != 0x7f);
		FUZZ_CHECK(!(c == 0xc2 && i + 1 < n && (unsigned char)out[i + 1] < 0xa0));
	}
	free(out);

	/* Redact: one preview per finding of the same scan; nothing found, nothing changed. */
	err = lg_text_redact(fuzz_scanner(), doc, len, &out, &found);
	if (err) {
		FUZZ_CHECK(out == NULL);
		return;
	}
	FUZZ_CHECK(out != NULL);
	if (plain)
		FUZZ_CHECK(found == plain->v.n);
	if (found == 0)
		FUZZ_CHECK(memcmp(out, doc, len) == 0 && out[len] == '\0');
	free(out);
}

/*
 * The document between blank filler (spaces, a newline every 128 bytes),
 * once with a little filler before it and once with a megabyte, which
 * puts it around the end of the scanner's first pass. Where the passes
 * fall must not change what is found: the same findings, shifted by the
 * filler (the lines by its newlines), whether the large one is scanned
 * whole or streamed.
 */
#define FUZZ_FILL_LINE 128
#define FUZZ_FILL_SMALL (2 * FUZZ_OVERLAP)

static char *padded(const char *doc, size_t len, size_t before, size_t after, size_t *total)
{
	char *p = malloc(before + len + after + 1);

	FUZZ_CHECK(p != NULL);
	*total = before + len + after;
	for (size_t i = 0; i < *total; i++)
		p[i] = i % FUZZ_FILL_LINE == FUZZ_FILL_LINE - 1 ? '\n' : ' ';
	memcpy(p + before, doc, len);
	return p;
}

static void same_shifted(const struct found_list *a, size_t a_before, const struct found_list *b,
			 size_t b_before)
{
	FUZZ_CHECK(a->v.n == b->v.n);
	for (size_t i = 0; i < a->v.n; i++) {
		const struct found *x = &LG_VEC_AT(&a->v, struct found, i);
		const struct found *y = &LG_VEC_AT(&b->v, struct found, i);
		FUZZ_CHECK(x->rule == y->rule);
		FUZZ_CHECK(x->start - a_before == y->start - b_before && x->end - a_before == y->end - b_before);
		FUZZ_CHECK(x->line - a_before / FUZZ_FILL_LINE == y->line - b_before / FUZZ_FILL_LINE);
		FUZZ_CHECK(x->end_line - a_before / FUZZ_FILL_LINE == y->end_line - b_before / FUZZ_FILL_LINE);
		FUZZ_CHECK(x->column == y->column && x->end_column == y->end_column);
		FUZZ_CHECK(x->column_chars == y->column_chars && x->end_column_chars == y->end_column_chars);
		FUZZ_CHECK(strcmp(x->preview, y->preview) == 0 && strcmp(x->fingerprint, y->fingerprint) == 0);
	}
}

static void check_passes(const char *doc, size_t len, const uint8_t *ctl)
{
	size_t slot = ((size_t)ctl[1] << 8 | ctl[2]) % (3 * FUZZ_OVERLAP / FUZZ_FILL_LINE);
	size_t before = FUZZ_PASS - FUZZ_OVERLAP + FUZZ_FILL_LINE * slot, after = (size_t)ctl[3] * 64;
	size_t stotal, btotal;
	char *small = padded(doc, len, FUZZ_FILL_SMALL, after, &stotal);
	char *big = padded(doc, len, before, after, &btotal);
	struct found_list a, b, c;
	int ea, eb, ec;

	ea = scan_whole(NULL, 0, small, stotal, &a);
	eb = scan_whole(NULL, 0, big, btotal, &b);
	ec = scan_stream(NULL, 0, big, btotal, ctl[3], 65536, &c);
	if (!eb && !ec)
		same_findings(&b, &c);
	if (!ea && !eb)
		same_shifted(&a, FUZZ_FILL_SMALL, &b, before);
	lg_vec_release(&a.v);
	lg_vec_release(&b.v);
	lg_vec_release(&c.v);
	free(small);
	free(big);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_scanner();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Names that the built-in path rules know, and one the input gives. */
	static const char *const names[][3] = {
		{"src/settings.py", NULL, NULL},
		{".npmrc", "config/.env", "deploy/id_rsa"},
		{"home/.aws/credentials", "b.tfstate", NULL},
		{NULL, "x/credentials.json", ".git-credentials"},
	};
	const char *paths[3], *doc = (const char *)data + FUZZ_CTL;
	char own[48];
	size_t len, npaths = 0;
	struct found_list plain, streamed, named, other;
	enum lg_utf16_kind kind;
	uint32_t seed;
	int e1, e2, eplain, choice;

	if (size < FUZZ_CTL)
		return 0;
	len = size - FUZZ_CTL;
	seed = (uint32_t)data[1] << 8 | data[2] | (uint32_t)data[3] << 16;
	choice = data[0] & 3;

	/* The whole buffer and the same bytes streamed, without names. */
	eplain = scan_whole(NULL, 0, doc, len, &plain);
	e2 = scan_stream(NULL, 0, doc, len, seed, data[0] & 0x80 ? 4096 : 61, &streamed);
	if (!eplain && !e2)
		same_findings(&plain, &streamed);
	lg_vec_release(&streamed.v);

	/* With names (one may come from the input), whole and streamed. */
	for (int i = 0; i < 3; i++) {
		const char *p = names[choice][i];
		if (!p && i == 0 && choice == 3) {
			size_t n = strnlen(doc, len < sizeof(own) - 1 ? len : sizeof(own) - 1);
			memcpy(own, doc, n);
			own[n] = '\0';
			p = own;
		}
		if (p)
			paths[npaths++] = p;
	}
	e1 = scan_whole(paths, npaths, doc, len, &named);
	e2 = scan_stream(paths, npaths, doc, len, seed + 1, 97, &other);
	if (!e1 && !e2)
		same_findings(&named, &other);
	lg_vec_release(&other.v);

	/* UTF-16 made from the text gives the text's findings. */
	if (!e1 && fuzz_valid_utf8(doc, len)) {
		size_t ulen;
		char *u = to_utf16(doc, len, data[0] & 4, &ulen);
		if (!scan_utf16_pieces(data[0] & 4 ? LG_UTF16BE : LG_UTF16LE, paths, npaths, u, ulen, len,
				       seed, &other))
			same_findings(&named, &other);
		lg_vec_release(&other.v);
		free(u);
	}

	/* UTF-16 as the input gives it (lone surrogates and all): whole and in pieces. */
	if ((kind = lg_utf16_detect(doc, len)) != LG_NOT_UTF16) {
		uint64_t bound = (uint64_t)len * 3 / 2 + 3;
		list_init(&other, bound, paths, npaths);
		e1 = lg_scan_utf16(fuzz_scanner(), kind, paths, npaths, doc, len, collect, &other);
		e2 = scan_utf16_pieces(kind, paths, npaths, doc, len, bound, seed, &streamed);
		if (!e1 && !e2)
			same_findings(&other, &streamed);
		lg_vec_release(&other.v);
		lg_vec_release(&streamed.v);
	}
	lg_vec_release(&named.v);

	check_text_helpers(doc, len, eplain == 0 ? &plain : NULL);
	lg_vec_release(&plain.v);

	/* A quarter of the inputs: two scans of a megabyte cost more than all the rest. */
	if ((data[0] & 0x18) == 0x18)
		check_passes(doc, len, data);
	lg_looks_binary(doc, len);
	return 0;
}
