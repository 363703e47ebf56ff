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
 * messages can say where a secret is. The commit objects themselves, new
 * annotated tags and the names of the refs moved are items too: headers
 * and ref names are published as surely as files are.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "packorder.h"
#include "push.h"

/* Packs in a quarantine whose order is used (a push brings one or a few). */
#define PUSH_PACKS_MAX 16

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

void push_init(struct push *p)
{
	memset(p, 0, sizeof(*p));
	lg_vec_init(&p->updates, sizeof(struct push_update), PUSH_UPDATES_MAX);
	lg_vec_init(&p->commits, sizeof(struct push_commit), PUSH_COMMITS_MAX);
	lg_vec_init(&p->items, sizeof(struct push_item), PUSH_ITEMS_MAX);
	lg_vec_init(&p->blobs, sizeof(git_oid), PUSH_BLOBS_MAX);
}

int push_parse_updates(struct push *p, const char *input, size_t len, int *sha256,
		       struct lg_diag *d)
{
	size_t lineno = 0;
	int err;
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
		if ((err = lg_vec_grow(&p->updates, 1, (void **)&u))) {
			if (err == LG_ETOOLARGE)
				lg_diag_add(d, NULL, NULL, NULL, "more than %d ref updates", PUSH_UPDATES_MAX);
			return err;
		}
		u->ref = strndup(sp2 + 1, rl);
		if (!u->ref) {
			p->updates.n--;
			return LG_ENOMEM;
		}
		git_oid_fromstrn(&u->old_id, s, hl);
		git_oid_fromstrn(&u->new_id, sp1 + 1, hl);
		u->is_create = is_zero_hex(s, hl);
		u->is_delete = is_zero_hex(sp1 + 1, hl);
		s = nl ? nl + 1 : end;
	}
	return LG_OK;
}

int push_bypass_option(const char *v, char **reason)
{
	size_t n = strlen(PUSH_BYPASS_OPTION);

	*reason = NULL;
	if (!v || strncmp(v, PUSH_BYPASS_OPTION, n) || (v[n] != '=' && v[n] != '\0'))
		return 0;
	v += n;
	if (*v == '=')
		v++;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v)
		return 1;
	if (!(*reason = strndup(v, PUSH_BYPASS_REASON_MAX)))
		return LG_ENOMEM;
	return 1;
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

static size_t set_find(const struct push *p, const git_oid *id, size_t *slot)
{
	size_t mask = p->blobset_cap - 1, i;

	for (i = oid_hash(id) & mask; p->blobset[i]; i = (i + 1) & mask)
		if (git_oid_equal(PUSH_BLOB(p, p->blobset[i] - 1), id))
			return p->blobset[i] - 1;
	if (slot)
		*slot = i;
	return SIZE_MAX;
}

/* Index of blob id among the push's blobs, adding it when new; an lg code on failure. */
static int blob_index(struct push *p, const git_oid *id, size_t *out)
{
	size_t i, found;
	int err;

	if ((p->blobs.n + 1) * 2 > p->blobset_cap) {
		size_t ncap = p->blobset_cap ? p->blobset_cap * 2 : 1024;
		size_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return LG_ENOMEM;
		for (size_t k = 0; k < p->blobs.n; k++) {
			size_t j = oid_hash(PUSH_BLOB(p, k)) & (ncap - 1);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = k + 1;
		}
		free(p->blobset);
		p->blobset = ns;
		p->blobset_cap = ncap;
	}
	if ((found = set_find(p, id, &i)) != SIZE_MAX) {
		*out = found;
		return LG_OK;
	}
	if ((err = lg_vec_push(&p->blobs, id)))
		return err;
	p->blobset[i] = p->blobs.n;
	*out = p->blobs.n - 1;
	return LG_OK;
}

size_t push_find_blob(const struct push *p, const git_oid *id)
{
	return p->blobset_cap ? set_find(p, id, NULL) : SIZE_MAX;
}

static int add_item(struct push *p, enum push_item_kind kind, const git_oid *id, const char *path,
		    size_t commit, struct push_item **out)
{
	struct push_item *it;
	int err;

	if ((err = lg_vec_grow(&p->items, 1, (void **)&it)))
		return err;
	it->kind = kind;
	it->id = *id;
	it->commit = commit;
	it->blob = SIZE_MAX;
	it->update = SIZE_MAX;
	if (path && !(it->path = strdup(path))) {
		p->items.n--;
		return LG_ENOMEM;
	}
	if (kind == ITEM_BLOB && (err = blob_index(p, id, &it->blob))) {
		free(it->path);
		p->items.n--;
		return err;
	}
	if (out)
		*out = it;
	return LG_OK;
}

