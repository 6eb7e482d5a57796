/* ssed's request-head parser, chunked decoder and peer check: the pieces
 * that face the network, tested without one. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../../cmd/ssed/chunked.h"
#include "../../cmd/ssed/http_request.h"
#include "../../cmd/ssed/listener.h"
#include "buf.h"
#include "harness.h"

typedef struct head_case {
    const char *name;
    const char *input;
    int want; /* > 0: complete; HTTP_INCOMPLETE; or -status for an error */
} head_case;

static const head_case head_cases[] = {
    {"http: simple GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1},
    {"http: bare LF line ends", "GET /a HTTP/1.0\nHost: x\n\n", 1},
    {"http: leading empty line ignored", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 1},
    {"http: incomplete head", "GET / HTTP/1.1\r\nHost: x\r\n", HTTP_INCOMPLETE},
    {"http: incomplete request line", "GET / HT", HTTP_INCOMPLETE},
    {"http: not HTTP at all", "\x16\x03\x01\x02\r\n\r\n", -400},
    {"http: request line without version", "GET /\r\n\r\n", -400},
    {"http: lower-case version", "GET / http/1.1\r\n\r\n", -400},
    {"http: HTTP/2 is refused with 505", "GET / HTTP/2.0\r\n\r\n", -505},
    {"http: header line without colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", -400},
    {"http: space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", -400},
    {"http: folded header line", "GET / HTTP/1.1\r\nA: b\r\n  c\r\n\r\n", -400},
    {"http: control character in a value", "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", -400},
    {"http: bare CR in a header line", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", -400},
    {"http: target must be a path", "GET x HTTP/1.1\r\n\r\n", -400},
    {"http: absolute-form target is accepted", "GET http://h:1/a?b=c HTTP/1.1\r\nHost: h\r\n\r\n", 1},
    {"http: asterisk-form is refused", "OPTIONS * HTTP/1.1\r\n\r\n", -400},
};

static void check_head(const void *arg) {
    const head_case *c = arg;
    http_request req;
    int status = 0;
    const char *reason = NULL;
    int rc = http_request_parse(c->input, strlen(c->input), 8192, &req, &status, &reason);
    if (c->want == 1)
        CHECK(rc == (int)strlen(c->input));
    else if (c->want == HTTP_INCOMPLETE)
        CHECK(rc == HTTP_INCOMPLETE);
    else
        CHECK(rc == HTTP_ERROR && status == -c->want && reason != NULL);
}

static void head_fields(const void *arg) {
    (void)arg;
    const char *in = "POST /news/x?lastEventId=a%20b&x=1 HTTP/1.1\r\nHost: h\r\nLast-Event-ID:  42 \r\n\r\n";
    http_request req;
    int status;
    const char *reason;
    CHECK(http_request_parse(in, strlen(in), 8192, &req, &status, &reason) > 0);
    CHECK(http_request_method_is(&req, "POST"));
    CHECK(req.path_len == 7 && memcmp(req.path, "/news/x", 7) == 0);
    const http_header *h = http_request_header(&req, "last-event-id");
    CHECK(h && h->value_len == 2 && memcmp(h->value, "42", 2) == 0);
    char v[32];
    CHECK(http_query_param(&req, "lastEventId", v, sizeof v) == 3 && strcmp(v, "a b") == 0);
    CHECK(http_query_param(&req, "missing", v, sizeof v) == -1);
}

static void head_limits(const void *arg) {
    (void)arg;
    char big[300];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    http_request req;
    int status;
    const char *reason;
    CHECK(http_request_parse(big, sizeof big, 256, &req, &status, &reason) == HTTP_ERROR && status == 414);
    buf b = BUF_INIT;
    buf_append_str(&b, "GET / HTTP/1.1\r\nX: ");
    for (int i = 0; i < 300; i++)
        buf_append_char(&b, 'y');
    CHECK(http_request_parse(b.data, b.len, 256, &req, &status, &reason) == HTTP_ERROR && status == 431);
    buf_clear(&b);
    buf_append_str(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
        buf_append_str(&b, "A: b\r\n");
    buf_append_str(&b, "\r\n");
    CHECK(http_request_parse(b.data, b.len, 8192, &req, &status, &reason) == HTTP_ERROR && status == 431);
    buf_free(&b);
}

static int collect(void *ctx, const char *bytes, size_t len) { return buf_append(ctx, bytes, len); }

typedef struct chunk_case {
    const char *name;
    const char *input;
    int want; /* CHUNKED_DONE, CHUNKED_MORE or CHUNKED_ERROR */
    const char *body;
    size_t leftover; /* bytes after the body */
} chunk_case;

static const chunk_case chunk_cases[] = {
    {"chunked: two chunks", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", CHUNKED_DONE, "abcde", 0},
    {"chunked: extension and trailer skipped", "3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n", CHUNKED_DONE, "abc", 0},
    {"chunked: hex sizes", "A\r\n0123456789\r\n0\r\n\r\n", CHUNKED_DONE, "0123456789", 0},
    {"chunked: next request left over", "1\r\nz\r\n0\r\n\r\nGET", CHUNKED_DONE, "z", 3},
    {"chunked: incomplete", "5\r\nab", CHUNKED_MORE, "ab", 0},
    {"chunked: bad size", "zz\r\n", CHUNKED_ERROR, "", 0},
    {"chunked: size too large", "ffffffffffffffffff\r\n", CHUNKED_ERROR, "", 0},
    {"chunked: data not followed by CRLF", "1\r\nab\r\n", CHUNKED_ERROR, "a", 0},
    {"chunked: LF alone after size", "1\nz\r\n", CHUNKED_ERROR, "", 0},
};

static void check_chunked(const void *arg) {
    const chunk_case *c = arg;
    size_t len = strlen(c->input);
    /* Whole, then byte by byte: the same body and verdict. */
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        chunked_decoder d;
        chunked_init(&d);
        buf body = BUF_INIT;
        const char *why = NULL;
        int rc = CHUNKED_MORE;
        size_t pos = 0;
        while (pos < len && rc == CHUNKED_MORE) {
            size_t n = bytewise ? 1 : len - pos, used;
            rc = chunked_feed(&d, c->input + pos, n, &used, collect, &body, &why);
            pos += used;
        }
        buf_append_char(&body, '\0');
        CHECK(rc == c->want);
        CHECK_STR(body.data, c->body);
        if (rc == CHUNKED_DONE)
            CHECK(len - pos == c->leftover);
        if (rc == CHUNKED_ERROR)
            CHECK(why != NULL);
        buf_free(&body);
    }
}

static void peer_check(const void *arg) {
    (void)arg;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    v4->sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &v4->sin_addr);
    CHECK(listener_address_is_local(&ss));
    inet_pton(AF_INET, "127.9.8.7", &v4->sin_addr);
    CHECK(listener_address_is_local(&ss));
    inet_pton(AF_INET, "192.0.2.10", &v4->sin_addr);
    CHECK(!listener_address_is_local(&ss));
    inet_pton(AF_INET, "10.0.0.1", &v4->sin_addr);
    CHECK(!listener_address_is_local(&ss));
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    v6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::1", &v6->sin6_addr);
    CHECK(listener_address_is_local(&ss));
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6->sin6_addr);
    CHECK(listener_address_is_local(&ss));
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &v6->sin6_addr);
    CHECK(!listener_address_is_local(&ss));
    inet_pton(AF_INET6, "2001:db8::1", &v6->sin6_addr);
    CHECK(!listener_address_is_local(&ss));
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    CHECK(listener_address_is_local(&ss));
}

void ssed_http_tests_register(void) {
    for (size_t i = 0; i < sizeof head_cases / sizeof head_cases[0]; i++)
        harness_add(head_cases[i].name, check_head, &head_cases[i]);
    harness_add("http: method, path, headers and query parameters", head_fields, NULL);
    harness_add("http: 414 for a long request line, 431 for large or many headers", head_limits, NULL);
    for (size_t i = 0; i < sizeof chunk_cases / sizeof chunk_cases[0]; i++)
        harness_add(chunk_cases[i].name, check_chunked, &chunk_cases[i]);
    harness_add("peer check: only loopback and unix peers are local (remote publishers need a token)", peer_check,
                NULL);
}
