/* What the routes share: channel paths, CORS headers, allowed methods. */
#ifndef SSED_ROUTE_COMMON_H
#define SSED_ROUTE_COMMON_H

#include <stddef.h>

#include "buf.h"
#include "stream.h"

#define ALLOW_METHODS "GET, HEAD, OPTIONS, POST"
#define ALLOW_NO_PUBLISH "GET, HEAD, OPTIONS"

/* The methods channels answer (no POST with --no-publish). */
const char *route_allowed_methods(const stream *st);
/* Strip the leading and trailing slashes: /news/ and news are one channel. */
void route_trim_slashes(const char **name, size_t *len);
/* Access-Control-Allow-Origin when --cors is set; for an explicit origin
 * also Allow-Credentials and Vary. */
void route_cors_headers(stream *st, buf *b);

/* An event stream's response head (subscriptions, replays), after what
 * st->out still owes; -1 if memory ran out (part of it may be there). */
int route_stream_head(stream *st);

#endif
