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
 * 2 * LG_OVERLAP. A pass reports the matches that start inside its own part;
 * a match that starts in the last LG_OVERLAP bytes is left to the next pass,
 * which holds it whole, with LG_OVERLAP bytes of context before it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "ruleset-internal.h"
#include "scanner.h"

#define LG_CHUNK (1u << 20)
#define LG_OVERLAP (2 * LG_MATCH_MAX)
#define LG_PCRE2_MATCH_LIMIT 1000000
#define LG_JIT_STACK_MAX (1u << 20)

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
	unsigned char *path_ok;  /* per rule: the document's path matched */
	uint64_t *done_until;    /* per rule: reports ending here or before are covered */

	/* The document under scan. */
	char *path;
	lg_finding_cb cb;
	void *ctx;
	int active, stop, err;
	int no_dedupe;
	volatile int *cancel;
	char *buf;
	size_t len;
	uint64_t base;            /* document offset of buf[0] */
	uint64_t own;             /* matches starting before this are reported */
	uint64_t base_line;       /* line number at buf[0] */
	uint64_t base_line_start; /* document offset where that line begins */
	struct span *spans;
	size_t nspans, capspans;
	struct lg_finding *pending; /* this pass's findings, not yet reported */
	size_t npending, cappending;
	size_t dropped;

	/* The current pass. */
	const char *data;
	size_t dlen;
	int final;
	uint64_t cur_pos, cur_line, cur_line_start;
};

int lg_looks_binary(const void *data, size_t len)
{
	return memchr(data, 0, len < 8000 ? len : 8000) != NULL;
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
	s->code_state = calloc(n, 1);
	s->path_ok = calloc(n, 1);
	s->done_until = calloc(n, sizeof(*s->done_until));
	s->buf = malloc(LG_CHUNK + 2 * LG_OVERLAP);
	s->md = pcre2_match_data_create(100, NULL);
	s->mctx = pcre2_match_context_create(NULL);
	s->jit = pcre2_jit_stack_create(32 * 1024, LG_JIT_STACK_MAX, NULL);
	if (!s->code_state || !s->path_ok || !s->done_until || !s->buf || !s->md || !s->mctx ||
	    !s->jit)
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
	if (rs->content_db && hs_alloc_scratch(rs->content_db, &s->scratch) != HS_SUCCESS)
		goto fail;
	if (rs->path_db && hs_alloc_scratch(rs->path_db, &s->scratch) != HS_SUCCESS)
		goto fail;
	*out = s;
	return LG_OK;
fail:
	lg_scanner_free(s);
	return err;
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
	free(s->done_until);
	free(s->buf);
	free(s->path);
	free(s->spans);
	free(s->pending);
	free(s);
}

void lg_scanner_set_cancel(struct lg_scanner *s, volatile int *flag)
{
	s->cancel = flag;
}

void lg_scanner_set_dedupe(struct lg_scanner *s, int on)
{
	s->no_dedupe = !on;
}

