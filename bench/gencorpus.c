/*
 * gencorpus: a synthetic, deterministic source tree for the leakgate scan
 * benchmark, with a few realistic fake secrets planted in it and a manifest
 * of where they are.
 *
 *   gencorpus [-s SEED] [-m MB] [-n SECRETS] DIR MANIFEST
 *   gencorpus -f [-s SEED] [-m MB] FILE MANIFEST
 *
 * The first form writes a tree of about MB megabytes (10^6 bytes; default
 * 64) under DIR: code in several languages, configuration, documentation,
 * lock files, minified JavaScript, stylesheets with embedded images, and
 * plenty of text that talks about passwords, tokens and keys without
 * holding any. SECRETS fake credentials (default 40) are planted in it.
 * The second form writes one file of MB megabytes of mixed text with one
 * secret near its end.
 *
 * MANIFEST gets one line per planted secret: path (relative to DIR, or the
 * file name), line, kind, separated by tabs. The same seed gives the same
 * bytes.
 *
 * Only libc. Build: cc -O2 -o gencorpus gencorpus.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a) ((a)[rn(N(a))])

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("gencorpus: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ------------------------------------------------------------------ random */

static uint64_t rng_state;

static uint64_t rnd64(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t rn(size_t n)
{
	return n ? (size_t)(rnd64() % n) : 0;
}

static size_t rr(size_t lo, size_t hi)
{
	return lo + rn(hi - lo + 1);
}

static int pct(unsigned p)
{
	return rn(100) < p;
}

/* ----------------------------------------------------------------- buffers */

struct buf {
	char *p;
	size_t len, cap;
	size_t *mk; /* insertion points: offsets of line starts between top-level blocks */
	size_t nmk, capmk;
};

static void bneed(struct buf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 8192;
		while (c < b->len + n + 1)
			c *= 2;
		if (!(b->p = realloc(b->p, c)))
			die("out of memory");
		b->cap = c;
	}
}

static void bput(struct buf *b, const char *s, size_t n)
{
	bneed(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void bs(struct buf *b, const char *s)
{
	bput(b, s, strlen(s));
}

static void bc(struct buf *b, char c)
{
	bput(b, &c, 1);
}

__attribute__((format(printf, 2, 3))) static void bf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	bneed(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void bmark(struct buf *b)
{
	if (b->nmk == b->capmk) {
		b->capmk = b->capmk ? b->capmk * 2 : 64;
		if (!(b->mk = realloc(b->mk, b->capmk * sizeof(*b->mk))))
			die("out of memory");
	}
	b->mk[b->nmk++] = b->len;
}

static void breset(struct buf *b)
{
	b->len = 0;
	b->nmk = 0;
	if (b->p)
		b->p[0] = '\0';
}

/* --------------------------------------------------------- random strings */

static const char HEX[] = "0123456789abcdef";
static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64U[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char LOWER[] = "abcdefghijklmnopqrstuvwxyz";
static const char ALPHA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char UPNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
static const char LOWNUM[] = "abcdefghijklmnopqrstuvwxyz0123456789";
static const char DIGITS[] = "0123456789";
static const char BASE32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char BECH32U[] = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

static void brand(struct buf *b, size_t n, const char *alpha)
{
	size_t k = strlen(alpha);

	bneed(b, n);
	for (size_t i = 0; i < n; i++)
		b->p[b->len++] = alpha[rn(k)];
	b->p[b->len] = '\0';
}

static void bdigits(struct buf *b, size_t n) /* no leading zero */
{
	bc(b, DIGITS[1 + rn(9)]);
	brand(b, n - 1, DIGITS);
}

static void bb64(struct buf *b, const unsigned char *d, size_t n, const char *alpha, int pad)
{
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
		char o[4] = {alpha[v >> 18], alpha[(v >> 12) & 63], alpha[(v >> 6) & 63], alpha[v & 63]};
		bput(b, o, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)d[i] << 16;
		bc(b, alpha[v >> 18]);
		bc(b, alpha[(v >> 12) & 63]);
		if (pad)
			bs(b, "==");
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8;
		bc(b, alpha[v >> 18]);
		bc(b, alpha[(v >> 12) & 63]);
		bc(b, alpha[(v >> 6) & 63]);
		if (pad)
			bc(b, '=');
	}
}

static void randbytes(unsigned char *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (unsigned char)rnd64();
}

static void buuid(struct buf *b)
{
	brand(b, 8, HEX);
	bc(b, '-');
	brand(b, 4, HEX);
	bf(b, "-4");
	brand(b, 3, HEX);
	bc(b, '-');
	bc(b, "89ab"[rn(4)]);
	brand(b, 3, HEX);
	bc(b, '-');
	brand(b, 12, HEX);
}

/* A base64 data URI of a made-up PNG (or JPEG/WOFF) of n raw bytes. */
static void bdatauri(struct buf *b, size_t n)
{
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
					    'I', 'H', 'D', 'R'};
	static const unsigned char jpg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1};
	unsigned char *d = malloc(n + 32);
	int kind = (int)rn(10);
	size_t h = 0;

	if (!d)
		die("out of memory");
	randbytes(d, n + 32);
	if (kind < 7) {
		memcpy(d, png, sizeof(png));
		h = sizeof(png);
		bs(b, "data:image/png;base64,");
	} else if (kind < 9) {
		memcpy(d, jpg, sizeof(jpg));
		h = sizeof(jpg);
		bs(b, "data:image/jpeg;base64,");
	} else {
		memcpy(d, "wOF2", 4);
		h = 4;
		bs(b, "data:font/woff2;base64,");
	}
	(void)h;
	bb64(b, d, n, B64, 1);
	free(d);
}

/* ---------------------------------------------------------------- secrets */

static int ci_contains(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);

	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(s + i, w, k))
			return 1;
	return 0;
}

/*
 * Planted values must not look like stand-ins: no documentation words, no
 * runs, no counting sequences, nothing a placeholder filter may rightly
 * drop.
 */
