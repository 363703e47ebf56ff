/*
 * leakgate-pre-receive: the Git server hook.
 *
 * Git runs it after receiving a push and before moving any ref, with the
 * ref updates on standard input and the incoming objects in a quarantine
 * directory. hook_run() is the whole check as a list of phases (hook.h):
 * load inputs, walk, load rules, scan, attribute, exempt, decide, record,
 * explain. Each returns, none exits; this file is the one place that
 * leaves, with the verdict git acts on: 0 accepts, 1 rejects.
 *
 * Anything that keeps the check from completing (an invalid setting,
 * unreadable input, repository, rules, database or objects, a scan that
 * failed, too many findings, a time-out) is a failure: the pusher sees one
 * line, the event is recorded as failed, and leakgate.failMode decides:
 * closed (reject, the default) or open (accept). A secret that was found
 * blocks the push whatever else failed.
 *
 * A watchdog thread enforces leakgate.timeout: it sets the cancel flag
 * that the phases and scanners watch, and only if they have not finished
 * a moment later does it decide by itself, from data that no other thread
 * changes any more.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "hook-server.h"
#include "hook.h"
#include "loader.h"

/*
 * libgit2 memory for the hook. Its defaults (a 256 MiB object cache, 1 GiB
 * pack windows, 8 GiB of them mapped) let the hook's memory grow with the
 * push. Windows of 4 MiB, 16 MiB of them at once: measured with
 * bench/push-bench.sh, peak RSS stays at about 58 MB from 65 to 132 MB of
 * pushed blobs (32 MiB mapped: 57 -> 79 MB, the whole 21 MB pack mapped)
 * for about 20% more read time.
 */
#define HOOK_PACK_MAPPED_MB 16
#define HOOK_PACK_WINDOW_MB 4

/*
 * In a process forked by the hook server (hook-server.h): the built-in
 * rules the server loaded before forking (NULL if it could not), and the
 * connection to the client, which takes the verdict.
 */
static int served;
static struct lg_ruleset *preloaded;
static int verdict_fd = -1;

extern char *hook_published_line;
char *hook_refs_json(struct hook *h);
void hook_syslog(struct hook *h, const char *kind, const char *stored, const char *fps);

/*
 * The end of every run. It leaves without running the libraries' exit
 * handlers (TLS, libgit2, GnuTLS teardown): they cost milliseconds on
 * every push and hold nothing that needs saving; the database is
 * committed already.
 */
static void hook_exit(int status) __attribute__((noreturn));
static void hook_exit(int status)
{
	fflush(stdout);
	fflush(stderr);
	if (verdict_fd >= 0)
		hs_send_verdict(verdict_fd, status);
	_exit(status);
}

int64_t hook_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hook_trace(const struct hook *h, const char *phase)
{
	struct timespec ts;
	char line[128];
	long hwm = 0;
	FILE *f;

	if (!h->trace_on)
		return;
	/* Peak memory so far, for administrators sizing the hook. */
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &hwm) == 1)
			break;
	if (f)
		fclose(f);
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "leakgate: trace: %-14s %8.3f ms  peak %ld KiB\n", phase,
		(double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 - (double)h->t0_us / 1e3, hwm);
}

const char *hook_git_error(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown error";
}

void hook_failed(struct hook *h, int code, int retry, const char *fmt, ...)
{
	struct hfailure *f;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Past the slots, or out of memory, the failure is still counted. */
	if (h->failures.n >= HOOK_FAILURES_MAX || lg_vec_grow(&h->failures, 1, (void **)&f)) {
		h->failures_dropped++;
		return;
	}
	if (!(f->message = strdup(msg))) {
		h->failures.n--;
		h->failures_dropped++;
		return;
	}
	f->code = code;
	f->retry = retry;
}

/* ---- the watchdog ---- */

