#include "access.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "listener.h"
#include "token.h"

#define BEARER_MISSING "WWW-Authenticate: Bearer realm=\"ssed\"\r\n"
#define BEARER_INVALID "WWW-Authenticate: Bearer realm=\"ssed\", error=\"invalid_token\"\r\n"
#define BEARER_SCOPE "WWW-Authenticate: Bearer realm=\"ssed\", error=\"insufficient_scope\"\r\n"

/* The host part of a Host value: "name:port" -> name, "[::1]:port" -> [::1]. */
static size_t host_part_len(const char *v, size_t len) {
    if (len > 0 && v[0] == '[') {
        const char *close = memchr(v, ']', len);
        return close ? (size_t)(close - v) + 1 : len;
    }
    const char *colon = memchr(v, ':', len);
    return colon ? (size_t)(colon - v) : len;
}

static int is_ipv4_loopback(const char *h, size_t len) {
    if (len < 4 || len > 15 || memcmp(h, "127.", 4) != 0)
        return 0;
    int dots = 0, digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (h[i] == '.') {
            if (digits == 0)
                return 0;
            dots++;
            digits = 0;
        } else if (h[i] >= '0' && h[i] <= '9' && digits < 3) {
            digits++;
        } else {
            return 0;
        }
    }
    return dots == 3 && digits > 0;
}

static int host_is_allowed(const ssed_options *o, const char *h, size_t len) {
    if (len > 0 && h[len - 1] == '.')
        len--; /* the fully qualified form names the same host */
    if ((len == 9 && strncasecmp(h, "localhost", 9) == 0) || (len == 5 && memcmp(h, "[::1]", 5) == 0) ||
        is_ipv4_loopback(h, len))
        return 1;
    for (size_t i = 0; i < o->allow_host_count; i++)
        if (strlen(o->allow_host[i]) == len && strncasecmp(o->allow_host[i], h, len) == 0)
            return 1;
    return 0;
}

int access_check_host(const stream *st, const http_request *req, access_denial *why) {
    const http_header *host = NULL;
    for (size_t i = 0; i < req->num_headers; i++) {
        const http_header *h = &req->headers[i];
        if (h->name_len == 4 && strncasecmp(h->name, "host", 4) == 0) {
            if (host) {
                why->reason = "more than one Host header";
                return 400;
            }
            host = h;
        }
    }
    if (!st->reached_on_loopback || !host)
        return 0;
    if (!host_is_allowed(st->srv->opt, host->value, host_part_len(host->value, host->value_len))) {
        why->reason = "this ssed listens on loopback and answers only Host localhost, 127.0.0.1 or [::1] "
                      "(add names with --allow-host)";
        return 421;
    }
    return 0;
}

/* Did a proxy relay this request for someone else? */
static int is_relayed(const http_request *req) {
    return http_request_header(req, "forwarded") || http_request_header(req, "x-forwarded-for") ||
           http_request_header(req, "x-real-ip");
}

/* Is the request's Origin this server itself? */
static int origin_is_same(const http_request *req, const http_header *origin) {
    const http_header *host = http_request_header(req, "host");
    if (!host)
        return 0;
    static const char *const schemes[] = {"http://", "https://"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(schemes[i]);
        if (origin->value_len == n + host->value_len && strncasecmp(origin->value, schemes[i], n) == 0 &&
            strncasecmp(origin->value + n, host->value, host->value_len) == 0)
            return 1;
    }
    return 0;
}

/* A page of another site may send a "simple" POST that needs no preflight;
 * only origins --cors allows may publish from a browser. */
static int browser_may_publish(const stream *st, const http_request *req) {
    const http_header *site = http_request_header(req, "sec-fetch-site");
    if (site && site->value_len == 10 && strncasecmp(site->value, "cross-site", 10) == 0)
        return 0;
    const http_header *origin = http_request_header(req, "origin");
    if (!origin || origin_is_same(req, origin))
        return 1;
    const char *allowed = st->srv->opt->cors_origin;
    return allowed && (strcmp(allowed, "*") == 0 ||
                       (strlen(allowed) == origin->value_len && strncmp(allowed, origin->value, origin->value_len) == 0));
}

static int token_presented(const stream *st, const http_request *req) {
    size_t len;
    const char *bearer = auth_bearer(req, &len);
    return st->srv->token && bearer && token_matches(st->srv->token, bearer, len);
}

/* The token did not verify, or there was none: 401; or memory ran out
 * before it could be judged: 503, to be tried again. */
