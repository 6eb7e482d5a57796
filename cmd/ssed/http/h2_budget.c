/* What HTTP/2 streams hold for DATA frames, and its three bounds. Over
 * HTTP/1.1 the bytes a subscriber has been handed wait in the socket's send
 * buffer, the kernel's; over HTTP/2 they wait owed to the stream's DATA
 * frames (h2_owed.c: references to the shared events, which a stream keeps
 * alive after every queue let them go), then gathered into the session's
 * out, which is ssed's own memory: a client that opens hundreds of streams
 * per connection and reads none made ssed hold 64 KiB for each.
 * A stream now takes no more than (h2.h):
 *  - what the client's flow-control windows let ssed send: a stream whose
 *    window stays shut holds nothing, its events stay shared in its queue;
 *  - 64 KiB, and half of --max-pending: the frames count against
 *    --max-pending with the queue (hub.h), so slow streams are dropped with
 *    RST_STREAM(CANCEL) as slow HTTP/1.1 subscribers are;
 *  - its share of --h2-conn-buffer among the connection's open streams.
 * All connections together are held to --h2-total-buffer, counting the
 * frames each has gathered and not yet written (h2_session.c): past it,
 * the connection holding most while its socket is full (a peer that reads
 * nothing) gets GOAWAY(ENHANCE_YOUR_CALM) and is closed, at the next timer
 * (within H2_ENFORCE_MS), so a stalled peer goes before memory grows past
 * the per-connection bound: h2_session_enforce_budget, as dropping a peer is
 * the connection's to do. */
#include <stdint.h>

#include "h2_internal.h"

/* A stream may always hold this much, whatever its share of
 * --h2-conn-buffer or --max-pending, so that a connection with
 * --h2-max-streams streams open, or a tiny --max-pending, still moves (a
 * reply such as the viewer page goes through the same buffer): the
 * connection's bound is then streams x this. */
#define STREAM_SHARE_MIN 1024

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* Bytes the peer's windows (the stream's and the connection's) let ssed
 * send now. */
static size_t window_of(const h2_stream *st) {
    int32_t stream = nghttp2_session_get_stream_remote_window_size(st->sess->ng, st->id);
    int32_t conn = nghttp2_session_get_remote_window_size(st->sess->ng);
    int32_t w = stream < conn ? stream : conn;
    return w > 0 ? (size_t)w : 0;
}

size_t h2_budget_stream_cap(const h2_stream *st) {
    const h2_session *s = st->sess;
    const ssed_options *opt = s->c->srv->opt;
    size_t streams = s->request_streams ? s->request_streams : 1;
    size_t cap = min_size(opt->h2_conn_buffer / streams, opt->max_pending / 2);
    return min_size(H2_STREAM_BUFFER, cap > STREAM_SHARE_MIN ? cap : STREAM_SHARE_MIN);
}

size_t h2_budget_room(const h2_stream *st) {
    size_t held = st->owed_bytes;
    size_t cap = min_size(h2_budget_stream_cap(st), window_of(st));
    return held < cap ? cap - held : 0;
}

void h2_budget_took(h2_stream *st, size_t n) {
    st->sess->held += n;
    st->sess->c->srv->h2_held += n;
    if (st->req)
        st->req->sub.held_bytes += n;
}

void h2_budget_gave(h2_stream *st, size_t n) {
    st->sess->held -= n;
    st->sess->c->srv->h2_held -= n;
    if (st->req)
        st->req->sub.held_bytes -= n;
}
