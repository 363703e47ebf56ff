/*
 * leakgate-pre-receive: the Git server hook.
 *
 * Git runs it after receiving a push and before moving any ref, with the
 * ref updates on standard input and the incoming objects in a quarantine
 * directory. It finds what the push adds (push.c), scans the new blobs on
 * several threads (each with its own repository handle and scanner), the
 * commit and tag messages, and the paths; decides; tells the pusher on
 * standard error (git shows it as "remote:" lines); records an audit event;
 * and exits 0 to accept or 1 to reject.
 *
 * Anything that keeps the check from completing (unreadable input,
 * repository, rules or database, a time-out) follows leakgate.failMode:
 * closed (reject, the default) or open (accept); the pusher sees one line
 * saying which, and the event is recorded as "failed".
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <jansson.h>

#include "hook-config.h"
#include "hook-server.h"
#include "loader.h"
#include "push.h"
#include "scanner.h"
#include "utf16.h"
#include "store.h"

#define BYPASS_OPTION "leakgate.bypass"
#define BYPASS_REASON_MAX 500
/* After the time budget, workers get this long to notice before the watchdog decides. */
#define WATCHDOG_GRACE_S 2
/* Blobs a scanning thread takes at a time. */
#define WORKER_BATCH 64
/*
 * libgit2 memory for the hook. Its defaults (a 256 MiB object cache, 1 GiB
 * pack windows, 8 GiB of them mapped) let the hook's memory grow with the
 * push. Windows of 4 MiB, 16 MiB of them at once: measured with
 * bench/push-bench.sh, peak RSS stays at about 58 MB from 65 to 132 MB of
 * pushed blobs (32 MiB mapped: 57 -> 79 MB, the whole 21 MB pack mapped)
 * for about 20% more read time.
 */
#define HOOK_PACK_MAPPED_MB 16
#define HOOK_PACK_WINDOW_MB 4
/* Pushes with at most this many new blobs are scanned without threads. */
#define INLINE_BLOBS_MAX 32

enum fstatus { F_BLOCK, F_PREEXISTING, F_CARRIED, F_EXEMPT };

struct hfinding {
	const struct lg_rule *rule;
	char fingerprint[LG_FP_HEX + 1];
	char preview[LG_PREVIEW_MAX];
	uint64_t line, column;
	size_t blob;  /* unique blob index, or SIZE_MAX */
	size_t item;  /* item index once attributed */
	enum fstatus status;
	int64_t exemption; /* the exemption that let it pass (F_EXEMPT) */
};

struct flist {
	struct hfinding *v;
	size_t n, cap;
};

struct hook {
	struct hook_config cfg;
	const char *git_dir;
	char *repo_name, *pusher, *protocol;
	git_repository *repo;
	struct push push;
	struct lg_ruleset *rs;
	struct lg_key key;
	struct lg_store *store;
	struct flist found;     /* every finding, attributed to items */
	struct flist blobfound; /* worker output: findings per blob */
	size_t skipped_large, skipped_binary;
	uint64_t bytes_scanned;
	size_t objects_scanned;
	int64_t t0_ms;
	int64_t t0_us;
	char *bypass_reason;
	int bypass_requested, bypass_bad;
	int gitlab;

	pthread_mutex_t lock;
	size_t next_blob;
	volatile int cancel;
	int worker_error;
	char worker_msg[256];
	pthread_mutex_t finish; /* whoever holds it writes the verdict */
	pthread_cond_t done_cv;
	int done;

	/* The audit store opens on its own thread while the push is walked. */
	pthread_mutex_t store_lock;
	pthread_cond_t store_cv;
	int store_started, store_done, rule_changes;
	char *store_path;
	char store_err[600];
};

/*
 * Set in a process forked by the hook server (hook-server.h), with the
 * built-in rules the server loaded before forking (NULL if it could not).
 */
static int served;
static struct lg_ruleset *preloaded;
/* There, the connection to the client, which takes the verdict. */
static int verdict_fd = -1;

/*
 * The end of every run: the exit status is the verdict git acts on. It
 * leaves without running the libraries' exit handlers (TLS, libgit2,
 * GnuTLS teardown): they cost milliseconds on every push and hold nothing
 * that needs saving; the database is committed already.
 */
static void hook_exit(int status) __attribute__((noreturn));
static void hook_exit(int status)
{
	fflush(stdout);
	fflush(stderr);
	if (verdict_fd >= 0)
		hs_send_verdict(verdict_fd, status);
	_exit(status);
}

static int trace_on;

/* LEAKGATE_TRACE=1: phase times on stderr, for administrators measuring the hook. */
static void trace(const struct hook *h, const char *phase)
{
	struct timespec ts;

	if (!trace_on)
		return;
	char line[128];
	long hwm = 0;
	FILE *f = fopen("/proc/self/status", "r");

	/* Peak memory so far, for administrators sizing the hook. */
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &hwm) == 1)
			break;
	if (f)
		fclose(f);
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "leakgate: trace: %-14s %8.3f ms  peak %ld KiB\n", phase,
		(double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 - (double)h->t0_us / 1e3, hwm);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line to the pusher; under GitLab, also in the form its web UI shows. */
static void say(struct hook *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct hook *h, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	const char *p, *nl;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Every line on its own, so that each carries GitLab's prefix. */
	for (p = line;; p = nl + 1) {
		nl = strchr(p, '\n');
		if (h && h->gitlab && (nl ? nl > p : *p))
			fputs("GL-HOOK-ERR: ", stderr);
		fwrite(p, 1, nl ? (size_t)(nl - p) : strlen(p), stderr);
		fputc('\n', stderr);
		if (!nl)
			break;
	}
}

/*
 * A long text as lines of at most 78 columns; the first line starts with
 * label, the others are indented to line up under the text.
 */
