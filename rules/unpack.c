/*
 * Scanning a document with its archive members and decoded views
 * (unpack.h).
 *
 * One document is scanned in this order: UTF-16 text as its UTF-8; an
 * archive's members, each as a document of its own (recursively, up to
 * the depth), then the archive's own bytes for high-confidence tokens
 * (path rules on its name, and anything its members did not show: the
 * findings of members settle those of the same secret); anything else as
 * bytes, and, when it is text, its decoded view, and the view's view. A
 * view finding is dropped when a finding of the bytes already covers the
 * same source bytes (the encoded secret was found as it is), unless that
 * one is generic and the view's is specific.
 *
 * Members are read whole into memory, each at most member_max bytes, and
 * at most archive_max bytes over an archive, so memory stays bounded by
 * depth times member_max.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "ruleset-internal.h"
#include "unpack.h"
#include "utf16.h"
#include "vec.h"

/* Decoded views of views, at most. */
#define VIEW_DEPTH 2
/* The member chain's length, at most (longer names are cut). */
#define CHAIN_MAX 4096
/* Findings of one document's bytes held to settle its view's findings. */
#define SPANS_MAX (1u << 20)

void lg_unpack_defaults(struct lg_unpack_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->archive_depth = LG_ARCHIVE_DEPTH_DEFAULT;
	o->archive_max = LG_ARCHIVE_MAX_DEFAULT;
	o->archive_members = LG_ARCHIVE_MEMBERS_DEFAULT;
	o->member_max = LG_MEMBER_MAX_DEFAULT;
	o->decode = 1;
}

int lg_looks_archive(const void *data, size_t len)
{
	const unsigned char *p = data;

	if (len >= 4 && p[0] == 'P' && p[1] == 'K' && ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6)))
		return 1; /* zip (jar, war, whl, apk, nupkg, docx ...) */
	if (len >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8)
		return 2; /* gzip */
	if (len >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9')
		return 2; /* bzip2 */
	if (len >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return 2; /* xz */
	if (len >= 6 && !memcmp(p, "7z\xbc\xaf\x27\x1c", 6))
		return 1; /* 7z */
	if (len >= 262 && !memcmp(p + 257, "ustar", 5))
		return 1; /* tar (POSIX or GNU) */
	return 0;
}

const char *lg_unpack_notes_name(unsigned notes, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{LG_NOTE_DAMAGED, "archive damaged"},
		{LG_NOTE_ENCRYPTED, "encrypted members"},
		{LG_NOTE_DEEP, "archive nested too deep"},
		{LG_NOTE_MEMBER_LARGE, "member too large"},
	};
	size_t o = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((notes & names[i].bit) && o < len) {
			int n = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", names[i].name);
			o += n > 0 ? (size_t)n : 0;
		}
	return buf;
}

struct span {
	uint64_t start, end;
	int generic;
};

/* The scan of one top-level document. */
struct deep {
	struct lg_scanner *s;
	const struct lg_unpack_opts *o;
	struct lg_unpack_result *res;
	lg_finding_cb cb;
	void *ctx;
	const char *top; /* the document's first name, for every finding */
	char chain[CHAIN_MAX]; /* the member chain of the part under scan, "" at the top */
	uint64_t inflated, members;
	int err;                /* the first failure of ours (not the scanner's) */
	int stopped;            /* the callback asked for no more findings */
	int named;              /* the scanner's reason names the member already */
	char errmsg[320];
	struct lg_vec fps;      /* char[LG_FP_HEX + 1]: what the members of archives found */
};

/* One document (the top one or a member) and its views while they are scanned. */
struct part {
	struct deep *d;
	const char *data;
	size_t len;
	int nviews;                       /* views over data: views[0] of data, views[1] of views[0] */
	struct lg_view *views[VIEW_DEPTH];
	struct lg_vec spans;              /* struct span: findings of the bytes, in order */
	int filter_fps;                   /* an archive's own bytes: settle by the members' fingerprints */
	/* A cursor for line numbers in data, findings come roughly in order. */
	uint64_t cur, cur_line, cur_line_start;
};

