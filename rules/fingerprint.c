/*
 * Keyed fingerprints (GnuTLS HMAC-SHA256), the key file that makes them
 * stable on one server, and redaction of previews.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "file.h"
#include "fingerprint.h"
#include "lg.h"
#include "paths.h"

static const char hexdig[] = "0123456789abcdef";

int lg_key_random(struct lg_key *key)
{
	return gnutls_rnd(GNUTLS_RND_KEY, key->k, sizeof(key->k)) < 0 ? LG_ERROR : LG_OK;
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *a = strchr(hexdig, s[2 * i]), *b = a ? strchr(hexdig, s[2 * i + 1]) : NULL;
		if (!a || !b || !s[2 * i] || !s[2 * i + 1])
			return -1;
		out[i] = (unsigned char)(((a - hexdig) << 4) | (b - hexdig));
	}
	return 0;
}

/* mkdir -p for the directory part of path. */
int lg_key_load(struct lg_key *key, const char *path, int create, struct lg_diag *d)
{
	char buf[2 * LG_KEY_BYTES + 1], why[512], *text = NULL, *dir;
	struct lg_diag why_not;
	size_t len = 0;
	int err;

	/* A key another account could have written (or replaced) is not this server's key. */
	if ((err = lg_path_trusted(path, why, sizeof(why))) == LG_EINVALID) {
		lg_diag_add(d, path, NULL, NULL, "the fingerprint key is not trusted: %s", why);
		return err;
	}
	lg_diag_init(&why_not);
	err = lg_file_read(path, 4096, &text, &len, &why_not);
	if (err != LG_OK && (err != LG_ENOTFOUND || !create)) {
		lg_diag_add(d, path, NULL, NULL, "cannot read the fingerprint key: %s",
			    why_not.n ? why_not.v[why_not.n - 1].message : "out of memory");
	}
	lg_diag_release(&why_not);
	if (err == LG_OK) {
		int good = len >= 2 * LG_KEY_BYTES && unhex(text, key->k, LG_KEY_BYTES) == 0;
		free(text);
		if (good)
			return LG_OK;
		lg_diag_add(d, path, NULL, NULL, "not a fingerprint key (64 hex digits)");
		return LG_EINVALID;
	}
	if (err != LG_ENOTFOUND || !create)
		return err == LG_ETOOLARGE ? LG_EINVALID : err;
	if (lg_key_random(key))
		return LG_ERROR;
	for (size_t i = 0; i < LG_KEY_BYTES; i++) {
		buf[2 * i] = hexdig[key->k[i] >> 4];
		buf[2 * i + 1] = hexdig[key->k[i] & 15];
	}
	buf[2 * LG_KEY_BYTES] = '\n';
	if (!(dir = lg_dirname(path)))
		return LG_ENOMEM;
	lg_mkdir_p(dir, 0700);
	free(dir);
	/* Never replaced: when another process created the key first, use theirs. */
	err = lg_file_write_atomic(path, buf, sizeof(buf), 0600, LG_WRITE_EXCL, d);
	if (err == LG_EEXISTS)
		return lg_key_load(key, path, 0, d);
	if (err)
		lg_diag_add(d, path, NULL, NULL, "cannot create the fingerprint key");
	return err;
}

char *lg_key_default_path(void)
{
	const char *e = getenv("LEAKGATE_KEY_FILE");

	if (e && *e)
		return strdup(e);
	return lg_dir_path(LG_DIR_DATA, "fingerprint.key");
}

void lg_fingerprint(const struct lg_key *key, const char *rule_id, const char *secret,
		    size_t len, char *out)
{
	gnutls_hmac_hd_t h;
	unsigned char mac[32];

	memset(mac, 0, sizeof(mac));
	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, key->k, sizeof(key->k)) == 0) {
		gnutls_hmac(h, rule_id, strlen(rule_id) + 1);
		gnutls_hmac(h, secret, len);
		gnutls_hmac_deinit(h, mac);
	}
	for (size_t i = 0; i < LG_FP_HEX / 2; i++) {
		out[2 * i] = hexdig[mac[i] >> 4];
		out[2 * i + 1] = hexdig[mac[i] & 15];
	}
	out[LG_FP_HEX] = '\0';
}

void lg_redact(const char *secret, size_t len, char *out)
{
	/*
	 * Show a recognisable head (the token prefix, usually) and a short
	 * tail, never more than a quarter of the value, and never any of a
	 * secret shorter than 8 bytes. Non-printable bytes become '?'.
	 */
	size_t head = len >= 8 ? (len / 4 < 6 ? len / 4 : 6) : 0;
	size_t tail = len >= 16 ? 2 : 0, stars, o = 0;

	if (head + tail > len / 4 + 1)
		tail = 0;
	stars = len - head - tail;
	if (stars > 12)
		stars = 12;
	for (size_t i = 0; i < head; i++) {
		unsigned char c = (unsigned char)secret[i];
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	for (size_t i = 0; i < stars; i++)
		out[o++] = '*';
	for (size_t i = len - tail; i < len; i++) {
		unsigned char c = (unsigned char)secret[i];
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}
