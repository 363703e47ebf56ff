/*
 * leakgate scan --git (history.h). Three phases:
 *
 * 1. The walk, on this thread: every ref (and a detached HEAD) is peeled;
 *    annotated tags are scanned whole as they are met. The commits they
 *    reach are walked oldest first (topological, reversed), each commit
 *    object is scanned whole (headers and message), and its tree is
 *    compared with its first parent's, skipping identical subtrees: a blob
 *    met for the first time is recorded with that commit (the one that
 *    introduced it) and that path; a blob met again under another path
 *    gets that name too. Only ids, indexes and interned paths are held,
 *    never contents.
 * 2. The blobs, read in pack order (packorder.h) by several threads, each
 *    with its own repository handle, object database and scanner, each blob
 *    once under all its names, so that a path-scoped rule sees them all.
 * 3. The refs that contain each commit with a finding: one pass over the
 *    commits in walk order propagates a 64-bit set of those commits from
 *    parents to children, 64 commits at a time; a ref contains the commits
 *    whose bits its tip has. Only commits with findings (few) cost this.
 *
 * Nothing is dropped: an object that cannot be read and a scan that does
 * not complete are each an error in the report (exit status 2).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <git2.h>
#include <zlib.h>

#include "history.h"
#include "packorder.h"
#include "scanner.h"
#include "utf16.h"
#include "vec.h"

/* Bounds far beyond real histories (the largest have a few million commits and blobs). */
#define HISTORY_COMMITS_MAX (64u << 20)
#define HISTORY_BLOBS_MAX (256u << 20)
#define HISTORY_NAMES_MAX (512u << 20)
#define HISTORY_PATHS_MAX (64u << 20)
#define HISTORY_REFS_MAX (16u << 20)
#define HISTORY_FINDINGS_MAX (16u << 20)
/* Tree nesting followed; deeper is an error (git itself refuses far less deep trees). */
#define HISTORY_TREE_DEPTH_MAX 512
/* Packs whose order is used; objects of any further pack are read after the others. */
#define HISTORY_PACKS_MAX 4096
/* Refs named with each finding; the rest are counted. */
#define HISTORY_REFS_SHOWN 5
/* Blobs a thread takes at a time: neighbours in a pack share delta bases. */
#define WORKER_BATCH 64
/* Failures a thread keeps in detail; the rest are counted, and said as a count. */
#define WORKER_FAILURES_MAX 64
#define NONE UINT32_MAX

struct hcommit {
	git_oid id;
	uint32_t parents; /* first index into h->parents */
	uint32_t nparents;
};

struct hblob {
	git_oid id;
	uint32_t commit; /* the commit that introduced it, or NONE */
	uint32_t name;   /* first of its names (h->names), or NONE */
	uint64_t key;    /* pack order */
	int unreachable;
};

struct hname {
	uint32_t path; /* index into h->paths */
	uint32_t next; /* the blob's next name, or NONE */
};

struct href {
	char *name;      /* short name, as git prints it */
	git_oid target;  /* the commit it reaches */
	uint32_t commit; /* its index, once walked */
	int prio;        /* branches, tags, the rest */
};

/* A finding held until the end, with what is needed to say where it is. */
struct hfind {
	struct lg_finding f;
	char *path;
	const char *kind;
	git_oid object;
	uint32_t commit; /* NONE: none (a tag, an unreachable object) */
	uint32_t blob;   /* NONE: not a blob */
	char *refname;   /* a tag's ref, or NULL */
	int unreachable;
	size_t seq;
};

/* Open-addressing set of indexes (stored + 1) into an array whose elements start with a key. */
struct idxset {
	uint32_t *slot;
	size_t cap, n;
};

struct history {
	const struct history_opts *o;
	struct report *r;
	const char *repo_path;
	git_repository *repo;
	git_odb *odb;
	struct lg_scanner *scanner;
	struct lg_vec commits; /* struct hcommit */
	struct lg_vec parents; /* uint32_t */
	struct lg_vec blobs;   /* struct hblob */
	struct lg_vec names;   /* struct hname */
	struct lg_vec paths;   /* char * */
	struct lg_vec refs;    /* struct href */
	struct lg_vec tags;    /* git_oid: annotated tags scanned */
	struct lg_vec found;   /* struct hfind */
	struct idxset commitset, blobset, pathset, tagset;
	uint64_t *pairs;       /* (blob + 1) << 32 | path: names already given */
	size_t pairs_cap, pairs_n;
	struct lg_vec pathbuf; /* the walk's current path */
	char where[128];       /* what the walk is in, for errors: "commit <id>" or a ref */
	size_t seq;
	int failed;            /* an error that stops the scan was reported */
	/* Progress of the blob phase (threads add with atomics). */
	size_t done_objects, done_threads;
	uint64_t done_bytes;
	size_t next_blob;
	uint32_t *order;       /* blob indexes in pack order */
	pthread_mutex_t lock;
	struct timespec t0;
	double t_phase;          /* when the last phase ended (trace) */
	struct lg_packorder *po; /* the repository's packs */
	int partial;             /* a partial clone: objects may be missing on purpose */
	char *objdir;            /* its objects folder */
};

#define HC(h, i) (&LG_VEC_AT(&(h)->commits, struct hcommit, i))
#define HB(h, i) (&LG_VEC_AT(&(h)->blobs, struct hblob, i))
#define HN(h, i) (&LG_VEC_AT(&(h)->names, struct hname, i))
#define HP(h, i) (LG_VEC_AT(&(h)->paths, char *, i))
#define HR(h, i) (&LG_VEC_AT(&(h)->refs, struct href, i))
#define HF(h, i) (&LG_VEC_AT(&(h)->found, struct hfind, i))

static const char *git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

static void herror(struct history *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void herror(struct history *h, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report_error(h->r, h->repo_path, msg);
}

static double elapsed(const struct history *h)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - h->t0.tv_sec) + (double)(t.tv_nsec - h->t0.tv_nsec) / 1e9;
}

/* LEAKGATE_TRACE=1: the time of each phase on stderr (bench/history-bench.sh shows them). */
static void trace(struct history *h, const char *phase)
{
	const char *t = getenv("LEAKGATE_TRACE");
	double now = elapsed(h);

	if (t && *t == '1')
		fprintf(stderr, "leakgate: trace: %s %.3f s (%zu commits, %zu blobs)\n", phase, now - h->t_phase,
			h->commits.n, h->blobs.n);
	h->t_phase = now;
}

/* ---- sets ---- */

static uint64_t oid_hash(const git_oid *id)
{
	uint64_t x;
	memcpy(&x, id->id, sizeof(x)); /* object ids are uniformly distributed */
	return x;
}

static uint64_t str_hash(const char *s)
{
	uint64_t x = 1469598103934665603ull;
	for (; *s; s++)
		x = (x ^ (unsigned char)*s) * 1099511628211ull;
	return x;
}

/* Double the set; the elements are rehashed with hash(i). */
static int idxset_grow(struct idxset *s, uint64_t (*hash)(const void *base, uint32_t i), const void *base)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	uint32_t *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return LG_ENOMEM;
	for (size_t k = 0; k < s->cap; k++) {
		if (!s->slot[k])
			continue;
		size_t j = hash(base, s->slot[k] - 1) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = s->slot[k];
	}
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return LG_OK;
}

static uint64_t commit_hash(const void *base, uint32_t i)
{
	return oid_hash(&((const struct hcommit *)base)[i].id);
}

static uint64_t blob_hash(const void *base, uint32_t i)
{
	return oid_hash(&((const struct hblob *)base)[i].id);
}

static uint64_t tag_hash(const void *base, uint32_t i)
{
	return oid_hash(&((const git_oid *)base)[i]);
}

