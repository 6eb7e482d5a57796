/* libFuzzer target for ssed's HTTP/2 glue (cmd/ssed/http/h2_session.c and
 * h2_stream.c): the request mapping (pseudo-headers and fields to an
 * HTTP/1.1 head, DATA to a chunked body), the response mapping (a stream's
 * status line and headers to HEADERS, its body to DATA) and the stream
 * bookkeeping (a stream per request, resets, GOAWAY, the limits), behind
 * the real router, publish and hub code.
 *
 * One connection is a socketpair: ssed's end is a connection as if accepted, the
 * other end writes the HTTP/2 client preface and then the input, in pieces
 * whose sizes come from the input, with the server's loop run after each
 * piece as main.c runs it and the server's output read and thrown away.
 * Input: byte 0 chooses --h2-max-streams (1, 2, 8 or 256, bits 0-1),
 * --max-pending 256 (bit 2) and a server shutdown at the end (bit 3);
 * then pieces, each a length byte n and up to n bytes (n % 128 + 1).
 * The seeds in corpus/h2_glue are a SETTINGS frame and requests: GET /,
 * a POST with DATA, stats, a HEADERS with CONTINUATION. ASan and UBSan
 * catch what goes wrong; at the end the server is torn down so nothing
 * leaks between inputs. */
/* fuzz-sources: cmd/ssed/[a-z]*.c cmd/ssed/[a-z]*[a-z]/[a-z]*.c !cmd/ssed/main.c !cmd/ssed/store/store_off.c !cmd/ssed/cluster/cluster_off.c !cmd/ssed/net/tls_context.c !cmd/ssed/net/tls_session.c !cmd/ssed/http/h2_off.c !cmd/ssed/auth/jwt_off.c !cmd/ssed/net/loop_poll.c !cmd/ssed/net/loop_kqueue.c @viewer_assets */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connection.h"
#include "router.h"
#include "server.h"
#include "serving.h"
#include "clock.h"
#include "log.h"

#define PUMP_ROUNDS 16

static const stream_routes routes = {router_handle, publish_route_body, publish_route_end, publish_route_close};
static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* One step of main.c's run() loop, repeated while anything was ready; the
 * client reads what it was sent so ssed's writes never stall for good. */
static void pump(server *srv, int client) {
    char sink[65536];
    for (int i = 0; i < PUMP_ROUNDS; i++) {
        int ran = loop_run_once(&srv->loop, 0);
        server_run_timers(srv, clock_now_ms());
        int more = server_flush_dirty(srv);
        server_free_graveyard(srv);
        while (client >= 0 && read(client, sink, sizeof sink) > 0)
            ;
        if (ran <= 0 && !more)
            break;
    }
}

static void send_all(int fd, const uint8_t *bytes, size_t len) {
    while (len) {
        ssize_t n = write(fd, bytes, len);
        if (n <= 0)
            return; /* ssed closed it, or its buffer is full: the rest is lost, as on a network */
        bytes += n, len -= (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    signal(SIGPIPE, SIG_IGN); /* as main.c: a peer that closed is an error to handle, not a signal */
    static const char *const streams[4] = {"1", "2", "8", "256"};
    char *argv[12] = {"ssed", "--no-stdin", "-q", "--h2-max-streams", (char *)streams[data[0] & 3]};
    int argc = 5;
    if (data[0] & 4) {
        argv[argc++] = "--max-pending";
        argv[argc++] = "256";
    }
    ssed_options opt;
    optind = 0;
    if (options_parse(&opt, argc, argv) != 0)
        abort();
    log_init("ssed", LOG_QUIET);
    static server srv;
    if (server_init(&srv, &opt, &routes) < 0)
        abort();
    srv.max_clients = 1000;
    srv.input_channel = hub_channel_acquire(&srv.hub, opt.channel, strlen(opt.channel), HUB_FOR_PUBLISHING);
    int fds[2];
    if (!srv.input_channel || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
        abort();
    if (!connection_new(&srv, fds[0], NULL))
        abort();
    send_all(fds[1], (const uint8_t *)preface, sizeof preface - 1);
    pump(&srv, fds[1]);
    for (size_t pos = 1; pos < size;) {
        size_t n = (size_t)(data[pos++] % 128) + 1;
        if (n > size - pos)
            n = size - pos;
        send_all(fds[1], data + pos, n);
        pos += n;
        pump(&srv, fds[1]);
    }
    if (data[0] & 8) {
        server_begin_shutdown(&srv);
        pump(&srv, fds[1]);
    }
    close(fds[1]);
    pump(&srv, -1);
    server_close_all(&srv);
    server_free_graveyard(&srv);
    server_free(&srv);
    options_free(&opt);
    return 0;
}
