/*
 * The hook server: a resident `leakgate-pre-receive --serve` that has its
 * libraries loaded and libgit2 started, and forks a ready process for each
 * push. `leakgate-pre-receive-client`, which links nothing but libc, hands
 * it the push: git's standard input, output and error, the hook's working
 * folder and its whole environment. The forked process runs exactly the
 * hook's own code on them, so every decision, message and audit event is
 * the one the in-process hook would make; only the start-up is saved.
 *
 * Protocol over a Unix stream socket (peers must have the same user id):
 *   client -> server  "LGH1", u32 environment bytes, u32 umask, then the
 *                     environment as NUL-terminated strings; the first
 *                     message carries SCM_RIGHTS: stdin, stdout, stderr,
 *                     and the working folder (O_PATH).
 *   forked -> client  'S' once it exists;
 *   client -> forked  'G' to let it start (until then it has not touched
 *                     stdin, so a client that gives up can still run the
 *                     hook itself);
 *   forked -> client  'X', i32 exit code, just before it exits;
 *   server -> client  the same once it has reaped the forked process, or
 *                     'X' with 256 + the signal that ended it; then it
 *                     closes. The client takes the first.
 */
#ifndef LG_HOOK_SERVER_H
#define LG_HOOK_SERVER_H

#include <stddef.h>
#include <stdint.h>

#define HS_MAGIC "LGH1"
#define HS_ENV_MAX (1u << 20)
/* Forked checks at once; beyond that, clients run the hook themselves. */
#define HS_CHILDREN_MAX 256

/*
 * The socket path: $LEAKGATE_SOCKET (empty: none), else hook.sock in the
 * state folder (paths.h: ~/.local/state/leakgate).
 * Returns 0 with the path in buf, -1 when there is none or it is too long
 * for a Unix socket.
 */
int hs_socket_path(char *buf, size_t size);

/*
 * Send all n bytes (no SIGPIPE) / read exactly n bytes, each wait for data
 * at most timeout_ms (-1: the socket's own timeout, if any). 0, or -1 on
 * an error or end of stream.
 */
int hs_write_all(int fd, const void *buf, size_t n);
int hs_read_all(int fd, void *buf, size_t n, int timeout_ms);

/*
 * The request's fixed header (HS_HEADER bytes): the environment's length
 * and the umask; 0, or -1 when it is not a request.
 */
#define HS_HEADER 12
int hs_parse_header(const unsigned char *hdr, uint32_t *envlen, uint32_t *umask_out);
/*
 * The environment block (envlen bytes of NUL-terminated strings) as a
 * NULL-terminated array pointing into it (caller frees the array only);
 * 0, or -1 when it is malformed.
 */
int hs_parse_env(char *env, size_t envlen, char ***out);

/*
 * Serve on path (NULL: hs_socket_path) until SIGTERM or SIGINT, running
 * run() in a forked process for each client. Returns the exit status.
 */
int hs_serve(const char *path, int (*run)(int conn));

/*
 * In a forked check: tell the client the verdict now (so that git goes on
 * while this process exits). conn is the descriptor run() was given.
 */
void hs_send_verdict(int conn, int status);

#endif
