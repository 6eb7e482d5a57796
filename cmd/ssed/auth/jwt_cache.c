/* Tokens already verified: a direct-mapped table of JWT_CACHE_SLOTS. */
#include "jwt_cache.h"

#include <stdlib.h>
#include <string.h>

typedef struct cache_slot {
    char *token; /* NULL: empty */
    size_t len;
    jwt_claims claims;
} cache_slot;

struct jwt_cache {
    int64_t leeway_s;
    cache_slot slots[JWT_CACHE_SLOTS];
};

jwt_cache *jwt_cache_new(int64_t leeway_s) {
    jwt_cache *c = calloc(1, sizeof *c);
    if (c)
        c->leeway_s = leeway_s;
    return c;
}

static void slot_clear(cache_slot *s) {
    free(s->token);
    jwt_claims_free(&s->claims);
    memset(s, 0, sizeof *s);
}

void jwt_cache_free(jwt_cache *c) {
    if (!c)
        return;
    for (size_t i = 0; i < JWT_CACHE_SLOTS; i++)
        slot_clear(&c->slots[i]);
    free(c);
}

static cache_slot *slot_for(jwt_cache *c, const char *token, size_t len) {
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)token[i]) * 1099511628211ULL;
    return &c->slots[h % JWT_CACHE_SLOTS];
}

/* Both lists copied; -1 if memory ran out (out is then empty). */
static int claims_copy(const jwt_claims *from, jwt_claims *out) {
    *out = *from;
    out->subscribe = from->subscribe ? strdup(from->subscribe) : NULL;
    out->publish = from->publish ? strdup(from->publish) : NULL;
    if ((from->subscribe && !out->subscribe) || (from->publish && !out->publish)) {
        jwt_claims_free(out);
        return -1;
    }
    return 0;
}

/* Equal, in a time that does not depend on where the bytes differ: a
 * cached token is a credential. (Not CRYPTO_memcmp: the cache is built
 * without libcrypto too, by make JWT=0 TLS=0.) */
static int same_bytes(const char *a, const char *b, size_t len) {
    unsigned char diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
    return diff == 0;
}

int jwt_cache_find(jwt_cache *c, const char *token, size_t len, int64_t now_s, jwt_claims *out) {
    cache_slot *s = slot_for(c, token, len);
    if (!s->token || s->len != len || !same_bytes(s->token, token, len))
        return 0;
    if (s->claims.exp && now_s >= s->claims.exp + c->leeway_s) {
        slot_clear(s); /* expired: verify again, and be refused with the reason */
        return 0;
    }
    return claims_copy(&s->claims, out) == 0;
}

void jwt_cache_put(jwt_cache *c, const char *token, size_t len, const jwt_claims *claims) {
    cache_slot *s = slot_for(c, token, len);
    slot_clear(s);
    char *copy = malloc(len ? len : 1);
    if (!copy || claims_copy(claims, &s->claims) < 0) {
        free(copy);
        return; /* not remembered: verified again next time */
    }
    memcpy(copy, token, len);
    s->token = copy;
    s->len = len;
}
