/* Encoding events for the publish script and parsing what it sends back.
 * Lengths make the format binary-safe: data may hold any byte. */
#include "cluster_message.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cluster_batch_add(cluster_batch *b, const sse_out_event *ev) {
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        size_t *grown = realloc(b->ends, cap * sizeof *grown);
        if (!grown)
            return -1;
        b->ends = grown;
        b->cap = cap;
    }
    size_t type_len = ev->type ? ev->type_len : 0, id_len = ev->has_id ? ev->id_len : 0;
    char head[80];
    int head_len = snprintf(head, sizeof head, "%lld %zu %lld\n", ev->retry_ms, type_len,
                            ev->has_id ? (long long)ev->id_len : -1LL);
    if (head_len < 0 || (size_t)head_len >= sizeof head)
        return -1;
    /* Framed with its length, so the script can skip resent events
     * without parsing them. */
    size_t enc_len = (size_t)head_len + type_len + id_len + ev->data_len;
    if (buf_printf(&b->bytes, "%zu\n%s", enc_len, head) < 0 ||
        buf_append(&b->bytes, ev->type ? ev->type : "", type_len) < 0 ||
        buf_append(&b->bytes, ev->has_id ? ev->id : "", id_len) < 0 ||
        buf_append(&b->bytes, ev->data ? ev->data : "", ev->data_len) < 0)
        return -1;
    b->ends[b->count++] = b->bytes.len;
    return 0;
}

void cluster_batch_clear(cluster_batch *b) {
    buf_clear(&b->bytes);
    b->count = 0;
}

void cluster_batch_free(cluster_batch *b) {
    buf_free(&b->bytes);
    free(b->ends);
    b->ends = NULL;
    b->count = b->cap = 0;
}

/* A decimal number (with an optional '-') ending at `stop`; advances *p
 * past the separator. */
