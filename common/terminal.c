/* Text from the network on a user's terminal: no byte of it may drive the
 * terminal (OSC 52 clipboard writes, titles, screen clears, links). */
#include "terminal.h"

#include <string.h>
#include <unistd.h>

#include "utf8.h"

/* Terminal control bytes in a stranger's stream must not drive the user's
 * terminal: C0 controls (but tab) and DEL become caret notation, C1
 * controls U+FFFD. The text is valid UTF-8 (the parser made it so). */
static int append_for_terminal(buf *out, const char *s, size_t len) {
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int c0 = (c < 0x20 && c != '\t') || c == 0x7f;
        int c1 = c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9F;
        if (!c0 && !c1)
            continue;
        if (buf_append(out, s + run, i - run) < 0)
            return -1;
        if (c0) {
            char caret[2] = {'^', (char)(c ^ 0x40)};
            if (buf_append(out, caret, 2) < 0)
                return -1;
        } else {
            if (buf_append(out, "\xEF\xBF\xBD", 3) < 0)
                return -1;
            i++;
        }
        run = i + 1;
    }
    return buf_append(out, s + run, len - run);
}

int terminal_safe_append(buf *out, const char *s, size_t len, int keep_lf) {
    if (len == 0)
        return 0;
    buf valid = BUF_INIT;
    if (utf8_valid_prefix(s, len) != len) {
        if (utf8_sanitize_append(&valid, s, len) < 0)
            return -1;
        s = valid.data;
        len = valid.len;
    }
    int rc = 0;
    for (size_t pos = 0; rc == 0;) {
        const char *nl = keep_lf && pos < len ? memchr(s + pos, '\n', len - pos) : NULL;
        size_t end = nl ? (size_t)(nl - s) : len;
        rc = append_for_terminal(out, s + pos, end - pos);
        if (!nl)
            break;
        rc |= buf_append_char(out, '\n');
        pos = end + 1;
    }
    buf_free(&valid);
    return rc;
}

const char *terminal_stderr_text(buf *scratch, const char *s, size_t len, int keep_lf) {
    buf_clear(scratch);
    int rc = isatty(STDERR_FILENO) ? terminal_safe_append(scratch, s, len, keep_lf)
                                   : utf8_sanitize_append(scratch, s, len);
    if (rc < 0 || buf_append_char(scratch, '\0') < 0)
        return "";
    return scratch->data;
}
