/*
 * Scan reports: findings collected during a scan, written at the end as
 * text for people, JSON, or SARIF 2.1.0.
 */
#ifndef LG_REPORT_H
#define LG_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "ruleset.h"
#include "scanner.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_SARIF };

struct report;

/* NULL when out of memory. rs must outlive the report. */
struct report *report_new(enum report_format fmt, const struct lg_ruleset *rs);
void report_free(struct report *r);
/* Keep a copy of f; LG_ENOMEM or LG_ETOOLARGE when it cannot be held. */
int report_finding(struct report *r, const struct lg_finding *f);

/*
 * Where in a repository's history a finding lies (leakgate scan --git):
 * the object scanned, the commit that introduced it (NULL for a tag or an
 * unreachable object), and the refs that contain that commit (at most
 * nrefs names kept, refs_more not named). The strings are copied.
 */
struct report_origin {
	const char *repository; /* as given on the command line */
	const char *kind;   /* "blob", "commit" or "tag" */
	const char *object; /* its id, in hex */
	const char *commit; /* hex, or NULL */
	const char *const *refs;
	size_t nrefs, refs_more;
	const char *const *also; /* the blob's other paths in the history (also_more not named) */
	size_t nalso, also_more;
	int unreachable;    /* found only in the object database (--all-objects) */
};
/* report_finding with the finding's origin; o may be NULL. */
int report_finding_at(struct report *r, const struct lg_finding *f, const struct report_origin *o);
/*
 * The report is of histories: the text counts objects, not files, and
 * names each finding's repository when it covers several.
 */
void report_set_history(struct report *r, int several);
void report_error(struct report *r, const char *path, const char *msg);
void report_scanned(struct report *r, uint64_t bytes);
/* n documents of bytes in all. */
void report_scanned_n(struct report *r, uint64_t n, uint64_t bytes);
void report_skipped(struct report *r, const char *path, const char *why);
size_t report_count(const struct report *r);
size_t report_errors(const struct report *r);
/* Write the report to out; 0, or -1 if writing failed. */
int report_write(struct report *r, FILE *out);

#endif
