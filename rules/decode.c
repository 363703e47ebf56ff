/*
 * Decoded views (decode.h). Three passes over the document find the
 * segments: runs of base64 (standard or URL-safe, wrapped over lines as
 * `base64` and MIME write them), runs of percent-encoding, and string
 * literals that hold escapes or are joined by concatenation. Each segment
 * is decoded by one function per encoding, which can also say which
 * source byte produced a given output byte: the view keeps only the
 * segment boundaries, and a finding (rare) is mapped back by decoding its
 * segment again.
 *
 * base64 is decoded here rather than with GnuTLS: the runs are cut out of
 * arbitrary text, URL-safe and unpadded forms and line wraps are all
 * common, and a finding needs the source offset of each output byte,
 * which no library call gives.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "decode.h"

/* Base64 runs shorter than this (without padding) are not decoded. */
#define B64_MIN 20
/* A base64 run continues on the next line only after a line at least this long (a wrapped block). */
#define B64_WRAP_MIN 40
/* Whitespace and an operator between two joined string literals, at most. */
#define JOIN_GAP_MAX 256
/* One string literal, at most (longer ones are not decoded). */
#define LITERAL_MAX (1u << 20)
/* A view holds at most this many segments. */
#define SEGS_MAX (1u << 22)

void lg_view_init(struct lg_view *v)
{
	lg_vec_init(&v->text, 1, (size_t)1 << 40);
	lg_vec_init(&v->segs, sizeof(struct lg_seg), SEGS_MAX);
}

void lg_view_release(struct lg_view *v)
{
	lg_vec_release(&v->text);
	lg_vec_release(&v->segs);
}

const char *lg_encoding_name(enum lg_encoding k)
{
	switch (k) {
	case LG_ENC_BASE64: return "base64";
	case LG_ENC_BASE64URL: return "base64url";
	case LG_ENC_PERCENT: return "percent-encoding";
	case LG_ENC_ESCAPES: return "escaped string";
	}
	return "encoded";
}

/* 0-63 for a base64 digit of either alphabet, -1 otherwise. */
static int b64val(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One output byte at source offset unit: stored when out is given, located when it is the wanted one. */
struct sink {
	char *out;
	size_t n;
	uint64_t want;
	size_t at;
	int found;
	size_t ctl; /* control bytes (not tab or newline) in the output so far */
	int check;  /* stop decoding as soon as the output cannot be text */
	int stop;
};

static void put(struct sink *k, unsigned char c, size_t unit)
{
	if (c < 0x20 ? c != '\t' && c != '\n' && c != '\r' : c == 0x7f) {
		k->ctl++;
		/* Text has almost none (is_text): garbage has one byte in five. */
		if (k->check && (c == 0 || (k->ctl > 2 && k->ctl * 50 > k->n)))
			k->stop = 1;
	}
	if (k->n == k->want && !k->found) {
		k->at = unit;
		k->found = 1;
	}
	if (k->out)
		k->out[k->n] = (char)c;
	k->n++;
}

static void base64_decode(const char *src, size_t n, int url, struct sink *k)
{
	unsigned acc = 0;
	int bits = 0;
	size_t unit = 0, digits = 0;

	for (size_t i = 0; i < n && !k->stop; i++) {
		int v = b64val((unsigned char)src[i], url);
		if (v < 0)
			continue; /* a line wrap, or padding */
		if (digits++ % 4 == 0)
			unit = i;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			put(k, (unsigned char)(acc >> bits), unit);
			acc &= (1u << bits) - 1;
		}
	}
}

static void percent_decode(const char *src, size_t n, struct sink *k)
{
	for (size_t i = 0; i < n; i++) {
		int h = i + 2 < n ? hexval((unsigned char)src[i + 1]) : -1;
		int l = h >= 0 ? hexval((unsigned char)src[i + 2]) : -1;
		if (src[i] == '%' && h >= 0 && l >= 0) {
			put(k, (unsigned char)(h << 4 | l), i);
			i += 2;
		} else {
			put(k, (unsigned char)src[i], i);
		}
	}
}

/* UTF-8 of code point c at source offset unit. */
static void put_utf8(struct sink *k, unsigned c, size_t unit)
{
	if (c >= 0xd800 && c <= 0xdfff)
		c = 0xfffd;
	if (c < 0x80) {
		put(k, (unsigned char)c, unit);
	} else if (c < 0x800) {
		put(k, (unsigned char)(0xc0 | c >> 6), unit);
		put(k, (unsigned char)(0x80 | (c & 0x3f)), unit);
	} else {
		put(k, (unsigned char)(0xe0 | c >> 12), unit);
		put(k, (unsigned char)(0x80 | ((c >> 6) & 0x3f)), unit);
		put(k, (unsigned char)(0x80 | (c & 0x3f)), unit);
	}
}

