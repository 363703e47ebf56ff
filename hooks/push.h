/*
 * What a push adds: the ref updates git gives the hook, and from them the
 * new commits, the blobs they add or change (with the previous version at
 * the same path), commit messages and annotated tag messages.
 */
#ifndef LG_PUSH_H
#define LG_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "lg.h"

/* Bounds on what git may hand the hook; over them the input is refused. */
#define PUSH_STDIN_MAX (16u << 20)
#define PUSH_UPDATES_MAX 100000
#define PUSH_REFNAME_MAX 4096

struct push_update {
	git_oid old_id, new_id;
	int is_create, is_delete;
	char *ref;
};

struct push_commit {
	git_oid id;
	char *summary;   /* first line of the message, for people */
	int is_root;
	int is_tip;      /* the new value of some updated ref */
	const char *ref; /* a ref that the push moves to (a descendant of) it */
};

enum push_item_kind { ITEM_BLOB, ITEM_COMMIT_MESSAGE, ITEM_TAG_MESSAGE };

struct push_item {
	enum push_item_kind kind;
	git_oid id;     /* blob, commit or tag */
	git_oid old_id; /* blob at the same path in the first parent; zero if none */
	char *path;     /* blob path in the tree; tag name for tags */
	size_t commit;  /* index into commits, or SIZE_MAX for tags */
	size_t blob;    /* index into the unique blobs (ITEM_BLOB) */
};

struct push {
	git_repository *repo;
	git_odb *quarantine; /* the incoming objects alone; NULL without quarantine */
	struct push_update *updates;
	size_t nupdates;
	struct push_commit *commits;
	size_t ncommits, capcommits;
	struct push_item *items;
	size_t nitems, capitems;
	git_oid *blobs; /* unique blob ids, in the order first seen */
	size_t nblobs, capblobs;
	/* open-addressing set over blobs: index + 1, 0 empty */
	size_t *blobset;
	size_t blobset_cap;
	volatile int *cancel; /* set from outside to stop a long walk */
};

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
 * (may be NULL) tells which objects are new.
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

void push_release(struct push *p);

#endif
