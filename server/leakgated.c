/*
 * leakgated: the admin daemon. Options, start-up (database migrations, key,
 * rule set), the libmicrohttpd daemon with a small thread pool, the
 * webhook thread, and a clean stop on SIGTERM or SIGINT.
 *
 * Each thread keeps its own SQLite connection and scanner (thread-specific
 * data), because neither may be shared; the rule set itself is shared
 * read-only behind a read-write lock and replaced whole on rule changes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "file.h"
#include "loader.h"
#include "ops.h"
#include "hook-server.h"
#include "server.h"

#define DEFAULT_LISTEN "127.0.0.1:8470"
/*
 * Connections at once: with epoll they cost a socket and a little memory
 * each, not a thread, so the limit can be well above what slow clients
 * from a few addresses can fill (guard.c keeps each address to its share).
 */
#define DEFAULT_MAX_CONNECTIONS 4096
#define DEFAULT_MAX_PER_IP 256
/* An idle kept-alive connection is closed after this many seconds. */
#define IDLE_TIMEOUT_S 15
#define POOL_THREADS 4
#define PEM_MAX (1u << 20)
/* How often events that hooks had to spool are moved into the database. */
#define SPOOL_DRAIN_S 5

/* A PEM file for TLS, or NULL with the reason on stderr. */
static char *read_pem(const char *path, const char *what)
{
	struct lg_diag d;
	char *buf = NULL;
	size_t len;

	lg_diag_init(&d);
	if (lg_file_read(path, PEM_MAX, &buf, &len, &d) == LG_OK && len == 0) {
		lg_diag_add(&d, path, NULL, NULL, "the file is empty");
		free(buf);
		buf = NULL;
	}
	if (!buf) {
		char line[1024] = "unknown error";
		if (d.n)
			lg_diag_format(&d.v[d.n - 1], line, sizeof(line));
		fprintf(stderr, "leakgated: cannot read the TLS %s: %s\n", what, line);
	}
	lg_diag_release(&d);
	return buf;
}