static uint64_t path_hash(const void *base, uint32_t i)
{
	return str_hash(((char *const *)base)[i]);
}

/* The slot for id in s (its element or the empty slot where it would go). */
#define FIND_SLOT(s, hv, match)                                   \
	({                                                        \
		size_t _j = (hv) & ((s)->cap - 1);                \
		while ((s)->slot[_j] && !(match((s)->slot[_j] - 1))) \
			_j = (_j + 1) & ((s)->cap - 1);           \
		_j;                                               \
	})

static uint32_t commit_find(struct history *h, const git_oid *id)
{
	struct hcommit *c = h->commits.v;
	size_t j;

	if (!h->commitset.cap)
		return NONE;
#define M(i) git_oid_equal(&c[i].id, id)
	j = FIND_SLOT(&h->commitset, oid_hash(id), M);
#undef M
	return h->commitset.slot[j] ? h->commitset.slot[j] - 1 : NONE;
}

static uint32_t blob_find(struct history *h, const git_oid *id)
{
	struct hblob *b = h->blobs.v;
	size_t j;

	if (!h->blobset.cap)
		return NONE;
#define M(i) git_oid_equal(&b[i].id, id)
	j = FIND_SLOT(&h->blobset, oid_hash(id), M);
#undef M
	return h->blobset.slot[j] ? h->blobset.slot[j] - 1 : NONE;
}

static uint32_t tag_find(struct history *h, const git_oid *id)
{
	git_oid *t = h->tags.v;
	size_t j;

	if (!h->tagset.cap)
		return NONE;
#define M(i) git_oid_equal(&t[i], id)
	j = FIND_SLOT(&h->tagset, oid_hash(id), M);
#undef M
	return h->tagset.slot[j] ? h->tagset.slot[j] - 1 : NONE;
}

/* Insert element i (just appended) of an array into s. */
static int idxset_add(struct idxset *s, uint64_t (*hash)(const void *, uint32_t), const void *base, uint32_t i)
{
	int err;
	size_t j;

	if ((s->n + 1) * 2 > s->cap && (err = idxset_grow(s, hash, base)))
		return err;
	j = hash(base, i) & (s->cap - 1);
	while (s->slot[j])
		j = (j + 1) & (s->cap - 1);
	s->slot[j] = i + 1;
	s->n++;
	return LG_OK;
}

/* The index of path in the table, added if new; NONE when out of memory or room. */
static uint32_t path_intern(struct history *h, const char *path)
{
	char *const *p = h->paths.v;
	char *copy;
	size_t j;

	if (h->pathset.cap) {
#define M(i) !strcmp(p[i], path)
		j = FIND_SLOT(&h->pathset, str_hash(path), M);
#undef M
		if (h->pathset.slot[j])
			return h->pathset.slot[j] - 1;
	}
	if (!(copy = strdup(path)))
		return NONE;
	if (lg_vec_push(&h->paths, &copy)) {
		free(copy);
		return NONE;
	}
	if (idxset_add(&h->pathset, path_hash, h->paths.v, (uint32_t)(h->paths.n - 1))) {
		free(copy);
		h->paths.n--;
		return NONE;
	}
	return (uint32_t)(h->paths.n - 1);
}

