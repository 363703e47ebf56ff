/*
 * The push walk. Git has not moved any ref yet while pre-receive runs, so
 * the commits a push adds are exactly those reachable from the new ids and
 * from no existing ref: a revision walk that pushes the new ids and hides
 * every ref. A new branch made from old commits therefore adds nothing, and a
 * force push never rescans what it overwrote.
 *
 * Each new commit is compared with its first parent (or the empty tree);
 * for a merge, a path whose new blob is already in another parent is not
 * new. Blobs are collected once each however many commits and paths share
 * them; every (commit, path) that introduces a blob stays an item so that
 * messages can say where a secret is.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "push.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hexval(s[i]) < 0)
			return 0;
	return 1;
}

static int is_zero_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '0')
			return 0;
	return 1;
}

int push_parse_updates(struct push *p, const char *input, size_t len, int *sha256,
		       struct lg_diag *d)
{
	size_t lineno = 0, cap = 0;
	const char *s = input, *end = input + len;

	*sha256 = 0;
	if (len > PUSH_STDIN_MAX) {
		lg_diag_add(d, NULL, NULL, NULL, "more than %u bytes of ref updates", PUSH_STDIN_MAX);
		return LG_ETOOLARGE;
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end, *sp1, *sp2;
		size_t hl, rl;
		struct push_update *u;

		lineno++;
		if (e == s) { /* tolerate blank lines */
			s = e + 1;
			continue;
		}
		sp1 = memchr(s, ' ', (size_t)(e - s));
		sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(e - sp1 - 1)) : NULL;
		if (!sp1 || !sp2) {
			lg_diag_add(d, NULL, NULL, NULL, "line %zu is not '<old> <new> <ref>'", lineno);
			return LG_EINVALID;
		}
		hl = (size_t)(sp1 - s);
		rl = (size_t)(e - sp2 - 1);
		if ((hl != 40 && hl != 64) || (size_t)(sp2 - sp1 - 1) != hl || !all_hex(s, hl) ||
		    !all_hex(sp1 + 1, hl)) {
			lg_diag_add(d, NULL, NULL, NULL, "line %zu: object ids must be 40 or 64 hex digits",
				    lineno);
			return LG_EINVALID;
		}
		if (rl == 0 || rl > PUSH_REFNAME_MAX || memchr(sp2 + 1, '\0', rl)) {
			lg_diag_add(d, NULL, NULL, NULL, "line %zu: bad ref name", lineno);
			return LG_EINVALID;
		}
		for (size_t i = 0; i < rl; i++) {
			unsigned char c = (unsigned char)sp2[1 + i];
			if (c < 0x20 || c == 0x7f) {
				lg_diag_add(d, NULL, NULL, NULL, "line %zu: control character in ref name", lineno);
				return LG_EINVALID;
			}
		}
		if (hl == 64) {
			*sha256 = 1;
			return LG_EINVALID;
		}
		if (p->nupdates == PUSH_UPDATES_MAX) {
			lg_diag_add(d, NULL, NULL, NULL, "more than %d ref updates", PUSH_UPDATES_MAX);
			return LG_ETOOLARGE;
		}
		if (p->nupdates == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct push_update *v = realloc(p->updates, ncap * sizeof(*v));
			if (!v)
				return LG_ENOMEM;
			p->updates = v;
			cap = ncap;
		}
		u = &p->updates[p->nupdates];
		memset(u, 0, sizeof(*u));
		u->ref = strndup(sp2 + 1, rl);
		if (!u->ref)
			return LG_ENOMEM;
		p->nupdates++;
		git_oid_fromstrn(&u->old_id, s, hl);
		git_oid_fromstrn(&u->new_id, sp1 + 1, hl);
		u->is_create = is_zero_hex(s, hl);
		u->is_delete = is_zero_hex(sp1 + 1, hl);
		s = nl ? nl + 1 : end;
	}
	return LG_OK;
}

int push_is_incoming(const struct push *p, const git_oid *id)
{
	return p->quarantine ? git_odb_exists(p->quarantine, id) : 1;
}

