/*
 * Phase 1 of the hook: everything it needs before it can look at the
 * push. Who pushes where (the hosting layer's environment), the settings,
 * the ref updates on standard input, the push options, the fingerprint
 * key, the audit store (opened on a second thread meanwhile) and the
 * rules. A setting that is invalid, or a store or custom rule that cannot
 * be read, is a failure but not the end: the push is still checked with
 * what can be read, so that a secret it holds is still reported.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hook.h"
#include "loader.h"
#include "ops.h"

/* ---- who pushes where ---- */

static char *env_dup(const char *name)
{
	const char *e = getenv(name);
	return e && *e ? strdup(e) : NULL;
}

void hook_identify(struct hook *h)
{
	const char *e;

	h->gitlab = getenv("GL_ID") != NULL && getenv("GL_USERNAME") != NULL;
	/* The repository: GitLab, Gitea/Forgejo, gitolite, or the path itself. */
	if (!(h->repo_name = env_dup("GL_PROJECT_PATH"))) {
		if ((e = getenv("GITEA_REPO_NAME")) && *e) {
			const char *owner = getenv("GITEA_REPO_USER_NAME");
			if (asprintf(&h->repo_name, "%s/%s", owner ? owner : "", e) < 0)
				h->repo_name = NULL;
		} else if (!(h->repo_name = env_dup("GL_REPO"))) {
			char *abs = realpath(h->git_dir, NULL);
			h->repo_name = strdup(abs ? abs : h->git_dir);
			free(abs);
		}
	}
	/* The person: as the hosting layer authenticated them, else the account. */
	if (!(h->pusher = env_dup("GL_USERNAME")) && !(h->pusher = env_dup("GITEA_PUSHER_NAME")) &&
	    !(h->pusher = env_dup("GL_USER")) && !(h->pusher = env_dup("REMOTE_USER"))) {
		struct passwd *pw = getpwuid(getuid());
		h->pusher = strdup(pw ? pw->pw_name : "unknown");
	}
	/*
	 * The transport. git-daemon sets REMOTE_ADDR but is not HTTP; a CGI
	 * (git http-backend) sets GATEWAY_INTERFACE.
	 */
	if (!(h->protocol = env_dup("GL_PROTOCOL"))) {
		if (getenv("GATEWAY_INTERFACE") || getenv("REMOTE_USER") || getenv("HTTP_HOST"))
			h->protocol = strdup("http");
		else if (getenv("SSH_CONNECTION") || getenv("SSH_CLIENT"))
			h->protocol = strdup("ssh");
		else if (getenv("REMOTE_ADDR"))
			h->protocol = strdup("git");
		else
			h->protocol = strdup("local");
	}
}

/* ---- standard input ---- */

static int read_stdin(struct lg_vec *buf)
{
	char block[65536];
	int err;

	for (;;) {
		ssize_t r = read(0, block, sizeof(block));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return LG_EIO;
		if (r == 0)
			return LG_OK;
		if ((err = lg_vec_putn(buf, block, (size_t)r)))
			return err;
	}
}

/* Truth of a git config boolean as written on git's command line. */
static int git_true(const char *v, size_t n)
{
	return (n == 4 && !strncasecmp(v, "true", 4)) || (n == 3 && !strncasecmp(v, "yes", 3)) ||
	       (n == 2 && !strncasecmp(v, "on", 2)) || (n == 1 && v[0] == '1');
}

/*
 * Forges turn push options on with `git -c receive.advertisePushOptions=true
 * receive-pack`, which reaches the hook only through the environment:
 * GIT_CONFIG_PARAMETERS ('key=value' or 'key'='value' items) and
 * GIT_CONFIG_COUNT/KEY_n/VALUE_n.
 */
static int push_options_from_env(void)
{
	static const char key[] = "receive.advertisepushoptions";
	const char *e = getenv("GIT_CONFIG_PARAMETERS"), *cnt = getenv("GIT_CONFIG_COUNT");
	int on = -1;

	for (const char *p = e; p && *p; p++) {
		const char *v;
		size_t n;
		if (strncasecmp(p, key, sizeof(key) - 1))
			continue;
		v = p + sizeof(key) - 1;
		if (*v == '\'')
			v++;
		if (*v != '=')
			continue;
		v++;
		if (*v == '\'')
			v++;
		n = strcspn(v, "' ");
		on = git_true(v, n);
	}
	for (long i = 0, n = cnt ? strtol(cnt, NULL, 10) : 0; i < n && i < 1000; i++) {
		char kname[40], vname[40];
		const char *k, *v;
		snprintf(kname, sizeof(kname), "GIT_CONFIG_KEY_%ld", i);
		snprintf(vname, sizeof(vname), "GIT_CONFIG_VALUE_%ld", i);
		k = getenv(kname);
		v = getenv(vname);
		if (k && v && !strcasecmp(k, key))
			on = git_true(v, strlen(v));
	}
	return on;
}