/* 1 if (blob, path) was new and is now recorded, 0 if known, negative on failure. */
static int pair_add(struct history *h, uint32_t blob, uint32_t path)
{
	uint64_t key = ((uint64_t)blob + 1) << 32 | path;
	size_t j;

	if ((h->pairs_n + 1) * 2 > h->pairs_cap) {
		size_t cap = h->pairs_cap ? h->pairs_cap * 2 : 4096;
		uint64_t *np = calloc(cap, sizeof(*np));
		if (!np)
			return LG_ENOMEM;
		for (size_t k = 0; k < h->pairs_cap; k++) {
			if (!h->pairs[k])
				continue;
			j = (h->pairs[k] * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
			while (np[j])
				j = (j + 1) & (cap - 1);
			np[j] = h->pairs[k];
		}
		free(h->pairs);
		h->pairs = np;
		h->pairs_cap = cap;
	}
	j = (key * 0x9e3779b97f4a7c15ull >> 20) & (h->pairs_cap - 1);
	while (h->pairs[j]) {
		if (h->pairs[j] == key)
			return 0;
		j = (j + 1) & (h->pairs_cap - 1);
	}
	h->pairs[j] = key;
	h->pairs_n++;
	return 1;
}

/* ---- loose objects ---- */

/*
 * libgit2 1.5 never returns from git_odb_read of a truncated loose object
 * (measured: inflate is called again and again on the exhausted input),
 * and a scan must end in an error there, not hang. So loose objects are
 * read here, with zlib, and a short or damaged one is an error. Packed
 * objects are read by libgit2 (a pack's objects were checked by git's
 * index-pack when it was written).
 */
enum { LOOSE_NONE = 0, LOOSE_READ = 1, LOOSE_LARGE = 2, LOOSE_BAD = -1 };

/*
 * The loose object id in objdir: LOOSE_NONE (no such file), LOOSE_READ
 * (*data, caller frees, *size bytes of content, *type), LOOSE_LARGE (more
 * than max bytes; *size says how many; nothing read), LOOSE_BAD (why in
 * msg).
 */
static int loose_read(const char *objdir, const git_oid *id, uint64_t max, git_object_t *type, char **data,
		      size_t *size, char *msg, size_t msglen)
{
	char hex[GIT_OID_HEXSZ + 1], *path = NULL, hdr[64], *out = NULL;
	unsigned char *in = NULL;
	struct stat st;
	z_stream z;
	int fd = -1, ret = LOOSE_BAD, zr, zinit = 0;
	size_t n = 0, hl, body;
	uInt room;
	unsigned long long declared;
	char kind[16];

	*data = NULL;
	*size = 0;
	git_oid_tostr(hex, sizeof(hex), id);
	if (asprintf(&path, "%s/%.2s/%s", objdir, hex, hex + 2) < 0) {
		snprintf(msg, msglen, "out of memory");
		return LOOSE_BAD;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		ret = errno == ENOENT ? LOOSE_NONE : LOOSE_BAD;
		snprintf(msg, msglen, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	/* zlib counts in 32 bits: a loose object of 4 GiB is past any --max-size that makes sense here. */
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= UINT32_MAX) {
		snprintf(msg, msglen, "loose object %s is %llu bytes compressed: too large to read", path,
			 (unsigned long long)st.st_size);
		goto out;
	}
	if (fstat(fd, &st) < 0 || !(in = malloc(st.st_size ? (size_t)st.st_size : 1))) {
		snprintf(msg, msglen, "cannot read %s", path);
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, in + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(msg, msglen, "cannot read %s: %s", path, r < 0 ? strerror(errno) : "short read");
			goto out;
		}
		n += (size_t)r;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	zinit = 1;
	/* The header, "<type> <size>\0", is in the first bytes inflated. */
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = (unsigned char *)hdr;
	z.avail_out = sizeof(hdr) - 1;
	zr = inflate(&z, Z_SYNC_FLUSH);
	hl = sizeof(hdr) - 1 - z.avail_out;
	hdr[hl] = '\0';
	if ((zr != Z_OK && zr != Z_STREAM_END) || strlen(hdr) == hl ||
	    sscanf(hdr, "%15s %llu", kind, &declared) != 2) {
		snprintf(msg, msglen, "damaged loose object %s (its header does not inflate)", path);
		goto out;
	}
	*type = git_object_string2type(kind);
	if (declared > max || declared >= UINT32_MAX) {
		*size = declared > SIZE_MAX ? SIZE_MAX : (size_t)declared;
		ret = LOOSE_LARGE;
		goto out;
	}
	if (!(out = malloc((size_t)declared + 1))) {
		snprintf(msg, msglen, "out of memory (%llu bytes)", declared);
		goto out;
	}
	/* What the first call inflated past the header's NUL. */
	body = hl - strlen(hdr) - 1;
	if (body > declared) {
		snprintf(msg, msglen, "damaged loose object %s (longer than its header says)", path);
		goto out;
	}
	memcpy(out, hdr + strlen(hdr) + 1, body);
	z.next_out = (unsigned char *)out + body;
	room = (uInt)((size_t)declared - body + 1); /* one byte more: data past the size is damage */
	z.avail_out = room;
	while (zr == Z_OK) {
		uInt before_in = z.avail_in, before_out = z.avail_out;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_BUF_ERROR || (zr == Z_OK && z.avail_in == before_in && z.avail_out == before_out))
			break; /* no progress: the input ended early */
	}
	if (zr != Z_STREAM_END || body + (room - z.avail_out) != (size_t)declared) {
		snprintf(msg, msglen, "damaged loose object %s (%s)", path,
			 zr == Z_STREAM_END ? "its size differs from its header" : "it ends early or does not inflate");
		goto out;
	}
	*data = out;
	*size = (size_t)declared;
	out = NULL;
	ret = LOOSE_READ;
out:
	if (zinit)
		inflateEnd(&z);
	if (fd >= 0)
		close(fd);
	free(out);
	free(in);
	free(path);
	return ret;
}

/*
 * Every loose object that is not a blob, inflated whole before libgit2
 * reads any (the walk reads commits and trees, and would hang on a short
 * one); blobs are read with loose_read when they are scanned. A damaged
 * one is an error and the history is not walked: LG_EIO after reporting
 * each, or LG_ENOMEM.
 */
static int check_loose(struct history *h)
{
	size_t bad = 0;

	for (int d = 0; d < 256; d++) {
		char dir[4096], msg[600];
		struct dirent *de;
		DIR *dh;

		snprintf(dir, sizeof(dir), "%s/%02x", h->objdir, d);
		if (!(dh = opendir(dir)))
			continue; /* no loose object starts with these two digits */
		while ((de = readdir(dh))) {
			char hex[GIT_OID_HEXSZ + 1], *data = NULL;
			git_object_t type = GIT_OBJECT_INVALID;
			git_oid id;
			size_t size;
			int r;

			if (strlen(de->d_name) != GIT_OID_HEXSZ - 2)
				continue;
			snprintf(hex, sizeof(hex), "%02x%s", d, de->d_name);
			if (git_oid_fromstr(&id, hex) < 0)
				continue; /* not an object's name (git leaves tmp_obj_* files after a crash) */
			r = loose_read(h->objdir, &id, 0, &type, &data, &size, msg, sizeof(msg));
			if (r != LOOSE_BAD && type != GIT_OBJECT_BLOB) {
				free(data);
				data = NULL;
				r = loose_read(h->objdir, &id, UINT64_MAX, &type, &data, &size, msg, sizeof(msg));
			}
			free(data);
			if (r == LOOSE_BAD) {
				herror(h, "cannot read object %s: %s", hex, msg);
				bad++;
			}
		}
		closedir(dh);
	}
	if (bad) {
		herror(h, "%zu damaged objects: the history was not scanned (`git fsck` tells more)", bad);
		return LG_EIO;
	}
	return LG_OK;
}

/* ---- findings ---- */

struct found_ctx {
	struct history *h;
	const char *kind;
	const git_oid *object;
	uint32_t commit, blob;
	const char *refname; /* a tag's ref */
	int unreachable;
	const char *path; /* the name shown for a commit or tag object */
};

static int hold_finding(struct history *h, const struct lg_finding *f, const struct found_ctx *m, const char *path,
			size_t seq)
{
	struct hfind *x;
	int err;

	if ((err = lg_vec_grow(&h->found, 1, (void **)&x)))
		return err;
	x->f = *f;
	x->f.path = NULL;
	x->f.member = x->f.layer = NULL;
	x->path = strdup(path);
	x->refname = m->refname ? strdup(m->refname) : NULL;
	if (!x->path || (m->refname && !x->refname)) {
		free(x->path);
		free(x->refname);
		h->found.n--;
		return LG_ENOMEM;
	}
	x->kind = m->kind;
	x->object = *m->object;
	x->commit = m->commit;
	x->blob = m->blob;
	x->unreachable = m->unreachable;
	x->seq = seq;
	return LG_OK;
}

static int on_object_finding(const struct lg_finding *f, void *ctx)
{
	struct found_ctx *m = ctx;
	return hold_finding(m->h, f, m, m->path, m->h->seq++);
}

/* A commit or tag object, whole: headers, message, any bytes after a NUL. */
static void scan_object(struct history *h, const git_oid *id, const char *kind, uint32_t commit, const char *refname,
			int unreachable)
{
	git_odb_object *obj = NULL;
	char hex[GIT_OID_HEXSZ + 1], path[512];
	struct found_ctx m = {h, kind, id, commit, NONE, refname, unreachable, path};
	int err;

	git_oid_tostr(hex, sizeof(hex), id);
	if (git_odb_read(&obj, h->odb, id) < 0) {
		herror(h, "cannot read %s %s: %s", kind, hex, git_msg());
		return;
	}
	snprintf(path, sizeof(path), "(%s%s %s)", unreachable ? "unreachable " : "", kind, refname ? refname : hex);
	lg_scanner_set_min_confidence(h->scanner, LG_CONF_LOW);
	err = lg_scan_buffer(h->scanner, NULL, git_odb_object_data(obj), git_odb_object_size(obj),
			     on_object_finding, &m);
	if (err)
		herror(h, "%s %s: the scan did not complete (%s)", kind, hex,
		       *lg_scanner_error(h->scanner) ? lg_scanner_error(h->scanner) : lg_strerror(err));
	report_scanned(h->r, git_odb_object_size(obj));
	git_odb_object_free(obj);
}

/* ---- phase 1: refs and the walk ---- */

/* A blob met at path in commit (NONE: none). */
static int add_blob(struct history *h, const git_oid *id, const char *path, uint32_t commit, int unreachable)
{
	uint32_t b = blob_find(h, id), p = NONE;
	struct hblob *x;
	struct hname *n;
	int err;

	if (path && (p = path_intern(h, path)) == NONE)
		return LG_ENOMEM;
	if (b == NONE) {
		if ((err = lg_vec_grow(&h->blobs, 1, (void **)&x)))
			return err;
		x->id = *id;
		x->commit = commit;
		x->name = NONE;
		x->unreachable = unreachable;
		b = (uint32_t)(h->blobs.n - 1);
		if ((err = idxset_add(&h->blobset, blob_hash, h->blobs.v, b))) {
			h->blobs.n--;
			return err;
		}
	}
	if (p == NONE)
		return LG_OK;
	if ((err = pair_add(h, b, p)) <= 0)
		return err;
	if ((err = lg_vec_grow(&h->names, 1, (void **)&n)))
		return err;
	n->path = p;
	n->next = NONE;
	/* Appended at the end of the blob's list: its first name stays the first path it was met at. */
	if (HB(h, b)->name == NONE) {
		HB(h, b)->name = (uint32_t)(h->names.n - 1);
	} else {
		uint32_t k = HB(h, b)->name;
		while (HN(h, k)->next != NONE)
			k = HN(h, k)->next;
		HN(h, k)->next = (uint32_t)(h->names.n - 1);
	}
	return LG_OK;
}

/*
 * What tree t adds to old (NULL: everything), under the path in
 * h->pathbuf. Subtrees with the same id as in old are skipped whole: they
 * hold nothing new.
 */
static int walk_tree(struct history *h, const git_tree *t, const git_tree *old, uint32_t commit, int depth)
{
	size_t n = git_tree_entrycount(t), base = h->pathbuf.n;
	char hex[GIT_OID_HEXSZ + 1];
	int err = LG_OK;

	if (depth > HISTORY_TREE_DEPTH_MAX) {
		herror(h, "%s: trees nested more than %d deep at %s; not followed", h->where, HISTORY_TREE_DEPTH_MAX,
		       lg_vec_str(&h->pathbuf));
		return LG_OK;
	}
	for (size_t i = 0; i < n && !err; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(e);
		const git_tree_entry *oe = old ? git_tree_entry_byname(old, name) : NULL;
		git_object_t type = git_tree_entry_type(e);
		git_tree *sub = NULL, *osub = NULL;

		if (oe && git_oid_equal(git_tree_entry_id(oe), git_tree_entry_id(e)) && git_tree_entry_type(oe) == type)
			continue;
		if (type != GIT_OBJECT_BLOB && type != GIT_OBJECT_TREE)
			continue; /* a submodule's commit: its contents live in another repository */
		h->pathbuf.n = base;
		if ((err = lg_vec_printf(&h->pathbuf, "%s%s", base ? "/" : "", name)))
			break;
		if (type == GIT_OBJECT_BLOB) {
			err = add_blob(h, git_tree_entry_id(e), lg_vec_str(&h->pathbuf), commit, 0);
			continue;
		}
		if (git_tree_lookup(&sub, h->repo, git_tree_entry_id(e)) < 0) {
			git_oid_tostr(hex, sizeof(hex), git_tree_entry_id(e));
			herror(h, "%s: cannot read the tree %s at %s: %s; what it holds was not scanned", h->where, hex,
			       lg_vec_str(&h->pathbuf), git_msg());
			continue;
		}
		/* An old tree that cannot be read is no reason to skip anything: compare with nothing. */
		if (oe && git_tree_entry_type(oe) == GIT_OBJECT_TREE && git_tree_lookup(&osub, h->repo, git_tree_entry_id(oe)) < 0)
			osub = NULL;
		err = walk_tree(h, sub, osub, commit, depth + 1);
		git_tree_free(sub);
		git_tree_free(osub);
	}
	h->pathbuf.n = base;
	if (h->pathbuf.v)
		((char *)h->pathbuf.v)[base] = '\0';
	return err;
}

static int ref_prio(const char *full)
{
	return !strncmp(full, "refs/heads/", 11) ? 0 : !strncmp(full, "refs/tags/", 10) ? 1 : 2;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct href *x = a, *y = b;
	if (x->prio != y->prio)
		return x->prio - y->prio;
	return strcmp(x->name, y->name);
}

/* Peel one ref (or HEAD): scan its tags, push the commit it reaches; blobs and trees are walked too. */
static int add_ref(struct history *h, git_revwalk *walk, const char *full, const char *shown, const git_oid *target)
{
	git_oid id = *target;
	git_object *obj = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int err = LG_OK;

	for (int hops = 0;; hops++) {
		git_oid_tostr(hex, sizeof(hex), &id);
		if (hops > 64) {
			herror(h, "%s: tags pointing at tags more than 64 deep (%s); not followed", full, hex);
			return LG_OK;
		}
		if (git_object_lookup(&obj, h->repo, &id, GIT_OBJECT_ANY) < 0) {
			herror(h, "%s: cannot read object %s: %s", full, hex, git_msg());
			return LG_OK;
		}
		if (git_object_type(obj) != GIT_OBJECT_TAG)
			break;
		if (tag_find(h, &id) == NONE) {
			if ((err = lg_vec_push(&h->tags, &id)) ||
			    (err = idxset_add(&h->tagset, tag_hash, h->tags.v, (uint32_t)(h->tags.n - 1))))
				goto out;
			scan_object(h, &id, "tag", NONE, shown, 0);
		}
		id = *git_tag_target_id((git_tag *)obj);
		git_object_free(obj);
		obj = NULL;
	}
	switch (git_object_type(obj)) {
	case GIT_OBJECT_COMMIT: {
		struct href *r;
		if (git_revwalk_push(walk, &id) < 0) {
			herror(h, "%s: cannot walk from commit %s: %s", full, hex, git_msg());
			break;
		}
		if ((err = lg_vec_grow(&h->refs, 1, (void **)&r)))
			break;
		r->target = id;
		r->commit = NONE;
		r->prio = ref_prio(full);
		if (!(r->name = strdup(shown))) {
			h->refs.n--;
			err = LG_ENOMEM;
		}
		break;
	}
	case GIT_OBJECT_TREE:
		/* A ref to a tree (rare, but published): its files, with no commit. */
		h->pathbuf.n = 0;
		snprintf(h->where, sizeof(h->where), "%s", full);
		if (!(err = lg_vec_puts(&h->pathbuf, "")))
			err = walk_tree(h, (git_tree *)obj, NULL, NONE, 0);
		break;
	case GIT_OBJECT_BLOB:
		err = add_blob(h, &id, full, NONE, 0);
		break;
	default:
		break;
	}
out:
	git_object_free(obj);
	return err;
}

/* Every ref, then HEAD when it is detached (otherwise its branch is among the refs). */
static int collect_refs(struct history *h, git_revwalk *walk)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL, *res = NULL;
	int err = LG_OK, e;

	if (git_reference_iterator_new(&it, h->repo) < 0) {
		herror(h, "cannot list the refs: %s", git_msg());
		return LG_EIO;
	}
	while (!err && (e = git_reference_next(&ref, it)) == 0) {
		const char *full = git_reference_name(ref);
		if (git_reference_resolve(&res, ref) < 0) {
			/* A symbolic ref to nothing (refs/remotes/origin/HEAD after a rename) holds nothing. */
			if (git_reference_type(ref) != GIT_REFERENCE_SYMBOLIC)
				herror(h, "%s: cannot resolve: %s", full, git_msg());
		} else {
			err = add_ref(h, walk, full, git_reference_shorthand(ref), git_reference_target(res));
		}
		git_reference_free(res);
		git_reference_free(ref);
		res = ref = NULL;
	}
	git_reference_iterator_free(it);
	if (!err && e != GIT_ITEROVER) {
		herror(h, "cannot list the refs: %s", git_msg());
		err = LG_EIO;
	}
	if (!err && git_repository_head_detached(h->repo) == 1 && git_repository_head(&ref, h->repo) == 0) {
		err = add_ref(h, walk, "HEAD", "HEAD", git_reference_target(ref));
		git_reference_free(ref);
	}
	/* Branches first, then tags, then the rest, each by name: what people look for first. */
	if (h->refs.n > 1)
		qsort(h->refs.v, h->refs.n, sizeof(struct href), cmp_ref);
	return err;
}