static size_t oid_hash(const git_oid *id)
{
	size_t h;
	memcpy(&h, id->id, sizeof(h));
	return h;
}

/* Index of blob id in p->blobs, adding it when new; SIZE_MAX on no memory. */
static size_t blob_index(struct push *p, const git_oid *id)
{
	size_t mask, i;

	if ((p->nblobs + 1) * 2 > p->blobset_cap) {
		size_t ncap = p->blobset_cap ? p->blobset_cap * 2 : 1024;
		size_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return SIZE_MAX;
		for (size_t k = 0; k < p->nblobs; k++) {
			size_t j = oid_hash(&p->blobs[k]) & (ncap - 1);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = k + 1;
		}
		free(p->blobset);
		p->blobset = ns;
		p->blobset_cap = ncap;
	}
	mask = p->blobset_cap - 1;
	for (i = oid_hash(id) & mask; p->blobset[i]; i = (i + 1) & mask)
		if (git_oid_equal(&p->blobs[p->blobset[i] - 1], id))
			return p->blobset[i] - 1;
	if (p->nblobs == p->capblobs) {
		size_t ncap = p->capblobs ? p->capblobs * 2 : 256;
		git_oid *v = realloc(p->blobs, ncap * sizeof(*v));
		if (!v)
			return SIZE_MAX;
		p->blobs = v;
		p->capblobs = ncap;
	}
	p->blobs[p->nblobs] = *id;
	p->blobset[i] = ++p->nblobs;
	return p->nblobs - 1;
}

static struct push_item *add_item(struct push *p, enum push_item_kind kind, const git_oid *id,
				  const char *path, size_t commit)
{
	struct push_item *it;

	if (p->nitems == p->capitems) {
		size_t ncap = p->capitems ? p->capitems * 2 : 256;
		struct push_item *v = realloc(p->items, ncap * sizeof(*v));
		if (!v)
			return NULL;
		p->items = v;
		p->capitems = ncap;
	}
	it = &p->items[p->nitems];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->id = *id;
	it->commit = commit;
	it->blob = SIZE_MAX;
	if (path && !(it->path = strdup(path)))
		return NULL;
	if (kind == ITEM_BLOB && (it->blob = blob_index(p, id)) == SIZE_MAX) {
		free(it->path);
		return NULL;
	}
	p->nitems++;
	return it;
}

static size_t add_commit(struct push *p, const git_oid *id, const char *summary, int is_root)
{
	struct push_commit *c;

	if (p->ncommits == p->capcommits) {
		size_t ncap = p->capcommits ? p->capcommits * 2 : 64;
		struct push_commit *v = realloc(p->commits, ncap * sizeof(*v));
		if (!v)
			return SIZE_MAX;
		p->commits = v;
		p->capcommits = ncap;
	}
	c = &p->commits[p->ncommits];
	memset(c, 0, sizeof(*c));
	c->id = *id;
	c->summary = strdup(summary ? summary : "");
	c->is_root = is_root;
	if (!c->summary)
		return SIZE_MAX;
	return p->ncommits++;
}

static int is_blob_mode(uint16_t mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
	       mode == GIT_FILEMODE_LINK;
}

/* Trees nested deeper than this are refused rather than followed. */
#define PUSH_TREE_DEPTH_MAX 512

struct tree_walk {
	struct push *p;
	git_tree **others; /* the other parents of a merge */
	size_t nothers;
	size_t commit;
	struct lg_diag *d;
};

static int diff_trees(struct tree_walk *w, git_tree *a, git_tree *b, const char *prefix, int depth);

