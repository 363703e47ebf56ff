/*
 * The scanner: Hyperscan gate, PCRE2 confirmation, filters, findings.
 *
 * Hyperscan reports (rule, end offset) without the start. For each report
 * not already covered by an earlier match of the same rule, PCRE2 searches
 * a window that begins LG_MATCH_MAX bytes before the reported end: any
 * match ending there starts inside the window, so PCRE2 finds it (or an
 * earlier one, which is then handled first) after at most that many bytes.
 * PCRE2 therefore only ever looks at the neighbourhood of real matches.
 *
 * Streams are cut into passes of LG_CHUNK bytes that overlap by
 * 2 * LG_OVERLAP. A pass reports the secrets that start inside its own
 * part; one that starts in the last LG_OVERLAP bytes is left to the next
 * pass, which holds its whole match (a match is at most 2 * LG_MATCH_MAX =
 * LG_OVERLAP bytes long, see confirm) and LG_MATCH_MAX bytes of context
 * before its window. Deciding by the secret, not by the match, keeps the
 * findings in document order across passes as well as within one.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "ruleset-internal.h"
#include "scanner.h"
#include "vec.h"

#define LG_CHUNK (1u << 20)
#define LG_OVERLAP (2 * LG_MATCH_MAX)
#define LG_JIT_STACK_MAX (1u << 20)
/*
 * Findings held at once while a pass settles them. A pass covers about one
 * LG_CHUNK, and a confirmed finding takes at least a few bytes, so this is
 * never reached by real content; if it were, the scan fails (LG_ETOOLARGE)
 * instead of dropping what it found.
 */
#define LG_PENDING_MAX (4u << 20)
#define LG_PATHS_MAX 4096

struct span {
	uint64_t start, end;
	const struct lg_rule *rule;
};

struct lg_scanner {
	struct lg_ruleset *rs;
	struct lg_key key;
	hs_scratch_t *scratch;
	int spare; /* scratch is the rule set's spare (lg_ruleset_prepare_scratch) */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	signed char *code_state; /* per rule: 0 unknown, 1 ready, -1 unusable */
	unsigned char *path_ok;  /* per rule: one of the document's paths matched */
	unsigned char *path_tmp; /* per rule: scratch for lg_scanner_applies */
	uint64_t *done_until;    /* per rule: reports ending here or before are covered */

	/* The document under scan. */
	char **paths;
	size_t npaths;
	lg_finding_cb cb;
	void *ctx;
	int active, stop, err;
	int cb_stop; /* the callback asked to stop: deliver nothing more */
	char errmsg[320];
	int no_dedupe;
	int min_conf; /* enum lg_confidence: content rules below it are not confirmed */
	volatile int *cancel;
	int64_t deadline_ms; /* CLOCK_MONOTONIC; 0: none */
	unsigned ticks;
	char *buf;
	size_t len;
	uint64_t base;            /* document offset of buf[0] (or of the pass) */
	uint64_t own;             /* matches starting before this are reported */
	uint64_t base_line;       /* line number at the pass's first byte */
	uint64_t base_line_start; /* document offset where that line begins */
	struct lg_vec spans;      /* struct span: reported, for passes still to come */
	struct lg_vec pending;    /* struct lg_finding: this pass's, not yet reported */
	struct lg_vec tail;       /* struct span: specific secrets this pass leaves to the next */

	/* The current pass, and the layer whose database reports now (ids are local to it). */
	size_t layer_first;
	const char *data;
	size_t dlen;
	int final;
	uint64_t cur_pos, cur_line, cur_line_start;
};

int lg_looks_binary(const void *data, size_t len)
{
	return memchr(data, 0, len < 8000 ? len : 8000) != NULL;
}

static size_t nrules(const struct lg_scanner *s)
{
	return lg_ruleset_count(s->rs) ? lg_ruleset_count(s->rs) : 1;
}