static void say_wrapped(struct hook *h, const char *label, const char *text)
{
	const size_t width = 78, indent = strlen(label);
	const char *p = text;
	int first = 1;

	while (*p) {
		size_t room = width > indent ? width - indent : 20, n = strlen(p), cut = n;
		if (n > room) {
			cut = room;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = room;
		}
		say(h, "%*s%.*s", (int)indent, first ? label : "", (int)cut, p);
		first = 0;
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static void flist_add(struct flist *l, const struct hfinding *f)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct hfinding *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *f;
}

/* ---- audit ---- */

static json_t *refs_json(const struct hook *h)
{
	json_t *a = json_array();

	for (size_t i = 0; i < h->push.nupdates; i++) {
		char o[GIT_OID_HEXSZ + 1], n[GIT_OID_HEXSZ + 1];
		git_oid_tostr(o, sizeof(o), &h->push.updates[i].old_id);
		git_oid_tostr(n, sizeof(n), &h->push.updates[i].new_id);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "ref", h->push.updates[i].ref,
						   "old", o, "new", n));
	}
	return a;
}

static const char *item_path(const struct hook *h, const struct hfinding *f)
{
	const struct push_item *it = &h->push.items[f->item];
	return it->kind == ITEM_BLOB ? it->path : it->kind == ITEM_COMMIT_MESSAGE ? "(commit message)"
										: "(tag message)";
}

static json_t *findings_json(const struct hook *h)
{
	json_t *a = json_array();

	for (size_t i = 0; i < h->found.n; i++) {
		const struct hfinding *f = &h->found.v[i];
		const struct push_item *it = &h->push.items[f->item];
		char c[GIT_OID_HEXSZ + 1] = "";
		if (f->status == F_CARRIED)
			continue;
		if (it->commit != SIZE_MAX)
			git_oid_tostr(c, sizeof(c), &h->push.commits[it->commit].id);
		else
			git_oid_tostr(c, sizeof(c), &it->id);
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "rule_id",
				     lg_rule_id(f->rule), "severity",
				     lg_severity_name(lg_rule_severity(f->rule)), "fingerprint",
				     f->fingerprint, "preview", f->preview, "path", item_path(h, f),
				     "commit", c, "line", (json_int_t)f->line, "status",
				     f->status == F_BLOCK    ? "new"
				     : f->status == F_EXEMPT ? "exempted"
							     : "pre-existing"));
		if (f->status == F_EXEMPT)
			json_object_set_new(json_array_get(a, json_array_size(a) - 1), "exemption_id",
					    json_integer(f->exemption));
	}
	return a;
}

static void *store_main(void *arg)
{
	struct hook *h = arg;
	struct lg_store *st = NULL;
	struct lg_diag d;

	lg_diag_init(&d);
	if (lg_store_open(&st, h->store_path, 1, &d) == 0) {
		h->rule_changes = lg_store_has_rule_changes(st);
	} else {
		lg_diag_format(&d.v[0], h->store_err, sizeof(h->store_err));
		st = NULL;
	}
	lg_diag_release(&d);
	pthread_mutex_lock(&h->store_lock);
	h->store = st;
	h->store_done = 1;
	pthread_cond_broadcast(&h->store_cv);
	pthread_mutex_unlock(&h->store_lock);
	return NULL;
}

/* Wait for the store's thread; then h->store is set, or NULL with h->store_err. */
static void store_wait(struct hook *h)
{
	if (!h->store_started)
		return;
	pthread_mutex_lock(&h->store_lock);
	while (!h->store_done)
		pthread_cond_wait(&h->store_cv, &h->store_lock);
	pthread_mutex_unlock(&h->store_lock);
}

/* Record the event; 0, or -1 when it could not be written. */
static int record(struct hook *h, const char *kind, const char *reason)
{
	struct lg_event ev;
	struct lg_diag d;
	json_t *refs = refs_json(h), *fj = findings_json(h);
	json_t *ex = json_array();
	char *refs_s = json_dumps(refs, JSON_COMPACT), *f_s = json_dumps(fj, JSON_COMPACT), *ex_s;

	for (size_t i = 0; i < h->found.n; i++) {
		const struct hfinding *f = &h->found.v[i];
		int seen = 0;
		if (f->status != F_EXEMPT)
			continue;
		for (size_t k = 0; k < json_array_size(ex) && !seen; k++)
			seen = json_integer_value(json_array_get(ex, k)) == f->exemption;
		if (!seen)
			json_array_append_new(ex, json_integer(f->exemption));
	}
	ex_s = json_dumps(ex, JSON_COMPACT);
	int err = -1;

	store_wait(h);
	memset(&ev, 0, sizeof(ev));
	lg_diag_init(&d);
	ev.time_ms = now_ms();
	ev.kind = kind;
	ev.repo = h->repo_name;
	ev.pusher = h->pusher;
	ev.protocol = h->protocol;
	ev.refs_json = refs_s;
	ev.findings_json = f_s;
	ev.reason = reason;
	ev.exemptions_json = ex_s;
	ev.duration_ms = ev.time_ms - h->t0_ms;
	ev.bytes_scanned = (int64_t)h->bytes_scanned;
	ev.objects_scanned = (int64_t)h->objects_scanned;
	ev.ruleset = h->rs ? lg_ruleset_hash(h->rs) : "";
	if (h->store && lg_store_add_event(h->store, &ev, NULL, &d) == 0)
		err = 0;
	lg_diag_release(&d);
	free(refs_s);
	free(f_s);
	free(ex_s);
	json_decref(refs);
	json_decref(fj);
	json_decref(ex);
	return err;
}

/*
 * The check could not be completed. One line, the event, and the
 * administrator's fail mode decides. Never returns.
 */
static void fail(struct hook *h, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(struct hook *h, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;
	int open_mode = h->cfg.fail_open;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&h->finish);
	if (record(h, "failed", reason) < 0 && h->store)
		fprintf(stderr, "leakgate: (the failure could not be recorded in the audit database)\n");
	if (open_mode)
		say(h, "leakgate: could not check this push (%s); accepted unchecked because "
		       "leakgate.failMode is open", reason);
	else
		say(h, "leakgate: could not check this push (%s); rejected because leakgate.failMode "
		       "is closed. Try again, or ask your administrator.", reason);
	hook_exit(open_mode ? 0 : 1);
}

/* ---- watchdog ---- */