static int take_number(const char **p, const char *end, char stop, long long *out) {
    const char *s = *p;
    int negative = s < end && *s == '-';
    if (negative)
        s++;
    long long n = 0;
    const char *digits = s;
    while (s < end && *s >= '0' && *s <= '9') {
        if (n > (LLONG_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*s++ - '0');
    }
    if (s == digits || s == end || *s != stop)
        return -1;
    *p = s + 1;
    *out = negative ? -n : n;
    return 0;
}

int cluster_event_parse(const char *enc, size_t len, uint64_t n, uint64_t prev, cluster_event *out) {
    const char *p = enc, *end = enc + len;
    long long retry, type_len, id_len;
    if (take_number(&p, end, ' ', &retry) < 0 || take_number(&p, end, ' ', &type_len) < 0 ||
        take_number(&p, end, '\n', &id_len) < 0)
        return -1;
    if (n == 0 || type_len < 0 || id_len < -1 || retry < -1)
        return -1;
    size_t left = (size_t)(end - p);
    size_t id_bytes = id_len < 0 ? 0 : (size_t)id_len;
    if ((size_t)type_len > left || id_bytes > left - (size_t)type_len)
        return -1;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->prev = prev;
    sse_out_event *ev = &out->ev;
    ev->type = type_len ? p : NULL;
    ev->type_len = (size_t)type_len;
    p += type_len;
    if (id_len >= 0) {
        ev->id = p;
        ev->id_len = id_bytes;
    } else {
        ev->id_len = (size_t)snprintf(out->number_id, sizeof out->number_id, "%llu", (unsigned long long)n);
        ev->id = out->number_id;
    }
    ev->has_id = 1;
    p += id_bytes;
    ev->data = p;
    ev->data_len = (size_t)(end - p);
    ev->retry_ms = retry;
    return 0;
}

/* The version before's single event: "N PREV " and its encoding. */
static int split_numbered_event(const char *msg, size_t len, cluster_event_fn fn, void *ctx) {
    const char *p = msg, *end = msg + len;
    long long n, prev;
    if (take_number(&p, end, ' ', &n) < 0 || take_number(&p, end, ' ', &prev) < 0 || n <= 0 || prev < 0 ||
        prev >= n || (uint64_t)n >= CLUSTER_MAX_SEQUENCE)
        return -1;
    fn(ctx, (uint64_t)n, (uint64_t)prev, p, (size_t)(end - p));
    return 0;
}

/* COUNT pieces, each "LEN\n" and LEN bytes, filling exactly [p, end). A
 * piece is an event's encoding numbered from `first` (first > 0), or, for
 * the version before's batches (first 0), a numbered event. */
static int split_pieces(const char *p, const char *end, long long count, uint64_t first, uint64_t prev,
                        cluster_event_fn fn, void *ctx) {
    for (long long i = 0; i < count; i++) {
        long long piece_len;
        if (take_number(&p, end, '\n', &piece_len) < 0 || piece_len <= 0 || (size_t)piece_len > (size_t)(end - p))
            return -1;
        if (!first) {
            if (split_numbered_event(p, (size_t)piece_len, fn, ctx) < 0)
                return -1;
        } else {
            fn(ctx, first + (uint64_t)i, i ? first + (uint64_t)i - 1 : prev, p, (size_t)piece_len);
        }
        p += piece_len;
    }
    return p == end ? 0 : -1;
}

/* "#FIRST PREV COUNT\n": fills the three; p moves past it. */
static int take_range_header(const char **p, const char *end, long long *first, long long *prev, long long *count) {
    if (*p == end || **p != '#')
        return -1;
    (*p)++;
    if (take_number(p, end, ' ', first) < 0 || take_number(p, end, ' ', prev) < 0 ||
        take_number(p, end, '\n', count) < 0)
        return -1;
    /* The script numbers events as Lua numbers, exact below
     * CLUSTER_MAX_SEQUENCE, each after the one before: a range past that,
     * or a previous number not before the first, was not written by it,
     * and trusting it would put the channel's numbering out of reach of
     * every real event. */
    if (*first <= 0 || *prev < 0 || *count <= 0 || *prev >= *first || (uint64_t)*first >= CLUSTER_MAX_SEQUENCE ||
        (uint64_t)*count > CLUSTER_MAX_SEQUENCE - (uint64_t)*first)
        return -1;
    return 0;
}

int cluster_message_split(const char *msg, size_t len, cluster_event_fn fn, void *ctx) {
    const char *p = msg, *end = msg + len;
    long long first, prev, count;
    if (len && msg[0] == '#') {
        if (take_range_header(&p, end, &first, &prev, &count) < 0)
            return -1;
        return split_pieces(p, end, count, (uint64_t)first, (uint64_t)prev, fn, ctx);
    }
    if (len && msg[0] == '*') {
        p++;
        if (take_number(&p, end, '\n', &count) < 0 || count <= 0)
            return -1;
        return split_pieces(p, end, count, 0, 0, fn, ctx);
    }
    return split_numbered_event(msg, len, fn, ctx);
}

uint64_t cluster_message_count(const char *msg, size_t len) {
    const char *p = msg, *end = msg + len;
    long long first, prev, count;
    if (len && msg[0] == '#')
        return take_range_header(&p, end, &first, &prev, &count) < 0 ? 0 : (uint64_t)count;
    if (len && msg[0] == '*') {
        p++;
        return take_number(&p, end, '\n', &count) < 0 || count <= 0 ? 0 : (uint64_t)count;
    }
    return len ? 1 : 0;
}

int cluster_message_last(const char *msg, size_t len, uint64_t *last) {
    const char *p = msg, *end = msg + len;
    long long first, prev, count;
    if (len && msg[0] == '#') {
        if (take_range_header(&p, end, &first, &prev, &count) < 0)
            return 0;
        *last = (uint64_t)first + (uint64_t)count - 1;
        return 1;
    }
    if (!len || msg[0] == '*' || take_number(&p, end, ' ', &first) < 0 || first <= 0 ||
        (uint64_t)first >= CLUSTER_MAX_SEQUENCE)
        return 0;
    *last = (uint64_t)first;
    return 1;
}

int cluster_message_prev(const char *msg, size_t len, uint64_t *prev) {
    const char *p = msg, *end = msg + len;
    long long first, before, count;
    if (!len || msg[0] != '#' || take_range_header(&p, end, &first, &before, &count) < 0)
        return 0;
    *prev = (uint64_t)before;
    return 1;
}

/* The version before's batch: "*COUNT\n", then COUNT pieces "LEN\n" and
 * an entry's text ("N PREV " and an encoding), filling the message. */
static long long batch_entries(const char *p, const char *end, cluster_entry_fn fn, void *ctx) {
    long long count;
    if (take_number(&p, end, '\n', &count) < 0 || count <= 0)
        return -1;
    for (long long i = 0; i < count; i++) {
        long long piece_len, n;
        if (take_number(&p, end, '\n', &piece_len) < 0 || piece_len <= 0 || (size_t)piece_len > (size_t)(end - p))
            return -1;
        const char *q = p;
        if (take_number(&q, p + piece_len, ' ', &n) < 0 || n <= 0 || (uint64_t)n >= CLUSTER_MAX_SEQUENCE)
            return -1;
        fn(ctx, (uint64_t)n, p, (size_t)piece_len);
        p += piece_len;
    }
    return p == end ? count : -1;
}

long long cluster_message_entries(const char *msg, size_t len, cluster_entry_fn fn, void *ctx) {
    uint64_t last;
    if (len && msg[0] == '*')
        return batch_entries(msg + 1, msg + len, fn, ctx);
    if (!cluster_message_last(msg, len, &last))
        return -1;
    fn(ctx, last, msg, len);
    return 1;
}
