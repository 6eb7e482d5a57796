/* Where a request's token comes from, and whether it verifies. */
#include "auth.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "jwt_cache.h"

/* Cookies of the --jwt-cookie name tried before giving up: a browser sends
 * one per matching path and domain, and a stale one may come first. */
#define MAX_COOKIE_TRIES 8

const char *auth_bearer(const http_request *req, size_t *len) {
    const http_header *h = http_request_header(req, "authorization");
    *len = 0;
    if (!h || h->value_len < 7 || strncasecmp(h->value, "Bearer ", 7) != 0)
        return NULL;
    const char *v = h->value + 7;
    size_t n = h->value_len - 7;
    while (n > 0 && (*v == ' ' || *v == '\t'))
        v++, n--;
    *len = n;
    return v;
}

/* Where the search for the next cookie of a name resumes. */
typedef struct cookie_cursor {
    size_t header;  /* index of the Cookie header being read */
    const char *at; /* in it; NULL: from its start */
} cookie_cursor;

/* The value of the next cookie `name` in the Cookie headers (RFC 6265 5.4:
 * "a=b; c=d"), without its quotes; NULL when there is no other. */
static const char *next_cookie(const http_request *req, const char *name, cookie_cursor *cur, size_t *len) {
    size_t name_len = strlen(name);
    for (; cur->header < req->num_headers; cur->header++, cur->at = NULL) {
        const http_header *h = &req->headers[cur->header];
        if (h->name_len != 6 || strncasecmp(h->name, "cookie", 6) != 0)
            continue;
        const char *p = cur->at ? cur->at : h->value, *end = h->value + h->value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *pair = p, *pair_end = memchr(p, ';', (size_t)(end - p));
            if (!pair_end)
                pair_end = end;
            p = pair_end;
            const char *eq = memchr(pair, '=', (size_t)(pair_end - pair));
            if (!eq || (size_t)(eq - pair) != name_len || memcmp(pair, name, name_len) != 0)
                continue;
            const char *v = eq + 1;
            size_t n = (size_t)(pair_end - v);
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                v++, n -= 2;
            cur->at = pair_end;
            *len = n;
            return v;
        }
    }
    return NULL;
}

/* The time tokens are checked at. SSED_TEST_NOW (whole seconds since the
 * epoch) stands in for the wall clock, so that a test of a claim's
 * boundary (an nbf a fraction of a second ahead) gives ssed the time
 * instead of racing it on a loaded machine. */
static int64_t token_clock(void) {
    const char *fixed = getenv("SSED_TEST_NOW");
    if (fixed && *fixed) {
        char *end;
        errno = 0;
        long long t = strtoll(fixed, &end, 10);
        if (errno == 0 && *end == '\0' && t > 0)
            return (int64_t)t;
    }
    return (int64_t)time(NULL);
}

/* Verify one token, through the cache of those that already did. */
static enum auth_outcome verify(server *srv, const char *token, size_t len, jwt_claims *claims, const char **why) {
    int64_t now = token_clock();
    if (srv->jwt_cache && jwt_cache_find(srv->jwt_cache, token, len, now, claims))
        return AUTH_VERIFIED;
    int rc = jwt_verify(srv->jwt, token, len, now, claims, why);
    if (rc < 0)
        return rc == JWT_NO_MEMORY ? AUTH_NO_MEMORY : AUTH_REFUSED;
    if (srv->jwt_cache)
        jwt_cache_put(srv->jwt_cache, token, len, claims);
    return AUTH_VERIFIED;
}

/* The first of the cookies named --jwt-cookie that verifies; AUTH_ANONYMOUS
 * if there is none of that name. */
static enum auth_outcome verify_cookies(server *srv, const http_request *req, jwt_claims *claims, const char **why) {
    cookie_cursor cur = {0, NULL};
    enum auth_outcome outcome = AUTH_ANONYMOUS;
    size_t len;
    const char *token;
    for (int tries = 0; tries < MAX_COOKIE_TRIES && (token = next_cookie(req, srv->opt->jwt_cookie, &cur, &len));
         tries++) {
        outcome = verify(srv, token, len, claims, why);
        if (outcome == AUTH_VERIFIED || outcome == AUTH_NO_MEMORY)
            break;
    }
    return outcome;
}

enum auth_outcome auth_identify(server *srv, const http_request *req, enum auth_sources from, jwt_claims *claims,
                                const char **why) {
    size_t len;
    const char *token = auth_bearer(req, &len);
    if (token)
        return verify(srv, token, len, claims, why); /* a bad one is not saved by a good cookie */
    if (from == AUTH_BEARER_ONLY)
        return AUTH_ANONYMOUS;
    if (srv->opt->jwt_cookie) {
        enum auth_outcome outcome = verify_cookies(srv, req, claims, why);
        if (outcome != AUTH_ANONYMOUS)
            return outcome;
    }
    char from_query[JWT_MAX_LEN + 1];
    long n = http_query_param(req, "access_token", from_query, sizeof from_query);
    if (n == -2) {
        *why = "the token is larger than 8KiB";
        return AUTH_REFUSED;
    }
    return n >= 0 ? verify(srv, from_query, (size_t)n, claims, why) : AUTH_ANONYMOUS;
}
