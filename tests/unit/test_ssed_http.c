/* ssed's request-head parser, chunked decoder and peer check: the pieces
 * that face the network, tested without one. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "chunked.h"
#include "http_request.h"
#include "listener.h"
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
    {"http: the HTTP/2 connection preface gets 505, not 400", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -505},
    {"http: the preface's request line alone is enough for 505", "PRI * HTTP/2.0\r\n", -505},
    {"http: a version above 2 gets 505 before the target is checked", "GET x HTTP/3.0\r\n\r\n", -505},
    {"http: HTTP/0.9 gets 505", "GET / HTTP/0.9\r\n\r\n", -505},
    {"http: a malformed version with a bad target is 400", "PRI * HTTP/2\r\n\r\n", -400},
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
    size_t len = strlen(c->input);
    http_request req;
    int status = 0;
    const char *reason = NULL;
    int rc = http_request_parse(c->input, len, 8192, &req, &status, &reason);
    if (c->want == 1)
        CHECK(rc == (int)len);
    else if (c->want == HTTP_INCOMPLETE)
        CHECK(rc == HTTP_INCOMPLETE);
    else
        CHECK(rc == HTTP_ERROR && status == -c->want && reason != NULL);
    /* The head as it arrives: every prefix needs more, or already has the
     * same error; none is complete. */
    for (size_t n = 0; n < len; n++) {
        int prefix_status = 0;
        int prc = http_request_parse(c->input, n, 8192, &req, &prefix_status, &reason);
        CHECK(prc == HTTP_INCOMPLETE || (c->want < 0 && prc == HTTP_ERROR && prefix_status == -c->want));
    }
}

/* 505's reason tells an HTTP/2 client what to do instead. */
static void head_version_reason(const void *arg) {
    (void)arg;
    static const char *const h2[] = {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "GET / HTTP/2.0\r\nHost: x\r\n\r\n"};
    http_request req;
    int status;
    const char *reason;
    for (size_t i = 0; i < sizeof h2 / sizeof h2[0]; i++) {
        status = 0;
        reason = NULL;
        CHECK(http_request_parse(h2[i], strlen(h2[i]), 8192, &req, &status, &reason) == HTTP_ERROR);
        CHECK(status == 505 && reason && strstr(reason, "HTTP/2") && strstr(reason, "HTTP/1.1"));
    }
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

/* RFC 9110 2.5: a higher 1.x minor version is handled as HTTP/1.1, so it
 * gets 1.1's rules (Host required, keep-alive). */
static void head_minor_version(const void *arg) {
    (void)arg;
    static const struct {
        const char *input;
        int minor;
    } cases[] = {
        {"GET / HTTP/1.0\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\n\r\n", 1},
        {"GET / HTTP/1.2\r\n\r\n", 1},
        {"GET / HTTP/1.9\r\n\r\n", 1},
    };
    http_request req;
    int status;
    const char *reason;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(http_request_parse(cases[i].input, strlen(cases[i].input), 8192, &req, &status, &reason) > 0);
        CHECK(req.minor_version == cases[i].minor);
    }
}

/* Parse `target` as a GET request's target, for the query tests. */
static void parse_target_only(const char *target, http_request *req, char *storage, size_t size) {
    int status;
    const char *reason;
    snprintf(storage, size, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target);
    CHECK(http_request_parse(storage, strlen(storage), 8192, req, &status, &reason) > 0);
}

/* -1 absent, -2 present but too long, else the length: a long value must
 * never read as "absent". */