static void read_push_options(struct hook *h)
{
	const char *cnt = getenv("GIT_PUSH_OPTION_COUNT");
	long n = cnt ? strtol(cnt, NULL, 10) : 0;
	int env_on = push_options_from_env();

	/*
	 * Options reached us, so they are on, whatever the files say. (git
	 * sets GIT_PUSH_OPTION_COUNT=0 even when they are off: only a count
	 * above zero tells.)
	 */
	if (n > 0 || env_on == 1)
		h->cfg.advertise_options = 1;
	else if (env_on == 0)
		h->cfg.advertise_options = 0;

	for (long i = 0; i < n && i < 1000; i++) {
		char name[64], *reason = NULL;
		int k;
		snprintf(name, sizeof(name), "GIT_PUSH_OPTION_%ld", i);
		k = push_bypass_option(getenv(name), &reason);
		if (k == 0)
			continue;
		/* The last bypass option wins; one that cannot be read counts as one without a reason. */
		h->bypass_requested = 1;
		free(h->bypass_reason);
		h->bypass_reason = reason;
		h->bypass_bad = !reason;
	}
}

/* ---- the audit store, on its own thread ---- */

static void *store_main(void *arg)
{
	struct hook *h = arg;
	struct lg_store *st = NULL;
	struct lg_store_opts o = {0};
	char *marker_dir = NULL;
	int err;

	o.create = 1;
	/* The store may take the whole budget at most; the scan needs it only at the end. */
	o.deadline_ms = h->deadline_ms;
	if (h->cfg.key_file) {
		char *slash;
		if ((marker_dir = strdup(h->cfg.key_file)) && (slash = strrchr(marker_dir, '/'))) {
			strcpy(slash, "/databases");
			o.marker_dir = marker_dir;
		} else {
			free(marker_dir);
			marker_dir = NULL;
		}
	}
	err = lg_store_open_ex(&st, h->store_path, &o, &h->store_diag);
	free(marker_dir);
	pthread_mutex_lock(&h->store_lock);
	h->store_code = err;
	if (!err) {
		h->store = st;
		h->rule_changes = lg_store_has_rule_changes(st);
	}
	h->store_done = 1;
	pthread_cond_broadcast(&h->store_cv);
	pthread_mutex_unlock(&h->store_lock);
	return NULL;
}

void hook_store_wait(struct hook *h)
{
	if (!h->store_started)
		return;
	pthread_mutex_lock(&h->store_lock);
	while (!h->store_done)
		pthread_cond_wait(&h->store_cv, &h->store_lock);
	pthread_mutex_unlock(&h->store_lock);
}

static void start_store(struct hook *h)
{
	pthread_t st;

	h->store_path = h->cfg.db_path ? strdup(h->cfg.db_path) : lg_store_default_path();
	if (!h->store_path) {
		hook_failed(h, LG_ENOMEM, 1, "out of memory");
		return;
	}
	h->store_started = 1;
	if (pthread_create(&st, NULL, store_main, h) == 0)
		pthread_detach(st);
	else
		store_main(h);
}

/* ---- rules ---- */

static void diag_line(const struct lg_diag *d, char *buf, size_t len)
{
	if (d->n)
		lg_diag_format(&d->v[0], buf, len);
	else
		snprintf(buf, len, "unknown error");
}

/*
 * The rules the settings and the store call for. What cannot be loaded is
 * a failure; the push is then checked with what can be (the settings'
 * packs without the store's custom rules, else the built-in rules alone).
 * Only when not even those load is there nothing to check with.
 */
static int load_rules(struct hook *h)
{
	struct lg_load_opts lo;
	struct lg_diag d;
	char msg[700];
	int err;
	/*
	 * Only packs and disabled rules change what is checked. A cache folder
	 * or key file in the settings changes where compiled rules are kept,
	 * not which rules there are: the built-in set loaded at start (or by
	 * the hook server, before forking) is the same set, already checked
	 * against its cache's MAC, and loading it again costs a whole cache
	 * read per push (5 MB, HMAC and deserialization: about 15 ms).
	 */
	int want_config = h->cfg.npacks || h->cfg.ndisabled;

	if (h->store && !want_config && !h->rule_changes && h->rules_loaded)
		return LG_OK; /* the built-in rules loaded at start are the ones */
	memset(&lo, 0, sizeof(lo));
	lo.packs = (const char *const *)h->cfg.packs;
	lo.npacks = h->cfg.npacks;
	lo.disabled = (const char *const *)h->cfg.disabled;
	lo.ndisabled = h->cfg.ndisabled;
	lo.cache_dir = h->cfg.cache_dir;
	lo.cache_key = h->have_key ? &h->key : NULL;
	if (h->store) {
		struct lg_ruleset *rs = NULL;
		lg_diag_init(&d);
		err = lg_ops_load_rules(h->store, &lo, &rs, NULL, &d);
		if (!err) {
			if (h->rs != h->preloaded)
				lg_ruleset_free(h->rs);
			h->rs = rs;
			h->rules_loaded = 1;
			lg_diag_release(&d);
			return LG_OK;
		}
		diag_line(&d, msg, sizeof(msg));
		hook_failed(h, err, err == LG_EBUSY, "the rules cannot be loaded: %s", msg);
		lg_diag_release(&d);
	}
	if (!want_config && h->rules_loaded)
		return LG_OK; /* the built-in rules are what is left */
	{
		struct lg_ruleset *rs = NULL;
		lg_diag_init(&d);
		err = lg_ruleset_load(&rs, &lo, NULL, &d);
		if (!err) {
			if (h->rs != h->preloaded)
				lg_ruleset_free(h->rs);
			h->rs = rs;
			h->rules_loaded = 1;
			lg_diag_release(&d);
			return LG_OK;
		}
		diag_line(&d, msg, sizeof(msg));
		hook_failed(h, err, 0, "the rules cannot be loaded: %s", msg);
		lg_diag_release(&d);
	}
	return h->rules_loaded ? LG_OK : LG_EINVALID;
}

