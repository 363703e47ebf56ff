/*
 * Result code names and the diagnostics list. Entries own copies of their
 * strings so callers can pass temporaries.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg.h"
#include "vec.h"

const char *lg_strerror(int code)
{
	switch (code) {
	case LG_OK: return "success";
	case LG_ERROR: return "failed";
	case LG_ENOMEM: return "out of memory";
	case LG_EINVALID: return "invalid input";
	case LG_ENOTFOUND: return "not found";
	case LG_ETOOLARGE: return "too large";
	case LG_EIO: return "input/output error";
	case LG_EEXISTS: return "already exists";
	case LG_EBUSY: return "busy";
	case LG_ELIMIT: return "limit reached";
	case LG_ECANCELED: return "cancelled";
	case LG_ETIMEDOUT: return "timed out";
	}
	return "unknown error";
}

void lg_diag_init(struct lg_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void lg_diag_release(struct lg_diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].rule_id);
		free(d->v[i].field);
		free(d->v[i].message);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void lg_diag_add(struct lg_diag *d, const char *file, const char *rule_id,
		 const char *field, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!d)
		return;
	if (d->n >= LG_DIAG_MAX) {
		d->dropped++;
		return;
	}
	/* Out of memory, the problem is still counted (dropped), never lost without a trace. */
	if (lg_array_reserve((void **)&d->v, &d->cap, d->n + 1, sizeof(*d->v), LG_DIAG_MAX)) {
		d->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->v[d->n].file = dup_or_null(file);
	d->v[d->n].rule_id = dup_or_null(rule_id);
	d->v[d->n].field = dup_or_null(field);
	d->v[d->n].message = strdup(msg);
	d->n++;
}

void lg_diag_format(const struct lg_diag_entry *e, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (e->file)
		n += snprintf(buf + n, len - (size_t)n, "%s: ", e->file);
	if (n >= 0 && (size_t)n < len && e->rule_id)
		n += snprintf(buf + n, len - (size_t)n, "rule '%s': ", e->rule_id);
	if (n >= 0 && (size_t)n < len && e->field)
		n += snprintf(buf + n, len - (size_t)n, "field '%s': ", e->field);
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s", e->message ? e->message : "(no detail)");
}
