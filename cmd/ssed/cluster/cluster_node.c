/* The server's side of a cluster (see cluster_node.h): delivery into the
 * hub, gap notices to live subscribers, and stdin/FIFO batches that wait
 * for Redis. Uses the link only through cluster_link.h, so it builds with
 * REDIS=0 too. */
#include "cluster_node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "entropy.h"
#include "cluster_delivery.h"
#include "cluster_write_back.h"
#include "json.h"
#include "log.h"

/* An input's events on their way to Redis: `collecting` fills while a
 * read is parsed; `sent` is in flight (or failed and waits to be resent,
 * with the same SSE-Sequence, so Redis skips what it already took). The
 * input is paused while anything is in flight (input_pause, its own), and
 * waits on the intake gate while Redis is down (INTAKE_CLUSTER). */
typedef struct input_feed {
    cluster_node *node;
    input_source *in;
    cluster_batch collecting, sent;
    int in_flight;
    uint64_t session, next_seq;
    /* Redis answered with an error (BUSY, OOM, NOPERM, ...) while the link
     * stayed up: the batch is resent at retry_at_ms, after a backoff. */
    uint64_t retry_at_ms, retry_delay_ms;
} input_feed;

/* What is refused from Redis. Any Redis client may publish to the
 * cluster's keys, so nothing read there is trusted more than a client's
 * request: each kind is logged once (a flood must not flood the log), all
 * are counted (redis_messages_refused). */
enum redis_refusal { REFUSED_NAME, REFUSED_MESSAGE, REFUSED_EVENT, REFUSED_KINDS };

struct cluster_node {
    server *srv;
    int refusal_logged[REFUSED_KINDS];
    /* Events dropped for --max-channels: any Redis client can name new
     * channels, so they are logged once per CHANNEL_DROPS_LOG_MS with how
     * many there were, not one line each. */
    uint64_t channel_drops_unlogged, channel_drops_logged_ms;
    char channel_drop_example[64];
    /* Pub/sub messages refused as not the cluster's (cluster_link_verify.c),
     * logged the same way. */
    uint64_t forged_unlogged, forged_logged_ms;
    char forged_example[128];
    cluster_link *link;
    delivery delivery;
    input_feed feeds[2];
    uint64_t events_in; /* delivered into the hub */
    /* The link's reading from Redis, held by the gate's INTAKE_ROUND as
     * local input is; it resumes when the round ends. */
    intake_waiter link_gated;
    /* was_up: the link was ready once; synced: and then every channel had
     * read its stream, so history holds what a subscriber may ask for. */
    int was_up, synced;
    int closing; /* the link is being closed: what fails now is not resent */
    /* The delivery announced a hole (announce_gap) right before the event
     * it delivers next: that event is marked in history (hub_mark_hole). */
    uint64_t hole_after, hole_last_lost;
    /* Redis lost its data: this node's history being written back. */
    write_back_tally write_back;
    /* A fill failed with the link up: failed fills are asked again then. */
    uint64_t fill_retry_at_ms, fill_retry_delay_ms;
};

#define RETRY_FLOOR_MS 100
#define RETRY_CEILING_MS 5000

static uint64_t retry_after(uint64_t *delay_ms) {
    *delay_ms = backoff_next_ms(*delay_ms, RETRY_FLOOR_MS, RETRY_CEILING_MS);
    return clock_now_ms() + backoff_jitter_ms(*delay_ms, (uint32_t)rand());
}

static void refuse(cluster_node *node, enum redis_refusal kind, uint64_t count, const char *why) {
    static const char *const what[REFUSED_KINDS] = {"a channel name", "a message or stream entry", "an event"};
    if (!count)
        return;
    node->srv->stats.redis_refused += count;
    if (node->refusal_logged[kind])
        return;
    node->refusal_logged[kind] = 1;
    log_warn("redis: %s refused (%s) and skipped; further ones are only counted (redis_messages_refused)",
             what[kind], why);
}

