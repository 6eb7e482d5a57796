#include "viewer.h"

#include <string.h>

#include "stream.h"

extern const unsigned char viewer_html[], viewer_css[], viewer_js[];
extern const size_t viewer_html_len, viewer_css_len, viewer_js_len;

/* The page needs its own script, style and stream, and nothing else: no
 * inline code, no other origin, no frames, no forms. */
#define VIEWER_HEADERS                                                                                                 \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "          \
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"                                  \
    "X-Content-Type-Options: nosniff\r\n"                                                                               \
    "Referrer-Policy: no-referrer\r\n"

/* In viewer.html, the way from the page's URL back to ssed's root: "" or
 * "../" once for each directory the page's path goes down. */
#define ROOT_MARK "{{root}}"

/* The page with every link relative to its own URL, so that it also works
 * behind a proxy that serves ssed under a path prefix (/events/a/b proxied
 * as /a/b): from /a/b its assets are at ../_ssed/, from / and /a at _ssed/.
 * Only "../" is ever inserted, so nothing of the request reaches the page. */
static int viewer_render_page(const http_request *req, buf *out) {
    size_t depth = 0;
    for (size_t i = 1; i < req->path_len; i++)
        depth += req->path[i] == '/';
    const char *p = (const char *)viewer_html, *end = p + viewer_html_len;
    const size_t mark_len = strlen(ROOT_MARK);
    const char *mark;
    while ((mark = memmem(p, (size_t)(end - p), ROOT_MARK, mark_len)) != NULL) {
        if (buf_append(out, p, (size_t)(mark - p)) < 0)
            return -1;
        for (size_t k = 0; k < depth; k++)
            if (buf_append(out, "../", 3) < 0)
                return -1;
        p = mark + mark_len;
    }
    return buf_append(out, p, (size_t)(end - p));
}

int viewer_serve_page(stream *st, const http_request *req) {
    if (st->srv->opt->no_ui)
        return 0;
    const http_header *accept = http_request_header(req, "accept");
    if (!accept || !http_header_has_token(accept, "text/html") || http_header_has_token(accept, "text/event-stream"))
        return 0;
    buf page = BUF_INIT;
    if (viewer_render_page(req, &page) < 0) {
        buf_free(&page);
        stream_refuse_no_memory(st);
        return 1;
    }
    stream_reply_body(st, 200, "text/html; charset=utf-8", VIEWER_HEADERS "Vary: Accept\r\n", page.data, page.len,
                    http_request_method_is(req, "HEAD"));
    buf_free(&page);
    return 1;
}

int viewer_serve_asset(stream *st, const char *name, size_t len, int head_only) {
    if (st->srv->opt->no_ui)
        return 0;
    if (len == 5 && memcmp(name, "ui.js", 5) == 0)
        stream_reply_body(st, 200, "text/javascript; charset=utf-8", VIEWER_HEADERS, (const char *)viewer_js, viewer_js_len,
                   head_only);
    else if (len == 6 && memcmp(name, "ui.css", 6) == 0)
        stream_reply_body(st, 200, "text/css; charset=utf-8", VIEWER_HEADERS, (const char *)viewer_css, viewer_css_len,
                   head_only);
    else
        return 0;
    return 1;
}