/* Wait until the hook is done or until passes; 1 if it is done. */
static int wait_done(struct hook *h, const struct timespec *until)
{
	int done;

	pthread_mutex_lock(&h->lock);
	while (!h->done && pthread_cond_timedwait(&h->done_cv, &h->lock, until) != ETIMEDOUT)
		;
	done = h->done;
	pthread_mutex_unlock(&h->lock);
	return done;
}

static void *watchdog(void *arg)
{
	struct hook *h = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += h->cfg.timeout;
	if (wait_done(h, &until))
		return NULL;
	/* Out of time: ask the scan to stop, and give it a moment to notice. */
	h->cancel = 1;
	until.tv_sec += WATCHDOG_GRACE_S;
	if (wait_done(h, &until))
		return NULL;
	/* The scan is stuck inside a single object: decide from here. */
	fail(h, "the scan did not finish within %d s (leakgate.timeout)", h->cfg.timeout);
}

/* ---- repository ---- */

static int open_repo(git_repository **out, const char *git_dir, const char *quarantine)
{
	git_odb *odb = NULL;
	int err;

	/*
	 * Open the repository itself and add the quarantine as one more object
	 * folder. Letting libgit2 read GIT_ALTERNATE_OBJECT_DIRECTORIES instead
	 * breaks on paths with a colon, which git C-quotes (DESIGN.md).
	 */
	err = git_repository_open_ext(out, git_dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (err < 0)
		return err;
	if (quarantine && *quarantine) {
		if ((err = git_repository_odb(&odb, *out)) < 0 ||
		    (err = git_odb_add_disk_alternate(odb, quarantine)) < 0) {
			git_odb_free(odb);
			git_repository_free(*out);
			*out = NULL;
			return err;
		}
		git_odb_free(odb);
	}
	return 0;
}

static int is_sha256_repo(const char *git_dir)
{
	git_config *cfg = NULL;
	char *path = NULL;
	git_buf b = {0};
	int yes = 0;

	if (asprintf(&path, "%s/config", git_dir) < 0)
		return 0;
	if (git_config_open_ondisk(&cfg, path) == 0 &&
	    git_config_get_string_buf(&b, cfg, "extensions.objectformat") == 0 && b.ptr)
		yes = strcasecmp(b.ptr, "sha256") == 0;
	git_buf_dispose(&b);
	git_config_free(cfg);
	free(path);
	return yes;
}

/* ---- scanning ---- */

struct worker {
	struct hook *h;
	git_repository *repo;
	git_odb *odb;
	struct lg_scanner *scanner;
	struct flist out;
	size_t cur_blob;
	size_t next, end; /* the run of blobs this worker has taken */
	uint64_t bytes;
	size_t objects, large, binary;
	int err;
	char msg[256];
};

/* The hook's copy of a scanner finding. */
static void finding_copy(struct hfinding *x, const struct lg_finding *f)
{
	memset(x, 0, sizeof(*x));
	x->rule = f->rule;
	memcpy(x->fingerprint, f->fingerprint, sizeof(x->fingerprint));
	memcpy(x->preview, f->preview, sizeof(x->preview));
	x->line = f->line;
	x->column = f->column;
}

static int on_blob_finding(const struct lg_finding *f, void *ctx)
{
	struct worker *w = ctx;
	struct hfinding x;

	finding_copy(&x, f);
	x.blob = w->cur_blob;
	x.item = SIZE_MAX;
	flist_add(&w->out, &x);
	return 0;
}

static void read_failed(struct worker *w, const git_oid *id)
{
	const git_error *e = git_error_last();
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	snprintf(w->msg, sizeof(w->msg), "cannot read object %s: %s", hex,
		 e ? e->message : "unknown error");
	w->err = 1;
}

static const char **blob_paths; /* first path seen for each unique blob */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct hook *h = w->h;

	for (;;) {
		size_t b, size;
		git_object_t type;
		git_odb_object *obj = NULL;
		const char *data;
		enum lg_utf16_kind u16;

		/*
		 * Blobs are in pack order: take them in runs, so that each
		 * thread's delta-base cache sees neighbours.
		 */
		if (w->next == w->end) {
			pthread_mutex_lock(&h->lock);
			w->next = h->next_blob;
			w->end = w->next + WORKER_BATCH < h->push.nblobs ? w->next + WORKER_BATCH
									 : h->push.nblobs;
			h->next_blob = w->end;
			pthread_mutex_unlock(&h->lock);
			if (w->next == w->end)
				break;
		}
		b = w->next++;
		if (h->cancel)
			break;
		w->cur_blob = b;
		if (git_odb_read_header(&size, &type, w->odb, &h->push.blobs[b]) < 0) {
			read_failed(w, &h->push.blobs[b]);
			break;
		}
		if (size > h->cfg.max_blob_size) {
			w->large++;
			continue;
		}
		if (git_odb_read(&obj, w->odb, &h->push.blobs[b]) < 0) {
			read_failed(w, &h->push.blobs[b]);
			break;
		}
		data = git_odb_object_data(obj);
		size = git_odb_object_size(obj);
		w->objects++;
		/* Path rules for binary files still run, per item, in attribute(). */
		if ((u16 = lg_utf16_detect(data, size))) {
			w->bytes += size;
			if (lg_scan_utf16(w->scanner, u16, blob_paths[b], data, size, on_blob_finding, w) ==
			    LG_ENOMEM) {
				git_odb_object_free(obj);
				snprintf(w->msg, sizeof(w->msg), "out of memory");
				w->err = 1;
				break;
			}
		} else if (!h->cfg.scan_binary && lg_looks_binary(data, size)) {
			w->binary++;
		} else {
			w->bytes += size;
			lg_scan_buffer(w->scanner, blob_paths[b], data, size, on_blob_finding, w);
		}
		git_odb_object_free(obj);
	}
	return NULL;
}

