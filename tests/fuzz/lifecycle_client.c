/* The ssed_lifecycle fuzz target's HTTP/1.1 clients (lifecycle.h), and
 * what every client, HTTP/1.1 or HTTP/2, checks in what it receives:
 * response heads that are whole, and ssed ids that strictly increase in
 * each stream. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lifecycle.h"

/* ---- clients: what they receive ------------------------------------------ */

/* A numeric id in the range ssed handed out this run. Request ids in this
 * harness are never numeric, so these are ssed's own. */
static int ssed_id(const hub *h, const char *id, size_t len, uint64_t *out) {
    if (len == 0 || len > 19)
        return 0;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (id[i] < '0' || id[i] > '9')
            return 0;
        n = n * 10 + (uint64_t)(id[i] - '0');
    }
    *out = n;
    return n >= h->first_id && n <= h->last_id;
}

static void on_stream_event(void *ctx, const sse_event *ev) {
    response_reader *rx = ctx;
    uint64_t id;
    if (!ev->id_in_event || !ssed_id(&rx->w->srv.hub, ev->id, ev->id_len, &id))
        return;
    if (id <= rx->last_id) {
        fprintf(stderr, "fuzz_ssed_lifecycle: client %d got id %llu after %llu\n", rx->who, (unsigned long long)id,
                (unsigned long long)rx->last_id);
        broken("a stream's ssed ids do not strictly increase");
    }
    rx->last_id = id;
    snprintf(rx->w->last_id, sizeof rx->w->last_id, "%llu", (unsigned long long)id);
}

void reader_init(response_reader *rx, world *w, int who) {
    memset(rx, 0, sizeof *rx);
    rx->w = w;
    rx->who = who;
    sse_parser_handlers handlers = {on_stream_event, NULL, NULL, NULL, rx};
    sse_parser_init(&rx->sse, SSE_DEFAULT_MAX_EVENT_SIZE, &handlers);
}

void reader_free(response_reader *rx) {
    buf_free(&rx->pending);
    sse_parser_free(&rx->sse);
}

void reader_take_events(response_reader *rx, const char *bytes, size_t len) {
    if (sse_parser_feed(&rx->sse, bytes, len) < 0)
        harness_failed("out of memory");
}

/* "HTTP/1.1 NNN Reason words" then "Name: value" lines: anything else is
 * a reply cut short and run into the next. */
static int response_head_valid(const char *head, size_t len) {
    if (len < 13 || memcmp(head, "HTTP/1.1 ", 9) != 0 || head[9] < '1' || head[9] > '5' || head[12] != ' ')
        return 0;
    const char *line = head, *end = head + len - 2; /* the blank line's CRLF */
    const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
    for (const char *p = head + 13; p < eol; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == ' ' || *p == '-'))
            return 0;
    for (line = eol + 2; line < end; line = eol + 2) {
        eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon || colon == line || colon[1] != ' ' || memchr(line, ' ', (size_t)(colon - line)))
            return 0;
    }
    return 1;
}

/* A complete response head: a stream follows, or a body to skip. */
static void take_response_head(response_reader *rx, const char *head, size_t len) {
    if (!response_head_valid(head, len)) {
        fprintf(stderr, "fuzz_ssed_lifecycle: response head: %.*s\n", (int)(len > 500 ? 500 : len), head);
        broken("a response head is not a status line and Name: value lines");
    }
    int head_only = 0;
    if (head[9] != '1' && rx->asked && !rx->unsure) { /* a final answer: to the oldest request */
        head_only = (int)(rx->heads & 1);
        rx->heads >>= 1;
        rx->asked--;
    }
    int ok = memcmp(head + 9, "200", 3) == 0;
    if (ok && memmem(head, len, "\r\nContent-Type: text/event-stream", 33)) {
        rx->streaming = 1;
        rx->chunked = memmem(head, len, "\r\nTransfer-Encoding: chunked\r\n", 30) != NULL;
        chunked_init(&rx->chunks);
        return;
    }
    const char *cl = memmem(head, len, "\r\nContent-Length: ", 18);
    rx->body_left = cl && !head_only ? strtoull(cl + 18, NULL, 10) : 0;
}

static int take_chunk_data(void *ctx, const char *bytes, size_t len) {
    reader_take_events(ctx, bytes, len);
    return 0;
}

/* Stream bytes: a chunked stream's framing must be valid whatever writes
 * stopped short, and nothing may follow its last chunk. */
static void stream_take(response_reader *rx, const char *bytes, size_t len) {
    if (!rx->chunked) {
        reader_take_events(rx, bytes, len);
        return;
    }
    size_t used;
    const char *why = NULL;
    int rc = chunked_feed(&rx->chunks, bytes, len, &used, take_chunk_data, rx, &why);
    if (rc == CHUNKED_ERROR) {
        fprintf(stderr, "fuzz_ssed_lifecycle: chunked stream: %s\n", why ? why : "?");
        broken("a stream's chunked framing is not valid");
    }
    if (rc == CHUNKED_DONE && used < len)
        broken("bytes after a stream's last chunk");
}