/* A channel name read from Redis, checked as a request's path is. The
 * root channel's name is empty (ssed:c:, ssed:s:): refusing that dropped
 * every event published to / before any subscriber saw it. */
static int name_valid(cluster_node *node, const char *chan, size_t len) {
    if (hub_channel_name_valid(chan, len))
        return 1;
    refuse(node, REFUSED_NAME, 1, "not a valid channel name");
    return 0;
}

/* The delivery found messages it could not split or events it could not
 * parse since `before` (its malformed count then). */
static void refuse_malformed(cluster_node *node, uint64_t before) {
    refuse(node, REFUSED_MESSAGE, node->delivery.stats.malformed - before, "malformed");
}

#define CHANNEL_DROPS_LOG_MS 10000

/* Log the events dropped for --max-channels since the last such line, if
 * it is time (or, at close, whatever is left: `now_ms` UINT64_MAX). */
static void log_channel_drops(cluster_node *node, uint64_t now_ms) {
    if (!node->channel_drops_unlogged)
        return;
    if (node->channel_drops_logged_ms && now_ms < node->channel_drops_logged_ms + CHANNEL_DROPS_LOG_MS)
        return;
    log_warn("redis: %llu event%s dropped: too many channels (--max-channels), %s among them; logged once per %d s",
             (unsigned long long)node->channel_drops_unlogged, node->channel_drops_unlogged == 1 ? "" : "s",
             node->channel_drop_example, CHANNEL_DROPS_LOG_MS / 1000);
    node->channel_drops_unlogged = 0;
    node->channel_drops_logged_ms = now_ms;
}

/* Log the pub/sub messages refused as forged since the last such line, if
 * it is time (or, at close, whatever is left: `now_ms` UINT64_MAX). */
static void log_forged(cluster_node *node, uint64_t now_ms) {
    if (!node->forged_unlogged)
        return;
    if (node->forged_logged_ms && now_ms < node->forged_logged_ms + CHANNEL_DROPS_LOG_MS)
        return;
    log_warn("redis: %llu pub/sub message%s refused: not the cluster's (%s); counted in redis_messages_refused, "
             "logged once per %d s",
             (unsigned long long)node->forged_unlogged, node->forged_unlogged == 1 ? "" : "s", node->forged_example,
             CHANNEL_DROPS_LOG_MS / 1000);
    node->forged_unlogged = 0;
    node->forged_logged_ms = now_ms;
}

/* A message any Redis client published on a cluster channel, claiming a
 * number its stream does not hold as that message: refused, so the real
 * event with that number is not taken for a duplicate. */
static void on_forged(void *ctx, const char *chan, size_t len, const char *why) {
    cluster_node *node = ctx;
    node->srv->stats.redis_refused++;
    if (!node->forged_unlogged++)
        snprintf(node->forged_example, sizeof node->forged_example, "/%.*s: %s", (int)(len > 64 ? 64 : len), chan,
                 why);
    log_forged(node, clock_now_ms());
}

/* The delivery's verdict: into the local hub, with the cluster's id. */
static void deliver(void *ctx, const char *chan, size_t len, const cluster_event *ev, int live) {
    cluster_node *node = ctx;
    hub *h = &node->srv->hub;
    uint64_t hole_after = node->hole_after, hole_last_lost = node->hole_last_lost;
    node->hole_after = node->hole_last_lost = 0;
    channel *ch = hub_channel_acquire(h, chan, len, HUB_FOR_PUBLISHING);
    if (!ch) {
        if (!node->channel_drops_unlogged++)
            snprintf(node->channel_drop_example, sizeof node->channel_drop_example, "/%.*s", (int)len, chan);
        log_channel_drops(node, clock_now_ms());
        return;
    }
    int rc = live ? hub_publish_event(h, ch, &ev->ev) : hub_retain_event(h, ch, &ev->ev);
    if (rc == SSE_ENCODE_OK && hole_last_lost)
        hub_mark_hole(h, ch, hole_after, hole_last_lost);
    if (rc == SSE_ENCODE_OK)
        hub_mark_cluster_number(h, ch, ev->n);
    if (rc != SSE_ENCODE_OK && rc != SSE_ENCODE_NOMEM)
        refuse(node, REFUSED_EVENT, 1, hub_strerror(rc));
    else if (rc != SSE_ENCODE_OK)
        log_warn("redis: event %llu for /%.*s dropped: %s", (unsigned long long)ev->n, (int)len, chan, hub_strerror(rc));
    else
        node->events_in++;
    hub_channel_release(h, ch);
}

