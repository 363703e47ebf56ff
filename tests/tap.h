/*
 * A minimal TAP producer for the unit tests: ok(), is_int(), is_str(),
 * then done() prints the plan and returns the exit status.
 */
#ifndef LG_TAP_H
#define LG_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *what)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, what);
	if (!cond)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
	return cond;
}

#define ok(cond, ...)                                                                  \
	do {                                                                           \
		char tap_msg_[512];                                                    \
		snprintf(tap_msg_, sizeof(tap_msg_), __VA_ARGS__);                     \
		tap_ok(!!(cond), __FILE__, __LINE__, tap_msg_);                        \
	} while (0)

#define is_int(got, want, ...)                                                         \
	do {                                                                           \
		long long g_ = (long long)(got), w_ = (long long)(want);               \
		char tap_msg_[512];                                                    \
		snprintf(tap_msg_, sizeof(tap_msg_), __VA_ARGS__);                     \
		if (!tap_ok(g_ == w_, __FILE__, __LINE__, tap_msg_))                   \
			printf("#   got %lld, want %lld\n", g_, w_);                       \
	} while (0)

#define is_str(got, want, ...)                                                         \
	do {                                                                           \
		const char *g_ = (got), *w_ = (want);                                  \
		char tap_msg_[512];                                                    \
		snprintf(tap_msg_, sizeof(tap_msg_), __VA_ARGS__);                     \
		if (!tap_ok(g_ && w_ && strcmp(g_, w_) == 0, __FILE__, __LINE__, tap_msg_)) \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

static inline int done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
