/*
 * Scanning documents (a file, a blob, a commit message) with a compiled
 * rule set. A scanner belongs to one thread; create one per thread over a
 * shared rule set.
 */
#ifndef LG_SCANNER_H
#define LG_SCANNER_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"
#include "ruleset.h"

struct lg_scanner;

/*
 * A confirmed finding. Offsets and positions are of the secret (the rule's
 * secret group) within the document; line and column count from 1, the
 * column in bytes. A path finding (the file's name is the problem) has
 * line 0. The finding and its strings live only during the callback.
 */
struct lg_finding {
	const struct lg_rule *rule;
	const char *path; /* document path as given, or NULL */
	/*
	 * Set by lg_scan_deep (unpack.h), NULL otherwise: the archive member
	 * that holds the secret ("lib/app.jar!conf/app.yml"), and the
	 * encodings it was found under ("base64").
	 */
	const char *member;
	const char *layer;
	uint64_t start, end;
	uint64_t line, column;
	uint64_t end_line, end_column;
	/* The same columns counted in characters (UTF-8 code points), for SARIF. */
	uint64_t column_chars, end_column_chars;
	char preview[LG_PREVIEW_MAX];
	char fingerprint[LG_FP_HEX + 1];
};

/*
 * Return 0 to go on; a negative lg code ends the document's scan, and the
 * scan returns that code (a caller that can hold no more findings says
 * LG_ETOOLARGE). Every finding the rules confirm reaches the callback:
 * there is no cap on how many a document may have.
 */
typedef int (*lg_finding_cb)(const struct lg_finding *f, void *ctx);

/* A match may be this long at most; longer ones are cut (docs/rule-format.md). */
#define LG_MATCH_MAX 2048

/*
 * A scanner over rs (compiled; it must outlive the scanner). key gives
 * the fingerprints. Caller frees with lg_scanner_free().
 */
int lg_scanner_new(struct lg_scanner **out, struct lg_ruleset *rs, const struct lg_key *key);
void lg_scanner_free(struct lg_scanner *s);

/*
 * Streaming: begin a document (path may be NULL; path rules then do not
 * apply), feed it in pieces of any size, end it. Memory stays bounded
 * whatever the document's size or number of findings.
 *
 * Every call returns 0 or a negative code, and a document whose scan did
 * not complete always ends in one: LG_ENOMEM, LG_ELIMIT (a rule's
 * confirmation hit PCRE2's match or depth limit), LG_ECANCELED (the cancel
 * flag), LG_ERROR (Hyperscan or PCRE2 failed), or the callback's code.
 * lg_scanner_error() then says what happened, naming the rule and line.
 * Once a call has failed the rest of the document is not scanned.
 */
int lg_scan_begin(struct lg_scanner *s, const char *path, lg_finding_cb cb, void *ctx);
/*
 * A document with several names (a blob the push adds under several
 * paths): a path-scoped rule applies when any of them matches it; path
 * rules without content report each matching name. Findings carry
 * paths[0]; lg_scanner_applies() tells which names a finding's rule
 * covers.
 */
int lg_scan_begin_paths(struct lg_scanner *s, const char *const *paths, size_t npaths,
			lg_finding_cb cb, void *ctx);
int lg_scan_feed(struct lg_scanner *s, const void *data, size_t len);
int lg_scan_end(struct lg_scanner *s);
/* The same for a document held whole in memory. */
int lg_scan_buffer(struct lg_scanner *s, const char *path, const void *data, size_t len,
		   lg_finding_cb cb, void *ctx);
int lg_scan_buffer_paths(struct lg_scanner *s, const char *const *paths, size_t npaths,
			 const void *data, size_t len, lg_finding_cb cb, void *ctx);

/* What stopped the last document's scan, in one line; "" when it completed. */
const char *lg_scanner_error(const struct lg_scanner *s);
/*
 * For layers over the scanner (unpack.c): the last document's scan did
 * not complete, for this reason (replaces the one kept).
 */
void lg_scanner_set_error(struct lg_scanner *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Whether an earlier finding of rule o at bytes [os, oe) settles a finding
 * of rule f at [fs, fe) found in the same document: the secret is reported
 * once, under the most specific rule (a generic rule yields to a specific
 * one that found overlapping bytes; of rules that found the same bytes,
 * the first in the rule set's order). The scanner settles a document's
 * findings itself; with several names it leaves rules with different path
 * scopes unsettled, for the caller to settle at each name.
 */
int lg_finding_settles(const struct lg_rule *o, uint64_t os, uint64_t oe, const struct lg_rule *f, uint64_t fs,
		       uint64_t fe);

/*
 * Whether rule r applies to a file at path: 1 when r has no path pattern
 * or its path pattern matches; 0 when not; negative on an error.
 */
int lg_scanner_applies(struct lg_scanner *s, const struct lg_rule *r, const char *path);

/*
 * By default a secret that two rules extract (the same bytes) is reported
 * once; self-tests turn that off to see every rule's own result.
 */
void lg_scanner_set_dedupe(struct lg_scanner *s, int on);

/*
 * Content rules below this confidence are not confirmed or reported in the
 * documents scanned from now on (default LG_CONF_LOW: all); path rules
 * without a content pattern still are. Binary files are scanned at
 * LG_CONF_HIGH: structured tokens only.
 */
void lg_scanner_set_min_confidence(struct lg_scanner *s, enum lg_confidence c);

/*
 * PCRE2's match limit for the confirmation of one candidate (default
 * LG_PCRE2_MATCH_LIMIT); past it the scan ends with LG_ELIMIT.
 */
#define LG_PCRE2_MATCH_LIMIT 1000000
void lg_scanner_set_match_limit(struct lg_scanner *s, uint32_t limit);

/*
 * A flag another thread may set to stop scans early (a time budget); the
 * scan in progress then ends with LG_ECANCELED as soon as it notices.
 */
void lg_scanner_set_cancel(struct lg_scanner *s, volatile int *flag);
/*
 * A time budget, from now, for the scans that follow (several documents
 * of one lg_scan_deep included): past it a scan ends with LG_ECANCELED as
 * with the cancel flag. 0 or less: none.
 */
void lg_scanner_set_time_budget(struct lg_scanner *s, int64_t ms);

/* 1 if the data looks binary (a NUL byte in the first 8000 bytes, as git decides). */
int lg_looks_binary(const void *data, size_t len);

#endif