int lg_scanner_new(struct lg_scanner **out, struct lg_ruleset *rs, const struct lg_key *key)
{
	struct lg_scanner *s = NULL;
	size_t n = lg_ruleset_count(rs) ? lg_ruleset_count(rs) : 1;
	int err = LG_ENOMEM;

	*out = NULL;
	if (!rs->compiled)
		return LG_EINVALID;
	s = calloc(1, sizeof(*s));
	if (!s)
		return LG_ENOMEM;
	s->rs = rs;
	s->key = *key;
	lg_vec_init(&s->spans, sizeof(struct span), LG_PENDING_MAX);
	lg_vec_init(&s->pending, sizeof(struct lg_finding), LG_PENDING_MAX);
	lg_vec_init(&s->tail, sizeof(struct span), LG_PENDING_MAX);
	s->code_state = calloc(n, 1);
	s->path_ok = calloc(n, 1);
	s->path_tmp = calloc(n, 1);
	s->done_until = calloc(n, sizeof(*s->done_until));
	s->buf = malloc(LG_CHUNK + 2 * LG_OVERLAP);
	s->md = pcre2_match_data_create(LG_SECRET_GROUP_MAX + 1, NULL);
	s->mctx = pcre2_match_context_create(NULL);
	s->jit = pcre2_jit_stack_create(32 * 1024, LG_JIT_STACK_MAX, NULL);
	if (!s->code_state || !s->path_ok || !s->path_tmp || !s->done_until || !s->buf || !s->md ||
	    !s->mctx || !s->jit)
		goto fail;
	pcre2_set_match_limit(s->mctx, LG_PCRE2_MATCH_LIMIT);
	pcre2_jit_stack_assign(s->mctx, NULL, s->jit);
	err = LG_ERROR;
	if (rs->spare && !__atomic_exchange_n(&rs->spare_taken, 1, __ATOMIC_ACQ_REL)) {
		s->scratch = rs->spare;
		s->spare = 1;
		*out = s;
		return LG_OK;
	}
	for (size_t k = 0; k < rs->nlayers; k++) {
		const struct lg_layer *l = &rs->layers[k];
		if (l->content_db && hs_alloc_scratch(l->content_db, &s->scratch) != HS_SUCCESS)
			goto fail;
		if (l->path_db && hs_alloc_scratch(l->path_db, &s->scratch) != HS_SUCCESS)
			goto fail;
	}
	*out = s;
	return LG_OK;
fail:
	lg_scanner_free(s);
	return err;
}

static void free_paths(struct lg_scanner *s)
{
	for (size_t i = 0; i < s->npaths; i++)
		free(s->paths[i]);
	free(s->paths);
	s->paths = NULL;
	s->npaths = 0;
}

void lg_scanner_free(struct lg_scanner *s)
{
	if (!s)
		return;
	/* Only a scanner that took the spare looks at its rule set here: others may outlive it. */
	if (s->spare)
		__atomic_store_n(&s->rs->spare_taken, 0, __ATOMIC_RELEASE);
	else
		hs_free_scratch(s->scratch);
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	pcre2_jit_stack_free(s->jit);
	free(s->code_state);
	free(s->path_ok);
	free(s->path_tmp);
	free(s->done_until);
	free(s->buf);
	free_paths(s);
	lg_vec_release(&s->spans);
	lg_vec_release(&s->pending);
	lg_vec_release(&s->tail);
	free(s);
}

void lg_scanner_set_match_limit(struct lg_scanner *s, uint32_t limit)
{
	pcre2_set_match_limit(s->mctx, limit ? limit : LG_PCRE2_MATCH_LIMIT);
}

void lg_scanner_set_cancel(struct lg_scanner *s, volatile int *flag)
{
	s->cancel = flag;
}

void lg_scanner_set_min_confidence(struct lg_scanner *s, enum lg_confidence c)
{
	s->min_conf = (int)c;
}

