/* libFuzzer target for ssed's token verification and claim patterns.
 * The first byte chooses a mode:
 *   raw:    the rest is a token, verified as it comes (a hostile client);
 *   signed: the rest is a payload, signed here with the verifier's secret,
 *           so the claim reader sees every shape of JSON (a hostile or
 *           careless issuer).
 * Properties: never a crash, leak or read outside the input; a correctly
 * signed token is never refused for its signature; a verified token's
 * patterns are valid and each matches as the matcher says; a pattern
 * without stars matches exactly the channel it names; `**` matches every
 * channel but the root. */
/* fuzz-sources: cmd/ssed/auth/jwt.c cmd/ssed/auth/jwt_claims.c cmd/ssed/hub/channel_pattern.c cmd/ssed/auth/json_guard.c */
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jwt.h"

static const char secret[] = "fuzzing-secret-of-at-least-32-bytes!";
static jwt_verifier *verifier;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    char path[] = "/tmp/fuzz_jwt_secret_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, secret, sizeof secret - 1) != (ssize_t)(sizeof secret - 1))
        abort();
    close(fd);
    jwt_settings s = {.secret_file = path, .audience = NULL, .leeway_s = 30};
    char err[300];
    verifier = jwt_verifier_new(&s, err, sizeof err);
    unlink(path);
    if (!verifier) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    return 0;
}

static size_t b64url(const unsigned char *in, size_t len, char *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[n++] = abc[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[n++] = abc[(acc << (6 - bits)) & 63];
    return n;
}

/* header.payload.signature for a payload, signed with the secret. */
static size_t sign_payload(const uint8_t *payload, size_t len, char *out) {
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    size_t n = b64url((const unsigned char *)header, sizeof header - 1, out);
    out[n++] = '.';
    n += b64url(payload, len, out + n);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret, sizeof secret - 1, (const unsigned char *)out, n, mac, &mac_len);
    out[n++] = '.';
    n += b64url(mac, mac_len, out + n);
    return n;
}

/* Every pattern of a verified list is valid and matches itself as a
 * channel when it has no stars. */
static void check_patterns(const char *list) {
    if (!list)
        return;
    for (const char *p = list, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        size_t len = (size_t)(nl - p);
        if (!channel_pattern_valid(p, len))
            abort();
        if (!memchr(p, '*', len) && !channel_pattern_matches(p, len, p, len))
            abort();
        if (!channel_patterns_allow(list, p, len) && !memchr(p, '*', len))
            abort();
    }
}

static void check_matcher(const char *s, size_t len) {
    size_t start = 0, end = len;
    while (start < end && s[start] == '/')
        start++;
    while (end > start && s[end - 1] == '/')
        end--;
    if (!channel_pattern_valid(s, len) || memchr(s, '*', len))
        return;
    /* s is a channel name: it matches itself, and ** matches it unless it is the root. */
    if (!channel_pattern_matches(s, len, s, len))
        abort();
    if (channel_pattern_matches("**", 2, s, len) != (end > start))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > JWT_MAX_LEN + 16)
        return 0;
    jwt_claims claims;
    const char *why = NULL;
    int rc;
    if (data[0] & 1) {
        static char token[JWT_MAX_LEN * 2 + 128];
        size_t len = sign_payload(data + 1, size - 1, token);
        rc = jwt_verify(verifier, token, len, 1700000000, &claims, &why);
        if (rc < 0 && len <= JWT_MAX_LEN && strstr(why, "signature does not verify"))
            abort();
    } else {
        rc = jwt_verify(verifier, (const char *)data + 1, size - 1, 1700000000, &claims, &why);
        check_matcher((const char *)data + 1, size - 1);
    }
    if (rc == 0) {
        check_patterns(claims.subscribe);
        check_patterns(claims.publish);
        jwt_claims_free(&claims);
    } else if (!why) {
        abort();
    }
    return 0;
}