static void note(struct deep *d, unsigned bit, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(struct deep *d, unsigned bit, const char *fmt, ...)
{
	va_list ap;

	if (!d->res->notes) {
		va_start(ap, fmt);
		vsnprintf(d->res->note, sizeof(d->res->note), fmt, ap);
		va_end(ap);
	}
	d->res->notes |= bit;
}

static void fail(struct deep *d, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct deep *d, int code, const char *fmt, ...)
{
	va_list ap;

	if (d->err)
		return;
	d->err = code;
	va_start(ap, fmt);
	vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
	va_end(ap);
}

/* Line, byte column and character column (from 1) of offset pos in the part's data. */
static void locate(struct part *p, uint64_t pos, uint64_t *line, uint64_t *col, uint64_t *chars)
{
	const char *q, *e, *nl;
	uint64_t n = 1;

	if (pos > p->len)
		pos = p->len;
	if (pos < p->cur) {
		p->cur = 0;
		p->cur_line = 1;
		p->cur_line_start = 0;
	}
	q = p->data + p->cur;
	e = p->data + pos;
	while (q < e && (nl = memchr(q, '\n', (size_t)(e - q)))) {
		p->cur_line++;
		p->cur_line_start = (uint64_t)(nl + 1 - p->data);
		q = nl + 1;
	}
	p->cur = pos;
	*line = p->cur_line;
	*col = pos - p->cur_line_start + 1;
	for (const unsigned char *c = (const unsigned char *)p->data + p->cur_line_start; c < (const unsigned char *)e; c++)
		n += (*c & 0xc0) != 0x80;
	*chars = n;
}

static int deliver(struct part *p, struct lg_finding *g)
{
	int rc;

	if (p->d->stopped || !p->d->cb)
		return p->d->stopped;
	g->path = p->d->top;
	g->member = p->d->chain[0] ? p->d->chain : NULL;
	rc = p->d->cb(g, p->d->ctx);
	if (rc > 0)
		p->d->stopped = 1;
	return rc;
}

/* The part under scan, for notes: its member chain, or the document's name. */
static const char *where(const struct deep *d)
{
	return d->chain[0] ? d->chain : d->top ? d->top : "(input)";
}

static int seen_fp(const struct deep *d, const char *fp)
{
	for (size_t i = 0; i < d->fps.n; i++)
		if (!strcmp((const char *)d->fps.v + i * (LG_FP_HEX + 1), fp))
			return 1;
	return 0;
}

/* A finding of the part's own bytes. */
static int on_bytes(const struct lg_finding *f, void *ctx)
{
	struct part *p = ctx;
	struct lg_finding g = *f;
	struct span sp = {f->start, f->end, f->rule->generic};
	int err;

	if (p->filter_fps && seen_fp(p->d, f->fingerprint))
		return 0;
	/* A full list only costs the view's findings their settling, never a finding. */
	if (f->line && p->d->o->decode)
		(void)lg_vec_push(&p->spans, &sp);
	if (p->d->chain[0] && f->line) {
		char *fp = NULL;
		if (!lg_vec_grow(&p->d->fps, 1, (void **)&fp))
			memcpy(fp, f->fingerprint, LG_FP_HEX + 1);
	}
	err = deliver(p, &g);
	return err;
}

/* Whether a finding of the bytes covers source bytes [s, e) so that a view finding there is not needed. */
static int covered(const struct part *p, uint64_t s, uint64_t e, int generic)
{
	const struct span *v = p->spans.v;
	size_t lo = 0, hi = p->spans.n;

	/* Spans are in order of start, and each is at most LG_MATCH_MAX long. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].start + LG_MATCH_MAX < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < p->spans.n && v[i].start < e; i++)
		if (v[i].end > s && (!v[i].generic || generic))
			return 1;
	return 0;
}

struct view_ctx {
	struct part *p;
	int level; /* 1: views[0]; 2: views[1] */
};

/* A finding of a view: mapped down to the part's bytes. */
static int on_view(const struct lg_finding *f, void *ctx)
{
	struct view_ctx *c = ctx;
	struct part *p = c->p;
	struct lg_finding g = *f;
	const struct lg_seg *seg[VIEW_DEPTH] = {NULL, NULL};
	uint64_t s = f->start, e = f->end - 1, line, col, chars;
	char layer[96];

	if (!f->line)
		return 0; /* path rules: the bytes' scan reported them */
	for (int l = c->level - 1; l >= 0; l--) {
		const char *under = l ? (const char *)p->views[l - 1]->text.v : p->data;
		s = lg_view_map(p->views[l], under, s, &seg[l]);
		e = lg_view_map(p->views[l], under, e, NULL);
	}
	e++;
	if (e < s + 1)
		e = s + 1;
	if (covered(p, s, e, f->rule->generic))
		return 0;
	if (c->level == 1)
		snprintf(layer, sizeof(layer), "%s", seg[0] ? lg_encoding_name(seg[0]->kind) : "encoded");
	else
		snprintf(layer, sizeof(layer), "%s > %s", seg[0] ? lg_encoding_name(seg[0]->kind) : "encoded",
			 seg[1] ? lg_encoding_name(seg[1]->kind) : "encoded");
	g.start = s;
	g.end = e;
	locate(p, s, &line, &col, &chars);
	g.line = line;
	g.column = col;
	g.column_chars = chars;
	locate(p, e - 1, &line, &col, &chars);
	g.end_line = line;
	g.end_column = col;
	g.end_column_chars = chars;
	g.layer = layer;
	return deliver(p, &g);
}

static int scan_part(struct deep *d, const char *const *names, size_t nnames, const char *data, size_t len,
		     unsigned depth);

/* The chain for a member: the parent's chain, '!', the member's name. */
static size_t chain_push(struct deep *d, const char *outer, const char *name)
{
	size_t was = strlen(d->chain);

	/* The top document's members: "member"; deeper: "a.jar!member". */
	if (was)
		snprintf(d->chain + was, sizeof(d->chain) - was, "!%s", name);
	else
		snprintf(d->chain, sizeof(d->chain), "%s", name);
	(void)outer;
	return was;
}

/*
 * The members of an archive. 1: opened (its members were scanned, as far
 * as it could be read); 0: not an archive after all (nothing was read); a
 * negative code: a failure.
 */
static int scan_archive(struct deep *d, const char *name, const char *data, size_t len, unsigned depth)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *buf = NULL;
	size_t cap = 0;
	int kind = lg_looks_archive(data, len), r, opened = 0, err = 0;
	const char *base = strrchr(name ? name : "", '/');

	base = base ? base + 1 : name ? name : "data";
	if (!a)
		return LG_ENOMEM;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_7zip(a);
	/* A compressed stream that holds no archive is one member: its content. */
	if (kind == 2)
		archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, (void *)data, len) != ARCHIVE_OK) {
		note(d, LG_NOTE_DAMAGED, "%s: not readable as an archive (%s), scanned as a file", where(d),
		     archive_error_string(a) ? archive_error_string(a) : "unknown format");
		archive_read_free(a);
		return 0;
	}
	for (;;) {
		const char *mname;
		char raw_name[256];
		size_t got = 0, was;
		la_int64_t size;
		int large = 0;

		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			note(d, LG_NOTE_DAMAGED, opened ? "%s: damaged archive (%s); the members after that were not read"
							: "%s: not readable as an archive (%s), scanned as a file",
			     where(d), archive_error_string(a) ? archive_error_string(a) : "unreadable");
			break;
		}
		opened = 1;
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		mname = archive_entry_pathname(e);
		if (!mname || !*mname || !strcmp(archive_format_name(a) ? archive_format_name(a) : "", "raw")) {
			/* The content of x.gz is x. */
			size_t bl = strlen(base);
			const char *dot = strrchr(base, '.');
			snprintf(raw_name, sizeof(raw_name), "%.*s", (int)(dot && dot != base ? (size_t)(dot - base) : bl), base);
			mname = raw_name;
		}
		if (++d->members > d->o->archive_members) {
			fail(d, LG_ELIMIT, "%s has more than %llu members (leakgate.maxArchiveMembers, --max-archive-members): not checked whole",
			     d->top ? d->top : base, (unsigned long long)d->o->archive_members);
			err = LG_ELIMIT;
			break;
		}
		if (archive_entry_is_encrypted(e)) {
			note(d, LG_NOTE_ENCRYPTED, "%s!%s: encrypted, cannot be read", where(d), mname);
			continue;
		}
		size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
		if (size >= 0 && (uint64_t)size > d->o->member_max)
			large = 1;
		while (!large) {
			la_ssize_t n;
			if (got == cap) {
				size_t want = cap ? cap * 2 : 65536;
				char *nb;
				if (want > d->o->member_max + 1)
					want = (size_t)d->o->member_max + 1;
				if (want <= cap) {
					large = 1;
					break;
				}
				if (!(nb = realloc(buf, want))) {
					fail(d, LG_ENOMEM, "out of memory reading %s!%s", base, mname);
					err = LG_ENOMEM;
					break;
				}
				buf = nb;
				cap = want;
			}
			n = archive_read_data(a, buf + got, cap - got);
			if (n == 0)
				break;
			if (n < 0) {
				note(d, LG_NOTE_DAMAGED, "%s!%s: damaged archive (%s); read as far as it goes", where(d), mname,
				     archive_error_string(a) ? archive_error_string(a) : "unreadable");
				r = ARCHIVE_FATAL;
				break;
			}
			got += (size_t)n;
			d->inflated += (uint64_t)n;
			if (d->inflated > d->o->archive_max) {
				fail(d, LG_ELIMIT, "%s inflates to more than %llu bytes (leakgate.maxArchiveSize, --max-archive-size): a possible "
				     "zip bomb, not checked whole", d->top ? d->top : base,
				     (unsigned long long)d->o->archive_max);
				err = LG_ELIMIT;
				break;
			}
		}
		if (err)
			break;
		if (large) {
			note(d, LG_NOTE_MEMBER_LARGE, "%s!%s: over %llu bytes, not scanned", where(d), mname,
			     (unsigned long long)d->o->member_max);
			continue;
		}
		d->res->members++;
		was = chain_push(d, name, mname);
		{
			const char *names[1];
			names[0] = d->chain + (was ? was + 1 : 0);
			/* The member's own name, for path rules; the chain names it in findings. */
			err = scan_part(d, names, 1, buf ? buf : "", got, depth + 1);
			if (err && !d->err && !d->named) {
				/* Name the member in the scanner's reason, once (at the innermost member). */
				char why[320];
				snprintf(why, sizeof(why), "%s", lg_scanner_error(d->s));
				lg_scanner_set_error(d->s, err, "in %s: %s", d->chain, why);
				d->named = 1;
			}
		}
		d->chain[was] = '\0';
		if (err || d->stopped || r == ARCHIVE_FATAL)
			break;
	}
	free(buf);
	archive_read_free(a);
	if (err)
		return err;
	return opened;
}