/* The stream no longer holds what came between: tell the channel's live
 * subscribers with ssed's usual gap notice, and mark the hole in history
 * (deliver, next) for those who resume across it later. */
static void announce_gap(void *ctx, const char *chan, size_t len, uint64_t last, const cluster_event *ev) {
    cluster_node *node = ctx;
    hub *h = &node->srv->hub;
    log_warn("redis: /%.*s: events after %llu up to %llu are no longer in the stream; subscribers told (ssed-gap)",
             (int)len, chan, (unsigned long long)last, (unsigned long long)ev->prev);
    node->hole_after = last;
    node->hole_last_lost = ev->prev;
    channel *ch = hub_channel_find(h, chan, len);
    if (!ch)
        return;
    char asked[24];
    int asked_len = snprintf(asked, sizeof asked, "%llu", (unsigned long long)last);
    hub_announce_gap(h, ch, asked, (size_t)asked_len, ev->ev.id, ev->ev.id_len);
}

static int request_fill(void *ctx, const char *chan, size_t len, uint64_t after) {
    cluster_node *node = ctx;
    return cluster_link_fill(node->link, chan, len, after);
}

/* A pub/sub message: its channel's name checked here, the message
 * against its stream by the link (on_checked or on_forged next). */
static void on_message(void *ctx, const char *chan, size_t len, const char *msg, size_t msg_len) {
    cluster_node *node = ctx;
    if (name_valid(node, chan, len))
        cluster_link_check(node->link, chan, len, msg, msg_len);
}

static void on_checked(void *ctx, const char *chan, size_t len, const char *msg, size_t msg_len) {
    cluster_node *node = ctx;
    uint64_t prev;
    /* No previous event, on a channel that had some: the publish script
     * found the channel's last number gone, as when Redis lost its data.
     * The epoch says whether it did (on_lost), before the fill the
     * delivery asks for is answered. */
    if (cluster_message_prev(msg, msg_len, &prev) && prev == 0 && delivery_last(&node->delivery, chan, len))
        cluster_link_check_epoch(node->link, delivery_highest(&node->delivery));
    uint64_t malformed = node->delivery.stats.malformed;
    delivery_message(&node->delivery, chan, len, msg, msg_len);
    refuse_malformed(node, malformed);
}

static void on_filled(void *ctx, const char *chan, size_t len, const char *const *msgs, const size_t *lens,
                      size_t count, uint64_t read_on_after) {
    cluster_node *node = ctx;
    node->fill_retry_delay_ms = 0;
    uint64_t malformed = node->delivery.stats.malformed;
    delivery_filled(&node->delivery, chan, len, msgs, lens, count, read_on_after);
    refuse_malformed(node, malformed);
}

static void on_fill_failed(void *ctx, const char *chan, size_t len) {
    cluster_node *node = ctx;
    delivery_fill_failed(&node->delivery, chan, len);
    if (!node->fill_retry_at_ms)
        node->fill_retry_at_ms = retry_after(&node->fill_retry_delay_ms);
}

static void pause_inputs(cluster_node *node, int paused) {
    server *srv = node->srv;
    if (intake_gate_holds(&srv->intake, INTAKE_BIT(INTAKE_CLUSTER)) == paused)
        return;
    intake_gate_set(&srv->intake, INTAKE_CLUSTER, paused);
    if (paused && srv->input_count)
        log_warn("redis unreachable: input paused until it is back");
    else if (srv->input_count)
        log_info("redis back: input resumed");
}

static void send_feed(cluster_node *node, input_feed *f);