void lg_scanner_set_dedupe(struct lg_scanner *s, int on)
{
	s->no_dedupe = !on;
}

const char *lg_scanner_error(const struct lg_scanner *s)
{
	return s->err ? s->errmsg : "";
}

/* The document's scan cannot complete: keep the first reason, stop. */
static void scan_failed(struct lg_scanner *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void scan_failed(struct lg_scanner *s, int code, const char *fmt, ...)
{
	va_list ap;

	s->stop = 1;
	if (s->err)
		return;
	s->err = code;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
}

void lg_scanner_set_error(struct lg_scanner *s, int code, const char *fmt, ...)
{
	va_list ap;

	s->err = code;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
}

/* Characters (UTF-8 code points) from the start of pos's line to pos, plus one. */
static uint64_t char_column(const struct lg_scanner *s, uint64_t pos)
{
	uint64_t from = s->cur_line_start > s->base ? s->cur_line_start : s->base, n = 1;

	for (const unsigned char *p = (const unsigned char *)s->data + (from - s->base),
				 *e = (const unsigned char *)s->data + (pos - s->base);
	     p < e; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

/* Line and column (from 1) of document offset pos within the current pass. */
static void locate(struct lg_scanner *s, uint64_t pos, uint64_t *line, uint64_t *col)
{
	const char *p, *end, *nl;

	if (pos < s->cur_pos) {
		s->cur_pos = s->base;
		s->cur_line = s->base_line;
		s->cur_line_start = s->base_line_start;
	}
	p = s->data + (s->cur_pos - s->base);
	end = s->data + (pos - s->base);
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		s->cur_line++;
		s->cur_line_start = s->base + (uint64_t)(nl + 1 - s->data);
		p = nl + 1;
	}
	s->cur_pos = pos;
	*line = s->cur_line;
	*col = pos - s->cur_line_start + 1;
}

/*
 * A span reported by an earlier pass of this document (same rule, or any
 * with dedupe on). Only the first nprev spans are from earlier passes;
 * those are few: the ones near the end of the previous pass.
 */
/*
 * Whether rules a and b may settle a shared secret between them here. In
 * a document with several names a path-scoped rule applies at some of
 * them only, so two rules with different path scopes cannot: which one
 * reports the secret depends on the name, and the caller settles it per
 * name (lg_finding_settles()).
 */
static int same_scope(const struct lg_scanner *s, const struct lg_rule *a, const struct lg_rule *b)
{
	if (a == b || s->npaths <= 1)
		return 1;
	if (!a->path_pattern || !b->path_pattern)
		return !a->path_pattern && !b->path_pattern;
	return !strcmp(a->path_pattern, b->path_pattern);
}

int lg_finding_settles(const struct lg_rule *o, uint64_t os, uint64_t oe, const struct lg_rule *f, uint64_t fs,
		       uint64_t fe)
{
	/* A generic rule yields to any specific rule that found overlapping bytes. */
	if (f->generic && !o->generic && os < fe && fs < oe)
		return 1;
	/* The same bytes: reported once, under the first rule in order. */
	if (os == fs && oe == fe && o != f && o->generic == f->generic)
		return o->index < f->index;
	return 0;
}

/* Whether the earlier finding o (rule, bytes) settles f in this scan. */
static int settles(const struct lg_scanner *s, const struct lg_rule *o, uint64_t os, uint64_t oe,
		   const struct lg_rule *f, uint64_t fs, uint64_t fe)
{
	if (o == f)
		return os == fs && oe == fe;
	return !s->no_dedupe && same_scope(s, o, f) && lg_finding_settles(o, os, oe, f, fs, fe);
}

/* 1 if a specific secret that this pass leaves to the next settles [start, end) of rule r. */
static int tail_settled(const struct lg_scanner *s, uint64_t start, uint64_t end, const struct lg_rule *r)
{
	for (size_t i = 0; i < s->tail.n; i++) {
		const struct span *x = &LG_VEC_AT(&s->tail, struct span, i);
		if (settles(s, x->rule, x->start, x->end, r, start, end))
			return 1;
	}
	return 0;
}

/* A finding reported by an earlier pass that settles [start, end) of rule r. */
static int seen_settled(const struct lg_scanner *s, size_t nprev, uint64_t start, uint64_t end,
			const struct lg_rule *r)
{
	for (size_t i = nprev; i-- > 0;) {
		const struct span *x = &LG_VEC_AT(&s->spans, struct span, i);
		/* The same bytes already reported: whichever rule came first. */
		if (x->start == start && x->end == end && (x->rule == r || (!s->no_dedupe && same_scope(s, x->rule, r))))
			return 1;
		if (settles(s, x->rule, x->start, x->end, r, start, end))
			return 1;
	}
	return 0;
}

static const char *pcre2_failure(int rc, char *buf, size_t len)
{
	if (pcre2_get_error_message(rc, (PCRE2_UCHAR *)buf, len) < 0)
		snprintf(buf, len, "PCRE2 error %d", rc);
	return buf;
}

/* 1 when the secret s passes the rule's validator (or the rule has none). */
static int validator_passes(enum lg_validator v, const char *s, size_t len)
{
	switch (v) {
	case LG_VALIDATOR_NONE: return 1;
	case LG_VALIDATOR_GITHUB_CRC32: return lg_github_crc32_valid(s, len);
	case LG_VALIDATOR_JWT: return lg_jwt_valid(s, len);
	case LG_VALIDATOR_PYPI_MACAROON: return lg_pypi_macaroon_valid(s, len);
	case LG_VALIDATOR_AZURE_STORAGE_KEY: return lg_azure_storage_key_valid(s, len);
	case LG_VALIDATOR_JWT_BASE64: return lg_jwt_base64_valid(s, len);
	case LG_VALIDATOR_COUNT: break;
	}
	return 0;
}

/* A PCRE2 match [ms, me) of rule r in the current pass; ov is its ovector. */
static void handle_match(struct lg_scanner *s, struct lg_rule *r, const PCRE2_SIZE *ov)
{
	size_t gs = ov[0], ge = ov[1];
	struct lg_finding *f;
	int err;

	if (r->secret_group) {
		gs = ov[2 * r->secret_group];
		ge = ov[2 * r->secret_group + 1];
		if (gs == PCRE2_UNSET || ge == PCRE2_UNSET)
			return;
	}
	if (ge <= gs)
		return;
	/*
	 * Reported by the previous pass. (A secret group may start well after
	 * its match: deciding by the match's start would let a pass report a
	 * secret that lies past a later pass's first one.)
	 */
	if (s->base + gs < s->own)
		return;
	if (r->min_entropy > 0 && lg_entropy(s->data + gs, ge - gs) < r->min_entropy)
		return;
	if (r->placeholder_check && lg_is_placeholder(s->data + gs, ge - gs))
		return;
	if (!validator_passes(r->validator, s->data + gs, ge - gs))
		return;
	/* A structured token its own validator rejects is not reported by a generic rule either. */
	if (r->generic && (lg_structured_token_invalid(s->data + gs, ge - gs) ||
			   lg_looks_like_type_name(s->data + gs, ge - gs)))
		return;
	/*
	 * Left to the next pass, which holds it whole. A specific rule's secret
	 * is noted all the same: a generic finding of this pass that overlaps
	 * it must yield to it, as it would if both were in one pass.
	 */
	if (!s->final && s->base + gs >= s->base + s->dlen - LG_OVERLAP) {
		struct span sp = {s->base + gs, s->base + ge, r};
		if (!r->generic && (err = lg_vec_push(&s->tail, &sp)))
			scan_failed(s, err, "out of memory while settling the findings");
		return;
	}
	/* Held until the pass ends, when rules that found the same bytes are settled. */
	if ((err = lg_vec_grow(&s->pending, 1, (void **)&f))) {
		uint64_t line, col;
		locate(s, s->base + gs, &line, &col);
		scan_failed(s, err, "%s while holding the findings near line %llu",
			    err == LG_ENOMEM ? "out of memory" : "too many findings",
			    (unsigned long long)line);
		return;
	}
	f->rule = r;
	f->start = s->base + gs;
	f->end = s->base + ge;
	f->path = s->npaths ? s->paths[0] : NULL;
	f->member = f->layer = NULL;
	locate(s, f->start, &f->line, &f->column);
	f->column_chars = char_column(s, f->start);
	locate(s, f->end - 1, &f->end_line, &f->end_column);
	f->end_column_chars = char_column(s, f->end - 1);
	lg_redact(s->data + gs, ge - gs, f->preview);
	lg_fingerprint(&s->key, lg_rule_id(r), s->data + gs, ge - gs, f->fingerprint);
}

static int cmp_pending(const void *a, const void *b)
{
	const struct lg_finding *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->rule->generic != y->rule->generic)
		return x->rule->generic ? 1 : -1;
	return x->rule->index < y->rule->index ? -1 : x->rule->index > y->rule->index;
}

/* Hand one finding to the caller; its negative code ends the scan, a positive one stops it. */
static void deliver(struct lg_scanner *s, const struct lg_finding *f)
{
	int rc;

	if (!s->cb)
		return;
	rc = s->cb(f, s->ctx);
	if (rc < 0)
		scan_failed(s, rc, "stopped by the caller: %s", lg_strerror(rc));
	if (rc)
		s->stop = s->cb_stop = 1;
}

/*
 * Settle and report the pass's findings, in document order. A secret that
 * several rules extract is reported once, under the most specific rule: a
 * generic rule (an assignment of anything, a credentials file) yields to
 * any specific rule that found overlapping bytes.
 */
static void flush_pending(struct lg_scanner *s)
{
	struct lg_finding *v = s->pending.v;
	size_t n = s->pending.n, nprev = s->spans.n;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_pending);
	/*
	 * After a failure, what was found is still delivered: the caller
	 * decides. The findings are in order of start, and a secret is at most
	 * LG_MATCH_MAX bytes long, so the ones that can overlap a finding are
	 * its near neighbours: every check below looks at those only.
	 */
	for (size_t i = 0; i < n && !s->cb_stop; i++) {
		struct lg_finding *f = &v[i];
		struct span sp = {f->start, f->end, f->rule};
		int drop = 0, err;

		for (size_t k = i; k-- > 0 && !drop && v[k].start + LG_MATCH_MAX > f->start;)
			drop = settles(s, v[k].rule, v[k].start, v[k].end, f->rule, f->start, f->end);
		for (size_t k = i + 1; k < n && !drop && v[k].start < f->end; k++)
			drop = v[k].start != f->start && settles(s, v[k].rule, v[k].start, v[k].end, f->rule, f->start, f->end);
		if (!drop)
			drop = seen_settled(s, nprev, f->start, f->end, f->rule);
		if (!drop)
			drop = tail_settled(s, f->start, f->end, f->rule);
		if (drop)
			continue;
		/* Passes still to come must not report it again. */
		if (!s->final && !s->stop && (err = lg_vec_push(&s->spans, &sp)))
			scan_failed(s, err, "out of memory while settling the findings");
		deliver(s, f);
	}
	s->pending.n = 0;
}

