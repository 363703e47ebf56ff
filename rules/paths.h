/*
 * Where leakgate keeps its files for the user it runs as, the same way in
 * every program (the hook, the daemon, the CLI), so that they agree with
 * no configuration at all, including where git runs the hook without a
 * HOME (git http-backend as a CGI program).
 */
#ifndef LG_PATHS_H
#define LG_PATHS_H

enum lg_dir {
	LG_DIR_STATE, /* database, hook socket: $XDG_STATE_HOME/leakgate, ~/.local/state/leakgate */
	LG_DIR_DATA,  /* fingerprint key: $XDG_DATA_HOME/leakgate, ~/.local/share/leakgate */
	LG_DIR_CACHE, /* compiled rules: $XDG_CACHE_HOME/leakgate, ~/.cache/leakgate */
};

/* Used when the user has no home folder at all (a system account). */
#define LG_SYSTEM_STATE_DIR "/var/lib/leakgate"
#define LG_SYSTEM_CACHE_DIR "/var/cache/leakgate"

/*
 * The folder for which, with name appended after a '/' (name may be
 * NULL). The home folder is $HOME, else the account's home in the password
 * database; without either, the system folders above (state and data
 * both in LG_SYSTEM_STATE_DIR). Caller frees; NULL when out of memory.
 */
char *lg_dir_path(enum lg_dir which, const char *name);

/* The home folder as above, or NULL. Caller frees. */
char *lg_home_dir(void);

/*
 * Whether a file or folder that leakgate trusts (the compiled-rule cache,
 * the state database, the fingerprint key) is safe to trust, the way ssh
 * treats its files: owned by the effective user (or root), and neither
 * group- nor world-writable (a folder with the sticky bit, such as /tmp,
 * may be: others cannot replace what is in it, and each file in it is
 * checked on its own). A symbolic link is judged by what it points to, and
 * the link itself must be ours (or root's) too.
 * LG_OK; LG_ENOTFOUND when it does not exist; LG_EINVALID with the reason
 * (and what to do) in why.
 */
int lg_path_trusted(const char *path, char *why, size_t len);

#endif