static void on_up(void *ctx, const char *const *names, const size_t *lens, size_t count) {
    cluster_node *node = ctx;
    node->was_up = 1;
    /* The channel list is read from Redis too: a bad name is skipped. */
    const char **good = calloc(count ? count : 1, sizeof *good);
    size_t *good_lens = calloc(count ? count : 1, sizeof *good_lens), kept = 0;
    for (size_t i = 0; good && good_lens && i < count; i++)
        if (name_valid(node, names[i], lens[i])) {
            good[kept] = names[i];
            good_lens[kept++] = lens[i];
        }
    /* The epoch before the streams are read: a Redis that lost its data
     * is known as such, and this node's history written back (on_lost),
     * before what the fills find is taken for a hole. */
    cluster_link_check_epoch(node->link, delivery_highest(&node->delivery));
    cluster_link_check_persistence(node->link);
    /* Out of memory: the channels known here are still filled. */
    delivery_resync(&node->delivery, good, good_lens, good && good_lens ? kept : 0);
    free(good);
    free(good_lens);
    pause_inputs(node, 0);
    node->fill_retry_at_ms = 0;
    for (size_t i = 0; i < node->srv->input_count; i++) {
        node->feeds[i].retry_at_ms = 0;
        send_feed(node, &node->feeds[i]);
    }
}

static void on_down(void *ctx) { pause_inputs(ctx, 1); }

static void on_lost(void *ctx) {
    cluster_node *node = ctx;
    cluster_write_back(&node->srv->hub, &node->delivery, node->link, &node->write_back);
}

/* Events from Redis wait, like local input, while the subscribers still
 * owe a round's worth (hub.h): the link stops reading and is woken. */
static int may_read(void *ctx) {
    cluster_node *node = ctx;
    return intake_gate_pass(&node->srv->intake, &node->link_gated);
}

static void link_gate_opened(intake_waiter *w) {
    cluster_link_resume_reading(list_entry(w, cluster_node, link_gated)->link);
}

static void feed_sent(void *ctx, const cluster_publish_result *r) {
    input_feed *f = ctx;
    f->in_flight = 0;
    if (!r->ok && f->node->closing)
        return; /* counted in server_cluster_close's warning */
    if (!r->ok) {
        /* Kept, and resent with the same numbers (Redis skips what it
         * took): after a backoff, or when the link is back if it broke. */
        f->retry_at_ms = retry_after(&f->retry_delay_ms);
        log_verbose("%s: batch of %zu event%s not confirmed (%s); it is resent in %llums", f->in->name,
                    f->sent.count, f->sent.count == 1 ? "" : "s", r->error,
                    (unsigned long long)(f->retry_at_ms - clock_now_ms()));
        return;
    }
    f->retry_delay_ms = 0;
    f->next_seq += f->sent.count;
    cluster_batch_clear(&f->sent);
    send_feed(f->node, f); /* what the end of input added meanwhile */
}

int server_cluster_enabled(const server *srv) { return srv->cluster != NULL; }

int server_cluster_open(server *srv) {
    const ssed_options *o = srv->opt;
    cluster_node *node = calloc(1, sizeof *node);
    if (!node) {
        log_error("redis: out of memory");
        return -1;
    }
    node->srv = srv;
    srv->cluster = node;
    intake_waiter_init(&node->link_gated, INTAKE_BIT(INTAKE_ROUND), link_gate_opened);
    delivery_hooks dh = {deliver, announce_gap, request_fill, node};
    if (delivery_init(&node->delivery, &dh, o->history) < 0) {
        log_error("redis: out of memory");
        return -1;
    }
    cluster_link_config cfg = {.prefix = o->redis_prefix, .history = o->history};
    char err[300];
    if (redis_url_parse(o->redis_url, &cfg.url, err, sizeof err) < 0) {
        log_error("--redis: %s", err); /* checked at start already; kept for safety */
        return -1;
    }
    const char *password = getenv("SSED_REDIS_PASSWORD");
    if (password && *password && !cfg.url.has_password) {
        snprintf(cfg.url.password, sizeof cfg.url.password, "%s", password);
        cfg.url.has_password = 1;
    }
    for (size_t i = 0; i < 2; i++) {
        uint64_t session = 0;
        while (session == 0)
            if (entropy_fill(&session, sizeof session) < 0) {
                log_error("random session number: %s", strerror(errno));
                return -1;
            }
        node->feeds[i].session = session;
        node->feeds[i].node = node;
    }
    cluster_link_hooks lh = {on_message, on_checked, on_forged, on_filled, on_fill_failed, on_up,
                             on_lost,    on_down,    may_read,  node};
    node->link = cluster_link_open(&cfg, &srv->loop, &lh, err, sizeof err);
    if (!node->link) {
        log_error("%s", err);
        return -1;
    }
    intake_gate_set(&srv->intake, INTAKE_CLUSTER, 1); /* until the link is first up */
    return 0;
}

