/*
 * Report writers. Text is what a person reads after a scan: where, what,
 * the redacted value and its fingerprint, then what to do, once per kind of
 * secret. JSON and SARIF are built with jansson.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report.h"
#include "text.h"
#include "vec.h"

struct rfinding {
	const struct lg_rule *rule;
	char *path;
	char *member; /* the archive member (lg_finding.member), or NULL */
	char *layer;  /* the encodings (lg_finding.layer), or NULL */
	uint64_t start, end, line, column, end_line, end_column, column_chars, end_column_chars;
	char preview[LG_PREVIEW_MAX];
	char fingerprint[LG_FP_HEX + 1];
	/* History scans only (report_finding_at); NULL otherwise. */
	const char *kind;
	char *repository, *object, *commit;
	char **refs, **also;
	size_t nrefs, refs_more, nalso, also_more;
	int unreachable;
};

struct rnote {
	char *path;
	char *msg;
};

/*
 * Findings and notes a scan may hold for its report: far beyond real
 * trees; past it the scan fails (LG_ETOOLARGE) instead of dropping any.
 */
#define REPORT_FINDINGS_MAX (16u << 20)
#define REPORT_NOTES_MAX (4u << 20)

struct report {
	enum report_format fmt;
	const struct lg_ruleset *rs;
	struct lg_vec f; /* struct rfinding */
	struct lg_vec errs, skips; /* struct rnote */
	uint64_t files, bytes;
	size_t lost; /* notes that could not be held (counted as errors) */
	int history;
};

#define RF(r, i) (&LG_VEC_AT(&(r)->f, struct rfinding, i))
#define RN(v, i) (&LG_VEC_AT(v, struct rnote, i))

struct report *report_new(enum report_format fmt, const struct lg_ruleset *rs)
{
	struct report *r = calloc(1, sizeof(*r));

	if (r) {
		r->fmt = fmt;
		r->rs = rs;
		lg_vec_init(&r->f, sizeof(struct rfinding), REPORT_FINDINGS_MAX);
		lg_vec_init(&r->errs, sizeof(struct rnote), REPORT_NOTES_MAX);
		lg_vec_init(&r->skips, sizeof(struct rnote), REPORT_NOTES_MAX);
	}
	return r;
}

static void notes_free(struct lg_vec *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(RN(v, i)->path);
		free(RN(v, i)->msg);
	}
	lg_vec_release(v);
}

static void rfinding_release(struct rfinding *x)
{
	free(x->path);
	free(x->member);
	free(x->layer);
	free(x->repository);
	free(x->object);
	free(x->commit);
	for (size_t k = 0; k < x->nrefs; k++)
		free(x->refs[k]);
	free(x->refs);
	for (size_t k = 0; k < x->nalso; k++)
		free(x->also[k]);
	free(x->also);
}

/* A copy of n strings; NULL when out of memory (*got says how many were copied, to free). */
static char **strs_copy(const char *const *v, size_t n, size_t *got)
{
	char **c = n ? calloc(n, sizeof(*c)) : NULL;

	*got = 0;
	for (; c && *got < n; ++*got)
		if (!(c[*got] = strdup(v[*got])))
			break;
	return c;
}

void report_set_history(struct report *r, int several)
{
	r->history = several ? 2 : 1;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->f.n; i++)
		rfinding_release(RF(r, i));
	lg_vec_release(&r->f);
	notes_free(&r->errs);
	notes_free(&r->skips);
	free(r);
}

int report_finding(struct report *r, const struct lg_finding *f)
{
	return report_finding_at(r, f, NULL);
}

