/* JSON Web Tokens (RFC 7519) in compact form: decoding, the signature, and
 * the registered claims exp, nbf, aud and iss. The verifier holds the keys
 * from --jwt-secret-file and --jwt-key-file; the kind of key decides which
 * algorithms are accepted, so a token can never choose how it is checked:
 *   a secret:           HS256, HS384, HS512
 *   an RSA public key:  RS256, RS384, RS512
 *   an EC P-256 key:    ES256 (signature r||s, 64 bytes)
 *   an Ed25519 key:     EdDSA
 * `alg: none` is always refused, and so is an HS token when only a public
 * key is configured (the public key used as an HMAC secret). Built without
 * OpenSSL (make JWT=0), jwt_off.c refuses to make a verifier. */
#ifndef SSED_JWT_H
#define SSED_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "jwt_claims.h"

/* Larger tokens are refused before any decoding. */
#define JWT_MAX_LEN 8192

typedef struct jwt_verifier jwt_verifier;

typedef struct jwt_settings {
    const char *secret_file; /* HMAC secret: the file's bytes, less a final newline */
    const char *key_file;    /* PEM public key */
    const char *audience;    /* aud must name it, when set */
    const char *issuer;      /* iss must equal it, when set */
    int64_t leeway_s;        /* clock skew allowed for exp and nbf */
} jwt_settings;

/* A verifier for the configured keys; NULL with err filled (naming the
 * option and file) when a key cannot be read or is of an unknown kind. */
jwt_verifier *jwt_verifier_new(const jwt_settings *s, char *err, size_t errlen);
void jwt_verifier_free(jwt_verifier *v);

/* Verify a compact token at time now_s (seconds since the epoch): 0 with
 * the claims in *out (free with jwt_claims_free), or -1 with *why, a short
 * reason that repeats nothing of the token, or JWT_NO_MEMORY (with *why)
 * when memory ran out: the token was not judged. */
int jwt_verify(const jwt_verifier *v, const char *token, size_t len, int64_t now_s, jwt_claims *out,
               const char **why);

/* The leeway the verifier was made with. */
int64_t jwt_leeway(const jwt_verifier *v);

#endif
