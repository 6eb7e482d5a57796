/* What an HTTP/2 session's streams may ask of it, below both h2_session.c
 * and h2_stream.c and calling neither: the "flush me" token, the count of
 * request streams behind the idle timer, and GOAWAY. h2_session.c owns the
 * session and calls into its streams; a stream reaches its session only
 * through these (and h2_budget.c's sums), so the two do not call each
 * other in a circle. */
#include "clock.h"
#include "h2_internal.h"

void h2_session_wants_flush(h2_session *s) {
    if (!list_linked(&s->flush_link))
        list_push_back(&s->c->srv->flushing, &s->flush_link);
}

/* A session with requests has no deadline; one with none waits for its
 * next request no longer than an idle HTTP/1.1 connection would. */
void h2_session_count_request(h2_session *s, int delta) {
    connection *c = s->c;
    server *srv = c->srv;
    s->request_streams += (size_t)delta;
    if (s->failing)
        return; /* it stays where h2_session_calm put it: under a deadline */
    list_remove(&c->timer_link);
    if (s->request_streams) {
        list_push_back(&srv->sessions, &c->timer_link);
        return;
    }
    c->since_ms = clock_now_ms();
    list_push_back(&srv->reading, &c->timer_link);
    if (srv->stopping && !s->failing)
        h2_session_calm(s, NGHTTP2_NO_ERROR);
}

void h2_session_calm(h2_session *s, uint32_t code) {
    if (s->failing)
        return;
    s->failing = 1;
    nghttp2_session_terminate_session(s->ng, code);
    /* A peer that does not read its GOAWAY must not hold the session: it
     * gets --header-timeout to take it, as a new connection would. */
    connection *c = s->c;
    list_remove(&c->timer_link);
    c->since_ms = clock_now_ms();
    list_push_back(&c->srv->reading, &c->timer_link);
    h2_session_wants_flush(s);
}

