/* Parsing --redis. A pure function over the text, so it is unit-tested
 * without a Redis. */
#include "redis_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_part(char *dst, size_t size, const char *src, size_t len) {
    if (len >= size)
        return -1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

static int parse_number(const char *s, size_t len, long max, long *out) {
    if (len == 0 || len > 9)
        return -1;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    if (n > max)
        return -1;
    *out = n;
    return 0;
}

/* user:pass or pass before the last '@'. */
static int parse_userinfo(const char *s, size_t len, redis_url *out) {
    const char *colon = memchr(s, ':', len);
    size_t user_len = colon ? (size_t)(colon - s) : 0;
    const char *pass = colon ? colon + 1 : s;
    size_t pass_len = len - (size_t)(pass - s);
    if (copy_part(out->user, sizeof out->user, s, user_len) < 0 ||
        copy_part(out->password, sizeof out->password, pass, pass_len) < 0)
        return -1;
    out->has_password = pass_len > 0;
    return 0;
}

/* host, host:port, [v6] or [v6]:port. */
static int parse_host_port(const char *s, size_t len, redis_url *out) {
    const char *host = s, *port = NULL;
    size_t host_len = len;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return -1;
        host = s + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return -1;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon) {
            host_len = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (host_len == 0 || copy_part(out->host, sizeof out->host, host, host_len) < 0)
        return -1;
    long n = 6379;
    if (port && (parse_number(port, (size_t)(s + len - port), 65535, &n) < 0 || n == 0))
        return -1;
    out->port = (int)n;
    return 0;
}

int redis_url_parse(const char *text, redis_url *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (strncmp(text, "unix:", 5) == 0) {
        const char *path = text + 5;
        if (path[0] != '/' || copy_part(out->unix_path, sizeof out->unix_path, path, strlen(path)) < 0) {
            snprintf(err, errlen, "invalid Redis address '%s' (unix: needs an absolute path, at most 107 bytes)", text);
            return -1;
        }
        snprintf(out->display, sizeof out->display, "unix:%s", out->unix_path);
        return 0;
    }
    if (strncmp(text, "redis://", 8) != 0) {
        snprintf(err, errlen, "invalid Redis URL (expected redis://[user:pass@]host:port[/db] or unix:/path)");
        return -1;
    }
    const char *rest = text + 8;
    const char *slash = strchr(rest, '/');
    const char *end = slash ? slash : rest + strlen(rest);
    const char *at = NULL;
    for (const char *p = rest; p < end; p++)
        if (*p == '@')
            at = p;
    const char *hostport = at ? at + 1 : rest;
    if (at && parse_userinfo(rest, (size_t)(at - rest), out) < 0) {
        snprintf(err, errlen, "invalid Redis URL: user or password too long");
        return -1;
    }
    if (parse_host_port(hostport, (size_t)(end - hostport), out) < 0) {
        snprintf(err, errlen, "invalid Redis URL: expected host, host:port or [IPv6]:port (port 1-65535) after redis://");
        return -1;
    }
    long db = 0;
    if (slash && slash[1] && parse_number(slash + 1, strlen(slash + 1), 1000000, &db) < 0) {
        snprintf(err, errlen, "invalid Redis URL: the database after '/' must be a number");
        return -1;
    }
    out->db = (int)db;
    snprintf(out->display, sizeof out->display, strchr(out->host, ':') ? "[%s]:%d" : "%s:%d", out->host, out->port);
    return 0;
}
