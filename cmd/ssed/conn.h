/* One client connection: it reads a request head, then either gets a short
 * reply and is closed, or becomes a subscriber whose stream is written from
 * its queue of shared events. */
#ifndef SSED_CONN_H
#define SSED_CONN_H

#include <stdint.h>

#include "buf.h"
#include "http_request.h"
#include "hub.h"
#include "list.h"
#include "loop.h"
#include "server.h"

enum conn_state {
    CONN_READING,   /* waiting for the request head */
    CONN_REPLYING,  /* writing a reply, then lingering */
    CONN_LINGERING, /* reply sent, write side shut; reading until EOF */
    CONN_STREAMING, /* a subscriber */
    CONN_BODY,      /* a publisher's request body, turned into events */
};

typedef struct conn {
    loop_watch watch;
    server *srv;
    int fd;
    enum conn_state state;
    int closed;
    int draining; /* shutting down: close once the queue is written */
    uint32_t watching; /* the epoll events registered */
    list_node timer_link; /* on srv->reading or srv->streaming */
    list_node grave_link;
    uint64_t since_ms; /* accepted, or last written to */
    uint64_t started_ms;
    char *head; /* bytes read and not yet used: request heads, body bytes */
    size_t head_len, head_cap;
    int keep_alive; /* after this reply, read the next request */
    struct publish_request *pub;
    buf out; /* reply, or a stream's headers and preamble */
    size_t out_off;
    subscriber sub;
    uint64_t bytes_sent;
    int reached_on_loopback; /* connected to a loopback address of ours */
    char peer[64];
} conn;

/* router.c: act on a complete request head. */
void router_handle(conn *c, const http_request *req);
/* publish_reply.c: answer a publisher when its body is done or failed. */
void conn_finish_publish(conn *c, int ok);

/* reply.c: queue a complete short reply and close after it. */
void reply_status(conn *c, int status, const char *reason_text, const char *extra_headers);
void reply_body(conn *c, int status, const char *content_type, const char *extra_headers, const char *body,
                size_t body_len, int head_only);
const char *reply_status_text(int status);

/* conn.c */
void conn_start_reply(conn *c);
void conn_start_stream(conn *c);
void conn_close(conn *c, const char *why);
void conn_start_body(conn *c, struct publish_request *pub);
/* Send an interim response (100 Continue) while reading a body. */
void conn_send_interim(conn *c, const char *head);
/* "/news", or "/news +2 more" for a stream of several channels. */
void conn_stream_name(const conn *c, char *out, size_t size);

#endif