void server_cluster_step(server *srv, uint64_t now_ms) {
    cluster_node *node = srv->cluster;
    if (!node)
        return;
    cluster_link_step(node->link, now_ms);
    server_cluster_synced(srv); /* latched when first caught up, not when first asked */
    log_channel_drops(node, now_ms);
    log_forged(node, now_ms);
    for (size_t i = 0; i < srv->input_count; i++) {
        input_feed *f = &node->feeds[i];
        if (f->retry_at_ms && now_ms >= f->retry_at_ms) {
            f->retry_at_ms = 0;
            send_feed(node, f);
        }
    }
    if (node->fill_retry_at_ms && now_ms >= node->fill_retry_at_ms) {
        node->fill_retry_at_ms = 0;
        if (cluster_link_ready(node->link))
            delivery_retry_fills(&node->delivery);
    }
}

/* The sooner of two timeouts in ms (-1: none). */
static int sooner(int a, int b) { return a < 0 ? b : b < 0 ? a : a < b ? a : b; }

static int until(uint64_t at_ms, uint64_t now_ms) {
    return !at_ms ? -1 : at_ms > now_ms ? (int)(at_ms - now_ms) : 0;
}

int server_cluster_timeout(const server *srv, uint64_t now_ms) {
    const cluster_node *node = srv->cluster;
    if (!node)
        return -1;
    int t = sooner(cluster_link_timeout(node->link, now_ms), until(node->fill_retry_at_ms, now_ms));
    for (size_t i = 0; i < srv->input_count; i++)
        t = sooner(t, until(node->feeds[i].retry_at_ms, now_ms));
    if (node->channel_drops_unlogged)
        t = sooner(t, until(node->channel_drops_logged_ms + CHANNEL_DROPS_LOG_MS, now_ms));
    if (node->forged_unlogged)
        t = sooner(t, until(node->forged_logged_ms + CHANNEL_DROPS_LOG_MS, now_ms));
    return t;
}

int server_cluster_ready(const server *srv) { return !srv->cluster || cluster_link_ready(srv->cluster->link); }

int server_cluster_synced(server *srv) {
    cluster_node *node = srv->cluster;
    if (node && !node->synced)
        node->synced = node->was_up && delivery_caught_up(&node->delivery);
    return !node || node->synced;
}

int server_cluster_may_resume(server *srv, const char *chan, size_t len, const char *last_id, size_t last_len) {
    cluster_node *node = srv->cluster;
    uint64_t wanted;
    if (!node || !last_id || !event_id_parse_number(last_id, last_len, &wanted))
        return 1;
    if (wanted <= delivery_last(&node->delivery, chan, len))
        return 1; /* what follows it here is news to the client, late or not */
    return cluster_link_ready(node->link) && delivery_channel_caught_up(&node->delivery, chan, len);
}

int server_cluster_publish(server *srv, channel *ch, const cluster_batch *b, cluster_published_fn done, void *ctx) {
    return cluster_link_publish(srv->cluster->link, ch->name, ch->name_len, b, done, ctx);
}

static input_feed *feed_of(cluster_node *node, input_source *in) {
    return &node->feeds[in - node->srv->inputs];
}