static void scan_blobs(struct hook *h, const char *quarantine)
{
	int n = h->cfg.threads;
	struct worker *w;
	pthread_t *t;

	if (h->push.nblobs == 0)
		return;
	if ((size_t)n > h->push.nblobs)
		n = (int)h->push.nblobs;
	blob_paths = calloc(h->push.nblobs, sizeof(*blob_paths));
	w = calloc((size_t)n, sizeof(*w));
	t = calloc((size_t)n, sizeof(*t));
	if (!blob_paths || !w || !t)
		fail(h, "out of memory");
	for (size_t i = h->push.nitems; i-- > 0;)
		if (h->push.items[i].kind == ITEM_BLOB)
			blob_paths[h->push.items[i].blob] = h->push.items[i].path;
	/*
	 * A small push is read on this thread with the repository already
	 * open: starting threads and opening more handles would cost more
	 * than the scan.
	 */
	if (h->push.nblobs <= INLINE_BLOBS_MAX)
		n = 1;
	for (int i = 0; i < n; i++) {
		w[i].h = h;
		if (n == 1) {
			w[i].repo = h->repo;
		} else if (open_repo(&w[i].repo, h->git_dir, quarantine) < 0) {
			fail(h, "cannot open the repository: %s",
			     git_error_last() ? git_error_last()->message : "unknown error");
		}
		if (git_repository_odb(&w[i].odb, w[i].repo) < 0)
			fail(h, "cannot open the object database: %s",
			     git_error_last() ? git_error_last()->message : "unknown error");
		if (lg_scanner_new(&w[i].scanner, h->rs, &h->key))
			fail(h, "out of memory");
		lg_scanner_set_cancel(w[i].scanner, &h->cancel);
	}
	if (n == 1) {
		worker_main(&w[0]);
	} else {
		for (int i = 0; i < n; i++)
			if (pthread_create(&t[i], NULL, worker_main, &w[i]) != 0)
				fail(h, "cannot start a scanning thread");
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
	}
	for (int i = 0; i < n; i++) {
		if (w[i].err)
			fail(h, "%s", w[i].msg);
		for (size_t k = 0; k < w[i].out.n; k++)
			flist_add(&h->blobfound, &w[i].out.v[k]);
		h->bytes_scanned += w[i].bytes;
		h->objects_scanned += w[i].objects;
		h->skipped_large += w[i].large;
		h->skipped_binary += w[i].binary;
		free(w[i].out.v);
		lg_scanner_free(w[i].scanner);
		git_odb_free(w[i].odb);
		if (w[i].repo != h->repo)
			git_repository_free(w[i].repo);
	}
	free(w);
	free(t);
}

/* Findings of an old blob (the previous version of a path), for comparison. */
struct fpset {
	char (*v)[LG_FP_HEX + 1];
	size_t n, cap;
};

static int collect_fp(const struct lg_finding *f, void *ctx)
{
	struct fpset *s = ctx;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *v = realloc(s->v, cap * sizeof(*s->v));
		if (!v)
			return 1;
		s->v = v;
		s->cap = cap;
	}
	memcpy(s->v[s->n++], f->fingerprint, LG_FP_HEX + 1);
	return 0;
}

static int fpset_has(const struct fpset *s, const char *fp)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], fp))
			return 1;
	return 0;
}

struct msg_ctx {
	struct hook *h;
	size_t item;
};

static int on_item_finding(const struct lg_finding *f, void *ctx)
{
	struct msg_ctx *m = ctx;
	struct hfinding x;

	finding_copy(&x, f);
	x.blob = SIZE_MAX;
	x.item = m->item;
	x.status = F_BLOCK;
	flist_add(&m->h->found, &x);
	return 0;
}

static int cmp_blob(const void *a, const void *b)
{
	const struct hfinding *x = a, *y = b;
	if (x->blob != y->blob)
		return x->blob < y->blob ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->column < y->column ? -1 : x->column > y->column;
}

/*
 * Attribute blob findings to the items (commit, path) that introduce the
 * blob; compare with the previous version of the same path; scan
 * messages and paths.
 */
static void attribute(struct hook *h)
{
	struct lg_scanner *s = NULL;
	size_t *first = NULL, *count = NULL;

	if (lg_scanner_new(&s, h->rs, &h->key))
		fail(h, "out of memory");
	/* Group blob findings by blob. */
	first = calloc(h->push.nblobs + 1, sizeof(*first));
	count = calloc(h->push.nblobs + 1, sizeof(*count));
	if (!first || !count)
		fail(h, "out of memory");
	if (h->blobfound.n)
		qsort(h->blobfound.v, h->blobfound.n, sizeof(*h->blobfound.v), cmp_blob);
	for (size_t i = h->blobfound.n; i-- > 0;) {
		first[h->blobfound.v[i].blob] = i;
		count[h->blobfound.v[i].blob]++;
	}
	for (size_t i = 0; i < h->push.nitems && !h->cancel; i++) {
		struct push_item *it = &h->push.items[i];
		struct msg_ctx m = {h, i};

		if (it->kind == ITEM_COMMIT_MESSAGE) {
			git_commit *c = NULL;
			if (git_commit_lookup(&c, h->repo, &it->id) == 0) {
				const char *msg = git_commit_message_raw(c);
				lg_scan_buffer(s, NULL, msg, strlen(msg), on_item_finding, &m);
				git_commit_free(c);
			}
			continue;
		}
		if (it->kind == ITEM_TAG_MESSAGE) {
			git_tag *t = NULL;
			if (git_tag_lookup(&t, h->repo, &it->id) == 0) {
				const char *msg = git_tag_message(t);
				if (msg)
					lg_scan_buffer(s, NULL, msg, strlen(msg), on_item_finding, &m);
				git_tag_free(t);
			}
			continue;
		}
		/* A blob: its content findings, plus path rules for this very path. */
		{
			size_t before = h->found.n;
			struct fpset old = {0};
			int have_old = 0;

			for (size_t k = first[it->blob]; k < first[it->blob] + count[it->blob]; k++) {
				struct hfinding x = h->blobfound.v[k];
				/* Path-only findings were made for the blob's first path. */
				if (x.line == 0)
					continue;
				x.item = i;
				x.status = F_BLOCK;
				flist_add(&h->found, &x);
			}
			lg_scan_buffer(s, it->path, "", 0, on_item_finding, &m);
			if (h->found.n == before)
				continue;
			if (!git_oid_is_zero(&it->old_id)) {
				git_blob *ob = NULL;
				if (git_blob_lookup(&ob, h->repo, &it->old_id) == 0) {
					git_object_size_t sz = git_blob_rawsize(ob);
					if (sz <= h->cfg.max_blob_size) {
						lg_scan_buffer(s, it->path, git_blob_rawcontent(ob), (size_t)sz,
							       collect_fp, &old);
						have_old = 1;
					}
					git_blob_free(ob);
				}
			}
			if (have_old) {
				int incoming = push_is_incoming(&h->push, &it->old_id);
				for (size_t k = before; k < h->found.n; k++)
					if (fpset_has(&old, h->found.v[k].fingerprint))
						h->found.v[k].status = incoming ? F_CARRIED : F_PREEXISTING;
			}
			free(old.v);
		}
	}
	free(first);
	free(count);
	lg_scanner_free(s);
}

