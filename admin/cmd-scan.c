/*
 * leakgate scan: files, directories (recursively, without .git) and
 * standard input. Files are read in blocks and streamed through the
 * scanner, so memory does not grow with file size.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "history.h"
#include "loader.h"
#include "report.h"
#include "vec.h"

/* Entries of one directory; more is refused with an error, not skipped. */
#define SCAN_DIR_ENTRIES_MAX (8u << 20)
#include "scanner.h"
#include "unpack.h"
#include "utf16.h"

#define READ_BLOCK (256u << 10)
/* Files up to this size are read whole, with their archive members and encodings. */
#define WHOLE_MAX (16u << 20)
#define MAX_DEPTH 256 /* directory nesting; deeper trees are reported, not followed */
#define MAX_PACKS 64

struct scan_ctx {
	struct lg_scanner *scanner;
	struct report *report;
	char *block;
	int binary;
	uint64_t max_size; /* 0: no limit */
	struct lg_unpack_opts unpack;
};

static int on_finding(const struct lg_finding *f, void *ctx)
{
	return report_finding(ctx, f);
}

/* A read of path failed (errno): an error in the report. */
static void read_failed(struct scan_ctx *c, const char *path)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "read failed: %s", strerror(errno));
	report_error(c->report, path, msg);
}

/* The scan of path did not complete: an error in the report, with the scanner's reason. */
static void scan_incomplete(struct scan_ctx *c, const char *path, int err)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "the scan did not complete (%s); the rest of the file was not checked",
		 *lg_scanner_error(c->scanner) ? lg_scanner_error(c->scanner) : lg_strerror(err));
	report_error(c->report, path, msg);
}

/*
 * A file that does not fit in WHOLE_MAX is streamed (bounded memory) and
 * scanned as bytes only: its archive members and encodings are not seen,
 * and the report says so.
 */
static void scan_stream(struct scan_ctx *c, int fd, const char *path, const char *rule_path, const char *head,
			size_t headlen)
{
	uint64_t total = 0;
	int started = 0, err = 0;
	struct lg_utf16 *u16 = NULL;

	lg_scanner_set_min_confidence(c->scanner, LG_CONF_LOW);
	report_skipped(c->report, path, "larger than 16 MiB: scanned as a stream, without opening archives or "
					"decoding encodings");
	for (;;) {
		ssize_t n;
		const char *data = c->block;
		if (headlen) {
			data = head;
			n = (ssize_t)headlen;
			headlen = 0;
		} else {
			n = read(fd, c->block, READ_BLOCK);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			read_failed(c, path);
			if (started)
				lg_scan_end(c->scanner);
			lg_utf16_free(u16);
			return;
		}
		if (n == 0)
			break;
		if (!started) {
			enum lg_utf16_kind k = lg_utf16_detect(data, (size_t)n);
			/* UTF-16 text is scanned as the UTF-8 it stands for. */
			if (k && !(u16 = lg_utf16_new(k))) {
				report_error(c->report, path, "out of memory");
				return;
			}
			/*
			 * A binary file is scanned for structured tokens only (a prefix,
			 * a checksum, a PEM header), as the hook does: a NUL byte is no
			 * way around the check. It is listed as not scanned whole.
			 */
			if (!u16 && !c->binary && lg_looks_binary(data, (size_t)n)) {
				lg_scanner_set_min_confidence(c->scanner, LG_CONF_HIGH);
				report_skipped(c->report, path,
					       "binary file: scanned for provider tokens and keys only (use --binary to scan it whole)");
			}
			lg_scan_begin(c->scanner, rule_path, on_finding, c->report);
			started = 1;
		}
		if (u16)
			err = lg_utf16_feed(u16, c->scanner, data, (size_t)n);
		else
			err = lg_scan_feed(c->scanner, data, (size_t)n);
		total += (uint64_t)n;
		if (err)
			break; /* lg_scan_end reports it */
		if (c->max_size && total > c->max_size) {
			report_skipped(c->report, path, "larger than --max-size; scanned the start only");
			break;
		}
	}
	if (!started) /* empty: path rules still apply */
		lg_scan_begin(c->scanner, rule_path, on_finding, c->report);
	err = lg_scan_end(c->scanner);
	lg_utf16_free(u16);
	lg_scanner_set_min_confidence(c->scanner, LG_CONF_LOW);
	if (err)
		scan_incomplete(c, path, err);
	report_scanned(c->report, total);
}

