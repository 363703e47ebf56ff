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
void report_error(struct report *r, const char *path, const char *msg);
void report_scanned(struct report *r, uint64_t bytes);
void report_skipped(struct report *r, const char *path, const char *why);
size_t report_count(const struct report *r);
size_t report_errors(const struct report *r);
/* Write the report to out; 0, or -1 if writing failed. */
int report_write(struct report *r, FILE *out);

#endif
