/* What the routes share: channel paths, CORS headers, allowed methods. */
#include "route_common.h"

#include <string.h>

const char *route_allowed_methods(const stream *st) {
    return st->srv->opt->no_publish ? ALLOW_NO_PUBLISH : ALLOW_METHODS;
}

void route_trim_slashes(const char **name, size_t *len) {
    while (*len > 0 && (*name)[0] == '/')
        (*name)++, (*len)--;
    while (*len > 0 && (*name)[*len - 1] == '/')
        (*len)--;
}

void route_cors_headers(stream *st, buf *b) {
    const char *origin = st->srv->opt->cors_origin;
    if (!origin)
        return;
    buf_printf(b, "Access-Control-Allow-Origin: %s\r\n", origin);
    /* An explicit origin may send credentials (cookies: EventSource's
     * withCredentials); "*" never may, by the Fetch standard. */
    if (strcmp(origin, "*") != 0)
        buf_append_str(b, "Access-Control-Allow-Credentials: true\r\nVary: Origin\r\n");
}

int route_stream_head(stream *st) {
    buf *out = &st->out;
    int failed = buf_append_str(out, "HTTP/1.1 200 OK\r\n"
                                     "Content-Type: text/event-stream; charset=utf-8\r\n"
                                     "Cache-Control: no-store\r\n"
                                     "X-Accel-Buffering: no\r\n"
                                     "Connection: close\r\n") < 0;
    failed |= buf_append_str(out, stream_body_framing(st)) < 0;
    if (!st->srv->opt->no_ui)
        failed |= buf_append_str(out, "Vary: Accept\r\n") < 0; /* browsers asking for HTML get the viewer here */
    buf cors = BUF_INIT;
    route_cors_headers(st, &cors);
    failed |= cors.failed || buf_append(out, cors.data, cors.len) < 0 || buf_append_str(out, "\r\n") < 0;
    buf_free(&cors);
    stream_body_begins(st); /* retry:, the opening comment and the events are its body */
    return failed ? -1 : 0;
}
