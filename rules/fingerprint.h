/*
 * Fingerprints and redacted previews: the only forms in which leakgate
 * keeps or shows a secret outside the rejected content itself.
 */
#ifndef LG_FINGERPRINT_H
#define LG_FINGERPRINT_H

#include <stddef.h>

#define LG_KEY_BYTES 32
#define LG_FP_HEX 32     /* hex digits of a fingerprint (128 bits) */
#define LG_PREVIEW_MAX 48 /* bytes of a preview, NUL included */

struct lg_key {
	unsigned char k[LG_KEY_BYTES];
};

/*
 * Load the server's fingerprint key from path, creating it (mode 0600,
 * from the system's random generator) when it does not exist. The same
 * key gives the same fingerprints in every run on this server. A key file
 * another account owns or could write is refused (LG_EINVALID). d says why
 * it failed (may be NULL).
 */
struct lg_diag;
int lg_key_load(struct lg_key *key, const char *path, int create, struct lg_diag *d);
/* A fresh random key that lives only in memory. */
int lg_key_random(struct lg_key *key);
/*
 * The default key file: $LEAKGATE_KEY_FILE, else fingerprint.key in the
 * data folder (paths.h: ~/.local/share/leakgate). Caller frees.
 */
char *lg_key_default_path(void);

/*
 * out (LG_FP_HEX + 1 bytes) receives the hex HMAC-SHA256 of rule id and
 * secret under key, cut to 128 bits: stable, and useless for recovering
 * the secret without the key.
 */
void lg_fingerprint(const struct lg_key *key, const char *rule_id, const char *secret,
		    size_t len, char *out);
/* out (LG_PREVIEW_MAX bytes): at most a quarter of the secret, the rest starred. */
void lg_redact(const char *secret, size_t len, char *out);

#endif
