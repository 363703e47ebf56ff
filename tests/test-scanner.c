/*
 * Unit tests of the scanner: positions, streaming across pass boundaries
 * (the same findings whatever the feed sizes), path rules, filters, the
 * per-document cap, and thread-shared rule sets.
 */
#include "config.h"

#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"
#include "scanner.h"
#include "tap.h"
#include "utf16.h"
#include "vec.h"

void lg_vec_fail_after(unsigned long n);

#define GHP "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"
#define AKIA "AKIAQ3EGRTLE5Z7QWFXD"

static const char pack[] =
	"{\"rules\":["
	"{\"id\":\"aws\",\"name\":\"AWS\",\"description\":\"d\",\"severity\":\"critical\","
	"\"pattern\":\"\\\\b((?:AKIA|ASIA)[A-Z2-7]{16})\\\\b\",\"secret_group\":1,\"min_entropy\":3,"
	"\"remediation\":\"r\",\"examples\":[\"" AKIA "\",\"x " AKIA "\"],\"negative_examples\":[\"a\",\"b\"]},"
	"{\"id\":\"ghp\",\"name\":\"GitHub\",\"description\":\"d\",\"severity\":\"high\","
	"\"pattern\":\"\\\\b(ghp_[A-Za-z0-9]{36})\\\\b\",\"secret_group\":1,\"validator\":\"github-crc32\","
	"\"remediation\":\"r\",\"examples\":[\"" GHP "\",\"t=" GHP "\"],\"negative_examples\":[\"a\",\"b\"]},"
	"{\"id\":\"kv\",\"name\":\"Generic\",\"description\":\"d\",\"severity\":\"medium\","
	"\"pattern\":\"password\\\\s*=\\\\s*\\\"([^\\\"\\\\n]{8,64})\\\"\",\"secret_group\":1,\"min_entropy\":3,"
	"\"case_insensitive\":true,\"generic\":true,"
	"\"remediation\":\"r\",\"examples\":[\"a\",\"b\"],\"negative_examples\":[\"a\",\"b\"]},"
	"{\"id\":\"pem\",\"name\":\"Key block\",\"description\":\"d\",\"severity\":\"critical\","
	"\"pattern\":\"-----BEGIN RSA PRIVATE KEY-----[\\\\s\\\\S]{0,80}-----END RSA PRIVATE KEY-----\","
	"\"remediation\":\"r\",\"examples\":[\"a\",\"b\"],\"negative_examples\":[\"a\",\"b\"]},"
	"{\"id\":\"keyfile\",\"name\":\"Key file\",\"description\":\"d\",\"severity\":\"high\","
	"\"path\":\"(^|/)id_rsa$\",\"remediation\":\"r\","
	"\"examples\":[{\"path\":\"id_rsa\",\"text\":\"\"},{\"path\":\"a/id_rsa\",\"text\":\"\"}],\"negative_examples\":[\"a\",\"b\"]},"
	"{\"id\":\"npmrc\",\"name\":\"npmrc token\",\"description\":\"d\",\"severity\":\"high\","
	"\"path\":\"(^|/)\\\\.npmrc$\",\"pattern\":\"_authToken=([A-Za-z0-9-]{20,})\",\"secret_group\":1,"
	"\"remediation\":\"r\",\"examples\":[\"a\",\"b\"],\"negative_examples\":[\"a\",\"b\"]}"
	"]}";

struct rec {
	char id[32];
	unsigned long long start, end, line, col;
	char fp[LG_FP_HEX + 1];
	char preview[LG_PREVIEW_MAX];
};

struct recs {
	struct rec v[4096];
	size_t n;
};

static int collect(const struct lg_finding *f, void *ctx)
{
	struct recs *r = ctx;

	if (r->n < 4096) {
		struct rec *x = &r->v[r->n++];
		snprintf(x->id, sizeof(x->id), "%s", lg_rule_id(f->rule));
		x->start = f->start;
		x->end = f->end;
		x->line = f->line;
		x->col = f->column;
		memcpy(x->fp, f->fingerprint, sizeof(x->fp));
		memcpy(x->preview, f->preview, sizeof(x->preview));
	}
	return 0;
}