static void confirm(struct lg_scanner *s, struct lg_rule *r, size_t to)
{
	size_t limit = to + LG_MATCH_MAX < s->dlen ? to + LG_MATCH_MAX : s->dlen;
	size_t off = to > LG_MATCH_MAX ? to - LG_MATCH_MAX : 0;
	uint64_t *done = &s->done_until[r->index];

	if (*done > s->base + off)
		off = (size_t)(*done - s->base);
	if (s->code_state[r->index] == 0)
		s->code_state[r->index] = lg_rule_prepare_code(s->rs, r) ? -1 : 1;
	if (s->code_state[r->index] < 0) {
		scan_failed(s, LG_EINVALID, "rule '%s': its pattern cannot be compiled by PCRE2 to confirm a match",
			    r->id);
		return;
	}
	for (;;) {
		const PCRE2_SIZE *ov;
		int rc = pcre2_match(r->code, (PCRE2_SPTR)s->data, limit, off, 0, s->md, s->mctx);

		if (rc < 0) {
			if (rc != PCRE2_ERROR_NOMATCH) {
				char msg[160];
				uint64_t line, col;
				int limit_hit = rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
						rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
				locate(s, s->base + to - (to > 0), &line, &col);
				scan_failed(s, limit_hit ? LG_ELIMIT : LG_ERROR,
					    "rule '%s': a match near line %llu could not be confirmed: %s", r->id,
					    (unsigned long long)line, pcre2_failure(rc, msg, sizeof(msg)));
			}
			if (*done < s->base + to)
				*done = s->base + to;
			return;
		}
		ov = pcre2_get_ovector_pointer(s->md);
		if (ov[1] > ov[0])
			handle_match(s, r, ov);
		if (*done < s->base + ov[1])
			*done = s->base + ov[1];
		if (ov[1] >= to || s->stop)
			return;
		off = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
		if (off > limit)
			return;
	}
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cancelled(struct lg_scanner *s)
{
	if (s->cancel && *s->cancel) {
		scan_failed(s, LG_ECANCELED, "cancelled before the document was scanned to its end");
		return 1;
	}
	/* The clock is read once every 64 calls (a hit, a pass): cheap, and a confirmation is bounded. */
	if (s->deadline_ms && (s->ticks++ & 63) == 0 && monotonic_ms() >= s->deadline_ms) {
		scan_failed(s, LG_ECANCELED, "the time budget ran out before the document was scanned to its end");
		return 1;
	}
	return 0;
}

void lg_scanner_set_time_budget(struct lg_scanner *s, int64_t ms)
{
	s->deadline_ms = ms > 0 ? monotonic_ms() + ms : 0;
	s->ticks = 0;
}

static int on_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		  void *ctx)
{
	struct lg_scanner *s = ctx;
	size_t g = s->layer_first + id;
	struct lg_rule *r = s->rs->rules[g];

	(void)from;
	(void)flags;
	if (cancelled(s))
		return 1;
	/* Turned off: still in the database (it does not change), never reported. */
	if (!r->enabled)
		return 0;
	if (r->path_pattern && !s->path_ok[g])
		return 0;
	if ((int)r->confidence < s->min_conf)
		return 0;
	if (s->base + to <= s->done_until[g])
		return 0;
	confirm(s, r, (size_t)to);
	return s->stop ? 1 : 0;
}

