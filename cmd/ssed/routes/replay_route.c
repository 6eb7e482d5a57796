/* The recording (--replay FILE) played anew for one request, on its own
 * timeline: a subscriber that asks GET /CHANNEL?replay=start (a mock server
 * for frontend tests), or a POST to the channel under --method POST (a mock
 * of an LLM's streaming API), answered once its body is read and ignored.
 * The stream follows the channel as a subscriber does (its name, its
 * keep-alives) but gets none of its events: only the recording's, played
 * by its own player (replay_player.h), with ids only where recorded. When
 * the recording ends (without --loop) the stream ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"
#include "clock.h"
#include "log.h"
#include "replay.h"
#include "replay_player.h"
#include "route_common.h"
#include "router.h"

typedef struct replay_request {
    replay_player player; /* player.link is on srv->replay_streams from start to close */
    stream *st;
    int chunked;             /* a POST's body: chunked, or remaining bytes */
    chunked_decoder chunks;
    uint64_t remaining;
} replay_request;

static replay_request *owned(stream *st) {
    list_node *all = &st->srv->replay_streams;
    for (list_node *n = all->next; n != all; n = n->next) {
        replay_request *rr = list_entry(n, replay_request, player.link);
        if (rr->st == st)
            return rr;
    }
    return NULL;
}

static int deliver(void *ctx, const replay_item *it) {
    replay_request *rr = ctx;
    stream *st = rr->st;
    server *srv = st->srv;
    /* Half of --max-pending: a paced client is never dropped as slow. */
    if (st->sub.pending_bytes + st->sub.held_bytes > srv->opt->max_pending / 2)
        return REPLAY_HELD;
    shared_event *e;
    int rc = SSE_ENCODE_OK;
    if (it->kind == REPLAY_EVENT) {
        sse_out_event ev = {it->type, it->type_len, it->id, it->id_len, it->id != NULL,
                            it->data, it->data_len, it->retry_ms};
        e = shared_event_new(&ev, &rc);
    } else {
        e = replay_raw_item(it);
    }
    if (!e) {
        log_warn("--replay %s: skipped an item for %s: %s", srv->opt->replay_file, st->peer,
                 rc != SSE_ENCODE_OK ? hub_strerror(rc) : "out of memory");
        return REPLAY_SENT;
    }
    subscriber_enqueue_owed(&srv->hub.subs, &st->sub, e);
    shared_event_unref(e);
    return REPLAY_SENT;
}

static void ended(void *ctx) {
    replay_request *rr = ctx;
    stream_end(rr->st, NULL, "the recording ended");
}

static void failed(void *ctx, const char *why, int status) {
    (void)status;
    replay_request *rr = ctx;
    log_warn("--replay %s", why);
    stream_end(rr->st, NULL, "the recording could not be read");
}

static replay_request *request_new(stream *st) {
    replay_request *rr = calloc(1, sizeof *rr);
    if (!rr)
        return NULL;
    rr->st = st;
    rr->player.done = 1; /* nothing to play until the stream starts */
    rr->player.fd = -1;
    list_push_back(&st->srv->replay_streams, &rr->player.link);
    st->route_state = rr;
    return rr;
}

static void request_free(stream *st, replay_request *rr) {
    replay_player_close(&rr->player);
    list_remove(&rr->player.link);
    st->route_state = NULL;
    free(rr);
}

/* The event stream's head, the channel followed, the player started;
 * answers and returns -1 when one of them fails. */
static int open_stream(stream *st, replay_request *rr) {
    server *srv = st->srv;
    const ssed_options *o = srv->opt;
    stream_restart_output(st);
    channel *ch = hub_channel_acquire(&srv->hub, o->channel, strlen(o->channel), HUB_FOR_SUBSCRIBING);
    if (!ch || route_stream_head(st) < 0 || subscriber_attach(&srv->hub.subs, &st->sub, &ch, 1) < 0) {
        if (ch)
            hub_channel_release(&srv->hub, ch);
        stream_restart_output(st);
        stream_reply_status(st, 503, "out of memory", "Retry-After: 1\r\n");
        return -1;
    }
    st->sub.own_timeline = 1;
    if (o->retry_ms >= 0)
        sse_encode_retry(&st->out, (unsigned long long)o->retry_ms);
    /* As a subscription's: the first bytes open the stream at once. */
    buf_printf(&st->out, ": ssed stream /%s replay\n\n", o->channel);
    replay_settings set = {o->replay_file, o->replay_speed, o->replay_loop, o->replay_from_ms, o->max_event_size};
    replay_sink sink = {deliver, ended, failed, rr, 0};
    char err[600];
    if (replay_player_open(&rr->player, &srv->loop, &set, &sink, clock_now_ms(), err, sizeof err) < 0) {
        log_warn("%s", err);
        rr->player.done = 1;
    }
    stream_subscribe(st);
    if (rr->player.done)
        stream_end(st, NULL, "the recording could not be read");
    return 0;
}

