/*
 * What a push adds: the ref updates git gives the hook, and from them the
 * new commits, the blobs they add or change (with the previous version at
 * the same path), the commit and annotated tag objects themselves (their
 * headers and messages), and the ref names.
 */
#ifndef LG_PUSH_H
#define LG_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "lg.h"
#include "vec.h"

/* Bounds on what git may hand the hook; over them the input is refused. */
#define PUSH_STDIN_MAX (16u << 20)
#define PUSH_UPDATES_MAX 100000
#define PUSH_REFNAME_MAX 4096
/*
 * Bounds on what one push may add before the check gives up with
 * LG_ETOOLARGE (a failure, so leakgate.failMode decides): far beyond real
 * pushes (the whole history of a large project is a few million items),
 * and small enough that the hook's memory stays in the low gigabytes.
 */
#define PUSH_COMMITS_MAX (8u << 20)
#define PUSH_ITEMS_MAX (32u << 20)
#define PUSH_BLOBS_MAX (16u << 20)

struct push_update {
	git_oid old_id, new_id;
	int is_create, is_delete;
	char *ref;
};

struct push_commit {
	git_oid id;
	char *summary;   /* first line of the message as written (any bytes), for people */
	int is_root;
	int is_tip;      /* the new value of some updated ref */
	size_t update;   /* an update whose new id reaches it (SIZE_MAX: none found) */
	git_oid *parents;
	size_t nparents;
};

enum push_item_kind {
	ITEM_BLOB,   /* a file the commit adds or changes */
	ITEM_COMMIT, /* the commit object: headers (author, committer, ...) and message */
	ITEM_TAG,    /* an annotated tag object: headers and message */
	ITEM_REF,    /* the name of a ref the push creates or moves */
};

struct push_item {
	enum push_item_kind kind;
	git_oid id;     /* blob, commit or tag; for a ref, its new id */
	git_oid old_id; /* blob at the same path in the first parent; zero if none */
	char *path;     /* blob path in the tree; ref name for tags and refs */
	size_t commit;  /* index into commits, or SIZE_MAX for tags and refs */
	size_t blob;    /* index into the unique blobs (ITEM_BLOB) */
	size_t update;  /* the update it belongs to (tags and refs), else SIZE_MAX */
};

struct push {
	git_repository *repo;
	git_odb *quarantine;  /* the incoming objects alone; NULL without quarantine */
	struct lg_vec updates; /* struct push_update */
	struct lg_vec commits; /* struct push_commit */
	struct lg_vec items;   /* struct push_item */
	struct lg_vec blobs;   /* git_oid: unique blob ids, in the order first seen */
	/* open-addressing set over blobs: index + 1, 0 empty */
	size_t *blobset;
	size_t blobset_cap;
	volatile int *cancel; /* set from outside to stop a long walk */
};

#define PUSH_UPDATE(p, i) (&LG_VEC_AT(&(p)->updates, struct push_update, i))
#define PUSH_COMMIT(p, i) (&LG_VEC_AT(&(p)->commits, struct push_commit, i))
#define PUSH_ITEM(p, i) (&LG_VEC_AT(&(p)->items, struct push_item, i))
#define PUSH_BLOB(p, i) (&LG_VEC_AT(&(p)->blobs, git_oid, i))

void push_init(struct push *p);
void push_release(struct push *p);

/*
 * Parse the hook's standard input (every "<old> <new> <ref>" line).
 * Errors name the line. hexlen is 40, or 64 for SHA-256 ids (reported in
 * *sha256 so that the caller can say why it cannot go on).
 */
int push_parse_updates(struct push *p, const char *input, size_t len, int *sha256,
		       struct lg_diag *d);

/*
 * Find everything the updates add that the repository's refs do not
 * already reach. repo must see the quarantined objects; quarantine_dir
 * (may be NULL) tells which objects are new. Returns 0, LG_ECANCELED when
 * *cancel was set, LG_ETOOLARGE past the bounds above, or another error
 * (described in d).
 */
int push_walk(struct push *p, git_repository *repo, const char *quarantine_dir,
	      struct lg_diag *d);

/*
 * Put the unique blobs in the order their data lies in the quarantine's
 * packs (loose objects last): reading a pack front to back is several
 * times faster than in hash order (DESIGN.md), because each delta's base
 * was usually just read. Item blob indexes are remapped to match.
 */
int push_order_blobs(struct push *p, const char *quarantine_dir);

/* 1 if id is among the incoming (quarantined) objects; 1 without quarantine. */
int push_is_incoming(const struct push *p, const git_oid *id);

/*
 * One push option: 1 if it is leakgate.bypass (with *reason, caller frees,
 * the reason with blanks trimmed and cut to BYPASS_REASON_MAX bytes, or NULL
 * when there is none), 0 for any other option (or NULL), LG_ENOMEM.
 */
#define PUSH_BYPASS_OPTION "leakgate.bypass"
#define PUSH_BYPASS_REASON_MAX 500
int push_bypass_option(const char *opt, char **reason);

/* Index of a blob among the push's unique blobs, or SIZE_MAX (before push_order_blobs only). */
size_t push_find_blob(const struct push *p, const git_oid *id);

/*
 * A commit or tag object's raw text: where the headers end. *body gets the
 * offset of the message (len when there is none) and *header_lines the
 * number of header lines before it. Any bytes are accepted.
 */
void push_split_object(const char *raw, size_t len, size_t *body, size_t *header_lines);

#endif