void reader_take(response_reader *rx, const char *bytes, size_t len) {
    if (rx->streaming) {
        stream_take(rx, bytes, len);
        return;
    }
    if (buf_append(&rx->pending, bytes, len) < 0)
        harness_failed("out of memory");
    size_t off = 0;
    while (off < rx->pending.len && !rx->streaming) {
        size_t left = rx->pending.len - off;
        if (rx->body_left) {
            size_t skip = rx->body_left < left ? (size_t)rx->body_left : left;
            rx->body_left -= skip;
            off += skip;
            continue;
        }
        const char *end = memmem(rx->pending.data + off, left, "\r\n\r\n", 4);
        if (!end)
            break;
        size_t head_len = (size_t)(end + 4 - (rx->pending.data + off));
        take_response_head(rx, rx->pending.data + off, head_len);
        off += head_len;
    }
    if (rx->streaming && off < rx->pending.len) {
        stream_take(rx, rx->pending.data + off, rx->pending.len - off);
        off = rx->pending.len;
    }
    memmove(rx->pending.data, rx->pending.data + off, rx->pending.len - off);
    rx->pending.len -= off;
    if (rx->pending.len > MAX_RESPONSE_HEAD)
        broken("a response head longer than 64KiB");
}

void client_read(client *cl) {
    if (cl->h2) {
        h2_client_read(cl);
        return;
    }
    char chunk[16384];
    for (int i = 0; cl->fd >= 0 && i < 64; i++) {
        ssize_t n = recv(cl->fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n <= 0)
            return;
        reader_take(&cl->rx, chunk, (size_t)n);
    }
}

/* ---- clients: connecting and sending ------------------------------------- */

/* A socket connected to the listener, or -1 (after a shutdown began, the
 * connection is refused). */
int client_open_socket(client *cl) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        harness_failed("socket failed");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", socket_path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (!cl->w->srv.stopping) {
            perror("fuzz_ssed_lifecycle: connect");
            harness_failed("cannot connect to the listener");
        }
        close(fd);
        return -1;
    }
    return fd;
}

/* Connect over HTTP/1.1, unless connected (over either protocol). */
void client_connect(client *cl) {
    if (cl->fd >= 0)
        return;
    int fd = client_open_socket(cl);
    if (fd < 0)
        return;
    cl->fd = fd;
    cl->cut = 0;
    buf_clear(&cl->tail);
    reader_init(&cl->rx, cl->w, (int)(cl - cl->w->clients));
}

void client_disconnect(client *cl, int reset) {
    if (cl->fd < 0)
        return;
    if (reset) {
        struct linger lg = {1, 0};
        setsockopt(cl->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(cl->fd);
    cl->fd = -1;
    cl->cut = 0;
    buf_clear(&cl->tail);
    if (cl->h2)
        h2_client_free(cl);
    else
        reader_free(&cl->rx);
}

/* Write what fits (the bytes written); a full buffer or a closed peer
 * loses the rest over HTTP/1.1, and HTTP/2 keeps it (lifecycle_h2.c). */
size_t client_write(client *cl, const char *bytes, size_t len) {
    if (len == 0 || cl->fd < 0)
        return 0;
    ssize_t n = send(cl->fd, bytes, len < SEND_CAP ? len : SEND_CAP, MSG_NOSIGNAL | MSG_DONTWAIT);
    return n > 0 ? (size_t)n : 0;
}

void client_send_rest(client *cl) {
    if (cl->h2) {
        h2_client_send_rest(cl);
        return;
    }
    client_write(cl, cl->tail.data, cl->tail.len);
    buf_clear(&cl->tail);
}

/* Send a request, or only the first part of it after a CUT; an HTTP/2
 * client sends it as a new stream. */
void client_send(client *cl, const char *req, size_t len) {
    client_connect(cl);
    if (cl->h2) {
        h2_client_request(cl, req, len);
        return;
    }
    client_send_rest(cl);
    if (cl->rx.asked < 64 && !cl->rx.unsure) /* the answer to a HEAD is its head alone */
        cl->rx.heads |= (uint64_t)(len >= 5 && memcmp(req, "HEAD ", 5) == 0) << cl->rx.asked++;
    size_t now = cl->cut ? len * (size_t)cl->cut / 5 : len;
    client_write(cl, req, now);
    if (buf_append(&cl->tail, req + now, len - now) < 0)
        harness_failed("out of memory");
    cl->cut = 0;
}

void client_sendf(client *cl, const char *fmt, ...) {
    char req[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(req, sizeof req, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof req)
        harness_failed("request template too long");
    client_send(cl, req, (size_t)n);
}

void client_send_raw(client *cl, const char *bytes, size_t len) {
    client_connect(cl);
    if (cl->h2) {
        h2_client_raw(cl, bytes, len);
        return;
    }
    client_send(cl, bytes, len);
    cl->rx.unsure = cl->fd >= 0; /* they may be a request, part of one, or several */
}

void client_send_piece(client *cl, const char *piece) {
    if (cl->h2)
        h2_client_piece(cl, piece, strlen(piece), 0);
    else
        client_sendf(cl, "%zx\r\n%s\r\n", strlen(piece), piece);
}

void client_end_body(client *cl) {
    if (cl->h2)
        h2_client_piece(cl, "", 0, 1);
    else
        client_sendf(cl, "0\r\n\r\n");
}
