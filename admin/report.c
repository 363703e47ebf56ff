/*
 * Report writers. Text is what a person reads after a scan: where, what,
 * the redacted value and its fingerprint, then what to do, once per kind of
 * secret. JSON and SARIF are built with jansson.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report.h"

struct rfinding {
	const struct lg_rule *rule;
	char *path;
	uint64_t start, end, line, column, end_line, end_column, column_chars, end_column_chars;
	char preview[LG_PREVIEW_MAX];
	char fingerprint[LG_FP_HEX + 1];
};

struct rnote {
	char *path;
	char *msg;
};

struct report {
	enum report_format fmt;
	const struct lg_ruleset *rs;
	struct rfinding *f;
	size_t n, cap;
	struct rnote *errs, *skips;
	size_t nerrs, nskips;
	uint64_t files, bytes;
};

struct report *report_new(enum report_format fmt, const struct lg_ruleset *rs)
{
	struct report *r = calloc(1, sizeof(*r));

	if (r) {
		r->fmt = fmt;
		r->rs = rs;
	}
	return r;
}

static void notes_free(struct rnote *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].msg);
	}
	free(v);
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i].path);
	free(r->f);
	notes_free(r->errs, r->nerrs);
	notes_free(r->skips, r->nskips);
	free(r);
}

void report_finding(struct report *r, const struct lg_finding *f)
{
	struct rfinding *x;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct rfinding *v = realloc(r->f, cap * sizeof(*v));
		if (!v)
			return;
		r->f = v;
		r->cap = cap;
	}
	x = &r->f[r->n++];
	x->rule = f->rule;
	x->path = strdup(f->path ? f->path : "-");
	x->start = f->start;
	x->end = f->end;
	x->line = f->line;
	x->column = f->column;
	x->end_line = f->end_line;
	x->end_column = f->end_column;
	x->column_chars = f->column_chars;
	x->end_column_chars = f->end_column_chars;
	memcpy(x->preview, f->preview, sizeof(x->preview));
	memcpy(x->fingerprint, f->fingerprint, sizeof(x->fingerprint));
}

static void add_note(struct rnote **v, size_t *n, const char *path, const char *msg)
{
	struct rnote *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return;
	*v = nv;
	nv[*n].path = strdup(path ? path : "-");
	nv[*n].msg = strdup(msg);
	(*n)++;
}

void report_error(struct report *r, const char *path, const char *msg)
{
	add_note(&r->errs, &r->nerrs, path, msg);
}

void report_skipped(struct report *r, const char *path, const char *why)
{
	add_note(&r->skips, &r->nskips, path, why);
}

void report_scanned(struct report *r, uint64_t bytes)
{
	r->files++;
	r->bytes += bytes;
}

size_t report_count(const struct report *r)
{
	return r->n;
}

size_t report_errors(const struct report *r)
{
	return r->nerrs;
}

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 10u << 20)
		snprintf(buf, len, "%.1f MB", (double)b / 1e6);
	else if (b >= 10000)
		snprintf(buf, len, "%.1f kB", (double)b / 1e3);
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)b);
}

static int write_text(struct report *r, FILE *out)
{
	char sz[32];
	size_t nfiles = 0;

	for (size_t i = 0; i < r->n; i++)
		if (i == 0 || strcmp(r->f[i].path, r->f[i - 1].path))
			nfiles++;
	human_bytes(r->bytes, sz, sizeof(sz));
	for (size_t i = 0; i < r->n; i++) {
		const struct rfinding *f = &r->f[i];
		if (f->line)
			fprintf(out, "%s:%llu:%llu: %s [%s]\n", f->path, (unsigned long long)f->line,
				(unsigned long long)f->column, lg_rule_name(f->rule),
				lg_severity_name(lg_rule_severity(f->rule)));
		else
			fprintf(out, "%s: %s [%s] (the file itself)\n", f->path, lg_rule_name(f->rule),
				lg_severity_name(lg_rule_severity(f->rule)));
		fprintf(out, "    secret       %s\n", f->preview);
		fprintf(out, "    fingerprint  %s\n", f->fingerprint);
		fprintf(out, "    rule         %s\n\n", lg_rule_id(f->rule));
	}
	if (r->n) {
		fprintf(out, "What to do:\n");
		/* Once per rule, in the order the rules first appeared. */
		for (size_t i = 0; i < r->n; i++) {
			int seen = 0;
			for (size_t j = 0; j < i && !seen; j++)
				seen = r->f[j].rule == r->f[i].rule;
			if (!seen)
				fprintf(out, "  %s: %s\n", lg_rule_name(r->f[i].rule),
					lg_rule_remediation(r->f[i].rule));
		}
		fprintf(out, "  Then remove the secret from the files; if it was committed, "
			     "rewrite the commits before pushing.\n\n");
	}
	for (size_t i = 0; i < r->nskips; i++)
		fprintf(out, "skipped %s: %s\n", r->skips[i].path, r->skips[i].msg);
	for (size_t i = 0; i < r->nerrs; i++)
		fprintf(out, "error: %s: %s\n", r->errs[i].path, r->errs[i].msg);
	fprintf(out, "leakgate: %zu secret%s found in %zu file%s (%llu file%s scanned, %s",
		r->n, r->n == 1 ? "" : "s", nfiles, nfiles == 1 ? "" : "s",
		(unsigned long long)r->files, r->files == 1 ? "" : "s", sz);
	if (r->nskips)
		fprintf(out, ", %zu skipped", r->nskips);
	if (r->nerrs)
		fprintf(out, ", %zu error%s", r->nerrs, r->nerrs == 1 ? "" : "s");
	fprintf(out, ")\n");
	return ferror(out) ? -1 : 0;
}