static int is_replay_channel(const server *srv, const char *name, size_t len) {
    const char *ch = srv->opt->channel;
    return srv->opt->replay_file && strlen(ch) == len && memcmp(ch, name, len) == 0;
}

void replay_route_start(stream *st, const char *mode, channel_name name, size_t count) {
    server *srv = st->srv;
    if (!srv->opt->replay_file || strcmp(srv->opt->replay_file, "-") == 0) {
        stream_reply_status(st, 400, "?replay=start needs ssed --replay FILE (a file, not stdin)", NULL);
        return;
    }
    if (strcmp(mode, "start") != 0) {
        stream_reply_status(st, 400, "the replay parameter takes one value: start", NULL);
        return;
    }
    if (count != 1 || !is_replay_channel(srv, name.name, name.len)) {
        char why[300];
        snprintf(why, sizeof why, "?replay=start: only on the --replay channel /%s", srv->opt->channel);
        stream_reply_status(st, 400, why, NULL);
        return;
    }
    if (st->head_request) {
        if (route_stream_head(st) < 0)
            stream_refuse_no_memory(st);
        else
            stream_start_reply(st);
        return;
    }
    replay_request *rr = request_new(st);
    if (!rr) {
        stream_refuse_no_memory(st);
        return;
    }
    open_stream(st, rr);
}

int replay_route_wants_post(stream *st, const http_request *req) {
    const char *name = req->path;
    size_t len = req->path_len;
    route_trim_slashes(&name, &len);
    return st->srv->opt->replay_post && is_replay_channel(st->srv, name, len);
}

void replay_route_post(stream *st, const http_request *req, long long content_length, int chunked) {
    const char *name = req->path;
    size_t len = req->path_len;
    route_trim_slashes(&name, &len);
    channel_name names[1] = {{name, len}};
    access_denial why;
    int64_t expires_s;
    int status = access_check_subscribe(st, req, names, 1, &why, &expires_s);
    if (status) {
        stream_reply_status(st, status, why.reason, why.extra_headers);
        return;
    }
    replay_request *rr = request_new(st);
    if (!rr) {
        stream_refuse_no_memory(st);
        return;
    }
    rr->chunked = chunked;
    chunked_init(&rr->chunks);
    rr->remaining = content_length > 0 ? (uint64_t)content_length : 0;
    stream_start_body(st, rr);
}

static int ignore_bytes(void *ctx, const char *bytes, size_t len) {
    (void)ctx;
    (void)bytes;
    (void)len;
    return 0;
}

int router_body(stream *st, const char *bytes, size_t len, size_t *used) {
    replay_request *rr = owned(st);
    if (!rr)
        return publish_route_body(st, bytes, len, used);
    if (rr->chunked) {
        const char *why;
        int rc = chunked_feed(&rr->chunks, bytes, len, used, ignore_bytes, rr, &why);
        return rc == CHUNKED_MORE ? STREAM_BODY_MORE : rc == CHUNKED_DONE ? STREAM_BODY_DONE : STREAM_BODY_FAILED;
    }
    *used = len < rr->remaining ? len : (size_t)rr->remaining;
    rr->remaining -= *used;
    return rr->remaining ? STREAM_BODY_MORE : STREAM_BODY_DONE;
}

void router_body_end(stream *st, int ok) {
    replay_request *rr = owned(st);
    if (!rr) {
        publish_route_end(st, ok);
        return;
    }
    if (!ok) {
        request_free(st, rr);
        st->keep_alive = 0;
        stream_reply_status(st, 400, "bad chunked framing", NULL);
        return;
    }
    if (open_stream(st, rr) < 0)
        request_free(st, rr);
}

void router_close(stream *st) {
    replay_request *rr = owned(st);
    if (rr)
        request_free(st, rr);
    else
        publish_route_close(st);
}
