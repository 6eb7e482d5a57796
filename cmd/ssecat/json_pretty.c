#include "json_pretty.h"

#include <string.h>

#define JSON_PRETTY_MAX_DEPTH 64

typedef struct printer {
    const char *s;
    size_t len;
    size_t pos;
    buf *out;
    const char *margin;
    int oom;
} printer;

static void skip_space(printer *p) {
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos] != '\0')
        p->pos++;
}

static void emit(printer *p, const char *bytes, size_t len) {
    if (!p->oom && buf_append(p->out, bytes, len) < 0)
        p->oom = 1;
}

static void newline(printer *p, int depth) {
    emit(p, "\n", 1);
    emit(p, p->margin, strlen(p->margin));
    for (int i = 0; i < depth; i++)
        emit(p, "  ", 2);
}

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* A string is copied as it stands: its escapes are already JSON. */
static int string(printer *p) {
    size_t start = p->pos++;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            emit(p, p->s + start, p->pos - start);
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                return 0;
            char e = p->s[p->pos + 1];
            if (e == 'u') {
                if (p->pos + 5 >= p->len)
                    return 0;
                for (int i = 2; i < 6; i++)
                    if (!is_hex(p->s[p->pos + (size_t)i]))
                        return 0;
                p->pos += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return 0;
            p->pos += 2;
            continue;
        }
        p->pos++;
    }
    return 0;
}

static size_t digits(printer *p) {
    size_t n = 0;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++, n++;
    return n;
}

static int number(printer *p) {
    size_t start = p->pos;
    if (p->s[p->pos] == '-')
        p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '0')
        p->pos++;
    else if (digits(p) == 0)
        return 0;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (digits(p) == 0)
            return 0;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (digits(p) == 0)
            return 0;
    }
    emit(p, p->s + start, p->pos - start);
    return 1;
}

static int literal(printer *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return 0;
    p->pos += n;
    emit(p, word, n);
    return 1;
}

static int value(printer *p, int depth);

/* An object or array: `close` ends it; objects have "key": before values. */
static int container(printer *p, int depth, char close) {
    if (depth >= JSON_PRETTY_MAX_DEPTH)
        return 0;
    emit(p, p->s + p->pos, 1);
    p->pos++;
    skip_space(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        emit(p, &close, 1);
        return 1;
    }
    for (;;) {
        newline(p, depth + 1);
        skip_space(p);
        if (close == '}') {
            if (p->pos >= p->len || p->s[p->pos] != '"' || !string(p))
                return 0;
            skip_space(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return 0;
            p->pos++;
            emit(p, ": ", 2);
        }
        if (!value(p, depth + 1))
            return 0;
        skip_space(p);
        if (p->pos >= p->len)
            return 0;
        if (p->s[p->pos] == close) {
            p->pos++;
            newline(p, depth);
            emit(p, &close, 1);
            return 1;
        }
        if (p->s[p->pos] != ',')
            return 0;
        p->pos++;
        emit(p, ",", 1);
    }
}

static int value(printer *p, int depth) {
    skip_space(p);
    if (p->pos >= p->len)
        return 0;
    switch (p->s[p->pos]) {
    case '{':
        return container(p, depth, '}');
    case '[':
        return container(p, depth, ']');
    case '"':
        return string(p);
    case 't':
        return literal(p, "true");
    case 'f':
        return literal(p, "false");
    case 'n':
        return literal(p, "null");
    default:
        if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
            return number(p);
        return 0;
    }
}

int json_pretty_append(buf *out, const char *s, size_t len, const char *margin) {
    size_t start = out->len;
    printer p = {s, len, 0, out, margin, 0};
    emit(&p, margin, strlen(margin));
    int ok = value(&p, 0);
    skip_space(&p);
    if (p.oom) {
        out->len = start;
        return -1;
    }
    if (!ok || p.pos != len) {
        out->len = start;
        return 0;
    }
    return 1;
}