static void progress_walk(struct history *h, size_t commits, int final)
{
	if (!h->o->progress)
		return;
	if (final)
		fprintf(stderr, "\r\033[K");
	else
		fprintf(stderr, "\r\033[Kwalking the history: %zu commits, %zu blobs (%.0f s)", commits, h->blobs.n,
			elapsed(h));
}

/* Every commit the refs reach, oldest first: its object, and the blobs it introduces. */
static int walk_commits(struct history *h, git_revwalk *walk)
{
	git_oid id;
	int err = LG_OK, e;
	double last = 0;

	while (!err && (e = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL, *parent = NULL;
		git_tree *tree = NULL, *ptree = NULL;
		struct hcommit *x;
		uint32_t ci;
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &id);
		if ((err = lg_vec_grow(&h->commits, 1, (void **)&x)))
			break;
		x->id = id;
		x->parents = (uint32_t)h->parents.n;
		ci = (uint32_t)(h->commits.n - 1);
		if ((err = idxset_add(&h->commitset, commit_hash, h->commits.v, ci)))
			break;
		if (git_commit_lookup(&c, h->repo, &id) < 0) {
			herror(h, "cannot read commit %s: %s; what it adds was not scanned", hex, git_msg());
			continue;
		}
		for (unsigned k = 0; k < git_commit_parentcount(c); k++) {
			/* Walked before it (topological order); a missing one (a shallow clone) is no parent here. */
			uint32_t p = commit_find(h, git_commit_parent_id(c, k));
			if (p != NONE && (err = lg_vec_push(&h->parents, &p)))
				break;
			if (p != NONE)
				HC(h, ci)->nparents++;
		}
		scan_object(h, &id, "commit", ci, NULL, 0);
		snprintf(h->where, sizeof(h->where), "commit %s", hex);
		if (git_commit_tree(&tree, c) < 0) {
			herror(h, "commit %s: cannot read its tree: %s; what it adds was not scanned", hex, git_msg());
		} else {
			/*
			 * Compared with the first parent only: what a merge brings from
			 * another parent was walked (and recorded) with that parent.
			 */
			if (git_commit_parentcount(c) && git_commit_parent(&parent, c, 0) == 0 &&
			    git_commit_tree(&ptree, parent) < 0)
				ptree = NULL;
			h->pathbuf.n = 0;
			if (!err && !(err = lg_vec_puts(&h->pathbuf, "")))
				err = walk_tree(h, tree, ptree, ci, 0);
		}
		git_tree_free(tree);
		git_tree_free(ptree);
		git_commit_free(parent);
		git_commit_free(c);
		if (h->o->progress && (h->commits.n & 255) == 0 && elapsed(h) - last > 0.25) {
			last = elapsed(h);
			progress_walk(h, h->commits.n, 0);
		}
	}
	if (!err && e != GIT_ITEROVER) {
		herror(h, "the walk of the history stopped: %s", git_msg());
		err = LG_EIO;
	}
	progress_walk(h, h->commits.n, 1);
	return err;
}