/* Counts findings, checks their order, and can refuse the Nth (limit). */
struct count_ctx {
	size_t n, out_of_order, limit;
	uint64_t last;
};

static int count_finding(const struct lg_finding *f, void *ctx)
{
	struct count_ctx *c = ctx;

	if (c->limit && c->n + 1 >= c->limit)
		return LG_ETOOLARGE;
	if (c->n && f->start <= c->last)
		c->out_of_order++;
	c->last = f->start;
	c->n++;
	return 0;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void sort_recs(struct recs *r)
{
	qsort(r->v, r->n, sizeof(r->v[0]), cmp_rec);
}

static struct recs *scan_whole(struct lg_scanner *s, const char *path, const char *data, size_t len)
{
	struct recs *r = calloc(1, sizeof(*r));
	lg_scan_buffer(s, path, data, len, collect, r);
	sort_recs(r);
	return r;
}

static struct recs *scan_stream(struct lg_scanner *s, const char *path, const char *data, size_t len,
				size_t piece)
{
	struct recs *r = calloc(1, sizeof(*r));
	lg_scan_begin(s, path, collect, r);
	for (size_t off = 0; off < len; off += piece)
		lg_scan_feed(s, data + off, len - off < piece ? len - off : piece);
	lg_scan_end(s);
	sort_recs(r);
	return r;
}

static int same(const struct recs *a, const struct recs *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].id, b->v[i].id) || a->v[i].start != b->v[i].start ||
		    a->v[i].end != b->v[i].end || a->v[i].line != b->v[i].line ||
		    a->v[i].col != b->v[i].col)
			return 0;
	return 1;
}

struct thread_arg {
	struct lg_ruleset *rs;
	const char *data;
	size_t len;
	size_t found;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	struct lg_scanner *s;
	struct lg_key key;
	memset(&key, 7, sizeof(key));
	if (lg_scanner_new(&s, a->rs, &key))
		return NULL;
	for (int i = 0; i < 20; i++) {
		struct recs *r = scan_whole(s, NULL, a->data, a->len);
		a->found += r->n;
		free(r);
	}
	lg_scanner_free(s);
	return NULL;
}

