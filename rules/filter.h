/*
 * Filters that decide whether a candidate a pattern matched is a secret:
 * Shannon entropy, placeholder and documented-example detection, and the
 * offline structural validators.
 */
#ifndef LG_FILTER_H
#define LG_FILTER_H

#include <stddef.h>

/* Shannon entropy of s in bits per byte (0 for an empty string). */
double lg_entropy(const char *s, size_t len);
/* 1 when s looks like a placeholder or a documented example value. */
int lg_is_placeholder(const char *s, size_t len);
/*
 * GitHub-style token checksum: prefix of 4 characters, body, and 6 base62
 * characters (0-9A-Za-z) that encode the CRC32 of the body. 1 if it holds.
 */
int lg_github_crc32_valid(const char *s, size_t len);

#endif