static void scan_fd(struct scan_ctx *c, int fd, const char *path, const char *rule_path)
{
	struct lg_vec buf = LG_VEC_INIT(1, WHOLE_MAX + 1);
	struct lg_unpack_result res;
	uint64_t limit = c->max_size && c->max_size < WHOLE_MAX ? c->max_size : WHOLE_MAX;
	int err, eof = 0, cut = 0;
	struct stat st;

	/*
	 * A regular file's size is known: one that is too large to read whole
	 * is streamed from its first byte, and one that fits gets its buffer in
	 * one allocation. A pipe is read into a growing buffer.
	 */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > WHOLE_MAX && (!c->max_size || c->max_size > WHOLE_MAX)) {
			scan_stream(c, fd, path, rule_path, NULL, 0);
			return;
		}
		if (lg_vec_reserve(&buf, (size_t)((uint64_t)st.st_size < limit ? (uint64_t)st.st_size : limit) + 1)) {
			report_error(c->report, path, "out of memory");
			return;
		}
	}
	/* Read whole: an archive is opened from memory, and decoding looks at the whole text. */
	while (buf.n <= limit) {
		ssize_t n;
		if (buf.n == buf.cap && lg_vec_reserve(&buf, READ_BLOCK) && lg_vec_reserve(&buf, 1)) {
			report_error(c->report, path, "out of memory");
			goto out;
		}
		n = read(fd, (char *)buf.v + buf.n, buf.cap - buf.n < READ_BLOCK ? buf.cap - buf.n : READ_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			read_failed(c, path);
			goto out;
		}
		if (n == 0) {
			eof = 1;
			break;
		}
		buf.n += (size_t)n;
	}
	if (!eof && (!c->max_size || c->max_size > WHOLE_MAX)) {
		scan_stream(c, fd, path, rule_path, buf.v, buf.n);
		goto out;
	}
	if (!eof || buf.n > limit) {
		cut = 1;
		buf.n = (size_t)limit;
	}
	c->unpack.scan_binary = c->binary;
	err = lg_scan_deep(c->scanner, &c->unpack, &rule_path, rule_path ? 1 : 0, buf.v ? buf.v : "", buf.n,
			   on_finding, c->report, &res);
	if (cut)
		report_skipped(c->report, path, "larger than --max-size; scanned the start only");
	if (res.binary && !res.archive)
		report_skipped(c->report, path,
			       "binary file: scanned for provider tokens and keys only (use --binary to scan it whole)");
	if (res.notes)
		report_skipped(c->report, path, res.note);
	if (err)
		scan_incomplete(c, path, err);
	report_scanned(c->report, buf.n);
out:
	lg_vec_release(&buf);
}

static void scan_file(struct scan_ctx *c, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char msg[256];

	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		report_error(c->report, path, msg);
		return;
	}
	/* O_NONBLOCK only guards the open of a FIFO; read normally after. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	scan_fd(c, fd, path, path[0] == '.' && path[1] == '/' ? path + 2 : path);
	close(fd);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A repository met as a folder: its files are compressed objects; scanning them would say "nothing found". */
static void git_dir_error(struct report *r, const char *dir)
{
	char msg[4200];

	snprintf(msg, sizeof(msg), "is a Git repository (bare, or a .git folder): its objects are compressed, "
		 "so scanning its files would find nothing; to scan its history, run: leakgate scan --git %s", dir);
	report_error(r, dir, msg);
}

