/*
 * Fuzz harness: the hook server's request parsers (hook-server.h). The
 * input is a request as the client writes it: the HS_HEADER-byte header
 * (magic, environment length, umask) and the environment block. It goes
 * through hs_parse_header, then, as read_request does, through
 * hs_parse_env when the block is whole; the whole input is also given to
 * hs_parse_env as a block of its own.
 *
 * Invariants: a header is taken only with the magic, a length up to
 * HS_ENV_MAX and a umask up to 0777; an environment is taken only when it
 * ends in a NUL, and its array then holds exactly its strings, in order,
 * each pointing into the block, and ends in NULL.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hook-server.h"

/* Parse len bytes of data as an environment block, from a copy as read_request makes one. */
static void check_env(const uint8_t *data, size_t len)
{
	char *env = malloc(len + 1), **arr = (char **)1;
	size_t n = 0, k = 0;
	int err;

	FUZZ_CHECK(env != NULL);
	memcpy(env, data, len);
	env[len] = '\0';
	err = hs_parse_env(env, len, &arr);
	if (len && env[len - 1] != '\0') {
		FUZZ_CHECK(err == -1 && arr == NULL);
		free(env);
		return;
	}
	FUZZ_CHECK(err == 0 && arr != NULL);
	for (size_t i = 0; i < len; i++)
		n += env[i] == '\0';
	for (size_t at = 0; at < len; at += strlen(env + at) + 1, k++)
		FUZZ_CHECK(k < n && arr[k] == env + at);
	FUZZ_CHECK(k == n && arr[n] == NULL);
	free(arr);
	free(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t envlen = 0, um = 0, want_len, want_um;
	int err;

	if (size >= HS_HEADER) {
		err = hs_parse_header(data, &envlen, &um);
		memcpy(&want_len, data + 4, 4);
		memcpy(&want_um, data + 8, 4);
		FUZZ_CHECK(err == (memcmp(data, HS_MAGIC, 4) == 0 && want_len <= HS_ENV_MAX &&
						   want_um <= 0777
					   ? 0
					   : -1));
		if (!err) {
			FUZZ_CHECK(envlen == want_len && um == want_um);
			/* read_request reads exactly envlen bytes, or gives up. */
			if (size - HS_HEADER >= envlen)
				check_env(data + HS_HEADER, envlen);
		}
	}
	if (size <= HS_ENV_MAX)
		check_env(data, size);
	return 0;
}
