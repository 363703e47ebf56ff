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
 * The offline structural validators below never decode more than this:
 * the tokens they judge are a few hundred characters, so a longer
 * candidate is rejected without being decoded.
 */
#define LG_VALIDATE_MAX 4096
/*
 * A compact JWS (three base64url parts, the signature part may be empty)
 * or JWE (five parts, the encrypted key part may be empty) whose header
 * decodes to a JSON object with a string "alg" (a JWE: and "enc"). 1 if
 * it holds.
 */
int lg_jwt_valid(const char *s, size_t len);
/*
 * A JWT encoded once more in standard base64 (Kubernetes Secret data, Helm
 * values): the decoded text, less one final newline, passes lg_jwt_valid.
 * 1 if it holds.
 */
int lg_jwt_base64_valid(const char *s, size_t len);
/*
 * A PyPI API token: "pypi-" and the base64url (unpadded) of a version 2
 * binary macaroon located at pypi.org or test.pypi.org, read whole: a
 * header with an identifier, first- or third-party caveats, a 32-byte
 * signature and nothing after it. 1 if it holds.
 */
int lg_pypi_macaroon_valid(const char *s, size_t len);
/*
 * An Azure storage (or Cosmos DB, Batch, API Management) account key: 88
 * characters of standard base64 ending in "==" that decode to exactly 64
 * bytes, with the unused low bits of the last character zero as an
 * encoder writes them. 1 if it holds.
 */
int lg_azure_storage_key_valid(const char *s, size_t len);
/*
 * 1 when s has the form of a structured token whose validator rejects it:
 * a checksummed token (lg_checksum_token_invalid), a value that starts
 * with eyJ and has two dots or more and only base64url characters between
 * them but is no JWT, or "pypi-Ag" and base64url that is no macaroon. A
 * generic rule must not report such a made-up value as a password.
 */
int lg_structured_token_invalid(const char *s, size_t len);
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
