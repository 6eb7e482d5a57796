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

