/* Verifying compact JSON Web Tokens with OpenSSL's libcrypto; payloads
 * and headers are parsed by jansson. See jwt.h for the rules. */
#include "jwt.h"
#include "json_guard.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Key files are small; anything larger is not one. */
#define MAX_KEY_FILE (64 * 1024)
/* RFC 7518 3.2: an HMAC key at least as long as the hash's output; ssed
 * asks at least that of HS256 of every secret. */
#define MIN_SECRET_LEN 32
#define MIN_RSA_BITS 2048

enum key_kind { KEY_NONE, KEY_SECRET, KEY_RSA, KEY_EC_P256, KEY_ED25519 };

struct jwt_verifier {
    unsigned char *secret;
    size_t secret_len;
    EVP_PKEY *pkey;
    enum key_kind pkey_kind;
    char *audience;
    char *issuer;
    int64_t leeway_s;
};

typedef struct jwt_alg {
    const char *name;
    enum key_kind key;
    const EVP_MD *(*md)(void); /* NULL: EdDSA hashes on its own */
} jwt_alg;

static const jwt_alg algorithms[] = {
    {"HS256", KEY_SECRET, EVP_sha256}, {"HS384", KEY_SECRET, EVP_sha384}, {"HS512", KEY_SECRET, EVP_sha512},
    {"RS256", KEY_RSA, EVP_sha256},    {"RS384", KEY_RSA, EVP_sha384},    {"RS512", KEY_RSA, EVP_sha512},
    {"ES256", KEY_EC_P256, EVP_sha256}, {"EdDSA", KEY_ED25519, NULL},
};

/* The whole of a small file; -1 with err. */
static int read_small_file(const char *option, const char *path, unsigned char **data, size_t *len, char *err,
                           size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s %s: %s", option, path, strerror(errno));
        return -1;
    }
    unsigned char *b = malloc(MAX_KEY_FILE + 1);
    size_t n = b ? fread(b, 1, MAX_KEY_FILE + 1, f) : 0;
    int failed = !b || ferror(f);
    fclose(f);
    if (failed || n > MAX_KEY_FILE || n == 0) {
        snprintf(err, errlen, "%s %s: %s", option, path,
                 !b ? "out of memory" : failed ? "read error" : n == 0 ? "empty file" : "larger than 64KiB");
        free(b);
        return -1;
    }
    *data = b;
    *len = n;
    return 0;
}

static int load_secret(jwt_verifier *v, const char *path, char *err, size_t errlen) {
    if (read_small_file("--jwt-secret-file", path, &v->secret, &v->secret_len, err, errlen) < 0)
        return -1;
    if (v->secret[v->secret_len - 1] == '\n')
        v->secret_len--;
    if (v->secret_len > 0 && v->secret[v->secret_len - 1] == '\r')
        v->secret_len--;
    if (v->secret_len < MIN_SECRET_LEN) {
        snprintf(err, errlen, "--jwt-secret-file %s: the secret has %zu byte%s; HS256 needs at least %d", path,
                 v->secret_len, v->secret_len == 1 ? "" : "s", MIN_SECRET_LEN);
        return -1;
    }
    return 0;
}

static enum key_kind kind_of_public_key(EVP_PKEY *pkey, const char **problem) {
    char group[64];
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(pkey) < MIN_RSA_BITS) {
            *problem = "an RSA key needs at least 2048 bits";
            return KEY_NONE;
        }
        return KEY_RSA;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pkey, group, sizeof group, NULL) != 1 ||
            (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)) {
            *problem = "an EC key must be on curve P-256 (ES256)";
            return KEY_NONE;
        }
        return KEY_EC_P256;
    case EVP_PKEY_ED25519:
        return KEY_ED25519;
    default:
        *problem = "not an RSA, EC P-256 or Ed25519 public key";
        return KEY_NONE;
    }
}

static int load_public_key(jwt_verifier *v, const char *path, char *err, size_t errlen) {
    unsigned char *pem;
    size_t len;
    if (read_small_file("--jwt-key-file", path, &pem, &len, err, errlen) < 0)
        return -1;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    v->pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    free(pem);
    if (!v->pkey) {
        snprintf(err, errlen, "--jwt-key-file %s: no PEM public key (-----BEGIN PUBLIC KEY-----) in it", path);
        return -1;
    }
    const char *problem = NULL;
    v->pkey_kind = kind_of_public_key(v->pkey, &problem);
    if (v->pkey_kind == KEY_NONE) {
        snprintf(err, errlen, "--jwt-key-file %s: %s", path, problem);
        return -1;
    }
    return 0;
}

jwt_verifier *jwt_verifier_new(const jwt_settings *s, char *err, size_t errlen) {
    jwt_verifier *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->leeway_s = s->leeway_s;
    int ok = (!s->secret_file || load_secret(v, s->secret_file, err, errlen) == 0) &&
             (!s->key_file || load_public_key(v, s->key_file, err, errlen) == 0);
    if (ok && ((s->audience && !(v->audience = strdup(s->audience))) ||
               (s->issuer && !(v->issuer = strdup(s->issuer))))) {
        snprintf(err, errlen, "out of memory");
        ok = 0;
    }
    if (!ok) {
        jwt_verifier_free(v);
        return NULL;
    }
    return v;
}