static void query_param_contract(const void *arg) {
    (void)arg;
    char head[512], out[8];
    http_request req;
    parse_target_only("/?a=1234567&b=12345678&c=%41%42%43%44%45%46%47&d=&e&f=x", &req, head, sizeof head);
    CHECK(http_query_param(&req, "zz", out, sizeof out) == -1);
    CHECK(http_query_param(&req, "a", out, sizeof out) == 7 && strcmp(out, "1234567") == 0);
    CHECK(http_query_param(&req, "b", out, sizeof out) == -2 && out[0] == '\0');
    CHECK(http_query_param(&req, "c", out, sizeof out) == 7 && strcmp(out, "ABCDEFG") == 0);
    CHECK(http_query_param(&req, "d", out, sizeof out) == 0 && out[0] == '\0');
    CHECK(http_query_param(&req, "e", out, sizeof out) == 0 && out[0] == '\0');
    CHECK(http_query_param(&req, "f", out, 2) == 1 && strcmp(out, "x") == 0);
    CHECK(http_query_param(&req, "f", out, 1) == -2 && out[0] == '\0');
    char untouched = '#';
    CHECK(http_query_param(&req, "d", &untouched, 0) == -2 && untouched == '#');
    CHECK(http_query_param(&req, "zz", &untouched, 0) == -1 && untouched == '#');
    parse_target_only("/", &req, head, sizeof head);
    CHECK(http_query_param(&req, "a", out, sizeof out) == -1);
    /* A channels list longer than the caller's buffer. */
    char target[400] = "/?channels=";
    for (int i = 0; i < 30; i++)
        strcat(target, "news/more,");
    parse_target_only(target, &req, head, sizeof head);
    char list[64];
    CHECK(http_query_param(&req, "channels", list, sizeof list) == -2);
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
    {"chunked: a bare LF empty line ends the body; the next request is left over",
     "1\r\nz\r\n0\r\n\nGET / HTTP/1.1\r\n\r\n", CHUNKED_DONE, "z", 18},
    {"chunked: a bare LF empty line ends the trailers", "1\r\nz\r\n0\r\nT: v\r\n\nGET", CHUNKED_DONE, "z", 3},
    {"chunked: a trailer line may end in a bare LF", "1\r\nz\r\n0\r\nT: v\nU: w\n\nGET", CHUNKED_DONE, "z", 3},
    {"chunked: bare LF trailer, CRLF empty line", "0\r\nT: v\n\r\nGET", CHUNKED_DONE, "", 3},
    {"chunked: CR alone in the final line", "0\r\n\rGET", CHUNKED_ERROR, "", 0},
    {"chunked: CR alone in a trailer line", "0\r\nT: v\rx\r\n\r\n", CHUNKED_ERROR, "", 0},
    {"chunked: leading zeros do not count towards the size limit",
     "00000000000000000001\r\nz\r\n0000000000000000\r\n\r\n", CHUNKED_DONE, "z", 0},
    {"chunked: 16 significant digits are too many", "1000000000000000\r\n", CHUNKED_ERROR, "", 0},
    {"chunked: 15 significant digits are fine", "fffffffffffffff\r\nab", CHUNKED_MORE, "ab", 0},
    {"chunked: whitespace before an extension", "1 \t;a=\"b c\"\r\nz\r\n0 \r\n\r\n", CHUNKED_DONE, "z", 0},
    {"chunked: junk after whitespace in a size line", "1 x\r\nz\r\n0\r\n\r\n", CHUNKED_ERROR, "", 0},
    {"chunked: junk after the last chunk's size", "0 x\r\n\r\n", CHUNKED_ERROR, "", 0},
    {"chunked: bare LF in an extension", "1;a\nz\r\n0\r\n\r\n", CHUNKED_ERROR, "", 0},
    {"chunked: negative size", "-1\r\n", CHUNKED_ERROR, "", 0},
    {"chunked: 0x prefix", "0x1\r\nz\r\n", CHUNKED_ERROR, "", 0},
};

/* Decode in[0..len) fed as in[0..first) and then `step` bytes at a time;
 * check the verdict, body and leftover against the case. */