/* ---- the phase ---- */

static int is_sha256_repo(const char *git_dir)
{
	git_config *cfg = NULL;
	char *path = NULL;
	git_buf b = {0};
	int yes = 0;

	if (asprintf(&path, "%s/config", git_dir) < 0)
		return 0;
	if (git_config_open_ondisk(&cfg, path) == 0 &&
	    git_config_get_string_buf(&b, cfg, "extensions.objectformat") == 0 && b.ptr)
		yes = strcasecmp(b.ptr, "sha256") == 0;
	git_buf_dispose(&b);
	git_config_free(cfg);
	free(path);
	return yes;
}

/*
 * Inputs, in the order that lets slow parts overlap: the caller has
 * started libgit2 on a second thread and loaded the built-in rules.
 */
int hook_load_inputs(struct hook *h)
{
	struct lg_diag d;
	struct lg_vec input = LG_VEC_INIT(1, PUSH_STDIN_MAX + 1);
	char *keypath = NULL;
	int err, sha256 = 0;

	lg_diag_init(&d);
	err = hook_config_load(&h->cfg, h->git_dir, &d);
	/* Every invalid setting is said; the check goes on with safe values. */
	for (size_t i = 0; i < d.n; i++) {
		char line[700];
		lg_diag_format(&d.v[i], line, sizeof(line));
		hook_failed(h, err, 0, "invalid setting: %s", line);
	}
	lg_diag_release(&d);
	h->deadline_ms = h->t0_ms + (int64_t)h->cfg.timeout * 1000;
	hook_trace(h, "config");
	start_store(h);

	err = read_stdin(&input);
	if (err) {
		hook_failed(h, err, 0, "the ref updates from git are %s",
			    err == LG_ETOOLARGE ? "larger than the hook accepts" : "unreadable");
		goto out;
	}
	lg_diag_init(&d);
	err = push_parse_updates(&h->push, lg_vec_str(&input), input.n, &sha256, &d);
	if (err || is_sha256_repo(h->git_dir)) {
		if (sha256 || is_sha256_repo(h->git_dir))
			hook_failed(h, LG_EINVALID, 0,
				    "this is a SHA-256 repository, which this libgit2 (%d.%d) cannot read",
				    LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR);
		else
			hook_failed(h, err, 0, "malformed ref updates from git: %s",
				    d.n ? d.v[0].message : lg_strerror(err));
		lg_diag_release(&d);
		err = err ? err : LG_EINVALID;
		goto out;
	}
	lg_diag_release(&d);
	read_push_options(h);
	hook_trace(h, "stdin");

	keypath = h->cfg.key_file ? strdup(h->cfg.key_file) : lg_key_default_path();
	lg_diag_init(&d);
	if (!keypath || (err = lg_key_load(&h->key, keypath, 1, &d))) {
		char msg[700];
		if (d.n)
			lg_diag_format(&d.v[0], msg, sizeof(msg));
		else
			snprintf(msg, sizeof(msg), "%s", lg_strerror(err ? err : LG_ENOMEM));
		hook_failed(h, err ? err : LG_ENOMEM, 0, "the fingerprint key is not usable: %s", msg);
		lg_diag_release(&d);
		err = err ? err : LG_ENOMEM;
		goto out;
	}
	lg_diag_release(&d);
	h->have_key = 1;
	hook_trace(h, "key");
	err = LG_OK;
out:
	free(keypath);
	lg_vec_release(&input);
	return err;
}

/*
 * The store and the rules, once the walk no longer needs the time: the
 * store's thread has opened the database meanwhile.
 */
int hook_load_rules(struct hook *h)
{
	hook_store_wait(h);
	if (!h->store) {
		char msg[700];
		diag_line(&h->store_diag, msg, sizeof(msg));
		hook_failed(h, h->store_code, h->store_code == LG_EBUSY || h->store_code == LG_ETIMEDOUT,
			    "the audit database is not usable: %s", msg);
	}
	hook_trace(h, "store");
	return load_rules(h);
}
