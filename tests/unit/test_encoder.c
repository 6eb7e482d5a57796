#include <string.h>

#include "harness.h"
#include "sse_encode.h"

static const char *encode(buf *out, const char *type, const char *id, int has_id, const char *data, size_t data_len,
                          long long retry, int *rc) {
    buf_clear(out);
    sse_out_event ev = {type, type ? strlen(type) : 0, id, id ? strlen(id) : 0, has_id, data, data_len, retry};
    *rc = sse_encode_event(out, &ev);
    buf_append_char(out, '\0');
    return out->data;
}

static void plain_event(const void *arg) {
    (void)arg;
    buf out = BUF_INIT;
    int rc;
    CHECK_STR(encode(&out, NULL, NULL, 0, "hello", 5, -1, &rc), "data: hello\n\n");
    CHECK(rc == SSE_ENCODE_OK);
    CHECK_STR(encode(&out, "deploy", "42", 1, "v2", 2, 3000, &rc), "event: deploy\nid: 42\nretry: 3000\ndata: v2\n\n");
    CHECK_STR(encode(&out, "message", NULL, 0, "m", 1, -1, &rc), "data: m\n\n");
    buf_free(&out);
}

static void data_line_breaks(const void *arg) {
    (void)arg;
    buf out = BUF_INIT;
    int rc;
    CHECK_STR(encode(&out, NULL, NULL, 0, "a\nb\rc\r\nd", 8, -1, &rc), "data: a\ndata: b\ndata: c\ndata: d\n\n");
    CHECK_STR(encode(&out, NULL, NULL, 0, "a\n", 2, -1, &rc), "data: a\ndata:\n\n");
    CHECK_STR(encode(&out, NULL, NULL, 0, "\r\r", 2, -1, &rc), "data:\ndata:\ndata:\n\n");
    buf_free(&out);
}

static void empty_data_dispatches(const void *arg) {
    (void)arg;
    buf out = BUF_INIT;
    int rc;
    CHECK_STR(encode(&out, NULL, NULL, 0, "", 0, -1, &rc), "data:\n\n");
    CHECK_STR(encode(&out, NULL, "", 1, "", 0, -1, &rc), "id:\ndata:\n\n");
    buf_free(&out);
}

static void rejects_bad_type_and_id(const void *arg) {
    (void)arg;
    buf out = BUF_INIT;
    buf_append_str(&out, "keep");
    const struct {
        const char *type, *id;
        size_t id_len;
        int want;
    } bad[] = {
        {"a\nb", NULL, 0, SSE_ENCODE_BAD_TYPE}, {"a\rb", NULL, 0, SSE_ENCODE_BAD_TYPE},
        {NULL, "1\n2", 3, SSE_ENCODE_BAD_ID},   {NULL, "1\r", 2, SSE_ENCODE_BAD_ID},
        {NULL, "1\0" "2", 3, SSE_ENCODE_BAD_ID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sse_out_event ev = {bad[i].type, bad[i].type ? strlen(bad[i].type) : 0, bad[i].id, bad[i].id_len,
                            bad[i].id != NULL, "x", 1, -1};
        CHECK(sse_encode_event(&out, &ev) == bad[i].want);
        CHECK(out.len == 4);
    }
    CHECK(strcmp(sse_encode_strerror(SSE_ENCODE_BAD_ID), "event id contains a line break or NUL") == 0);
    buf_free(&out);
}

static void invalid_utf8_is_replaced(const void *arg) {
    (void)arg;
    buf out = BUF_INIT;
    int rc;
    CHECK_STR(encode(&out, "t\xFF", NULL, 0, "a\xC3", 2, -1, &rc), "event: t\xEF\xBF\xBD\ndata: a\xEF\xBF\xBD\n\n");
    buf_free(&out);
}

static void comments_and_retry(const void *arg) {
    (void)arg;
    buf out = BUF_INIT;
    CHECK(sse_encode_comment(&out, "keep-alive", 10) == SSE_ENCODE_OK);
    CHECK(sse_encode_comment(&out, "two\nlines", 9) == SSE_ENCODE_OK);
    CHECK(sse_encode_comment(&out, "", 0) == SSE_ENCODE_OK);
    CHECK(sse_encode_retry(&out, 2500) == SSE_ENCODE_OK);
    buf_append_char(&out, '\0');
    CHECK_STR(out.data, ": keep-alive\n: two\n: lines\n:\nretry: 2500\n");
    buf_free(&out);
}

void encoder_tests_register(void) {
    harness_add("encoder: plain event and all fields", plain_event, NULL);
    harness_add("encoder: LF, CR and CRLF in data become data lines", data_line_breaks, NULL);
    harness_add("encoder: empty data still dispatches", empty_data_dispatches, NULL);
    harness_add("encoder: type or id with CR, LF or NUL is rejected, nothing written", rejects_bad_type_and_id,
                NULL);
    harness_add("encoder: invalid UTF-8 is written as U+FFFD", invalid_utf8_is_replaced, NULL);
    harness_add("encoder: comments and a lone retry", comments_and_retry, NULL);
}