static int ident_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * The end of the string literal that opens at src[i] (its closing quote's
 * offset), or 0 when none closes on the same line. *esc says whether it
 * holds an escape.
 */
static size_t literal_end(const char *src, size_t n, size_t i, int *esc)
{
	char q = src[i];

	*esc = 0;
	for (size_t j = i + 1; j < n && j - i < LITERAL_MAX; j++) {
		if (src[j] == q)
			return j;
		if (src[j] == '\n')
			return 0;
		if (src[j] == '\\' && j + 1 < n) {
			*esc = 1;
			j++;
		}
	}
	return 0;
}

/*
 * Where the literal after a closing quote at src[close] goes on: the
 * opening quote of the next literal joined to it ("a" "b", "a" + "b",
 * 'a' . 'b', "a" & "b", "a" .. "b", "a" || "b", a line continuation), or 0.
 */
static size_t join_next(const char *src, size_t n, size_t close)
{
	size_t k = close + 1, lim = close + 1 + JOIN_GAP_MAX < n ? close + 1 + JOIN_GAP_MAX : n;
	int op = 0;

	for (; k < lim; k++) {
		char c = src[k];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (!op && (c == '+' || c == '&' || c == '\\')) {
			op = 1;
			continue;
		}
		if (!op && (c == '.' || c == '|')) {
			op = 1;
			if (k + 1 < lim && src[k + 1] == c)
				k++;
			continue;
		}
		break;
	}
	return k < lim && src[k] == src[close] ? k : 0;
}

/* A group of joined literals src[0, n): quotes, joints and escapes decoded. */
static void escapes_decode(const char *src, size_t n, struct sink *k)
{
	/* A segment that starts with r is a raw string (Python r"..."): it keeps its backslashes. */
	size_t i = n && (src[0] == 'r' || src[0] == 'R');

	while (i < n) {
		int raw = 0, esc;
		size_t end = literal_end(src, n, i, &esc), j;

		if (!end)
			end = n;
		raw = i > 0 && (src[i - 1] == 'r' || src[i - 1] == 'R') && (i < 2 || !ident_char((unsigned char)src[i - 2]));
		for (j = i + 1; j < end; j++) {
			unsigned char c = (unsigned char)src[j];
			size_t u = j;
			if (c != '\\' || raw || j + 1 >= end) {
				put(k, c, u);
				continue;
			}
			c = (unsigned char)src[++j];
			switch (c) {
			case 'n': put(k, '\n', u); break;
			case 'r': put(k, '\r', u); break;
			case 't': put(k, '\t', u); break;
			case 'b': put(k, '\b', u); break;
			case 'f': put(k, '\f', u); break;
			case '0': put(k, '\0', u); break;
			case '\n': break; /* a line continuation */
			case 'x':
				if (j + 2 < end && hexval((unsigned char)src[j + 1]) >= 0 && hexval((unsigned char)src[j + 2]) >= 0) {
					put(k, (unsigned char)(hexval((unsigned char)src[j + 1]) << 4 | hexval((unsigned char)src[j + 2])), u);
					j += 2;
				} else {
					put(k, c, u);
				}
				break;
			case 'u': {
				unsigned cp = 0;
				int ok = j + 4 < end;
				for (int d = 1; ok && d <= 4; d++)
					ok = hexval((unsigned char)src[j + d]) >= 0;
				if (!ok) {
					put(k, c, u);
					break;
				}
				for (int d = 1; d <= 4; d++)
					cp = cp << 4 | (unsigned)hexval((unsigned char)src[j + d]);
				put_utf8(k, cp, u);
				j += 4;
				break;
			}
			default: put(k, c, u); break; /* \" \' \\ \/ and the rest: the character itself */
			}
		}
		if (end >= n)
			break;
		i = join_next(src, n, end);
		if (!i)
			break;
	}
}

static void decode_seg(enum lg_encoding kind, const char *src, size_t n, struct sink *k)
{
	switch (kind) {
	case LG_ENC_BASE64: base64_decode(src, n, 0, k); break;
	case LG_ENC_BASE64URL: base64_decode(src, n, 1, k); break;
	case LG_ENC_PERCENT: percent_decode(src, n, k); break;
	case LG_ENC_ESCAPES: escapes_decode(src, n, k); break;
	}
}

/* Whether decoded bytes are text: no NUL, and almost no control bytes or broken UTF-8. */
static int is_text(const unsigned char *p, size_t n)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c == 0)
			return 0;
		if (c < 0x20 ? c != '\t' && c != '\n' && c != '\r' : c == 0x7f) {
			bad++;
		} else if (c >= 0x80) {
			size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			size_t m = 1;
			while (len && m < len && i + m < n && (p[i + m] & 0xc0) == 0x80)
				m++;
			if (!len || m < len)
				bad++;
			else
				i += len - 1;
		}
	}
	return bad * 50 <= n;
}

