/* Reading a recording: the first line checked by hand, the rest through
 * the event-stream parser, whose comments carry the times. */
#include "replay_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "ssecat-recording="

static void emit(replay_reader *r, replay_item *it) {
    it->t_ms = r->t_ms;
    r->h.on_item(r->h.ctx, it);
}

/* A retry field in a block that dispatched no event is its own item. */
static void flush_retry(replay_reader *r) {
    if (r->retry_pending < 0)
        return;
    replay_item it = {.kind = REPLAY_RETRY, .retry_ms = r->retry_pending};
    r->retry_pending = -1;
    emit(r, &it);
}

static void on_event(void *ctx, const sse_event *ev) {
    replay_reader *r = ctx;
    int plain = ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0;
    replay_item it = {.kind = REPLAY_EVENT,
                      .type = plain ? NULL : ev->type,
                      .type_len = plain ? 0 : ev->type_len,
                      .id = ev->id_in_event ? ev->id : NULL,
                      .id_len = ev->id_in_event ? ev->id_len : 0,
                      .data = ev->data,
                      .data_len = ev->data_len,
                      .retry_ms = r->retry_pending};
    r->retry_pending = -1;
    emit(r, &it);
}

static void on_retry(void *ctx, unsigned long long ms) {
    ((replay_reader *)ctx)->retry_pending = sse_retry_clamp(ms);
}

/* "t=S.mmm": seconds with up to three decimals; anything else is left as
 * it was (a reader ignores what it does not know). */
static void take_time(replay_reader *r, const char *v, size_t len) {
    uint64_t s = 0, ms = 0;
    size_t i = 0;
    for (; i < len && v[i] >= '0' && v[i] <= '9' && s < UINT64_MAX / 100000; i++)
        s = s * 10 + (uint64_t)(v[i] - '0');
    if (i == 0)
        return;
    if (i < len && v[i] == '.') {
        unsigned scale = 100;
        for (i++; i < len && v[i] >= '0' && v[i] <= '9'; i++, scale /= 10)
            ms += (uint64_t)(v[i] - '0') * scale;
    }
    if (i == len)
        r->t_ms = s * 1000 + ms;
}

static void on_comment(void *ctx, const char *text, size_t len) {
    replay_reader *r = ctx;
    if (len >= 2 && memcmp(text, "t=", 2) == 0) {
        flush_retry(r); /* a new item begins: the last block dispatched nothing */
        take_time(r, text + 2, len - 2);
    } else if (len >= 8 && memcmp(text, "comment=", 8) == 0) {
        flush_retry(r);
        replay_item it = {.kind = REPLAY_COMMENT, .data = text + 8, .data_len = len - 8, .retry_ms = -1};
        emit(r, &it);
    }
}

static void on_oversize(void *ctx, size_t bytes) {
    replay_reader *r = ctx;
    r->retry_pending = -1;
    if (r->h.on_oversize)
        r->h.on_oversize(r->h.ctx, bytes);
}

void replay_reader_init(replay_reader *r, size_t max_event_size, const replay_reader_handlers *h) {
    memset(r, 0, sizeof *r);
    r->h = *h;
    r->retry_pending = -1;
    sse_parser_handlers ph = {on_event, on_retry, on_comment, on_oversize, r};
    sse_parser_init(&r->parser, max_event_size, &ph);
}

void replay_reader_reset(replay_reader *r) {
    size_t max = r->parser.max_event_size;
    replay_reader_handlers h = r->h;
    sse_parser_free(&r->parser);
    replay_reader_init(r, max, &h);
}

/* The first line, complete (without its LF): ": ssecat-recording=1". */
static int check_first_line(replay_reader *r) {
    const char *l = r->first;
    size_t len = r->first_len;
    if (len > 0 && l[len - 1] == '\r')
        len--;
    size_t magic = strlen(": " MAGIC);
    if (len < magic || memcmp(l, ": " MAGIC, magic) != 0) {
        snprintf(r->err, sizeof r->err, "not a recording (its first line is not ': ssecat-recording=1')");
        return -1;
    }
    if (len != magic + 1 || l[magic] != '1') {
        snprintf(r->err, sizeof r->err, "recording format version '%.*s' is not known (this ssed reads version 1)",
                 (int)(len - magic > 20 ? 20 : len - magic), l + magic);
        return -1;
    }
    r->checked = 1;
    return 0;
}

/* Take bytes of the first line; returns how many were its, or -1. */
static long take_first_line(replay_reader *r, const char *bytes, size_t len) {
    const char *lf = memchr(bytes, '\n', len);
    size_t n = lf ? (size_t)(lf - bytes) : len;
    if (r->first_len + n >= sizeof r->first) {
        r->first_len = sizeof r->first - 1;
        memcpy(r->first, bytes, r->first_len > n ? n : r->first_len);
        snprintf(r->err, sizeof r->err, "not a recording (its first line is not ': ssecat-recording=1')");
        return -1;
    }
    memcpy(r->first + r->first_len, bytes, n);
    r->first_len += n;
    if (!lf)
        return (long)n;
    return check_first_line(r) < 0 ? -1 : (long)(n + 1);
}

int replay_reader_feed(replay_reader *r, const char *bytes, size_t len) {
    if (r->bad)
        return -1;
    if (!r->checked) {
        long used = take_first_line(r, bytes, len);
        if (used < 0) {
            r->bad = 1;
            return -1;
        }
        bytes += used;
        len -= (size_t)used;
        if (!r->checked)
            return 0;
    }
    if (len && sse_parser_feed(&r->parser, bytes, len) < 0) {
        snprintf(r->err, sizeof r->err, "out of memory while reading the recording");
        return -1;
    }
    return 0;
}

int replay_reader_finish(replay_reader *r) {
    if (r->bad)
        return -1;
    if (!r->checked) {
        if (r->first_len == 0) {
            snprintf(r->err, sizeof r->err, "empty: not a recording (no ': ssecat-recording=1' line)");
            return -1;
        }
        if (check_first_line(r) < 0)
            return -1;
    }
    sse_parser_finish(&r->parser);
    flush_retry(r);
    return 0;
}

void replay_reader_free(replay_reader *r) { sse_parser_free(&r->parser); }