int main(void)
{
	struct lg_ruleset *rs;
	struct lg_scanner *s;
	struct lg_diag d;
	struct lg_key key;
	struct recs *a, *b;
	const char *doc;
	char *big;
	size_t bigsz = (3u << 20) + 12345, pos;
	size_t planted = 0;

	lg_diag_init(&d);
	lg_ruleset_new(&rs);
	if (lg_ruleset_add_json(rs, "t", pack, strlen(pack), &d) || lg_ruleset_compile(rs, NULL, NULL, &d)) {
		char line[512];
		for (size_t i = 0; i < d.n; i++) {
			lg_diag_format(&d.v[i], line, sizeof(line));
			printf("# %s\n", line);
		}
		printf("Bail out! test pack does not load\n");
		return 1;
	}
	memset(&key, 7, sizeof(key));
	lg_scanner_new(&s, rs, &key);

	doc = "line one\n  key: " AKIA "\nnothing\n\ttoken=" GHP " and AKIAIOSFODNN7EXAMPLE\n";
	a = scan_whole(s, "cfg.yml", doc, strlen(doc));
	is_int(a->n, 2, "two secrets in a small document");
	if (a->n == 2) {
		is_str(a->v[0].id, "aws", "first is the AWS key");
		is_int(a->v[0].line, 2, "on line 2");
		is_int(a->v[0].col, 8, "at column 8");
		is_int(a->v[0].end - a->v[0].start, 20, "the secret group only");
		is_str(a->v[1].id, "ghp", "second is the GitHub token");
		is_int(a->v[1].line, 4, "on line 4");
		is_int(a->v[1].col, 8, "at column 8");
		ok(strstr(a->v[1].preview, "cBShNgFPhN9LhLfVizZbl3g7Jerabz1ai0") == NULL, "preview redacted");
	}
	free(a);

	doc = "token=ghp_cBShNgFPhN9LhLfVizZbl3g7Jerabz1ai0KU\npassword = \"changeme\"\npassword=\"get()\"\n";
	a = scan_whole(s, NULL, doc, strlen(doc));
	is_int(a->n, 0, "bad checksum, placeholder and low entropy all filtered");
	free(a);

	doc = "PASSWORD = \"q8Zr!kV2#mTw\"\n";
	a = scan_whole(s, NULL, doc, strlen(doc));
	ok(a->n == 1 && !strcmp(a->v[0].id, "kv"), "case-insensitive rule matches");
	free(a);

	doc = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Ax\n-----END RSA PRIVATE KEY-----\n";
	a = scan_whole(s, NULL, doc, strlen(doc));
	ok(a->n == 1 && a->v[0].line == 1 && a->v[0].col == 1, "multi-line match found at its start");
	free(a);

	/* A generic rule yields to a specific one on the same bytes, whichever Hyperscan reports first. */
	doc = "password = \"" AKIA "\"\n";
	a = scan_whole(s, NULL, doc, strlen(doc));
	ok(a->n == 1 && !strcmp(a->v[0].id, "aws"), "the specific rule wins over the generic one (%zu: %s)",
	   a->n, a->n ? a->v[0].id : "-");
	free(a);
	doc = "password = \"" AKIA " and more\"\n";
	a = scan_whole(s, NULL, doc, strlen(doc));
	ok(a->n == 1 && !strcmp(a->v[0].id, "aws"), "also when the generic match is wider and overlaps");
	free(a);

	/* Path rules. */
	a = scan_whole(s, "home/.ssh/id_rsa", "anything", 8);
	ok(a->n == 1 && !strcmp(a->v[0].id, "keyfile") && a->v[0].line == 0, "path rule reports the file");
	free(a);
	a = scan_whole(s, "home/.ssh/id_rsa.pub", "anything", 8);
	is_int(a->n, 0, "path rule does not fire on id_rsa.pub");
	free(a);
	doc = "//registry.npmjs.org/:_authToken=Zq8Kp3LxWm2Vb7YcTr4Nf6Hd\n";
	a = scan_whole(s, "proj/.npmrc", doc, strlen(doc));
	ok(a->n == 1 && !strcmp(a->v[0].id, "npmrc"), "path-restricted content rule fires in its file");
	free(a);
	a = scan_whole(s, "proj/notes.txt", doc, strlen(doc));
	is_int(a->n, 0, "and not in another file");
	free(a);
	a = scan_whole(s, NULL, doc, strlen(doc));
	is_int(a->n, 0, "nor without a path");
	free(a);

	/* A big document with secrets at and around every pass boundary. */
	big = malloc(bigsz);
	for (size_t i = 0; i < bigsz; i++)
		big[i] = (i % 61 == 60) ? '\n' : "abcdefghij klmnopqrstuvwxyz ABCDEF 0123456789 ;(){}"[i % 51];
	for (size_t boundary = 1; boundary <= 3; boundary++) {
		for (int delta = -8300; delta <= 8300; delta += 83) {
			pos = boundary * (1u << 20) + (size_t)delta;
			if (pos + 60 > bigsz)
				continue;
			if (planted % 2)
				memcpy(big + pos, " " AKIA " ", 22);
			else
				memcpy(big + pos, " " GHP " ", 42);
			planted++;
		}
	}
	memcpy(big + bigsz - 21, AKIA, 20); /* right at the end */
	planted++;
	a = scan_whole(s, NULL, big, bigsz);
	ok(a->n > 0, "big document scanned (%zu findings)", a->n);
	{
		size_t pieces[] = {1u << 20, 4096, 65536 + 17, 999983, (1u << 20) + 8192, 3};
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			b = scan_stream(s, NULL, big, bigsz, pieces[k]);
			ok(same(a, b), "streaming in pieces of %zu gives the same %zu findings (got %zu)",
			   pieces[k], a->n, b->n);
			free(b);
		}
	}
	{
		/* Overlapping plants overwrite each other; count what survives intact. */
		size_t intact = 0;
		for (size_t i = 0; i < a->n; i++)
			intact += a->v[i].end - a->v[i].start == 20 || a->v[i].end - a->v[i].start == 40;
		is_int(intact, a->n, "every finding is a whole secret");
	}
	free(a);

	/* The per-document cap counts what it drops. */
	{
		size_t n = 3000, len = n * 22;
		char *many = malloc(len);
		for (size_t i = 0; i < n; i++) {
			char key20[21];
			snprintf(key20, sizeof(key20), "AKIAQ3EG%04zuZ7QWFXKD", i);
			/* digits 0-1 and 8-9 are outside [A-Z2-7]: map them */
			for (int j = 8; j < 12; j++)
				key20[j] = "23456723456"[key20[j] - '0'];
			memcpy(many + i * 22, " ", 1);
			memcpy(many + i * 22 + 1, key20, 20);
			many[i * 22 + 21] = '\n';
		}
		a = scan_whole(s, NULL, many, len);
		is_int(a->n, n, "every one of %zu findings of a document is reported (no cap)", n);
		free(a);
		free(many);
	}

	/*
	 * Many findings across many passes: a 5 MB document with a key every
	 * 64 bytes, whole and streamed, gives every one of them, once.
	 */
	{
		size_t n = 5u << 14, len = n * 64, seen = 0, dup = 0;
		char *many = malloc(len);
		struct count_ctx cc = {0, 0, 0, 0};
		for (size_t i = 0; i < n; i++) {
			memset(many + i * 64, ' ', 64);
			memcpy(many + i * 64 + 10, "k=" AKIA, 22);
			many[i * 64 + 63] = '\n';
		}
		is_int(lg_scan_buffer(s, NULL, many, len, count_finding, &cc), 0, "a 5 MB document scans");
		seen = cc.n;
		dup = cc.out_of_order;
		is_int(seen, n, "all %zu findings of a 5 MB document, whole", n);
		is_int(dup, 0, "in document order, none twice");
		cc = (struct count_ctx){0, 0, 0, 0};
		lg_scan_begin(s, NULL, count_finding, &cc);
		for (size_t off = 0; off < len; off += 65521)
			lg_scan_feed(s, many + off, len - off < 65521 ? len - off : 65521);
		is_int(lg_scan_end(s), 0, "streamed: the scan completes");
		is_int(cc.n, n, "all %zu findings streamed in odd pieces", n);
		free(many);
	}

	/* A callback that can take no more ends the scan with its code. */
	{
		struct count_ctx cc = {0, 0, 2, 0};
		const char *three = "a=" AKIA "\nb=" GHP "\nc=" AKIA "x\n" "d= " AKIA "\n";
		int err = lg_scan_buffer(s, NULL, three, strlen(three), count_finding, &cc);
		is_int(err, LG_ETOOLARGE, "the callback's LG_ETOOLARGE is the scan's result");
		ok(*lg_scanner_error(s) != '\0', "and the scanner says why: %s", lg_scanner_error(s));
		cc = (struct count_ctx){0, 0, 0, 0};
		is_int(lg_scan_buffer(s, NULL, three, strlen(three), count_finding, &cc), 0,
		       "the next document starts clean");
		is_str(lg_scanner_error(s), "", "with no error left over");
	}

	/* Cancelled from outside: not a complete scan. */
	{
		volatile int flag = 1;
		struct count_ctx cc = {0, 0, 0, 0};
		lg_scanner_set_cancel(s, &flag);
		is_int(lg_scan_buffer(s, NULL, doc, strlen(doc), count_finding, &cc), LG_ECANCELED,
		       "a cancelled scan returns LG_ECANCELED, not success");
		lg_scanner_set_cancel(s, NULL);
	}

	/* Out of memory while holding findings: LG_ENOMEM, never a quiet loss. */
	{
		struct count_ctx cc = {0, 0, 0, 0};
		const char *two = "a=" AKIA "\nb=" GHP "\n";
		struct lg_scanner *fresh = NULL;
		lg_scanner_new(&fresh, rs, &key);
		lg_vec_fail_after(1);
		is_int(fresh ? lg_scan_buffer(fresh, NULL, two, strlen(two), count_finding, &cc) : -1, LG_ENOMEM,
		       "a failed allocation for a finding ends the scan with LG_ENOMEM");
		lg_vec_fail_after(0);
		ok(fresh && strstr(lg_scanner_error(fresh), "out of memory") != NULL, "the error says so: %s",
		   fresh ? lg_scanner_error(fresh) : "");
		lg_scanner_free(fresh);
	}

	/*
	 * A rule whose confirmation backtracks past PCRE2's match limit: the
	 * scan reports LG_ELIMIT naming the rule, and the token after the
	 * backtracking run is still found (the scan is incomplete, not empty).
	 */
	{
		static const char bt[] =
			"{\"rules\":[{\"id\":\"bt\",\"name\":\"Backtracking\",\"description\":\"d\","
			"\"severity\":\"high\",\"pattern\":\"(?:a+)+c|(tok_[A-Z]{8})\",\"secret_group\":1,"
			"\"placeholder_check\":false,\"remediation\":\"r\",\"examples\":[\"tok_QWERTZUI\",\"x tok_ASDFGHJK\"],"
			"\"negative_examples\":[\"a\",\"b\"]}]}";
		struct lg_ruleset *brs = NULL;
		struct lg_scanner *bs = NULL;
		struct lg_diag bd;
		char text[256];
		struct count_ctx cc = {0, 0, 0, 0};
		int err;

		lg_diag_init(&bd);
		lg_ruleset_new(&brs);
		ok(lg_ruleset_add_json(brs, "bt", bt, strlen(bt), &bd) == 0 &&
			   lg_ruleset_compile(brs, NULL, NULL, &bd) == 0 && lg_scanner_new(&bs, brs, &key) == 0,
		   "a backtracking rule loads");
		memset(text, 'a', 40);
		snprintf(text + 40, sizeof(text) - 40, " tok_QWERTZUI\n");
		err = bs ? lg_scan_buffer(bs, NULL, text, strlen(text), count_finding, &cc) : -1;
		is_int(err, LG_ELIMIT, "40 a's before the token: LG_ELIMIT, not a clean result");
		ok(strstr(lg_scanner_error(bs), "rule 'bt'") != NULL, "the error names the rule: %s",
		   lg_scanner_error(bs));
		lg_scanner_free(bs);
		lg_ruleset_free(brs);
		lg_diag_release(&bd);
	}

	/* A blob with two names: a path-scoped rule applies when either matches. */
	{
		const char *names[] = {"npmrc.bak", "app/.npmrc"};
		const char *npm = "//registry.npmjs.org/:_authToken=Zk3r9XqP2mVt8LwN4bYc\n";
		struct recs *r = calloc(1, sizeof(*r));
		const struct lg_rule *rule = lg_ruleset_find(rs, "npmrc");
		is_int(lg_scan_buffer_paths(s, names, 2, npm, strlen(npm), collect, r), 0,
		       "a document with two names scans");
		ok(r->n == 1 && !strcmp(r->v[0].id, "npmrc"), "the .npmrc rule applies through the second name");
		is_int(lg_scanner_applies(s, rule, "npmrc.bak"), 0, "it does not apply to npmrc.bak");
		is_int(lg_scanner_applies(s, rule, "app/.npmrc"), 1, "it applies to app/.npmrc");
		is_int(lg_scanner_applies(s, lg_ruleset_find(rs, "aws"), "anything"), 1,
		       "a rule without a path applies everywhere");
		free(r);
	}

	/* Binary detection. */
	ok(lg_looks_binary("ab\0cd", 5), "NUL byte means binary");
	ok(!lg_looks_binary("abcd", 4), "text is text");

	/* UTF-16 text: scanned as the UTF-8 it stands for, however it is cut. */
	{
		static const char u8[] = "caf\xc3\xa9 \xf0\x9f\x98\x80\r\n\xe2\x82\xac 2\r\nk=" AKIA " \xf0\x9f\x98\x80\r\n";
		char u16[512], *ip = (char *)u8, *op = u16 + 2;
		size_t inleft = sizeof(u8) - 1, outleft = sizeof(u16) - 2, len;
		iconv_t cd = iconv_open("UTF-16LE", "UTF-8");
		struct recs *want, *got;
		const char *t_txt[] = {"t.txt"};
		int all_same = 1;

		u16[0] = (char)0xff;
		u16[1] = (char)0xfe;
		iconv(cd, &ip, &inleft, &op, &outleft);
		iconv_close(cd);
		len = (size_t)(op - u16);
		ok(lg_utf16_detect(u16, len) == LG_UTF16LE, "FF FE: UTF-16LE");
		ok(lg_utf16_detect("\xfe\xff\0a", 4) == LG_UTF16BE, "FE FF: UTF-16BE");
		ok(lg_utf16_detect("\xff\xfe\0\0a\0\0\0", 8) == LG_NOT_UTF16, "FF FE 00 00 (UTF-32LE): not UTF-16");
		ok(lg_utf16_detect("ab", 2) == LG_NOT_UTF16, "plain text: not UTF-16");
		want = scan_whole(s, "t.txt", u8, sizeof(u8) - 1);
		got = calloc(1, sizeof(*got));
		lg_scan_utf16(s, LG_UTF16LE, t_txt, 1, u16, len, collect, got);
		sort_recs(got);
		ok(want->n == 1 && same(want, got), "UTF-16LE: the same finding as in its UTF-8 (line %llu col %llu)",
		   got->n ? got->v[0].line : 0, got->n ? got->v[0].col : 0);
		free(got);
		for (size_t k = 1; k < len; k++) {
			struct lg_utf16 *u = lg_utf16_new(LG_UTF16LE);
			got = calloc(1, sizeof(*got));
			lg_scan_begin(s, "t.txt", collect, got);
			lg_utf16_feed(u, s, u16, k);
			lg_utf16_feed(u, s, u16 + k, len - k);
			lg_scan_end(s);
			lg_utf16_free(u);
			sort_recs(got);
			if (!same(want, got)) {
				all_same = 0;
				printf("# cut at byte %zu: %zu findings\n", k, got->n);
			}
			free(got);
		}
		ok(all_same, "UTF-16LE cut in two at every byte (%zu cuts): the same finding", len - 1);
		/* A lone surrogate before the key: replaced, the key still found. */
		memmove(u16 + 4, u16 + 2, len - 2);
		u16[2] = 0x00;
		u16[3] = (char)0xd8;
		got = calloc(1, sizeof(*got));
		lg_scan_utf16(s, LG_UTF16LE, t_txt, 1, u16, len + 2, collect, got);
		ok(got->n == 1 && got->v[0].line == 3, "a lone surrogate does not stop the conversion");
		free(got);
		free(want);
	}

	/* Several threads share one rule set. */
	{
		pthread_t t[4];
		struct thread_arg args[4];
		doc = "k=" AKIA "\nt=" GHP "\n";
		for (int i = 0; i < 4; i++) {
			args[i] = (struct thread_arg){rs, doc, strlen(doc), 0};
			pthread_create(&t[i], NULL, thread_main, &args[i]);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			is_int(args[i].found, 40, "thread %d found every secret", i);
		}
	}

	free(big);
	lg_scanner_free(s);
	lg_ruleset_free(rs);
	lg_diag_release(&d);
	return done();
}