/* ---- --all-objects ---- */

struct odb_ctx {
	struct history *h;
	struct lg_vec ids; /* git_oid: objects the walk did not reach */
	int err;
};

static int on_odb_object(const git_oid *id, void *ctx)
{
	struct odb_ctx *m = ctx;

	if (blob_find(m->h, id) != NONE || commit_find(m->h, id) != NONE || tag_find(m->h, id) != NONE)
		return 0;
	if ((m->err = lg_vec_push(&m->ids, id)))
		return -1;
	return 0;
}

static int cmp_oid(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/* Unreachable blobs join the blob list (no path, no commit); commits and tags are scanned here. */
static int add_unreachable(struct history *h)
{
	struct odb_ctx m = {h, LG_VEC_INIT(sizeof(git_oid), HISTORY_BLOBS_MAX), 0};
	int err = LG_OK;

	if (git_odb_foreach(h->odb, on_odb_object, &m) < 0) {
		if (m.err)
			err = m.err;
		else
			err = LG_EIO;
		herror(h, "cannot list the object database: %s",
		       err == LG_EIO ? git_msg() : lg_strerror(err));
		goto out;
	}
	/* A pack and a loose copy of one object are one object. */
	qsort(m.ids.v, m.ids.n, sizeof(git_oid), cmp_oid);
	for (size_t i = 0; i < m.ids.n && !err; i++) {
		const git_oid *id = &LG_VEC_AT(&m.ids, git_oid, i);
		char hex[GIT_OID_HEXSZ + 1];
		git_object_t type;
		size_t size;

		if (i && git_oid_equal(id, id - 1))
			continue;
		if (git_odb_read_header(&size, &type, h->odb, id) < 0) {
			git_oid_tostr(hex, sizeof(hex), id);
			herror(h, "cannot read object %s: %s", hex, git_msg());
			continue;
		}
		if (type == GIT_OBJECT_BLOB)
			err = add_blob(h, id, NULL, NONE, 1);
		else if (type == GIT_OBJECT_COMMIT)
			scan_object(h, id, "commit", NONE, NULL, 1);
		else if (type == GIT_OBJECT_TAG)
			scan_object(h, id, "tag", NONE, NULL, 1);
		/* Trees hold names and ids only; the blobs they name are objects of their own. */
	}
out:
	lg_vec_release(&m.ids);
	return err;
}

/* ---- phase 2: the blobs, in pack order, on every core ---- */

struct wnote {
	uint32_t blob;
	int error; /* 1: an error, 0: skipped */
	char msg[400];
};

struct worker {
	struct history *h;
	git_repository *repo;
	git_odb *odb;
	struct lg_scanner *scanner;
	struct lg_vec found; /* struct hfind */
	struct lg_vec notes; /* struct wnote */
	struct lg_vec names; /* const char *: the current blob's names */
	size_t nerrors, more_errors; /* errors held, and past WORKER_FAILURES_MAX */
	size_t objects;
	uint64_t bytes;
	size_t next, end;
	uint32_t cur;
	int full; /* no room for more findings */
};

static const char *blob_shown(struct history *h, uint32_t b, char *buf, size_t len)
{
	char hex[GIT_OID_HEXSZ + 1];

	if (HB(h, b)->name != NONE)
		return HP(h, HN(h, HB(h, b)->name)->path);
	git_oid_tostr(hex, sizeof(hex), &HB(h, b)->id);
	snprintf(buf, len, "(%sblob %.12s)", HB(h, b)->unreachable ? "unreachable " : "", hex);
	return buf;
}

static void worker_note(struct worker *w, uint32_t b, int error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void worker_note(struct worker *w, uint32_t b, int error, const char *fmt, ...)
{
	struct wnote *n;
	va_list ap;

	/* Skipped blobs are all listed (as scan lists every skipped file); errors past a bound are counted. */
	if ((error && w->nerrors >= WORKER_FAILURES_MAX) || lg_vec_grow(&w->notes, 1, (void **)&n)) {
		w->more_errors++; /* a skip that cannot be held is counted as an error: nothing is silent */
		return;
	}
	w->nerrors += error;
	n->blob = b;
	n->error = error;
	va_start(ap, fmt);
	vsnprintf(n->msg, sizeof(n->msg), fmt, ap);
	va_end(ap);
}

static int on_blob_finding(const struct lg_finding *f, void *ctx)
{
	struct worker *w = ctx;
	struct hblob *b = HB(w->h, w->cur);
	struct hfind *x;
	char shown[64];
	int err;

	if ((err = lg_vec_grow(&w->found, 1, (void **)&x)))
		return err;
	x->f = *f;
	x->f.path = NULL;
	/* The member and the encodings live only during the callback: kept as copies. */
	x->f.member = f->member ? strdup(f->member) : NULL;
	x->f.layer = f->layer ? strdup(f->layer) : NULL;
	/* A path rule reports the name it matched; content findings carry the first name. */
	if (!(x->path = strdup(f->path ? f->path : blob_shown(w->h, w->cur, shown, sizeof(shown)))) ||
	    (f->member && !x->f.member) || (f->layer && !x->f.layer)) {
		free(x->path);
		free((char *)x->f.member);
		free((char *)x->f.layer);
		w->found.n--;
		return LG_ENOMEM;
	}
	x->kind = "blob";
	x->object = b->id;
	x->commit = b->commit;
	x->blob = w->cur;
	x->refname = NULL;
	x->unreachable = b->unreachable;
	x->seq = w->cur;
	return LG_OK;
}

static void scan_blob(struct worker *w, uint32_t b)
{
	struct history *h = w->h;
	const git_oid *id = &HB(h, b)->id;
	uint64_t max = h->o->max_size ? h->o->max_size : HISTORY_MAX_BLOB_DEFAULT;
	char hex[GIT_OID_HEXSZ + 1], shown[64], msg[600], *own = NULL;
	git_odb_object *obj = NULL;
	git_object_t type = GIT_OBJECT_INVALID;
	struct lg_unpack_result res;
	const char *data;
	size_t size = 0;
	int err, lr;

	git_oid_tostr(hex, sizeof(hex), id);
	w->cur = b;
	w->names.n = 0;
	for (uint32_t k = HB(h, b)->name; k != NONE; k = HN(h, k)->next) {
		const char *p = HP(h, HN(h, k)->path);
		if ((err = lg_vec_push(&w->names, &p))) {
			worker_note(w, b, 1, "blob %s: out of memory", hex);
			return;
		}
	}
	/* Loose (not in a pack): read here, see loose_read. */
	lr = HB(h, b)->key == UINT64_MAX && h->objdir
		? loose_read(h->objdir, id, max, &type, &own, &size, msg, sizeof(msg)) : LOOSE_NONE;
	if (lr == LOOSE_BAD) {
		worker_note(w, b, 1, "cannot read blob %s: %s", hex, msg);
		return;
	}
	if (lr == LOOSE_NONE && (err = git_odb_read_header(&size, &type, w->odb, id)) < 0) {
		if (err == GIT_ENOTFOUND && h->partial)
			worker_note(w, b, 1, "blob %s is not in this partial clone (its filter left it out): "
				    "not scanned; scan a full clone", hex);
		else
			worker_note(w, b, 1, "cannot read blob %s: %s", hex, git_msg());
		return;
	}
	if (lr == LOOSE_LARGE && size <= max) {
		worker_note(w, b, 1, "blob %s: a loose object of %zu bytes, 4 GiB or more, cannot be read here; "
			    "not scanned (git gc packs it)", hex, size);
		return;
	}
	if (lr == LOOSE_LARGE || size > max) {
		worker_note(w, b, 0, "blob %s: %zu bytes, larger than %s (%llu bytes); not scanned", hex, size,
			    h->o->max_size ? "--max-size" : "the default limit for history scans",
			    (unsigned long long)max);
		return;
	}
	if (lr == LOOSE_READ) {
		data = own;
	} else if (git_odb_read(&obj, w->odb, id) < 0) {
		worker_note(w, b, 1, "cannot read blob %s: %s", hex, git_msg());
		return;
	} else {
		data = git_odb_object_data(obj);
		size = git_odb_object_size(obj);
	}
	if (type != GIT_OBJECT_BLOB) {
		worker_note(w, b, 1, "object %s: a tree names it as a file, but it is a %s; not scanned", hex,
			    git_object_type2string(type));
		free(own);
		git_odb_object_free(obj);
		return;
	}
	/*
	 * As `leakgate scan` and the hook do: with archive members and decoded
	 * views; a binary is scanned for structured tokens only, and listed.
	 */
	err = lg_scan_deep(w->scanner, h->o->unpack, (const char *const *)w->names.v, w->names.n, data, size,
			   on_blob_finding, w, &res);
	if (res.binary && !res.archive)
		worker_note(w, b, 0, "binary file (blob %.12s): scanned for provider tokens and keys only "
			    "(use --binary to scan it whole)", hex);
	if (res.notes)
		worker_note(w, b, 0, "%s (blob %.12s)", res.note, hex);
	if (err == LG_ETOOLARGE && w->found.n >= HISTORY_FINDINGS_MAX)
		w->full = 1;
	else if (err)
		worker_note(w, b, 1, "%s (blob %s): the scan did not complete (%s); the rest of it was not checked",
			    blob_shown(h, b, shown, sizeof(shown)), hex,
			    *lg_scanner_error(w->scanner) ? lg_scanner_error(w->scanner) : lg_strerror(err));
	w->objects++;
	w->bytes += size;
	__atomic_add_fetch(&h->done_objects, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&h->done_bytes, (uint64_t)size, __ATOMIC_RELAXED);
	free(own);
	git_odb_object_free(obj);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct history *h = w->h;

	while (!w->full) {
		if (w->next == w->end) {
			pthread_mutex_lock(&h->lock);
			w->next = h->next_blob;
			w->end = w->next + WORKER_BATCH < h->blobs.n ? w->next + WORKER_BATCH : h->blobs.n;
			h->next_blob = w->end;
			pthread_mutex_unlock(&h->lock);
			if (w->next == w->end)
				break;
		}
		scan_blob(w, h->order[w->next++]);
	}
	__atomic_add_fetch(&h->done_threads, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void worker_release(struct worker *w)
{
	for (size_t i = 0; i < w->found.n; i++)
		free(LG_VEC_AT(&w->found, struct hfind, i).path); /* blob findings have no refname */
	lg_vec_release(&w->found);
	lg_vec_release(&w->notes);
	lg_vec_release(&w->names);
	lg_scanner_free(w->scanner);
	git_odb_free(w->odb);
	git_repository_free(w->repo);
}

static void human(uint64_t b, char *buf, size_t len)
{
	if (b >= 10ull << 30)
		snprintf(buf, len, "%.1f GB", (double)b / 1e9);
	else if (b >= 10u << 20)
		snprintf(buf, len, "%.0f MB", (double)b / 1e6);
	else
		snprintf(buf, len, "%.0f kB", (double)b / 1e3);
}

static void progress_blobs(struct history *h, double t_start)
{
	size_t done = __atomic_load_n(&h->done_objects, __ATOMIC_RELAXED), total = h->blobs.n;
	uint64_t bytes = __atomic_load_n(&h->done_bytes, __ATOMIC_RELAXED);
	double t = elapsed(h) - t_start, rate = t > 0 ? (double)bytes / t : 0;
	char b[32], r[32], left[32] = "";

	human(bytes, b, sizeof(b));
	human((uint64_t)rate, r, sizeof(r));
	if (done && done < total && t > 1) {
		double rest = t * (double)(total - done) / (double)done;
		snprintf(left, sizeof(left), ", %d:%02d left", (int)(rest / 60), (int)rest % 60);
	}
	fprintf(stderr, "\r\033[Kscanning blobs: %zu/%zu, %s, %s/s%s", done, total, b, r, left);
}

static int cmp_note(const void *a, const void *b)
{
	const struct wnote *x = a, *y = b;
	return x->blob < y->blob ? -1 : x->blob > y->blob;
}

static int cmp_order(const void *a, const void *b, void *ctx)
{
	const struct history *h = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint64_t kx = HB(h, x)->key, ky = HB(h, y)->key;

	if (kx != ky)
		return kx < ky ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int scan_blobs(struct history *h)
{
	struct worker *w = NULL;
	pthread_t *t = NULL;
	int n = h->o->threads, started = 0, err = LG_OK, said = 0;
	double t_start = elapsed(h);

	if (h->blobs.n == 0)
		return LG_OK;
	if ((size_t)n > h->blobs.n)
		n = (int)h->blobs.n;
	h->order = malloc(h->blobs.n * sizeof(*h->order));
	w = calloc((size_t)n, sizeof(*w));
	t = calloc((size_t)n, sizeof(*t));
	if (!h->order || !w || !t) {
		err = LG_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < h->blobs.n; i++) {
		HB(h, i)->key = lg_packorder_key(h->po, &HB(h, i)->id);
		h->order[i] = (uint32_t)i;
	}
	qsort_r(h->order, h->blobs.n, sizeof(*h->order), cmp_order, h);
	for (int i = 0; i < n; i++) {
		w[i].h = h;
		lg_vec_init(&w[i].found, sizeof(struct hfind), HISTORY_FINDINGS_MAX);
		lg_vec_init(&w[i].notes, sizeof(struct wnote), HISTORY_BLOBS_MAX);
		lg_vec_init(&w[i].names, sizeof(const char *), HISTORY_NAMES_MAX);
		/* Its own handle: libgit2's pack windows and caches are then not shared between threads. */
		if (git_repository_open_ext(&w[i].repo, h->repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
		    git_repository_odb(&w[i].odb, w[i].repo) < 0) {
			herror(h, "cannot open the repository again for a scanning thread: %s", git_msg());
			err = LG_EIO;
			said = 1;
			goto out;
		}
		if ((err = lg_scanner_new(&w[i].scanner, h->o->rs, h->o->key)))
			goto out;
	}
	for (; started < n; started++)
		if (pthread_create(&t[started], NULL, worker_main, &w[started]) != 0)
			break;
	if (started == 0) {
		/* No thread at all: this one scans (fewer threads than asked still scan every blob). */
		worker_main(&w[0]);
	} else if (h->o->progress) {
		while (__atomic_load_n(&h->done_threads, __ATOMIC_ACQUIRE) < (size_t)started) {
			struct timespec ts = {0, 250 * 1000 * 1000};
			progress_blobs(h, t_start);
			nanosleep(&ts, NULL);
		}
		fprintf(stderr, "\r\033[K");
	}
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	/* The notes of all threads, in walk order: the same report from one run to the next. */
	for (int i = 1; i < n; i++)
		if (lg_vec_append(&w[0].notes, w[i].notes.v, w[i].notes.n))
			w[0].more_errors += w[i].notes.n;
	if (w[0].notes.n > 1)
		qsort(w[0].notes.v, w[0].notes.n, sizeof(struct wnote), cmp_note);
	for (size_t k = 0; k < w[0].notes.n; k++) {
		const struct wnote *x = &LG_VEC_AT(&w[0].notes, struct wnote, k);
		char shown[64];
		if (x->error)
			report_error(h->r, blob_shown(h, x->blob, shown, sizeof(shown)), x->msg);
		else
			report_skipped(h->r, blob_shown(h, x->blob, shown, sizeof(shown)), x->msg);
	}
	for (int i = 0; i < n && !err; i++) {
		if (w[i].more_errors) {
			herror(h, "%zu more blobs could not be read or scanned", w[i].more_errors);
			said = 1;
		}
		if (w[i].full) {
			herror(h, "more than %u findings: too many to hold; the scan is incomplete", HISTORY_FINDINGS_MAX);
			err = LG_ETOOLARGE;
			said = 1;
		}
		report_scanned_n(h->r, w[i].objects, w[i].bytes);
		if (!err && !(err = lg_vec_append(&h->found, w[i].found.v, w[i].found.n)))
			w[i].found.n = 0; /* their paths now belong to h->found */
	}
out:
	if (err && !said)
		herror(h, "the blobs could not be scanned: %s", lg_strerror(err));
	for (int i = 0; w && i < n; i++)
		worker_release(&w[i]);
	free(w);
	free(t);
	return err;
}

/* ---- phase 3: the refs that contain each finding's commit, and the report ---- */

/* A finding commit's refs, filled by refs_of_commits. */
struct crefs {
	uint32_t commit;
	const char *shown[HISTORY_REFS_SHOWN];
	size_t n, more;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int refs_of_commits(struct history *h, struct crefs *cr, size_t ncr)
{
	uint64_t *mask = malloc((h->commits.n ? h->commits.n : 1) * sizeof(*mask));

	if (!mask)
		return LG_ENOMEM;
	for (size_t i = 0; i < h->refs.n; i++)
		HR(h, i)->commit = commit_find(h, &HR(h, i)->target);
	for (size_t base = 0; base < ncr; base += 64) {
		size_t k = ncr - base < 64 ? ncr - base : 64;
		memset(mask, 0, h->commits.n * sizeof(*mask));
		for (size_t j = 0; j < k; j++)
			mask[cr[base + j].commit] |= 1ull << j;
		/* Parents come before their children in the walk: one pass carries each bit to every descendant. */
		for (size_t c = 0; c < h->commits.n; c++) {
			const struct hcommit *x = HC(h, c);
			for (uint32_t p = 0; p < x->nparents; p++)
				mask[c] |= mask[LG_VEC_AT(&h->parents, uint32_t, x->parents + p)];
		}
		for (size_t i = 0; i < h->refs.n; i++) {
			uint64_t m = HR(h, i)->commit == NONE ? 0 : mask[HR(h, i)->commit];
			for (size_t j = 0; m && j < k; j++) {
				struct crefs *c = &cr[base + j];
				if (!(m & (1ull << j)))
					continue;
				if (c->n < HISTORY_REFS_SHOWN)
					c->shown[c->n++] = HR(h, i)->name;
				else
					c->more++;
			}
		}
	}
	free(mask);
	return LG_OK;
}

static int cmp_found(const void *a, const void *b)
{
	const struct hfind *x = a, *y = b;

	/* Commit and tag objects (in walk order) first, then blobs in walk order. */
	if ((x->blob == NONE) != (y->blob == NONE))
		return x->blob == NONE ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->f.line != y->f.line)
		return x->f.line < y->f.line ? -1 : 1;
	if (x->f.column != y->f.column)
		return x->f.column < y->f.column ? -1 : 1;
	return strcmp(x->path, y->path);
}

static struct crefs *crefs_find(struct crefs *cr, size_t n, uint32_t commit)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cr[mid].commit == commit)
			return &cr[mid];
		if (cr[mid].commit < commit)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int report_found(struct history *h)
{
	uint32_t *cs = NULL;
	struct crefs *cr = NULL;
	size_t ncs = 0, ncr = 0;
	int err = LG_OK;

	if (!h->found.n)
		return LG_OK;
	qsort(h->found.v, h->found.n, sizeof(struct hfind), cmp_found);
	if (!(cs = malloc(h->found.n * sizeof(*cs))))
		return LG_ENOMEM;
	for (size_t i = 0; i < h->found.n; i++)
		if (HF(h, i)->commit != NONE)
			cs[ncs++] = HF(h, i)->commit;
	qsort(cs, ncs, sizeof(*cs), cmp_u32);
	if (!(cr = calloc(ncs ? ncs : 1, sizeof(*cr)))) {
		err = LG_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ncs; i++)
		if (!ncr || cr[ncr - 1].commit != cs[i])
			cr[ncr++].commit = cs[i];
	if ((err = refs_of_commits(h, cr, ncr)))
		goto out;
	for (size_t i = 0; i < h->found.n && !err; i++) {
		struct hfind *x = HF(h, i);
		char obj[GIT_OID_HEXSZ + 1], commit[GIT_OID_HEXSZ + 1];
		struct report_origin o = {.repository = h->repo_path, .kind = x->kind, .object = obj,
					  .unreachable = x->unreachable};
		struct crefs *c = x->commit != NONE ? crefs_find(cr, ncr, x->commit) : NULL;

		const char *also[HISTORY_REFS_SHOWN];

		git_oid_tostr(obj, sizeof(obj), &x->object);
		/* The blob's other names, so that each copy can be found and cleaned. */
		for (uint32_t k = x->blob != NONE ? HB(h, x->blob)->name : NONE; k != NONE; k = HN(h, k)->next) {
			const char *p = HP(h, HN(h, k)->path);
			if (!strcmp(p, x->path))
				continue;
			if (o.nalso < HISTORY_REFS_SHOWN)
				also[o.nalso++] = p;
			else
				o.also_more++;
		}
		o.also = also;
		if (x->commit != NONE) {
			git_oid_tostr(commit, sizeof(commit), &HC(h, x->commit)->id);
			o.commit = commit;
		}
		if (c) {
			o.refs = c->shown;
			o.nrefs = c->n;
			o.refs_more = c->more;
		} else if (x->refname) {
			o.refs = (const char *const *)&x->refname;
			o.nrefs = 1;
		}
		x->f.path = x->path;
		err = report_finding_at(h->r, &x->f, &o);
	}
	if (err)
		herror(h, "cannot hold the findings: %s", lg_strerror(err));
out:
	free(cs);
	free(cr);
	return err;
}

/* ---- the scan ---- */

static void history_release(struct history *h)
{
	for (size_t i = 0; i < h->paths.n; i++)
		free(HP(h, i));
	for (size_t i = 0; i < h->refs.n; i++)
		free(HR(h, i)->name);
	for (size_t i = 0; i < h->found.n; i++) {
		free(HF(h, i)->path);
		free(HF(h, i)->refname);
		free((char *)HF(h, i)->f.member);
		free((char *)HF(h, i)->f.layer);
	}
	lg_vec_release(&h->commits);
	lg_vec_release(&h->parents);
	lg_vec_release(&h->blobs);
	lg_vec_release(&h->names);
	lg_vec_release(&h->paths);
	lg_vec_release(&h->refs);
	lg_vec_release(&h->tags);
	lg_vec_release(&h->found);
	lg_vec_release(&h->pathbuf);
	free(h->commitset.slot);
	free(h->blobset.slot);
	free(h->pathset.slot);
	free(h->tagset.slot);
	free(h->pairs);
	free(h->order);
	lg_scanner_free(h->scanner);
	lg_packorder_free(h->po);
	free(h->objdir);
	git_odb_free(h->odb);
	git_repository_free(h->repo);
	pthread_mutex_destroy(&h->lock);
}

/*
 * A partial clone (git clone --filter): extensions.partialClone names its
 * promisor remote, and its packs from there come with a .promisor file.
 */
static int is_partial(git_repository *repo, const char *objdir)
{
	git_config *cfg = NULL;
	git_buf v = GIT_BUF_INIT;
	int yes = 0;
	char dir[4096];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/pack", objdir);
	if ((d = opendir(dir))) {
		while (!yes && (de = readdir(d))) {
			size_t l = strlen(de->d_name);
			yes = l > 9 && !strcmp(de->d_name + l - 9, ".promisor");
		}
		closedir(d);
	}

	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&v, cfg, "extensions.partialclone") == 0)
		yes |= v.size > 0;
	git_buf_dispose(&v);
	git_config_free(cfg);
	git_error_clear(); /* not having the setting is no error */
	return yes;
}

/*
 * Whether the repository at path (bare, or with a .git folder) says
 * extensions.objectFormat = sha256 in its config. Read here, before
 * libgit2 is asked: libgit2 1.5 refuses such a repository, and leaks
 * what it had parsed when it does.
 */
static int is_sha256(const char *path)
{
	static const char *const where[] = {"config", ".git/config"};
	int yes = 0;

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]) && !yes; i++) {
		char file[4096], line[512];
		FILE *f;

		if (snprintf(file, sizeof(file), "%s/%s", path, where[i]) >= (int)sizeof(file) || !(f = fopen(file, "r")))
			continue;
		while (!yes && fgets(line, sizeof(line), f)) {
			char key[64], value[64];
			if (sscanf(line, " %63[A-Za-z] = %63s", key, value) == 2 && !strcasecmp(key, "objectformat") &&
			    !strcasecmp(value, "sha256"))
				yes = 1;
		}
		fclose(f);
	}
	return yes;
}

