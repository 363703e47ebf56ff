/*
 * Phase 4 of the hook: from findings per blob to findings per place. Each
 * (commit, path) that introduces a blob gets the blob's findings whose
 * rule applies at that path, plus the path rules for that very name. Then
 * each finding is compared with the previous version of the same path:
 *
 *  - that version is on the server already and has the same secret: the
 *    secret is pre-existing (a warning; every later edit of a file must
 *    not be rejected for what the server already publishes);
 *  - that version came with this push and its scan found the same secret:
 *    the secret is carried, reported at the commit that added it;
 *  - that version could not be scanned (binary, too large, unreadable):
 *    nothing says the secret was reported anywhere, so it blocks here.
 *
 * Then what blocks: by leakgate.block, a finding whose rule's confidence
 * is below the level, or that is not of high confidence and sits in a
 * test, documentation or template file, only warns (policy_blocks). Then
 * the exemptions an administrator made, for what still blocks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "hook.h"
#include "policy.h"

static int cmp_blob(const void *a, const void *b)
{
	const struct hfinding *x = a, *y = b;
	if (x->blob != y->blob)
		return x->blob < y->blob ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Fingerprints of an old version, for comparison. */
struct fpset {
	struct lg_vec v; /* char[LG_FP_HEX + 1] */
};

static int collect_fp(const struct lg_finding *f, void *ctx)
{
	struct fpset *s = ctx;
	return lg_vec_push(&s->v, f->fingerprint);
}

static int fpset_has(const struct fpset *s, const char *fp)
{
	for (size_t i = 0; i < s->v.n; i++)
		if (!memcmp((const char *)s->v.v + i * (LG_FP_HEX + 1), fp, LG_FP_HEX + 1))
			return 1;
	return 0;
}

struct path_ctx {
	struct hook *h;
	size_t item;
};

/* Path rules without content: the file's name is the finding. */
static int on_path_finding(const struct lg_finding *f, void *ctx)
{
	struct path_ctx *m = ctx;
	struct hfinding x;

	if (f->line != 0)
		return 0;
	memset(&x, 0, sizeof(x));
	x.rule = f->rule;
	memcpy(x.fingerprint, f->fingerprint, sizeof(x.fingerprint));
	memcpy(x.preview, f->preview, sizeof(x.preview));
	x.blob = SIZE_MAX;
	x.item = m->item;
	x.status = F_BLOCK;
	return lg_vec_push(&m->h->found, &x);
}

static int too_many(struct hook *h, int err)
{
	if (err == LG_ETOOLARGE)
		hook_failed(h, err, 0, "the push has more than %d findings: too many to check them all",
			    HOOK_FINDINGS_MAX);
	else
		hook_failed(h, err, err == LG_ENOMEM, "out of memory while attributing the findings");
	return err;
}

/*
 * What the previous version of it->path says about the findings from
 * index before on: pre-existing, carried, or (left) blocking.
 */