static int input_emit(void *ctx, input_source *in, const sse_out_event *ev) {
    cluster_node *node = ctx;
    int rc = hub_event_check(&node->srv->hub, ev);
    if (rc != SSE_ENCODE_OK)
        return rc;
    return cluster_batch_add(&feed_of(node, in)->collecting, ev) < 0 ? SSE_ENCODE_NOMEM : SSE_ENCODE_OK;
}

/* Send what an input read gave, one script call; the input pauses until
 * Redis confirms it, so a writer blocks rather than losing events. */
static void send_feed(cluster_node *node, input_feed *f) {
    if (!f->in)
        return;
    if (!f->in_flight && f->sent.count == 0 && f->collecting.count) {
        cluster_batch swap = f->sent;
        f->sent = f->collecting;
        f->collecting = swap;
    }
    if (!f->in_flight && f->sent.count) {
        f->sent.session = f->session;
        f->sent.first_seq = f->next_seq;
        f->in_flight = cluster_link_publish(node->link, node->srv->opt->channel, strlen(node->srv->opt->channel),
                                            &f->sent, feed_sent, f) == 0;
    }
    if (f->in->open)
        input_pause(f->in, f->in_flight || f->sent.count);
}

static void input_flush(void *ctx, input_source *in) {
    cluster_node *node = ctx;
    input_feed *f = feed_of(node, in);
    f->in = in;
    send_feed(node, f);
}

void server_cluster_input_target(server *srv, input_target *to) {
    if (!srv->cluster)
        return;
    to->emit = input_emit;
    to->flush = input_flush;
    to->emit_ctx = srv->cluster;
}

void server_cluster_stats(const server *srv, buf *out) {
    const cluster_node *node = srv->cluster;
    if (!node)
        return;
    const delivery_stats *d = &node->delivery.stats;
    buf_append_str(out, ",\"redis\":{");
    cluster_link_stats(node->link, out);
    buf_printf(out,
               ",\"events_received\":%llu,\"holes\":%llu,\"holes_filled_events\":%llu,\"gaps\":%llu,"
               "\"duplicates_dropped\":%llu,\"stream_reads_failed\":%llu,\"held_dropped\":%llu,"
               "\"redis_messages_refused\":%llu}",
               (unsigned long long)node->events_in, (unsigned long long)d->holes, (unsigned long long)d->filled,
               (unsigned long long)d->gaps, (unsigned long long)d->duplicates_dropped,
               (unsigned long long)d->fills_failed, (unsigned long long)d->held_dropped,
               (unsigned long long)srv->stats.redis_refused);
}

size_t server_cluster_unconfirmed(const server *srv) {
    const cluster_node *node = srv->cluster;
    size_t count = 0;
    for (size_t i = 0; node && i < srv->input_count; i++)
        count += node->feeds[i].sent.count + node->feeds[i].collecting.count;
    return count;
}

void server_cluster_close(server *srv) {
    cluster_node *node = srv->cluster;
    if (!node)
        return;
    for (size_t i = 0; i < srv->input_count; i++) {
        const input_feed *f = &node->feeds[i];
        size_t lost = f->sent.count + f->collecting.count;
        if (lost)
            log_warn("%s: %zu event%s read %s not confirmed by Redis before the exit (--shutdown-timeout); "
                     "%s may not have been published",
                     srv->inputs[i].name, lost, lost == 1 ? "" : "s", lost == 1 ? "was" : "were",
                     lost == 1 ? "it" : "they");
    }
    node->channel_drops_logged_ms = 0;
    log_channel_drops(node, UINT64_MAX);
    node->forged_logged_ms = 0;
    log_forged(node, UINT64_MAX);
    node->closing = 1;
    intake_gate_leave(&node->link_gated);
    cluster_link_close(node->link); /* in-flight calls are answered (failed) here */
    delivery_free(&node->delivery);
    for (size_t i = 0; i < 2; i++) {
        cluster_batch_free(&node->feeds[i].collecting);
        cluster_batch_free(&node->feeds[i].sent);
    }
    free(node);
    srv->cluster = NULL;
}
