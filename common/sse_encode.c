#include "sse_encode.h"

#include <string.h>

#include "utf8.h"

static int has_line_break(const char *s, size_t len) {
    return memchr(s, '\n', len) != NULL || memchr(s, '\r', len) != NULL;
}

/* `name` (which ends in a colon) alone for an empty value, else name,
 * separator, value. */
static int append_field(buf *out, const char *name, const char *sep, const char *value, size_t len) {
    if (buf_append_str(out, name) < 0)
        return -1;
    if (len > 0 && (buf_append_str(out, sep) < 0 || utf8_sanitize_append(out, value, len) < 0))
        return -1;
    return buf_append_char(out, '\n');
}

/* Write `text` as one field per line; LF, CR and CRLF all break. The next LF
 * is searched once and reused until passed, so CR-only text is not rescanned
 * for each line. */
static int append_lines(buf *out, const char *name, const char *sep, const char *text, size_t len) {
    size_t pos = 0;
    const char *lf = NULL;
    size_t lf_at = 0;
    int lf_known = 0;
    for (;;) {
        if (!lf_known || lf_at < pos) {
            lf = pos < len ? memchr(text + pos, '\n', len - pos) : NULL;
            lf_at = lf ? (size_t)(lf - text) : len;
            lf_known = 1;
        }
        const char *cr = memchr(text + pos, '\r', lf_at - pos);
        size_t eol = cr ? (size_t)(cr - text) : lf_at;
        if (append_field(out, name, sep, text + pos, eol - pos) < 0)
            return -1;
        if (eol >= len)
            return 0;
        pos = eol + 1;
        if (text[eol] == '\r' && pos < len && text[pos] == '\n')
            pos++;
    }
}

int sse_encode_event(buf *out, const sse_out_event *ev) {
    if (ev->type_len > 0 && has_line_break(ev->type, ev->type_len))
        return SSE_ENCODE_BAD_TYPE;
    if (ev->has_id && ev->id_len > 0 && (has_line_break(ev->id, ev->id_len) || memchr(ev->id, '\0', ev->id_len)))
        return SSE_ENCODE_BAD_ID;
    size_t start = out->len;
    if (buf_reserve(out, ev->data_len + ev->type_len + ev->id_len + 48) < 0)
        return SSE_ENCODE_NOMEM;
    int rc = 0;
    /* "message" is what a client assumes without an event field. */
    int default_type = ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0;
    if (ev->type_len > 0 && !default_type)
        rc |= append_field(out, "event:", " ", ev->type, ev->type_len);
    if (ev->has_id)
        rc |= append_field(out, "id:", " ", ev->id, ev->id_len);
    if (ev->retry_ms >= 0)
        rc |= buf_printf(out, "retry: %lld\n", ev->retry_ms);
    if (rc == 0)
        rc = append_lines(out, "data:", " ", ev->data ? ev->data : "", ev->data_len);
    if (rc == 0)
        rc = buf_append_char(out, '\n');
    if (rc < 0) {
        out->len = start;
        return SSE_ENCODE_NOMEM;
    }
    return SSE_ENCODE_OK;
}

int sse_encode_comment(buf *out, const char *text, size_t len) {
    size_t start = out->len;
    if (append_lines(out, ":", " ", text ? text : "", len) < 0) {
        out->len = start;
        return SSE_ENCODE_NOMEM;
    }
    return SSE_ENCODE_OK;
}

int sse_encode_retry(buf *out, unsigned long long ms) {
    return buf_printf(out, "retry: %llu\n", ms) < 0 ? SSE_ENCODE_NOMEM : SSE_ENCODE_OK;
}

const char *sse_encode_strerror(int rc) {
    switch (rc) {
    case SSE_ENCODE_OK:
        return "ok";
    case SSE_ENCODE_NOMEM:
        return "out of memory";
    case SSE_ENCODE_BAD_TYPE:
        return "event type contains a line break";
    case SSE_ENCODE_BAD_ID:
        return "event id contains a line break or NUL";
    default:
        return "unknown error";
    }
}
