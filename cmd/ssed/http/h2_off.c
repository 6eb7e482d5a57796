/* HTTP/2 when ssed is built without libnghttp2 (make H2=0): connections
 * stay HTTP/1.1 (a client preface gets 505), TLS offers only http/1.1 by
 * ALPN, and since no stream is ever made, nothing else here is called. */
#include "h2.h"

const int h2_available = 0;

int h2_preface_check(const char *bytes, size_t len) {
    (void)bytes, (void)len;
    return 0;
}

int h2_session_start(struct connection *c, const char *already, size_t len) {
    (void)c, (void)already, (void)len;
    return -1;
}

void h2_session_ready(struct connection *c, uint32_t events) { (void)c, (void)events; }
void h2_session_flush(struct connection *c) { (void)c; }
void h2_session_free(struct connection *c) { (void)c; }

int h2_session_say_goodbye(struct connection *c) {
    (void)c;
    return -1;
}

void h2_session_enforce_budget(struct server *srv) { (void)srv; }
void h2_flush_sessions(struct server *srv) { (void)srv; }
int h2_session_reads(const struct connection *c) {
    (void)c;
    return 0;
}