static void run_pass(struct lg_scanner *s, const char *data, size_t len, int final)
{
	s->data = data;
	s->dlen = len;
	s->final = final;
	s->cur_pos = s->base;
	s->cur_line = s->base_line;
	s->cur_line_start = s->base_line_start;
	/*
	 * Coverage is per pass: the previous pass may have looked at a match
	 * in its deferred tail without reporting it.
	 */
	memset(s->done_until, 0, nrules(s) * sizeof(*s->done_until));
	s->tail.n = 0;
	for (size_t k = 0; k < s->rs->nlayers && len && !s->stop && !cancelled(s); k++) {
		const struct lg_layer *l = &s->rs->layers[k];
		hs_error_t e;
		if (!l->content_db)
			continue;
		s->layer_first = l->first;
		e = hs_scan(l->content_db, data, (unsigned)len, 0, s->scratch, on_hit, s);
		if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
			scan_failed(s, e == HS_NOMEM ? LG_ENOMEM : LG_ERROR,
				    "Hyperscan could not scan the document (error %d)", (int)e);
	}
	flush_pending(s);
	if (!final && len > LG_OVERLAP && s->own < s->base + len - LG_OVERLAP) {
		size_t keep = 0;
		s->own = s->base + len - LG_OVERLAP;
		/*
		 * Later passes report only secrets that start at own or after:
		 * spans before own can never be reported again, so memory stays
		 * bounded.
		 */
		for (size_t i = 0; i < s->spans.n; i++) {
			struct span *x = &LG_VEC_AT(&s->spans, struct span, i);
			if (x->end + LG_MATCH_MAX > s->own)
				LG_VEC_AT(&s->spans, struct span, keep++) = *x;
		}
		s->spans.n = keep;
	}
}