/* A bare repository or a .git folder: HEAD, objects/ and refs/ in it. */
static int is_git_dir(const char *dir)
{
	static const char *const parts[] = {"HEAD", "objects", "refs"};
	char p[4096];
	struct stat st;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (snprintf(p, sizeof(p), "%s/%s", dir, parts[i]) >= (int)sizeof(p) || stat(p, &st) < 0)
			return 0;
		if (i == 0 ? !S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode))
			return 0;
	}
	return 1;
}

static void scan_dir(struct scan_ctx *c, const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	char msg[256];

	if (depth > MAX_DEPTH) {
		report_error(c->report, dir, "directories nested too deeply; not followed");
		return;
	}
	d = opendir(dir);
	if (!d) {
		snprintf(msg, sizeof(msg), "cannot open directory: %s", strerror(errno));
		report_error(c->report, dir, msg);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".git"))
			continue;
		if (lg_array_reserve((void **)&names, &cap, n + 1, sizeof(*names), SCAN_DIR_ENTRIES_MAX) ||
		    asprintf(&names[n], "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name) < 0) {
			/* What could not be listed is not scanned: say so, do not just skip it. */
			report_error(c->report, dir, "out of memory (or too many entries) listing this directory; "
						     "the entries not listed were not scanned");
			break;
		}
		n++;
	}
	closedir(d);
	/* Sorted, so that reports are the same from one run to the next. */
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (lstat(names[i], &st) < 0) {
			snprintf(msg, sizeof(msg), "cannot stat: %s", strerror(errno));
			report_error(c->report, names[i], msg);
		} else if (S_ISDIR(st.st_mode) && is_git_dir(names[i])) {
			git_dir_error(c->report, names[i]); /* a bare repository inside the tree */
		} else if (S_ISDIR(st.st_mode)) {
			scan_dir(c, names[i], depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			scan_file(c, names[i]);
		}
		/* Symbolic links, sockets and devices inside a tree are not followed. */
		free(names[i]);
	}
	free(names);
}

static void scan_usage(FILE *f)
{
	fprintf(f,
		"usage: leakgate scan [options] PATH... | -\n"
		"       leakgate scan --git [options] REPO...\n"
		"\n"
		"Finds secrets in files, directories (recursively, skipping .git) and\n"
		"standard input ('-'). With --git, in the whole history of Git\n"
		"repositories (bare or not): every blob reachable from a ref or HEAD,\n"
		"once, and every commit and annotated tag; each finding names its path,\n"
		"the commit that introduced it and the refs that contain that commit.\n"
		"\n"
		"  --git                      scan the history of each REPO, not files\n"
		"  --all-objects              with --git: also objects no ref reaches\n"
		"  --threads N                with --git: scanning threads (default: cores)\n"
		"  --format text|json|sarif   output format (default text)\n"
		"  --rules PATH               add a rule pack file or directory (repeatable)\n"
		"  --no-builtin               do not use the built-in rules\n"
		"  --disable ID               turn off a rule (repeatable)\n"
		"  --binary                   scan binary files too\n"
		"  --archive-depth N          open archives nested up to N deep (default 2; 0: do not open)\n"
		"  --no-decode                do not decode base64, percent-encoding and escaped strings\n"
		"  --max-archive-size BYTES   an archive may inflate to this much (default 256 MiB)\n"
		"  --max-archive-members N    an archive may have this many members (default 100000)\n"
		"  --max-size BYTES           scan at most this much of each file; with\n"
		"                             --git, larger blobs are skipped (default 256 MiB)\n"
		"  --output FILE              write the report to FILE\n"
		"  --cache-dir DIR            compiled-rules cache (default ~/.cache/leakgate)\n"
		"\n"
		"Exit status: 0 nothing found, 1 secrets found, 2 error.\n");
}

int cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, 0, 'f'}, {"rules", required_argument, 0, 'r'},
		{"no-builtin", no_argument, 0, 'B'},  {"disable", required_argument, 0, 'd'},
		{"binary", no_argument, 0, 'b'},      {"max-size", required_argument, 0, 'm'},
		{"output", required_argument, 0, 'o'}, {"cache-dir", required_argument, 0, 'c'},
		{"archive-depth", required_argument, 0, 'Z'}, {"no-decode", no_argument, 0, 'D'},
		{"max-archive-size", required_argument, 0, 'S'}, {"max-archive-members", required_argument, 0, 'M'},
		{"git", no_argument, 0, 'g'},         {"all-objects", no_argument, 0, 'A'},
		{"threads", required_argument, 0, 't'},
		{"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
	};
	const char *packs[MAX_PACKS], *disabled[MAX_PACKS];
	struct lg_load_opts lo;
	struct lg_ruleset *rs = NULL;
	struct lg_key key;
	struct scan_ctx c;
	struct lg_diag d;
	enum report_format fmt = REPORT_TEXT;
	const char *outpath = NULL;
	char *keypath = NULL, *end;
	FILE *out = stdout;
	int opt, status = 2, git = 0, all_objects = 0, threads = 0;
	long nt;

	memset(&lo, 0, sizeof(lo));
	memset(&c, 0, sizeof(c));
	lg_unpack_defaults(&c.unpack);
	c.unpack.member_max = WHOLE_MAX;
	lg_diag_init(&d);
	lo.packs = packs;
	lo.disabled = disabled;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:r:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "text"))
				fmt = REPORT_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = REPORT_JSON;
			else if (!strcmp(optarg, "sarif"))
				fmt = REPORT_SARIF;
			else {
				fprintf(stderr, "leakgate scan: unknown format '%s' (text, json, sarif)\n", optarg);
				goto out;
			}
			break;
		case 'r':
			if (lo.npacks == MAX_PACKS) {
				fprintf(stderr, "leakgate scan: too many --rules (at most %d)\n", MAX_PACKS);
				goto out;
			}
			packs[lo.npacks++] = optarg;
			break;
		case 'd':
			if (lo.ndisabled == MAX_PACKS) {
				fprintf(stderr, "leakgate scan: too many --disable (at most %d)\n", MAX_PACKS);
				goto out;
			}
			disabled[lo.ndisabled++] = optarg;
			break;
		case 'B': lo.no_builtin = 1; break;
		case 'b': c.binary = 1; break;
		case 'D': c.unpack.decode = 0; break;
		case 'Z':
			errno = 0;
			c.unpack.archive_depth = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || c.unpack.archive_depth > LG_ARCHIVE_DEPTH_MAX) {
				fprintf(stderr, "leakgate scan: --archive-depth needs a number from 0 to %d\n",
					LG_ARCHIVE_DEPTH_MAX);
				goto out;
			}
			break;
		case 'S':
		case 'M': {
			unsigned long long v;
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || !v || optarg[0] == '-') {
				fprintf(stderr, "leakgate scan: --%s needs a positive number\n",
					opt == 'S' ? "max-archive-size" : "max-archive-members");
				goto out;
			}
			if (opt == 'S')
				c.unpack.archive_max = v;
			else
				c.unpack.archive_members = v;
			break;
		}
		case 'c': lo.cache_dir = optarg; break;
		case 'o': outpath = optarg; break;
		case 'm':
			errno = 0;
			c.max_size = strtoull(optarg, &end, 10);
			if (errno || *end || !c.max_size) {
				fprintf(stderr, "leakgate scan: --max-size needs a positive number of bytes\n");
				goto out;
			}
			break;
		case 'g': git = 1; break;
		case 'A': all_objects = 1; break;
		case 't':
			errno = 0;
			nt = strtol(optarg, &end, 10);
			if (errno || *end || nt < 1 || nt > HISTORY_THREADS_MAX) {
				fprintf(stderr, "leakgate scan: --threads needs a number from 1 to %d\n", HISTORY_THREADS_MAX);
				goto out;
			}
			threads = (int)nt;
			break;
		case 'h': scan_usage(stdout); status = 0; goto out;
		default: scan_usage(stderr); goto out;
		}
	}
	if (optind >= argc) {
		if (git)
			fprintf(stderr, "leakgate scan: nothing to scan: give one or more repositories after --git\n");
		else
			fprintf(stderr, "leakgate scan: nothing to scan: give files, directories, or '-' for standard input\n");
		scan_usage(stderr);
		goto out;
	}
	if (!git && (all_objects || threads)) {
		fprintf(stderr, "leakgate scan: --all-objects and --threads go with --git (a repository's history)\n");
		goto out;
	}
	if (git) {
		for (int i = optind; i < argc; i++)
			if (!strcmp(argv[i], "-")) {
				fprintf(stderr, "leakgate scan: --git scans repositories; standard input ('-') is not one\n");
				goto out;
			}
		if (!threads) {
			long cores = sysconf(_SC_NPROCESSORS_ONLN);
			threads = cores < 1 ? 1 : cores > HISTORY_THREADS_MAX ? HISTORY_THREADS_MAX : (int)cores;
		}
	}
	if (lg_ruleset_load(&rs, &lo, NULL, &d)) {
		cli_print_diag("cannot load the rules:", &d);
		goto out;
	}
	keypath = lg_key_default_path();
	if (!keypath || lg_key_load(&key, keypath, 1, NULL)) {
		fprintf(stderr, "leakgate scan: warning: cannot use the fingerprint key %s; "
				"fingerprints of this run are not stable\n", keypath ? keypath : "(no HOME)");
		if (lg_key_random(&key)) {
			fprintf(stderr, "leakgate scan: no random source for a key\n");
			goto out;
		}
	}
	c.report = report_new(fmt, rs);
	c.block = malloc(READ_BLOCK);
	if (!c.report || !c.block || lg_scanner_new(&c.scanner, rs, &key)) {
		fprintf(stderr, "leakgate scan: out of memory\n");
		goto out;
	}
	c.unpack.scan_binary = c.binary;
	for (int i = optind; git && i < argc; i++) {
		struct history_opts ho = {rs, &key, threads, c.binary, all_objects, isatty(2), argc - optind > 1,
					  c.max_size, &c.unpack};
		history_scan(&ho, c.report, argv[i]);
	}
	for (int i = optind; !git && i < argc; i++) {
		struct stat st;
		if (!strcmp(argv[i], "-")) {
			scan_fd(&c, 0, "-", NULL);
		} else if (stat(argv[i], &st) < 0) {
			char msg[256];
			snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno));
			report_error(c.report, argv[i], msg);
		} else if (S_ISDIR(st.st_mode) && is_git_dir(argv[i])) {
			git_dir_error(c.report, argv[i]);
		} else if (S_ISDIR(st.st_mode)) {
			scan_dir(&c, argv[i], 0);
		} else {
			scan_file(&c, argv[i]);
		}
	}
	if (outpath && !(out = fopen(outpath, "w"))) {
		fprintf(stderr, "leakgate scan: cannot write %s: %s\n", outpath, strerror(errno));
		out = stdout;
		goto out;
	}
	if (report_write(c.report, out)) {
		fprintf(stderr, "leakgate scan: writing the report failed\n");
		goto out;
	}
	if (report_errors(c.report)) {
		if (fmt == REPORT_TEXT || out != stdout)
			fprintf(stderr, "leakgate scan: some paths could not be scanned (see the report)\n");
		status = 2;
	} else {
		status = report_count(c.report) ? 1 : 0;
	}
out:
	if (out != stdout && fclose(out) != 0 && status != 2) {
		fprintf(stderr, "leakgate scan: writing %s failed\n", outpath);
		status = 2;
	}
	lg_scanner_free(c.scanner);
	report_free(c.report);
	free(c.block);
	free(keypath);
	lg_ruleset_free(rs);
	lg_diag_release(&d);
	return status;
}
