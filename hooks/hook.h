/*
 * The pre-receive hook's state for one push, shared by its phases:
 *
 *   hook-input.c      load inputs: identity, settings, ref updates, push
 *                     options, fingerprint key, audit store, rules
 *   push.c            walk: what the push adds
 *   hook-scan.c       scan: blobs (on several threads), commit and tag
 *                     objects, ref names
 *   hook-attribute.c  attribute: blob findings to the commits and paths
 *                     that add them; pre-existing and carried secrets;
 *                     exemptions
 *   policy.c          decide (a pure function)
 *   hook-explain.c    explain: what the pusher reads
 *   hook-record.c     record: the audit event (database, else spool) and
 *                     one syslog line
 *
 * pre-receive.c runs them in order and is the one place that exits. A
 * phase that meets a problem it can step over (one unreadable object, one
 * scan that failed) records a failure and goes on, so that the secrets it
 * can still see are reported; a problem that leaves nothing to go on with
 * makes the phase return non-zero and the rest is skipped. Either way the
 * failures make the check incomplete and leakgate.failMode decides.
 */
#ifndef LG_HOOK_H
#define LG_HOOK_H

#include <pthread.h>
#include <stdint.h>

#include <git2.h>

#include "hook-config.h"
#include "policy.h"
#include "push.h"
#include "scanner.h"
#include "store.h"
#include "vec.h"

#define BYPASS_OPTION PUSH_BYPASS_OPTION
/* After the time budget, the phases get this long to notice before the watchdog decides. */
#define WATCHDOG_GRACE_MS 2000
/*
 * Findings a push may have before the check gives up (LG_ETOOLARGE: a
 * failure, so failMode decides, and the pusher is told why). A real leak
 * has a handful; this many means generated data, and holding them costs
 * about 40 MB.
 */
#define HOOK_FINDINGS_MAX 250000
/* Findings kept in the audit event; the rest are counted there. */
#define HOOK_EVENT_FINDINGS_MAX 5000
/* Skipped files named in the audit event; the rest are counted there. */
#define HOOK_EVENT_SKIPPED_MAX 10000
/* Reasons for an incomplete check that are kept. */
#define HOOK_FAILURES_MAX 64

enum fstatus {
	F_BLOCK,       /* new in this push: blocks */
	F_PREEXISTING, /* the server already has it at the same path */
	F_CARRIED,     /* an earlier commit of this push added it (reported there) */
	F_EXEMPT,      /* an exemption lets it through */
	F_WARN,        /* new, but leakgate.block lets it warn (its confidence, its path's context) */
};

struct hfinding {
	const struct lg_rule *rule;
	char fingerprint[LG_FP_HEX + 1];
	char preview[LG_PREVIEW_MAX];
	uint64_t line, column;
	uint64_t start, end; /* bytes of the secret in its document */
	size_t blob;         /* unique blob index, or SIZE_MAX */
	size_t item;         /* item index once attributed, else SIZE_MAX */
	enum fstatus status;
	int64_t exemption;   /* the exemption that let it pass (F_EXEMPT) */
	unsigned char context; /* enum lg_context of its path, set by hook_grade (a message: none) */
	unsigned char part;  /* PART_*: where in a commit or tag object */
	char *member;        /* the archive member that holds it (h->strings owns it), or NULL */
	char *layer;         /* the encodings it was found under (h->strings owns it), or NULL */
};

/* Where in a commit or tag object a finding is; its line counts from there. */
enum { PART_WHOLE, PART_HEADER, PART_MESSAGE };

/* What became of each unique blob. */
enum blob_state {
	BLOB_PENDING,    /* not reached (the scan was stopped) */
	BLOB_SCANNED,
	BLOB_BINARY,     /* NUL bytes: scanned for high-confidence rules only (leakgate.scanBinary: all) */
	BLOB_LARGE,      /* over leakgate.maxBlobSize: skipped */
	BLOB_UNREADABLE, /* could not be read: a failure */
	BLOB_FAILED,     /* its scan did not complete: a failure */
};

struct hfailure {
	int code;  /* lg code */
	int retry; /* a later attempt may pass (a time-out, a lock) */
	char *message;
};

