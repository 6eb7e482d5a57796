/* The live viewer page: a browser opening a channel's URL gets an HTML page
 * (built into ssed) that subscribes to the same channel with EventSource;
 * every other client gets the event stream at that URL as before. */
#ifndef SSED_VIEWER_H
#define SSED_VIEWER_H

#include "stream.h"
#include "http_request.h"

/* The page for a GET of a channel when the client asks for HTML and not for
 * an event stream, unless --no-ui. Returns 1 if it answered. */
int viewer_serve_page(stream *st, const http_request *req);
/* The page's script and style under /_ssed/. Returns 1 if it answered. */
int viewer_serve_asset(stream *st, const char *name, size_t len, int head_only);

#endif
