/*
 * The hook's settings: git config keys under leakgate. (system, global,
 * then the repository's own config, later ones winning) and a few
 * environment overrides.
 */
#ifndef LG_HOOK_CONFIG_H
#define LG_HOOK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "lg.h"

#define HOOK_DEFAULT_MAX_BLOB (10u << 20)
#define HOOK_DEFAULT_TIMEOUT 60
#define HOOK_DEFAULT_MAX_REPORT 10
#define HOOK_LIST_MAX 64

struct hook_config {
	int fail_open;           /* leakgate.failMode = open | closed (default) */
	uint64_t max_blob_size;  /* leakgate.maxBlobSize (k, m, g suffixes) */
	int timeout;             /* leakgate.timeout, seconds */
	int allow_bypass;        /* leakgate.allowBypass (default true) */
	int scan_binary;         /* leakgate.scanBinary (default false) */
	int max_report;          /* leakgate.maxReport: findings shown in full */
	int threads;             /* leakgate.threads (default: cores, at most 4) */
	int advertise_options;   /* receive.advertisePushOptions */
	char *packs[HOOK_LIST_MAX];    /* leakgate.rules (multi-valued) */
	size_t npacks;
	char *disabled[HOOK_LIST_MAX]; /* leakgate.disableRule (multi-valued) */
	size_t ndisabled;
	char *cache_dir; /* $LEAKGATE_CACHE_DIR, leakgate.cacheDir */
	char *key_file;  /* $LEAKGATE_KEY_FILE, leakgate.keyFile */
	char *db_path;   /* $LEAKGATE_DB, leakgate.db */
};

/*
 * Read the settings for the repository at git_dir. Unreadable or invalid
 * values are reported in d and the defaults kept, except that a failMode
 * which is neither open nor closed counts as closed.
 */
int hook_config_load(struct hook_config *c, const char *git_dir, struct lg_diag *d);
void hook_config_release(struct hook_config *c);

#endif