/* Wait until the hook is done or until passes; 1 if it is done. */
static int wait_done(struct hook *h, const struct timespec *until)
{
	int done;

	pthread_mutex_lock(&h->lock);
	while (!h->done && pthread_cond_timedwait(&h->done_cv, &h->lock, until) != ETIMEDOUT)
		;
	done = h->done;
	pthread_mutex_unlock(&h->lock);
	return done;
}

static void write_stderr(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t k = write(2, s, n);
		if (k <= 0)
			break;
		s += k;
		n -= (size_t)k;
	}
}

static char *emergency_refs; /* the redacted refs, once the rules are there */

/*
 * The phases did not stop in time (stuck in one object, or the database
 * hangs). Decide from what no other thread changes any more: the
 * published event if the verdict is known, else a failed event with the
 * ref updates and identity that were read at the start.
 */
static void emergency(struct hook *h) __attribute__((noreturn));
static void emergency(struct hook *h)
{
	struct lg_event ev;
	struct lg_diag d;
	char *line = NULL, reason[160];
	int status, decided;

	pthread_mutex_lock(&h->lock);
	decided = h->decided;
	status = h->decided_status;
	line = hook_published_line;
	pthread_mutex_unlock(&h->lock);
	lg_diag_init(&d);
	if (decided && line) {
		/* The same event (same uid): if the database took it after all, it is stored once. */
		if (h->store_path)
			lg_spool_append_line(h->store_path, line, hook_now_ms() + 500, &d);
		hook_syslog(h, policy_kind_name(h->pout.kind), "spool", "");
		hook_exit(status);
	}
	snprintf(reason, sizeof(reason), "the check did not finish within %d s (leakgate.timeout)", h->cfg.timeout);
	memset(&ev, 0, sizeof(ev));
	memcpy(ev.uid, h->ev.uid, sizeof(ev.uid));
	ev.time_ms = hook_now_ms();
	ev.kind = "failed";
	ev.repo = h->repo_name;
	ev.pusher = h->pusher;
	ev.protocol = h->protocol;
	ev.refs_json = __atomic_load_n(&emergency_refs, __ATOMIC_ACQUIRE);
	ev.reason = reason;
	ev.duration_ms = ev.time_ms - h->t0_ms;
	if (h->store_path)
		lg_spool_append(h->store_path, &ev, hook_now_ms() + 500, &d);
	hook_syslog(h, "failed", "spool", "");
	write_stderr(h->gitlab && !h->cfg.fail_open ? "GL-HOOK-ERR: " : "");
	write_stderr("leakgate: could not check this push completely: ");
	write_stderr(reason);
	write_stderr(h->cfg.fail_open ? "; accepted unchecked because leakgate.failMode is open.\n"
				      : "; rejected because leakgate.failMode is closed. Try again in a few "
					"minutes; tell your administrator if it keeps failing.\n");
	hook_exit(h->cfg.fail_open ? 0 : 1);
}

