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
/*
 * 1 when s has the form of a checksummed token (GitHub ghp_/gho_/ghu_/
 * ghs_/ghr_ and npm_ with 36 base62 characters) whose checksum fails: a
 * made-up value, which a generic rule must not report as a password.
 */
int lg_checksum_token_invalid(const char *s, size_t len);
/*
 * 1 when s is written like a type or class name that a generic rule meets
 * in annotations and signatures (token: OAuth2Token, key: RSAPublicKey2):
 * an identifier with a capital first letter that ends in a capitalized
 * word such as Token, Key, Secret, Password, Credentials, Config, Type.
 */
int lg_looks_like_type_name(const char *s, size_t len);

/*
 * Where a path puts what is found in it. Tests and fixtures (a folder such
 * as tests/, testdata/, fixtures/, __mocks__/, or a name such as
 * test_x.py, x_test.go, x.spec.ts, XTest.java), documentation and
 * examples (docs/, examples/, samples/, *.md, *.rst, *.adoc) and config
 * templates (x.example, .env.sample, config.yml.dist, x.template) and
 * other projects' code kept in the tree (vendor/, _vendor/, third_party/,
 * node_modules/, bower_components/): a
 * lower-confidence finding there warns instead of blocking (policy.h).
 */
enum lg_context { LG_CTX_NONE, LG_CTX_TEST, LG_CTX_DOC, LG_CTX_TEMPLATE, LG_CTX_VENDOR };
enum lg_context lg_path_context(const char *path);
const char *lg_context_name(enum lg_context c);

#endif
