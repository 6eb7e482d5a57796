#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "terminal.h"
#include "utf8.h"

#define RECORD_VERSION 1

/* Response headers that carry credentials or a session: never recorded. */
static const char *const secret_headers[] = {"authorization", "proxy-authorization", "cookie", "set-cookie"};

static void note_oom(recorder *r) {
    if (!r->failed)
        log_error("%s: out of memory formatting the recording", r->name);
    r->failed = 1;
}

/* Text from the network or the command line as one line of the recording:
 * valid UTF-8, and a CR or LF (which would end the comment line and start
 * a field) made a space. */
static int append_line_text(buf *out, const char *s, size_t len) {
    size_t at = out->len;
    if (utf8_sanitize_append(out, s, len) < 0)
        return -1;
    for (size_t i = at; i < out->len; i++)
        if (out->data[i] == '\r' || out->data[i] == '\n')
            out->data[i] = ' ';
    return 0;
}

/* Text with the user:pass@ of every URL in it removed: the URL asked for,
 * and error messages, which quote it. */
static int append_without_credentials(buf *out, const char *text) {
    int rc = 0;
    for (;;) {
        const char *scheme_end = strstr(text, "://");
        if (!scheme_end)
            return rc | append_line_text(out, text, strlen(text));
        const char *host = scheme_end + 3;
        size_t authority = strcspn(host, "/?# \t'\"");
        const char *at = NULL;
        for (const char *c = host; c < host + authority; c++)
            if (*c == '@')
                at = c;
        rc |= append_line_text(out, text, (size_t)(host - text));
        text = at ? at + 1 : host;
    }
}

/* "start=" in UTC, RFC 3339 with milliseconds. */
static int append_start(buf *out) {
    struct timespec now;
    struct tm tm;
    if (clock_gettime(CLOCK_REALTIME, &now) < 0 || !gmtime_r(&now.tv_sec, &tm))
        return buf_append_str(out, ": start=1970-01-01T00:00:00.000Z\n");
    return buf_printf(out, ": start=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\n", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000L);
}

int recorder_open(recorder *r, const char *path, const char *url, int comments) {
    memset(r, 0, sizeof *r);
    r->comments = comments;
    r->start_us = clock_now_us();
    r->to_stdout = path == NULL;
    r->name = path ? path : "standard output";
    r->terminal = r->to_stdout && isatty(STDOUT_FILENO);
    r->fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : STDOUT_FILENO;
    if (r->fd < 0) {
        log_error("%s: %s", path, strerror(errno));
        r->failed = 1;
        return -1;
    }
    int rc = buf_printf(&r->pending, ": ssecat-recording=%d\n: url=", RECORD_VERSION) | append_without_credentials(&r->pending, url) |
             buf_append_char(&r->pending, '\n') | append_start(&r->pending);
    if (rc < 0) {
        note_oom(r);
        return -1;
    }
    return recorder_flush(r) < 0 ? -1 : 0;
}

void recorder_close(recorder *r) {
    if (!r->to_stdout && r->fd >= 0 && close(r->fd) < 0 && !r->failed)
        log_error("close %s: %s", r->name, strerror(errno));
    r->fd = -1;
    buf_free(&r->pending);
    buf_free(&r->headers);
}

/* ": t=S.mmm", the seconds since the start, never less than the last. */
static int append_time(recorder *r) {
    uint64_t ms = (clock_now_us() - r->start_us) / 1000;
    if (ms < r->last_ms)
        ms = r->last_ms;
    r->last_ms = ms;
    return buf_printf(&r->pending, ": t=%llu.%03llu\n", (unsigned long long)(ms / 1000),
                      (unsigned long long)(ms % 1000));
}

void recorder_attempt(recorder *r) {
    r->attempts++;
    buf_clear(&r->headers);
}

static int is_secret(const char *line, size_t name_len) {
    for (size_t i = 0; i < sizeof secret_headers / sizeof secret_headers[0]; i++)
        if (strlen(secret_headers[i]) == name_len && strncasecmp(line, secret_headers[i], name_len) == 0)
            return 1;
    return 0;
}

void recorder_header_line(recorder *r, const char *line, size_t len) {
    if (r->failed)
        return;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        buf_clear(&r->headers);
        return;
    }
    const char *colon = memchr(line, ':', len);
    /* Not a header (the blank line, a folded continuation), or a secret. */
    if (!colon || colon == line || line[0] == ' ' || line[0] == '\t' || is_secret(line, (size_t)(colon - line)))
        return;
    if (buf_append_str(&r->headers, ": header=") | append_line_text(&r->headers, line, len) |
        buf_append_char(&r->headers, '\n'))
        note_oom(r);
}