/*
 * Decode src[0, n) as kind into the view; kept when it decodes to at
 * least LG_DECODE_MIN bytes (and, with text set, to text).
 */
static int add_seg(struct lg_view *v, const char *data, size_t os, size_t oe, enum lg_encoding kind, int text)
{
	struct sink k = {NULL, 0, UINT64_MAX, 0, 0, 0, text, 0};
	size_t at = v->text.n;
	struct lg_seg seg;
	int err;

	decode_seg(kind, data + os, oe - os, &k);
	if (k.n < LG_DECODE_MIN || k.stop)
		return LG_OK;
	k.check = 0;
	if ((err = lg_vec_reserve(&v->text, k.n + 2)))
		return err;
	k.out = (char *)v->text.v + at;
	k.n = 0;
	decode_seg(kind, data + os, oe - os, &k);
	if (text && !is_text((const unsigned char *)k.out, k.n))
		return LG_OK;
	seg.vstart = at;
	seg.vend = at + k.n;
	seg.ostart = os;
	seg.oend = oe;
	seg.kind = kind;
	if ((err = lg_vec_push(&v->segs, &seg)))
		return err;
	k.out[k.n] = '\n';
	v->text.n = at + k.n + 1;
	((char *)v->text.v)[v->text.n] = '\0';
	return LG_OK;
}

/*
 * Byte classes for the passes, one table lookup per byte: base64 digits
 * (C_UPPER, C_LOWER, C_DIGIT: both alphabets; C_STD: '+' '/'; C_URL: '-'
 * '_'), and C_QUOTE for the string literal pass.
 */
enum { C_UPPER = 1, C_LOWER = 2, C_DIGIT = 4, C_STD = 8, C_URL = 16, C_QUOTE = 32 };
#define C_B64 (C_UPPER | C_LOWER | C_DIGIT | C_STD | C_URL)

static unsigned char cls[256];

static void cls_init(void)
{
	for (int c = 'A'; c <= 'Z'; c++)
		cls[c] = C_UPPER;
	for (int c = 'a'; c <= 'z'; c++)
		cls[c] = C_LOWER;
	for (int c = '0'; c <= '9'; c++)
		cls[c] = C_DIGIT;
	cls['+'] = cls['/'] = C_STD;
	cls['-'] = cls['_'] = C_URL;
	cls['"'] = cls['\''] = cls['`'] = C_QUOTE;
}

static int b64class(unsigned char c)
{
	return cls[c] & C_B64;
}

static int base64_pass(struct lg_view *v, const char *d, size_t n)
{
	size_t i = 0;
	int err;

	/*
	 * Runs shorter than B64_MIN are skipped without reading most of their
	 * bytes: a run of B64_MIN that starts in [i, i + B64_MIN) holds byte
	 * i + B64_MIN - 1, so when that byte is not a digit none does. Source
	 * text is mostly short words; this reads about one byte in three.
	 */
	while (i + B64_MIN <= n) {
		size_t start, end, digits = 0, line = 0, probe = i + B64_MIN - 1;
		unsigned seen = 0;

		if (!(cls[(unsigned char)d[probe]] & C_B64)) {
			i = probe + 1;
			continue;
		}
		start = probe;
		while (start > i && (cls[(unsigned char)d[start - 1]] & C_B64))
			start--;
		end = probe + 1;
		while (end < n && end - start < B64_MIN && (cls[(unsigned char)d[end]] & C_B64))
			end++;
		if (end - start < B64_MIN) {
			i = end;
			continue;
		}
		i = start;
		for (;;) {
			unsigned c = i < n ? cls[(unsigned char)d[i]] & C_B64 : 0;
			if (c) {
				seen |= c;
				digits++;
				line++;
				i++;
				continue;
			}
			/* A wrapped block goes on after a newline and the next line's indentation. */
			if (i < n && line >= B64_WRAP_MIN && line % 4 == 0 && (d[i] == '\n' || d[i] == '\r')) {
				size_t k = i + (d[i] == '\r');
				if (k < n && d[k] == '\n') {
					k++;
					while (k < n && (d[k] == ' ' || d[k] == '\t'))
						k++;
					if (k < n && b64class((unsigned char)d[k])) {
						i = k;
						line = 0;
						continue;
					}
				}
			}
			break;
		}
		end = i;
		while (end < n && end - i < 2 && d[end] == '=')
			end++;
		i = end;
		/*
		 * Encoded data has capitals and small letters both (a run of 20
		 * without one of them is a chance of about 1 in 30,000); names such
		 * as snake_case identifiers and paths have not, and are not decoded.
		 */
		if (digits < B64_MIN || digits % 4 == 1 || (seen & (C_STD | C_URL)) == (C_STD | C_URL) ||
		    (seen & (C_UPPER | C_LOWER)) != (C_UPPER | C_LOWER))
			continue;
		if ((err = add_seg(v, d, start, end, seen & C_URL ? LG_ENC_BASE64URL : LG_ENC_BASE64, 1)))
			return err;
	}
	return LG_OK;
}

