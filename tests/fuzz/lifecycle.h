/* What the ssed_lifecycle fuzz target's files share: fuzz_ssed_lifecycle.c
 * (the input format, the operations and the run), lifecycle_server.c (the
 * server as main.c sets it up, its loop, its invariants), lifecycle_client.c
 * (HTTP/1.1 clients and the checks on what every client receives) and
 * lifecycle_h2.c (HTTP/2 clients: libnghttp2's client session, several
 * streams per connection). */
#ifndef FUZZ_LIFECYCLE_H
#define FUZZ_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "chunked.h"
#include "buf.h"
#include "server.h"
#include "sse_parser.h"

#define CLIENTS 8
#define SEND_CAP 8192 /* bytes written per send: a client never blocks */
#define MAX_RESPONSE_HEAD 65536

typedef struct world world;
typedef struct h2_client h2_client;

/* What a client makes of the bytes of one response stream (an HTTP/1.1
 * connection's, or one HTTP/2 stream's): response heads, reply bodies it
 * skips, then (after a 200 text/event-stream head) events. */
typedef struct response_reader {
    world *w;
    int who; /* the client, for messages */
    buf pending;        /* received, not yet parsed */
    uint64_t body_left; /* bytes of a reply body still to skip */
    int streaming;
    int chunked;        /* the stream is chunked (HTTP/1.1): decoded before the SSE parser */
    chunked_decoder chunks;
    sse_parser sse;
    uint64_t last_id; /* the last ssed id in this stream; 0: none yet */
    uint64_t heads;   /* HTTP/1.1: one bit per request not answered yet, */
    unsigned asked;   /* oldest first, set for a HEAD (its answer has no body) */
    int unsure;       /* raw bytes went in: which answer is whose is unknown */
} response_reader;

typedef struct client {
    world *w;
    int fd;   /* -1: not connected */
    int cut;  /* 1-4: send only cut/5 of the next request */
    buf tail; /* the rest of a cut request; HTTP/2: bytes not sent yet */
    response_reader rx;
    h2_client *h2; /* NULL: the connection speaks HTTP/1.1 */
} client;

struct world {
    ssed_options opt;
    server srv;
    char *owned_token;
    char listen_arg[160];
    client clients[CLIENTS];
    char last_id[24]; /* the newest ssed id any client received */
    unsigned custom_ids;
    int slow_network;
    int past_deadline; /* after a shutdown began: main.c's run() would end now */
};

extern char socket_path[128];

/* An invariant is broken, or the harness cannot go on: abort. */
void broken(const char *what);
void harness_failed(const char *what);

/* lifecycle_server.c */
int server_start(world *w, uint8_t config);
void server_stop(world *w);
void server_pump(world *w);
void check_server(const server *srv);

/* lifecycle_client.c: the reader of one response stream. */
void reader_init(response_reader *rx, world *w, int who);
void reader_free(response_reader *rx);
/* Bytes of an HTTP/1.1 connection: heads, bodies, events. */
void reader_take(response_reader *rx, const char *bytes, size_t len);
/* An HTTP/2 stream's response body (its head was HEADERS). */
void reader_take_events(response_reader *rx, const char *bytes, size_t len);

/* lifecycle_client.c: a client's connection, whatever its protocol. */
int client_open_socket(client *cl);
void client_connect(client *cl);
void client_disconnect(client *cl, int reset);
void client_read(client *cl);
size_t client_write(client *cl, const char *bytes, size_t len);
void client_send_rest(client *cl);
void client_send(client *cl, const char *req, size_t len);
void client_sendf(client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Raw bytes into the connection, HTTP/2 framing or not. */
void client_send_raw(client *cl, const char *bytes, size_t len);
/* A chunked body's next piece, and its end. */
void client_send_piece(client *cl, const char *piece);
void client_end_body(client *cl);

/* lifecycle_h2.c */
/* Connect speaking HTTP/2 (prior knowledge): preface and SETTINGS. An
 * HTTP/1.1 connection the client had is closed first. */
void h2_client_connect(client *cl);
void h2_client_free(client *cl);
/* An HTTP/1.1 request as the operations write it, sent as a new stream:
 * HEADERS from its head, DATA from its body, END_STREAM unless it is
 * chunked (then client_send_piece and client_end_body go on). */
void h2_client_request(client *cl, const char *req, size_t len);
void h2_client_piece(client *cl, const char *piece, size_t len, int last);
void h2_client_raw(client *cl, const char *bytes, size_t len);
void h2_client_read(client *cl);
/* Frames owed and not held back by a cut go out. */
void h2_client_flush(client *cl);
void h2_client_send_rest(client *cl);
/* variant: RST_STREAM(CANCEL) on the newest, the oldest, the open publish
 * or every stream of the client. */
void h2_client_reset(client *cl, int variant);
/* variant: GOAWAY(NO_ERROR), PING, a SETTINGS that shuts the server's
 * stream windows (INITIAL_WINDOW_SIZE 16), one that opens them again.
 * A window's SETTINGS waits for the last one's ACK (the client reads
 * between them): with several in flight, nghttp2 1.52's client resets a
 * stream with FLOW_CONTROL_ERROR for DATA ssed sent within the windows
 * it had been given (seed h2-window-settings-in-flight). */
void h2_client_control(client *cl, int variant);

#endif