static json_t *notes_json(const struct rnote *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "path", v[i].path, "message", v[i].msg));
	return a;
}

static json_t *finding_json(const struct rfinding *f)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "rule_id", lg_rule_id(f->rule),
			      "rule_name", lg_rule_name(f->rule), "severity",
			      lg_severity_name(lg_rule_severity(f->rule)), "path", f->path, "preview",
			      f->preview, "fingerprint", f->fingerprint);

	if (f->line) {
		json_object_set_new(o, "line", json_integer((json_int_t)f->line));
		json_object_set_new(o, "column", json_integer((json_int_t)f->column));
		json_object_set_new(o, "end_line", json_integer((json_int_t)f->end_line));
		json_object_set_new(o, "end_column", json_integer((json_int_t)f->end_column));
		json_object_set_new(o, "offset", json_integer((json_int_t)f->start));
		json_object_set_new(o, "length", json_integer((json_int_t)(f->end - f->start)));
	} else {
		json_object_set_new(o, "line", json_null());
		json_object_set_new(o, "kind", json_string("path"));
	}
	json_object_set_new(o, "remediation", json_string(lg_rule_remediation(f->rule)));
	return o;
}

static json_t *build_json(struct report *r)
{
	json_t *findings = json_array();

	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(findings, finding_json(&r->f[i]));
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I}}", "tool",
			 "leakgate", "version", PACKAGE_VERSION, "ruleset", lg_ruleset_hash(r->rs),
			 "findings", findings, "errors", notes_json(r->errs, r->nerrs), "skipped",
			 notes_json(r->skips, r->nskips), "summary", "findings", (json_int_t)r->n,
			 "files_scanned", (json_int_t)r->files, "bytes_scanned",
			 (json_int_t)r->bytes, "skipped", (json_int_t)r->nskips, "errors",
			 (json_int_t)r->nerrs);
}

/* A relative path as a URI reference: percent-encode all but unreserved and '/'. */
static char *path_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	char *u = malloc(3 * n + 1), *o = u;

	if (!u)
		return NULL;
	if (path[0] == '.' && path[1] == '/')
		path += 2;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return u;
}

static const char *sarif_level(enum lg_severity s)
{
	return s >= LG_SEV_HIGH ? "error" : s == LG_SEV_MEDIUM ? "warning" : "note";
}

static json_t *build_sarif(struct report *r)
{
	json_t *rules = json_array(), *results = json_array();
	size_t nrules = lg_ruleset_count(r->rs);
	long *rule_index = calloc(nrules ? nrules : 1, sizeof(long));
	long next = 0;

	for (size_t i = 0; rule_index && i < r->n; i++) {
		const struct rfinding *f = &r->f[i];
		const struct lg_rule *rule = f->rule;
		size_t ri = lg_rule_index(rule);
		json_t *res, *loc;
		char *msg = NULL;
		char *uri = path_uri(f->path);

		if (!rule_index[ri]) {
			rule_index[ri] = ++next;
			json_array_append_new(
				rules, json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}",
						 "id", lg_rule_id(rule),
						 "shortDescription", "text", lg_rule_name(rule),
						 "fullDescription", "text", lg_rule_description(rule),
						 "help", "text", lg_rule_remediation(rule),
						 "defaultConfiguration", "level",
						 sarif_level(lg_rule_severity(rule)), "properties",
						 "severity", lg_severity_name(lg_rule_severity(rule))));
		}
		/* Built whole: cutting it could split a UTF-8 character and lose the result. */
		if (asprintf(&msg, "%s found (%s). %s", lg_rule_name(rule), f->preview,
			     lg_rule_remediation(rule)) < 0)
			msg = NULL;
		loc = json_pack("{s:{s:s}}", "artifactLocation", "uri", uri ? uri : "-");
		if (f->line)
			json_object_set_new(loc, "region",
					    json_pack("{s:I, s:I, s:I, s:I}", "startLine",
						      (json_int_t)f->line, "startColumn",
						      (json_int_t)f->column_chars, "endLine",
						      (json_int_t)f->end_line, "endColumn",
						      (json_int_t)f->end_column_chars + 1));
		res = json_pack("{s:s, s:I, s:s, s:{s:s}, s:[{s:o}], s:{s:s}}", "ruleId",
				lg_rule_id(rule), "ruleIndex", (json_int_t)(rule_index[ri] - 1), "level",
				sarif_level(lg_rule_severity(rule)), "message", "text", msg ? msg : lg_rule_name(rule), "locations",
				"physicalLocation", loc, "partialFingerprints", "leakgate/v1",
				f->fingerprint);
		json_array_append_new(results, res);
		free(uri);
		free(msg);
	}
	free(rule_index);
	/* Columns count code points, not the UTF-16 units SARIF assumes by default. */
	return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:s, s:o, s:[{s:b}]}]}", "$schema",
			 "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
			 "tool", "driver", "name", "leakgate", "version", PACKAGE_VERSION,
			 "semanticVersion", PACKAGE_VERSION, "rules", rules, "columnKind",
			 "unicodeCodePoints", "results", results, "invocations", "executionSuccessful",
			 r->nerrs == 0);
}

int report_write(struct report *r, FILE *out)
{
	json_t *doc;
	int err;

	if (r->fmt == REPORT_TEXT)
		return write_text(r, out);
	doc = r->fmt == REPORT_JSON ? build_json(r) : build_sarif(r);
	if (!doc)
		return -1;
	err = json_dumpf(doc, out, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(doc);
	fputc('\n', out);
	return err || ferror(out) ? -1 : 0;
}