static int scan_views(struct part *p, const char *const *names, size_t nnames)
{
	struct deep *d = p->d;
	struct lg_view v[VIEW_DEPTH];
	int err = LG_OK;

	for (int l = 0; l < VIEW_DEPTH; l++)
		lg_view_init(&v[l]);
	for (int l = 0; l < VIEW_DEPTH && !err && !d->stopped; l++) {
		const char *under = l ? (const char *)v[l - 1].text.v : p->data;
		size_t ulen = l ? v[l - 1].text.n : p->len;
		struct view_ctx c = {p, l + 1};

		if ((err = lg_view_build(&v[l], under, ulen))) {
			lg_scanner_set_error(d->s, err, "out of memory decoding the file");
			break;
		}
		if (!v[l].segs.n)
			break;
		p->views[l] = &v[l];
		p->nviews = l + 1;
		d->res->decoded += v[l].text.n;
		err = lg_scan_buffer_paths(d->s, names, nnames, v[l].text.v, v[l].text.n, on_view, &c);
	}
	for (int l = 0; l < VIEW_DEPTH; l++)
		lg_view_release(&v[l]);
	p->nviews = 0;
	return err;
}

static int scan_part(struct deep *d, const char *const *names, size_t nnames, const char *data, size_t len,
		     unsigned depth)
{
	struct part p;
	enum lg_utf16_kind u16 = lg_utf16_detect(data, len);
	int err, binary, arch;

	memset(&p, 0, sizeof(p));
	p.d = d;
	p.data = data;
	p.len = len;
	p.cur_line = 1;
	lg_vec_init(&p.spans, sizeof(struct span), SPANS_MAX);
	lg_scanner_set_min_confidence(d->s, LG_CONF_LOW);
	if (u16) {
		err = lg_scan_utf16(d->s, u16, names, nnames, data, len, on_bytes, &p);
		goto out;
	}
	arch = d->o->archive_depth ? lg_looks_archive(data, len) : 0;
	if (arch && depth >= d->o->archive_depth) {
		note(d, LG_NOTE_DEEP, "%s: an archive nested deeper than %u, scanned as a file", where(d),
		     d->o->archive_depth);
		arch = 0;
	}
	if (arch) {
		size_t fps_before = d->fps.n;
		int r = scan_archive(d, nnames ? names[0] : NULL, data, len, depth);
		if (r < 0) {
			/* A scanner failure inside a member keeps the scanner's message; ours replaces it. */
			if (d->err)
				lg_scanner_set_error(d->s, d->err, "%s", d->errmsg);
			err = r;
			goto out;
		}
		if (r > 0) {
			if (!depth)
				d->res->archive = 1;
			/* Its own bytes: path rules on its name, tokens stored uncompressed but not seen in members. */
			p.filter_fps = 1;
			lg_scanner_set_min_confidence(d->s, LG_CONF_HIGH);
			err = lg_scan_buffer_paths(d->s, names, nnames, data, len, on_bytes, &p);
			d->fps.n = depth ? d->fps.n : fps_before;
			goto out;
		}
		/* Not an archive after all: a file like any other. */
	}
	binary = !d->o->scan_binary && lg_looks_binary(data, len);
	if (binary && !depth)
		d->res->binary = 1;
	lg_scanner_set_min_confidence(d->s, binary ? LG_CONF_HIGH : LG_CONF_LOW);
	err = lg_scan_buffer_paths(d->s, names, nnames, data, len, on_bytes, &p);
	if (!err && !binary && d->o->decode && !d->stopped)
		err = scan_views(&p, names, nnames);
out:
	lg_scanner_set_min_confidence(d->s, LG_CONF_LOW);
	lg_vec_release(&p.spans);
	return err;
}

int lg_scan_deep(struct lg_scanner *s, const struct lg_unpack_opts *o, const char *const *paths, size_t npaths,
		 const void *data, size_t len, lg_finding_cb cb, void *ctx, struct lg_unpack_result *res)
{
	struct deep d;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&d, 0, sizeof(d));
	d.s = s;
	d.o = o;
	d.res = res;
	d.cb = cb;
	d.ctx = ctx;
	d.top = npaths ? paths[0] : NULL;
	lg_vec_init(&d.fps, LG_FP_HEX + 1, SPANS_MAX);
	err = scan_part(&d, paths, npaths, data ? data : "", len, 0);
	res->inflated = d.inflated;
	lg_vec_release(&d.fps);
	return err;
}
