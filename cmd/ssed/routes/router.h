/* The routes: what a request head gets. router_handle is what a stream calls
 * with each request; it hands subscriptions and publishes to their routes. */
#ifndef SSED_ROUTER_H
#define SSED_ROUTER_H

#include <stddef.h>

#include "stream.h"
#include "http_request.h"

void router_handle(stream *st, const http_request *req);

/* subscribe_route.c */
void subscribe_route_handle(stream *st, const http_request *req);

/* publish_route.c: a POST, then its body (the stream's on_body, on_body_end and
 * on_close). */
void publish_route_handle(stream *st, const http_request *req, long long content_length, int chunked);
int publish_route_body(stream *st, const char *bytes, size_t len, size_t *used);
void publish_route_end(stream *st, int ok);
void publish_route_close(stream *st);

#endif
