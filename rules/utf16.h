#ifndef LG_UTF16_H
#define LG_UTF16_H

#include <stddef.h>

#include "scanner.h"

/*
 * Text saved as UTF-16 (Windows PowerShell's Out-File, registry exports,
 * some .NET and Visual Studio files) is full of NUL bytes, so it looks
 * binary and its secrets would be skipped. A file that starts with a UTF-16
 * byte-order mark is scanned as the UTF-8 text it stands for instead: line
 * numbers and previews are those of the text.
 */
enum lg_utf16_kind { LG_NOT_UTF16 = 0, LG_UTF16LE, LG_UTF16BE };

/* Whether data starts with a UTF-16 byte-order mark (not UTF-32's). */
enum lg_utf16_kind lg_utf16_detect(const void *data, size_t len);

struct lg_utf16;

/* A converter for one document; NULL when out of memory. */
struct lg_utf16 *lg_utf16_new(enum lg_utf16_kind kind);
/*
 * Converts the next len bytes of the document (the byte-order mark
 * included, at the start) and feeds the UTF-8 to lg_scan_feed(s). A code
 * unit or surrogate pair cut by the end of a block is completed by the
 * next call; an invalid code unit becomes U+FFFD. Returns lg_scan_feed's
 * result.
 */
int lg_utf16_feed(struct lg_utf16 *u, struct lg_scanner *s, const void *data, size_t len);
void lg_utf16_free(struct lg_utf16 *u);

/* One whole document: lg_scan_begin_paths, the converted text, lg_scan_end. */
int lg_scan_utf16(struct lg_scanner *s, enum lg_utf16_kind kind, const char *const *paths,
		  size_t npaths, const void *data, size_t len, lg_finding_cb cb, void *ctx);

#endif
