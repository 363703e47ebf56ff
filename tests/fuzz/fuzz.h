/*
 * What the fuzz harnesses share: the built-in rule set compiled once per
 * process and a scanner over it, and a check that aborts (so that
 * libFuzzer, or the replay driver under `make check`, reports the input)
 * when an invariant the API promises does not hold.
 */
#ifndef LG_FUZZ_H
#define LG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "scanner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort with the condition and where it failed. */
#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond))                                                               \
			fuzz_fail(__FILE__, __LINE__, #cond);                              \
	} while (0)
void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/*
 * The built-in rules, loaded as the programs load them (lg_ruleset_load),
 * through a compiled cache in $LEAKGATE_CACHE_DIR or else a folder of
 * this user's under /tmp; and one scanner over them with a fixed key.
 * Both live until the process ends. Aborts when they cannot be had.
 */
struct lg_ruleset *fuzz_builtin_rules(void);
/* That cache folder (caller frees; "" for none), or NULL when out of memory. */
char *fuzz_cache_dir(void);
struct lg_scanner *fuzz_scanner(void);

/* 1 if s (len bytes) is valid UTF-8 (NUL bytes allowed). */
int fuzz_valid_utf8(const char *s, size_t len);

#endif
