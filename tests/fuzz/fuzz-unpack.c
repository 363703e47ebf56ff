/*
 * Fuzz harness: the decoded views and lg_scan_deep (archives, decoders)
 * with the built-in rules, on arbitrary bytes. Byte 0 steers: bits 0-1
 * the archive depth (0 to 3), bit 2 decoding off, bit 3 small limits
 * (4 KiB inflated, 8 members, 2 KiB members); the rest is the document.
 *
 * Invariants, each an abort when broken:
 * - every view segment lies inside the document and inside the view, in
 *   order, each followed by its newline, and every view offset maps back
 *   into its segment's source bytes;
 * - every finding of lg_scan_deep lies inside the bytes that hold it (the
 *   document, or a member no larger than the member limit), on a line and
 *   column from 1, with a NUL-terminated preview, a full fingerprint and
 *   the document's name; members and layers are NUL-terminated names;
 * - the scan ends in 0 or a negative code, and a failure has a reason;
 * - with archives off and decoding off, lg_scan_deep finds exactly what
 *   lg_scan_buffer finds.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "fuzz.h"
#include "unpack.h"
#include "utf16.h"

struct found {
	size_t n;
	uint64_t limit; /* the largest bytes a finding may lie in */
	char fp[64][LG_FP_HEX + 1];
};

static int collect(const struct lg_finding *f, void *ctx)
{
	struct found *l = ctx;

	FUZZ_CHECK(f->rule != NULL);
	FUZZ_CHECK(memchr(f->preview, '\0', sizeof(f->preview)) != NULL);
	FUZZ_CHECK(strlen(f->fingerprint) == LG_FP_HEX);
	FUZZ_CHECK(f->path && !strcmp(f->path, "doc.txt"));
	FUZZ_CHECK(!f->member || strlen(f->member) < 4096);
	FUZZ_CHECK(!f->layer || strlen(f->layer) < 96);
	if (f->line) {
		FUZZ_CHECK(f->start < f->end && f->end <= l->limit);
		FUZZ_CHECK(f->column >= 1 && f->column_chars >= 1);
	}
	if (l->n < 64)
		memcpy(l->fp[l->n], f->fingerprint, LG_FP_HEX + 1);
	l->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lg_scanner *s = fuzz_scanner();
	struct lg_unpack_opts o;
	struct lg_unpack_result res;
	struct lg_view v;
	struct found a, b;
	const char *doc = (const char *)data + 1, *name = "doc.txt";
	size_t len;
	int err;

	if (size < 1 || size > (1u << 20))
		return 0;
	len = size - 1;

	/* The views. */
	lg_view_init(&v);
	if (lg_view_build(&v, doc, len) == LG_OK) {
		uint64_t prev = 0;
		for (size_t i = 0; i < v.segs.n; i++) {
			const struct lg_seg *g = &((const struct lg_seg *)v.segs.v)[i];
			FUZZ_CHECK(g->ostart < g->oend && g->oend <= len);
			FUZZ_CHECK(g->vstart >= prev && g->vstart < g->vend && g->vend < v.text.n);
			FUZZ_CHECK(((const char *)v.text.v)[g->vend] == '\n');
			for (uint64_t k = g->vstart; k < g->vend; k += 1 + (g->vend - g->vstart) / 16) {
				const struct lg_seg *m;
				uint64_t at = lg_view_map(&v, doc, k, &m);
				FUZZ_CHECK(m == g && at >= g->ostart && at < g->oend);
			}
			prev = g->vend + 1;
		}
	}
	lg_view_release(&v);

	/* The deep scan. */
	lg_unpack_defaults(&o);
	o.archive_depth = data[0] & 3;
	o.decode = !(data[0] & 4);
	if (data[0] & 8) {
		o.archive_max = 4096;
		o.archive_members = 8;
		o.member_max = 2048;
	}
	memset(&a, 0, sizeof(a));
	/* UTF-16 is scanned as its UTF-8, up to half as long again. */
	a.limit = 2 * len > o.member_max ? 2 * len : o.member_max;
	err = lg_scan_deep(s, &o, &name, 1, doc, len, collect, &a, &res);
	FUZZ_CHECK(err <= 0);
	FUZZ_CHECK(!err || *lg_scanner_error(s));
	FUZZ_CHECK(memchr(res.note, '\0', sizeof(res.note)) != NULL);
	FUZZ_CHECK(!res.notes || res.note[0]);

	/* Nothing to open or decode: the bytes alone. */
	o.archive_depth = 0;
	o.decode = 0;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.limit = b.limit = 2 * len;
	err = lg_scan_deep(s, &o, &name, 1, doc, len, collect, &a, &res);
	if (!err && !lg_looks_binary(doc, len) && !lg_utf16_detect(doc, len)) {
		err = lg_scan_buffer_paths(s, &name, 1, doc, len, collect, &b);
		FUZZ_CHECK(err || a.n == b.n);
		for (size_t i = 0; !err && i < a.n && i < 64; i++)
			FUZZ_CHECK(!strcmp(a.fp[i], b.fp[i]));
	}
	return 0;
}
