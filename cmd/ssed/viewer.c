#include "viewer.h"

#include <string.h>

#include "conn.h"

extern const unsigned char viewer_html[], viewer_css[], viewer_js[];
extern const size_t viewer_html_len, viewer_css_len, viewer_js_len;

/* The page needs its own script, style and stream, and nothing else: no
 * inline code, no other origin, no frames, no forms. */
#define VIEWER_HEADERS                                                                                                 \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "          \
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"                                  \
    "X-Content-Type-Options: nosniff\r\n"                                                                               \
    "Referrer-Policy: no-referrer\r\n"

int viewer_serve_page(conn *c, const http_request *req) {
    if (c->srv->opt->no_ui)
        return 0;
    const http_header *accept = http_request_header(req, "accept");
    if (!accept || !http_header_has_token(accept, "text/html") || http_header_has_token(accept, "text/event-stream"))
        return 0;
    conn_reply_body(c, 200, "text/html; charset=utf-8", VIEWER_HEADERS "Vary: Accept\r\n", (const char *)viewer_html,
               viewer_html_len, http_request_method_is(req, "HEAD"));
    return 1;
}

int viewer_serve_asset(conn *c, const char *name, size_t len, int head_only) {
    if (c->srv->opt->no_ui)
        return 0;
    if (len == 5 && memcmp(name, "ui.js", 5) == 0)
        conn_reply_body(c, 200, "text/javascript; charset=utf-8", VIEWER_HEADERS, (const char *)viewer_js, viewer_js_len,
                   head_only);
    else if (len == 6 && memcmp(name, "ui.css", 6) == 0)
        conn_reply_body(c, 200, "text/css; charset=utf-8", VIEWER_HEADERS, (const char *)viewer_css, viewer_css_len,
                   head_only);
    else
        return 0;
    return 1;
}