int report_finding_at(struct report *r, const struct lg_finding *f, const struct report_origin *o)
{
	struct rfinding *x;
	int err = lg_vec_grow(&r->f, 1, (void **)&x);

	if (err)
		return err;
	x->rule = f->rule;
	x->path = strdup(f->path ? f->path : "-");
	x->member = f->member ? strdup(f->member) : NULL;
	x->layer = f->layer ? strdup(f->layer) : NULL;
	if (o) {
		x->kind = o->kind;
		x->unreachable = o->unreachable;
		x->refs_more = o->refs_more;
		x->also_more = o->also_more;
		x->object = strdup(o->object);
		x->repository = strdup(o->repository);
		x->commit = o->commit ? strdup(o->commit) : NULL;
		x->refs = strs_copy(o->refs, o->nrefs, &x->nrefs);
		x->also = strs_copy(o->also, o->nalso, &x->nalso);
	}
	if (!x->path || (f->member && !x->member) || (f->layer && !x->layer) || (o && (!x->object || !x->repository || (o->commit && !x->commit) || x->nrefs < o->nrefs ||
			       x->nalso < o->nalso))) {
		rfinding_release(x);
		r->f.n--;
		return LG_ENOMEM;
	}
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
	return LG_OK;
}

static void add_note(struct report *r, struct lg_vec *v, const char *path, const char *msg)
{
	struct rnote *x;

	if (lg_vec_grow(v, 1, (void **)&x)) {
		r->lost++;
		return;
	}
	x->path = strdup(path ? path : "-");
	x->msg = strdup(msg);
	if (!x->path || !x->msg) {
		free(x->path);
		free(x->msg);
		v->n--;
		r->lost++;
	}
}

void report_error(struct report *r, const char *path, const char *msg)
{
	add_note(r, &r->errs, path, msg);
}

void report_skipped(struct report *r, const char *path, const char *why)
{
	add_note(r, &r->skips, path, why);
}

void report_scanned(struct report *r, uint64_t bytes)
{
	r->files++;
	r->bytes += bytes;
}

void report_scanned_n(struct report *r, uint64_t n, uint64_t bytes)
{
	r->files += n;
	r->bytes += bytes;
}

size_t report_count(const struct report *r)
{
	return r->f.n;
}