static void compare_old(struct hook *h, const struct push_item *it, size_t before, const size_t *first,
			const size_t *count)
{
	struct fpset old;
	int have = 0, incoming;
	size_t ob = SIZE_MAX;

	if (git_oid_is_zero(&it->old_id))
		return;
	lg_vec_init(&old.v, LG_FP_HEX + 1, HOOK_FINDINGS_MAX);
	/*
	 * A version that no item of this push introduced came from the
	 * server's history, even when the client sent it again.
	 */
	incoming = push_is_incoming(&h->push, &it->old_id) &&
		   (ob = push_find_blob(&h->push, &it->old_id)) != SIZE_MAX;
	if (incoming) {
		/* Only what this push's scan of that version found counts as reported. */
		if (h->blob_state[ob] == BLOB_SCANNED) {
			have = 1;
			for (size_t k = first[ob]; k < first[ob] + count[ob] && have; k++)
				if (lg_vec_push(&old.v, LG_VEC_AT(&h->blobfound, struct hfinding, k).fingerprint))
					have = 0;
		}
		/* The name was there before too: a path finding was reported at that version. */
		for (size_t k = before; k < h->found.n; k++) {
			struct hfinding *f = &LG_VEC_AT(&h->found, struct hfinding, k);
			if (f->line == 0)
				f->status = F_CARRIED;
		}
	} else {
		git_blob *old_blob = NULL;
		char hex[GIT_OID_HEXSZ + 1];
		if (git_blob_lookup(&old_blob, h->repo, &it->old_id) == 0) {
			git_object_size_t sz = git_blob_rawsize(old_blob);
			if (sz <= h->cfg.max_blob_size) {
				struct lg_unpack_result res;
				const char *name = it->path;
				/* As the new version was scanned: with its archive members and decoded views. */
				int err = lg_scan_deep(h->scanner, &h->cfg.unpack, &name, 1, git_blob_rawcontent(old_blob),
						       (size_t)sz, collect_fp, &old, &res);
				have = 1;
				/* The comparison could not be made whole: what it found still counts. */
				if (err) {
					git_oid_tostr(hex, sizeof(hex), &it->old_id);
					hook_failed(h, err, err == LG_ECANCELED || err == LG_ENOMEM,
						    "the previous version of a file (%s) could not be compared: %s", hex,
						    lg_scanner_error(h->scanner));
				}
			}
			git_blob_free(old_blob);
		} else {
			git_oid_tostr(hex, sizeof(hex), &it->old_id);
			hook_failed(h, LG_EIO, 0, "cannot read the previous version of a file (%s): %s", hex,
				    hook_git_error());
		}
	}
	if (have) {
		for (size_t k = before; k < h->found.n; k++) {
			struct hfinding *f = &LG_VEC_AT(&h->found, struct hfinding, k);
			if (f->status == F_BLOCK && fpset_has(&old, f->fingerprint))
				f->status = incoming ? F_CARRIED : F_PREEXISTING;
		}
	}
	lg_vec_release(&old.v);
}

/* Offsets of findings in different archive members are not comparable. */
static int same_part(const struct hfinding *a, const struct hfinding *b)
{
	return a->member == b->member || (a->member && b->member && !strcmp(a->member, b->member));
}

/*
 * The findings of one blob that apply at one of its names, [from, end of
 * h->found), settled among themselves: the scanner leaves rules with
 * different path scopes unsettled when a blob has several names. They are
 * in document order, and a secret is at most LG_MATCH_MAX bytes long, so
 * only near neighbours can settle one another.
 */
static int settle_at_path(struct hook *h, size_t from)
{
	struct hfinding *v = h->found.v;
	size_t n = h->found.n, out = from;
	unsigned char *drop;

	if (n - from < 2)
		return LG_OK;
	if (!(drop = calloc(n - from, 1)))
		return LG_ENOMEM;
	for (size_t i = from; i < n; i++) {
		for (size_t k = i; k-- > from && !drop[i - from] && v[k].start + LG_MATCH_MAX > v[i].start;)
			drop[i - from] = same_part(&v[k], &v[i]) &&
					 lg_finding_settles(v[k].rule, v[k].start, v[k].end, v[i].rule, v[i].start, v[i].end);
		for (size_t k = i + 1; k < n && !drop[i - from] && v[k].start < v[i].end; k++)
			drop[i - from] = same_part(&v[k], &v[i]) &&
					 lg_finding_settles(v[k].rule, v[k].start, v[k].end, v[i].rule, v[i].start, v[i].end);
	}
	for (size_t i = from; i < n; i++)
		if (!drop[i - from])
			v[out++] = v[i];
	h->found.n = out;
	free(drop);
	return LG_OK;
}