static void check_chunked_split(const chunk_case *c, size_t first, size_t step) {
    size_t len = strlen(c->input);
    chunked_decoder d;
    chunked_init(&d);
    buf body = BUF_INIT;
    const char *why = NULL;
    int rc = CHUNKED_MORE;
    size_t pos = 0;
    while (pos < len && rc == CHUNKED_MORE) {
        size_t n = pos < first ? first - pos : step, used;
        if (n > len - pos)
            n = len - pos;
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

static void check_chunked(const void *arg) {
    const chunk_case *c = arg;
    size_t len = strlen(c->input);
    /* Whole, byte by byte, and cut in two at every point: the same body,
     * verdict and leftover. */
    check_chunked_split(c, len, len);
    check_chunked_split(c, 0, 1);
    for (size_t cut = 1; cut < len; cut++)
        check_chunked_split(c, cut, len);
}

/* Chunk size and extension lines are bounded even when every byte is valid. */
static void chunked_line_limits(const void *arg) {
    (void)arg;
    buf in = BUF_INIT;
    chunked_decoder d;
    size_t used;
    const char *why = NULL;
    buf body = BUF_INIT;
    for (int i = 0; i < 10000; i++)
        buf_append_char(&in, '0');
    chunked_init(&d);
    CHECK(chunked_feed(&d, in.data, in.len, &used, collect, &body, &why) == CHUNKED_ERROR && why != NULL);
    buf_clear(&in);
    buf_append_str(&in, "1;");
    for (int i = 0; i < 10000; i++)
        buf_append_char(&in, 'x');
    chunked_init(&d);
    CHECK(chunked_feed(&d, in.data, in.len, &used, collect, &body, &why) == CHUNKED_ERROR && why != NULL);
    buf_clear(&in);
    buf_append_str(&in, "0\r\nT: ");
    for (int i = 0; i < 10000; i++)
        buf_append_char(&in, 'x');
    chunked_init(&d);
    CHECK(chunked_feed(&d, in.data, in.len, &used, collect, &body, &why) == CHUNKED_ERROR && why != NULL);
    buf_free(&in);
    buf_free(&body);
}

/* Once the body has ended, the decoder takes nothing more, even when fed
 * nothing. */
static void chunked_stays_done(const void *arg) {
    (void)arg;
    chunked_decoder d;
    chunked_init(&d);
    buf body = BUF_INIT;
    size_t used;
    const char *why = NULL;
    CHECK(chunked_feed(&d, "0\r\n\r\n", 5, &used, collect, &body, &why) == CHUNKED_DONE && used == 5);
    CHECK(chunked_feed(&d, "GET", 3, &used, collect, &body, &why) == CHUNKED_DONE && used == 0);
    CHECK(chunked_feed(&d, "", 0, &used, collect, &body, &why) == CHUNKED_DONE && used == 0);
    CHECK(body.len == 0);
    buf_free(&body);
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

static void listen_schemes(const void *arg) {
    (void)arg;
    enum listener_scheme scheme;
    CHECK_STR(listener_split_scheme("127.0.0.1:8080", &scheme), "127.0.0.1:8080");
    CHECK(scheme == LISTENER_DEFAULT);
    CHECK_STR(listener_split_scheme("http://[::1]:80", &scheme), "[::1]:80");
    CHECK(scheme == LISTENER_HTTP);
    CHECK_STR(listener_split_scheme("https://:8443", &scheme), ":8443");
    CHECK(scheme == LISTENER_HTTPS);
    CHECK_STR(listener_split_scheme("https://unix:/run/s", &scheme), "unix:/run/s");
    CHECK(scheme == LISTENER_HTTPS);
    CHECK_STR(listener_split_scheme("HTTPS://:1", &scheme), "HTTPS://:1"); /* listener_open then refuses it */
    CHECK(scheme == LISTENER_DEFAULT);
    char url[300] = "http://127.0.0.1:8443/";
    listener_url_tls(url, sizeof url);
    CHECK_STR(url, "https://127.0.0.1:8443/");
    snprintf(url, sizeof url, "unix:/run/ssed.sock");
    listener_url_tls(url, sizeof url);
    CHECK_STR(url, "unix:/run/ssed.sock (TLS)");
}

typedef struct framing_case {
    const char *name;
    const char *head;
    int status;
    long long content_length;
    int chunked;
} framing_case;

static const framing_case framing_cases[] = {
    {"framing: no body", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0, -1, 0},
    {"framing: Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n", 0, 12, 0},
    {"framing: the same Content-Length twice", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
     0, 3, 0},
    {"framing: chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 0, -1, 1},
    {"framing: conflicting Content-Length (400)",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, 0, 0},
    {"framing: negative Content-Length (400)", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\n", 400, 0, 0},
    {"framing: 16-digit Content-Length (400)",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456\r\n\r\n", 400, 0, 0},
    {"framing: both framings, smuggling (400)",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0, 0},
    {"framing: gzip, chunked (501)", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, 0, 0},
    {"framing: chunked twice (501)",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501, 0, 0},
    {"framing: Transfer-Encoding in HTTP/1.0 (400)", "POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", 400, 0, 0},
    {"framing: no Host in HTTP/1.1 (400)", "GET / HTTP/1.1\r\n\r\n", 400, 0, 0},
    {"framing: no Host in HTTP/1.0 is fine", "GET / HTTP/1.0\r\n\r\n", 0, -1, 0},
};

static void check_framing(const void *arg) {
    const framing_case *c = arg;
    http_request req;
    int status;
    const char *reason;
    CHECK(http_request_parse(c->head, strlen(c->head), 8192, &req, &status, &reason) == (int)strlen(c->head));
    long long length;
    int chunked;
    const char *why = NULL;
    int got = http_request_framing(&req, &length, &chunked, &why);
    CHECK(got == c->status);
    if (c->status == 0)
        CHECK(length == c->content_length && chunked == c->chunked && why == NULL);
    else
        CHECK(why != NULL && strlen(why) > 0);
}

void ssed_http_tests_register(void) {
    for (size_t i = 0; i < sizeof framing_cases / sizeof framing_cases[0]; i++)
        harness_add(framing_cases[i].name, check_framing, &framing_cases[i]);
    for (size_t i = 0; i < sizeof head_cases / sizeof head_cases[0]; i++)
        harness_add(head_cases[i].name, check_head, &head_cases[i]);
    harness_add("http: 505 for HTTP/2 names HTTP/2 and HTTP/1.1", head_version_reason, NULL);
    harness_add("http: HTTP/1.2 and above are handled as HTTP/1.1", head_minor_version, NULL);
    harness_add("http: method, path, headers and query parameters", head_fields, NULL);
    harness_add("http: query parameter absent (-1), too long (-2), and the out_size boundary", query_param_contract,
                NULL);
    harness_add("http: 414 for a long request line, 431 for large or many headers", head_limits, NULL);
    for (size_t i = 0; i < sizeof chunk_cases / sizeof chunk_cases[0]; i++)
        harness_add(chunk_cases[i].name, check_chunked, &chunk_cases[i]);
    harness_add("chunked: size, extension and trailer lines are bounded", chunked_line_limits, NULL);
    harness_add("chunked: a finished decoder stays finished", chunked_stays_done, NULL);
    harness_add("listen: http:// and https:// choose plaintext or TLS; URLs say https", listen_schemes, NULL);
    harness_add("peer check: only loopback and unix peers are local (remote publishers need a token)", peer_check,
                NULL);
}