/* One entry of the new tree that differs from the old one (ea NULL: added). */
static int changed_entry(struct tree_walk *w, const git_tree_entry *ea, const git_tree_entry *eb,
			 const char *prefix, int depth)
{
	git_filemode_t mb = git_tree_entry_filemode(eb);
	git_tree *sa = NULL, *sb = NULL;
	struct push_item *it;
	char *path = NULL;
	int err = LG_OK, known = 0;

	/* Submodule entries (gitlinks) name commits of another repository. */
	if (mb != GIT_FILEMODE_TREE && !is_blob_mode(mb))
		return LG_OK;
	if (asprintf(&path, "%s%s%s", prefix, *prefix ? "/" : "", git_tree_entry_name(eb)) < 0)
		return LG_ENOMEM;
	if (mb == GIT_FILEMODE_TREE) {
		if (git_tree_lookup(&sb, w->p->repo, git_tree_entry_id(eb)) < 0 ||
		    (ea && git_tree_entry_filemode(ea) == GIT_FILEMODE_TREE &&
		     git_tree_lookup(&sa, w->p->repo, git_tree_entry_id(ea)) < 0)) {
			const git_error *e = git_error_last();
			lg_diag_add(w->d, NULL, NULL, NULL, "cannot read the tree of %s: %s", path,
				    e ? e->message : "unknown error");
			err = LG_ERROR;
		} else {
			err = diff_trees(w, sa, sb, path, depth + 1);
		}
		git_tree_free(sa);
		git_tree_free(sb);
		free(path);
		return err;
	}
	for (size_t k = 0; k < w->nothers && !known; k++) {
		git_tree_entry *e = NULL;
		if (git_tree_entry_bypath(&e, w->others[k], path) == 0) {
			known = git_oid_equal(git_tree_entry_id(e), git_tree_entry_id(eb));
			git_tree_entry_free(e);
		}
	}
	if (!known) {
		it = add_item(w->p, ITEM_BLOB, git_tree_entry_id(eb), path, w->commit);
		if (!it)
			err = LG_ENOMEM;
		else if (ea && is_blob_mode(git_tree_entry_filemode(ea)))
			it->old_id = *git_tree_entry_id(ea);
	}
	free(path);
	return err;
}

/*
 * Items for what tree b adds relative to tree a (NULL: empty). Both lists
 * are in git's tree order, so one pass pairs them; a subtree whose id did
 * not change is skipped whole. (libgit2's tree diff reads every subtree of
 * both sides, which made the walk cost grow with the size of the tree
 * instead of the size of the change.)
 */
static int diff_trees(struct tree_walk *w, git_tree *a, git_tree *b, const char *prefix, int depth)
{
	size_t na = a ? git_tree_entrycount(a) : 0, nb = git_tree_entrycount(b), i = 0, j = 0;
	int err = LG_OK;

	if (depth > PUSH_TREE_DEPTH_MAX) {
		lg_diag_add(w->d, NULL, NULL, NULL, "trees nested more than %d deep at %s",
			    PUSH_TREE_DEPTH_MAX, prefix);
		return LG_ETOOLARGE;
	}
	while (j < nb && !err) {
		const git_tree_entry *eb = git_tree_entry_byindex(b, j);
		const git_tree_entry *ea = i < na ? git_tree_entry_byindex(a, i) : NULL;
		int c = ea ? git_tree_entry_cmp(ea, eb) : 1;

		if (c < 0) { /* only in the old tree: deleted */
			i++;
			continue;
		}
		j++;
		if (c == 0)
			i++;
		else
			ea = NULL; /* only in the new tree: added */
		if (ea && git_oid_equal(git_tree_entry_id(ea), git_tree_entry_id(eb)) &&
		    git_tree_entry_filemode(ea) == git_tree_entry_filemode(eb))
			continue;
		err = changed_entry(w, ea, eb, prefix, depth);
	}
	return err;
}

/*
 * Items for what tree adds relative to base (NULL: the empty tree). Blobs
 * that any of the other parents already hold at the same path are not new.
 */
static int add_tree_changes(struct push *p, git_tree *base, git_tree *tree, git_tree **others,
			    size_t nothers, size_t commit, struct lg_diag *d)
{
	struct tree_walk w = {p, others, nothers, commit, d};

	return diff_trees(&w, base, tree, "", 0);
}