/* Characters a percent-encoded run is made of: no space, quote, bracket or backslash. */
static int pct_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"'`<>\\", c);
}

static int percent_pass(struct lg_view *v, const char *d, size_t n)
{
	size_t i = 0;
	int err;

	while (i + 2 < n) {
		const char *p = memchr(d + i, '%', n - i - 2);
		size_t at, start, end, escapes = 0;

		if (!p)
			break;
		at = (size_t)(p - d);
		if (hexval((unsigned char)d[at + 1]) < 0 || hexval((unsigned char)d[at + 2]) < 0) {
			i = at + 1;
			continue;
		}
		start = at;
		while (start > i && pct_char((unsigned char)d[start - 1]))
			start--;
		end = at;
		while (end < n && pct_char((unsigned char)d[end])) {
			if (d[end] == '%' && end + 2 < n && hexval((unsigned char)d[end + 1]) >= 0 &&
			    hexval((unsigned char)d[end + 2]) >= 0) {
				escapes++;
				end += 3;
			} else {
				end++;
			}
		}
		i = end > at ? end : at + 1;
		if (escapes >= 2 && (err = add_seg(v, d, start, end, LG_ENC_PERCENT, 1)))
			return err;
	}
	return LG_OK;
}

/* The next quote character at or after i (or n), eight bytes at a time. */
static size_t next_quote(const char *d, size_t i, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	const uint64_t q1 = ones * '"', q2 = ones * '\'', q3 = ones * '`';

	while (i + 8 <= n) {
		uint64_t x, a, b, c;
		memcpy(&x, d + i, 8);
		a = x ^ q1;
		b = x ^ q2;
		c = x ^ q3;
		/* A zero byte in a, b or c is a quote in x. */
		if ((((a - ones) & ~a) | ((b - ones) & ~b) | ((c - ones) & ~c)) & highs)
			break;
		i += 8;
	}
	while (i < n && !(cls[(unsigned char)d[i]] & C_QUOTE))
		i++;
	return i;
}

static int escapes_pass(struct lg_view *v, const char *d, size_t n)
{
	size_t i = 0;
	int err;

	while (i < n) {
		size_t close, next, first = i, nlit = 1;
		int esc, any;

		if ((i = next_quote(d, i, n)) == n)
			break;
		first = i;
		if (!(close = literal_end(d, n, i, &esc))) {
			i++;
			continue;
		}
		any = esc;
		for (;;) {
			size_t c2;
			if (!(next = join_next(d, n, close)) || !(c2 = literal_end(d, n, next, &esc)))
				break;
			close = c2;
			any |= esc;
			nlit++;
		}
		i = close + 1;
		if (first > 0 && (d[first - 1] == 'r' || d[first - 1] == 'R') &&
		    (first < 2 || !ident_char((unsigned char)d[first - 2])))
			first--;
		if ((any || nlit > 1) && (err = add_seg(v, d, first, close + 1, LG_ENC_ESCAPES, 0)))
			return err;
	}
	return LG_OK;
}

int lg_view_build(struct lg_view *v, const char *data, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int err;

	pthread_once(&once, cls_init);
	v->text.n = 0;
	v->segs.n = 0;
	if ((err = base64_pass(v, data, len)) || (err = percent_pass(v, data, len)) ||
	    (err = escapes_pass(v, data, len)))
		return err;
	return LG_OK;
}

uint64_t lg_view_map(const struct lg_view *v, const char *data, uint64_t voff, const struct lg_seg **seg)
{
	const struct lg_seg *s = v->segs.v;
	size_t lo = 0, hi = v->segs.n;
	struct sink k = {NULL, 0, 0, 0, 0, 0, 0, 0};

	if (seg)
		*seg = NULL;
	if (!hi)
		return 0;
	/* The last segment that starts at or before voff. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s[mid].vstart <= voff)
			lo = mid;
		else
			hi = mid;
	}
	s += lo;
	if (seg)
		*seg = s;
	if (voff >= s->vend)
		return s->oend;
	k.want = voff - s->vstart;
	decode_seg(s->kind, data + s->ostart, (size_t)(s->oend - s->ostart), &k);
	return k.found ? s->ostart + k.at : s->ostart;
}
