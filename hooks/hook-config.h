/*
 * The hook's settings: git config keys under leakgate. (system, global,
 * then the repository's own config, later ones winning) and a few
 * environment overrides. Every value is checked: one that does not parse
 * or is out of range is an error naming the key and the value (the hook
 * treats it as a failure of the check, so leakgate.failMode decides), and
 * the setting falls back to its safest value, never to a more permissive
 * one: an unreadable allowBypass allows no bypass, an unreadable failMode
 * is closed. `leakgate config check` shows the same result to people.
 */
#ifndef LG_HOOK_CONFIG_H
#define LG_HOOK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "lg.h"
#include "unpack.h"
#include "vec.h"

#define HOOK_DEFAULT_MAX_BLOB (10u << 20)
#define HOOK_DEFAULT_TIMEOUT 60
#define HOOK_DEFAULT_MAX_REPORT 10
/* leakgate.rules and leakgate.disableRule values, each; more is an error. */
#define HOOK_LIST_MAX 64

/* Where a setting's value came from. */
enum hook_source {
	HS_DEFAULT,
	HS_SYSTEM,     /* /etc/gitconfig (or $GIT_CONFIG_SYSTEM) */
	HS_XDG,        /* ~/.config/git/config */
	HS_GLOBAL,     /* ~/.gitconfig */
	HS_REPOSITORY, /* the repository's config */
	HS_ENV,        /* an environment variable (LEAKGATE_DB, ...) */
};

/* The keys, in the order `leakgate config check` lists them. */
enum hook_key {
	HK_FAIL_MODE,
	HK_TIMEOUT,
	HK_MAX_BLOB_SIZE,
	HK_SCAN_BINARY,
	HK_ARCHIVE_DEPTH,
	HK_MAX_ARCHIVE_SIZE,
	HK_MAX_ARCHIVE_MEMBERS,
	HK_DECODE,
	HK_ALLOW_BYPASS,
	HK_MAX_REPORT,
	HK_THREADS,
	HK_BLOCK,
	HK_RULES,
	HK_DISABLE_RULE,
	HK_DB,
	HK_KEY_FILE,
	HK_CACHE_DIR,
	HK_COUNT
};

struct hook_setting {
	const char *key;     /* "leakgate.failMode" */
	char *value;         /* as written (the last one for lists), NULL for the default */
	enum hook_source source;
	char *problem;       /* why the value is invalid, NULL when it is fine */
};

struct hook_config {
	int fail_open;           /* leakgate.failMode = open | closed (default) */
	uint64_t max_blob_size;  /* leakgate.maxBlobSize (k, m, g suffixes) */
	int timeout;             /* leakgate.timeout, seconds */
	int allow_bypass;        /* leakgate.allowBypass (default true) */
	int scan_binary;         /* leakgate.scanBinary (default false) */
	/*
	 * leakgate.archiveDepth, maxArchiveSize, maxArchiveMembers, decode;
	 * member_max is maxBlobSize and scan_binary scanBinary.
	 */
	struct lg_unpack_opts unpack;
	int max_report;          /* leakgate.maxReport: findings shown in full */
	int threads;             /* leakgate.threads (default: cores, at most 4) */
	int block;               /* leakgate.block: enum policy_block (default medium) */
	int advertise_options;   /* receive.advertisePushOptions */
	char *packs[HOOK_LIST_MAX];    /* leakgate.rules (multi-valued) */
	size_t npacks;
	char *disabled[HOOK_LIST_MAX]; /* leakgate.disableRule (multi-valued) */
	size_t ndisabled;
	char *cache_dir; /* $LEAKGATE_CACHE_DIR, leakgate.cacheDir */
	char *key_file;  /* $LEAKGATE_KEY_FILE, leakgate.keyFile */
	char *db_path;   /* $LEAKGATE_DB, leakgate.db */

	struct hook_setting settings[HK_COUNT];
	struct lg_vec unknown; /* char *: leakgate.* keys that are not settings (typos) */
	size_t ninvalid; /* settings with a problem, unknown keys included */
};

/*
 * Read the settings for the repository at git_dir (NULL: global and system
 * only). Every invalid value or unknown leakgate.* key is one entry in d
 * (field: the key) and the result is LG_EINVALID; the configuration is
 * still complete, with safe values in place of the invalid ones. Other
 * failures (the files cannot be read) also give an entry and LG_ERROR.
 */
int hook_config_load(struct hook_config *c, const char *git_dir, struct lg_diag *d);
void hook_config_release(struct hook_config *c);

/* "repository (/srv/x.git/config)", "default", ... into buf. */
void hook_source_describe(const struct hook_config *c, const struct hook_setting *s,
			  const char *git_dir, char *buf, size_t len);
/* The effective value of setting k as text, into buf. */
void hook_config_effective(const struct hook_config *c, enum hook_key k, char *buf, size_t len);

#endif
