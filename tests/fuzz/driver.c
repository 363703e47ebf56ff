/*
 * The standalone driver of the fuzz harnesses, for builds without
 * libFuzzer: every file of tests/fuzz/corpus/NAME/ and of
 * tests/fuzz/crashes/NAME/ (NAME is the program's own name) goes once
 * through LLVMFuzzerTestOneInput, one TAP line each. A harness that finds
 * a broken invariant aborts, so a crash stops the run at its file, which
 * the line before the crash names. With arguments, the files (or folders)
 * given are replayed instead.
 *
 * The source tree is $LEAKGATE_SRC (as `make check` sets it), else the
 * one this was configured from.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* A harness may set itself up once before the first input (libFuzzer's hook). */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs larger than this are not fuzz inputs (libFuzzer's are a few kilobytes). */
#define DRIVER_INPUT_MAX (64u << 20)

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The files of folder dir (hidden ones left out), sorted, appended to
 * files (char *, caller frees). A folder that does not exist adds nothing
 * and is not an error when may_be_missing.
 */
static int list_folder(struct lg_vec *files, const char *dir, int may_be_missing)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = files->n;
	int err = 0;

	if (!d) {
		if (errno == ENOENT && may_be_missing)
			return 0;
		printf("# cannot open %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while (!err && (de = readdir(d))) {
		char *path;
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			err = -1;
		else if (lg_vec_push(files, &path)) {
			free(path);
			err = -1;
		}
	}
	closedir(d);
	if (files->n > first)
		qsort((char **)files->v + first, files->n - first, sizeof(char *), cmp_str);
	return err;
}

static int read_input(const char *path, unsigned char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct lg_vec buf = LG_VEC_INIT(1, DRIVER_INPUT_MAX);
	char block[65536];
	size_t n;
	int err = 0;

	*out = NULL;
	*len = 0;
	if (!f)
		return -1;
	while (!err && (n = fread(block, 1, sizeof(block), f)) > 0)
		err = lg_vec_append(&buf, block, n);
	if (ferror(f))
		err = -1;
	fclose(f);
	/* At least one byte allocated, so that an empty input still has an address. */
	if (!err && !buf.v)
		err = lg_vec_reserve(&buf, 1);
	if (err) {
		lg_vec_release(&buf);
		return -1;
	}
	*len = buf.n;
	*out = lg_vec_steal(&buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct lg_vec files = LG_VEC_INIT(sizeof(char *), 1u << 20);
	const char *name = strrchr(argv[0], '/'), *src = getenv("LEAKGATE_SRC");
	int status = 0, n = 0;

	name = name ? name + 1 : argv[0];
	if (!src || !*src)
		src = LG_SRCDIR;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			struct stat st;
			char *path;
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
				if (list_folder(&files, argv[i], 0))
					status = 1;
			} else if (!(path = strdup(argv[i])) || lg_vec_push(&files, &path)) {
				free(path);
				status = 1;
			}
		}
	} else {
		char *corpus = NULL, *crashes = NULL;
		if (asprintf(&corpus, "%s/tests/fuzz/corpus/%s", src, name) < 0 ||
		    asprintf(&crashes, "%s/tests/fuzz/crashes/%s", src, name) < 0) {
			printf("Bail out! out of memory\n");
			return 1;
		}
		/* The corpus is checked in; crashes/NAME/ exists once the harness has found one. */
		if (list_folder(&files, corpus, 0))
			status = 1;
		else if (files.n == 0) {
			printf("# %s is empty\n", corpus);
			status = 1;
		}
		if (list_folder(&files, crashes, 1))
			status = 1;
		free(corpus);
		free(crashes);
	}
	printf("1..%zu\n", files.n + (status != 0));
	if (status)
		printf("not ok %d - the inputs to replay could not all be listed\n", ++n);
	fflush(stdout);
	for (size_t i = 0; i < files.n; i++) {
		const char *path = LG_VEC_AT(&files, char *, i);
		const char *shown = strstr(path, "/tests/fuzz/");
		unsigned char *data;
		size_t len;

		shown = shown ? shown + strlen("/tests/fuzz/") : path;
		if (read_input(path, &data, &len)) {
			printf("not ok %d - %s: cannot be read\n", ++n, shown);
			status = 1;
			continue;
		}
		/* Said before the input runs: a crash then shows which input it was. */
		printf("# %s (%zu bytes)\n", shown, len);
		fflush(stdout);
		LLVMFuzzerTestOneInput(data, len);
		printf("ok %d - %s\n", ++n, shown);
		fflush(stdout);
		free(data);
	}
	for (size_t i = 0; i < files.n; i++)
		free(LG_VEC_AT(&files, char *, i));
	lg_vec_release(&files);
	return status;
}