static int unauthorized(access_denial *why, const char *what_needs, enum auth_outcome outcome, const char *problem) {
    if (outcome == AUTH_NO_MEMORY) {
        why->reason = problem;
        why->extra_headers = "Retry-After: 1\r\n";
        return 503;
    }
    if (outcome == AUTH_ANONYMOUS) {
        snprintf(why->text, sizeof why->text, "%s", what_needs);
        why->extra_headers = BEARER_MISSING;
    } else {
        snprintf(why->text, sizeof why->text, "invalid token: %s", problem);
        why->extra_headers = BEARER_INVALID;
    }
    why->reason = why->text;
    return 401;
}

/* The token verified but does not allow this: 403, naming no claim. */
static int forbidden(access_denial *why, const char *reason) {
    why->reason = reason;
    why->extra_headers = BEARER_SCOPE;
    return 403;
}

/* With JWT: the --token, or a token whose claims allow the channel. */
static int jwt_may_publish(const stream *st, const http_request *req, channel_name channel, access_denial *why) {
    if (token_presented(st, req))
        return 0;
    jwt_claims claims;
    const char *problem = NULL;
    enum auth_outcome outcome = auth_identify(st->srv, req, AUTH_BEARER_ONLY, &claims, &problem);
    if (outcome != AUTH_VERIFIED)
        return unauthorized(why, "publishing needs a token in Authorization: Bearer (a cookie or access_token "
                                 "is not taken)", outcome, problem);
    int allowed = channel_patterns_allow(claims.publish, channel.name, channel.len);
    jwt_claims_free(&claims);
    return allowed ? 0 : forbidden(why, "this token does not allow publishing to this channel");
}

int access_check_publish(const stream *st, const http_request *req, channel_name channel, access_denial *why) {
    why->extra_headers = NULL;
    if (!browser_may_publish(st, req)) {
        why->reason = "publishing from a web page of another origin is refused (allow it with --cors)";
        return 403;
    }
    if (st->srv->jwt)
        return jwt_may_publish(st, req, channel, why);
    if (st->srv->token) {
        if (!http_request_header(req, "authorization")) {
            why->reason = "publishing needs Authorization: Bearer TOKEN";
            why->extra_headers = "WWW-Authenticate: Bearer\r\n";
            return 401;
        }
        if (!token_presented(st, req)) {
            why->reason = "wrong token";
            return 403;
        }
        return 0;
    }
    if (!listener_peer_is_local(st->peer_fd) || is_relayed(req)) {
        why->reason = "only local peers may publish (a request relayed by a proxy is not local); start ssed with "
                      "--token (or SSED_TOKEN) and send Authorization: Bearer TOKEN to publish from elsewhere";
        return 403;
    }
    return 0;
}

static int is_public(const ssed_options *o, channel_name ch) {
    for (size_t i = 0; i < o->public_count; i++)
        if (channel_pattern_matches(o->public_channels[i], strlen(o->public_channels[i]), ch.name, ch.len))
            return 1;
    return 0;
}

int access_check_subscribe(const stream *st, const http_request *req, const channel_name *channels, size_t count,
                           access_denial *why, int64_t *expires_s) {
    *expires_s = 0;
    why->extra_headers = NULL;
    size_t k = 0;
    while (st->srv->jwt && k < count && is_public(st->srv->opt, channels[k]))
        k++;
    if (!st->srv->jwt || k == count)
        return 0; /* public channels do not look at tokens at all */
    jwt_claims claims;
    const char *problem = NULL;
    enum auth_outcome outcome = auth_identify(st->srv, req, AUTH_ANY_SOURCE, &claims, &problem);
    if (outcome != AUTH_VERIFIED)
        return unauthorized(why, "this channel needs a token (Authorization: Bearer, a cookie or access_token)",
                            outcome, problem);
    for (; k < count; k++)
        if (!is_public(st->srv->opt, channels[k]) &&
            !channel_patterns_allow(claims.subscribe, channels[k].name, channels[k].len))
            break;
    *expires_s = claims.exp;
    jwt_claims_free(&claims);
    return k == count ? 0 : forbidden(why, "this token does not allow subscribing to every channel asked for");
}

int access_is_publisher(const stream *st, const http_request *req) {
    if (token_presented(st, req))
        return 1;
    if (st->srv->jwt) {
        jwt_claims claims;
        const char *problem;
        if (auth_identify(st->srv, req, AUTH_BEARER_ONLY, &claims, &problem) != AUTH_VERIFIED)
            return 0;
        int admin = claims.admin;
        jwt_claims_free(&claims);
        return admin;
    }
    return !st->srv->token && listener_peer_is_local(st->peer_fd) && !is_relayed(req);
}