void recorder_opened(recorder *r, long status) {
    if (r->failed)
        return;
    int rc = 0;
    if (r->attempts > 1)
        rc = append_time(r) | buf_printf(&r->pending, ": reconnect=%u\n", r->attempts - 1);
    rc |= buf_printf(&r->pending, ": status=%ld\n", status);
    rc |= buf_append(&r->pending, r->headers.data, r->headers.len);
    buf_clear(&r->headers);
    if (rc)
        note_oom(r);
}

void recorder_error(recorder *r, const char *why) {
    if (r->failed)
        return;
    if (append_time(r) | buf_append_str(&r->pending, ": error=") | append_without_credentials(&r->pending, why) |
        buf_append_char(&r->pending, '\n'))
        note_oom(r);
}

/* One "data:" line per line of the event's data; "data:" alone for an
 * empty line (and so for empty data). */
static int append_data(buf *out, const char *data, size_t len) {
    int rc = 0;
    for (;;) {
        const char *lf = memchr(data, '\n', len);
        size_t line = lf ? (size_t)(lf - data) : len;
        rc |= buf_append_str(out, line ? "data: " : "data:") | buf_append(out, data, line) | buf_append_char(out, '\n');
        if (!lf)
            return rc;
        data += line + 1;
        len -= line + 1;
    }
}

static int append_retry(recorder *r) {
    int rc = 0;
    if (r->retry_pending)
        rc = buf_printf(&r->pending, "retry: %llu\n", r->retry_ms);
    r->retry_pending = 0;
    return rc;
}

void recorder_event(recorder *r, const sse_event *ev) {
    if (r->failed)
        return;
    buf *out = &r->pending;
    int rc = append_time(r);
    if (!(ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0))
        rc |= buf_append_str(out, "event: ") | buf_append(out, ev->type, ev->type_len) | buf_append_char(out, '\n');
    if (ev->id_in_event)
        rc |= buf_append_str(out, ev->id_len ? "id: " : "id:") | buf_append(out, ev->id, ev->id_len) |
              buf_append_char(out, '\n');
    rc |= append_data(out, ev->data, ev->data_len) | append_retry(r) | buf_append_char(out, '\n');
    if (rc)
        note_oom(r);
}

void recorder_retry(recorder *r, unsigned long long ms) {
    r->retry_ms = ms;
    r->retry_pending = 1;
}

void recorder_comment(recorder *r, const char *text, size_t len) {
    if (r->failed || !r->comments)
        return;
    if (append_time(r) | buf_append_str(&r->pending, ": comment=") | buf_append(&r->pending, text, len) |
        buf_append_char(&r->pending, '\n'))
        note_oom(r);
}

/* A block that dispatched no event ended: a retry in it is a block of its own. */
void recorder_blank_line(recorder *r) {
    if (r->failed || !r->retry_pending)
        return;
    if (append_time(r) | append_retry(r) | buf_append_char(&r->pending, '\n'))
        note_oom(r);
}

void recorder_stream_ended(recorder *r) { recorder_blank_line(r); }

/* On a terminal, text from the network never drives it: control
 * characters (but LF) shown in caret notation. Rare, so copied. */
static int neutralise_for_terminal(recorder *r) {
    buf safe = BUF_INIT;
    if (terminal_safe_append(&safe, r->pending.data, r->pending.len, 1) < 0) {
        buf_free(&safe);
        return -1;
    }
    buf_free(&r->pending);
    r->pending = safe;
    return 0;
}

int recorder_flush(recorder *r) {
    size_t pos = 0;
    if (r->gone)
        return 1;
    if (r->failed) { /* reported; pending may end in a block cut short by a lack of memory */
        buf_clear(&r->pending);
        return -1;
    }
    if (r->terminal && r->pending.len > 0 && neutralise_for_terminal(r) < 0) {
        note_oom(r);
        buf_clear(&r->pending);
        return -1;
    }
    while (pos < r->pending.len) {
        ssize_t n = write(r->fd, r->pending.data + pos, r->pending.len - pos);
        if (n > 0) {
            pos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) { /* stdout left non-blocking by whoever started us */
            struct pollfd pfd = {r->fd, POLLOUT, 0};
            if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
                continue;
        }
        buf_clear(&r->pending);
        if (n < 0 && errno == EPIPE && r->to_stdout) {
            r->gone = 1;
            return 1;
        }
        log_error("write %s: %s", r->name, n < 0 ? strerror(errno) : "nothing written");
        r->failed = 1;
        return -1;
    }
    buf_clear(&r->pending);
    return r->failed ? -1 : 0;
}

void recorder_end(recorder *r, const char *reason) {
    if (r->failed || r->gone)
        return;
    if (buf_printf(&r->pending, ": end=%s\n", reason) < 0)
        note_oom(r);
    recorder_flush(r);
}