static int on_path_hit(unsigned id, unsigned long long from, unsigned long long to,
		       unsigned flags, void *ctx)
{
	unsigned char *mask = ctx;

	(void)from;
	(void)to;
	(void)flags;
	mask[id] = 1;
	return 0;
}

static int has_path_db(const struct lg_ruleset *rs)
{
	for (size_t k = 0; k < rs->nlayers; k++)
		if (rs->layers[k].path_db)
			return 1;
	return 0;
}

/* The rules whose path pattern matches path, into mask (one byte per rule, off ones left 0). */
static int match_path(struct lg_scanner *s, const char *path, unsigned char *mask)
{
	memset(mask, 0, nrules(s));
	for (size_t k = 0; k < s->rs->nlayers; k++) {
		const struct lg_layer *l = &s->rs->layers[k];
		hs_error_t e;
		if (!l->path_db)
			continue;
		e = hs_scan(l->path_db, path, (unsigned)strlen(path), 0, s->scratch, on_path_hit, mask + l->first);
		if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
			return e == HS_NOMEM ? LG_ENOMEM : LG_ERROR;
	}
	for (size_t i = 0; i < lg_ruleset_count(s->rs); i++)
		if (!s->rs->rules[i]->enabled)
			mask[i] = 0;
	return LG_OK;
}