struct hook {
	struct hook_config cfg;
	const char *git_dir;
	const char *quarantine;
	char *repo_name, *pusher, *protocol; /* as the hosting layer gave them (any bytes) */
	int gitlab;                          /* under GitLab: lines it shows get its prefix */
	int served;                          /* forked by the hook server */
	git_repository *repo;
	struct push push;
	struct lg_ruleset *rs;
	struct lg_ruleset *preloaded; /* built-in rules the hook server loaded, or NULL */
	int rules_loaded;
	struct lg_key key;
	int have_key;
	struct lg_scanner *scanner; /* the main thread's: messages, old versions, redaction */

	struct lg_vec blobfound;   /* struct hfinding: the blob scan's, by blob */
	struct lg_vec found;       /* struct hfinding: attributed to items */
	unsigned char *blob_state; /* enum blob_state, per unique blob */
	unsigned char *blob_notes; /* LG_NOTE_*: what of an archive could not be opened, per unique blob */
	char first_note[300];      /* the first of those, in words */
	struct lg_vec strings;     /* char *: the findings' members and layers */
	struct lg_vec failures;    /* struct hfailure */
	size_t failures_dropped;
	uint64_t bytes_scanned;
	size_t objects_scanned;

	char *bypass_reason; /* as given, before redaction */
	int bypass_requested, bypass_bad;

	struct lg_event ev;  /* its uid is made at start */
	int64_t t0_ms, t0_us;
	int64_t deadline_ms; /* t0 + leakgate.timeout */

	/* Shared with the scanning threads and the watchdog. */
	pthread_mutex_t lock;
	pthread_cond_t done_cv;
	size_t next_blob;
	volatile int cancel;
	int done;
	/*
	 * Published once (under lock) when the verdict is known, for the
	 * watchdog: the exit status and the finished event as one spool line.
	 */
	int decided, decided_status;

	/* The audit store opens on its own thread while the push is walked. */
	pthread_mutex_t store_lock;
	pthread_cond_t store_cv;
	int store_started, store_done, rule_changes;
	struct lg_store *store;
	char *store_path;
	struct lg_diag store_diag;
	int store_code;

	/* Filled by the decision. */
	struct policy_in pin;
	struct policy_out pout;
	int stored;  /* 1: in the database, 2: in the spool, 0: lost */
	int trace_on;
};

/* ---- shared helpers (pre-receive.c) ---- */

int64_t hook_now_ms(void);
/* LEAKGATE_TRACE=1: the phase's time and peak memory on stderr. */
void hook_trace(const struct hook *h, const char *phase);
/*
 * The check cannot be complete: keep the reason (one line for people:
 * what, where). retry: a later attempt may pass.
 */
void hook_failed(struct hook *h, int code, int retry, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* git_error_last()'s message, or "unknown error". */
const char *hook_git_error(void);

/* ---- phases ---- */

int hook_load_inputs(struct hook *h);
int hook_walk(struct hook *h);
int hook_load_rules(struct hook *h);
int hook_scan(struct hook *h);
int hook_attribute(struct hook *h);
int hook_exempt(struct hook *h);
/* Phase 4b: findings that leakgate.block does not block become warnings (policy_blocks). */
void hook_grade(struct hook *h);
void hook_decide(struct hook *h);
void hook_explain(struct hook *h);
void hook_record(struct hook *h);

/* Wait for the store's thread; then h->store is set, or NULL with h->store_diag. */
void hook_store_wait(struct hook *h);

/* ---- for the phases ---- */

/* The item a finding belongs to. */
const struct push_item *hook_item(const struct hook *h, const struct hfinding *f);
/* "path", "(commit header)", "(commit message)", "(tag ...)", "(ref name)" */
const char *hook_where(const struct hook *h, const struct hfinding *f);

/* One line to the pusher (GitLab's prefix when the push is rejected). */
void hook_say(struct hook *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A foreign string (path, ref, summary) as the pusher may see it: redacted, control characters escaped. Caller frees. */
char *hook_shown(struct hook *h, const char *s);

/* The identity of the pusher and repository from the hosting layer's environment. */
void hook_identify(struct hook *h);

/*
 * After a check that was killed or lost: record a failed event (no refs:
 * they were read by the process that died), tell the pusher, and return
 * the exit status failMode gives. For `leakgate-pre-receive --failed`.
 */
int hook_report_lost(struct hook *h, const char *reason);

#endif