static void *watchdog(void *arg)
{
	struct hook *h = arg;
	struct timespec until;

	until.tv_sec = (time_t)(h->deadline_ms / 1000);
	until.tv_nsec = (long)(h->deadline_ms % 1000) * 1000000;
	if (wait_done(h, &until))
		return NULL;
	/* Out of time: ask the phases to stop, and give them a moment to notice. */
	h->cancel = 1;
	until.tv_sec += WATCHDOG_GRACE_MS / 1000;
	until.tv_nsec += (long)(WATCHDOG_GRACE_MS % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	if (wait_done(h, &until))
		return NULL;
	emergency(h);
}

/* ---- the repository ---- */

int hook_open_repo(git_repository **out, const char *git_dir, const char *quarantine);
int hook_open_repo(git_repository **out, const char *git_dir, const char *quarantine)
{
	git_odb *odb = NULL;
	int err;

	/*
	 * Open the repository itself and add the quarantine as one more object
	 * folder. Letting libgit2 read GIT_ALTERNATE_OBJECT_DIRECTORIES instead
	 * breaks on paths with a colon, which git C-quotes (DESIGN.md).
	 */
	err = git_repository_open_ext(out, git_dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (err < 0)
		return err;
	if (quarantine && *quarantine) {
		if ((err = git_repository_odb(&odb, *out)) < 0 || (err = git_odb_add_disk_alternate(odb, quarantine)) < 0) {
			git_odb_free(odb);
			git_repository_free(*out);
			*out = NULL;
			return err;
		}
		git_odb_free(odb);
	}
	return 0;
}

int hook_walk(struct hook *h)
{
	struct lg_diag d;
	int err;

	if (hook_open_repo(&h->repo, h->git_dir, h->quarantine) < 0) {
		hook_failed(h, LG_EIO, 0, "cannot open the repository: %s", hook_git_error());
		return LG_EIO;
	}
	h->push.cancel = &h->cancel;
	lg_diag_init(&d);
	err = push_walk(&h->push, h->repo, h->quarantine, &d);
	if (err == LG_ECANCELED || (err && h->cancel)) {
		hook_failed(h, LG_ECANCELED, 1, "the check did not finish within %d s (leakgate.timeout)",
			    h->cfg.timeout);
	} else if (err) {
		char msg[600] = "unknown error";
		if (d.n)
			lg_diag_format(&d.v[d.n - 1], msg, sizeof(msg));
		hook_failed(h, err, err == LG_ENOMEM, "%s", msg);
	}
	lg_diag_release(&d);
	hook_trace(h, "walk");
	return err;
}

/* ---- the decision ---- */

void hook_decide(struct hook *h)
{
	struct policy_in *in = &h->pin;

	memset(in, 0, sizeof(*in));
	for (size_t i = 0; i < h->found.n; i++) {
		switch (LG_VEC_AT(&h->found, struct hfinding, i).status) {
		case F_BLOCK: in->blocking++; break;
		case F_PREEXISTING: in->preexisting++; break;
		case F_EXEMPT: in->exempted++; break;
		case F_WARN: in->warnings++; break;
		case F_CARRIED: break;
		}
	}
	in->failures = h->failures.n + h->failures_dropped;
	in->fail_open = h->cfg.fail_open;
	in->bypass_requested = h->bypass_requested;
	in->bypass_reason = !h->bypass_bad && h->bypass_reason;
	in->bypass_allowed = h->cfg.allow_bypass;
	policy_decide(in, &h->pout);
}

/* ---- the run ---- */

static void *init_libgit2(void *unused)
{
	(void)unused;
	git_libgit2_init();
	/* git's index-pack has already hashed every incoming object. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/* Git itself decided that this repository may be used. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	/*
	 * No object cache: the walk reads each tree about once or twice, and
	 * measured on a 2400-commit push the cache made the walk slower (147 ->
	 * 165 ms with 4 MiB) and the hook bigger (its accounting counts raw
	 * object sizes; parsed trees take about three times that).
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)HOOK_PACK_WINDOW_MB << 20);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)HOOK_PACK_MAPPED_MB << 20);
	return NULL;
}

static struct hook hook;

/* What every run starts with: the clock, the event's uid, the locks, the environment. */
static void hook_init(struct hook *h)
{
	struct timespec ts;
	const char *t = getenv("LEAKGATE_TRACE");

	memset(h, 0, sizeof(*h));
	clock_gettime(CLOCK_REALTIME, &ts);
	h->t0_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	h->t0_ms = h->t0_us / 1000;
	h->deadline_ms = h->t0_ms + (int64_t)HOOK_DEFAULT_TIMEOUT * 1000;
	h->trace_on = t && *t && strcmp(t, "0");
	h->served = served;
	h->preloaded = preloaded;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->done_cv, NULL);
	pthread_mutex_init(&h->store_lock, NULL);
	pthread_cond_init(&h->store_cv, NULL);
	lg_diag_init(&h->store_diag);
	push_init(&h->push);
	lg_vec_init(&h->found, sizeof(struct hfinding), HOOK_FINDINGS_MAX);
	lg_vec_init(&h->strings, sizeof(char *), 4 * (size_t)HOOK_FINDINGS_MAX);
	lg_vec_init(&h->blobfound, sizeof(struct hfinding), HOOK_FINDINGS_MAX);
	lg_vec_init(&h->failures, sizeof(struct hfailure), HOOK_FAILURES_MAX);
	if (lg_event_new_uid(&h->ev))
		snprintf(h->ev.uid, sizeof(h->ev.uid), "%016llx%016llx", (unsigned long long)h->t0_us,
			 (unsigned long long)getpid());
	h->git_dir = getenv("GIT_DIR");
	if (!h->git_dir || !*h->git_dir)
		h->git_dir = ".";
	h->quarantine = getenv("GIT_OBJECT_DIRECTORY");
	if (!h->quarantine || !*h->quarantine)
		h->quarantine = getenv("GIT_QUARANTINE_PATH");
	signal(SIGPIPE, SIG_IGN);
}

/* The built-in rules, before the settings are known (they rarely change them). */
static void load_builtin(struct hook *h)
{
	struct lg_load_opts lo;
	struct lg_diag d;

	if (h->preloaded) {
		h->rs = h->preloaded;
		h->rules_loaded = 1;
		return;
	}
	memset(&lo, 0, sizeof(lo));
	lo.cache_dir = getenv("LEAKGATE_CACHE_DIR");
	lg_diag_init(&d);
	/* A failure here is looked at again once the settings are read (hook_load_rules). */
	h->rules_loaded = lg_ruleset_load(&h->rs, &lo, NULL, &d) == 0;
	lg_diag_release(&d);
}

static int hook_run(void)
{
	struct hook *h = &hook;
	pthread_t init_thread, wd;
	int spawned = 0, err;

	hook_init(h);
	if (served)
		hook_trace(h, "hook server");
	/*
	 * libgit2's start-up loads the system's TLS certificates (about 5 ms
	 * here), which the hook never uses: let it run on a second thread
	 * while this one loads the built-in rules.
	 */
	if (served)
		init_libgit2(NULL); /* done by the server: only counts a user */
	else if (!(spawned = pthread_create(&init_thread, NULL, init_libgit2, NULL) == 0))
		init_libgit2(NULL);
	hook_identify(h);
	load_builtin(h);
	hook_trace(h, "rules");
	if (spawned)
		pthread_join(init_thread, NULL);
	hook_trace(h, "libgit2 init");

	err = hook_load_inputs(h);
	if (!err && h->push.updates.n == 0)
		goto decide; /* nothing to check */
	if (!err && pthread_create(&wd, NULL, watchdog, h) == 0)
		pthread_detach(wd);
	else if (!err)
		hook_failed(h, LG_ERROR, 1, "cannot start the watchdog for leakgate.timeout");
	if (!err)
		err = hook_walk(h);
	if (!err)
		err = hook_load_rules(h);
	if (!err && (err = lg_scanner_new(&h->scanner, h->rs, &h->key)))
		hook_failed(h, err, 1, "cannot start a scanner: %s", lg_strerror(err));
	if (!err) {
		lg_scanner_set_cancel(h->scanner, &h->cancel);
		__atomic_store_n(&emergency_refs, hook_refs_json(h), __ATOMIC_RELEASE);
		err = hook_scan(h);
	}
	if (!err)
		err = hook_attribute(h);
	hook_trace(h, "attribute");
	if (!err) {
		hook_grade(h);
		hook_exempt(h);
	}
decide:
	/*
	 * The watchdog leaves everything to this thread from now on, and the
	 * scanner is only used for redaction (short texts): a cancelled scan
	 * would leave them unredacted, so it no longer watches the flag.
	 */
	if (h->scanner)
		lg_scanner_set_cancel(h->scanner, NULL);
	pthread_mutex_lock(&h->lock);
	h->done = 1;
	pthread_cond_broadcast(&h->done_cv);
	pthread_mutex_unlock(&h->lock);
	if (!h->store_done && h->store_started)
		hook_store_wait(h);
	hook_decide(h);
	hook_record(h);
	hook_trace(h, "recorded");
	hook_explain(h);
	return h->pout.accept ? 0 : 1;
}

int hook_report_lost(struct hook *h, const char *reason)
{
	struct lg_diag d;

	hook_init(h);
	git_libgit2_init();
	hook_identify(h);
	lg_diag_init(&d);
	/* Invalid settings are counted too: the failMode that was read decides. */
	hook_config_load(&h->cfg, h->git_dir, &d);
	lg_diag_release(&d);
	h->deadline_ms = hook_now_ms() + 5000;
	h->store_path = h->cfg.db_path ? strdup(h->cfg.db_path) : lg_store_default_path();
	hook_failed(h, LG_ERROR, 1, "%s", reason);
	if (h->store_path) {
		struct lg_store_opts o = {0};
		o.deadline_ms = h->deadline_ms;
		o.create = 1;
		lg_diag_init(&d);
		if (lg_store_open_ex(&h->store, h->store_path, &o, &d))
			h->store = NULL;
		lg_diag_release(&d);
	}
	h->store_done = 1;
	/* What is recorded and shown is redacted with the rules, as always. */
	load_builtin(h);
	if (h->rules_loaded) {
		char *keypath = h->cfg.key_file ? strdup(h->cfg.key_file) : lg_key_default_path();
		if (keypath && lg_key_load(&h->key, keypath, 1, NULL) == 0)
			lg_scanner_new(&h->scanner, h->rs, &h->key);
		free(keypath);
	}
	hook_decide(h);
	hook_record(h);
	hook_explain(h);
	return h->pout.accept ? 0 : 1;
}

/* In a process forked by the hook server, with the client's environment. */
static int hook_run_served(int conn)
{
	served = 1;
	verdict_fd = conn;
	/* libgit2 found the global and system configuration from the server's environment. */
	for (int level = GIT_CONFIG_LEVEL_PROGRAMDATA; level <= GIT_CONFIG_LEVEL_GLOBAL; level++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, NULL);
	hook_exit(hook_run());
}

static void usage(FILE *to)
{
	fprintf(to, "usage: leakgate-pre-receive            (run by git as the pre-receive hook)\n"
		    "       leakgate-pre-receive --serve [SOCKET]\n"
		    "                    the hook server: checks pushes handed over by leakgate-pre-receive-client\n"
		    "                    (default socket: $LEAKGATE_SOCKET, else ~/.local/state/leakgate/hook.sock)\n"
		    "       leakgate-pre-receive --failed REASON\n"
		    "                    record that the check of a push was lost (the client runs this\n"
		    "                    when the check it handed over died), and exit as failMode says\n"
		    "       leakgate-pre-receive --help | --version\n");
}

int main(int argc, char **argv)
{
	if (argc == 1)
		hook_exit(hook_run());
	if (!strcmp(argv[1], "--serve")) {
		if (argc > 3) {
			usage(stderr);
			return 2;
		}
		/* What a forked check would otherwise spend its first milliseconds on. */
		init_libgit2(NULL);
		lg_store_init();
		{
			struct lg_load_opts lo = {0};
			struct lg_diag d;
			lg_diag_init(&d);
			lo.cache_dir = getenv("LEAKGATE_CACHE_DIR");
			if (lg_ruleset_load(&preloaded, &lo, NULL, &d))
				preloaded = NULL;
			else
				lg_ruleset_prepare_scratch(preloaded);
			lg_diag_release(&d);
		}
		{
			int status = hs_serve(argc == 3 ? argv[2] : NULL, hook_run_served);
			lg_ruleset_free(preloaded);
			git_libgit2_shutdown();
			return status;
		}
	}
	if (!strcmp(argv[1], "--failed") && argc == 3)
		hook_exit(hook_report_lost(&hook, argv[2]));
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("leakgate-pre-receive %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "leakgate-pre-receive: unknown arguments (git runs the hook without any)\n");
	usage(stderr);
	return 2;
}
