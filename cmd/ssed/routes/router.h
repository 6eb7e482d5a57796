/* The routes: what a request head gets. router_handle is what a stream calls
 * with each request; it hands subscriptions and publishes to their routes. */
#ifndef SSED_ROUTER_H
#define SSED_ROUTER_H

#include <stddef.h>

#include "stream.h"
#include "http_request.h"
#include "access.h"

void router_handle(stream *st, const http_request *req);

/* subscribe_route.c */
void subscribe_route_handle(stream *st, const http_request *req);

/* replay_route.c: the recording (--replay FILE) played anew for one
 * request: GET /CHANNEL?replay=start (mode is the parameter's value), or
 * a POST to the channel with --method POST, answered once its body (any)
 * is read. */
void replay_route_start(stream *st, const char *mode, channel_name name, size_t count);
int replay_route_wants_post(stream *st, const http_request *req);
void replay_route_post(stream *st, const http_request *req, long long content_length, int chunked);
/* The stream's on_body, on_body_end and on_close: the replay route's when
 * the stream is one of its, otherwise the publish route's. */
int router_body(stream *st, const char *bytes, size_t len, size_t *used);
void router_body_end(stream *st, int ok);
void router_close(stream *st);

/* publish_route.c: a POST, then its body (the stream's on_body, on_body_end and
 * on_close). */
void publish_route_handle(stream *st, const http_request *req, long long content_length, int chunked);
int publish_route_body(stream *st, const char *bytes, size_t len, size_t *used);
void publish_route_end(stream *st, int ok);
void publish_route_close(stream *st);

#endif
