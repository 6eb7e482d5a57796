#include "json.h"

#include <string.h>

#include "utf8.h"

/* Bytes that must be escaped in a JSON string: control characters, quote and
 * backslash. Everything else is copied in runs. */
static int needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

static int append_valid(buf *out, const char *s, size_t len) {
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c))
            continue;
        if (buf_append(out, s + run, i - run) < 0)
            return -1;
        run = i + 1;
        int rc;
        switch (c) {
        case '"':
            rc = buf_append(out, "\\\"", 2);
            break;
        case '\\':
            rc = buf_append(out, "\\\\", 2);
            break;
        case '\n':
            rc = buf_append(out, "\\n", 2);
            break;
        case '\r':
            rc = buf_append(out, "\\r", 2);
            break;
        case '\t':
            rc = buf_append(out, "\\t", 2);
            break;
        default:
            rc = buf_printf(out, "\\u%04x", c);
        }
        if (rc < 0)
            return -1;
    }
    return buf_append(out, s + run, len - run);
}

int json_append_string(buf *out, const char *s, size_t len) {
    if (buf_append_char(out, '"') < 0)
        return -1;
    while (len > 0) {
        size_t valid = utf8_valid_prefix(s, len);
        if (append_valid(out, s, valid) < 0)
            return -1;
        if (valid == len)
            break;
        size_t bad = utf8_invalid_run(s + valid, len - valid);
        if (buf_append(out, "\xEF\xBF\xBD", 3) < 0)
            return -1;
        s += valid + bad;
        len -= valid + bad;
    }
    return buf_append_char(out, '"');
}