size_t report_errors(const struct report *r)
{
	return r->errs.n + r->lost;
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

static void write_list(FILE *out, const char *label, char *const *v, size_t n, size_t more)
{
	if (!n)
		return;
	fprintf(out, "    %-12s ", label);
	for (size_t k = 0; k < n; k++)
		fprintf(out, "%s%s", k ? ", " : "", v[k]);
	if (more)
		fprintf(out, " (+%zu more)", more);
	fputc('\n', out);
}

/* A history finding's commit, object and refs, as more lines of the same block. */
static void write_origin(const struct rfinding *f, int several, FILE *out)
{
	if (several)
		fprintf(out, "    repository   %s\n", f->repository);
	if (f->commit)
		fprintf(out, "    commit       %s\n", f->commit);
	/* A commit's own message: the commit line said it all. */
	if (!f->commit || strcmp(f->commit, f->object))
		fprintf(out, "    %-12s %s%s\n", f->kind, f->object,
			f->unreachable ? " (unreachable: in no ref's history)" : "");
	write_list(out, "refs", f->refs, f->nrefs, f->refs_more);
	write_list(out, "also at", f->also, f->nalso, f->also_more);
}

static int write_text(struct report *r, FILE *out)
{
	const char *unit = r->history ? "object" : "file";
	char sz[32];
	size_t nfiles = 0;

	for (size_t i = 0; i < r->f.n; i++)
		if (i == 0 || strcmp(RF(r, i)->path, RF(r, i - 1)->path))
			nfiles++;
	human_bytes(r->bytes, sz, sizeof(sz));
	for (size_t i = 0; i < r->f.n; i++) {
		const struct rfinding *f = RF(r, i);
		/* An archive member is named after its archive: bundle.zip!conf/app.yml. */
		const char *bang = f->member ? "!" : "", *member = f->member ? f->member : "";
		if (f->line)
			fprintf(out, "%s%s%s:%llu:%llu: %s [%s]\n", f->path, bang, member, (unsigned long long)f->line,
				(unsigned long long)f->column, lg_rule_name(f->rule),
				lg_severity_name(lg_rule_severity(f->rule)));
		else
			fprintf(out, "%s%s%s: %s [%s] (the file itself)\n", f->path, bang, member, lg_rule_name(f->rule),
				lg_severity_name(lg_rule_severity(f->rule)));
		if (f->layer)
			fprintf(out, "    encoded      %s (the secret is shown decoded)\n", f->layer);
		fprintf(out, "    secret       %s\n", f->preview);
		fprintf(out, "    fingerprint  %s\n", f->fingerprint);
		fprintf(out, "    rule         %s\n", lg_rule_id(f->rule));
		if (f->object)
			write_origin(f, r->history == 2, out);
		fputc('\n', out);
	}
	if (r->f.n) {
		unsigned char *seen = calloc(lg_ruleset_count(r->rs) + 1, 1);
		fprintf(out, "What to do:\n");
		/* Once per rule, in the order the rules first appeared. */
		for (size_t i = 0; i < r->f.n; i++) {
			size_t k = lg_rule_index(RF(r, i)->rule);
			if (seen && k < lg_ruleset_count(r->rs)) {
				if (seen[k])
					continue;
				seen[k] = 1;
			}
			fprintf(out, "  %s: %s\n", lg_rule_name(RF(r, i)->rule), lg_rule_remediation(RF(r, i)->rule));
		}
		free(seen);
		if (r->history)
			fprintf(out, "  The secret is in the repository's history: anyone with a clone has it. "
				     "Revoke it first; removing it from the history comes after.\n\n");
		else
			fprintf(out, "  Then remove the secret from the files; if it was committed, "
				     "rewrite the commits before pushing.\n\n");
	}
	for (size_t i = 0; i < r->skips.n; i++)
		fprintf(out, "skipped %s: %s\n", RN(&r->skips, i)->path, RN(&r->skips, i)->msg);
	for (size_t i = 0; i < r->errs.n; i++)
		fprintf(out, "error: %s: %s\n", RN(&r->errs, i)->path, RN(&r->errs, i)->msg);
	if (r->lost)
		fprintf(out, "error: %zu more problems could not be held in memory\n", r->lost);
	fprintf(out, "leakgate: %zu secret%s found in %zu %s%s (%llu %s%s scanned, %s",
		r->f.n, r->f.n == 1 ? "" : "s", nfiles, r->history ? "path" : "file", nfiles == 1 ? "" : "s",
		(unsigned long long)r->files, unit, r->files == 1 ? "" : "s", sz);
	if (r->skips.n)
		fprintf(out, ", %zu skipped", r->skips.n);
	if (r->errs.n + r->lost)
		fprintf(out, ", %zu error%s", r->errs.n + r->lost, r->errs.n + r->lost == 1 ? "" : "s");
	fprintf(out, ")\n");
	return ferror(out) ? -1 : 0;
}

/* o[key] = a file name, losslessly (text.h), with key "_escaped" when bytes were escaped. */
static void set_name(json_t *o, const char *key, const char *s)
{
	int escaped = 0;
	char *v = lg_text_lossless(s, strlen(s), &escaped);

	json_object_set_new(o, key, json_string(v ? v : "(out of memory)"));
	if (escaped) {
		char k[64];
		snprintf(k, sizeof(k), "%s_escaped", key);
		json_object_set_new(o, k, json_true());
	}
	free(v);
}

static json_t *notes_json(const struct lg_vec *v)
{
	json_t *a = json_array();

	for (size_t i = 0; i < v->n; i++) {
		json_t *o = json_object();
		set_name(o, "path", RN(v, i)->path);
		set_name(o, "message", RN(v, i)->msg);
		json_array_append_new(a, o);
	}
	return a;
}

/* Names as a JSON array, losslessly (text.h; an escaped name reads as its escapes). */
static json_t *names_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t k = 0; k < n; k++) {
		int escaped = 0;
		char *s = lg_text_lossless(v[k], strlen(v[k]), &escaped);
		json_array_append_new(a, json_string(s ? s : "(out of memory)"));
		free(s);
	}
	return a;
}