/* Findings an administrator exempted (by fingerprint, rule, path, repository). */
static void apply_exemptions(struct hook *h)
{
	struct lg_exemption *ex = NULL;
	size_t nex = 0;
	int err, any = 0;

	for (size_t i = 0; i < h->found.n; i++)
		any |= h->found.v[i].status == F_BLOCK;
	if (!any)
		return;
	err = lg_store_exemptions_active(h->store, now_ms(), &ex, &nex);
	if (err)
		fail(h, "cannot read the exemptions from the database%s",
		     err == LG_EBUSY ? " (locked)" : "");
	for (size_t i = 0; i < h->found.n; i++) {
		struct hfinding *f = &h->found.v[i];
		const struct lg_exemption *e;
		if (f->status != F_BLOCK)
			continue;
		e = lg_exemption_match(ex, nex, h->repo_name, f->fingerprint, lg_rule_id(f->rule),
				       item_path(h, f));
		if (e) {
			f->status = F_EXEMPT;
			f->exemption = e->id;
		}
	}
	lg_exemptions_free(ex, nex);
}

/* ---- the verdict ---- */

static int same_place(const struct hook *h, const struct hfinding *a, const struct hfinding *b)
{
	return !strcmp(a->fingerprint, b->fingerprint) && !strcmp(item_path(h, a), item_path(h, b));
}

static void short_id(const git_oid *id, char *out)
{
	git_oid_tostr(out, 8, id);
}

static void explain(struct hook *h, size_t nblock)
{
	size_t shown = 0, more = 0, earliest = SIZE_MAX, latest_item = SIZE_MAX;
	int all_in_tip = 1, in_message = 0, in_root = 0;
	char sid[16];
	struct {
		const char *text;
		size_t n;
	} advice[64];
	size_t nadvice = 0;

	say(h, "==============================================================");
	say(h, "leakgate: push rejected: %zu secret%s in the commits you pushed", nblock,
	    nblock == 1 ? "" : "s");
	say(h, "==============================================================");
	for (size_t i = 0; i < h->found.n; i++) {
		const struct hfinding *f = &h->found.v[i];
		const struct push_item *it = &h->push.items[f->item];
		int dup = 0;

		if (f->status != F_BLOCK)
			continue;
		for (size_t k = 0; k < i && !dup; k++)
			dup = h->found.v[k].status == F_BLOCK && same_place(h, &h->found.v[k], f);
		if (dup)
			continue;
		if (it->commit != SIZE_MAX) {
			const struct push_commit *c = &h->push.commits[it->commit];
			if (earliest == SIZE_MAX || it->commit < earliest)
				earliest = it->commit;
			if (!c->is_tip)
				all_in_tip = 0;
			if (c->is_root)
				in_root = 1;
		} else {
			all_in_tip = 0;
		}
		if (it->kind == ITEM_COMMIT_MESSAGE)
			in_message = 1;
		latest_item = f->item;
		if ((int)shown >= h->cfg.max_report) {
			more++;
			continue;
		}
		shown++;
		say(h, "%s", "");
		say(h, "[%zu] %s (%s)", shown, lg_rule_name(f->rule),
		    lg_severity_name(lg_rule_severity(f->rule)));
		if (it->commit != SIZE_MAX) {
			const struct push_commit *c = &h->push.commits[it->commit];
			short_id(&c->id, sid);
			say(h, "    commit:      %s %.60s", sid, c->summary);
		} else {
			say(h, "    tag:         %s", it->path);
		}
		if (it->kind == ITEM_BLOB && f->line)
			say(h, "    where:       %s:%llu", it->path, (unsigned long long)f->line);
		else if (it->kind == ITEM_BLOB)
			say(h, "    where:       %s (the file itself)", it->path);
		else
			say(h, "    where:       %s, line %llu", item_path(h, f), (unsigned long long)f->line);
		say(h, "    secret:      %s", f->preview);
		say(h, "    fingerprint: %s", f->fingerprint);
		{
			/* The same advice twice (two AWS rules) is said once. */
			size_t same = 0;
			for (size_t k = 0; k < nadvice && !same; k++)
				if (!strcmp(advice[k].text, lg_rule_remediation(f->rule)))
					same = advice[k].n;
			if (same) {
				say(h, "    what to do:  as for [%zu] above", same);
			} else {
				say_wrapped(h, "    what to do:  ", lg_rule_remediation(f->rule));
				if (nadvice < sizeof(advice) / sizeof(advice[0])) {
					advice[nadvice].text = lg_rule_remediation(f->rule);
					advice[nadvice++].n = shown;
				}
			}
		}
	}
	(void)latest_item;
	if (more) {
		say(h, "%s", "");
		say(h, "... and %zu more not shown (leakgate.maxReport)", more);
	}
	say(h, "%s", "");
	say(h, "How to fix: remove the secret from every commit you push, then push again.");
	if (all_in_tip && earliest != SIZE_MAX) {
		say(h, "  It is in the last commit of the branch. Edit the file (or the message), then:");
		say(h, "      git add -A && git commit --amend%s && git push", in_message ? "" : " --no-edit");
	} else if (earliest != SIZE_MAX) {
		short_id(&h->push.commits[earliest].id, sid);
		say(h, "  The first commit with a secret is %s. Rewrite from there:", sid);
		if (in_root)
			say(h, "      git rebase -i --root");
		else
			say(h, "      git rebase -i %s~1", sid);
		say(h, "  mark that commit (and any later one listed) 'edit'%s, remove the secret,",
		    in_message ? " or 'reword'" : "");
		say(h, "  then: git add -A && git commit --amend && git rebase --continue");
		say(h, "  Or, to squash all your unpushed work into one new commit:");
		say(h, "      git reset --soft <the commit the server has>   (then remove the secret and commit)");
	} else {
		say(h, "  The secret is in an annotated tag's message: delete the tag locally");
		say(h, "  (git tag -d <name>), create it again without the secret, and push it.");
	}
	say(h, "  A secret that was ever shared should be revoked or rotated even so.");
	if (h->cfg.allow_bypass) {
		if (h->cfg.advertise_options)
			say(h, "If this is a false positive, you may push anyway with a reason, which is recorded:\n"
			       "      git push -o " BYPASS_OPTION "=\"<why this is safe>\"");
		else
			say(h, "Bypassing needs push options, which this server does not accept yet\n"
			       "(receive.advertisePushOptions=true): ask your administrator, or remove the secret.");
	}
	say(h, "Findings that are not secrets can be exempted by an administrator using the fingerprint.");
}