static int secret_ok(const char *s, size_t n)
{
	static const char *const bad[] = {
		"example", "changeme", "change_me", "change-me", "placeholder", "dummy", "redacted",
		"your", "insert", "replace", "fake", "sample", "test", "xxx", "***", "...", "<", ">",
		"${", "{{", "%(", "mock", "demo",
	};

	for (size_t i = 0; i < N(bad); i++)
		if (ci_contains(s, n, bad[i]))
			return 0;
	for (size_t i = 0; i + 4 <= n; i++) {
		unsigned char a = (unsigned char)s[i], c1 = (unsigned char)s[i + 1],
			      c2 = (unsigned char)s[i + 2], c3 = (unsigned char)s[i + 3];
		if (a == c1 && a == c2 && a == c3)
			return 0;
		if ((c1 == a + 1 && c2 == a + 2 && c3 == a + 3) ||
		    (c1 == a - 1 && c2 == a - 2 && c3 == a - 3)) {
			if ((a >= '0' && a <= '9') || (a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z'))
				return 0;
		}
	}
	return 1;
}

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

/* prefix + 30 random base62 + 6-char base62 CRC32 of those 30 */
static void bchecksummed(struct buf *b, const char *prefix)
{
	size_t at;
	uint32_t crc;
	char sum[7];

	bs(b, prefix);
	at = b->len;
	brand(b, 30, B62);
	crc = crc32_ieee((const unsigned char *)b->p + at, 30);
	for (int i = 5; i >= 0; i--) {
		sum[i] = B62[crc % 62];
		crc /= 62;
	}
	sum[6] = '\0';
	bs(b, sum);
}

/* ------------------------------------------------------------------ words */

static const char *const nouns[] = {
	"user", "account", "order", "invoice", "payment", "session", "cache", "config", "client",
	"server", "request", "response", "handler", "queue", "worker", "job", "event", "message",
	"stream", "buffer", "index", "record", "item", "node", "route", "service", "store", "model",
	"view", "metric", "report", "task", "file", "image", "upload", "profile", "tenant", "project",
	"build", "release", "cluster", "region", "shard", "batch", "snapshot", "schema", "field",
	"column", "table", "query", "result", "page", "cursor", "filter", "policy", "role", "group",
	"team", "audit", "trace", "span", "timer", "retry", "limit", "quota", "plan", "price", "cart",
	"product", "catalog", "shipment", "address", "email", "notification", "webhook", "channel",
	"entry", "state", "status", "version", "window", "frame", "packet", "socket", "header",
	"payload", "chunk", "block", "range", "offset", "ledger", "balance", "refund", "coupon",
	"customer", "vendor", "warehouse", "sku", "label", "comment", "thread", "attachment",
};
static const char *const verbs[] = {
	"get", "set", "load", "save", "fetch", "update", "delete", "create", "build", "parse",
	"render", "validate", "process", "handle", "compute", "resolve", "apply", "merge", "sync",
	"flush", "encode", "decode", "format", "normalize", "register", "dispatch", "schedule",
	"collect", "emit", "publish", "subscribe", "refresh", "reset", "open", "close", "read",
	"write", "send", "receive", "check", "find", "list", "count", "sort", "map", "reduce", "init",
	"start", "stop", "retry", "cancel", "archive", "restore", "import", "export", "migrate",
};
static const char *const adjs[] = {
	"active", "pending", "default", "current", "next", "previous", "max", "min", "total", "local",
	"remote", "cached", "raw", "parsed", "new", "old", "primary", "secondary", "internal",
	"public", "shared", "base", "final", "partial", "valid", "dirty", "empty", "batch", "global",
	"last", "first", "stale", "fresh", "visible", "hidden", "optional", "required", "legacy",
};
static const char *const small[] = {
	"the", "a", "to", "of", "and", "is", "for", "when", "this", "with", "in", "on", "that", "by",
	"it", "be", "are", "from", "at", "as", "if", "not", "or", "we", "you", "will", "can",
	"should", "must", "each", "all", "any", "only", "also", "then", "before", "after", "into",
	"over", "so", "but", "no", "more", "than", "once", "again", "still", "here", "there",
};
static const char *const projects[] = {
	"billing", "checkout", "catalog", "identity", "gateway", "notifier", "scheduler",
	"reporting", "search", "inventory", "ledger", "analytics", "onboarding", "storefront",
	"payments", "shipping", "accounts", "media", "admin", "ingest", "exporter", "pricing",
	"recommender", "chat", "forms", "support", "orders", "returns", "loyalty", "warehouse",
	"fulfilment", "tax", "fraud", "audit-log", "feature-flags", "webhooks", "sso", "mailer",
};
static const char *const envs[] = {"prod", "production", "staging", "dev", "qa", "eu", "us"};

#define RING 24
static char ring[RING][320];
static unsigned ringi;

static char *rbuf(void)
{
	return ring[ringi++ % RING];
}

static char *cap1(char *s)
{
	if (s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 32);
	return s;
}

static const char *snake(void)
{
	char *r = rbuf();

	switch (rn(4)) {
	case 0: snprintf(r, 320, "%s_%s", PICK(verbs), PICK(nouns)); break;
	case 1: snprintf(r, 320, "%s_%s", PICK(adjs), PICK(nouns)); break;
	case 2: snprintf(r, 320, "%s_%s_%s", PICK(verbs), PICK(adjs), PICK(nouns)); break;
	default: snprintf(r, 320, "%s", PICK(nouns)); break;
	}
	return r;
}

static const char *noun(void)
{
	return PICK(nouns);
}

static const char *camel(void)
{
	char *r = rbuf();
	char c[64];

	snprintf(c, sizeof(c), "%s", PICK(nouns));
	cap1(c);
	switch (rn(3)) {
	case 0: snprintf(r, 320, "%s%s", PICK(verbs), c); break;
	case 1: snprintf(r, 320, "%s%s", PICK(adjs), c); break;
	default: snprintf(r, 320, "%s", PICK(nouns)); break;
	}
	return r;
}

static const char *pascal(void)
{
	static const char *const suffix[] = {"Service", "Handler", "Repository", "Client", "Manager",
					     "Controller", "Builder", "Factory", "Store", "Worker",
					     "Config", "Result", "Event", "Request", "Response", ""};
	char *r = rbuf();
	char a[64], c[64];

	snprintf(a, sizeof(a), "%s", pct(40) ? PICK(adjs) : PICK(nouns));
	snprintf(c, sizeof(c), "%s", PICK(nouns));
	cap1(a);
	cap1(c);
	if (pct(50))
		snprintf(r, 320, "%s%s", c, PICK(suffix));
	else
		snprintf(r, 320, "%s%s%s", a, c, PICK(suffix));
	return r;
}

static const char *upper(void)
{
	char *r = rbuf();

	snprintf(r, 320, "%s_%s", PICK(adjs), PICK(nouns));
	for (char *p = r; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	return r;
}

static const char *sentence(void)
{
	char *r = rbuf();
	size_t n = rr(6, 16), len = 0;

	for (size_t i = 0; i < n && len < 280; i++) {
		const char *w;
		switch (rn(5)) {
		case 0: case 1: w = PICK(small); break;
		case 2: w = PICK(nouns); break;
		case 3: w = PICK(verbs); break;
		default: w = PICK(adjs); break;
		}
		len += (size_t)snprintf(r + len, 320 - len, "%s%s", i ? " " : "", w);
	}
	if (len < 318) {
		r[len++] = '.';
		r[len] = '\0';
	}
	cap1(r);
	return r;
}

static void bpara(struct buf *b, size_t sentences, const char *indent)
{
	size_t col = 0;

	bs(b, indent);
	for (size_t i = 0; i < sentences; i++) {
		const char *s = sentence();
		size_t n = strlen(s);
		if (col && col + n > 76) {
			bc(b, '\n');
			bs(b, indent);
			col = 0;
		} else if (col) {
			bc(b, ' ');
			col++;
		}
		bs(b, s);
		col += n;
	}
	bc(b, '\n');
}

static const char *semver(void)
{
	char *r = rbuf();

	snprintf(r, 320, "%zu.%zu.%zu", rn(6), rn(30), rn(40));
	return r;
}

/* ------------------------------------------------- safe but wordy lines */

static const char *const py_safe[] = {
	"password = get_password()",
	"token = request.headers[\"Authorization\"]",
	"api_key = os.environ[\"API_KEY\"]",
	"password = \"changeme\"  # local development default, overridden in every deployment",
	"secret_key = os.environ.get(\"SECRET_KEY\", \"\")",
	"client_secret = settings.OAUTH_CLIENT_SECRET",
	"headers = {\"Authorization\": f\"Bearer {token}\"}",
	"db_password = config[\"database\"][\"password\"]",
	"token = auth_header.split(\" \", 1)[1]",
	"private_key = load_pem_private_key(pem_bytes, password=None)",
	"api_key = getattr(settings, \"STRIPE_API_KEY\", None)",
	"if not token:\n        raise PermissionError(\"missing bearer token\")",
	"access_token = resp.json()[\"access_token\"]",
	"password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
	"secret = boto3.client(\"secretsmanager\").get_secret_value(SecretId=secret_name)",
	"token_type = \"Bearer\"",
	"PASSWORD_RESET_TOKEN_TTL = 3600",
	"max_tokens = int(os.environ.get(\"MAX_TOKENS\", \"4096\"))",
};
static const char *const js_safe[] = {
	"const token = req.headers[\"authorization\"];",
	"const apiKey = process.env.API_KEY;",
	"const password = await getPassword(user.id);",
	"const secret = process.env.JWT_SECRET || \"\";",
	"const headers = { Authorization: `Bearer ${token}` };",
	"if (!apiKey) throw new Error(\"API_KEY is not set\");",
	"const accessToken = response.data.access_token;",
	"const { password, ...safeUser } = user;",
	"localStorage.removeItem(\"refresh_token\");",
	"const secretKey = config.get(\"stripe.secretKey\");",
	"const csrfToken = document.querySelector('meta[name=\"csrf-token\"]').content;",
	"const body = { model: \"gpt-4o-mini\", max_tokens: 1024, temperature: 0.2 };",
	"if (err.code === \"invalid_token\") return redirectToLogin();",
};
static const char *const go_safe[] = {
	"token := r.Header.Get(\"Authorization\")",
	"apiKey := os.Getenv(\"API_KEY\")",
	"password := viper.GetString(\"database.password\")",
	"req.Header.Set(\"Authorization\", \"Bearer \"+token)",
	"secret, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})",
	"if token == \"\" {\n\t\treturn nil, ErrMissingToken\n\t}",
	"hashed, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)",
};
static const char *const java_safe[] = {
	"String password = System.getenv(\"DB_PASSWORD\");",
	"String token = request.getHeader(\"Authorization\");",
	"this.apiKey = properties.getApiKey();",
	"char[] password = console.readPassword(\"Password: \");",
	"String secret = secretsClient.getSecretValue(req).secretString();",
};
static const char *const c_safe[] = {
	"const char *password = getenv(\"PGPASSWORD\");",
	"if (strcmp(token, expected) != 0)\n\t\treturn -EACCES;",
	"char token[64];",
	"explicit_bzero(secret, sizeof(secret));",
	"key = lookup_key(keyring, key_id);",
};
static const char *const yaml_safe[] = {
	"secret: ${SECRET}",
	"password: ${DB_PASSWORD}",
	"api_key: <your-api-key>",
	"token: \"{{ .Values.apiToken }}\"",
	"client_secret: ${OAUTH_CLIENT_SECRET:?set OAUTH_CLIENT_SECRET}",
	"password: changeme",
	"access_key: \"\"",
	"token_ttl: 3600",
	"password_min_length: 12",
	"existingSecret: app-credentials",
};

/* ----------------------------------------------------------- generators */

enum ftype {
	T_C, T_H, T_PY, T_JS, T_TS, T_GO, T_JAVA, T_YAML, T_WORKFLOW, T_JSON, T_MD, T_SH, T_CSS,
	T_HTML, T_MINJS, T_PKGLOCK, T_CARGOLOCK, T_GOSUM, T_DOCKERFILE, T_TOML, T_ENVDEV,
	T_ENVEXAMPLE, T_NPMRC, T_GITIGNORE, T_PKGJSON, T_GOMOD, T_REQS, T_MAKEFILE, T_CHANGELOG,
	T_PEM, T_SAJSON, T_PLAIN, NTYPES
};

static void c_stmt(struct buf *b)
{
	switch (rn(10)) {
	case 0: bf(b, "\tsize_t %s = %s->%s + %zu;\n", snake(), noun(), snake(), rn(64)); break;
	case 1: bf(b, "\tif (%s == NULL)\n\t\treturn -1;\n", noun()); break;
	case 2: bf(b, "\tfor (size_t i = 0; i < %s->n; i++)\n\t\t%s[i] = %s(%s, i);\n", noun(), noun(), snake(), noun()); break;
	case 3: bf(b, "\tmemcpy(%s, %s, sizeof(*%s));\n", noun(), noun(), noun()); break;
	case 4: bf(b, "\t/* %s */\n", sentence()); break;
	case 5: bf(b, "\t%s->%s = %s(%s);\n", noun(), snake(), snake(), noun()); break;
	case 6: bf(b, "\tif (%s(%s) < 0) {\n\t\tfprintf(stderr, \"%s: %%s\\n\", strerror(errno));\n\t\tgoto out;\n\t}\n", snake(), noun(), snake()); break;
	case 7: bf(b, "\tuint32_t %s = 0x%08llxu;\n", snake(), (unsigned long long)(rnd64() & 0xffffffffu)); break;
	case 8: bf(b, "\t%s += %s->%s * %zu;\n", noun(), noun(), snake(), rr(2, 16)); break;
	default: if (pct(30)) bf(b, "\t%s\n", PICK(c_safe)); else bf(b, "\tret = %s(%s, %s, %zu);\n", snake(), noun(), noun(), rn(4096)); break;
	}
}

static void gen_c(struct buf *b, size_t target, int header)
{
	static const char *const inc[] = {"stdio.h", "stdlib.h", "string.h", "stdint.h", "errno.h",
					  "unistd.h", "fcntl.h", "pthread.h", "sys/types.h", "assert.h"};
	const char *guard = upper();

	bf(b, "/*\n * %s\n *\n * Copyright (c) 20%02zu Acme Corp. All rights reserved.\n */\n", sentence(), rr(15, 25));
	if (header)
		bf(b, "#ifndef %s_H\n#define %s_H\n\n", guard, guard);
	for (size_t i = 0, n = rr(2, 6); i < n; i++)
		bf(b, "#include <%s>\n", PICK(inc));
	bf(b, "#include \"%s.h\"\n\n", noun());
	while (b->len < target) {
		bmark(b);
		switch (header ? rn(3) : rn(6)) {
		case 0:
			bf(b, "#define %s %zu\n\n", upper(), rr(1, 65536));
			break;
		case 1:
			bf(b, "struct %s {\n", noun());
			for (size_t i = 0, n = rr(2, 8); i < n; i++)
				bf(b, "\t%s %s;\n", PICK(((const char *[]){"int", "size_t", "uint64_t", "char *", "const char *", "double", "struct list"})), snake());
			bs(b, "};\n\n");
			break;
		case 2:
			bf(b, "int %s(struct %s *%s, size_t len);\n\n", snake(), noun(), noun());
			break;
		default:
			bf(b, "%sint %s(struct %s *%s, size_t len)\n{\n\tint ret = 0;\n\n", pct(50) ? "static " : "", snake(), noun(), noun());
			for (size_t i = 0, n = rr(3, 14); i < n; i++)
				c_stmt(b);
			bs(b, "out:\n\treturn ret;\n}\n\n");
			break;
		}
	}
	if (header)
		bf(b, "#endif /* %s_H */\n", guard);
}

static void py_stmt(struct buf *b, const char *ind)
{
	switch (rn(11)) {
	case 0: bf(b, "%s%s = %s(%s)\n", ind, snake(), snake(), snake()); break;
	case 1: bf(b, "%sif %s is None:\n%s    return %s\n", ind, snake(), ind, pct(50) ? "None" : "[]"); break;
	case 2: bf(b, "%sfor %s in %s:\n%s    %s.append(%s)\n", ind, noun(), snake(), ind, snake(), noun()); break;
	case 3: bf(b, "%slogger.info(\"%s %%s\", %s)\n", ind, sentence(), snake()); break;
	case 4: bf(b, "%s%s = {\"%s\": %s, \"%s\": \"%s\"}\n", ind, snake(), noun(), snake(), noun(), snake()); break;
	case 5: bf(b, "%s# %s\n", ind, sentence()); break;
	case 6: bf(b, "%scache_key = f\"%s:{%s}\"\n", ind, noun(), snake()); break;
	case 7: bf(b, "%s%s = self.%s.%s(%s, timeout=%zu)\n", ind, snake(), noun(), snake(), snake(), rr(1, 60)); break;
	case 8: { struct buf u = {0}; buuid(&u); bf(b, "%srequest_id = \"%s\"\n", ind, u.p); free(u.p); break; }
	case 9: bf(b, "%stry:\n%s    %s = %s(%s)\n%sexcept %sError as exc:\n%s    raise %sError(\"%s\") from exc\n", ind, ind, snake(), snake(), noun(), ind, cap1(strcpy(rbuf(), noun())), ind, pascal(), sentence()); break;
	default: if (pct(35)) bf(b, "%s%s\n", ind, PICK(py_safe)); else bf(b, "%sreturn %s\n", ind, snake()); break;
	}
}

static void gen_py(struct buf *b, size_t target)
{
	static const char *const mods[] = {"os", "json", "logging", "time", "re", "hashlib", "uuid",
					   "datetime", "typing", "dataclasses", "pathlib", "asyncio"};

	bf(b, "\"\"\"%s\n\n%s\n\"\"\"\n", sentence(), sentence());
	for (size_t i = 0, n = rr(2, 6); i < n; i++)
		bf(b, "import %s\n", PICK(mods));
	bf(b, "from .%s import %s, %s\n\nlogger = logging.getLogger(__name__)\n\n", noun(), pascal(), pascal());
	if (pct(30)) {
		bf(b, "EXPECTED_SHA256 = \"");
		brand(b, 64, HEX);
		bs(b, "\"\n");
	}
	bf(b, "%s = %zu\n\n", upper(), rr(1, 10000));
	while (b->len < target) {
		bmark(b);
		if (pct(40)) {
			bf(b, "\nclass %s:\n    \"\"\"%s\"\"\"\n\n    def __init__(self, %s, %s=None):\n        self.%s = %s\n\n", pascal(), sentence(), noun(), snake(), noun(), noun());
			for (size_t m = 0, nm = rr(1, 4); m < nm; m++) {
				bf(b, "    def %s(self, %s):\n", snake(), snake());
				for (size_t i = 0, n = rr(2, 9); i < n; i++)
					py_stmt(b, "        ");
				bf(b, "        return %s\n\n", snake());
			}
		} else {
			bf(b, "\n%sdef %s(%s, %s=%s):\n    \"\"\"%s\"\"\"\n", pct(20) ? "async " : "", snake(), snake(), snake(), pct(50) ? "None" : "0", sentence());
			for (size_t i = 0, n = rr(2, 12); i < n; i++)
				py_stmt(b, "    ");
			bf(b, "    return %s\n\n", snake());
		}
	}
}

static void js_stmt(struct buf *b, const char *ind)
{
	switch (rn(11)) {
	case 0: bf(b, "%sconst %s = %s(%s);\n", ind, camel(), camel(), camel()); break;
	case 1: bf(b, "%sif (!%s) {\n%s  return null;\n%s}\n", ind, camel(), ind, ind); break;
	case 2: bf(b, "%sfor (const %s of %s) {\n%s  %s.push(%s.%s);\n%s}\n", ind, noun(), camel(), ind, camel(), noun(), camel(), ind); break;
	case 3: bf(b, "%sconsole.debug(\"%s\", %s);\n", ind, sentence(), camel()); break;
	case 4: bf(b, "%sconst %s = await fetch(`/api/v%zu/%s/${%s}`);\n", ind, camel(), rr(1, 3), noun(), camel()); break;
	case 5: bf(b, "%s// %s\n", ind, sentence()); break;
	case 6: bf(b, "%sconst { %s, %s } = %s;\n", ind, camel(), camel(), camel()); break;
	case 7: bf(b, "%s%s.%s = %s.map((%s) => %s.%s);\n", ind, camel(), camel(), camel(), noun(), noun(), camel()); break;
	case 8: { struct buf u = {0}; buuid(&u); bf(b, "%sconst %sId = \"%s\";\n", ind, noun(), u.p); free(u.p); break; }
	case 9:
		if (pct(5)) { /* publishable keys are public by design */
			bf(b, "%sconst stripe = await loadStripe(\"pk_live_51", ind);
			brand(b, 97, B62);
			bs(b, "\");\n");
			break;
		}
		/* fall through */
	default: if (pct(35)) bf(b, "%s%s\n", ind, PICK(js_safe)); else bf(b, "%sreturn %s;\n", ind, camel()); break;
	}
}

static void gen_js(struct buf *b, size_t target, int ts)
{
	for (size_t i = 0, n = rr(2, 6); i < n; i++)
		bf(b, "import { %s, %s } from \"%s%s\";\n", camel(), pascal(), pct(50) ? "./" : "@acme/", noun());
	bf(b, "\nexport const %s = %zu;\n\n", upper(), rr(1, 5000));
	while (b->len < target) {
		bmark(b);
		switch (rn(ts ? 4 : 3)) {
		case 0:
			if (ts)
				bf(b, "export async function %s(%s: %s, %s?: string): Promise<%s> {\n", camel(), camel(), pascal(), camel(), pascal());
			else
				bf(b, "export async function %s(%s, %s) {\n", camel(), camel(), camel());
			for (size_t i = 0, n = rr(2, 10); i < n; i++)
				js_stmt(b, "  ");
			bs(b, "}\n\n");
			break;
		case 1:
			bf(b, "export class %s {\n  constructor(%s%s) {\n    this.%s = %s;\n  }\n\n", pascal(), camel(), ts ? ": string" : "", noun(), noun());
			for (size_t m = 0, nm = rr(1, 4); m < nm; m++) {
				bf(b, "  async %s(%s%s) {\n", camel(), camel(), ts ? ": number" : "");
				for (size_t i = 0, n = rr(2, 8); i < n; i++)
					js_stmt(b, "    ");
				bs(b, "  }\n\n");
			}
			bs(b, "}\n\n");
			break;
		case 2:
			bf(b, "export const %s = (%s) => {\n", camel(), camel());
			for (size_t i = 0, n = rr(1, 6); i < n; i++)
				js_stmt(b, "  ");
			bs(b, "};\n\n");
			break;
		default:
			bf(b, "export interface %s {\n", pascal());
			for (size_t i = 0, n = rr(2, 9); i < n; i++)
				bf(b, "  %s%s: %s;\n", camel(), pct(30) ? "?" : "", PICK(((const char *[]){"string", "number", "boolean", "Date", "string[]", "Record<string, unknown>"})));
			bs(b, "}\n\n");
			break;
		}
	}
}

static void go_stmt(struct buf *b)
{
	switch (rn(9)) {
	case 0: bf(b, "\t%s, err := s.%s.%s(ctx, %s)\n\tif err != nil {\n\t\treturn nil, fmt.Errorf(\"%s: %%w\", err)\n\t}\n", camel(), camel(), pascal(), camel(), snake()); break;
	case 1: bf(b, "\t%s := make([]%s, 0, len(%s))\n", camel(), pascal(), camel()); break;
	case 2: bf(b, "\tfor _, %s := range %s {\n\t\t%s = append(%s, %s.%s)\n\t}\n", noun(), camel(), camel(), camel(), noun(), pascal()); break;
	case 3: bf(b, "\t// %s\n", sentence()); break;
	case 4: bf(b, "\ts.log.Info(\"%s\", \"%s\", %s)\n", sentence(), noun(), camel()); break;
	case 5: bf(b, "\tif %s == nil {\n\t\treturn nil, ErrNotFound\n\t}\n", camel()); break;
	case 6: bf(b, "\tctx, cancel := context.WithTimeout(ctx, %zu*time.Second)\n\tdefer cancel()\n", rr(1, 30)); break;
	case 7: bf(b, "\t%s.%s = %s\n", camel(), pascal(), camel()); break;
	default: if (pct(35)) bf(b, "\t%s\n", PICK(go_safe)); else bf(b, "\t%s := %s(%s)\n", camel(), camel(), camel()); break;
	}
}

static void gen_go(struct buf *b, size_t target)
{
	static const char *const imp[] = {"context", "fmt", "errors", "net/http", "time", "strings",
					  "encoding/json", "os", "sync", "github.com/acme/platform/log"};

	bf(b, "// Package %s %s\npackage %s\n\nimport (\n", noun(), sentence(), noun());
	for (size_t i = 0, n = rr(2, 7); i < n; i++)
		bf(b, "\t\"%s\"\n", PICK(imp));
	bs(b, ")\n\n");
	while (b->len < target) {
		bmark(b);
		if (pct(35)) {
			bf(b, "// %s %s\ntype %s struct {\n", pascal(), sentence(), pascal());
			for (size_t i = 0, n = rr(2, 9); i < n; i++) {
				const char *f = snake();
				bf(b, "\t%s %s `json:\"%s,omitempty\"`\n", pascal(), PICK(((const char *[]){"string", "int64", "bool", "time.Time", "[]string", "*Config", "map[string]string"})), f);
			}
			bs(b, "}\n\n");
		} else {
			const char *recv = pascal();
			bf(b, "// %s %s\nfunc (s *%s) %s(ctx context.Context, %s string) (*%s, error) {\n", camel(), sentence(), recv, pascal(), camel(), pascal());
			for (size_t i = 0, n = rr(2, 10); i < n; i++)
				go_stmt(b);
			bf(b, "\treturn &%s{}, nil\n}\n\n", pascal());
		}
	}
}

static void gen_java(struct buf *b, size_t target, const char *pkg)
{
	static const char *const imp[] = {"java.util.List", "java.util.Map", "java.util.Optional",
					  "java.time.Instant", "java.util.concurrent.CompletableFuture",
					  "org.springframework.stereotype.Service",
					  "org.slf4j.Logger", "org.slf4j.LoggerFactory"};
	const char *cls = pascal();

	bf(b, "package com.acme.%s;\n\n", pkg);
	for (size_t i = 0, n = rr(2, 7); i < n; i++)
		bf(b, "import %s;\n", PICK(imp));
	bf(b, "\n/**\n * %s\n */\n@Service\npublic class %s {\n    private static final Logger log = LoggerFactory.getLogger(%s.class);\n\n", sentence(), cls, cls);
	while (b->len + 4 < target) {
		bmark(b);
		bf(b, "    /**\n     * %s\n     */\n    public %s %s(%s %s) {\n", sentence(), pascal(), camel(), pascal(), camel());
		for (size_t i = 0, n = rr(2, 10); i < n; i++) {
			switch (rn(7)) {
			case 0: bf(b, "        %s %s = %s.%s(%s);\n", pascal(), camel(), camel(), camel(), camel()); break;
			case 1: bf(b, "        if (%s == null) {\n            throw new IllegalArgumentException(\"%s\");\n        }\n", camel(), sentence()); break;
			case 2: bf(b, "        log.info(\"%s {}\", %s);\n", sentence(), camel()); break;
			case 3: bf(b, "        // %s\n", sentence()); break;
			case 4: bf(b, "        for (%s %s : %s) {\n            %s.add(%s.get%s());\n        }\n", pascal(), noun(), camel(), camel(), noun(), pascal()); break;
			case 5: if (pct(40)) { bf(b, "        %s\n", PICK(java_safe)); break; } /* fall through */
			default: bf(b, "        %s.set%s(%s);\n", camel(), pascal(), camel()); break;
			}
		}
		bf(b, "        return new %s();\n    }\n\n", pascal());
	}
	bs(b, "}\n");
}

static void gen_yaml(struct buf *b, size_t target)
{
	while (b->len < target) {
		bmark(b);
		switch (rn(5)) {
		case 0: {
			const char *app = PICK(projects);
			bf(b, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n  labels:\n    app: %s\nspec:\n  replicas: %zu\n  template:\n    spec:\n      containers:\n        - name: %s\n          image: registry.acme.internal/%s@sha256:",
			   app, app, rr(1, 6), app, app);
			brand(b, 64, HEX);
			bs(b, "\n          env:\n");
			for (size_t i = 0, n = rr(2, 6); i < n; i++) {
				const char *v = upper();
				if (pct(50))
					bf(b, "            - name: %s_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: %s-secrets\n                  key: %s\n", v, app, snake());
				else
					bf(b, "            - name: %s\n              value: \"%s\"\n", v, pct(50) ? "true" : semver());
			}
			break;
		}
		case 1:
			bf(b, "%s:\n", snake());
			for (size_t i = 0, n = rr(2, 10); i < n; i++) {
				if (pct(12))
					bf(b, "  %s\n", PICK(yaml_safe));
				else if (pct(20))
					bf(b, "  %s: %s\n", snake(), pct(50) ? "true" : "false");
				else if (pct(25))
					bf(b, "  %s: %zu\n", snake(), rn(100000));
				else
					bf(b, "  %s: \"%s\"\n", snake(), snake());
			}
			break;
		case 2:
			bf(b, "# %s\n", sentence());
			break;
		case 3:
			bf(b, "%s:\n  url: https://%s.%s.acme.internal/%s\n  timeout: %zus\n  retries: %zu\n", snake(), noun(), PICK(envs), noun(), rr(1, 120), rn(10));
			break;
		default:
			bf(b, "%s:\n", noun());
			for (size_t i = 0, n = rr(2, 6); i < n; i++)
				bf(b, "  - %s\n", snake());
			break;
		}
	}
}

static void gen_workflow(struct buf *b, size_t target)
{
	bf(b, "name: %s\n\non:\n  push:\n    branches: [main]\n  pull_request:\n\njobs:\n", pct(50) ? "CI" : "Deploy");
	while (b->len < target) {
		bmark(b);
		bf(b, "  %s:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@", snake());
		brand(b, 40, HEX);
		bf(b, " # v4\n      - name: %s\n        run: make %s\n        env:\n          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n",
		   sentence(), noun());
	}
}

static void gen_json(struct buf *b, size_t target)
{
	bs(b, "{\n");
	bf(b, "  \"name\": \"%s\",\n  \"version\": \"%s\"", noun(), semver());
	while (b->len < target) {
		bs(b, ",\n");
		bmark(b);
		switch (rn(5)) {
		case 0:
			bf(b, "  \"%s\": [\n", camel());
			for (size_t i = 0, n = rr(1, 8); i < n; i++) {
				bs(b, "    { \"id\": \"");
				buuid(b);
				bf(b, "\", \"%s\": \"%s\", \"%s\": %zu, \"createdAt\": \"2025-%02zu-%02zuT%02zu:%02zu:00Z\" }%s\n", camel(), sentence(), camel(), rn(1000), rr(1, 12), rr(1, 28), rn(24), rn(60), i + 1 < n ? "," : "");
			}
			bs(b, "  ]");
			break;
		case 1:
			bf(b, "  \"%s\": {\n    \"enabled\": %s,\n    \"%s\": \"%s\",\n    \"%s\": %zu\n  }", camel(), pct(50) ? "true" : "false", camel(), snake(), camel(), rn(5000));
			break;
		case 2:
			bf(b, "  \"%s\": \"", camel());
			brand(b, 40, HEX);
			bs(b, "\"");
			break;
		case 3:
			if (pct(20)) { /* a user fixture: password hashes are not passwords */
				bf(b, "  \"%s\": {\n    \"email\": \"%s@acme.test\",\n    \"password\": \"$2b$12$", noun(), noun());
				brand(b, 53, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
				bs(b, "\",\n    \"roles\": [\"member\"]\n  }");
				break;
			}
			if (pct(20)) {
				bs(b, "  \"login\": {\n    \"password\": \"Password\",\n    \"forgot_password\": \"Forgot your password?\",\n    \"token_expired\": \"Your session has expired. Please sign in again.\"\n  }");
				break;
			}
			/* fall through */
		default:
			bf(b, "  \"%s\": \"%s\"", camel(), sentence());
			break;
		}
	}
	bs(b, "\n}\n");
}

static void gen_md(struct buf *b, size_t target)
{
	bf(b, "# %s\n\n", pascal());
	bpara(b, rr(2, 5), "");
	while (b->len < target) {
		bs(b, "\n");
		bmark(b);
		switch (rn(9)) {
		case 0: bf(b, "## %s\n\n", sentence()); bpara(b, rr(2, 6), ""); break;
		case 1:
			bs(b, "```bash\n");
			for (size_t i = 0, n = rr(1, 5); i < n; i++)
				bf(b, "%s %s --%s=%s\n", PICK(((const char *[]){"make", "./scripts/run.sh", "kubectl apply -f", "npm run", "go run ./cmd/server"})), noun(), noun(), snake());
			bs(b, "```\n");
			break;
		case 2:
			for (size_t i = 0, n = rr(2, 6); i < n; i++)
				bf(b, "- %s\n", sentence());
			break;
		case 3:
			bf(b, "| %s | %s | %s |\n|---|---|---|\n", noun(), noun(), noun());
			for (size_t i = 0, n = rr(2, 8); i < n; i++)
				bf(b, "| `%s` | %zu | %s |\n", snake(), rn(1000), sentence());
			break;
		case 4:
			switch (rn(6)) {
			case 0:
				bs(b, "To run against AWS, export credentials first (these are the documentation values; use your own):\n\n```bash\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n```\n");
				break;
			case 1:
				bs(b, "Call the API with a personal access token:\n\n```bash\ncurl -H \"Authorization: token <your-token>\" https://api.github.com/user\n```\n");
				break;
			case 2:
				bs(b, "Put the token in `.env` (never commit it):\n\n```\nGITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nSTRIPE_SECRET_KEY=sk_live_...\n```\n");
				break;
			case 3:
				bs(b, "The local database runs in Docker:\n\n```\nDATABASE_URL=postgres://postgres:postgres@localhost:5432/app_dev\n```\n\nThe default admin login is `admin` with `password = \"changeme\"`; change it on first start.\n");
				break;
			case 4:
				bs(b, "Configuration keys:\n\n```yaml\napi_key: ${API_KEY}\nsecret: ${SECRET}\ntoken: <your-token>\n```\n");
				break;
			default:
				bs(b, "The service reads `api_key = os.environ[\"API_KEY\"]` at start-up and never logs it.\n");
				break;
			}
			break;
		case 5:
			bs(b, "```json\n{\n");
			for (size_t i = 0, n = rr(2, 6); i < n; i++)
				bf(b, "  \"%s\": \"%s\"%s\n", camel(), snake(), i + 1 < n ? "," : "");
			bs(b, "}\n```\n");
			break;
		default:
			bpara(b, rr(2, 7), "");
			break;
		}
	}
}

static void gen_changelog(struct buf *b, size_t target)
{
	bs(b, "# Changelog\n\n");
	while (b->len < target) {
		bmark(b);
		bf(b, "## [%s] - 20%02zu-%02zu-%02zu\n\n", semver(), rr(19, 25), rr(1, 12), rr(1, 28));
		for (size_t i = 0, n = rr(2, 9); i < n; i++) {
			bf(b, "- %s (", sentence());
			brand(b, pct(50) ? 7 : 40, HEX);
			bf(b, ", #%zu)\n", rr(10, 9000));
		}
		bs(b, "\n");
	}
}

static void gen_sh(struct buf *b, size_t target)
{
	bf(b, "#!/bin/sh\n# %s\nset -eu\n\n", sentence());
	bf(b, ": \"${%s:?set %s}\"\n", upper(), noun());
	bs(b, "TOKEN=\"${GITHUB_TOKEN:-}\"\n\n");
	while (b->len < target) {
		bmark(b);
		bf(b, "%s() {\n", snake());
		for (size_t i = 0, n = rr(2, 8); i < n; i++) {
			switch (rn(6)) {
			case 0: bf(b, "\techo \"%s\" >&2\n", sentence()); break;
			case 1: bf(b, "\tif [ -z \"${%s:-}\" ]; then\n\t\treturn 1\n\tfi\n", upper()); break;
			case 2: bf(b, "\tcurl -fsS -H \"Authorization: Bearer $TOKEN\" \"https://api.acme.internal/v1/%s\" -o \"$tmp/%s.json\"\n", noun(), noun()); break;
			case 3: bf(b, "\tkubectl -n %s rollout status deploy/%s --timeout=%zus\n", PICK(envs), PICK(projects), rr(30, 600)); break;
			case 4: bf(b, "\t# %s\n", sentence()); break;
			default: bf(b, "\t%s=\"$(%s \"$1\")\"\n", snake(), snake()); break;
			}
		}
		bs(b, "}\n\n");
	}
}

static void gen_css(struct buf *b, size_t target)
{
	bf(b, "/* %s */\n:root {\n  --%s: #%06llx;\n}\n\n", sentence(), noun(), (unsigned long long)(rnd64() & 0xffffff));
	while (b->len < target) {
		bf(b, ".%s-%s {\n", noun(), noun());
		for (size_t i = 0, n = rr(2, 7); i < n; i++)
			bf(b, "  %s;\n", PICK(((const char *[]){"display: flex", "margin: 0 auto", "padding: 8px 16px", "color: var(--fg)", "border-radius: 4px", "font-size: 14px", "position: relative", "z-index: 10"})));
		if (pct(15)) {
			bs(b, "  background-image: url(");
			bdatauri(b, rr(300, pct(20) ? 60000 : 6000));
			bs(b, ");\n");
		}
		bs(b, "}\n\n");
	}
}

static void gen_html(struct buf *b, size_t target)
{
	bf(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n  <title>%s</title>\n  <meta name=\"csrf-token\" content=\"{{ csrf_token }}\">\n", pascal());
	bs(b, "  <script src=\"/assets/app.js\" integrity=\"sha384-");
	brand(b, 64, B64);
	bs(b, "\" crossorigin=\"anonymous\"></script>\n</head>\n<body>\n");
	while (b->len < target) {
		switch (rn(4)) {
		case 0: bf(b, "  <h2>%s</h2>\n", sentence()); break;
		case 1: bf(b, "  <p>%s %s</p>\n", sentence(), sentence()); break;
		case 2:
			bf(b, "  <img alt=\"%s\" width=\"%zu\" src=\"", noun(), rr(16, 400));
			bdatauri(b, rr(200, 20000));
			bs(b, "\">\n");
			break;
		default: bf(b, "  <a href=\"/%s/%s\" class=\"%s\">%s</a>\n", noun(), noun(), noun(), sentence()); break;
		}
	}
	bs(b, "</body>\n</html>\n");
}

static void gen_minjs(struct buf *b, size_t target)
{
	bf(b, "/*! %s v%s | (c) Acme Corp | MIT License */\n", noun(), semver());
	while (b->len < target) {
		size_t line_end = b->len + rr(20000, 400000);
		bs(b, "!function(e,t){\"use strict\";");
		while (b->len < line_end && b->len < target) {
			char v = LOWER[rn(26)], w = LOWER[rn(26)];
			switch (rn(9)) {
			case 0: bf(b, "var %c%c=function(%c){return %c.%s||%c.%s(\"%s\")};", v, w, v, v, camel(), v, camel(), noun()); break;
			case 1: bf(b, "function %c%c(%c,%c){if(!%c)throw new Error(\"%s\");return %c[%c]}", v, w, v, w, v, sentence(), v, w); break;
			case 2: bf(b, "%c.%s=%c.%s.bind(%c);", v, camel(), w, camel(), v); break;
			case 3: bf(b, "const %c%zu={%s:%zu,%s:\"%s\",%s:!%zu};", v, rn(99), camel(), rn(1000), camel(), snake(), camel(), rn(2)); break;
			case 4: bf(b, "for(var %c=0;%c<%c.length;%c++)%c[%c]=%c(%c[%c]);", v, v, w, v, w, v, v, w, v); break;
			case 5: bf(b, "%c.exports={%s:%c,%s:%c};", v, camel(), w, camel(), v); break;
			case 6: bf(b, "e.headers.Authorization=\"Bearer \"+%c.token;", v); break;
			case 7: bs(b, "var h=\""); brand(b, 64, HEX); bs(b, "\";"); break;
			default: bf(b, "return %c?%c.%s(%c):void 0;", v, v, camel(), w); break;
			}
		}
		bs(b, "}(this,window);\n");
	}
	bs(b, "//# sourceMappingURL=app.min.js.map\n");
}

static const char *pkgname(void)
{
	static const char *const scopes[] = {"", "", "", "@babel/", "@types/", "@acme/", "@aws-sdk/"};
	char *r = rbuf();

	snprintf(r, 320, "%s%s-%s", PICK(scopes), PICK(verbs), PICK(nouns));
	return r;
}

static void gen_pkglock(struct buf *b, size_t target)
{
	unsigned char d[64];

	bf(b, "{\n  \"name\": \"%s\",\n  \"version\": \"%s\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"%s\",\n      \"version\": \"%s\"\n    }",
	   noun(), semver(), noun(), semver());
	while (b->len < target) {
		const char *p = pkgname(), *v = semver(), *base = strrchr(p, '/');
		base = base ? base + 1 : p;
		bf(b, ",\n    \"node_modules/%s\": {\n      \"version\": \"%s\",\n      \"resolved\": \"https://registry.npmjs.org/%s/-/%s-%s.tgz\",\n      \"integrity\": \"sha512-", p, v, p, base, v);
		randbytes(d, 64);
		bb64(b, d, 64, B64, 1);
		bs(b, "\"");
		if (pct(40))
			bs(b, ",\n      \"dev\": true");
		if (pct(50)) {
			bs(b, ",\n      \"dependencies\": {\n");
			for (size_t i = 0, n = rr(1, 5); i < n; i++)
				bf(b, "        \"%s\": \"^%s\"%s\n", pkgname(), semver(), i + 1 < n ? "," : "");
			bs(b, "      }");
		}
		if (pct(20))
			bf(b, ",\n      \"engines\": {\n        \"node\": \">=%zu\"\n      }", rr(12, 20));
		bs(b, "\n    }");
	}
	bs(b, "\n  }\n}\n");
}

static void gen_cargolock(struct buf *b, size_t target)
{
	bs(b, "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 3\n\n");
	while (b->len < target) {
		bf(b, "[[package]]\nname = \"%s-%s\"\nversion = \"%s\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"", PICK(nouns), PICK(nouns), semver());
		brand(b, 64, HEX);
		bs(b, "\"\n");
		if (pct(60)) {
			bs(b, "dependencies = [\n");
			for (size_t i = 0, n = rr(1, 6); i < n; i++)
				bf(b, " \"%s-%s\",\n", PICK(nouns), PICK(nouns));
			bs(b, "]\n");
		}
		bs(b, "\n");
	}
}

static void gen_gosum(struct buf *b, size_t target)
{
	unsigned char d[32];

	while (b->len < target) {
		char *m = rbuf();
		const char *v = semver();
		snprintf(m, 320, "%s/%s/%s", PICK(((const char *[]){"github.com", "golang.org/x", "google.golang.org", "go.uber.org", "gopkg.in"})), PICK(nouns), PICK(verbs));
		bf(b, "%s v%s h1:", m, v);
		randbytes(d, 32);
		bb64(b, d, 32, B64, 1);
		bf(b, "\n%s v%s/go.mod h1:", m, v);
		randbytes(d, 32);
		bb64(b, d, 32, B64, 1);
		bs(b, "\n");
	}
}

static void gen_dockerfile(struct buf *b, size_t target)
{
	bf(b, "# syntax=docker/dockerfile:1\nFROM %s@sha256:", PICK(((const char *[]){"node:20-alpine", "python:3.12-slim", "golang:1.22", "eclipse-temurin:21-jre"})));
	brand(b, 64, HEX);
	bs(b, " AS build\nWORKDIR /src\n");
	while (b->len < target) {
		bmark(b);
		switch (rn(5)) {
		case 0: bf(b, "COPY %s/ ./%s/\n", noun(), noun()); break;
		case 1: bf(b, "RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci --omit=dev\n"); break;
		case 2: bf(b, "ENV %s=%s\n", upper(), pct(50) ? "production" : semver()); break;
		case 3: bf(b, "# %s\n", sentence()); break;
		default: bf(b, "RUN make %s && rm -rf /tmp/%s\n", noun(), noun()); break;
		}
	}
	bs(b, "USER 10001\nENTRYPOINT [\"/app/server\"]\n");
}

static void gen_toml(struct buf *b, size_t target)
{
	bf(b, "[project]\nname = \"%s\"\nversion = \"%s\"\ndescription = \"%s\"\n\n", noun(), semver(), sentence());
	while (b->len < target) {
		bmark(b);
		bf(b, "[tool.%s]\n", noun());
		for (size_t i = 0, n = rr(1, 5); i < n; i++)
			bf(b, "%s = %s\n", snake(), pct(50) ? "true" : "\"strict\"");
		bs(b, "\n");
	}
}

static void gen_env(struct buf *b, size_t target, int example)
{
	static const char *const dev[] = {
		"NODE_ENV=development", "LOG_LEVEL=debug", "PORT=3000", "API_URL=http://localhost:8080",
		"SESSION_SECRET=changeme", "DB_PASSWORD=", "REDIS_URL=redis://localhost:6379/0",
		"DATABASE_URL=postgres://postgres:postgres@localhost:5432/app_dev", "FEATURE_FLAGS=beta,search",
		"SENTRY_DSN=", "STRIPE_SECRET_KEY=", "JWT_SECRET=${SESSION_SECRET}",
	};
	static const char *const ex[] = {
		"API_KEY=<your-api-key>", "GITHUB_TOKEN=<your-token>", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "STRIPE_SECRET_KEY=sk_live_your_key_here",
		"DB_PASSWORD=changeme", "SLACK_BOT_TOKEN=xoxb-your-bot-token", "SECRET_KEY=replace-me",
	};

	bf(b, "# %s\n", sentence());
	while (b->len < target) {
		bmark(b);
		bf(b, "%s\n", example ? PICK(ex) : PICK(dev));
	}
}

static void gen_small(struct buf *b, int type, const char *proj)
{
	switch (type) {
	case T_NPMRC:
		bs(b, "registry=https://registry.npmjs.org/\n@acme:registry=https://npm.pkg.github.com/\n");
		bmark(b);
		bs(b, "//npm.pkg.github.com/:_authToken=${NPM_TOKEN}\nsave-exact=true\n");
		break;
	case T_GITIGNORE:
		bs(b, "node_modules/\ndist/\n*.log\n.env\n.env.local\n__pycache__/\n*.pyc\n/build/\ncoverage/\n.idea/\n.DS_Store\n");
		break;
	case T_PKGJSON:
		bf(b, "{\n  \"name\": \"@acme/%s\",\n  \"version\": \"%s\",\n  \"private\": true,\n  \"scripts\": {\n    \"build\": \"vite build\",\n    \"test\": \"vitest run\",\n    \"lint\": \"eslint .\"\n  },\n  \"dependencies\": {\n", proj, semver());
		for (size_t i = 0, n = rr(3, 15); i < n; i++)
			bf(b, "    \"%s\": \"^%s\"%s\n", pkgname(), semver(), i + 1 < n ? "," : "");
		bs(b, "  }\n}\n");
		break;
	case T_GOMOD:
		bf(b, "module github.com/acme/%s\n\ngo 1.22\n\nrequire (\n", proj);
		for (size_t i = 0, n = rr(3, 20); i < n; i++)
			bf(b, "\tgithub.com/%s/%s v%s\n", PICK(nouns), PICK(verbs), semver());
		bs(b, ")\n");
		break;
	case T_REQS:
		for (size_t i = 0, n = rr(5, 30); i < n; i++)
			bf(b, "%s-%s==%s\n", PICK(verbs), PICK(nouns), semver());
		break;
	case T_MAKEFILE:
		bf(b, "# %s\n.PHONY: all test lint\n\nall: build\n\n", sentence());
		for (size_t i = 0, n = rr(3, 12); i < n; i++)
			bf(b, "%s:\n\t$(GO) %s ./%s/...\n\n", noun(), PICK(verbs), noun());
		break;
	default:
		bpara(b, rr(2, 10), "");
		break;
	}
}

static void generate(struct buf *b, int type, size_t target, const char *proj)
{
	switch (type) {
	case T_C: gen_c(b, target, 0); break;
	case T_H: gen_c(b, target, 1); break;
	case T_PY: gen_py(b, target); break;
	case T_JS: gen_js(b, target, 0); break;
	case T_TS: gen_js(b, target, 1); break;
	case T_GO: gen_go(b, target); break;
	case T_JAVA: gen_java(b, target, proj); break;
	case T_YAML: gen_yaml(b, target); break;
	case T_WORKFLOW: gen_workflow(b, target); break;
	case T_JSON: gen_json(b, target); break;
	case T_MD: gen_md(b, target); break;
	case T_CHANGELOG: gen_changelog(b, target); break;
	case T_SH: gen_sh(b, target); break;
	case T_CSS: gen_css(b, target); break;
	case T_HTML: gen_html(b, target); break;
	case T_MINJS: gen_minjs(b, target); break;
	case T_PKGLOCK: gen_pkglock(b, target); break;
	case T_CARGOLOCK: gen_cargolock(b, target); break;
	case T_GOSUM: gen_gosum(b, target); break;
	case T_DOCKERFILE: gen_dockerfile(b, target); break;
	case T_TOML: gen_toml(b, target); break;
	case T_ENVDEV: gen_env(b, target, 0); break;
	case T_ENVEXAMPLE: gen_env(b, target, 1); break;
	case T_PEM: case T_SAJSON: break; /* all plant */
	default: gen_small(b, type, proj); break;
	}
}

/* ------------------------------------------------------------ plants */

enum kind {
	K_AWS, K_GHP, K_GHFG, K_GLPAT, K_NPM, K_STRIPE, K_STRIPE_RK, K_SLACK_BOT, K_SLACK_HOOK,
	K_RSA, K_EC, K_OPENSSH, K_PKCS8, K_GCP, K_GOOGLE, K_OPENAI, K_ANTHROPIC, K_PG, K_MYSQL,
	K_MONGO, K_REDIS, K_SENDGRID, K_TWILIO, K_HF, K_DOCKER, K_DO, K_VAULT, K_AZURE, K_DD,
	K_PASSWORD, K_TELEGRAM, K_DISCORD, K_SHOPIFY, K_PYPI, K_MAILGUN, K_AGE, NKINDS
};

static const struct kinfo {
	const char *label;
	const char *names[3];
} kinds[NKINDS] = {
	[K_AWS] = {"aws-access-key-id", {"AWS_ACCESS_KEY_ID"}},
	[K_GHP] = {"github-pat", {"GITHUB_TOKEN", "GH_TOKEN", "TOKEN"}},
	[K_GHFG] = {"github-fine-grained-pat", {"GITHUB_TOKEN", "GH_PAT", "RELEASE_TOKEN"}},
	[K_GLPAT] = {"gitlab-pat", {"GITLAB_TOKEN", "GL_TOKEN", "CI_PUSH_TOKEN"}},
	[K_NPM] = {"npm-token", {"NPM_TOKEN", "NPM_AUTH_TOKEN", "NODE_AUTH_TOKEN"}},
	[K_STRIPE] = {"stripe-live-secret", {"STRIPE_SECRET_KEY", "STRIPE_API_KEY", "STRIPE_KEY"}},
	[K_STRIPE_RK] = {"stripe-restricted-key", {"STRIPE_RESTRICTED_KEY", "STRIPE_KEY", "BILLING_STRIPE_KEY"}},
	[K_SLACK_BOT] = {"slack-bot-token", {"SLACK_BOT_TOKEN", "SLACK_TOKEN", "BOT_TOKEN"}},
	[K_SLACK_HOOK] = {"slack-webhook", {"SLACK_WEBHOOK_URL", "ALERTS_WEBHOOK", "SLACK_HOOK"}},
	[K_RSA] = {"private-key-rsa", {"PRIVATE_KEY", "TLS_KEY", "SIGNING_KEY"}},
	[K_EC] = {"private-key-ec", {"PRIVATE_KEY", "TLS_KEY", "ES256_KEY"}},
	[K_OPENSSH] = {"private-key-openssh", {"DEPLOY_KEY", "SSH_PRIVATE_KEY", "GIT_SSH_KEY"}},
	[K_PKCS8] = {"private-key-pkcs8", {"PRIVATE_KEY", "JWT_PRIVATE_KEY", "SAML_SP_KEY"}},
	[K_GCP] = {"gcp-service-account", {"GOOGLE_CREDENTIALS"}},
	[K_GOOGLE] = {"google-api-key", {"GOOGLE_MAPS_API_KEY", "GOOGLE_API_KEY", "FIREBASE_API_KEY"}},
	[K_OPENAI] = {"openai-key", {"OPENAI_API_KEY", "OPENAI_KEY", "LLM_API_KEY"}},
	[K_ANTHROPIC] = {"anthropic-key", {"ANTHROPIC_API_KEY", "CLAUDE_API_KEY", "LLM_API_KEY"}},
	[K_PG] = {"postgres-uri", {"DATABASE_URL", "POSTGRES_DSN", "DB_URL"}},
	[K_MYSQL] = {"mysql-uri", {"DATABASE_URL", "MYSQL_URL", "DB_DSN"}},
	[K_MONGO] = {"mongodb-uri", {"MONGO_URI", "MONGODB_URL", "DB_URI"}},
	[K_REDIS] = {"redis-uri", {"REDIS_URL", "CACHE_URL", "BROKER_URL"}},
	[K_SENDGRID] = {"sendgrid-key", {"SENDGRID_API_KEY", "MAIL_API_KEY", "SMTP_PASSWORD"}},
	[K_TWILIO] = {"twilio-api-key", {"TWILIO_API_KEY", "TWILIO_KEY_SID", "SMS_API_KEY"}},
	[K_HF] = {"huggingface-token", {"HF_TOKEN", "HUGGINGFACE_TOKEN", "HF_API_TOKEN"}},
	[K_DOCKER] = {"dockerhub-pat", {"DOCKERHUB_TOKEN", "DOCKER_PASSWORD", "REGISTRY_TOKEN"}},
	[K_DO] = {"digitalocean-pat", {"DIGITALOCEAN_TOKEN", "DO_API_TOKEN", "DO_TOKEN"}},
	[K_VAULT] = {"vault-token", {"VAULT_TOKEN", "VAULT_ROOT_TOKEN", "VAULT_AUTH_TOKEN"}},
	[K_AZURE] = {"azure-storage-key", {"AZURE_STORAGE_CONNECTION_STRING", "BLOB_CONNECTION_STRING", "STORAGE_CONN"}},
	[K_DD] = {"datadog-api-key", {"DD_API_KEY", "DATADOG_API_KEY", "DD_API_KEY"}},
	[K_PASSWORD] = {"generic-password", {"DB_PASSWORD", "SMTP_PASSWORD", "ADMIN_PASSWORD"}},
	[K_TELEGRAM] = {"telegram-bot-token", {"TELEGRAM_BOT_TOKEN", "TG_TOKEN", "ALERT_BOT"}},
	[K_DISCORD] = {"discord-webhook", {"DISCORD_WEBHOOK_URL", "DISCORD_HOOK", "RELEASES_WEBHOOK"}},
	[K_SHOPIFY] = {"shopify-token", {"SHOPIFY_ACCESS_TOKEN", "SHOPIFY_ADMIN_TOKEN", "SHOP_TOKEN"}},
	[K_PYPI] = {"pypi-token", {"PYPI_TOKEN", "TWINE_PASSWORD", "PYPI_API_TOKEN"}},
	[K_MAILGUN] = {"mailgun-key", {"MAILGUN_API_KEY", "MAILGUN_KEY", "MG_API_KEY"}},
	[K_AGE] = {"age-secret-key", {"SOPS_AGE_KEY", "AGE_KEY", "AGE_SECRET"}},
};

static int is_keyblock(int k)
{
	return k == K_RSA || k == K_EC || k == K_OPENSSH || k == K_PKCS8;
}

/* The random part of a value that also holds fixed text (URIs, connection strings). */
static void checked_rand(struct buf *v, size_t n, const char *alpha, const char *first)
{
	size_t at = v->len;

	do {
		v->len = at;
		if (first)
			brand(v, 1, first);
		brand(v, first ? n - 1 : n, alpha);
	} while (!secret_ok(v->p + at, v->len - at));
}

static void db_password(struct buf *v)
{
	checked_rand(v, rr(14, 22), B62, ALPHA);
}

static void kvalue(struct buf *v, int k)
{
	static const char *const users[] = {"app", "billing", "svc_orders", "admin", "api", "reporting", "etl"};
	int whole = !(k == K_PG || k == K_MYSQL || k == K_MONGO || k == K_REDIS || k == K_AZURE);

	do {
		breset(v);
		switch (k) {
		case K_AWS: bs(v, "AKIA"); brand(v, 16, BASE32); break;
		case K_GHP: bchecksummed(v, "ghp_"); break;
		case K_GHFG: bs(v, "github_pat_11"); brand(v, 20, UPNUM); bc(v, '_'); brand(v, 59, B62); break;
		case K_GLPAT: bs(v, "glpat-"); brand(v, 20, B64U); break;
		case K_NPM: bchecksummed(v, "npm_"); break;
		case K_STRIPE: bs(v, "sk_live_51"); brand(v, 97, B62); break;
		case K_STRIPE_RK: bs(v, "rk_live_51"); brand(v, 97, B62); break;
		case K_SLACK_BOT: bs(v, "xoxb-"); bdigits(v, rr(11, 13)); bc(v, '-'); bdigits(v, 13); bc(v, '-'); brand(v, 24, B62); break;
		case K_SLACK_HOOK: bs(v, "https://hooks.slack.com/services/T"); brand(v, rr(8, 10), UPNUM); bs(v, "/B"); brand(v, rr(8, 10), UPNUM); bc(v, '/'); brand(v, 24, B62); break;
		case K_GOOGLE: bs(v, "AIzaSy"); brand(v, 33, B64U); break;
		case K_OPENAI: bs(v, "sk-proj-"); brand(v, 74, B64U); bs(v, "T3BlbkFJ"); brand(v, 74, B64U); break;
		case K_ANTHROPIC: bs(v, "sk-ant-api03-"); brand(v, 93, B64U); bs(v, "AA"); break;
		case K_PG:
			bf(v, "postgres%s://%s:", pct(30) ? "ql" : "", PICK(users));
			db_password(v);
			bf(v, "@%s:5432/%s", PICK(((const char *[]){"db", "postgres.internal", "pg-primary.prod.svc.cluster.local"})), PICK(projects));
			break;
		case K_MYSQL:
			bf(v, "mysql://%s:", PICK(users));
			db_password(v);
			bf(v, "@mysql-%s.c", PICK(envs));
			checked_rand(v, 12, LOWNUM, NULL);
			bs(v, ".eu-west-1.rds.amazonaws.com:3306/shop");
			break;
		case K_MONGO:
			bf(v, "mongodb+srv://%s:", PICK(users));
			db_password(v);
			bs(v, "@cluster0.");
			checked_rand(v, 5, LOWNUM, NULL);
			bf(v, ".mongodb.net/%s?retryWrites=true&w=majority", PICK(projects));
			break;
		case K_REDIS:
			bs(v, pct(50) ? "rediss://default:" : "redis://:");
			db_password(v);
			bf(v, "@redis-%s.acme.internal:6380/0", PICK(envs));
			break;
		case K_SENDGRID: bs(v, "SG."); brand(v, 22, B64U); bc(v, '.'); brand(v, 43, B64U); break;
		case K_TWILIO: bs(v, "SK"); brand(v, 32, HEX); break;
		case K_HF: bs(v, "hf_"); brand(v, 34, ALPHA); break;
		case K_DOCKER: bs(v, "dckr_pat_"); brand(v, 27, B64U); break;
		case K_DO: bs(v, "dop_v1_"); brand(v, 64, HEX); break;
		case K_VAULT: bs(v, "hvs.CAESI"); brand(v, 86, B64U); break;
		case K_AZURE: {
			unsigned char d[64];
			size_t at;
			char pn[64], *o = pn;
			for (const char *p = PICK(projects); *p && o < pn + 40; p++)
				if (*p != '-')
					*o++ = *p;
			*o = '\0';
			bf(v, "DefaultEndpointsProtocol=https;AccountName=acme%s%s;AccountKey=", pn, PICK(envs));
			at = v->len;
			do {
				v->len = at;
				randbytes(d, 64);
				bb64(v, d, 64, B64, 1);
			} while (!secret_ok(v->p + at, v->len - at));
			bs(v, ";EndpointSuffix=core.windows.net");
			break;
		}
		case K_DD: brand(v, 32, HEX); break;
		case K_PASSWORD: {
			static const char sym[] = "!@%^*-_+=~";
			brand(v, 1, ALPHA);
			for (size_t i = 0, n = rr(13, 19); i < n; i++)
				bc(v, pct(15) ? sym[rn(sizeof(sym) - 1)] : B62[rn(62)]);
			bc(v, DIGITS[rn(10)]);
			break;
		}
		case K_TELEGRAM: bdigits(v, rr(9, 10)); bs(v, ":AA"); brand(v, 33, B64U); break;
		case K_DISCORD: bs(v, "https://discord.com/api/webhooks/"); bdigits(v, rr(18, 19)); bc(v, '/'); brand(v, 68, B64U); break;
		case K_SHOPIFY: bs(v, "shpat_"); brand(v, 32, HEX); break;
		case K_PYPI: {
			/*
			 * A macaroon (version 2) as PyPI issues them: location pypi.org,
			 * a 32-byte identifier, one caveat, a 32-byte signature; random
			 * bytes would fail leakgate's pypi-macaroon validator.
			 */
			static const char cav[] = "{\"version\": 1, \"permissions\": \"user\"}";
			unsigned char m[128];
			size_t o = 0;
			m[o++] = 2;
			m[o++] = 1, m[o++] = 8, memcpy(m + o, "pypi.org", 8), o += 8;
			m[o++] = 2, m[o++] = 32, randbytes(m + o, 32), o += 32;
			m[o++] = 0;
			m[o++] = 2, m[o++] = (unsigned char)(sizeof(cav) - 1), memcpy(m + o, cav, sizeof(cav) - 1), o += sizeof(cav) - 1;
			m[o++] = 0;
			m[o++] = 0;
			m[o++] = 6, m[o++] = 32, randbytes(m + o, 32), o += 32;
			bs(v, "pypi-");
			bb64(v, m, o, B64U, 0);
			break;
		}
		case K_MAILGUN: bs(v, "key-"); brand(v, 32, HEX); break;
		case K_AGE: bs(v, "AGE-SECRET-KEY-1"); brand(v, 58, BECH32U); break;
		default: die("kvalue: kind %d", k);
		}
	} while (whole && !secret_ok(v->p, v->len));
}

static void aws_secret(struct buf *v)
{
	do {
		breset(v);
		brand(v, 40, B64);
	} while (!secret_ok(v->p, v->len));
}

/* Base64 lines of a made-up DER key, '\n'-separated, no final newline. */
static const char *pem_body(struct buf *out, int k)
{
	static const unsigned char rsa[] = {0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00};
	static const unsigned char ec1[] = {0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20};
	static const unsigned char ec2[] = {0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
					    0x01, 0x07, 0xa1, 0x44, 0x03, 0x42, 0x00, 0x04};
	static const unsigned char p8[] = {0x30, 0x82, 0x04, 0xbe, 0x02, 0x01, 0x00, 0x30, 0x0d,
					   0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
					   0x01, 0x01, 0x05, 0x00, 0x04, 0x82, 0x04, 0xa8};
	static const unsigned char ossh[] = "openssh-key-v1\0\0\0\0\4none\0\0\0\4none\0\0\0\0\0\0\0\1\0\0\0\x33\0\0\0\x0bssh-ed25519\0\0\0\x20";
	unsigned char d[1300];
	size_t n = 0, width = 64, fixed = 0;
	struct buf raw = {0};
	int ok;

	do {
		breset(out);
		breset(&raw);
		n = 0;
		switch (k) {
		case K_RSA:
			memcpy(d, rsa, sizeof(rsa));
			n = sizeof(rsa);
			randbytes(d + n, 1192 - n);
			d[n] |= 0x80;
			n = 1192;
			break;
		case K_PKCS8:
			memcpy(d, p8, sizeof(p8));
			memcpy(d + sizeof(p8), rsa, sizeof(rsa));
			n = sizeof(p8) + sizeof(rsa);
			randbytes(d + n, 1218 - n);
			n = 1218;
			break;
		case K_EC:
			memcpy(d, ec1, sizeof(ec1));
			n = sizeof(ec1);
			randbytes(d + n, 32);
			n += 32;
			memcpy(d + n, ec2, sizeof(ec2));
			n += sizeof(ec2);
			randbytes(d + n, 64);
			n += 64;
			break;
		default: /* K_OPENSSH */
			memcpy(d, ossh, sizeof(ossh) - 1);
			n = sizeof(ossh) - 1;
			fixed = (n * 4 + 2) / 3 + 1;
			randbytes(d + n, 32 + 4 + 136);
			n += 32 + 4 + 136;
			width = 70;
			break;
		}
		bb64(&raw, d, n, B64, 1);
		ok = 1;
		for (size_t i = 0; i < raw.len; i += width) {
			size_t w = raw.len - i < width ? raw.len - i : width;
			/* the fixed structure (an OpenSSH header is mostly AAAA) is what it is */
			size_t from = i < fixed ? (fixed - i < w ? fixed - i : w) : 0;
			if (!secret_ok(raw.p + i + from, w - from))
				ok = 0;
			if (i)
				bc(out, '\n');
			bput(out, raw.p + i, w);
		}
	} while (!ok);
	free(raw.p);
	switch (k) {
	case K_RSA: return "RSA PRIVATE KEY";
	case K_EC: return "EC PRIVATE KEY";
	case K_OPENSSH: return "OPENSSH PRIVATE KEY";
	default: return "PRIVATE KEY";
	}
}

/* BEGIN line ... END line; lines joined by nl, each after the first prefixed by indent; no final nl. */
static void keyblock(struct buf *s, int k, const char *indent, const char *nl, int indent_first)
{
	struct buf body = {0};
	const char *label = pem_body(&body, k);

	bf(s, "%s-----BEGIN %s-----%s", indent_first ? indent : "", label, nl);
	for (char *p = body.p, *e; p; p = e ? e + 1 : NULL) {
		e = strchr(p, '\n');
		bs(s, indent);
		bput(s, p, e ? (size_t)(e - p) : strlen(p));
		bs(s, nl);
	}
	bf(s, "%s-----END %s-----", indent, label);
	free(body.p);
}

static void name_as(char *out, size_t sz, const char *name, int style) /* 0 UPPER, 1 lower, 2 camel */
{
	size_t j = 0;
	int up = 0;

	for (size_t i = 0; name[i] && j + 1 < sz; i++) {
		char c = name[i];
		if (style == 0) {
			out[j++] = c;
		} else if (c == '_' && style == 2) {
			up = 1;
		} else {
			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			if (up && c >= 'a' && c <= 'z')
				c = (char)(c - 32);
			up = 0;
			out[j++] = c;
		}
	}
	out[j] = '\0';
}

static int needs_quotes(const char *v)
{
	return strpbrk(v, ";&?!*^~#") != NULL;
}

/* One assignment line of NAME to val in the style of the host file. */
static void assign(struct buf *s, int type, const char *name, const char *val)
{
	char lo[96], cm[96];

	name_as(lo, sizeof(lo), name, 1);
	name_as(cm, sizeof(cm), name, 2);
	switch (type) {
	case T_PY: bf(s, "%s = \"%s\"\n", name, val); break;
	case T_JS: bf(s, "const %s = \"%s\";\n", cm, val); break;
	case T_TS: bf(s, "export const %s = \"%s\";\n", cm, val); break;
	case T_GO: bf(s, "const %s = \"%s\"\n", cm, val); break;
	case T_JAVA: bf(s, "    private static final String %s = \"%s\";\n", name, val); break;
	case T_C: bf(s, "static const char *%s = \"%s\";\n", lo, val); break;
	case T_YAML: case T_WORKFLOW:
		if (pct(50) || needs_quotes(val))
			bf(s, "%s: \"%s\"\n", lo, val);
		else
			bf(s, "%s: %s\n", lo, val);
		break;
	case T_JSON: bf(s, "  \"%s\": \"%s\",\n", pct(50) ? lo : cm, val); break;
	case T_TOML: bf(s, "%s = \"%s\"\n", lo, val); break;
	case T_DOCKERFILE: bf(s, "ENV %s=\"%s\"\n", name, val); break;
	case T_ENVDEV:
		if (needs_quotes(val))
			bf(s, "%s=\"%s\"\n", name, val);
		else
			bf(s, "%s=%s\n", name, val);
		break;
	default: /* T_SH, T_MD */ bf(s, "export %s=\"%s\"\n", name, val); break;
	}
}

struct entry {
	char *path;
	size_t line;
	const char *kind;
};

static struct entry *entries;
static size_t nentries, capentries;

static void add_entry(const char *path, size_t line, const char *kind)
{
	if (nentries == capentries) {
		capentries = capentries ? capentries * 2 : 64;
		if (!(entries = realloc(entries, capentries * sizeof(*entries))))
			die("out of memory");
	}
	entries[nentries].path = strdup(path);
	entries[nentries].line = line;
	entries[nentries].kind = kind;
	nentries++;
}

/*
 * The text planted for kind k in a file of the given type. offs[] gets the
 * 0-based line (within the snippet) of each secret, labels[] its kind.
 * Returns how many secrets the snippet holds.
 */
static int snippet(struct buf *s, int k, int type, size_t *offs, const char **labels)
{
	struct buf v = {0}, w = {0};
	const char *name = kinds[k].names[rn(3)];
	int n = 1;

	if (!name)
		name = kinds[k].names[0];
	labels[0] = kinds[k].label;
	offs[0] = 0;
	if (k == K_GCP) { /* a whole service-account key file */
		const char *proj = PICK(projects), *env = PICK(envs);
		bs(s, "{\n  \"type\": \"service_account\",\n");
		bf(s, "  \"project_id\": \"acme-%s-%s\",\n  \"private_key_id\": \"", proj, env);
		brand(s, 40, HEX);
		bs(s, "\",\n  \"private_key\": \"");
		keyblock(s, K_PKCS8, "", "\\n", 0);
		bs(s, "\\n\",\n");
		bf(s, "  \"client_email\": \"%s-sa@acme-%s-%s.iam.gserviceaccount.com\",\n  \"client_id\": \"", noun(), proj, env);
		bdigits(s, 21);
		bf(s, "\",\n  \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\",\n  \"token_uri\": \"https://oauth2.googleapis.com/token\",\n"
		      "  \"auth_provider_x509_cert_url\": \"https://www.googleapis.com/oauth2/v1/certs\",\n"
		      "  \"client_x509_cert_url\": \"https://www.googleapis.com/robot/v1/metadata/x509/%s-sa%%40acme-%s-%s.iam.gserviceaccount.com\",\n"
		      "  \"universe_domain\": \"googleapis.com\"\n}\n", noun(), proj, env);
		offs[0] = 4;
		return 1;
	}
	if (is_keyblock(k)) {
		char lo[96], cm[96];
		name_as(lo, sizeof(lo), name, 1);
		name_as(cm, sizeof(cm), name, 2);
		switch (type) {
		case T_PEM: keyblock(s, k, "", "\n", 0); bs(s, "\n"); break;
		case T_PY: bf(s, "%s = \"\"\"", name); keyblock(s, k, "", "\n", 0); bs(s, "\n\"\"\"\n"); break;
		case T_JS: bf(s, "const %s = `", cm); keyblock(s, k, "", "\n", 0); bs(s, "`;\n"); break;
		case T_TS: bf(s, "export const %s = `", cm); keyblock(s, k, "", "\n", 0); bs(s, "`;\n"); break;
		case T_GO: bf(s, "const %s = `", cm); keyblock(s, k, "", "\n", 0); bs(s, "\n`\n"); break;
		case T_JAVA: bf(s, "    private static final String %s = \"\"\"\n", name); keyblock(s, k, "            ", "\n", 1); bs(s, "\n            \"\"\";\n"); offs[0] = 1; break;
		case T_YAML: case T_WORKFLOW: bf(s, "%s: |\n", lo); keyblock(s, k, "  ", "\n", 1); bs(s, "\n"); offs[0] = 1; break;
		case T_JSON: bf(s, "  \"%s\": \"", lo); keyblock(s, k, "", "\\n", 0); bs(s, "\\n\",\n"); break;
		case T_SH: bf(s, "cat > \"$tmp/%s.pem\" <<'EOF'\n", lo); keyblock(s, k, "", "\n", 0); bs(s, "\nEOF\n"); offs[0] = 1; break;
		default: /* T_MD */ bs(s, "```\n"); keyblock(s, k, "", "\n", 0); bs(s, "\n```\n"); offs[0] = 1; break;
		}
		return 1;
	}
	kvalue(&v, k);
	if (type == T_NPMRC) {
		bf(s, "//registry.npmjs.org/:_authToken=%s\n", v.p);
		free(v.p);
		return 1;
	}
	if (k == K_AWS) {
		aws_secret(&w);
		labels[1] = "aws-secret-access-key";
		n = 2;
		if (type == T_PY && pct(60)) {
			bf(s, "s3 = boto3.client(\n    \"s3\",\n    aws_access_key_id=\"%s\",\n    aws_secret_access_key=\"%s\",\n)\n", v.p, w.p);
			offs[0] = 2;
			offs[1] = 3;
		} else if (type == T_MD) {
			bf(s, "```bash\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n```\n", v.p, w.p);
			offs[0] = 1;
			offs[1] = 2;
		} else if (type == T_WORKFLOW) {
			bf(s, "env:\n  AWS_ACCESS_KEY_ID: %s\n  AWS_SECRET_ACCESS_KEY: %s\n", v.p, w.p);
			offs[0] = 1;
			offs[1] = 2;
		} else {
			assign(s, type, "AWS_ACCESS_KEY_ID", v.p);
			assign(s, type, "AWS_SECRET_ACCESS_KEY", w.p);
			offs[1] = 1;
		}
		free(v.p);
		free(w.p);
		return n;
	}
	switch (type) {
	case T_MD:
		switch (rn(3)) {
		case 0:
			bs(s, "```bash\n");
			assign(s, T_SH, name, v.p);
			bs(s, "```\n");
			offs[0] = 1;
			break;
		case 1:
			bs(s, "```yaml\n");
			assign(s, T_YAML, name, v.p);
			bs(s, "```\n");
			offs[0] = 1;
			break;
		default:
			bf(s, "Until the vault migration is done, staging uses `%s=%s` directly.\n", name, v.p);
			break;
		}
		break;
	case T_WORKFLOW:
		bs(s, "env:\n  ");
		assign(s, T_WORKFLOW, name, v.p);
		offs[0] = 1;
		break;
	case T_JSON:
		if (k == K_GHP && pct(50)) {
			bf(s, "  \"token\": \"%s\",\n", v.p);
			break;
		}
		/* fall through */
	default:
		assign(s, type, name, v.p);
		break;
	}
	free(v.p);
	return n;
}

static int host_ok(int k, int type)
{
	if (k == K_GCP)
		return type == T_SAJSON;
	if (is_keyblock(k))
		return type == T_PEM || type == T_PY || type == T_JS || type == T_TS || type == T_GO ||
		       type == T_JAVA || type == T_YAML || type == T_WORKFLOW || type == T_JSON ||
		       type == T_MD || type == T_SH;
	if (type == T_NPMRC)
		return k == K_NPM;
	switch (type) {
	case T_C: case T_PY: case T_JS: case T_TS: case T_GO: case T_JAVA: case T_YAML:
	case T_WORKFLOW: case T_JSON: case T_MD: case T_SH: case T_DOCKERFILE: case T_TOML:
	case T_ENVDEV:
		return 1;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ the plan */

struct file {
	char *path;
	char *root; /* project directory */
	const char *proj;
	int type;
	size_t size;
	int kind; /* planted kind, or -1 */
};

static struct file *files;
static size_t nfiles, capfiles, planned;

static char **pathset;
static size_t pathcap, pathcount;

static uint64_t strhash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int path_add(const char *p) /* 0 if already there */
{
	size_t i;

	if ((pathcount + 1) * 2 > pathcap) {
		char **old = pathset;
		size_t oldcap = pathcap;
		pathcap = pathcap ? pathcap * 2 : 4096;
		if (!(pathset = calloc(pathcap, sizeof(*pathset))))
			die("out of memory");
		for (size_t j = 0; j < oldcap; j++)
			if (old[j]) {
				for (i = strhash(old[j]) & (pathcap - 1); pathset[i]; i = (i + 1) & (pathcap - 1))
					;
				pathset[i] = old[j];
			}
		free(old);
	}
	for (i = strhash(p) & (pathcap - 1); pathset[i]; i = (i + 1) & (pathcap - 1))
		if (!strcmp(pathset[i], p))
			return 0;
	pathset[i] = strdup(p);
	pathcount++;
	return 1;
}

/* size in [lo, hi], skewed towards lo */
static size_t sz(size_t lo, size_t hi)
{
	uint64_t r = rnd64() >> 40, m = (uint64_t)1 << 24;

	return lo + (size_t)((double)(hi - lo) * (double)(r * r) / (double)(m * m));
}

static size_t plan_target = (size_t)-1;

static long add_file(const char *root, const char *proj, const char *rel, int type, size_t size)
{
	char path[512];

	/* The last files of the plan are cut to land near the target size. */
	if (planned + size > plan_target && size > 200)
		size = plan_target > planned + 200 ? plan_target - planned : 200;

	snprintf(path, sizeof(path), "%s%s%s", root, *root ? "/" : "", rel);
	if (!path_add(path))
		return -1;
	if (nfiles == capfiles) {
		capfiles = capfiles ? capfiles * 2 : 1024;
		if (!(files = realloc(files, capfiles * sizeof(*files))))
			die("out of memory");
	}
	files[nfiles] = (struct file){strdup(path), strdup(root), proj, type, size, -1};
	planned += size;
	return (long)nfiles++;
}

static const char *ext_of(int type)
{
	switch (type) {
	case T_C: return ".c";
	case T_H: return ".h";
	case T_PY: return ".py";
	case T_JS: return ".js";
	case T_TS: return pct(30) ? ".tsx" : ".ts";
	case T_GO: return ".go";
	case T_JAVA: return ".java";
	case T_YAML: return pct(80) ? ".yaml" : ".yml";
	case T_JSON: return ".json";
	case T_MD: return ".md";
	case T_SH: return ".sh";
	case T_CSS: return ".css";
	case T_HTML: return ".html";
	default: return "";
	}
}

/* count files of a type with names from a generator, under dir */
static void add_many(const char *root, const char *proj, const char *dir, int type, size_t count,
		     size_t lo, size_t hi, int naming, size_t target)
{
	for (size_t i = 0; i < count && planned < target; i++) {
		char rel[400], nm[200];
		switch (naming) {
		case 1: snprintf(nm, sizeof(nm), "%s", camel()); break;
		case 2: snprintf(nm, sizeof(nm), "%s", pascal()); break;
		case 3: snprintf(nm, sizeof(nm), "test_%s", snake()); break;
		case 4: snprintf(nm, sizeof(nm), "%sTest", pascal()); break;
		case 5: snprintf(nm, sizeof(nm), "%s-%s", noun(), PICK(((const char *[]){"deployment", "service", "configmap", "ingress", "cronjob", "hpa"}))); break;
		default: snprintf(nm, sizeof(nm), "%s", snake()); break;
		}
		if (naming == 0 && (type == T_MD || type == T_YAML || type == T_SH))
			for (char *p = nm; *p; p++)
				if (*p == '_')
					*p = '-';
		snprintf(rel, sizeof(rel), "%s%s%s%s", dir, *dir ? "/" : "", nm, ext_of(type));
		add_file(root, proj, rel, type, sz(lo, hi));
	}
}

static char *proj_root(const char *base, const char *proj)
{
	char r[256];

	for (int i = 1;; i++) {
		if (i == 1)
			snprintf(r, sizeof(r), "%s/%s", base, proj);
		else
			snprintf(r, sizeof(r), "%s/%s-v%d", base, proj, i);
		if (path_add(r))
			return strdup(r);
	}
}

static void plan_project(size_t target)
{
	const char *proj = PICK(projects);
	size_t r = rn(100);
	char *root, dir[256];
	const size_t T = target;

	if (r < 20) { /* Python service */
		char pkg[64];
		root = proj_root("services", proj);
		snprintf(pkg, sizeof(pkg), "%s", proj);
		for (char *p = pkg; *p; p++)
			if (*p == '-')
				*p = '_';
		add_file(root, proj, "README.md", T_MD, sz(1500, 12000));
		add_file(root, proj, "pyproject.toml", T_TOML, sz(400, 2500));
		add_file(root, proj, "requirements.txt", T_REQS, 0);
		add_file(root, proj, "Dockerfile", T_DOCKERFILE, sz(400, 2000));
		add_file(root, proj, ".gitignore", T_GITIGNORE, 0);
		if (pct(40))
			add_file(root, proj, ".env.development", T_ENVDEV, sz(200, 900));
		if (pct(60))
			add_file(root, proj, ".env.example", T_ENVEXAMPLE, sz(200, 900));
		add_file(root, proj, "src/__init__.py", T_PY, 200);
		snprintf(dir, sizeof(dir), "src/%s", pkg);
		add_many(root, proj, dir, T_PY, rr(6, 30), 2000, 30000, 0, T);
		add_many(root, proj, "tests", T_PY, rr(3, 12), 1500, 20000, 3, T);
		add_many(root, proj, "config", T_YAML, rr(1, 4), 500, 8000, 0, T);
		add_many(root, proj, "scripts", T_SH, rr(0, 3), 500, 5000, 0, T);
		add_many(root, proj, "tests/fixtures", T_JSON, rr(0, 4), 1000, 40000, 0, T);
		add_many(root, proj, "docs", T_MD, rr(0, 3), 1000, 20000, 0, T);
	} else if (r < 42) { /* Node / TypeScript web app */
		char h[16];
		root = proj_root("web", proj);
		add_file(root, proj, "package.json", T_PKGJSON, 0);
		add_file(root, proj, "package-lock.json", T_PKGLOCK, sz(100000, 1500000));
		add_file(root, proj, "README.md", T_MD, sz(1500, 12000));
		add_file(root, proj, "Dockerfile", T_DOCKERFILE, sz(400, 2000));
		add_file(root, proj, ".gitignore", T_GITIGNORE, 0);
		add_file(root, proj, "tsconfig.json", T_JSON, sz(300, 1200));
		add_file(root, proj, ".eslintrc.json", T_JSON, sz(300, 1500));
		if (pct(50))
			add_file(root, proj, ".npmrc", T_NPMRC, 0);
		if (pct(40))
			add_file(root, proj, ".env.development", T_ENVDEV, sz(200, 900));
		if (pct(50))
			add_file(root, proj, ".env.example", T_ENVEXAMPLE, sz(200, 900));
		add_file(root, proj, "public/index.html", T_HTML, sz(2000, 80000));
		for (size_t i = 0, n = rr(3, 6); i < n; i++) {
			snprintf(dir, sizeof(dir), "src/%s", noun());
			add_many(root, proj, dir, pct(70) ? T_TS : T_JS, rr(2, 10), 1500, 25000, 1, T);
		}
		add_many(root, proj, "src/styles", T_CSS, rr(1, 4), 5000, 200000, 0, T);
		for (size_t i = 0, n = rr(1, 3); i < n && planned < T; i++) {
			char rel[64];
			struct buf hb = {0};
			brand(&hb, 8, B62);
			snprintf(h, sizeof(h), "%s", hb.p);
			free(hb.p);
			snprintf(rel, sizeof(rel), "dist/assets/%s-%s.js", PICK(((const char *[]){"index", "vendor", "chunk"})), h);
			add_file(root, proj, rel, T_MINJS, sz(80000, 1200000));
		}
	} else if (r < 60) { /* Go service */
		root = proj_root("services", proj);
		add_file(root, proj, "go.mod", T_GOMOD, 0);
		add_file(root, proj, "go.sum", T_GOSUM, sz(5000, 150000));
		add_file(root, proj, "README.md", T_MD, sz(1500, 12000));
		add_file(root, proj, "Dockerfile", T_DOCKERFILE, sz(400, 2000));
		add_file(root, proj, "Makefile", T_MAKEFILE, 0);
		snprintf(dir, sizeof(dir), "cmd/%s/main.go", proj);
		add_file(root, proj, dir, T_GO, sz(1500, 8000));
		for (size_t i = 0, n = rr(2, 6); i < n; i++) {
			snprintf(dir, sizeof(dir), "internal/%s", noun());
			add_many(root, proj, dir, T_GO, rr(2, 8), 3000, 30000, 0, T);
		}
		add_many(root, proj, "config", T_YAML, rr(1, 3), 500, 8000, 0, T);
		add_many(root, proj, "scripts", T_SH, rr(0, 2), 500, 5000, 0, T);
	} else if (r < 72) { /* Java service */
		char pkg[64], jp[128];
		root = proj_root("services", proj);
		snprintf(pkg, sizeof(pkg), "%s", proj);
		{
			char *o = pkg;
			for (char *p = pkg; *p; p++)
				if (*p != '-')
					*o++ = *p;
			*o = '\0';
		}
		add_file(root, proj, "README.md", T_MD, sz(1500, 12000));
		add_file(root, proj, "Dockerfile", T_DOCKERFILE, sz(400, 2000));
		add_file(root, proj, "src/main/resources/application.yaml", T_YAML, sz(800, 6000));
		for (size_t i = 0, n = rr(0, 2); i < n; i++) {
			snprintf(dir, sizeof(dir), "src/main/resources/application-%s.yaml", PICK(envs));
			add_file(root, proj, dir, T_YAML, sz(300, 3000));
		}
		for (size_t i = 0, n = rr(2, 5); i < n; i++) {
			const char *sub = noun();
			snprintf(jp, sizeof(jp), "%s.%s", pkg, sub);
			snprintf(dir, sizeof(dir), "src/main/java/com/acme/%s/%s", pkg, sub);
			size_t before = nfiles;
			add_many(root, proj, dir, T_JAVA, rr(2, 8), 3000, 25000, 2, T);
			for (size_t j = before; j < nfiles; j++)
				files[j].proj = strdup(jp);
		}
		snprintf(dir, sizeof(dir), "src/test/java/com/acme/%s", pkg);
		{
			size_t before = nfiles;
			add_many(root, proj, dir, T_JAVA, rr(2, 8), 2000, 15000, 4, T);
			for (size_t j = before; j < nfiles; j++)
				files[j].proj = strdup(pkg);
		}
	} else if (r < 82) { /* C library, with a Rust helper */
		root = proj_root("libs", proj);
		add_file(root, proj, "README.md", T_MD, sz(1500, 12000));
		add_file(root, proj, "Makefile", T_MAKEFILE, 0);
		add_many(root, proj, "src", T_C, rr(6, 25), 3000, 40000, 0, T);
		snprintf(dir, sizeof(dir), "include/%s", proj);
		add_many(root, proj, dir, T_H, rr(3, 12), 1000, 12000, 0, T);
		if (pct(50)) {
			add_file(root, proj, "tools/bindgen-rs/Cargo.toml", T_TOML, sz(300, 1500));
			add_file(root, proj, "tools/bindgen-rs/Cargo.lock", T_CARGOLOCK, sz(20000, 200000));
		}
		add_many(root, proj, "scripts", T_SH, rr(0, 3), 500, 5000, 0, T);
	} else if (r < 90) { /* documentation site */
		root = proj_root("docs", proj);
		add_file(root, proj, "mkdocs.yml", T_YAML, sz(500, 3000));
		add_file(root, proj, "CHANGELOG.md", T_CHANGELOG, sz(5000, 80000));
		add_file(root, proj, "assets/extra.css", T_CSS, sz(3000, 120000));
		for (size_t i = 0, n = rr(2, 5); i < n; i++) {
			snprintf(dir, sizeof(dir), "%s", noun());
			add_many(root, proj, dir, T_MD, rr(3, 10), 1000, 25000, 0, T);
		}
	} else { /* infrastructure */
		root = proj_root("infra", proj);
		add_file(root, proj, "README.md", T_MD, sz(1500, 12000));
		add_many(root, proj, "k8s", T_YAML, rr(5, 20), 800, 10000, 5, T);
		add_many(root, proj, "helm", T_YAML, rr(1, 4), 500, 8000, 0, T);
		add_many(root, proj, "scripts", T_SH, rr(2, 6), 500, 6000, 0, T);
		add_many(root, proj, "policies", T_JSON, rr(1, 4), 500, 6000, 0, T);
		add_file(root, proj, "Dockerfile", T_DOCKERFILE, sz(400, 2000));
	}
	free(root);
}

static void plan_tree(size_t target)
{
	plan_target = target;
	add_file("", "acme", "README.md", T_MD, 9000);
	add_file("", "acme", "CHANGELOG.md", T_CHANGELOG, sz(20000, 200000));
	add_file("", "acme", ".gitignore", T_GITIGNORE, 0);
	add_file("", "acme", ".github/workflows/ci.yml", T_WORKFLOW, sz(1000, 5000));
	add_file("", "acme", ".github/workflows/deploy.yml", T_WORKFLOW, sz(1000, 5000));
	add_file("", "acme", ".github/workflows/release.yml", T_WORKFLOW, sz(1000, 5000));
	add_file("", "acme", "Makefile", T_MAKEFILE, 0);
	while (planned < target)
		plan_project(target);
	plan_target = (size_t)-1; /* planted files of their own come on top */
}

/* A new file in some project for a plant that comes as a file of its own. */
static long own_file(int k)
{
	for (int tries = 0; tries < 1000; tries++) {
		const struct file *f = &files[rn(nfiles)];
		char rel[256];
		int type;
		if (!*f->root)
			continue;
		if (k == K_GCP) {
			snprintf(rel, sizeof(rel), "%s/%s-%s-sa.json", PICK(((const char *[]){"config", "deploy", "terraform", "ops"})), f->proj, PICK(envs));
			type = T_SAJSON;
		} else if (k == K_NPM) {
			snprintf(rel, sizeof(rel), ".npmrc");
			type = T_NPMRC;
		} else {
			snprintf(rel, sizeof(rel), "%s/%s", PICK(((const char *[]){"certs", "deploy/tls", "config/ssl", "secrets", "keys"})),
				 PICK(((const char *[]){"server.key", "tls.key", "signing-key.pem", "private.pem", "service.key"})));
			type = T_PEM;
		}
		long i = add_file(f->root, f->proj, rel, type, 0);
		if (i >= 0)
			return i;
	}
	die("cannot place a planted file");
	return -1;
}

static void plan_plants(size_t want)
{
	int order[NKINDS];
	size_t got = 0, round = 0;
	size_t *cand = malloc(nfiles * sizeof(*cand));

	if (!cand)
		die("out of memory");
	for (int i = 0; i < NKINDS; i++)
		order[i] = i;
	while (got < want) {
		if (round++ % NKINDS == 0) /* a new shuffle for each round of kinds */
			for (int i = NKINDS - 1; i > 0; i--) {
				int j = (int)rn((size_t)i + 1), t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
		int k = order[(round - 1) % NKINDS];
		long host = -1;
		size_t nc = 0;

		if (k == K_AWS && want - got < 2)
			continue;
		if (k == K_GCP || (is_keyblock(k) && pct(35))) {
			host = own_file(k);
		} else {
			for (size_t i = 0; i < nfiles; i++)
				if (files[i].kind < 0 && host_ok(k, files[i].type))
					cand[nc++] = i;
			if (k == K_NPM && nc == 0) {
				host = own_file(k);
			} else if (nc == 0) {
				continue;
			} else {
				host = (long)cand[rn(nc)];
			}
		}
		files[host].kind = k;
		got += k == K_AWS ? 2 : 1;
	}
	free(cand);
}

/* -------------------------------------------------------------- output */

static void mkdirs(const char *path) /* the directories leading to path */
{
	char tmp[1400];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				die("mkdir %s: %s", tmp, strerror(errno));
			*p = '/';
		}
}

static size_t count_lines(const char *p, size_t n)
{
	size_t c = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		c++;
	return c;
}

/*
 * Insert the snippet for kind k at one of b's insertion points; records the
 * entries under path. line_base: lines before b (for the one-file mode).
 */
static void plant(struct buf *b, int k, int type, const char *path, size_t line_base)
{
	struct buf s = {0};
	size_t offs[4], at, line;
	const char *labels[4];
	int n;

	if (b->len && b->p[b->len - 1] != '\n')
		bc(b, '\n');
	at = b->nmk ? b->mk[rn(b->nmk)] : b->len;
	n = snippet(&s, k, type, offs, labels);
	bneed(b, s.len);
	memmove(b->p + at + s.len, b->p + at, b->len - at);
	memcpy(b->p + at, s.p, s.len);
	b->len += s.len;
	b->p[b->len] = '\0';
	line = line_base + count_lines(b->p, at) + 1;
	for (int i = 0; i < n; i++)
		add_entry(path, line + offs[i], labels[i]);
	free(s.p);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static void write_manifest(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	qsort(entries, nentries, sizeof(*entries), cmp_entry);
	for (size_t i = 0; i < nentries; i++)
		fprintf(f, "%s\t%zu\t%s\n", entries[i].path, entries[i].line, entries[i].kind);
	if (fclose(f))
		die("writing %s failed", path);
}

static void write_all(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	if (n && fwrite(p, 1, n, f) != n)
		die("writing %s failed", path);
	if (fclose(f))
		die("writing %s failed", path);
}

static int tree_mode(const char *dir, const char *manifest, size_t target, size_t secrets)
{
	struct buf b = {0};
	char path[1200];
	size_t total = 0;

	plan_tree(target);
	plan_plants(secrets);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", dir, strerror(errno));
	for (size_t i = 0, want = 0; i < nfiles; i++) {
		struct file *f = &files[i];
		size_t t = f->size;
		/* Generators overshoot by a block; take it off the next files. */
		want += f->size;
		if (total > want - f->size)
			t -= total - (want - f->size) < t / 2 ? total - (want - f->size) : t / 2;
		breset(&b);
		generate(&b, f->type, t, f->proj);
		if (f->kind >= 0)
			plant(&b, f->kind, f->type, f->path, 0);
		snprintf(path, sizeof(path), "%s/%s", dir, f->path);
		mkdirs(path);
		write_all(path, b.p, b.len);
		total += b.len;
	}
	write_manifest(manifest);
	fprintf(stderr, "gencorpus: %zu files, %zu bytes, %zu secrets planted in %s\n", nfiles, total, nentries, dir);
	free(b.p);
	return 0;
}

static int file_mode(const char *path, const char *manifest, size_t target)
{
	static const int types[] = {T_PY, T_JS, T_TS, T_GO, T_C, T_JAVA, T_YAML, T_MD, T_JSON, T_SH, T_CSS, T_CHANGELOG};
	static const int kinds_simple[] = {K_GHP, K_STRIPE, K_SLACK_BOT, K_GOOGLE, K_OPENAI, K_PG, K_SENDGRID, K_DO};
	struct buf b = {0};
	size_t written = 0, lines = 0;
	int planted = 0;
	const char *base = strrchr(path, '/');
	FILE *f = fopen(path, "w");

	base = base ? base + 1 : path;
	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	while (written < target) {
		int type = PICK(types);
		breset(&b);
		generate(&b, type, rr(16000, 200000), "core");
		if (!planted && written + b.len >= target - target / 50) {
			plant(&b, PICK(kinds_simple), type, base, lines);
			planted = 1;
		}
		if (fwrite(b.p, 1, b.len, f) != b.len)
			die("writing %s failed", path);
		written += b.len;
		lines += count_lines(b.p, b.len);
	}
	if (fclose(f))
		die("writing %s failed", path);
	write_manifest(manifest);
	fprintf(stderr, "gencorpus: %s: %zu bytes, %zu lines, %zu secret planted\n", path, written, lines, nentries);
	free(b.p);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gencorpus [-s SEED] [-m MB] [-n SECRETS] DIR MANIFEST\n"
		   "       gencorpus -f [-s SEED] [-m MB] FILE MANIFEST\n"
		   "\n"
		   "  -s SEED     random seed (default 1); the same seed gives the same bytes\n"
		   "  -m MB       size in megabytes of 10^6 bytes (default 64)\n"
		   "  -n SECRETS  secrets to plant in the tree (default 40)\n"
		   "  -f          write one file of mixed text, one secret near its end\n");
}

int main(int argc, char **argv)
{
	uint64_t seed = 1;
	double mb = 64;
	size_t secrets = 40;
	int one = 0, opt;
	char *end;

	while ((opt = getopt(argc, argv, "s:m:n:fh")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, &end, 0);
			if (*end)
				die("bad seed '%s'", optarg);
			break;
		case 'm':
			mb = strtod(optarg, &end);
			if (*end || !(mb > 0) || mb > 1e6)
				die("bad size '%s'", optarg);
			break;
		case 'n':
			secrets = strtoul(optarg, &end, 10);
			if (*end || secrets > 100000)
				die("bad count '%s'", optarg);
			break;
		case 'f': one = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	rng_state = seed * 0x2545f4914f6cdd1dULL + 0x1234567ULL;
	if (one)
		return file_mode(argv[optind], argv[optind + 1], (size_t)(mb * 1e6));
	return tree_mode(argv[optind], argv[optind + 1], (size_t)(mb * 1e6), secrets);
}