void jwt_verifier_free(jwt_verifier *v) {
    if (!v)
        return;
    if (v->secret)
        OPENSSL_cleanse(v->secret, v->secret_len);
    free(v->secret);
    EVP_PKEY_free(v->pkey);
    free(v->audience);
    free(v->issuer);
    free(v);
}

int64_t jwt_leeway(const jwt_verifier *v) { return v->leeway_s; }

static int base64url_value(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Strict base64url (RFC 7515 2): no padding, no other characters, and the
 * unused bits of the last character zero, so each value has one spelling.
 * Returns the decoded length, or -1. out holds at least len * 3 / 4. */
static long base64url_decode(const char *in, size_t len, unsigned char *out) {
    if (len % 4 == 1)
        return -1;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = base64url_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1))
        return -1;
    return (long)n;
}

/* Decode one part of the token and parse it as a JSON object; NULL, with
 * *out_of_memory set when that is why. */
static json_t *decode_json_part(const char *part, size_t len, int *out_of_memory) {
    unsigned char bytes[JWT_MAX_LEN];
    *out_of_memory = 0;
    long n = base64url_decode(part, len, bytes);
    if (n < 0)
        return NULL;
    json_t *j = json_guard_loadb((const char *)bytes, (size_t)n, JSON_REJECT_DUPLICATES, NULL, out_of_memory);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* typ is optional; when present it says the token is a JWT: "JWT"
 * (RFC 7519 5.1), its media type "application/jwt", or "at+jwt" (an OAuth
 * access token, RFC 9068 2.1), compared without case. */
static int typ_ok(const json_t *typ) {
    static const char *const accepted[] = {"JWT", "application/jwt", "at+jwt", "application/at+jwt"};
    if (!typ)
        return 1;
    const char *v = json_string_value(typ);
    for (size_t i = 0; v && i < sizeof accepted / sizeof accepted[0]; i++)
        if (strcasecmp(v, accepted[i]) == 0)
            return 1;
    return 0;
}

/* The algorithm the header names, if the configured keys accept it. */
static const jwt_alg *accepted_alg(const jwt_verifier *v, const json_t *header, const char **why) {
    const char *name = json_string_value(json_object_get(header, "alg"));
    if (!name) {
        *why = "the token's header has no alg";
        return NULL;
    }
    if (!typ_ok(json_object_get(header, "typ"))) {
        *why = "the token's typ is not JWT (nor application/jwt or at+jwt)";
        return NULL;
    }
    if (json_object_get(header, "crit")) {
        *why = "the token's header lists critical extensions ssed does not know";
        return NULL;
    }
    if (strcasecmp(name, "none") == 0) {
        *why = "unsigned tokens (alg none) are refused";
        return NULL;
    }
    for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++) {
        const jwt_alg *a = &algorithms[i];
        if (strcmp(a->name, name) != 0)
            continue;
        if ((a->key == KEY_SECRET && v->secret) || (a->key != KEY_SECRET && a->key == v->pkey_kind))
            return a;
        break;
    }
    *why = "the token's algorithm does not match the configured key";
    return NULL;
}

/* Signature checks: 1 it verifies, 0 it does not, SIGNATURE_UNCHECKED
 * when OpenSSL could not check it (memory ran out), which is no verdict on
 * the token: 503, never 401. */
#define SIGNATURE_UNCHECKED (-1)

/* Why an OpenSSL call failed: memory (SIGNATURE_UNCHECKED), or 0 for
 * anything else (a signature or key that does not fit is a mismatch). */
static int openssl_failure(void) {
    unsigned long e;
    int oom = 0;
    while ((e = ERR_get_error()) != 0)
        oom |= ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE;
    return oom ? SIGNATURE_UNCHECKED : 0;
}

/* ES256 signs r||s, 32 bytes each; OpenSSL verifies DER. */
static int verify_es256(EVP_MD_CTX *ctx, const unsigned char *sig, size_t sig_len, const char *data, size_t len) {
    if (sig_len != 64)
        return 0;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return SIGNATURE_UNCHECKED; /* 64 bytes always make r and s: only memory fails here */
    }
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (der_len <= 0)
        return SIGNATURE_UNCHECKED;
    int ok = EVP_DigestVerify(ctx, der, (size_t)der_len, (const unsigned char *)data, len) == 1;
    OPENSSL_free(der);
    return ok ? 1 : openssl_failure();
}

