#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static int parse_id_number(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 19)
        return 0;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    *out = n;
    return 1;
}

shared_event *shared_event_new(const sse_out_event *ev, int *rc) {
    buf wire = BUF_INIT;
    *rc = sse_encode_event(&wire, ev);
    if (*rc != SSE_ENCODE_OK) {
        buf_free(&wire);
        return NULL;
    }
    size_t id_len = ev->has_id ? ev->id_len : 0;
    shared_event *e = malloc(sizeof *e + wire.len + id_len + 1);
    if (!e) {
        buf_free(&wire);
        *rc = SSE_ENCODE_NOMEM;
        return NULL;
    }
    e->refs = 1;
    e->envelope = NULL;
    e->len = wire.len;
    memcpy(e->bytes, wire.data, wire.len);
    char *id = e->bytes + wire.len;
    if (id_len)
        memcpy(id, ev->id, id_len);
    id[id_len] = '\0';
    e->id = id;
    e->id_len = id_len;
    e->id_is_number = parse_id_number(id, id_len, &e->id_number);
    buf_free(&wire);
    return e;
}

shared_event *shared_event_raw(const char *bytes, size_t len) {
    shared_event *e = malloc(sizeof *e + len + 1);
    if (!e)
        return NULL;
    e->refs = 1;
    e->envelope = NULL;
    e->len = len;
    memcpy(e->bytes, bytes, len);
    e->bytes[len] = '\0';
    e->id = e->bytes + len;
    e->id_len = 0;
    e->id_is_number = 0;
    e->id_number = 0;
    return e;
}

void shared_event_unref(shared_event *e) {
    if (--e->refs == 0) {
        if (e->envelope && e->envelope != e)
            shared_event_unref(e->envelope);
        free(e);
    }
}