static int git_fail(struct lg_diag *d, const char *what, const git_oid *id)
{
	const git_error *e = git_error_last();
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	lg_diag_add(d, NULL, NULL, NULL, "%s %s: %s", what, hex, e ? e->message : "unknown error");
	return LG_ERROR;
}

static int walk_commit(struct push *p, const git_oid *id, struct lg_diag *d)
{
	git_commit *c = NULL;
	git_tree *tree = NULL, *base = NULL, **others = NULL;
	size_t np, idx, nothers = 0;
	int err = LG_ERROR;

	if (git_commit_lookup(&c, p->repo, id) < 0)
		return git_fail(d, "cannot read commit", id);
	np = git_commit_parentcount(c);
	idx = add_commit(p, id, git_commit_summary(c), np == 0);
	if (idx == SIZE_MAX) {
		err = LG_ENOMEM;
		goto out;
	}
	if (!add_item(p, ITEM_COMMIT_MESSAGE, id, NULL, idx)) {
		err = LG_ENOMEM;
		goto out;
	}
	if (git_commit_tree(&tree, c) < 0) {
		err = git_fail(d, "cannot read the tree of commit", id);
		goto out;
	}
	if (np > 0) {
		git_commit *parent = NULL;
		if (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&base, parent) < 0) {
			git_commit_free(parent);
			err = git_fail(d, "cannot read the first parent of commit", id);
			goto out;
		}
		git_commit_free(parent);
	}
	if (np > 1) {
		others = calloc(np - 1, sizeof(*others));
		if (!others) {
			err = LG_ENOMEM;
			goto out;
		}
		for (size_t k = 1; k < np; k++) {
			git_commit *parent = NULL;
			if (git_commit_parent(&parent, c, (unsigned)k) < 0 ||
			    git_commit_tree(&others[nothers], parent) < 0) {
				git_commit_free(parent);
				err = git_fail(d, "cannot read a parent of merge commit", id);
				goto out;
			}
			nothers++;
			git_commit_free(parent);
		}
	}
	err = add_tree_changes(p, base, tree, others, nothers, idx, d);
out:
	for (size_t k = 0; k < nothers; k++)
		git_tree_free(others[k]);
	free(others);
	git_tree_free(base);
	git_tree_free(tree);
	git_commit_free(c);
	return err;
}

int push_walk(struct push *p, git_repository *repo, const char *quarantine_dir,
	      struct lg_diag *d)
{
	git_revwalk *walk = NULL;
	git_oid id;
	size_t pushed = 0;
	int err = LG_ERROR, rc;