int hook_attribute(struct hook *h)
{
	size_t nb = h->push.blobs.n, *first = NULL, *count = NULL;
	int err = LG_OK;

	first = calloc(nb + 1, sizeof(*first));
	count = calloc(nb + 1, sizeof(*count));
	if (!first || !count) {
		err = too_many(h, LG_ENOMEM);
		goto out;
	}
	if (h->blobfound.n)
		qsort(h->blobfound.v, h->blobfound.n, sizeof(struct hfinding), cmp_blob);
	for (size_t i = h->blobfound.n; i-- > 0;) {
		const struct hfinding *f = &LG_VEC_AT(&h->blobfound, struct hfinding, i);
		first[f->blob] = i;
		count[f->blob]++;
	}
	for (size_t i = 0; i < h->push.items.n && !h->cancel; i++) {
		struct push_item *it = PUSH_ITEM(&h->push, i);
		struct path_ctx m = {h, i};
		size_t before = h->found.n;

		if (it->kind != ITEM_BLOB)
			continue;
		for (size_t k = first[it->blob]; k < first[it->blob] + count[it->blob]; k++) {
			struct hfinding x = LG_VEC_AT(&h->blobfound, struct hfinding, k);
			/* A member's path scope was matched against the member's own name. */
			int applies = x.member ? 1 : lg_scanner_applies(h->scanner, x.rule, it->path);
			if (applies < 0) {
				hook_failed(h, applies, 0, "the path rules could not be matched against %s", it->path);
				continue;
			}
			if (!applies)
				continue;
			x.item = i;
			x.status = F_BLOCK;
			if ((err = lg_vec_push(&h->found, &x))) {
				too_many(h, err);
				goto out;
			}
		}
		if ((err = settle_at_path(h, before))) {
			too_many(h, err);
			goto out;
		}
		err = lg_scan_buffer(h->scanner, it->path, "", 0, on_path_finding, &m);
		if (err) {
			if (h->found.n >= HOOK_FINDINGS_MAX || err == LG_ENOMEM) {
				too_many(h, err);
				goto out;
			}
			hook_failed(h, err, 0, "the path rules could not be matched against %s: %s", it->path,
				    lg_scanner_error(h->scanner));
			err = LG_OK;
		}
		if (h->found.n > before)
			compare_old(h, it, before, first, count);
	}
	/* An existing ref keeps its name: the server publishes it already. */
	for (size_t k = 0; k < h->found.n; k++) {
		struct hfinding *f = &LG_VEC_AT(&h->found, struct hfinding, k);
		const struct push_item *it = PUSH_ITEM(&h->push, f->item);
		if (it->kind == ITEM_REF && !PUSH_UPDATE(&h->push, it->update)->is_create)
			f->status = F_PREEXISTING;
	}
	if (h->cancel) {
		hook_failed(h, LG_ECANCELED, 1, "the check did not finish within %d s (leakgate.timeout)",
			    h->cfg.timeout);
		err = LG_ECANCELED;
	}
out:
	free(first);
	free(count);
	return err;
}

void hook_grade(struct hook *h)
{
	for (size_t i = 0; i < h->found.n; i++) {
		struct hfinding *f = &LG_VEC_AT(&h->found, struct hfinding, i);
		const struct push_item *it;
		if (f->status != F_BLOCK)
			continue;
		it = hook_item(h, f);
		/* A commit or tag message has no path, hence no test or documentation context. */
		f->context = (unsigned char)(it && it->kind == ITEM_BLOB ? lg_path_context(it->path) : LG_CTX_NONE);
		if (!policy_blocks((int)lg_rule_confidence(f->rule), f->context != LG_CTX_NONE,
				   (enum policy_block)h->cfg.block))
			f->status = F_WARN;
	}
}

int hook_exempt(struct hook *h)
{
	struct lg_exemption *ex = NULL;
	size_t nex = 0;
	int err, any = 0;

	for (size_t i = 0; i < h->found.n; i++)
		any |= LG_VEC_AT(&h->found, struct hfinding, i).status == F_BLOCK;
	if (!any || !h->store)
		return LG_OK; /* without the store, its failure is recorded already */
	err = lg_store_exemptions_active(h->store, hook_now_ms(), &ex, &nex);
	if (err) {
		hook_failed(h, err, err == LG_EBUSY, "cannot read the exemptions from the database%s",
			    err == LG_EBUSY ? " (locked)" : "");
		return LG_OK;
	}
	for (size_t i = 0; i < h->found.n; i++) {
		struct hfinding *f = &LG_VEC_AT(&h->found, struct hfinding, i);
		const struct lg_exemption *e;
		if (f->status != F_BLOCK)
			continue;
		e = lg_exemption_match(ex, nex, h->repo_name, f->fingerprint, lg_rule_id(f->rule), hook_where(h, f));
		if (e) {
			f->status = F_EXEMPT;
			f->exemption = e->id;
		}
	}
	lg_exemptions_free(ex, nex);
	return LG_OK;
}
