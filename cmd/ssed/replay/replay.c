/* The shared timeline: a recording's events published to the input
 * channel as they come due, behind the intake gate like any input. */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "replay_player.h"

struct replay_timeline {
    replay_player player;
    server *srv;
    intake_waiter gated; /* on the gate while it holds the timeline back */
    void (*stop)(server *srv); /* the server shuts down (serving.h) */
};

shared_event *replay_raw_item(const replay_item *it) {
    char head[40];
    if (it->kind == REPLAY_RETRY) {
        int n = snprintf(head, sizeof head, "retry: %lld\n\n", it->retry_ms);
        return shared_event_raw(head, (size_t)n);
    }
    char *bytes = malloc(it->data_len + 3);
    if (!bytes)
        return NULL;
    bytes[0] = ':';
    memcpy(bytes + 1, it->data, it->data_len);
    memcpy(bytes + 1 + it->data_len, "\n\n", 2);
    shared_event *e = shared_event_raw(bytes, it->data_len + 3);
    free(bytes);
    return e;
}

static int deliver(void *ctx, const replay_item *it) {
    struct replay_timeline *t = ctx;
    server *srv = t->srv;
    if (!intake_gate_pass(&srv->intake, &t->gated))
        return REPLAY_HELD;
    if (it->kind == REPLAY_EVENT) {
        sse_out_event ev = {it->type, it->type_len, it->id, it->id_len, it->id != NULL,
                            it->data, it->data_len, it->retry_ms};
        int rc = hub_publish_input_event(&srv->hub, srv->input_channel, &ev);
        if (rc == HUB_EVENT_TOO_LARGE)
            srv->stats.oversized_records++;
        if (rc != SSE_ENCODE_OK)
            log_warn("--replay %s: skipped an event: %s", srv->opt->replay_file, hub_strerror(rc));
        return REPLAY_SENT;
    }
    shared_event *raw = replay_raw_item(it);
    if (!raw) {
        log_warn("--replay %s: out of memory: a recorded comment was skipped", srv->opt->replay_file);
        return REPLAY_SENT;
    }
    hub_send_live(&srv->hub, srv->input_channel, raw);
    shared_event_unref(raw);
    return REPLAY_SENT;
}

static void gate_opened(intake_waiter *w) {
    replay_player_unblock(&list_entry(w, struct replay_timeline, gated)->player);
}

/* The end of the recording: ssed goes on serving, as at the end of stdin,
 * or stops with --exit-on-eof. */
static void ended(void *ctx) {
    struct replay_timeline *t = ctx;
    log_verbose("--replay %s: the recording ended; still serving", t->srv->opt->replay_file);
    if (t->srv->opt->exit_on_eof)
        t->stop(t->srv);
}

static void failed(void *ctx, const char *why, int status) {
    struct replay_timeline *t = ctx;
    log_error("--replay %s", why);
    t->srv->exit_status = status;
    t->stop(t->srv);
}

int server_replay_open(server *srv, void (*stop)(server *srv)) {
    const ssed_options *o = srv->opt;
    if (!o->replay_file)
        return 0;
    struct replay_timeline *t = calloc(1, sizeof *t);
    if (!t) {
        log_error("--replay %s: out of memory", o->replay_file);
        return 1;
    }
    t->srv = srv;
    t->stop = stop;
    intake_waiter_init(&t->gated, INTAKE_ALL, gate_opened);
    replay_settings set = {o->replay_file, o->replay_speed, o->replay_loop, o->replay_from_ms, o->max_event_size};
    replay_sink sink = {deliver, ended, failed, t, 1};
    char err[600];
    int rc = replay_player_open(&t->player, &srv->loop, &set, &sink, clock_now_ms(), err, sizeof err);
    if (rc < 0) {
        log_error("%s", err);
        replay_player_close(&t->player);
        free(t);
        return rc == -2 ? 2 : 1;
    }
    srv->replay = t;
    return 0;
}

static int sooner(int a, int b) { return a < 0 || (b >= 0 && b < a) ? b : a; }

int server_replay_timeout(server *srv, uint64_t now_ms) {
    int timeout = srv->replay ? replay_player_due_ms(&srv->replay->player, now_ms) : -1;
    for (list_node *n = srv->replay_streams.next; n != &srv->replay_streams && timeout != 0; n = n->next)
        timeout = sooner(timeout, replay_player_due_ms(list_entry(n, replay_player, link), now_ms));
    return timeout;
}

void server_replay_step(server *srv, uint64_t now_ms) {
    if (srv->replay)
        replay_player_step(&srv->replay->player, now_ms);
    /* A player may end its stream, which leaves the list: take the next
     * one first. */
    for (list_node *n = srv->replay_streams.next, *next; n != &srv->replay_streams; n = next) {
        next = n->next;
        replay_player_step(list_entry(n, replay_player, link), now_ms);
    }
}

void server_replay_close(server *srv) {
    if (!srv->replay)
        return;
    intake_gate_leave(&srv->replay->gated);
    replay_player_close(&srv->replay->player);
    free(srv->replay);
    srv->replay = NULL;
}
