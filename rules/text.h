/*
 * Text that leakgate shows or stores but did not write: paths, ref names,
 * repository and user names, commit subjects, bypass reasons. Git allows
 * any bytes in them; JSON, terminals and log lines do not, and any of them
 * may hold a secret.
 */
#ifndef LG_TEXT_H
#define LG_TEXT_H

#include <stddef.h>

#include "scanner.h"

/*
 * A copy of s (len bytes) that is valid UTF-8 and loses nothing: when s is
 * valid UTF-8 (NUL bytes excepted) it is returned unchanged and *escaped
 * is 0; otherwise every byte that is not part of a valid UTF-8 sequence,
 * and every NUL, becomes \xNN, every backslash becomes \\, and *escaped is
 * 1 (so the original can be recovered). Caller frees; NULL when out of
 * memory. escaped may be NULL.
 */
char *lg_text_lossless(const char *s, size_t len, int *escaped);

/*
 * A copy of s for a terminal or a log line: control characters (C0, DEL,
 * C1) become \n, \r, \t or \xNN, and bytes that are not valid UTF-8 become
 * \xNN, so that a crafted name cannot draw lines of its own. Caller frees.
 */
char *lg_text_printable(const char *s, size_t len);

/*
 * A copy of text with every secret the scanner finds in it replaced by its
 * redacted preview. *found (may be NULL) counts them. Returns 0 with *out
 * (caller frees), or the scan's error code (then *out is NULL).
 */
int lg_text_redact(struct lg_scanner *s, const char *text, size_t len, char **out, size_t *found);

#endif
