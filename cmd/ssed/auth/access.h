/* Who may do what: which Host a request may name, who may publish, who may
 * subscribe to which channels (with JWT: auth.c finds and verifies the
 * token, jwt_claims.c matches its patterns), and who sees per-channel
 * figures. Each check answers 0 (allowed) or the HTTP
 * status to refuse with, and a reason; the router decides what to send. */
#ifndef SSED_ACCESS_H
#define SSED_ACCESS_H

#include "stream.h"
#include "http_request.h"

typedef struct access_denial {
    const char *reason;
    const char *extra_headers; /* or NULL */
    char text[200];            /* where a composed reason is kept */
} access_denial;

/* A channel a request names, slashes trimmed. */
typedef struct channel_name {
    const char *name;
    size_t len;
} channel_name;

/* A request that reached ssed on a loopback address (a listener bound to
 * loopback, or a wildcard one reached through it) must name a loopback host
 * (or one given with --allow-host), so a web page on another name that
 * resolves to 127.0.0.1 (DNS rebinding) cannot use ssed. Two Host headers
 * are refused on any listener. */
int access_check_host(const stream *st, const http_request *req, access_denial *why);

/* May this request publish to `channel`? With --token, whoever presents
 * it; with JWT, a token in Authorization: Bearer (never the cookie, which a
 * browser sends with a cross-site form POST too) whose claims allow the
 * channel, or the --token;
 * with neither, only peers on this machine that are not a proxy relaying
 * someone else. Never a browser page of another site. */
int access_check_publish(const stream *st, const http_request *req, channel_name channel, access_denial *why);

/* May this request read every one of the channels? Always without JWT;
 * with it, channels matching --public need no token, and the others a
 * token whose claims allow each one. *expires_s is the token's exp (0:
 * none), after which the stream must end. */
int access_check_subscribe(const stream *st, const http_request *req, const channel_name *channels, size_t count,
                           access_denial *why, int64_t *expires_s);

/* May the request see per-channel figures in /_ssed/stats? The --token,
 * a JWT with "admin": true in Authorization: Bearer, or without either a
 * local publisher. */
int access_is_publisher(const stream *st, const http_request *req);

#endif