/* The first line of a commit message, as written. */
static char *first_line(const char *msg)
{
	size_t n = strcspn(msg ? msg : "", "\n");
	return strndup(msg ? msg : "", n);
}

static int add_commit(struct push *p, git_commit *c, const git_oid *id, const char *label, size_t *out)
{
	struct push_commit *pc;
	size_t np = c ? git_commit_parentcount(c) : 0;
	int err;

	if ((err = lg_vec_grow(&p->commits, 1, (void **)&pc)))
		return err;
	pc->id = *id;
	pc->update = SIZE_MAX;
	pc->is_root = np == 0;
	pc->summary = c ? first_line(git_commit_message_raw(c)) : strdup(label ? label : "");
	if (np && (pc->parents = calloc(np, sizeof(*pc->parents))))
		for (size_t k = 0; k < np; k++)
			pc->parents[pc->nparents++] = *git_commit_parent_id(c, (unsigned)k);
	if (!pc->summary || (np && !pc->parents)) {
		free(pc->summary);
		free(pc->parents);
		p->commits.n--;
		return LG_ENOMEM;
	}
	*out = p->commits.n - 1;
	return LG_OK;
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
		err = add_item(w->p, ITEM_BLOB, git_tree_entry_id(eb), path, w->commit, &it);
		if (!err && ea && is_blob_mode(git_tree_entry_filemode(ea)))
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
		if (w->p->cancel && *w->p->cancel)
			return LG_ECANCELED;
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
	if ((err = add_commit(p, c, id, NULL, &idx)) || (err = add_item(p, ITEM_COMMIT, id, NULL, idx, NULL)))
		goto out;
	err = LG_ERROR;
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

/* Give every new commit an update that reaches it, walking down from each tip. */
static int assign_updates(struct push *p)
{
	size_t n = p->commits.n, cap = 1024, *stack = NULL, top = 0;
	size_t *set = NULL, mask;
	int err = LG_OK;

	if (n == 0)
		return LG_OK;
	while (cap < n * 2)
		cap *= 2;
	mask = cap - 1;
	set = calloc(cap, sizeof(*set));
	stack = malloc(n * sizeof(*stack));
	if (!set || !stack) {
		err = LG_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = oid_hash(&PUSH_COMMIT(p, i)->id) & mask;
		while (set[j])
			j = (j + 1) & mask;
		set[j] = i + 1;
	}
	for (size_t i = 0; i < n; i++)
		if (PUSH_COMMIT(p, i)->update != SIZE_MAX)
			stack[top++] = i;
	/* Each commit is pushed at most once: when it first gets an update. */
	while (top) {
		struct push_commit *c = PUSH_COMMIT(p, stack[--top]);
		for (size_t k = 0; k < c->nparents; k++) {
			for (size_t j = oid_hash(&c->parents[k]) & mask; set[j]; j = (j + 1) & mask) {
				struct push_commit *pc = PUSH_COMMIT(p, set[j] - 1);
				if (!git_oid_equal(&pc->id, &c->parents[k]))
					continue;
				if (pc->update == SIZE_MAX) {
					pc->update = c->update;
					stack[top++] = set[j] - 1;
				}
				break;
			}
		}
	}
out:
	free(set);
	free(stack);
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
	for (size_t i = 0; i < p->updates.n; i++) {
		struct push_update *u = PUSH_UPDATE(p, i);
		struct push_item *it = NULL;
		git_object *obj = NULL;

		if (u->is_delete)
			continue;
		/* The name is published with the ref: scanned like content. */
		if ((err = add_item(p, ITEM_REF, &u->new_id, u->ref, SIZE_MAX, &it)))
			goto out;
		it->update = i;
		if (git_object_lookup(&obj, repo, &u->new_id, GIT_OBJECT_ANY) < 0) {
			err = git_fail(d, "the pushed object is missing:", &u->new_id);
			goto out;
		}
		/* Annotated tags, possibly tags of tags: each new one is scanned whole. */
		while (git_object_type(obj) == GIT_OBJECT_TAG) {
			git_object *target = NULL;
			if (push_is_incoming(p, git_object_id(obj)) &&
			    (err = add_item(p, ITEM_TAG, git_object_id(obj), u->ref, SIZE_MAX, &it))) {
				git_object_free(obj);
				goto out;
			}
			if (it && it->kind == ITEM_TAG)
				it->update = i;
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
			err = add_commit(p, NULL, git_object_id(obj), label, &idx);
			if (!err) {
				PUSH_COMMIT(p, idx)->update = i;
				if (git_object_type(obj) == GIT_OBJECT_TREE)
					err = add_tree_changes(p, NULL, (git_tree *)obj, NULL, 0, idx, d);
				else
					err = add_item(p, ITEM_BLOB, git_object_id(obj), u->ref, idx, NULL);
			}
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
			err = LG_ERROR;
			goto out;
		}
		while ((rc = git_revwalk_next(&id, walk)) == 0) {
			if (p->cancel && *p->cancel) {
				err = LG_ECANCELED;
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
	for (size_t i = 0; i < p->updates.n; i++) {
		git_object *obj = NULL;
		if (PUSH_UPDATE(p, i)->is_delete)
			continue;
		if (git_object_lookup(&obj, repo, &PUSH_UPDATE(p, i)->new_id, GIT_OBJECT_ANY) == 0) {
			git_object *peeled = NULL;
			if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0) {
				for (size_t k = 0; k < p->commits.n; k++) {
					struct push_commit *c = PUSH_COMMIT(p, k);
					if (git_oid_equal(&c->id, git_object_id(peeled))) {
						c->is_tip = 1;
						if (c->update == SIZE_MAX)
							c->update = i;
					}
				}
				git_object_free(peeled);
			}
			git_object_free(obj);
		}
	}
	err = assign_updates(p);
out:
	if (err == LG_ETOOLARGE)
		lg_diag_add(d, NULL, NULL, NULL,
			    "the push adds more than the hook can hold (%u commits, %u files or %u blobs)",
			    PUSH_COMMITS_MAX, PUSH_ITEMS_MAX, PUSH_BLOBS_MAX);
	else if (err == LG_ENOMEM)
		lg_diag_add(d, NULL, NULL, NULL, "out of memory while walking the push");
	git_revwalk_free(walk);
	return err;
}

void push_split_object(const char *raw, size_t len, size_t *body, size_t *header_lines)
{
	size_t lines = 0, i = 0;

	/* Headers are lines up to the first empty one; a continuation line starts with a space. */
	while (i < len) {
		const char *nl = memchr(raw + i, '\n', len - i);
		if (nl == raw + i) {
			*body = i + 1;
			*header_lines = lines;
			return;
		}
		lines++;
		if (!nl)
			break;
		i = (size_t)(nl - raw) + 1;
	}
	*body = len;
	*header_lines = lines;
}

void push_release(struct push *p)
{
	for (size_t i = 0; i < p->updates.n; i++)
		free(PUSH_UPDATE(p, i)->ref);
	for (size_t i = 0; i < p->commits.n; i++) {
		free(PUSH_COMMIT(p, i)->summary);
		free(PUSH_COMMIT(p, i)->parents);
	}
	for (size_t i = 0; i < p->items.n; i++)
		free(PUSH_ITEM(p, i)->path);
	lg_vec_release(&p->updates);
	lg_vec_release(&p->commits);
	lg_vec_release(&p->items);
	lg_vec_release(&p->blobs);
	free(p->blobset);
	git_odb_free(p->quarantine);
	push_init(p);
}

/* ---- pack order (packorder.h) ---- */

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
	struct lg_packorder *po = NULL;
	size_t *inv = NULL;
	struct order_key *keys = NULL;
	git_oid *nb = NULL;
	int err;

	if (!quarantine_dir || !*quarantine_dir || p->blobs.n < 2)
		return LG_OK;
	if ((err = lg_packorder_open(&po, quarantine_dir, PUSH_PACKS_MAX)))
		return err;
	err = LG_ENOMEM;
	keys = malloc(p->blobs.n * sizeof(*keys));
	inv = malloc(p->blobs.n * sizeof(*inv));
	nb = malloc(p->blobs.n * sizeof(*nb));
	if (!keys || !inv || !nb)
		goto out;
	for (size_t i = 0; i < p->blobs.n; i++) {
		keys[i].old = i;
		keys[i].key = lg_packorder_key(po, PUSH_BLOB(p, i));
	}
	qsort(keys, p->blobs.n, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < p->blobs.n; i++) {
		nb[i] = *PUSH_BLOB(p, keys[i].old);
		inv[keys[i].old] = i;
	}
	memcpy(p->blobs.v, nb, p->blobs.n * sizeof(*nb));
	for (size_t i = 0; i < p->items.n; i++)
		if (PUSH_ITEM(p, i)->kind == ITEM_BLOB)
			PUSH_ITEM(p, i)->blob = inv[PUSH_ITEM(p, i)->blob];
	/* The lookup set follows the new order. */
	for (size_t i = 0; i < p->blobset_cap; i++)
		if (p->blobset[i])
			p->blobset[i] = inv[p->blobset[i] - 1] + 1;
	err = LG_OK;
out:
	lg_packorder_free(po);
	free(keys);
	free(inv);
	free(nb);
	return err;
}