int lg_scanner_applies(struct lg_scanner *s, const struct lg_rule *r, const char *path)
{
	int err;

	if (!r->path_pattern)
		return 1;
	if (!path)
		return 0;
	if ((err = match_path(s, path, s->path_tmp)))
		return err;
	return s->path_tmp[r->index];
}

int lg_scan_begin_paths(struct lg_scanner *s, const char *const *paths, size_t npaths,
			lg_finding_cb cb, void *ctx)
{
	size_t n = lg_ruleset_count(s->rs);
	int err;

	free_paths(s);
	s->cb = cb;
	s->ctx = ctx;
	s->active = 1;
	s->stop = 0;
	s->cb_stop = 0;
	s->err = 0;
	s->errmsg[0] = '\0';
	s->len = 0;
	s->base = 0;
	s->own = 0;
	s->base_line = 1;
	s->base_line_start = 0;
	s->spans.n = 0;
	s->pending.n = 0;
	s->tail.n = 0;
	memset(s->path_ok, 0, nrules(s));
	memset(s->done_until, 0, nrules(s) * sizeof(*s->done_until));
	if (npaths > LG_PATHS_MAX) {
		scan_failed(s, LG_ETOOLARGE, "a document with more than %u names", LG_PATHS_MAX);
		return s->err;
	}
	if (npaths && !(s->paths = calloc(npaths, sizeof(*s->paths)))) {
		scan_failed(s, LG_ENOMEM, "out of memory");
		return s->err;
	}
	for (size_t i = 0; i < npaths; i++) {
		if (!paths[i])
			continue;
		if (!(s->paths[s->npaths++] = strdup(paths[i]))) {
			scan_failed(s, LG_ENOMEM, "out of memory");
			return s->err;
		}
	}
	if (!has_path_db(s->rs))
		return LG_OK;
	for (size_t p = 0; p < s->npaths && !s->stop; p++) {
		const char *path = s->paths[p], *base = strrchr(path, '/');

		if ((err = match_path(s, path, s->path_tmp))) {
			scan_failed(s, err, "Hyperscan could not match the path %s", path);
			return s->err;
		}
		base = base ? base + 1 : path;
		for (size_t i = 0; i < n && !s->cb_stop; i++) {
			struct lg_rule *r = s->rs->rules[i];
			struct lg_finding f;

			if (!s->path_tmp[i])
				continue;
			s->path_ok[i] = 1;
			/* A path rule without a content pattern: the file itself is the finding. */
			if (r->pattern)
				continue;
			memset(&f, 0, sizeof(f));
			f.rule = r;
			snprintf(f.preview, sizeof(f.preview), "%s", base);
			f.path = path;
			lg_fingerprint(&s->key, lg_rule_id(r), path, strlen(path), f.fingerprint);
			deliver(s, &f);
		}
	}
	return s->err;
}

