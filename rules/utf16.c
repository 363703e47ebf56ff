/*
 * UTF-16 text scanned as UTF-8 (see utf16.h). The conversion is glibc's
 * iconv; this file only feeds it blocks and the scanner its output.
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "utf16.h"

#define IN_MAX (64u << 10)
#define OUT_MAX (128u << 10) /* a 2-byte code unit is at most 3 bytes of UTF-8 */

struct lg_utf16 {
	iconv_t cd;
	size_t bom_left;  /* bytes of the byte-order mark still to skip */
	size_t npend;     /* bytes of an unfinished code unit or pair kept from the last block */
	char in[IN_MAX];
	char out[OUT_MAX];
};

enum lg_utf16_kind lg_utf16_detect(const void *data, size_t len)
{
	const unsigned char *p = data;

	if (len < 2)
		return LG_NOT_UTF16;
	if (p[0] == 0xff && p[1] == 0xfe)
		/* FF FE 00 00 is UTF-32LE's mark (or an empty first character): not ours. */
		return len >= 4 && p[2] == 0 && p[3] == 0 ? LG_NOT_UTF16 : LG_UTF16LE;
	if (p[0] == 0xfe && p[1] == 0xff)
		return LG_UTF16BE;
	return LG_NOT_UTF16;
}

struct lg_utf16 *lg_utf16_new(enum lg_utf16_kind kind)
{
	struct lg_utf16 *u;

	if (kind != LG_UTF16LE && kind != LG_UTF16BE)
		return NULL;
	u = malloc(sizeof(*u));
	if (!u)
		return NULL;
	u->cd = iconv_open("UTF-8", kind == LG_UTF16LE ? "UTF-16LE" : "UTF-16BE");
	if (u->cd == (iconv_t)-1) {
		free(u);
		return NULL;
	}
	u->bom_left = 2;
	u->npend = 0;
	return u;
}

void lg_utf16_free(struct lg_utf16 *u)
{
	if (!u)
		return;
	iconv_close(u->cd);
	free(u);
}

int lg_utf16_feed(struct lg_utf16 *u, struct lg_scanner *s, const void *data, size_t len)
{
	const char *p = data;
	int err;

	while (u->bom_left && len) {
		p++;
		len--;
		u->bom_left--;
	}
	while (len) {
		size_t take = len < IN_MAX - u->npend ? len : IN_MAX - u->npend;
		size_t inleft;
		char *ip = u->in;

		memcpy(u->in + u->npend, p, take);
		p += take;
		len -= take;
		inleft = u->npend + take;
		while (inleft) {
			char *op = u->out;
			size_t outleft = OUT_MAX, r = iconv(u->cd, &ip, &inleft, &op, &outleft);
			int e = errno;

			if (op > u->out && (err = lg_scan_feed(s, u->out, (size_t)(op - u->out))))
				return err;
			if (r != (size_t)-1 || e == EINVAL)
				break; /* all converted, or an unfinished unit kept for the next block */
			if (e == E2BIG)
				continue;
			/* An invalid unit (a lone surrogate): U+FFFD in its place. */
			if (inleft < 2)
				break;
			ip += 2;
			inleft -= 2;
			if ((err = lg_scan_feed(s, "\xef\xbf\xbd", 3)))
				return err;
		}
		memmove(u->in, ip, inleft);
		u->npend = inleft;
	}
	return 0;
}

int lg_scan_utf16(struct lg_scanner *s, enum lg_utf16_kind kind, const char *const *paths,
		  size_t npaths, const void *data, size_t len, lg_finding_cb cb, void *ctx)
{
	struct lg_utf16 *u = lg_utf16_new(kind);
	int err, err2;

	if (!u)
		return LG_ENOMEM;
	if ((err = lg_scan_begin_paths(s, paths, npaths, cb, ctx))) {
		lg_utf16_free(u);
		return err;
	}
	err = lg_utf16_feed(u, s, data, len);
	err2 = lg_scan_end(s);
	lg_utf16_free(u);
	return err ? err : err2;
}
