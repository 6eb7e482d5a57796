/* What a stream's request gets (stream.h): handed to the route, its body
 * fed to it, and the answers a route gives: a short reply, an interim
 * 100 Continue, a refusal when memory ran out. */
#include <string.h>
#include <sys/uio.h>

#include "clock.h"
#include "http_reply.h"
#include "log.h"
#include "stream.h"

void stream_take_request(stream *st, int rc, const http_request *req, int status, const char *reason) {
    if (rc == HTTP_ERROR) {
        log_event(LOG_SEV_DEBUG, "bad request", LOG_STR("peer", st->peer), LOG_NUM("status", status),
                  LOG_STR("reason", reason));
        st->keep_alive = 0;
        stream_reply_status(st, status, reason, NULL);
        return;
    }
    st->head_request = http_request_method_is(req, "HEAD");
    st->srv->routes->on_request(st, req);
}

void stream_take_body(stream *st, const char *bytes, size_t len, size_t *used) {
    /* Called with no bytes too: an empty body is complete at once. */
    int rc = st->srv->routes->on_body(st, bytes, len, used);
    if (rc != STREAM_BODY_MORE && !st->closed)
        st->srv->routes->on_body_end(st, rc == STREAM_BODY_DONE);
}

void stream_start_reply(stream *st) {
    if (st->closed)
        return; /* its timer_link is on the graveyard */
    st->state = STREAM_REPLYING;
    /* A client that takes no reply holds its stream --header-timeout. */
    st->since_ms = clock_now_ms();
    list_remove(&st->timer_link);
    list_push_back(&st->srv->ending, &st->timer_link);
    stream_flush(st);
}

void stream_start_body(stream *st, void *route_state) {
    if (st->closed)
        return;
    st->route_state = route_state;
    st->state = STREAM_BODY;
    /* A body may stream for as long as the publisher likes: no deadline. */
    list_remove(&st->timer_link);
    list_push_back(&st->srv->publishing, &st->timer_link);
}

void stream_await_answer(stream *st) {
    st->state = STREAM_ANSWERING;
    st->carrier->hold_input(st);
}

void stream_restart_output(stream *st) {
    size_t unsent = st->out_off < st->out.len ? st->out.len - st->out_off : 0;
    if (unsent)
        memmove(st->out.data, st->out.data + st->out_off, unsent);
    st->out.len = unsent;
    st->out_off = 0;
}

void stream_send_interim(stream *st, const char *head) {
    stream_restart_output(st);
    if (buf_append_str(&st->out, head) < 0) {
        stream_refuse_no_memory(st);
        return;
    }
    stream_flush(st);
}

void stream_reply_body(stream *st, int status, const char *content_type, const char *extra_headers,
                       const char *body, size_t body_len, int head_only) {
    stream_restart_output(st); /* keeps an interim response's unsent bytes */
    /* Routes refuse a HEAD as they refuse a GET: its body must not go,
     * or an HTTP/1.1 client reads it as the next response and HTTP/2
     * resets the stream. */
    if (http_reply_format(&st->out, status, content_type, extra_headers, body, body_len,
                          head_only || st->head_request, st->keep_alive) < 0) {
        stream_refuse_no_memory(st);
        return;
    }
    if (status >= 400) /* here, so the publish route's JSON refusals count too */
        st->srv->stats.refusals[http_reply_refusal(status)]++;
    stream_start_reply(st);
}

void stream_reply_status(stream *st, int status, const char *reason_text, const char *extra_headers) {
    char body[HTTP_REPLY_ERROR_BODY_MAX];
    size_t n = http_reply_error_body(body, sizeof body, status, reason_text);
    stream_reply_body(st, status, "text/plain; charset=utf-8", extra_headers, body, n, 0);
}

/* Written at once, without the output buffer (it could not grow): the
 * bytes fit in the socket's send buffer when nothing else waits there.
 * An HTTP/2 stream is reset by its close instead. */
void stream_refuse_no_memory(stream *st) {
    if (!st->is_h2 && st->io && st->out_off >= st->out.len && !transport_handshaking(st->io) &&
        !transport_owes(st->io)) {
        struct iovec iov = {(void *)http_reply_no_memory, http_reply_no_memory_len};
        if (transport_writev(st->io, &iov, 1) == (ssize_t)http_reply_no_memory_len)
            st->srv->stats.refusals[REFUSAL_UNAVAILABLE]++;
    }
    stream_close(st, "out of memory");
}