int lg_scan_begin(struct lg_scanner *s, const char *path, lg_finding_cb cb, void *ctx)
{
	return lg_scan_begin_paths(s, &path, path ? 1 : 0, cb, ctx);
}

/* Count the lines in [from, to) of the pass into the base line. */
static void advance_lines(struct lg_scanner *s, const char *data, size_t from, size_t to)
{
	const char *q = data + from, *end = data + to, *nl;

	while (q < end && (nl = memchr(q, '\n', (size_t)(end - q)))) {
		s->base_line++;
		s->base_line_start = s->base + (uint64_t)(nl + 1 - data);
		q = nl + 1;
	}
}

int lg_scan_feed(struct lg_scanner *s, const void *data, size_t len)
{
	const char *p = data;
	const size_t cap = LG_CHUNK + 2 * LG_OVERLAP;

	if (!s->active)
		return LG_EINVALID;
	while (len && !s->stop) {
		size_t take = cap - s->len < len ? cap - s->len : len;
		memcpy(s->buf + s->len, p, take);
		s->len += take;
		p += take;
		len -= take;
		if (s->len == cap) {
			size_t keep_from = s->len - 2 * LG_OVERLAP;

			run_pass(s, s->buf, s->len, 0);
			advance_lines(s, s->buf, 0, keep_from);
			memmove(s->buf, s->buf + keep_from, s->len - keep_from);
			s->base += keep_from;
			s->len -= keep_from;
		}
	}
	return s->err;
}

int lg_scan_end(struct lg_scanner *s)
{
	if (!s->active)
		return LG_EINVALID;
	if (!s->stop)
		run_pass(s, s->buf, s->len, 1);
	s->active = 0;
	return s->err;
}

int lg_scan_buffer_paths(struct lg_scanner *s, const char *const *paths, size_t npaths,
			 const void *data, size_t len, lg_finding_cb cb, void *ctx)
{
	const char *p = data;
	const size_t cap = LG_CHUNK + 2 * LG_OVERLAP;
	size_t at = 0;
	int err = lg_scan_begin_paths(s, paths, npaths, cb, ctx);

	if (err)
		return err;
	/*
	 * The same passes as streaming, over the caller's memory: each covers
	 * at most cap bytes, so the findings held at once stay bounded.
	 */
	while (!s->stop && len - at > cap) {
		size_t keep_from = cap - 2 * LG_OVERLAP;

		run_pass(s, p + at, cap, 0);
		advance_lines(s, p + at, 0, keep_from);
		s->base += keep_from;
		at += keep_from;
	}
	if (!s->stop)
		run_pass(s, p + at, len - at, 1);
	s->active = 0;
	return s->err;
}

int lg_scan_buffer(struct lg_scanner *s, const char *path, const void *data, size_t len,
		   lg_finding_cb cb, void *ctx)
{
	return lg_scan_buffer_paths(s, &path, path ? 1 : 0, data, len, cb, ctx);
}