	p->repo = repo;
	if (quarantine_dir && *quarantine_dir) {
		if (git_odb_new(&p->quarantine) < 0 ||
		    git_odb_add_disk_alternate(p->quarantine, quarantine_dir) < 0) {
			lg_diag_add(d, NULL, NULL, NULL, "cannot open the quarantine %s", quarantine_dir);
			return LG_ERROR;
		}
	}
	if (git_revwalk_new(&walk, repo) < 0) {
		lg_diag_add(d, NULL, NULL, NULL, "cannot start a revision walk");
		return LG_ERROR;
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	for (size_t i = 0; i < p->nupdates; i++) {
		struct push_update *u = &p->updates[i];
		git_object *obj = NULL;

		if (u->is_delete)
			continue;
		if (git_object_lookup(&obj, repo, &u->new_id, GIT_OBJECT_ANY) < 0) {
			err = git_fail(d, "the pushed object is missing:", &u->new_id);
			goto out;
		}
		/* Annotated tags, possibly tags of tags: each new one is a message. */
		while (git_object_type(obj) == GIT_OBJECT_TAG) {
			git_object *target = NULL;
			if (push_is_incoming(p, git_object_id(obj)) &&
			    !add_item(p, ITEM_TAG_MESSAGE, git_object_id(obj), u->ref, SIZE_MAX)) {
				git_object_free(obj);
				err = LG_ENOMEM;
				goto out;
			}
			if (git_tag_target(&target, (git_tag *)obj) < 0) {
				err = git_fail(d, "cannot read the target of tag", git_object_id(obj));
				git_object_free(obj);
				goto out;
			}
			git_object_free(obj);
			obj = target;
		}
		switch (git_object_type(obj)) {
		case GIT_OBJECT_COMMIT:
			if (git_revwalk_push(walk, git_object_id(obj)) < 0) {
				err = git_fail(d, "cannot walk from", git_object_id(obj));
				git_object_free(obj);
				goto out;
			}
			pushed++;
			break;
		case GIT_OBJECT_TREE:
		case GIT_OBJECT_BLOB: {
			/* A ref straight to a tree or blob: scan it whole, as new. */
			char label[PUSH_REFNAME_MAX + 32];
			size_t idx;
			snprintf(label, sizeof(label), "(%s points at a %s)", u->ref,
				 git_object_type(obj) == GIT_OBJECT_TREE ? "tree" : "blob");
			idx = add_commit(p, git_object_id(obj), label, 1);
			if (idx == SIZE_MAX)
				err = LG_ENOMEM;
			else if (git_object_type(obj) == GIT_OBJECT_TREE)
				err = add_tree_changes(p, NULL, (git_tree *)obj, NULL, 0, idx, d);
			else
				err = add_item(p, ITEM_BLOB, git_object_id(obj), u->ref, idx) ? LG_OK : LG_ENOMEM;
			if (err) {
				git_object_free(obj);
				goto out;
			}
			break;
		}
		default:
			break;
		}
		git_object_free(obj);
	}
	if (pushed) {
		if (git_revwalk_hide_glob(walk, "refs/*") < 0) {
			const git_error *e = git_error_last();
			lg_diag_add(d, NULL, NULL, NULL, "cannot read the repository's refs: %s",
				    e ? e->message : "unknown error");
			goto out;
		}
		while ((rc = git_revwalk_next(&id, walk)) == 0) {
			if (p->cancel && *p->cancel) {
				lg_diag_add(d, NULL, NULL, NULL, "cancelled");
				goto out;
			}
			if ((err = walk_commit(p, &id, d)))
				goto out;
		}
		if (rc != GIT_ITEROVER) {
			const git_error *e = git_error_last();
			lg_diag_add(d, NULL, NULL, NULL, "revision walk failed: %s",
				    e ? e->message : "unknown error");
			err = LG_ERROR;
			goto out;
		}
	}
	/* Mark the tips: the commits the refs will point at. */
	for (size_t i = 0; i < p->nupdates; i++) {
		git_object *obj = NULL;
		if (p->updates[i].is_delete)
			continue;
		if (git_object_lookup(&obj, repo, &p->updates[i].new_id, GIT_OBJECT_ANY) == 0) {
			git_object *peeled = NULL;
			if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0) {
				for (size_t k = 0; k < p->ncommits; k++) {
					if (git_oid_equal(&p->commits[k].id, git_object_id(peeled))) {
						p->commits[k].is_tip = 1;
						p->commits[k].ref = p->updates[i].ref;
					}
				}
				git_object_free(peeled);
			}
			git_object_free(obj);
		}
	}
	err = LG_OK;
out:
	git_revwalk_free(walk);
	return err;
}

void push_release(struct push *p)
{
	for (size_t i = 0; i < p->nupdates; i++)
		free(p->updates[i].ref);
	free(p->updates);
	for (size_t i = 0; i < p->ncommits; i++)
		free(p->commits[i].summary);
	free(p->commits);
	for (size_t i = 0; i < p->nitems; i++)
		free(p->items[i].path);
	free(p->items);
	free(p->blobs);
	free(p->blobset);
	git_odb_free(p->quarantine);
	memset(p, 0, sizeof(*p));
}

/* ---- pack order ---- */