/* A history finding's origin: commit, object, refs, other paths. */
static json_t *origin_json(const struct rfinding *f)
{
	json_t *o = json_object();

	set_name(o, "repository", f->repository);
	json_object_set_new(o, "commit", f->commit ? json_string(f->commit) : json_null());
	json_object_set_new(o, "object", json_pack("{s:s, s:s}", "type", f->kind, "id", f->object));
	json_object_set_new(o, "refs", names_json(f->refs, f->nrefs));
	json_object_set_new(o, "refs_more", json_integer((json_int_t)f->refs_more));
	json_object_set_new(o, "also_at", names_json(f->also, f->nalso));
	json_object_set_new(o, "also_at_more", json_integer((json_int_t)f->also_more));
	json_object_set_new(o, "unreachable", json_boolean(f->unreachable));
	return o;
}

static json_t *finding_json(const struct rfinding *f)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "rule_id", lg_rule_id(f->rule),
			      "rule_name", lg_rule_name(f->rule), "severity",
			      lg_severity_name(lg_rule_severity(f->rule)), "confidence",
			      lg_confidence_name(lg_rule_confidence(f->rule)), "preview",
			      f->preview, "fingerprint", f->fingerprint);

	set_name(o, "path", f->path);
	if (f->member)
		set_name(o, "member", f->member);
	if (f->layer)
		json_object_set_new(o, "encoding", json_string(f->layer));

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
	if (f->object)
		json_object_update_new(o, origin_json(f));
	return o;
}

static json_t *build_json(struct report *r)
{
	json_t *findings = json_array();

	for (size_t i = 0; i < r->f.n; i++)
		json_array_append_new(findings, finding_json(RF(r, i)));
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I}}", "tool",
			 "leakgate", "version", PACKAGE_VERSION, "ruleset", lg_ruleset_hash(r->rs),
			 "findings", findings, "errors", notes_json(&r->errs), "skipped",
			 notes_json(&r->skips), "summary", "findings", (json_int_t)r->f.n,
			 "files_scanned", (json_int_t)r->files, "bytes_scanned",
			 (json_int_t)r->bytes, "skipped", (json_int_t)r->skips.n, "errors",
			 (json_int_t)(r->errs.n + r->lost));
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

	for (size_t i = 0; rule_index && i < r->f.n; i++) {
		const struct rfinding *f = RF(r, i);
		const struct lg_rule *rule = f->rule;
		size_t ri = lg_rule_index(rule);
		json_t *res, *loc;
		char *msg = NULL, *member;
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
		member = f->member ? lg_text_lossless(f->member, strlen(f->member), NULL) : NULL;
		if (asprintf(&msg, "%s found (%s)%s%s%s%s. %s", lg_rule_name(rule), f->preview,
			     member ? " in archive member " : "", member ? member : "", f->layer ? ", encoded as " : "",
			     f->layer ? f->layer : "", lg_rule_remediation(rule)) < 0)
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
		if (res && (f->object || member || f->layer)) {
			json_t *props = f->object ? origin_json(f) : json_object();
			if (member)
				json_object_set_new(props, "member", json_string(member));
			if (f->layer)
				json_object_set_new(props, "encoding", json_string(f->layer));
			json_object_set_new(res, "properties", props);
		}
		json_array_append_new(results, res);
		free(uri);
		free(msg);
		free(member);
	}
	free(rule_index);
	/* Columns count code points, not the UTF-16 units SARIF assumes by default. */
	return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:s, s:o, s:[{s:b}]}]}", "$schema",
			 "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
			 "tool", "driver", "name", "leakgate", "version", PACKAGE_VERSION,
			 "semanticVersion", PACKAGE_VERSION, "rules", rules, "columnKind",
			 "unicodeCodePoints", "results", results, "invocations", "executionSuccessful",
			 r->errs.n + r->lost == 0);
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
