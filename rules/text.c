/*
 * Escaping and redaction of foreign text (text.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "vec.h"

/* Names and messages shown or stored: bounded so that a crafted one cannot take the memory. */
#define LG_TEXT_MAX_BYTES (64u << 20)

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0 when there is none. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	unsigned c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = p[i] ? utf8_seq(p + i, len - i) : 0;
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}

char *lg_text_lossless(const char *s, size_t len, int *escaped)
{
	const unsigned char *p = (const unsigned char *)s;
	struct lg_vec v = LG_VEC_INIT(1, LG_TEXT_MAX_BYTES);
	int err = LG_OK;

	if (escaped)
		*escaped = 0;
	if (valid_utf8(s, len)) {
		/* putn always allocates the terminator, so an empty name is "" too. */
		err = lg_vec_putn(&v, s, len);
		return err ? NULL : lg_vec_steal(&v);
	}
	if (escaped)
		*escaped = 1;
	for (size_t i = 0; i < len && !err;) {
		size_t n = p[i] ? utf8_seq(p + i, len - i) : 0;
		if (n == 1 && p[i] == '\\') {
			err = lg_vec_putn(&v, "\\\\", 2);
		} else if (n) {
			err = lg_vec_putn(&v, s + i, n);
		} else {
			err = lg_vec_printf(&v, "\\x%02x", p[i]);
			n = 1;
		}
		i += n;
	}
	if (err) {
		lg_vec_release(&v);
		return NULL;
	}
	return lg_vec_steal(&v);
}

char *lg_text_printable(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	struct lg_vec v = LG_VEC_INIT(1, LG_TEXT_MAX_BYTES);
	int err = lg_vec_putn(&v, "", 0);

	for (size_t i = 0; i < len && !err;) {
		size_t n = p[i] ? utf8_seq(p + i, len - i) : 0;
		unsigned c = p[i];
		if (n == 1 && c >= 0x20 && c != 0x7f) {
			err = lg_vec_putn(&v, s + i, 1);
		} else if (n == 2 && c == 0xc2 && p[i + 1] < 0xa0) {
			/* C1 controls (U+0080 to U+009F) act on terminals too. */
			err = lg_vec_printf(&v, "\\u%04x", p[i + 1]);
		} else if (n > 1) {
			err = lg_vec_putn(&v, s + i, n);
		} else {
			err = c == '\n'	  ? lg_vec_puts(&v, "\\n")
			      : c == '\r' ? lg_vec_puts(&v, "\\r")
			      : c == '\t' ? lg_vec_puts(&v, "\\t")
					  : lg_vec_printf(&v, "\\x%02x", c);
			n = 1;
		}
		i += n;
	}
	if (err) {
		lg_vec_release(&v);
		return NULL;
	}
	return lg_vec_steal(&v);
}

struct redact_ctx {
	struct lg_vec spans; /* struct {start, end, preview} in document order */
};

struct rspan {
	uint64_t start, end;
	char preview[LG_PREVIEW_MAX];
};

static int on_redact(const struct lg_finding *f, void *ctx)
{
	struct redact_ctx *r = ctx;
	struct rspan x;

	if (f->line == 0)
		return 0; /* a path finding: no bytes of the text */
	x.start = f->start;
	x.end = f->end;
	memcpy(x.preview, f->preview, sizeof(x.preview));
	return lg_vec_push(&r->spans, &x);
}

int lg_text_redact(struct lg_scanner *s, const char *text, size_t len, char **out, size_t *found)
{
	struct redact_ctx r;
	struct lg_vec v = LG_VEC_INIT(1, LG_TEXT_MAX_BYTES);
	size_t at = 0;
	int err;

	*out = NULL;
	if (found)
		*found = 0;
	lg_vec_init(&r.spans, sizeof(struct rspan), 1u << 20);
	err = lg_scan_buffer(s, NULL, text, len, on_redact, &r);
	if (!err)
		err = lg_vec_putn(&v, "", 0);
	/* Findings come in document order; overlapping ones are covered by the first. */
	for (size_t i = 0; i < r.spans.n && !err; i++) {
		const struct rspan *x = &LG_VEC_AT(&r.spans, struct rspan, i);
		if (x->end <= at || x->start > len)
			continue;
		if (x->start > at)
			err = lg_vec_putn(&v, text + at, (size_t)x->start - at);
		if (!err)
			err = lg_vec_puts(&v, x->preview);
		at = x->end > len ? len : (size_t)x->end;
	}
	if (!err && at < len)
		err = lg_vec_putn(&v, text + at, len - at);
	if (found)
		*found = r.spans.n;
	lg_vec_release(&r.spans);
	if (err) {
		lg_vec_release(&v);
		return err;
	}
	*out = lg_vec_steal(&v);
	return LG_OK;
}
