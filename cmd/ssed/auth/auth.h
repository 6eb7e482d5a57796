/* Where a request's token comes from, and whether it verifies (tokens
 * that did are remembered in srv->jwt_cache until they expire): the
 * Authorization: Bearer header, else the first --jwt-cookie cookie that
 * verifies (a browser's EventSource cannot set headers), else the
 * access_token query parameter (a last resort: URLs end up in proxies'
 * logs; ssed never logs them). An Authorization header of another scheme
 * (Basic, for a proxy in front) is passed over. What the claims then
 * allow is access.c's to decide. */
#ifndef SSED_AUTH_H
#define SSED_AUTH_H

#include "http_request.h"
#include "jwt.h"
#include "server.h"

enum auth_outcome {
    AUTH_ANONYMOUS, /* no token anywhere */
    AUTH_VERIFIED,  /* *claims filled: free with jwt_claims_free */
    AUTH_REFUSED,   /* a token that does not verify: *why */
    AUTH_NO_MEMORY, /* memory ran out before the token was judged: *why */
};

enum auth_sources {
    AUTH_ANY_SOURCE,  /* reading: the header, a cookie or the query */
    AUTH_BEARER_ONLY, /* publishing and admin figures: a browser sends the cookie with a
                         cross-site form POST too, and a URL's token ends up in logs; a
                         header is sent only by a caller that chose to */
};

enum auth_outcome auth_identify(server *srv, const http_request *req, enum auth_sources from, jwt_claims *claims,
                                const char **why);

/* The Bearer token of the Authorization header; NULL if there is none or
 * the header has another scheme. */
const char *auth_bearer(const http_request *req, size_t *len);

#endif
