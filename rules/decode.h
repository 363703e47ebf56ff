/*
 * Decoded views of a text document. A secret is often written in an
 * encoding that hides it from patterns: base64 (a Kubernetes Secret, a
 * docker `auth`, a value someone ran through `base64`), percent-encoding
 * (a URL query, a form body), or escapes inside a string literal (a PEM
 * key with `\n` in JSON, JSON inside a JSON string, a key split over
 * `"..." + "..."` concatenations). The view of a document is the decoded
 * text of each such segment, one after another, each followed by a
 * newline; it is scanned like a document of its own, and every finding in
 * it is mapped back to the bytes it came from (lg_view_map).
 *
 * Only segments whose decoding is text are kept (base64 of an image or a
 * DER certificate is not); every decoding is shorter than its source, so a
 * view is never longer than its document plus one byte per segment.
 */
#ifndef LG_DECODE_H
#define LG_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "vec.h"

enum lg_encoding { LG_ENC_BASE64 = 1, LG_ENC_BASE64URL, LG_ENC_PERCENT, LG_ENC_ESCAPES };

/* A segment: view bytes [vstart, vend) decode document bytes [ostart, oend). */
struct lg_seg {
	uint64_t vstart, vend;
	uint64_t ostart, oend;
	enum lg_encoding kind;
};

struct lg_view {
	struct lg_vec text; /* char: the decoded segments, each followed by '\n' */
	struct lg_vec segs; /* struct lg_seg, in document order */
};

/* Segments shorter than this once decoded are not kept: too short to hold a secret with its context. */
#define LG_DECODE_MIN 12

void lg_view_init(struct lg_view *v);
void lg_view_release(struct lg_view *v);

/*
 * The view of data[0, len) into v (emptied first). LG_OK (the view may be
 * empty), LG_ENOMEM, or LG_ETOOLARGE (over the vectors' maxima, which a
 * view of a document within them cannot reach).
 */
int lg_view_build(struct lg_view *v, const char *data, size_t len);

/*
 * The document offset that view offset voff decodes from, exactly (the
 * first byte of the base64 quantum, of the %XX or of the escape that
 * produced it); *seg (may be NULL) gets its segment. A separator maps to
 * the end of its segment.
 */
uint64_t lg_view_map(const struct lg_view *v, const char *data, uint64_t voff, const struct lg_seg **seg);

/* "base64", "base64url", "percent-encoding", "escaped string". */
const char *lg_encoding_name(enum lg_encoding k);

#endif