static int signature_ok(const jwt_verifier *v, const jwt_alg *a, const unsigned char *sig, size_t sig_len,
                        const char *data, size_t len) {
    ERR_clear_error();
    if (a->key == KEY_SECRET) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        if (!HMAC(a->md(), v->secret, (int)v->secret_len, (const unsigned char *)data, len, mac, &mac_len))
            return SIGNATURE_UNCHECKED; /* a key and a digest ssed chose: nothing but memory fails */
        return mac_len == sig_len && CRYPTO_memcmp(mac, sig, sig_len) == 0;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return SIGNATURE_UNCHECKED;
    int ok = EVP_DigestVerifyInit(ctx, NULL, a->md ? a->md() : NULL, NULL, v->pkey) == 1 ? 1 : openssl_failure();
    if (ok == 1 && a->key == KEY_EC_P256)
        ok = verify_es256(ctx, sig, sig_len, data, len);
    else if (ok == 1)
        ok = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)data, len) == 1 ? 1 : openssl_failure();
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* A NumericDate claim: 1 and *t if present and a number, 0 if absent, -1
 * if something else. A fraction of a second is rounded so that the token
 * is never valid early: up for nbf, down for exp (`round_up`). */
static int numeric_date(const json_t *payload, const char *name, int round_up, int64_t *t) {
    const json_t *j = json_object_get(payload, name);
    if (!j)
        return 0;
    if (!json_is_number(j))
        return -1;
    double d = json_number_value(j);
    if (!(d > -1e15 && d < 1e15))
        return -1;
    int64_t whole = (int64_t)d; /* toward zero */
    if (round_up && (double)whole < d)
        whole++;
    else if (!round_up && (double)whole > d)
        whole--;
    *t = whole;
    return 1;
}

static int audience_ok(const json_t *aud, const char *want) {
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    size_t k;
    const json_t *item;
    json_array_foreach(aud, k, item) {
        if (json_is_string(item) && strcmp(json_string_value(item), want) == 0)
            return 1;
    }
    return 0;
}

/* exp, nbf, aud and iss. */
static int registered_claims_ok(const jwt_verifier *v, const json_t *payload, int64_t now, jwt_claims *out,
                                const char **why) {
    int64_t exp = 0, nbf = 0;
    int has_exp = numeric_date(payload, "exp", 0, &exp), has_nbf = numeric_date(payload, "nbf", 1, &nbf);
    if (has_exp < 0 || has_nbf < 0) {
        *why = "the token's exp or nbf is not a number";
        return -1;
    }
    if (has_exp && now >= exp + v->leeway_s) { /* RFC 7519 4.1.4: valid only before exp */
        *why = "the token has expired";
        return -1;
    }
    if (has_nbf && now + v->leeway_s < nbf) {
        *why = "the token is not valid yet (nbf)";
        return -1;
    }
    if (v->audience && !audience_ok(json_object_get(payload, "aud"), v->audience)) {
        *why = "the token is for another audience (aud)";
        return -1;
    }
    const char *iss = json_string_value(json_object_get(payload, "iss"));
    if (v->issuer && (!iss || strcmp(iss, v->issuer) != 0)) {
        *why = "the token is from another issuer (iss)";
        return -1;
    }
    out->exp = has_exp ? (exp > 0 ? exp : 1) : 0;
    return 0;
}

int jwt_verify(const jwt_verifier *v, const char *token, size_t len, int64_t now_s, jwt_claims *out,
               const char **why) {
    memset(out, 0, sizeof *out);
    if (len > JWT_MAX_LEN) {
        *why = "the token is larger than 8KiB";
        return -1;
    }
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) || dot1 == token || dot2 == dot1 + 1 ||
        dot2 + 1 == token + len) {
        *why = "malformed token (expected three base64url parts: header.payload.signature)";
        return -1;
    }
    int out_of_memory;
    json_t *header = decode_json_part(token, (size_t)(dot1 - token), &out_of_memory);
    json_t *payload = header ? decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), &out_of_memory) : NULL;
    if (!payload) {
        json_decref(header);
        if (out_of_memory) {
            *why = "out of memory while reading the token";
            return JWT_NO_MEMORY;
        }
        *why = "malformed token (a part is not base64url of a JSON object)";
        return -1;
    }
    unsigned char sig[JWT_MAX_LEN];
    long sig_len = base64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), sig);
    const jwt_alg *alg = accepted_alg(v, header, why);
    int rc = -1, verified = 0;
    if (alg && sig_len >= 0)
        verified = signature_ok(v, alg, sig, (size_t)sig_len, token, (size_t)(dot2 - token));
    if (alg && sig_len < 0) {
        *why = "malformed token (the signature is not base64url)";
    } else if (alg && verified == SIGNATURE_UNCHECKED) {
        *why = "out of memory while reading the token";
        rc = JWT_NO_MEMORY;
    } else if (alg && !verified) {
        *why = "the token's signature does not verify";
    } else if (alg && registered_claims_ok(v, payload, now_s, out, why) == 0) {
        int64_t exp = out->exp;
        rc = jwt_claims_read(out, payload, why);
        out->exp = exp;
    }
    json_decref(header);
    json_decref(payload);
    return rc;
}
