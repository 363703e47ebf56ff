/*
 * Phase 3 of the hook: scan what the push adds. The unique blobs are read
 * in pack order by several threads (each with its own repository handle
 * and scanner), each blob once under all the names the push gives it, so
 * that a rule scoped to `.npmrc` sees a token however the file was named
 * on the way; then the commit and tag objects whole (headers, message,
 * bytes after a NUL) and the ref names, on this thread.
 *
 * Nothing found is dropped: a finding that cannot be held, a blob that
 * cannot be read and a scan that does not complete are each a failure.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "utf16.h"

/* Blobs a scanning thread takes at a time (pack order: neighbours share delta bases). */
#define WORKER_BATCH 64
/* Pushes with at most this many new blobs are scanned without threads. */
#define INLINE_BLOBS_MAX 32
/* Failures one scanning thread keeps in detail; the rest are counted. */
#define WORKER_FAILURES_MAX 16

struct wfail {
	size_t blob;
	int code;
	char message[400];
};

struct worker {
	struct hook *h;
	git_repository *repo;
	git_odb *odb;
	struct lg_scanner *scanner;
	struct lg_vec out;   /* struct hfinding */
	struct lg_vec fails; /* struct wfail */
	size_t nfails;
	size_t cur_blob;
	size_t next, end; /* the run of blobs this worker has taken */
	uint64_t bytes;
	size_t objects;
	struct lg_vec paths; /* const char *: the current blob's names */
	struct lg_vec strings; /* char *: members and layers of its findings, handed to the hook */
	char note[300];        /* the first thing an archive kept from the scan (lg_unpack_result) */
	const size_t *item_first, *item_next; /* each blob's items (first[b], next[i]; SIZE_MAX ends) */
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
	x->start = f->start;
	x->end = f->end;
	x->blob = SIZE_MAX;
	x->item = SIZE_MAX;
}

/* A copy of s kept in pool (freed with the hook), or NULL for NULL. */
static int pool_strdup(struct lg_vec *pool, const char *s, char **out)
{
	int err;

	*out = NULL;
	if (!s)
		return LG_OK;
	if (!(*out = strdup(s)))
		return LG_ENOMEM;
	if ((err = lg_vec_push(pool, out))) {
		free(*out);
		*out = NULL;
	}
	return err;
}

static int on_blob_finding(const struct lg_finding *f, void *ctx)
{
	struct worker *w = ctx;
	struct hfinding x;
	int err;

	/*
	 * Path rules without content are checked per item (attribute), for
	 * every name; a member's name is only known here.
	 */
	if (f->line == 0 && !f->member)
		return 0;
	finding_copy(&x, f);
	x.blob = w->cur_blob;
	if ((err = pool_strdup(&w->strings, f->member, &x.member)) ||
	    (err = pool_strdup(&w->strings, f->layer, &x.layer)))
		return err;
	return lg_vec_push(&w->out, &x);
}