static uint64_t wall_clock_us(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

int hub_init(hub *h, size_t history_max, size_t max_pending, size_t max_channels) {
    memset(h, 0, sizeof *h);
    h->bucket_count = 256;
    h->buckets = calloc(h->bucket_count, sizeof *h->buckets);
    if (!h->buckets)
        return -1;
    h->history_max = history_max;
    h->max_pending = max_pending;
    h->max_channels = max_channels;
    h->first_id = wall_clock_us();
    h->last_id = h->first_id - 1;
    list_init(&h->dirty);
    return 0;
}

uint64_t hub_next_id(hub *h) {
    uint64_t now = wall_clock_us();
    h->last_id = now > h->last_id ? now : h->last_id + 1;
    return h->last_id;
}

int hub_channel_name_valid(const char *name, size_t len) {
    if (len > 200)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!(ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '/' || (ch >= '0' && ch <= '9') ||
              (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            return 0;
        if (ch == '.' && i + 1 < len && name[i + 1] == '.')
            return 0;
    }
    return 1;
}

static size_t name_hash(const char *s, size_t len) {
    uint64_t x = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        x = (x ^ (unsigned char)s[i]) * 1099511628211ULL;
    return (size_t)x;
}

channel *hub_channel(hub *h, const char *name, size_t len, int create) {
    size_t b = name_hash(name, len) % h->bucket_count;
    for (channel *c = h->buckets[b]; c; c = c->hash_next)
        if (c->name_len == len && memcmp(c->name, name, len) == 0)
            return c;
    if (!create || h->channel_count >= h->max_channels)
        return NULL;
    channel *c = calloc(1, sizeof *c);
    if (!c || !(c->name = malloc(len + 1))) {
        free(c);
        return NULL;
    }
    memcpy(c->name, name, len);
    c->name[len] = '\0';
    c->name_len = len;
    list_init(&c->subscribers);
    c->hash_next = h->buckets[b];
    h->buckets[b] = c;
    h->channel_count++;
    h->stats.channels_created++;
    return c;
}

static void channel_free(channel *c) {
    for (size_t i = 0; i < c->ring_len; i++)
        shared_event_unref(channel_history_at(c, i));
    free(c->ring);
    free(c->name);
    free(c);
}

void hub_release_channel(hub *h, channel *ch) {
    if (ch->subscriber_count > 0 || ch->ring_len > 0 || ch->pinned)
        return;
    channel **pp = &h->buckets[name_hash(ch->name, ch->name_len) % h->bucket_count];
    while (*pp && *pp != ch)
        pp = &(*pp)->hash_next;
    if (*pp) {
        *pp = ch->hash_next;
        h->channel_count--;
        channel_free(ch);
    }
}

void hub_free(hub *h) {
    for (size_t b = 0; b < h->bucket_count; b++) {
        channel *c = h->buckets[b];
        while (c) {
            channel *next = c->hash_next;
            channel_free(c);
            c = next;
        }
    }
    free(h->buckets);
    h->buckets = NULL;
}

/* Append to history, evicting the oldest event when full. The ring grows by
 * doubling up to history_max, so a quiet channel costs little. */
static void history_append(hub *h, channel *ch, shared_event *ev) {
    if (h->history_max == 0)
        return;
    if (ch->ring_len == h->history_max) {
        shared_event *old = ch->ring[ch->ring_head];
        ch->evicted_any = 1;
        ch->last_evicted_is_number = old->id_is_number;
        ch->last_evicted_number = old->id_number;
        shared_event_unref(old);
        ch->ring[ch->ring_head] = shared_event_ref(ev);
        ch->ring_head = (ch->ring_head + 1) % ch->ring_cap;
        return;
    }
    if (ch->ring_len == ch->ring_cap) {
        size_t cap = ch->ring_cap ? ch->ring_cap * 2 : 16;
        if (cap > h->history_max)
            cap = h->history_max;
        shared_event **ring = malloc(cap * sizeof *ring);
        if (!ring)
            return; /* history is best effort; live delivery goes on */
        for (size_t i = 0; i < ch->ring_len; i++)
            ring[i] = channel_history_at(ch, i);
        free(ch->ring);
        ch->ring = ring;
        ch->ring_cap = cap;
        ch->ring_head = 0;
    }
    ch->ring[(ch->ring_head + ch->ring_len) % ch->ring_cap] = shared_event_ref(ev);
    ch->ring_len++;
}

void hub_publish(hub *h, channel *ch, shared_event *ev) {
    ch->events_in++;
    ev->seq = h->next_seq++;
    history_append(h, ch, ev);
    for (list_node *n = ch->subscribers.next; n != &ch->subscribers; n = n->next) {
        subscriber *s = list_entry(n, sub_link, node)->owner;
        subscriber_enqueue(h, s, ev);
        ch->events_out++;
    }
    shared_event_unref(ev);
}

int hub_publish_event(hub *h, channel *ch, const sse_out_event *ev) {
    sse_out_event numbered = *ev;
    char numeric_id[24];
    if (!numbered.has_id) {
        numbered.id_len = (size_t)snprintf(numeric_id, sizeof numeric_id, "%llu", (unsigned long long)hub_next_id(h));
        numbered.id = numeric_id;
        numbered.has_id = 1;
    }
    int rc;
    shared_event *e = shared_event_new(&numbered, &rc);
    if (!e)
        return rc;
    hub_publish(h, ch, e);
    return SSE_ENCODE_OK;
}

/* The ring offset from which events are newer than `id`, by number. */
static size_t first_newer_by_number(const channel *ch, uint64_t wanted) {
    size_t i = ch->ring_len;
    while (i > 0) {
        const shared_event *e = channel_history_at(ch, i - 1);
        if (e->id_is_number && e->id_number <= wanted)
            break;
        i--;
    }
    return i;
}

static size_t first_after_seq(const channel *ch, uint64_t seq) {
    size_t i = ch->ring_len;
    while (i > 0 && channel_history_at(ch, i - 1)->seq > seq)
        i--;
    return i;
}

/* Did this channel drop events newer than `wanted` from its history? */
static int lost_after(const hub *h, const channel *ch, int numeric, uint64_t wanted) {
    if (!numeric)
        return 1;
    if (wanted < h->first_id)
        return 1; /* an id from before this run */
    return ch->evicted_any && (!ch->last_evicted_is_number || wanted < ch->last_evicted_number);
}

void hub_queue_history(hub *h, subscriber *s, const char *id, size_t len, size_t replay, void (*on_gap)(void *ctx),
                       void *ctx) {
    size_t n = s->link_count;
    size_t start[n];
    channel *chans[n];
    for (size_t k = 0; k < n; k++)
        chans[k] = k == 0 ? s->link0.ch : s->more_links[k - 1].ch;
    int gap = 0;
    if (id) {
        /* An id we hold names an exact place in publish order. */
        const shared_event *found = NULL;
        for (size_t k = 0; k < n && !found; k++)
            for (size_t i = chans[k]->ring_len; i-- > 0 && !found;) {
                const shared_event *e = channel_history_at(chans[k], i);
                if (e->id_len == len && memcmp(e->id, id, len) == 0)
                    found = e;
            }
        uint64_t wanted = 0;
        int numeric = found ? 0 : parse_id_number(id, len, &wanted);
        for (size_t k = 0; k < n; k++) {
            if (found) {
                start[k] = first_after_seq(chans[k], found->seq);
            } else {
                start[k] = numeric ? first_newer_by_number(chans[k], wanted) : 0;
                gap |= lost_after(h, chans[k], numeric, wanted);
            }
        }
    } else {
        for (size_t k = 0; k < n; k++)
            start[k] = chans[k]->ring_len;
        /* Step back through publish order until `replay` events are owed. */
        for (size_t taken = 0; taken < replay; taken++) {
            size_t best = n;
            for (size_t k = 0; k < n; k++)
                if (start[k] > 0 && (best == n || channel_history_at(chans[k], start[k] - 1)->seq >
                                                      channel_history_at(chans[best], start[best] - 1)->seq))
                    best = k;
            if (best == n)
                break;
            start[best]--;
        }
    }
    if (gap && on_gap)
        on_gap(ctx);
    /* Merge the channels' tails in publish order. */
    for (;;) {
        size_t best = n;
        for (size_t k = 0; k < n; k++)
            if (start[k] < chans[k]->ring_len &&
                (best == n ||
                 channel_history_at(chans[k], start[k])->seq < channel_history_at(chans[best], start[best])->seq))
                best = k;
        if (best == n)
            break;
        subscriber_enqueue(h, s, channel_history_at(chans[best], start[best]++));
    }
}

int subscriber_attach(hub *h, subscriber *s, channel **channels, size_t count) {
    (void)h;
    if (count > 1 && !(s->more_links = calloc(count - 1, sizeof *s->more_links)))
        return -1;
    for (size_t k = 0; k < count; k++) {
        sub_link *link = k == 0 ? &s->link0 : &s->more_links[k - 1];
        link->ch = channels[k];
        link->owner = s;
        list_push_back(&channels[k]->subscribers, &link->node);
        channels[k]->subscriber_count++;
    }
    s->link_count = count;
    return 0;
}

void subscriber_detach(hub *h, subscriber *s) {
    list_remove(&s->dirty_link);
    for (size_t i = 0; i < s->q_len; i++)
        shared_event_unref(s->queue[(s->q_head + i) & (s->q_cap - 1)]);
    free(s->queue);
    s->queue = NULL;
    s->q_len = s->q_cap = s->q_head = 0;
    s->pending_bytes = 0;
    for (size_t k = 0; k < s->link_count; k++) {
        sub_link *link = k == 0 ? &s->link0 : &s->more_links[k - 1];
        list_remove(&link->node);
        link->ch->subscriber_count--;
        hub_release_channel(h, link->ch);
    }
    free(s->more_links);
    s->more_links = NULL;
    s->link_count = 0;
}

void subscriber_enqueue(hub *h, subscriber *s, shared_event *ev) {
    if (s->overflowed)
        return;
    if (s->envelope && !(ev = shared_event_envelope(ev))) {
        s->overflowed = 1; /* out of memory: drop rather than send a wrong stream */
        return;
    }
    if (s->q_len == s->q_cap) {
        size_t cap = s->q_cap ? s->q_cap * 2 : 8;
        shared_event **q = malloc(cap * sizeof *q);
        if (!q) {
            s->overflowed = 1;
            return;
        }
        for (size_t i = 0; i < s->q_len; i++)
            q[i] = s->queue[(s->q_head + i) & (s->q_cap - 1)];
        free(s->queue);
        s->queue = q;
        s->q_cap = cap;
        s->q_head = 0;
    }
    s->queue[(s->q_head + s->q_len) & (s->q_cap - 1)] = shared_event_ref(ev);
    s->q_len++;
    s->pending_bytes += ev->len;
    s->events_queued++;
    if (s->pending_bytes > h->max_pending) {
        s->overflowed = 1;
        h->stats.slow_drops++;
    }
    if (!s->dirty_link.next)
        list_push_back(&h->dirty, &s->dirty_link);
}

void subscriber_consume(subscriber *s, size_t written) {
    s->pending_bytes -= written;
    while (written > 0) {
        shared_event *e = s->queue[s->q_head];
        size_t left = e->len - s->head_offset;
        if (written < left) {
            s->head_offset += written;
            return;
        }
        written -= left;
        s->head_offset = 0;
        shared_event_unref(e);
        s->q_head = (s->q_head + 1) & (s->q_cap - 1);
        s->q_len--;
    }
}
