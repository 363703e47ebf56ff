/*
 * Pack order: where each object's data lies in a repository's packs, so
 * that objects can be read front to back. Reading a pack in that order is
 * several times faster than in hash order (DESIGN.md: curl's history, 7.9
 * s against 26.4 s), because each delta's base was usually just read.
 * Shared by the pre-receive hook (the quarantine's packs) and `leakgate
 * scan --git` (the whole repository's).
 */
#ifndef LG_PACKORDER_H
#define LG_PACKORDER_H

#include <stdint.h>

#include <git2.h>

struct lg_packorder;

/*
 * Map the version 2 pack indexes (SHA-1) in objects_dir/pack, at most
 * max_packs of them (the rest count as loose). A folder without packs,
 * or an index that cannot be used, is no error: those objects just sort
 * last. LG_OK or LG_ENOMEM; the caller frees *out with
 * lg_packorder_free().
 */
int lg_packorder_open(struct lg_packorder **out, const char *objects_dir, size_t max_packs);
void lg_packorder_free(struct lg_packorder *po);

/* A sort key for id: pack number << 40 | offset, or UINT64_MAX when not in a mapped pack. */
uint64_t lg_packorder_key(const struct lg_packorder *po, const git_oid *id);

#endif