/* Truth of a git config boolean as written on git's command line. */
static int git_true(const char *v, size_t n)
{
	return (n == 4 && !strncasecmp(v, "true", 4)) || (n == 3 && !strncasecmp(v, "yes", 3)) ||
	       (n == 2 && !strncasecmp(v, "on", 2)) || (n == 1 && v[0] == '1');
}

/*
 * Forges turn push options on with `git -c receive.advertisePushOptions=true
 * receive-pack`, which reaches the hook only through the environment:
 * GIT_CONFIG_PARAMETERS ('key=value' or 'key'='value' items) and
 * GIT_CONFIG_COUNT/KEY_n/VALUE_n.
 */
static int push_options_from_env(void)
{
	static const char key[] = "receive.advertisepushoptions";
	const char *e = getenv("GIT_CONFIG_PARAMETERS"), *cnt = getenv("GIT_CONFIG_COUNT");
	int on = -1;

	for (const char *p = e; p && *p; p++) {
		const char *v;
		size_t n;
		if (strncasecmp(p, key, sizeof(key) - 1))
			continue;
		v = p + sizeof(key) - 1;
		if (*v == '\'')
			v++;
		if (*v != '=')
			continue;
		v++;
		if (*v == '\'')
			v++;
		n = strcspn(v, "' ");
		on = git_true(v, n);
	}
	for (long i = 0, n = cnt ? strtol(cnt, NULL, 10) : 0; i < n && i < 1000; i++) {
		char kname[40], vname[40];
		const char *k, *v;
		snprintf(kname, sizeof(kname), "GIT_CONFIG_KEY_%ld", i);
		snprintf(vname, sizeof(vname), "GIT_CONFIG_VALUE_%ld", i);
		k = getenv(kname);
		v = getenv(vname);
		if (k && v && !strcasecmp(k, key))
			on = git_true(v, strlen(v));
	}
	return on;
}

static void read_push_options(struct hook *h)
{
	const char *cnt = getenv("GIT_PUSH_OPTION_COUNT");
	long n = cnt ? strtol(cnt, NULL, 10) : 0;
	int env_on = push_options_from_env();

	/*
	 * Options reached us, so they are on, whatever the files say. (git
	 * sets GIT_PUSH_OPTION_COUNT=0 even when they are off: only a count
	 * above zero tells.)
	 */
	if (n > 0 || env_on == 1)
		h->cfg.advertise_options = 1;
	else if (env_on == 0)
		h->cfg.advertise_options = 0;

	for (long i = 0; i < n && i < 1000; i++) {
		char name[64];
		const char *v;
		snprintf(name, sizeof(name), "GIT_PUSH_OPTION_%ld", i);
		v = getenv(name);
		if (!v || strncmp(v, BYPASS_OPTION, strlen(BYPASS_OPTION)))
			continue;
		v += strlen(BYPASS_OPTION);
		if (*v != '=' && *v != '\0')
			continue;
		h->bypass_requested = 1;
		if (*v == '=')
			v++;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!*v) {
			h->bypass_bad = 1;
			continue;
		}
		free(h->bypass_reason);
		h->bypass_reason = strndup(v, BYPASS_REASON_MAX);
		if (h->bypass_reason)
			for (char *p = h->bypass_reason; *p; p++)
				if ((unsigned char)*p < 0x20)
					*p = ' ';
		h->bypass_bad = 0;
	}
}

static void identify(struct hook *h)
{
	const char *e;
	char *abs = NULL;

	h->gitlab = getenv("GL_ID") != NULL;
	if ((e = getenv("GL_PROJECT_PATH")) && *e)
		h->repo_name = strdup(e);
	else if ((e = getenv("GITEA_REPO_NAME")) && *e) {
		const char *owner = getenv("GITEA_REPO_USER_NAME");
		if (asprintf(&h->repo_name, "%s/%s", owner ? owner : "", e) < 0)
			h->repo_name = NULL;
	} else {
		abs = realpath(h->git_dir, NULL);
		h->repo_name = strdup(abs ? abs : h->git_dir);
	}
	free(abs);
	if ((e = getenv("GL_USERNAME")) && *e)
		h->pusher = strdup(e);
	else if ((e = getenv("GITEA_PUSHER_NAME")) && *e)
		h->pusher = strdup(e);
	else if ((e = getenv("REMOTE_USER")) && *e)
		h->pusher = strdup(e);
	else {
		struct passwd *pw = getpwuid(getuid());
		h->pusher = strdup(pw ? pw->pw_name : "unknown");
	}
	if ((e = getenv("GL_PROTOCOL")) && *e)
		h->protocol = strdup(e);
	else if (getenv("SSH_CONNECTION"))
		h->protocol = strdup("ssh");
	else if (getenv("REMOTE_ADDR") || getenv("GATEWAY_INTERFACE"))
		h->protocol = strdup("http");
	else
		h->protocol = strdup("local");
}


