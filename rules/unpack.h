/*
 * Scanning a document with what it contains: archives pushed as files
 * (zip and its kinds: jar, war, whl, apk, nupkg, docx; tar; gzip, bzip2
 * and xz, alone or around a tar; 7z) are opened with libarchive and their
 * members scanned, nested up to a depth; text is also scanned in its
 * decoded views (decode.h: base64, percent-encoding, escaped and
 * concatenated string literals), two layers deep. This is what the hook,
 * `leakgate scan` and the API scan for every file; lg_scan_buffer_paths
 * scans the bytes alone.
 *
 * A finding in a member names it (member: "lib/app.jar!config/app.yml",
 * the chain below the document; its line is the member's), and one in a
 * decoded view names the encodings (layer: "base64", "escaped string >
 * base64"; its line and column are where the encoded text starts in the
 * document). Every finding's start and end are offsets in the document or
 * member that holds it.
 *
 * Bounds: an archive (its nested ones included) inflates to at most
 * archive_max bytes and has at most archive_members members, or the scan
 * fails with LG_ELIMIT (a zip bomb is not checked whole; the caller's
 * failure policy decides); a member over member_max bytes is not scanned
 * and is noted, as a file over the size limit is. Archives deeper than
 * archive_depth, damaged archives and encrypted members are noted and
 * scanned as binary files (structured tokens only).
 */
#ifndef LG_UNPACK_H
#define LG_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "scanner.h"

struct lg_unpack_opts {
	unsigned archive_depth;   /* archives within archives that are opened; 0: none */
	uint64_t archive_max;     /* bytes one archive inflates to, nested ones included */
	uint64_t archive_members; /* members of one archive, nested ones included */
	uint64_t member_max;      /* larger members are not scanned (noted) */
	int decode;               /* scan the decoded views of text */
	int scan_binary;          /* binary documents with every rule, not only high-confidence ones */
};

#define LG_ARCHIVE_DEPTH_DEFAULT 2
#define LG_ARCHIVE_DEPTH_MAX 8
#define LG_ARCHIVE_MAX_DEFAULT ((uint64_t)256 << 20)
#define LG_ARCHIVE_MEMBERS_DEFAULT 100000
#define LG_MEMBER_MAX_DEFAULT ((uint64_t)10 << 20)

void lg_unpack_defaults(struct lg_unpack_opts *o);

/* What a document's scan could not open; the scan itself completed. */
enum {
	LG_NOTE_DAMAGED = 1,      /* an archive that could not be read to its end */
	LG_NOTE_ENCRYPTED = 2,    /* encrypted members: cannot be read */
	LG_NOTE_DEEP = 4,         /* an archive nested deeper than archive_depth */
	LG_NOTE_MEMBER_LARGE = 8, /* a member over member_max */
};

struct lg_unpack_result {
	unsigned notes;    /* LG_NOTE_* */
	int binary;        /* the document is binary (scanned for high-confidence rules only) */
	int archive;       /* the document is an archive that was opened */
	uint64_t members;  /* archive members scanned */
	uint64_t inflated; /* bytes inflated from archives */
	uint64_t decoded;  /* bytes of decoded views scanned */
	char note[300];    /* the first note, in words (names the member) */
};

/*
 * Scans data[0, len) under its names (as lg_scan_buffer_paths, whose
 * contract it keeps: 0 or a negative code, lg_scanner_error(s) saying
 * why, and what was found before a failure delivered), with its archive
 * members and decoded views. Findings reach cb with member and layer set
 * as above. res (required) is filled in either case. The scanner's
 * minimum confidence is set for each part (binary or not) and left at
 * LG_CONF_LOW.
 */
int lg_scan_deep(struct lg_scanner *s, const struct lg_unpack_opts *o, const char *const *paths, size_t npaths,
		 const void *data, size_t len, lg_finding_cb cb, void *ctx, struct lg_unpack_result *res);

/* Names of the notes set in notes, comma-separated ("archive damaged, member too large"); into buf. */
const char *lg_unpack_notes_name(unsigned notes, char *buf, size_t len);

/* 1 if data starts like an archive or compressed stream that lg_scan_deep opens. */
int lg_looks_archive(const void *data, size_t len);

#endif
