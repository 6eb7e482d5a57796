/* Tokens already verified, so a storm of subscribers presenting the same
 * token (a page load on many screens, a reconnecting fleet) costs one
 * signature check, not one each: RS256 and ES256 checks cost tens of
 * microseconds. Keyed by the token's exact bytes; an entry serves until its
 * token's exp (plus leeway) passes, and only tokens that verified are kept,
 * so garbage cannot fill it. Bounded: JWT_CACHE_SLOTS entries, each at most
 * one token (8KiB) and its patterns; a new token takes its slot from
 * whatever held it. */
#ifndef SSED_JWT_CACHE_H
#define SSED_JWT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "jwt_claims.h"

#define JWT_CACHE_SLOTS 256

typedef struct jwt_cache jwt_cache;

jwt_cache *jwt_cache_new(int64_t leeway_s);
void jwt_cache_free(jwt_cache *c);

/* 1 and a copy of the claims in *out (free with jwt_claims_free) if the
 * token is known and still valid at now_s; else 0. */
int jwt_cache_find(jwt_cache *c, const char *token, size_t len, int64_t now_s, jwt_claims *out);
/* Remember a token that verified, with its claims (copied). */
void jwt_cache_put(jwt_cache *c, const char *token, size_t len, const jwt_claims *claims);

#endif
