/* Where a request's token comes from, and whether it verifies. */
#include "auth.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "jwt_cache.h"

const char *auth_bearer(const http_request *req, size_t *len) {
    const http_header *h = http_request_header(req, "authorization");
    *len = h ? 1 : 0;
    if (!h || h->value_len < 7 || strncasecmp(h->value, "Bearer ", 7) != 0)
        return NULL;
    const char *v = h->value + 7;
    size_t n = h->value_len - 7;
    while (n > 0 && (*v == ' ' || *v == '\t'))
        v++, n--;
    *len = n;
    return v;
}

/* The value of cookie `name` in any Cookie header (RFC 6265 5.4: "a=b; c=d"),
 * without its quotes; NULL if absent. */
static const char *find_cookie(const http_request *req, const char *name, size_t *len) {
    size_t name_len = strlen(name);
    for (size_t i = 0; i < req->num_headers; i++) {
        const http_header *h = &req->headers[i];
        if (h->name_len != 6 || strncasecmp(h->name, "cookie", 6) != 0)
            continue;
        const char *p = h->value, *end = h->value + h->value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *pair_end = memchr(p, ';', (size_t)(end - p));
            if (!pair_end)
                pair_end = end;
            const char *eq = memchr(p, '=', (size_t)(pair_end - p));
            if (eq && (size_t)(eq - p) == name_len && memcmp(p, name, name_len) == 0) {
                const char *v = eq + 1;
                size_t n = (size_t)(pair_end - v);
                while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                    n--;
                if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                    v++, n -= 2;
                *len = n;
                return v;
            }
            p = pair_end;
        }
    }
    return NULL;
}

enum auth_outcome auth_identify(server *srv, const http_request *req, jwt_claims *claims, const char **why) {
    size_t len;
    const char *token = auth_bearer(req, &len);
    char from_query[JWT_MAX_LEN + 1];
    if (!token && len) {
        *why = "the Authorization header must be Bearer TOKEN";
        return AUTH_REFUSED;
    }
    if (!token && srv->opt->jwt_cookie)
        token = find_cookie(req, srv->opt->jwt_cookie, &len);
    if (!token) {
        long n = http_query_param(req, "access_token", from_query, sizeof from_query);
        if (n == -2) {
            *why = "the token is larger than 8KiB";
            return AUTH_REFUSED;
        }
        if (n >= 0) {
            token = from_query;
            len = (size_t)n;
        }
    }
    if (!token)
        return AUTH_ANONYMOUS;
    int64_t now = (int64_t)time(NULL);
    if (srv->jwt_cache && jwt_cache_find(srv->jwt_cache, token, len, now, claims))
        return AUTH_VERIFIED;
    if (jwt_verify(srv->jwt, token, len, now, claims, why) < 0)
        return AUTH_REFUSED;
    if (srv->jwt_cache)
        jwt_cache_put(srv->jwt_cache, token, len, claims);
    return AUTH_VERIFIED;
}