struct pack_idx {
	const unsigned char *map;
	size_t len;
	uint32_t n;
	const unsigned char *names, *offs, *offs64;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Map a version 2 pack index; 0 on success. Anything unexpected: not used. */
static int idx_open(struct pack_idx *x, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *m;

	memset(x, 0, sizeof(*x));
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size < 8 + 1024 || (uint64_t)st.st_size > (1ull << 40)) {
		close(fd);
		return -1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	x->map = m;
	x->len = (size_t)st.st_size;
	if (memcmp(x->map, "\377tOc", 4) || be32(x->map + 4) != 2)
		goto bad;
	x->n = be32(x->map + 8 + 255 * 4);
	if ((uint64_t)8 + 1024 + (uint64_t)x->n * 28 > x->len)
		goto bad;
	x->names = x->map + 8 + 1024;
	x->offs = x->names + (size_t)x->n * 24; /* names, then CRCs */
	x->offs64 = x->offs + (size_t)x->n * 4;
	return 0;
bad:
	munmap((void *)x->map, x->len);
	memset(x, 0, sizeof(*x));
	return -1;
}

static uint64_t idx_find(const struct pack_idx *x, const git_oid *id)
{
	uint32_t lo = 0, hi = x->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(x->names + (size_t)mid * 20, id->id, 20);
		if (c == 0) {
			uint32_t o = be32(x->offs + (size_t)mid * 4);
			if (o & 0x80000000u) {
				size_t k = o & 0x7fffffffu;
				const unsigned char *p = x->offs64 + k * 8;
				if (p + 8 > x->map + x->len)
					return UINT64_MAX;
				return (uint64_t)be32(p) << 32 | be32(p + 4);
			}
			return o;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return UINT64_MAX;
}

struct order_key {
	uint64_t key; /* pack number << 40 | offset; UINT64_MAX for loose */
	size_t old;
};

static int cmp_key(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->old < y->old ? -1 : x->old > y->old;
}

int push_order_blobs(struct push *p, const char *quarantine_dir)
{
	struct pack_idx idx[16];
	size_t nidx = 0, *inv = NULL;
	struct order_key *keys = NULL;
	git_oid *nb = NULL;
	char *dir = NULL;
	DIR *d = NULL;
	struct dirent *de;
	int err = LG_ENOMEM;

	if (!quarantine_dir || !*quarantine_dir || p->nblobs < 2)
		return LG_OK;
	if (asprintf(&dir, "%s/pack", quarantine_dir) < 0)
		return LG_ENOMEM;
	d = opendir(dir);
	while (d && (de = readdir(d)) && nidx < 16) {
		size_t l = strlen(de->d_name);
		char *path = NULL;
		if (l < 5 || strcmp(de->d_name + l - 4, ".idx"))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) >= 0 && idx_open(&idx[nidx], path) == 0)
			nidx++;
		free(path);
	}
	if (d)
		closedir(d);
	if (nidx == 0) {
		err = LG_OK;
		goto out;
	}
	keys = malloc(p->nblobs * sizeof(*keys));
	inv = malloc(p->nblobs * sizeof(*inv));
	nb = malloc(p->nblobs * sizeof(*nb));
	if (!keys || !inv || !nb)
		goto out;
	for (size_t i = 0; i < p->nblobs; i++) {
		keys[i].old = i;
		keys[i].key = UINT64_MAX;
		for (size_t k = 0; k < nidx; k++) {
			uint64_t off = idx_find(&idx[k], &p->blobs[i]);
			if (off != UINT64_MAX && off < (1ull << 40)) {
				keys[i].key = (uint64_t)k << 40 | off;
				break;
			}
		}
	}
	qsort(keys, p->nblobs, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < p->nblobs; i++) {
		nb[i] = p->blobs[keys[i].old];
		inv[keys[i].old] = i;
	}
	memcpy(p->blobs, nb, p->nblobs * sizeof(*nb));
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].kind == ITEM_BLOB)
			p->items[i].blob = inv[p->items[i].blob];
	/* The lookup set indexes the old order; nothing needs it any more. */
	free(p->blobset);
	p->blobset = NULL;
	p->blobset_cap = 0;
	err = LG_OK;
out:
	for (size_t k = 0; k < nidx; k++)
		munmap((void *)idx[k].map, idx[k].len);
	free(keys);
	free(inv);
	free(nb);
	free(dir);
	return err;
}