static void *init_libgit2(void *unused)
{
	(void)unused;
	git_libgit2_init();
	/* git's index-pack has already hashed every incoming object. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/* Git itself decided that this repository may be used. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	/*
	 * No object cache: the walk reads each tree about once or twice, and
	 * measured on a 2400-commit push the cache made the walk slower (147 ->
	 * 165 ms with 4 MiB) and the hook bigger (its accounting counts raw
	 * object sizes; parsed trees take about three times that).
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)HOOK_PACK_WINDOW_MB << 20);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)HOOK_PACK_MAPPED_MB << 20);
	return NULL;
}

static char *read_stdin(size_t *len, int *too_large)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);

	*too_large = 0;
	while (buf) {
		ssize_t r;
		if (n == cap) {
			char *nb;
			if (cap >= PUSH_STDIN_MAX) {
				*too_large = 1;
				break;
			}
			nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(0, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static int hook_run(void)
{
	static struct hook hook;
	struct hook *h = &hook;
	struct lg_diag d, spec_d;
	struct lg_load_opts lo;
	const char *quarantine;
	pthread_t init_thread;
	int spawned, spec_err;
	pthread_t wd;
	char *input, *keypath = NULL;
	size_t len = 0, nblock = 0, nwarn = 0, nexempt = 0;
	int sha256 = 0, too_large = 0;

	h->t0_ms = now_ms();
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		h->t0_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}
	trace_on = getenv("LEAKGATE_TRACE") && *getenv("LEAKGATE_TRACE") && strcmp(getenv("LEAKGATE_TRACE"), "0");
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->finish, NULL);
	pthread_cond_init(&h->done_cv, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (served)
		trace(h, "hook server");
	lg_diag_init(&d);
	/*
	 * libgit2's start-up loads the system's TLS certificates (about 5 ms
	 * here), which the hook never uses: let it run on a second thread
	 * while this one reads the input and loads the built-in rules.
	 */
	if (served) {
		spawned = 0;
		init_libgit2(NULL); /* done by the server: only counts a user */
	} else {
		spawned = pthread_create(&init_thread, NULL, init_libgit2, NULL) == 0;
		if (!spawned)
			init_libgit2(NULL);
	}

	h->git_dir = getenv("GIT_DIR");
	if (!h->git_dir || !*h->git_dir)
		h->git_dir = ".";
	quarantine = getenv("GIT_OBJECT_DIRECTORY");
	if (!quarantine || !*quarantine)
		quarantine = getenv("GIT_QUARANTINE_PATH");
	identify(h);
	input = read_stdin(&len, &too_large);
	memset(&lo, 0, sizeof(lo));
	lo.cache_dir = getenv("LEAKGATE_CACHE_DIR");
	lg_diag_init(&spec_d);
	if (served && preloaded) {
		/* The built-in rules, loaded once by the hook server. */
		h->rs = preloaded;
		spec_err = 0;
	} else {
		spec_err = lg_ruleset_load(&h->rs, &lo, NULL, &spec_d);
	}
	trace(h, "rules");
	if (spawned)
		pthread_join(init_thread, NULL);
	trace(h, "libgit2 init");
	hook_config_load(&h->cfg, h->git_dir, &d);
	lg_diag_release(&d);

	trace(h, "config");
	/*
	 * The audit store opens on a second thread (about a millisecond: SQLite
	 * reads the schema) while this one walks the push; every event and
	 * failure waits for it, so each is still recorded.
	 */
	h->store_path = h->cfg.db_path ? strdup(h->cfg.db_path) : lg_store_default_path();
	if (!h->store_path)
		fail(h, "no audit database path (set leakgate.db or LEAKGATE_DB)");
	pthread_mutex_init(&h->store_lock, NULL);
	pthread_cond_init(&h->store_cv, NULL);
	{
		pthread_t st;
		h->store_started = 1;
		if (pthread_create(&st, NULL, store_main, h) == 0)
			pthread_detach(st);
		else
			store_main(h);
	}

	if (!input || too_large)
		fail(h, "the ref updates from git are too large or unreadable");
	if (push_parse_updates(&h->push, input, len, &sha256, &d)) {
		free(input);
		if (sha256 || is_sha256_repo(h->git_dir))
			fail(h, "this is a SHA-256 repository, which this libgit2 (%d.%d) cannot read",
			     LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR);
		fail(h, "malformed ref updates from git: %s", d.n ? d.v[0].message : "unknown");
	}
	free(input);
	if (h->push.nupdates == 0) {
		record(h, "accepted", "");
		hook_exit(0);
	}
	if (is_sha256_repo(h->git_dir))
		fail(h, "this is a SHA-256 repository, which this libgit2 (%d.%d) cannot read",
		     LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR);
	read_push_options(h);

	trace(h, "stdin");
	if (pthread_create(&wd, NULL, watchdog, h) != 0)
		fail(h, "cannot start the watchdog");
	pthread_detach(wd);

	keypath = h->cfg.key_file ? strdup(h->cfg.key_file) : lg_key_default_path();
	if (!keypath || lg_key_load(&h->key, keypath, 1))
		fail(h, "the fingerprint key %s is not usable", keypath ? keypath : "(none)");
	free(keypath);

	trace(h, "key");
	if (open_repo(&h->repo, h->git_dir, quarantine) < 0)
		fail(h, "cannot open the repository: %s",
		     git_error_last() ? git_error_last()->message : "unknown error");
	h->push.cancel = &h->cancel;
	if (push_walk(&h->push, h->repo, quarantine, &d)) {
		char msg[600] = "unknown error";
		if (d.n)
			lg_diag_format(&d.v[d.n - 1], msg, sizeof(msg));
		if (h->cancel)
			fail(h, "the scan did not finish within %d s (leakgate.timeout)", h->cfg.timeout);
		fail(h, "%s", msg);
	}
	trace(h, "walk");
	store_wait(h);
	if (!h->store)
		fail(h, "the audit database is not usable: %s", h->store_err);
	trace(h, "store");
	/* The rules loaded above are the ones unless the configuration says otherwise. */
	if (h->cfg.npacks || h->cfg.ndisabled || h->rule_changes ||
	    (h->cfg.cache_dir && h->rs != preloaded && (!lo.cache_dir || strcmp(lo.cache_dir, h->cfg.cache_dir)))) {
		lg_ruleset_free(h->rs);
		h->rs = NULL;
		lg_diag_release(&spec_d);
		memset(&lo, 0, sizeof(lo));
		lo.packs = (const char *const *)h->cfg.packs;
		lo.npacks = h->cfg.npacks;
		lo.disabled = (const char *const *)h->cfg.disabled;
		lo.ndisabled = h->cfg.ndisabled;
		lo.cache_dir = h->cfg.cache_dir;
		spec_err = lg_store_load_rules(h->store, &lo, &h->rs, NULL, &spec_d);
	}
	if (spec_err) {
		char msg[600] = "unknown error";
		if (spec_d.n)
			lg_diag_format(&spec_d.v[0], msg, sizeof(msg));
		fail(h, "the rules cannot be loaded: %s", msg);
	}
	lg_diag_release(&spec_d);
	if (push_order_blobs(&h->push, quarantine))
		fail(h, "out of memory");
	scan_blobs(h, quarantine);
	trace(h, "scan");
	if (!h->cancel)
		attribute(h);
	if (h->cancel)
		fail(h, "the scan did not finish within %d s (leakgate.timeout)", h->cfg.timeout);

	trace(h, "attribute");
	pthread_mutex_lock(&h->lock);
	h->done = 1;
	pthread_cond_broadcast(&h->done_cv);
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_lock(&h->finish);

	apply_exemptions(h);
	for (size_t i = 0; i < h->found.n; i++) {
		if (h->found.v[i].status == F_BLOCK)
			nblock++;
		else if (h->found.v[i].status == F_PREEXISTING)
			nwarn++;
		else if (h->found.v[i].status == F_EXEMPT)
			nexempt++;
	}
	if (h->skipped_large)
		say(h, "leakgate: note: %zu file%s over %llu bytes not scanned (leakgate.maxBlobSize)",
		    h->skipped_large, h->skipped_large == 1 ? "" : "s",
		    (unsigned long long)h->cfg.max_blob_size);
	if (nwarn) {
		say(h, "leakgate: warning: %zu secret%s already on the server in earlier versions "
		       "of the same files (not blocked):", nwarn, nwarn == 1 ? " is" : "s are");
		for (size_t i = 0, k = 0; i < h->found.n && k < (size_t)h->cfg.max_report; i++) {
			const struct hfinding *f = &h->found.v[i];
			if (f->status != F_PREEXISTING)
				continue;
			k++;
			say(h, "  %s in %s:%llu (%s, fingerprint %s): revoke it and remove it.",
			    lg_rule_name(f->rule), item_path(h, f), (unsigned long long)f->line,
			    f->preview, f->fingerprint);
		}
	}
	if (nexempt) {
		say(h, "leakgate: %zu finding%s let through by an exemption:", nexempt,
		    nexempt == 1 ? "" : "s");
		for (size_t i = 0, k = 0; i < h->found.n && k < (size_t)h->cfg.max_report; i++) {
			const struct hfinding *f = &h->found.v[i];
			if (f->status != F_EXEMPT)
				continue;
			k++;
			say(h, "  %s in %s:%llu (fingerprint %s): exemption #%lld", lg_rule_name(f->rule),
			    item_path(h, f), (unsigned long long)f->line, f->fingerprint,
			    (long long)f->exemption);
		}
	}
	if (nblock == 0) {
		if (record(h, nexempt ? "exempted" : nwarn ? "warned" : "accepted", "") < 0)
			fail(h, "the audit event could not be recorded");
		trace(h, "recorded");
		hook_exit(0);
	}
	if (h->bypass_requested && h->cfg.allow_bypass && !h->bypass_bad && h->bypass_reason) {
		if (record(h, "bypassed", h->bypass_reason) < 0)
			fail(h, "the audit event could not be recorded");
		say(h, "leakgate: %zu secret%s found; push accepted because of " BYPASS_OPTION
		       " (reason recorded: \"%s\")", nblock, nblock == 1 ? "" : "s", h->bypass_reason);
		hook_exit(0);
	}
	explain(h, nblock);
	if (h->bypass_requested && !h->cfg.allow_bypass)
		say(h, "leakgate: " BYPASS_OPTION " was given, but this server does not allow bypasses.");
	else if (h->bypass_requested)
		say(h, "leakgate: " BYPASS_OPTION " needs a reason: git push -o " BYPASS_OPTION
		       "=\"<why this is safe>\"");
	if (record(h, "rejected", "") < 0)
		say(h, "leakgate: (the rejection could not be recorded in the audit database)");
	hook_exit(1);
}

