/* libFuzzer target for ssed's request-head parser and chunked decoder.
 * Properties: never reads outside the buffer; a complete head's fields lie
 * inside it; a prefix of a complete head is never "complete" with another
 * length; a query parameter is absent (-1), too long (-2) or fits, and
 * the buffer's size decides only between the last two; the chunked decoder
 * gives the same verdict, body and end whole, byte by byte and in pieces. */
/* fuzz-sources: cmd/ssed/http/http_request.c cmd/ssed/http/chunked.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"
#include "http_request.h"

static int inside(const char *base, size_t len, const char *p, size_t n) {
    return p >= base && p + n <= base + len;
}

typedef struct sink {
    uint64_t hash;
    size_t bytes;
} sink;

static int take(void *ctx, const char *bytes, size_t len) {
    sink *s = ctx;
    for (size_t i = 0; i < len; i++)
        s->hash = (s->hash ^ (unsigned char)bytes[i]) * 1099511628211ULL;
    s->bytes += len;
    return 0;
}

static int decode(const char *in, size_t len, size_t step, sink *s, size_t *used_total) {
    chunked_decoder d;
    chunked_init(&d);
    int rc = CHUNKED_MORE;
    size_t pos = 0;
    while (pos < len && rc == CHUNKED_MORE) {
        size_t n = len - pos < step ? len - pos : step, used;
        const char *why;
        rc = chunked_feed(&d, in + pos, n, &used, take, s, &why);
        pos += used;
    }
    *used_total = pos;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = (const char *)data;
    http_request req;
    int status;
    const char *reason;
    int rc = http_request_parse(in, size, 1024, &req, &status, &reason);
    if (rc > 0) {
        if ((size_t)rc > size || !inside(in, size, req.method, req.method_len) ||
            !inside(in, size, req.path, req.path_len))
            abort();
        for (size_t i = 0; i < req.num_headers; i++)
            if (!inside(in, size, req.headers[i].name, req.headers[i].name_len) ||
                !inside(in, size, req.headers[i].value, req.headers[i].value_len))
                abort();
        /* Any shorter prefix is incomplete or an error, never complete. */
        http_request again;
        int prefix = http_request_parse(in, (size_t)rc - 1, 1024, &again, &status, &reason);
        if (prefix > 0)
            abort();
        long long content_length;
        int chunked;
        const char *framing_reason = NULL;
        int framing = http_request_framing(&req, &content_length, &chunked, &framing_reason);
        if (framing != 0 && framing != 400 && framing != 501)
            abort();
        if ((framing != 0) != (framing_reason != NULL) || (framing == 0 && chunked && content_length >= 0))
            abort();
        char value[64], tiny[4];
        long n = http_query_param(&req, "lastEventId", value, sizeof value);
        long m = http_query_param(&req, "lastEventId", tiny, sizeof tiny);
        if (n < -2 || n >= (long)sizeof value || m < -2 || m >= (long)sizeof tiny || (n == -1) != (m == -1) ||
            (m >= 0 && n != m) || (n >= 0 && n < (long)sizeof tiny && m != n) || (m == -2 && tiny[0] != '\0'))
            abort();
    } else if (rc == HTTP_ERROR && (status < 400 || status > 599 || !reason)) {
        abort();
    }
    sink whole = {14695981039346656037ULL, 0};
    size_t used_whole;
    int a = decode(in, size, size ? size : 1, &whole, &used_whole);
    static const size_t steps[] = {1, 2, 7};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        sink split = {14695981039346656037ULL, 0};
        size_t used_split;
        int b = decode(in, size, steps[i], &split, &used_split);
        if (a != b || whole.hash != split.hash || whole.bytes != split.bytes ||
            (a == CHUNKED_DONE && used_whole != used_split))
            abort();
    }
    return 0;
}
