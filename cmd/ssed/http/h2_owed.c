/* What an HTTP/2 stream owes its DATA frames, without copying it: a ring
 * of pieces, each a range of a shared event's bytes (shared_event.h) the
 * stream holds a reference on, so the event's bytes stay alive until the
 * frame that carries them is gathered into the connection's output
 * (h2_owed_emit, from nghttp2's send_data_callback: the one copy on the
 * way to the socket, as HTTP/1.1 has one into the kernel or TLS). Bytes
 * of the stream's own (a reply, a subscriber's first bytes) are copied
 * once into a raw shared event of their own.
 *
 * The bytes held are counted against h2_budget.c's bounds as they come
 * (h2_budget_took) and given back as they go (h2_budget_gave). */
#include <stdlib.h>
#include <string.h>

#include "h2_internal.h"

/* Room for one more piece: the ring doubles, unwrapped into the new
 * array. */
static int grow(h2_stream *st) {
    if (st->owed_count < st->owed_cap)
        return 0;
    size_t cap = st->owed_cap ? st->owed_cap * 2 : 8;
    h2_piece *ring = malloc(cap * sizeof *ring);
    if (!ring)
        return -1;
    for (size_t i = 0; i < st->owed_count; i++)
        ring[i] = st->owed[(st->owed_head + i) & (st->owed_cap - 1)];
    free(st->owed);
    st->owed = ring;
    st->owed_cap = cap;
    st->owed_head = 0;
    return 0;
}

int h2_owed_push(h2_stream *st, shared_event *ev, size_t off, size_t len) {
    if (grow(st) < 0)
        return -1;
    st->owed[(st->owed_head + st->owed_count) & (st->owed_cap - 1)] =
        (h2_piece){shared_event_ref(ev), off, len};
    st->owed_count++;
    st->owed_bytes += len;
    h2_budget_took(st, len);
    return 0;
}

int h2_owed_copy(h2_stream *st, const char *bytes, size_t len) {
    shared_event *own = shared_event_raw(bytes, len);
    if (!own)
        return -1;
    int rc = h2_owed_push(st, own, 0, len);
    shared_event_unref(own); /* the piece holds it, or nothing does */
    return rc;
}

int h2_owed_emit(h2_stream *st, buf *out, size_t n) {
    if (n > st->owed_bytes)
        return -1; /* nghttp2 asks for what read_body promised: never more */
    while (n) {
        h2_piece *p = &st->owed[st->owed_head];
        size_t take = p->len < n ? p->len : n;
        if (buf_append(out, p->ev->bytes + p->off, take) < 0)
            return -1;
        p->off += take, p->len -= take, n -= take;
        st->owed_bytes -= take;
        h2_budget_gave(st, take);
        if (p->len == 0) {
            shared_event_unref(p->ev);
            st->owed_head = (st->owed_head + 1) & (st->owed_cap - 1);
            st->owed_count--;
        }
    }
    if (st->owed_count == 0) {
        free(st->owed); /* a stream that waits holds no ring */
        st->owed = NULL;
        st->owed_cap = st->owed_head = 0;
    }
    return 0;
}

void h2_owed_drop(h2_stream *st) {
    for (size_t i = 0; i < st->owed_count; i++)
        shared_event_unref(st->owed[(st->owed_head + i) & (st->owed_cap - 1)].ev);
    h2_budget_gave(st, st->owed_bytes);
    free(st->owed);
    st->owed = NULL;
    st->owed_cap = st->owed_head = st->owed_count = st->owed_bytes = 0;
}