/* In a process forked by the hook server, with the client's environment. */
static int hook_run_served(int conn)
{
	served = 1;
	verdict_fd = conn;
	/* libgit2 found the global and system configuration from the server's environment. */
	for (int level = GIT_CONFIG_LEVEL_PROGRAMDATA; level <= GIT_CONFIG_LEVEL_GLOBAL; level++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, NULL);
	return hook_run();
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--serve")) {
		if (argc > 3) {
			fprintf(stderr, "usage: leakgate-pre-receive --serve [SOCKET]\n");
			return 2;
		}
		/* What a forked check would otherwise spend its first milliseconds on. */
		init_libgit2(NULL);
		lg_store_init();
		{
			struct lg_load_opts lo = {0};
			struct lg_diag d;
			lg_diag_init(&d);
			lo.cache_dir = getenv("LEAKGATE_CACHE_DIR");
			if (lg_ruleset_load(&preloaded, &lo, NULL, &d))
				preloaded = NULL;
			else
				lg_ruleset_prepare_scratch(preloaded);
			lg_diag_release(&d);
		}
		{
			int status = hs_serve(argc == 3 ? argv[2] : NULL, hook_run_served);
			lg_ruleset_free(preloaded);
			git_libgit2_shutdown();
			return status;
		}
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: leakgate-pre-receive            (run by git as the pre-receive hook)\n"
		       "       leakgate-pre-receive --serve [SOCKET]\n"
		       "the hook server: checks pushes handed over by leakgate-pre-receive-client\n"
		       "(default socket: $LEAKGATE_SOCKET, else ~/.local/state/leakgate/hook.sock)\n");
		return 0;
	}
	return hook_run();
}