#define SHA256_MESSAGE                                                                      \
	"is a SHA-256 repository (extensions.objectFormat): the libgit2 this leakgate is built " \
	"with cannot read it, so its history was not scanned"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libgit2(void)
{
	git_libgit2_init();
	/*
	 * As in the hook: objects are not hashed again on every read. A scan
	 * asks what bytes the repository holds, not whether they match their
	 * names, and hashing halves the read rate (DESIGN.md: 454 against 200
	 * MiB/s). A truncated or damaged object still fails to inflate, and
	 * that is an error here; `git fsck` is the tool for the rest.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/*
	 * No object cache, as in the hook: each blob is read once, and on
	 * curl's history the cache cost 570 MB of memory (903 against 337 MB
	 * peak) for no gain in time (27.5 against 27.2 s).
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
}

void history_scan(const struct history_opts *o, struct report *r, const char *path)
{
	struct history h;
	git_revwalk *walk = NULL;
	int err, e;

	memset(&h, 0, sizeof(h));
	h.o = o;
	h.r = r;
	h.repo_path = path;
	pthread_mutex_init(&h.lock, NULL);
	lg_vec_init(&h.commits, sizeof(struct hcommit), HISTORY_COMMITS_MAX);
	lg_vec_init(&h.parents, sizeof(uint32_t), 2 * (size_t)HISTORY_COMMITS_MAX);
	lg_vec_init(&h.blobs, sizeof(struct hblob), HISTORY_BLOBS_MAX);
	lg_vec_init(&h.names, sizeof(struct hname), HISTORY_NAMES_MAX);
	lg_vec_init(&h.paths, sizeof(char *), HISTORY_PATHS_MAX);
	lg_vec_init(&h.refs, sizeof(struct href), HISTORY_REFS_MAX);
	lg_vec_init(&h.tags, sizeof(git_oid), HISTORY_BLOBS_MAX);
	lg_vec_init(&h.found, sizeof(struct hfind), HISTORY_FINDINGS_MAX);
	lg_vec_init(&h.pathbuf, 1, 1u << 20);
	clock_gettime(CLOCK_MONOTONIC, &h.t0);
	pthread_once(&init_once, init_libgit2);
	report_set_history(r, o->several);

	if (is_sha256(path)) {
		report_error(r, path, SHA256_MESSAGE);
		goto out;
	}
	if ((e = git_repository_open_ext(&h.repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) < 0) {
		const char *m = git_msg();
		if (strstr(m, "objectformat")) /* one is_sha256 did not see (a .git file, an included config) */
			report_error(r, path, SHA256_MESSAGE);
		else if (e == GIT_ENOTFOUND)
			report_error(r, path, "is not a Git repository (no .git folder, and not a bare repository); "
					      "to scan its files, leave out --git");
		else
			herror(&h, "cannot open the repository: %s", m);
		goto out;
	}
	if (git_repository_is_shallow(h.repo) == 1)
		report_skipped(r, path, "a shallow clone: the history before its shallow commits is not there to scan");
	if (git_repository_odb(&h.odb, h.repo) < 0 || git_revwalk_new(&walk, h.repo) < 0) {
		herror(&h, "cannot open the object database: %s", git_msg());
		goto out;
	}
	if ((err = lg_scanner_new(&h.scanner, o->rs, o->key))) {
		herror(&h, "cannot start a scanner: %s", lg_strerror(err));
		goto out;
	}
	if (asprintf(&h.objdir, "%sobjects", git_repository_commondir(h.repo)) < 0) {
		h.objdir = NULL;
		herror(&h, "out of memory");
		goto out;
	}
	if ((err = lg_packorder_open(&h.po, h.objdir, HISTORY_PACKS_MAX))) {
		herror(&h, "cannot read the pack indexes: %s", lg_strerror(err));
		goto out;
	}
	h.partial = is_partial(h.repo, h.objdir);
	if ((err = check_loose(&h)))
		goto fail;
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	if ((err = collect_refs(&h, walk)) || (err = walk_commits(&h, walk)))
		goto fail;
	if (o->all_objects && (err = add_unreachable(&h)))
		goto fail;
	trace(&h, "walk");
	if ((err = scan_blobs(&h)))
		goto out; /* said */
	trace(&h, "blobs");
	if ((err = report_found(&h)))
		goto out;
	trace(&h, "refs");
	goto out;
fail:
	if (err != LG_EIO)
		herror(&h, "the history could not be walked: %s", lg_strerror(err));
out:
	git_revwalk_free(walk);
	history_release(&h);
}