size_t lg_scanner_dropped(const struct lg_scanner *s)
{
	return s->dropped;
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

/* A span reported by an earlier pass of this document (same rule, or any with dedupe on). */
static int seen_span(const struct lg_scanner *s, uint64_t start, uint64_t end, const struct lg_rule *r)
{
	for (size_t i = s->nspans; i-- > 0;)
		if (s->spans[i].start == start && s->spans[i].end == end &&
		    (!s->no_dedupe || s->spans[i].rule == r))
			return 1;
	return 0;
}

static void remember_span(struct lg_scanner *s, uint64_t start, uint64_t end, const struct lg_rule *r)
{
	if (s->nspans == s->capspans) {
		size_t cap = s->capspans ? s->capspans * 2 : 16;
		struct span *v = realloc(s->spans, cap * sizeof(*v));
		if (!v)
			return;
		s->spans = v;
		s->capspans = cap;
	}
	s->spans[s->nspans].start = start;
	s->spans[s->nspans].end = end;
	s->spans[s->nspans].rule = r;
	s->nspans++;
}

/* A PCRE2 match [ms, me) of rule r in the current pass; ov is its ovector. */
static void handle_match(struct lg_scanner *s, struct lg_rule *r, const PCRE2_SIZE *ov)
{
	uint64_t ms = s->base + ov[0];
	size_t gs = ov[0], ge = ov[1];
	struct lg_finding *f;

	/* Reported by the previous pass, or left to the next one. */
	if (ms < s->own || (!s->final && ms >= s->base + s->dlen - LG_OVERLAP))
		return;
	if (r->secret_group) {
		gs = ov[2 * r->secret_group];
		ge = ov[2 * r->secret_group + 1];
		if (gs == PCRE2_UNSET || ge == PCRE2_UNSET)
			return;
	}
	if (ge <= gs)
		return;
	if (r->min_entropy > 0 && lg_entropy(s->data + gs, ge - gs) < r->min_entropy)
		return;
	if (r->placeholder_check && lg_is_placeholder(s->data + gs, ge - gs))
		return;
	if (r->validator == LG_VALIDATOR_GITHUB_CRC32 && !lg_github_crc32_valid(s->data + gs, ge - gs))
		return;
	if (s->nspans + s->npending >= LG_FINDINGS_PER_DOC_MAX) {
		s->dropped++;
		return;
	}
	if (s->npending == s->cappending) {
		size_t cap = s->cappending ? s->cappending * 2 : 16;
		struct lg_finding *v = realloc(s->pending, cap * sizeof(*v));
		if (!v)
			return;
		s->pending = v;
		s->cappending = cap;
	}
	/* Held until the pass ends, when rules that found the same bytes are settled. */
	f = &s->pending[s->npending++];
	memset(f, 0, sizeof(*f));
	f->rule = r;
	f->start = s->base + gs;
	f->end = s->base + ge;
	f->path = s->path;
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

/*
 * Settle and report the pass's findings, in document order. A secret that
 * several rules extract is reported once, under the most specific rule: a
 * generic rule (an assignment of anything, a credentials file) yields to
 * any specific rule that found overlapping bytes.
 */
static void flush_pending(struct lg_scanner *s)
{
	size_t n = s->npending;

	if (n == 0)
		return;
	qsort(s->pending, n, sizeof(*s->pending), cmp_pending);
	for (size_t i = 0; i < n && !s->stop; i++) {
		struct lg_finding *f = &s->pending[i];
		int drop = 0;

		if (!s->no_dedupe && f->rule->generic) {
			for (size_t k = 0; k < n && !drop; k++) {
				const struct lg_finding *g = &s->pending[k];
				drop = k != i && !g->rule->generic && g->start < f->end && f->start < g->end;
			}
		}
		for (size_t k = 0; k < i && !drop; k++) {
			const struct lg_finding *g = &s->pending[k];
			drop = g->rule && g->start == f->start && g->end == f->end &&
			       (!s->no_dedupe || g->rule == f->rule);
		}
		if (!drop)
			drop = seen_span(s, f->start, f->end, f->rule);
		if (drop)
			continue;
		remember_span(s, f->start, f->end, f->rule);
		if (s->cb && s->cb(f, s->ctx))
			s->stop = 1;
	}
	s->npending = 0;
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
	if (s->code_state[r->index] < 0)
		return;
	for (;;) {
		const PCRE2_SIZE *ov;
		int rc = pcre2_match(r->code, (PCRE2_SPTR)s->data, limit, off, 0, s->md, s->mctx);

		if (rc < 0) {
			if (rc != PCRE2_ERROR_NOMATCH && !s->err)
				s->err = LG_ERROR;
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

static int on_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		  void *ctx)
{
	struct lg_scanner *s = ctx;
	struct lg_rule *r = s->rs->rules[id];

	(void)from;
	(void)flags;
	if (s->cancel && *s->cancel) {
		s->stop = 1;
		return 1;
	}
	if (r->path_pattern && !s->path_ok[id])
		return 0;
	if (s->base + to <= s->done_until[id])
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
	memset(s->done_until, 0, (lg_ruleset_count(s->rs) ? lg_ruleset_count(s->rs) : 1) *
					 sizeof(*s->done_until));
	if (s->rs->content_db && len && !s->stop) {
		hs_error_t e = hs_scan(s->rs->content_db, data, (unsigned)len, 0, s->scratch, on_hit, s);
		if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED && !s->err)
			s->err = LG_ERROR;
	}
	flush_pending(s);
	if (!final && len > LG_OVERLAP && s->own < s->base + len - LG_OVERLAP)
		s->own = s->base + len - LG_OVERLAP;
}

static int on_path_hit(unsigned id, unsigned long long from, unsigned long long to,
		       unsigned flags, void *ctx)
{
	struct lg_scanner *s = ctx;

	(void)from;
	(void)to;
	(void)flags;
	s->path_ok[id] = 1;
	return 0;
}

int lg_scan_begin(struct lg_scanner *s, const char *path, lg_finding_cb cb, void *ctx)
{
	size_t n = lg_ruleset_count(s->rs);

	free(s->path);
	s->path = path ? strdup(path) : NULL;
	if (path && !s->path)
		return LG_ENOMEM;
	s->cb = cb;
	s->ctx = ctx;
	s->active = 1;
	s->stop = 0;
	s->err = 0;
	s->len = 0;
	s->base = 0;
	s->own = 0;
	s->base_line = 1;
	s->base_line_start = 0;
	s->nspans = 0;
	s->npending = 0;
	s->dropped = 0;
	memset(s->path_ok, 0, n ? n : 1);
	memset(s->done_until, 0, (n ? n : 1) * sizeof(*s->done_until));
	if (!path || !s->rs->path_db)
		return LG_OK;
	hs_scan(s->rs->path_db, path, (unsigned)strlen(path), 0, s->scratch, on_path_hit, s);
	/* A path rule without a content pattern: the file itself is the finding. */
	for (size_t i = 0; i < n && !s->stop; i++) {
		struct lg_rule *r = s->rs->rules[i];
		const char *base = strrchr(path, '/');
		struct lg_finding f;

		if (!s->path_ok[i] || r->pattern)
			continue;
		base = base ? base + 1 : path;
		memset(&f, 0, sizeof(f));
		f.rule = r;
		snprintf(f.preview, sizeof(f.preview), "%s", base);
		f.path = s->path;
		lg_fingerprint(&s->key, lg_rule_id(r), path, strlen(path), f.fingerprint);
		if (s->cb && s->cb(&f, s->ctx))
			s->stop = 1;
	}
	return LG_OK;
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
			const char *q = s->buf, *end = s->buf + keep_from, *nl;

			run_pass(s, s->buf, s->len, 0);
			while (q < end && (nl = memchr(q, '\n', (size_t)(end - q)))) {
				s->base_line++;
				s->base_line_start = s->base + (uint64_t)(nl + 1 - s->buf);
				q = nl + 1;
			}
			memmove(s->buf, s->buf + keep_from, s->len - keep_from);
			s->base += keep_from;
			s->len -= keep_from;
		}
	}
	return LG_OK;
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

int lg_scan_buffer(struct lg_scanner *s, const char *path, const void *data, size_t len,
		   lg_finding_cb cb, void *ctx)
{
	int err = lg_scan_begin(s, path, cb, ctx);

	if (err)
		return err;
	if (len > 0xffffffffu - LG_CHUNK) {
		/* Hyperscan's block mode takes at most 4 GiB: stream it. */
		err = lg_scan_feed(s, data, len);
		return err ? err : lg_scan_end(s);
	}
	if (!s->stop)
		run_pass(s, data, len, 1);
	s->active = 0;
	return s->err;
}
