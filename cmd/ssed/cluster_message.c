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
    size_t type_len = ev->type ? ev->type_len : 0;
    if (buf_printf(&b->bytes, "%lld %zu %lld\n", ev->retry_ms, type_len, ev->has_id ? (long long)ev->id_len : -1LL) < 0 ||
        buf_append(&b->bytes, ev->type ? ev->type : "", type_len) < 0 ||
        buf_append(&b->bytes, ev->has_id ? ev->id : "", ev->has_id ? ev->id_len : 0) < 0 ||
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

int cluster_event_parse(const char *msg, size_t len, cluster_event *out) {
    const char *p = msg, *end = msg + len;
    long long n, prev, retry, type_len, id_len;
    if (take_number(&p, end, ' ', &n) < 0 || take_number(&p, end, ' ', &prev) < 0 ||
        take_number(&p, end, ' ', &retry) < 0 || take_number(&p, end, ' ', &type_len) < 0 ||
        take_number(&p, end, '\n', &id_len) < 0)
        return -1;
    if (n <= 0 || prev < 0 || type_len < 0 || id_len < -1 || retry < -1)
        return -1;
    size_t left = (size_t)(end - p);
    size_t id_bytes = id_len < 0 ? 0 : (size_t)id_len;
    if ((size_t)type_len > left || id_bytes > left - (size_t)type_len)
        return -1;
    memset(out, 0, sizeof *out);
    out->n = (uint64_t)n;
    out->prev = (uint64_t)prev;
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

int cluster_message_split(const char *msg, size_t len, cluster_piece_fn piece, void *ctx) {
    if (len == 0 || msg[0] != '*') {
        piece(ctx, msg, len);
        return 0;
    }
    const char *p = msg + 1, *end = msg + len;
    long long count, piece_len;
    if (take_number(&p, end, '\n', &count) < 0 || count <= 0)
        return -1;
    for (long long i = 0; i < count; i++) {
        if (take_number(&p, end, '\n', &piece_len) < 0 || piece_len <= 0 || (size_t)piece_len > (size_t)(end - p))
            return -1;
        piece(ctx, p, (size_t)piece_len);
        p += piece_len;
    }
    return p == end ? 0 : -1;
}