static int is_directory(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void print_diag(const struct lg_diag *d)
{
	char line[1024];

	for (size_t i = 0; i < d->n; i++) {
		lg_diag_format(&d->v[i], line, sizeof(line));
		fprintf(stderr, "leakgated: %s\n", line);
	}
}

/* A whole decimal number from min to max, or a clear line and -1. */
static int int_option(const char *name, const char *arg, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		fprintf(stderr, "leakgated: %s wants a whole number from %d to %d, not '%s'\n", name, min, max, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: leakgated [--listen HOST:PORT] [--db PATH] [--cache-dir DIR] [--key-file PATH]\n"
		"                 [--tls-cert FILE --tls-key FILE] [--require-tls] [--webhook URL]...\n"
		"                 [--max-connections N] [--max-connections-per-ip N] [--rule-check-seconds N]\n"
		"                 [--hook-socket PATH | --no-hook-server] [--gitea ROOT]\n"
		"       leakgated --help | --version\n"
		"\n"
		"The leakgate admin API (see docs/api.md). Listens on " DEFAULT_LISTEN " by default.\n"
		"It also runs the hook server that installed hooks hand pushes to (leakgate-pre-receive\n"
		"--serve; socket: --hook-socket, else $LEAKGATE_SOCKET, else\n"
		"~/.local/state/leakgate/hook.sock); without it hooks check pushes in-process.\n"
		"--gitea ROOT keeps the hook installed in every repository under Gitea's (or\n"
		"Forgejo's) repository root, including the ones created while it runs.\n"
		"Each candidate rule (POST/PUT /api/v1/rules, /api/v1/rules/test) is checked in a\n"
		"process of its own with --rule-check-seconds of CPU (default 10).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, 0, 'l'},   {"db", required_argument, 0, 'd'},
		{"cache-dir", required_argument, 0, 'c'}, {"key-file", required_argument, 0, 'k'},
		{"tls-cert", required_argument, 0, 'C'}, {"tls-key", required_argument, 0, 'K'},
		{"webhook", required_argument, 0, 'w'},  {"max-connections", required_argument, 0, 'm'},
		{"hook-socket", required_argument, 0, 'S'}, {"no-hook-server", no_argument, 0, 'N'},
		{"gitea", required_argument, 0, 'G'},    {"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{"max-connections-per-ip", required_argument, 0, 'P'}, {"require-tls", no_argument, 0, 'T'},
		{"rule-check-seconds", required_argument, 0, 'R'},
		{0, 0, 0, 0},
	};
	static struct server srv;
	const char *listen = DEFAULT_LISTEN, *cert_path = NULL, *key_path = NULL, *key_file = NULL;
	char *cert = NULL, *tlskey = NULL, *keypath = NULL;
	struct sockaddr_in sa;
	struct MHD_Daemon *mhd = NULL;
	struct lg_store *st = NULL;
	struct lg_diag d;
	pthread_t hook_thread, hs_thread, gitea_thread;
	int opt, max_conn = DEFAULT_MAX_CONNECTIONS, status = 1, have_hook_thread = 0, sig;
	int max_per_ip = DEFAULT_MAX_PER_IP, require_tls = 0, have_guard = 0, have_work = 0;
	int hook_server = 1, have_hs_thread = 0, have_gitea_thread = 0, have_state = 0;
	const char *hook_socket = NULL;
	sigset_t sigs;
	unsigned flags;

	lg_diag_init(&d);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen = optarg; break;
		case 'd': srv.db_path = strdup(optarg); break;
		case 'c': srv.cache_dir = strdup(optarg); break;
		case 'k': key_file = optarg; break;
		case 'C': cert_path = optarg; break;
		case 'K': key_path = optarg; break;
		case 'w':
			if (srv.nwebhooks == SRV_WEBHOOKS_MAX) {
				fprintf(stderr, "leakgated: at most %d --webhook\n", SRV_WEBHOOKS_MAX);
				return 2;
			}
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8)) {
				fprintf(stderr, "leakgated: --webhook needs an http:// or https:// URL\n");
				return 2;
			}
			srv.webhooks[srv.nwebhooks++] = optarg;
			break;
		case 'm':
			if (int_option("--max-connections", optarg, 16, 65536, &max_conn))
				return 2;
			break;
		case 'P':
			if (int_option("--max-connections-per-ip", optarg, 1, 65536, &max_per_ip))
				return 2;
			break;
		case 'R':
			if (int_option("--rule-check-seconds", optarg, 1, 600, &srv.check_seconds))
				return 2;
			break;
		case 'T': require_tls = 1; break;
		case 'S': hook_socket = optarg; break;
		case 'N': hook_server = 0; break;
		case 'G':
			free(srv.gitea_root);
			srv.gitea_root = realpath(optarg, NULL);
			if (!srv.gitea_root || !is_directory(srv.gitea_root)) {
				fprintf(stderr, "leakgated: --gitea %s: not a folder (Gitea's repository root)\n",
					optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("leakgated %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* The leakgate command checks candidate rules in a process of its own (store/ops.h). */
	srv.leakgate_bin = lg_find_program("leakgate", BINDIR);
	if (!srv.leakgate_bin)
		fprintf(stderr, "leakgated: the leakgate command is not next to leakgated nor in " BINDIR
				": candidate rules are checked in this process, without a time limit\n");
	if (srv.gitea_root && !srv.leakgate_bin) {
		fprintf(stderr, "leakgated: --gitea installs hooks with the leakgate command, which is not next to "
				"leakgated nor in " BINDIR "\n");
		free(srv.gitea_root);
		return 2;
	}
	if (parse_listen(listen, &sa)) {
		fprintf(stderr, "leakgated: --listen wants an IPv4 HOST:PORT, such as %s\n", DEFAULT_LISTEN);
		return 2;
	}
	if (!!cert_path != !!key_path) {
		fprintf(stderr, "leakgated: --tls-cert and --tls-key go together\n");
		return 2;
	}
	/* Bearer tokens in clear text over a network: refused on request, warned about always. */
	if (!cert_path && (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
		if (require_tls) {
			fprintf(stderr, "leakgated: --listen %s is not a loopback address and there is no TLS "
					"(--tls-cert, --tls-key): refused because of --require-tls\n", listen);
			return 2;
		}
		fprintf(stderr, "leakgated: warning: listening on %s without TLS: tokens and findings cross the "
				"network in clear text; give --tls-cert and --tls-key (and --require-tls)\n", listen);
	}
	if (cert_path && (!(cert = read_pem(cert_path, "certificate")) || !(tlskey = read_pem(key_path, "key"))))
		goto out;
	if (!srv.db_path)
		srv.db_path = lg_store_default_path();
	if (!srv.cache_dir)
		srv.cache_dir = lg_cache_dir_default();
	if (!srv.db_path) {
		fprintf(stderr, "leakgated: no database path: give --db\n");
		goto out;
	}
	if (srv.cache_dir)
		lg_mkdir_p(srv.cache_dir, 0755);
	keypath = key_file ? strdup(key_file) : lg_key_default_path();
	if (!keypath || lg_key_load(&srv.key, keypath, 1, &d)) {
		print_diag(&d);
		fprintf(stderr, "leakgated: the fingerprint key %s is not usable\n", keypath ? keypath : "(none)");
		goto out;
	}
	/* Create and migrate the database once, before any thread uses it. */
	if (lg_store_open(&st, srv.db_path, 1, &d)) {
		print_diag(&d);
		goto out;
	}
	lg_store_close(st);
	st = NULL;
	if (srv_state_init(&srv)) {
		fprintf(stderr, "leakgated: cannot set up the threads' state\n");
		goto out;
	}
	have_state = 1;
	if (srv_publish_rules(&srv, &d)) {
		fprintf(stderr, "leakgated: the rules cannot be loaded:\n");
		print_diag(&d);
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);

	/* Signals are taken by sigwait() below, never by the worker threads. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Enough descriptors for the connection limit (the soft limit is often 1024). */
	{
		struct rlimit nofile;
		if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < (rlim_t)max_conn + 256) {
			nofile.rlim_cur = nofile.rlim_max < (rlim_t)max_conn + 256 ? nofile.rlim_max : (rlim_t)max_conn + 256;
			setrlimit(RLIMIT_NOFILE, &nofile);
			getrlimit(RLIMIT_NOFILE, &nofile);
			if (nofile.rlim_cur < (rlim_t)max_conn + 256 && nofile.rlim_cur > 512) {
				fprintf(stderr, "leakgated: only %llu open files allowed: at most %llu connections\n",
					(unsigned long long)nofile.rlim_cur, (unsigned long long)nofile.rlim_cur - 256);
				max_conn = (int)(nofile.rlim_cur - 256);
			}
		}
	}
	if (srv_work_start()) {
		fprintf(stderr, "leakgated: cannot start the rule-check workers\n");
		goto out;
	}
	have_work = 1;
	if (srv_guard_start((size_t)max_per_ip, (size_t)max_conn)) {
		fprintf(stderr, "leakgated: cannot start the connection guard\n");
		goto out;
	}
	have_guard = 1;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
		(cert ? MHD_USE_TLS : 0);
	{
		struct MHD_OptionItem tls[] = {
			{MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
			{MHD_OPTION_HTTPS_MEM_KEY, 0, tlskey},
			{MHD_OPTION_END, 0, NULL},
		};
		if (!cert)
			tls[0].option = MHD_OPTION_END;
		mhd = MHD_start_daemon(flags, ntohs(sa.sin_port), NULL, NULL, api_handle, &srv, MHD_OPTION_SOCK_ADDR, &sa,
				       MHD_OPTION_THREAD_POOL_SIZE, (unsigned)POOL_THREADS,
				       MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_conn,
				       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
				       MHD_OPTION_NOTIFY_COMPLETED, api_completed, &srv,
				       MHD_OPTION_NOTIFY_CONNECTION, srv_guard_notify, &srv,
				       MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	}
	if (!mhd) {
		fprintf(stderr, "leakgated: cannot listen on %s (in use, or not an address of this host)\n", listen);
		goto out;
	}
	if (srv.nwebhooks && pthread_create(&hook_thread, NULL, webhook_main, &srv) == 0)
		have_hook_thread = 1;
	pthread_mutex_init(&srv.hook_lock, NULL);
	pthread_cond_init(&srv.hook_cv, NULL);
	if (hook_server) {
		if (hook_socket) {
			if (strlen(hook_socket) >= sizeof(srv.hook_socket)) {
				fprintf(stderr, "leakgated: --hook-socket: the path is too long for a Unix socket\n");
				goto out;
			}
			strcpy(srv.hook_socket, hook_socket);
		} else if (hs_socket_path(srv.hook_socket, sizeof(srv.hook_socket))) {
			srv.hook_socket[0] = '\0';
		}
		srv.hook_bin = lg_find_program("leakgate-pre-receive", BINDIR);
		if (!srv.hook_bin || !srv.hook_socket[0])
			fprintf(stderr, "leakgated: no hook server (%s): hooks check pushes in-process\n",
				srv.hook_bin ? "no socket path" : "leakgate-pre-receive not found");
		else if (pthread_create(&hs_thread, NULL, hook_server_main, &srv) == 0)
			have_hs_thread = 1;
	}
	if (srv.gitea_root) {
		if (pipe2(srv.gitea_stop, O_CLOEXEC) < 0 ||
		    pthread_create(&gitea_thread, NULL, gitea_main, &srv) != 0) {
			fprintf(stderr, "leakgated: cannot start watching %s: %s\n", srv.gitea_root, strerror(errno));
			goto out;
		}
		have_gitea_thread = 1;
	}
	{
		size_t n;
		pthread_rwlock_rdlock(&srv.rs_lock);
		n = lg_ruleset_count(srv.rs);
		pthread_rwlock_unlock(&srv.rs_lock);
		fprintf(stderr, "leakgated: listening on %s%s (database %s, %zu rules, %zu webhook%s%s%s)\n",
			listen, cert ? " with TLS" : "", srv.db_path, n, srv.nwebhooks,
			srv.nwebhooks == 1 ? "" : "s", have_hs_thread ? ", hook server on " : "",
			have_hs_thread ? srv.hook_socket : "");
	}
	for (;;) {
		/* Between signals: move events the hooks had to spool into the database. */
		struct timespec every = {SPOOL_DRAIN_S, 0};
		sig = sigtimedwait(&sigs, NULL, &every);
		if (sig < 0) {
			if (errno == EAGAIN && lg_spool_depth(srv.db_path) > 0) {
				size_t moved = 0;
				if (lg_store_open(&st, srv.db_path, 0, &d) == 0 &&
				    lg_spool_drain(st, srv.db_path, &moved, &d) == 0 && moved)
					fprintf(stderr, "leakgated: moved %zu spooled event%s into the database\n", moved,
						moved == 1 ? "" : "s");
				lg_store_close(st);
				st = NULL;
				lg_diag_release(&d);
			}
			continue;
		}
		if (sig == SIGHUP) {
			/* Reload the rules, as after a change made with the CLI. */
			if (srv_publish_rules(&srv, &d) == 0)
				fprintf(stderr, "leakgated: rules reloaded\n");
			lg_diag_release(&d);
			continue;
		}
		break;
	}
	fprintf(stderr, "leakgated: stopping (signal %d)\n", sig);
	srv.stopping = 1;
	/* Every suspended connection is resumed before the daemon stops. */
	srv_work_stop();
	have_work = 0;
	MHD_stop_daemon(mhd);
	mhd = NULL;
	if (have_hook_thread)
		pthread_join(hook_thread, NULL);
	status = 0;
out:
	/* The Gitea watcher and the hook server (which lets running checks finish). */
	if (have_gitea_thread) {
		srv.stopping = 1;
		if (write(srv.gitea_stop[1], "x", 1) < 0)
			perror("leakgated: write");
		pthread_join(gitea_thread, NULL);
	}
	if (have_hs_thread) {
		hook_server_stop(&srv);
		pthread_join(hs_thread, NULL);
	}
	if (have_work)
		srv_work_stop();
	if (mhd)
		MHD_stop_daemon(mhd);
	if (have_guard)
		srv_guard_stop();
	free(srv.hook_bin);
	free(srv.gitea_root);
	free(srv.leakgate_bin);
	if (have_state)
		srv_state_release_thread(&srv);
	lg_ruleset_free(srv.rs);
	free(cert);
	free(tlskey);
	free(keypath);
	free(srv.db_path);
	free(srv.cache_dir);
	lg_diag_release(&d);
	return status;
}
