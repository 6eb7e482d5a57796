/* What a verified token allows: the "ssed" claim of its payload, and the
 * channel patterns it lists. Kept apart from signature checking (jwt.c) so
 * the claim rules read on their own and build without OpenSSL.
 *
 * The claim is an object with "subscribe" and "publish" (arrays of
 * patterns) and "admin" (true: may read per-channel figures). A pattern is
 * a channel name whose segments (between slashes) may be a star, any one
 * segment, or two stars, one or more segments (never zero: "builds" then
 * two stars matches builds/1 and builds/1/log, not builds itself). Leading
 * and trailing slashes are ignored, as in channel paths; "" is the root
 * channel. man/ssed.1 shows them in full. */
#ifndef SSED_JWT_CLAIMS_H
#define SSED_JWT_CLAIMS_H

#include <stddef.h>
#include <stdint.h>

#include "channel_pattern.h"


typedef struct jwt_claims {
    int64_t exp;     /* seconds since the epoch; 0: the token does not expire */
    int admin;       /* may read per-channel figures in /_ssed/stats */
    char *subscribe; /* patterns, each ended by '\n'; NULL: none */
    char *publish;
} jwt_claims;

/* Read the "ssed" claim from a payload (a jansson json_t *, the object the
 * token carries). 0, or -1 with *why naming what is wrong, or
 * JWT_NO_MEMORY when memory ran out (the token may be fine). A payload
 * without the claim allows nothing. */
#define JWT_NO_MEMORY (-2)
int jwt_claims_read(jwt_claims *out, const void *payload, const char **why);
void jwt_claims_free(jwt_claims *c);

#endif