static void worker_fail(struct worker *w, size_t b, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void worker_fail(struct worker *w, size_t b, int code, const char *fmt, ...)
{
	struct wfail *f;
	va_list ap;

	w->nfails++;
	if (w->fails.n >= WORKER_FAILURES_MAX || lg_vec_grow(&w->fails, 1, (void **)&f))
		return;
	f->blob = b;
	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Distinct names of blob b in the push, into w->paths. */
static int blob_names(struct worker *w, size_t b)
{
	struct hook *h = w->h;
	size_t keep = 0;
	int err;

	w->paths.n = 0;
	for (size_t i = w->item_first[b]; i != SIZE_MAX; i = w->item_next[i]) {
		const char *p = PUSH_ITEM(&h->push, i)->path;
		if ((err = lg_vec_push(&w->paths, &p)))
			return err;
	}
	qsort(w->paths.v, w->paths.n, sizeof(const char *), cmp_str);
	for (size_t i = 0; i < w->paths.n; i++)
		if (!keep || strcmp(LG_VEC_AT(&w->paths, const char *, keep - 1), LG_VEC_AT(&w->paths, const char *, i)))
			LG_VEC_AT(&w->paths, const char *, keep++) = LG_VEC_AT(&w->paths, const char *, i);
	w->paths.n = keep;
	return LG_OK;
}

static void scan_one(struct worker *w, size_t b)
{
	struct hook *h = w->h;
	const git_oid *id = PUSH_BLOB(&h->push, b);
	char hex[GIT_OID_HEXSZ + 1];
	git_odb_object *obj = NULL;
	git_object_t type;
	struct lg_unpack_result res;
	const char *data;
	size_t size;
	int err;

	git_oid_tostr(hex, sizeof(hex), id);
	w->cur_blob = b;
	if (git_odb_read_header(&size, &type, w->odb, id) < 0) {
		h->blob_state[b] = BLOB_UNREADABLE;
		worker_fail(w, b, LG_EIO, "cannot read object %s: %s", hex, hook_git_error());
		return;
	}
	if (size > h->cfg.max_blob_size) {
		h->blob_state[b] = BLOB_LARGE;
		return;
	}
	if (git_odb_read(&obj, w->odb, id) < 0) {
		h->blob_state[b] = BLOB_UNREADABLE;
		worker_fail(w, b, LG_EIO, "cannot read object %s: %s", hex, hook_git_error());
		return;
	}
	data = git_odb_object_data(obj);
	size = git_odb_object_size(obj);
	w->objects++;
	if ((err = blob_names(w, b))) {
		h->blob_state[b] = BLOB_FAILED;
		worker_fail(w, b, err, "out of memory");
		git_odb_object_free(obj);
		return;
	}
	/*
	 * With its archive members and decoded views. A binary file (without
	 * leakgate.scanBinary) is still scanned, for the structured tokens only
	 * (a provider prefix, a checksum, a PEM header): they are as certain in
	 * a binary as anywhere, and a NUL byte must not be a way around the
	 * gate. Generic rules would mostly find noise there. An archive is its
	 * members: it is not counted as binary.
	 */
	w->bytes += size;
	err = lg_scan_deep(w->scanner, &h->cfg.unpack, (const char *const *)w->paths.v, w->paths.n, data, size,
			   on_blob_finding, w, &res);
	h->blob_state[b] = err ? BLOB_FAILED : res.binary && !res.archive ? BLOB_BINARY : BLOB_SCANNED;
	h->blob_notes[b] = (unsigned char)res.notes;
	w->bytes += res.inflated + res.decoded;
	if (res.notes && !w->note[0])
		snprintf(w->note, sizeof(w->note), "%s", res.note);
	/* Cancelled (the time budget) and full (too many findings) are said once, by hook_scan. */
	if (err && err != LG_ECANCELED && !(err == LG_ETOOLARGE && w->out.n >= HOOK_FINDINGS_MAX))
		worker_fail(w, b, err, "%s (%s): %s", w->paths.n ? LG_VEC_AT(&w->paths, const char *, 0) : hex,
			    hex, lg_scanner_error(w->scanner));
	git_odb_object_free(obj);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct hook *h = w->h;

	for (;;) {
		if (w->next == w->end) {
			pthread_mutex_lock(&h->lock);
			w->next = h->next_blob;
			w->end = w->next + WORKER_BATCH < h->push.blobs.n ? w->next + WORKER_BATCH : h->push.blobs.n;
			h->next_blob = w->end;
			pthread_mutex_unlock(&h->lock);
			if (w->next == w->end)
				break;
		}
		if (h->cancel)
			break;
		scan_one(w, w->next++);
		/* No room for more findings: the push cannot be checked whole. */
		if (w->out.n >= HOOK_FINDINGS_MAX)
			break;
	}
	return NULL;
}

static void worker_release(struct hook *h, struct worker *w)
{
	lg_vec_release(&w->out);
	lg_vec_release(&w->fails);
	lg_vec_release(&w->paths);
	for (size_t i = 0; i < w->strings.n; i++)
		free(LG_VEC_AT(&w->strings, char *, i));
	lg_vec_release(&w->strings);
	lg_scanner_free(w->scanner);
	git_odb_free(w->odb);
	if (w->repo && w->repo != h->repo)
		git_repository_free(w->repo);
}

int hook_open_repo(git_repository **out, const char *git_dir, const char *quarantine);

static int scan_blobs(struct hook *h)
{
	size_t nb = h->push.blobs.n, *first = NULL, *next = NULL;
	int n = h->cfg.threads, err = LG_OK, started = 0;
	struct worker *w = NULL;
	pthread_t *t = NULL;

	if (nb == 0)
		return LG_OK;
	if ((size_t)n > nb)
		n = (int)nb;
	/* A small push is read on this thread: threads and handles would cost more than the scan. */
	if (nb <= INLINE_BLOBS_MAX)
		n = 1;
	h->blob_state = calloc(nb, 1);
	h->blob_notes = calloc(nb, 1);
	first = malloc(nb * sizeof(*first));
	next = malloc(h->push.items.n * sizeof(*next));
	w = calloc((size_t)n, sizeof(*w));
	t = calloc((size_t)n, sizeof(*t));
	if (!h->blob_state || !h->blob_notes || !first || !next || !w || !t) {
		hook_failed(h, LG_ENOMEM, 1, "out of memory");
		err = LG_ENOMEM;
		goto out;
	}
	/* Each blob's items, in walk order. */
	for (size_t b = 0; b < nb; b++)
		first[b] = SIZE_MAX;
	for (size_t i = h->push.items.n; i-- > 0;) {
		struct push_item *it = PUSH_ITEM(&h->push, i);
		next[i] = SIZE_MAX;
		if (it->kind == ITEM_BLOB) {
			next[i] = first[it->blob];
			first[it->blob] = i;
		}
	}
	for (int i = 0; i < n; i++) {
		w[i].h = h;
		w[i].item_first = first;
		w[i].item_next = next;
		lg_vec_init(&w[i].out, sizeof(struct hfinding), HOOK_FINDINGS_MAX);
		lg_vec_init(&w[i].fails, sizeof(struct wfail), WORKER_FAILURES_MAX);
		lg_vec_init(&w[i].paths, sizeof(const char *), PUSH_ITEMS_MAX);
		lg_vec_init(&w[i].strings, sizeof(char *), 2 * HOOK_FINDINGS_MAX);
		if (n == 1) {
			w[i].repo = h->repo;
		} else if (hook_open_repo(&w[i].repo, h->git_dir, h->quarantine) < 0) {
			hook_failed(h, LG_EIO, 0, "cannot open the repository: %s", hook_git_error());
			err = LG_EIO;
			goto out;
		}
		if (git_repository_odb(&w[i].odb, w[i].repo) < 0) {
			hook_failed(h, LG_EIO, 0, "cannot open the object database: %s", hook_git_error());
			err = LG_EIO;
			goto out;
		}
		if ((err = lg_scanner_new(&w[i].scanner, h->rs, &h->key))) {
			hook_failed(h, err, 1, "cannot start a scanner: %s", lg_strerror(err));
			goto out;
		}
		lg_scanner_set_cancel(w[i].scanner, &h->cancel);
	}
	if (n == 1) {
		worker_main(&w[0]);
	} else {
		for (; started < n; started++)
			if (pthread_create(&t[started], NULL, worker_main, &w[started]) != 0)
				break;
		/* Fewer threads than planned still scan every blob (they take runs until none is left). */
		if (started == 0)
			worker_main(&w[0]);
		for (int i = 0; i < started; i++)
			pthread_join(t[i], NULL);
	}
	for (int i = 0; i < n; i++) {
		size_t shown = 0;
		for (size_t k = 0; k < w[i].fails.n; k++) {
			const struct wfail *f = &LG_VEC_AT(&w[i].fails, struct wfail, k);
			hook_failed(h, f->code, f->code == LG_ENOMEM, "%s", f->message);
			shown++;
		}
		if (w[i].nfails > shown)
			hook_failed(h, LG_ERROR, 0, "%zu more files could not be scanned", w[i].nfails - shown);
		/* The findings' strings go with them: the hook frees them. */
		if (!err && (err = lg_vec_append(&h->strings, w[i].strings.v, w[i].strings.n)))
			hook_failed(h, err, 1, "out of memory");
		else if (!err)
			w[i].strings.n = 0;
		if (w[i].note[0] && !h->first_note[0])
			snprintf(h->first_note, sizeof(h->first_note), "%s", w[i].note);
		if (!err && (err = lg_vec_append(&h->blobfound, w[i].out.v, w[i].out.n)))
			hook_failed(h, err, 0, err == LG_ETOOLARGE
				    ? "the push has more than %d findings: too many to check them all"
				    : "out of memory while holding %d findings", HOOK_FINDINGS_MAX);
		h->bytes_scanned += w[i].bytes;
		h->objects_scanned += w[i].objects;
	}
	if (!err) {
		for (int i = 0; i < n; i++)
			if (w[i].out.n >= HOOK_FINDINGS_MAX) {
				hook_failed(h, LG_ETOOLARGE, 0, "the push has more than %d findings: too many to check them all",
					    HOOK_FINDINGS_MAX);
				err = LG_ETOOLARGE;
				break;
			}
	}
out:
	for (int i = 0; w && i < n; i++)
		worker_release(h, &w[i]);
	free(first);
	free(next);
	free(w);
	free(t);
	return err;
}

struct item_ctx {
	struct hook *h;
	size_t item;
	int err;
};

static int on_item_finding(const struct lg_finding *f, void *ctx)
{
	struct item_ctx *m = ctx;
	struct hfinding x;

	if (f->line == 0)
		return 0;
	finding_copy(&x, f);
	x.item = m->item;
	x.status = F_BLOCK;
	return lg_vec_push(&m->h->found, &x);
}

/* The commit and tag objects whole, and the ref names. */
static int scan_objects(struct hook *h)
{
	git_odb *odb = NULL;
	int err = LG_OK;

	if (git_repository_odb(&odb, h->repo) < 0) {
		hook_failed(h, LG_EIO, 0, "cannot open the object database: %s", hook_git_error());
		return LG_EIO;
	}
	for (size_t i = 0; i < h->push.items.n && !h->cancel; i++) {
		struct push_item *it = PUSH_ITEM(&h->push, i);
		struct item_ctx m = {h, i, 0};
		git_odb_object *obj = NULL;
		char hex[GIT_OID_HEXSZ + 1];
		int e;

		if (it->kind == ITEM_BLOB)
			continue;
		if (it->kind == ITEM_REF) {
			e = lg_scan_buffer(h->scanner, NULL, it->path, strlen(it->path), on_item_finding, &m);
		} else if (git_odb_read(&obj, odb, &it->id) < 0) {
			git_oid_tostr(hex, sizeof(hex), &it->id);
			hook_failed(h, LG_EIO, 0, "cannot read %s %s: %s", it->kind == ITEM_TAG ? "tag" : "commit",
				    hex, hook_git_error());
			continue;
		} else {
			const char *raw = git_odb_object_data(obj);
			size_t len = git_odb_object_size(obj), body, hl, before = h->found.n;
			/* Every byte: headers, message, and anything after a NUL in it. */
			e = lg_scan_buffer(h->scanner, NULL, raw, len, on_item_finding, &m);
			push_split_object(raw, len, &body, &hl);
			for (size_t k = before; k < h->found.n; k++) {
				struct hfinding *f = &LG_VEC_AT(&h->found, struct hfinding, k);
				if (f->line <= hl) {
					f->part = PART_HEADER;
				} else {
					f->part = PART_MESSAGE;
					f->line -= hl + 1;
				}
			}
			h->bytes_scanned += len;
			h->objects_scanned++;
			git_odb_object_free(obj);
		}
		if (e == LG_ETOOLARGE && h->found.n >= HOOK_FINDINGS_MAX) {
			hook_failed(h, e, 0, "the push has more than %d findings: too many to check them all",
				    HOOK_FINDINGS_MAX);
			err = e;
			break;
		}
		if (e && e != LG_ECANCELED) {
			git_oid_tostr(hex, sizeof(hex), &it->id);
			if (it->kind == ITEM_REF)
				hook_failed(h, e, e == LG_ENOMEM, "a ref name: %s", lg_scanner_error(h->scanner));
			else
				hook_failed(h, e, e == LG_ENOMEM, "%s %s: %s", it->kind == ITEM_TAG ? "tag" : "commit",
					    hex, lg_scanner_error(h->scanner));
		}
	}
	git_odb_free(odb);
	return err;
}

int hook_scan(struct hook *h)
{
	int err;

	if ((err = push_order_blobs(&h->push, h->quarantine))) {
		hook_failed(h, err, 1, "out of memory");
		return err;
	}
	err = scan_blobs(h);
	hook_trace(h, "scan blobs");
	if (!err)
		err = scan_objects(h);
	hook_trace(h, "scan objects");
	if (h->cancel) {
		hook_failed(h, LG_ECANCELED, 1, "the check did not finish within %d s (leakgate.timeout)",
			    h->cfg.timeout);
		return LG_ECANCELED;
	}
	return err;
}
