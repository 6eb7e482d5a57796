/* Who may do what: which Host a request may name, who may publish, and who
 * sees per-channel figures. Each check answers 0 (allowed) or the HTTP
 * status to refuse with, and a reason; the router decides what to send. */
#ifndef SSED_ACCESS_H
#define SSED_ACCESS_H

#include "conn.h"
#include "http_request.h"

typedef struct access_denial {
    const char *reason;
    const char *extra_headers; /* or NULL */
} access_denial;

/* A request that reached ssed on a loopback address (a listener bound to
 * loopback, or a wildcard one reached through it) must name a loopback host
 * (or one given with --allow-host), so a web page on another name that
 * resolves to 127.0.0.1 (DNS rebinding) cannot use ssed. Two Host headers
 * are refused on any listener. */
int access_check_host(const conn *c, const http_request *req, access_denial *why);

/* May this request publish? With a token, whoever presents it; without,
 * only peers on this machine that are not a proxy relaying someone else.
 * Never a browser page of another site. */
int access_check_publish(const conn *c, const http_request *req, access_denial *why);

/* Would the request be allowed to publish, ignoring where it came from in
 * the browser? Per-channel figures in /_ssed/stats need it. */
int access_is_publisher(const conn *c, const http_request *req);

#endif
