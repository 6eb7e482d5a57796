/* The link to the cluster's Redis (see cluster_link.h). Contexts are only
 * ever freed from cluster_link_step, never inside a hiredis callback: a
 * callback that finds the link broken marks it, and the next step tears
 * both connections down and schedules the reconnect. */
#include "cluster_link.h"

#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "cluster_script.h"
#include "log.h"
#include "redis_epoll.h"

/* Stream entries per read after a hole: an entry holds one script call,
 * up to PART_EVENTS events or PART_BYTES, so one answer stays bounded. */
#define FILL_COUNT 256
#define RETRY_FLOOR_MS 100
#define RETRY_CEILING_MS 5000
/* A Redis that leaves a command (or the connect, AUTH, SCRIPT LOAD or
 * PSUBSCRIBE) unanswered this long is taken for gone (man/ssed.1). */
#define ANSWER_LIMIT_MS 5000
/* One script call blocks Redis for every client while it runs: a large
 * batch goes as consecutive calls of at most this much. */
#define PART_EVENTS 1000
#define PART_BYTES (1u << 20)
/* Parts of one batch sent before the first is answered, so Redis, this
 * node and the publisher work at once rather than in turn. Only for a
 * publisher's numbered batch: the script then runs a later part only if
 * the one before was recorded (cluster_script.c). */
#define PARTS_IN_FLIGHT 4

struct cluster_link {
    cluster_link_config cfg;
    char prefix[128];
    loop *loop;
    cluster_link_hooks hooks;
    redis_watch cmd_w, sub_w; /* .ac: the command and subscriber contexts */
    int cmd_ok, sub_ok;       /* script loaded; subscription confirmed */
    int ready;
    int broken;               /* tear down at the next step */
    int down_logged;
    char sha[48];
    int reloading;            /* a SCRIPT LOAD after NOSCRIPT is on its way */
    /* Commands sent on the command connection and not answered yet (Redis
     * answers in order), and when it last answered or was first asked. */
    uint64_t cmd_pending, cmd_progress_ms, sub_asked_ms;
    uint64_t retry_at_ms, retry_delay_ms;
    uint64_t connects, publish_calls, publish_failures, fills;
    uint64_t lag_ms; /* round trip of the last publish */
};

/* A batch on its way, part after part (PART_EVENTS, PART_BYTES), up to
 * PARTS_IN_FLIGHT parts at once on the one command connection, which Redis
 * runs in order. The batch is the caller's and stays valid until `done`;
 * the channel name is copied. */
typedef struct publish_call {
    cluster_link *k;
    cluster_published_fn done;
    void *ctx;
    const cluster_batch *b;
    size_t answered_end; /* events up to here are confirmed */
    size_t sent_end;     /* events up to here are sent */
    size_t part_ends[PARTS_IN_FLIGHT]; /* of the parts in flight, oldest first */
    size_t in_flight;
    int use_eval;        /* NOSCRIPT came back: send the script itself */
    int failed;          /* a part failed: nothing more is sent */
    uint64_t sent_ms;
    cluster_publish_result sum;
    size_t len;
    char chan[];
} publish_call;

typedef struct fill_call {
    cluster_link *k;
    int tail;
    size_t len;
    char chan[];
} fill_call;

static void mark_broken(cluster_link *k, const char *what, const char *why) {
    if (!k->down_logged)
        log_warn("redis %s: %s%s%s", k->cfg.url.display, what, why ? ": " : "", why ? why : "");
    else
        log_verbose("redis %s: %s%s%s", k->cfg.url.display, what, why ? ": " : "", why ? why : "");
    k->down_logged = 1;
    k->broken = 1;
}

/* A command went out on the command connection. */
static void note_sent(cluster_link *k) {
    if (k->cmd_pending++ == 0)
        k->cmd_progress_ms = clock_now_ms();
}

/* Its answer (or the NULL of a freed context) came back. */
static void note_answered(cluster_link *k) {
    if (k->cmd_pending)
        k->cmd_pending--;
    k->cmd_progress_ms = clock_now_ms();
}

static void context_gone(void *ctx, redis_watch *w) {
    cluster_link *k = ctx;
    (void)w;
    if (!k->broken)
        mark_broken(k, "connection lost", NULL);
}

static void on_connect(const redisAsyncContext *ac, int status) {
    cluster_link *k = ac->data;
    if (status != REDIS_OK)
        mark_broken(k, "cannot connect", ac->errstr);
}

static int reply_failed(cluster_link *k, const redisReply *r, const char *what) {
    if (!r) {
        if (!k->broken)
            mark_broken(k, what, "no answer (connection lost)");
        return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        mark_broken(k, what, r->str);
        return 1;
    }
    return 0;
}

static void on_auth_or_select(redisAsyncContext *ac, void *reply, void *what) {
    cluster_link *k = ac->data;
    if (ac == k->cmd_w.ac)
        note_answered(k);
    reply_failed(k, reply, what);
}

static void announce_ready(cluster_link *k, const redisReply *set) {
    size_t n = set && set->type == REDIS_REPLY_ARRAY ? set->elements : 0;
    const char **names = calloc(n ? n : 1, sizeof *names);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    if (!names || !lens) {
        free(names);
        free(lens);
        mark_broken(k, "listing channels", "out of memory");
        return;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (set->element[i]->type == REDIS_REPLY_STRING) {
            names[count] = set->element[i]->str;
            lens[count++] = set->element[i]->len;
        }
    k->ready = 1;
    k->retry_delay_ms = 0;
    log_info("redis %s: connected; cluster %s ready (%zu channels)", k->cfg.url.display, k->prefix, count);
    k->down_logged = 0;
    k->hooks.up(k->hooks.ctx, names, lens, count);
    free(names);
    free(lens);
}

static void on_channels(redisAsyncContext *ac, void *reply, void *priv) {
    (void)priv;
    cluster_link *k = ac->data;
    note_answered(k);
    if (!reply_failed(k, reply, "SMEMBERS"))
        announce_ready(k, reply);
}

/* Both connections are up: learn the channels, then say so. Pub/sub is
 * already confirmed, so nothing published from now on is missed. */
static void check_ready(cluster_link *k) {
    if (!k->cmd_ok || !k->sub_ok || k->ready || k->broken || !k->cmd_w.ac)
        return;
    char key[sizeof k->prefix + 16];
    snprintf(key, sizeof key, "%s:channels", k->prefix);
    if (redisAsyncCommand(k->cmd_w.ac, on_channels, NULL, "SMEMBERS %s", key) != REDIS_OK)
        mark_broken(k, "SMEMBERS", "cannot send");
    else
        note_sent(k);
}

static void on_script_loaded(redisAsyncContext *ac, void *reply, void *priv) {
    (void)priv;
    cluster_link *k = ac->data;
    redisReply *r = reply;
    note_answered(k);
    if (reply_failed(k, r, "SCRIPT LOAD"))
        return;
    if (r->type != REDIS_REPLY_STRING || r->len >= sizeof k->sha) {
        mark_broken(k, "SCRIPT LOAD", "unexpected answer");
        return;
    }
    memcpy(k->sha, r->str, r->len + 1);
    k->cmd_ok = 1;
    check_ready(k);
}

/* Every message of the pattern subscription, and its confirmation. */
static void on_pubsub(redisAsyncContext *ac, void *reply, void *priv) {
    (void)priv;
    cluster_link *k = ac->data;
    redisReply *r = reply;
    if (!r || k->broken)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        mark_broken(k, "PSUBSCRIBE", r->str);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str;
    if (strcmp(kind, "psubscribe") == 0) {
        k->sub_ok = 1;
        k->sub_asked_ms = 0;
        check_ready(k);
        return;
    }
    if (strcmp(kind, "pmessage") != 0 || r->elements != 4)
        return;
    const redisReply *chan = r->element[2], *msg = r->element[3];
    size_t skip = strlen(k->prefix) + 3; /* "PREFIX:c:" */
    if (chan->type != REDIS_REPLY_STRING || msg->type != REDIS_REPLY_STRING || chan->len < skip)
        return;
    k->hooks.message(k->hooks.ctx, chan->str + skip, chan->len - skip, msg->str, msg->len);
}

/* AUTH (user and password, or the password alone) when the URL has one. */
static int send_login(cluster_link *k, redisAsyncContext *ac) {
    const redis_url *u = &k->cfg.url;
    if (!u->has_password)
        return REDIS_OK;
    int rc = u->user[0] ? redisAsyncCommand(ac, on_auth_or_select, "AUTH", "AUTH %s %s", u->user, u->password)
                        : redisAsyncCommand(ac, on_auth_or_select, "AUTH", "AUTH %s", u->password);
    if (rc == REDIS_OK && ac == k->cmd_w.ac)
        note_sent(k);
    return rc;
}

static int link_may_read(void *ctx) {
    cluster_link *k = ctx;
    return k->hooks.may_read(k->hooks.ctx);
}

void cluster_link_resume_reading(cluster_link *k) {
    redis_epoll_hold_reading(&k->cmd_w, 0);
    redis_epoll_hold_reading(&k->sub_w, 0);
}

static redisAsyncContext *connect_one(cluster_link *k, redis_watch *w) {
    const redis_url *u = &k->cfg.url;
    redisAsyncContext *ac = u->unix_path[0] ? redisAsyncConnectUnix(u->unix_path) : redisAsyncConnect(u->host, u->port);
    if (!ac) {
        mark_broken(k, "cannot connect", "out of memory");
        return NULL;
    }
    if (ac->err) {
        mark_broken(k, "cannot connect", ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = k;
    if (redis_epoll_attach(ac, k->loop, w, context_gone, k) < 0) {
        mark_broken(k, "epoll_ctl", strerror(errno));
        redisAsyncFree(ac);
        return NULL;
    }
    w->may_read = k->hooks.may_read ? link_may_read : NULL;
    /* A peer that vanished without a word (power, network) is noticed
     * even while nothing is asked of it. */
    if (!u->unix_path[0] && redisEnableKeepAlive(&ac->c) != REDIS_OK)
        log_verbose("redis %s: cannot enable TCP keep-alive: %s", u->display, ac->c.errstr);
    redisAsyncSetConnectCallback(ac, on_connect);
    if (send_login(k, ac) != REDIS_OK) {
        mark_broken(k, "AUTH", "cannot send");
        return NULL;
    }
    return ac;
}

static void start_connecting(cluster_link *k) {
    k->broken = 0;
    k->cmd_ok = k->sub_ok = k->ready = k->reloading = 0;
    k->cmd_pending = 0;
    k->connects++;
    /* The connect itself counts as asked: a Redis that takes the TCP
     * connection but never answers is given up like any silent one. */
    k->sub_asked_ms = clock_now_ms();
    redisAsyncContext *cmd = connect_one(k, &k->cmd_w);
    if (!cmd)
        return;
    char key[sizeof k->prefix + 8];
    snprintf(key, sizeof key, "%s:c:*", k->prefix);
    if (k->cfg.url.db) {
        if (redisAsyncCommand(cmd, on_auth_or_select, "SELECT", "SELECT %d", k->cfg.url.db) != REDIS_OK) {
            mark_broken(k, "SELECT", "cannot send");
            return;
        }
        note_sent(k);
    }
    if (redisAsyncCommand(cmd, on_script_loaded, NULL, "SCRIPT LOAD %s", cluster_publish_script) != REDIS_OK) {
        mark_broken(k, "SCRIPT LOAD", "cannot send");
        return;
    }
    note_sent(k);
    redisAsyncContext *sub = connect_one(k, &k->sub_w);
    if (sub && redisAsyncCommand(sub, on_pubsub, NULL, "PSUBSCRIBE %s", key) != REDIS_OK)
        mark_broken(k, "PSUBSCRIBE", "cannot send");
}

cluster_link *cluster_link_open(const cluster_link_config *cfg, loop *l, const cluster_link_hooks *hooks, char *err,
                                size_t errlen) {
    cluster_link *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "redis: out of memory");
        return NULL;
    }
    k->cfg = *cfg;
    snprintf(k->prefix, sizeof k->prefix, "%s", cfg->prefix);
    k->cfg.prefix = k->prefix;
    k->loop = l;
    k->hooks = *hooks;
    start_connecting(k);
    return k;
}

/* Free both contexts (pending callbacks get NULL answers) and say the
 * link is down. */
static void tear_down(cluster_link *k) {
    int was_ready = k->ready;
    k->ready = 0;
    if (k->cmd_w.ac)
        redisAsyncFree(k->cmd_w.ac);
    if (k->sub_w.ac)
        redisAsyncFree(k->sub_w.ac);
    if (was_ready)
        k->hooks.down(k->hooks.ctx);
}

/* When the link is given up for silence (0: nothing is awaited). */
static uint64_t silence_deadline(const cluster_link *k) {
    uint64_t at = 0;
    if (k->cmd_w.ac && k->cmd_pending)
        at = k->cmd_progress_ms + ANSWER_LIMIT_MS;
    if (k->sub_w.ac && !k->sub_ok && k->sub_asked_ms && (!at || k->sub_asked_ms + ANSWER_LIMIT_MS < at))
        at = k->sub_asked_ms + ANSWER_LIMIT_MS;
    return at;
}

void cluster_link_step(cluster_link *k, uint64_t now_ms) {
    uint64_t silent_at = k->broken ? 0 : silence_deadline(k);
    if (silent_at && now_ms >= silent_at)
        mark_broken(k, "no answer", "for 5 s; reconnecting");
    if (k->broken && (k->cmd_w.ac || k->sub_w.ac || k->retry_at_ms == 0)) {
        tear_down(k);
        k->retry_delay_ms = backoff_next_ms(k->retry_delay_ms, RETRY_FLOOR_MS, RETRY_CEILING_MS);
        k->retry_at_ms = now_ms + backoff_jitter_ms(k->retry_delay_ms, (uint32_t)rand());
        log_verbose("redis %s: reconnecting in %llums", k->cfg.url.display,
                    (unsigned long long)(k->retry_at_ms - now_ms));
        return;
    }
    if (k->broken && now_ms >= k->retry_at_ms) {
        k->retry_at_ms = 0;
        start_connecting(k);
    }
}

int cluster_link_timeout(const cluster_link *k, uint64_t now_ms) {
    if (!k->broken) {
        uint64_t at = silence_deadline(k);
        return !at ? -1 : at > now_ms ? (int)(at - now_ms) : 0;
    }
    if (k->cmd_w.ac || k->sub_w.ac || k->retry_at_ms == 0)
        return 0;
    return k->retry_at_ms > now_ms ? (int)(k->retry_at_ms - now_ms) : 0;
}

int cluster_link_ready(const cluster_link *k) { return k->ready && !k->broken; }

static int send_part(cluster_link *k, publish_call *call);

/* No part is sent after a failed one; the first failure is the answer. */
static void part_failed(publish_call *call, const char *error) {
    if (call->failed)
        return;
    call->failed = 1;
    snprintf(call->sum.error, sizeof call->sum.error, "redis %.100s: %.250s", call->k->cfg.url.display, error);
}

/* Send parts while the window has room: -1 (the call failed) when one
 * cannot be sent. */
static int send_parts(cluster_link *k, publish_call *call) {
    size_t window = call->b->session ? PARTS_IN_FLIGHT : 1;
    while (!call->failed && call->in_flight < window && call->sent_end < call->b->count)
        if (k->broken || send_part(k, call) < 0) {
            part_failed(call, "connection lost before the whole batch was published");
            return -1;
        }
    return 0;
}

/* Once no part is in flight: the whole batch is answered, summed over its
 * parts, failed if one did. 1 when the call is over (and freed). */
static int publish_done(publish_call *call) {
    cluster_link *k = call->k;
    if (call->in_flight)
        return 0;
    if (call->failed) {
        k->publish_failures++;
    } else {
        call->sum.ok = 1;
        k->lag_ms = clock_now_ms() - call->sent_ms;
    }
    call->done(call->ctx, &call->sum);
    free(call);
    return 1;
}

static void on_script_reloaded(redisAsyncContext *ac, void *reply, void *priv) {
    (void)priv;
    cluster_link *k = ac->data;
    redisReply *r = reply;
    note_answered(k);
    k->reloading = 0;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_warn("redis %s: SCRIPT LOAD: %s", k->cfg.url.display, r->str);
}

/* The script cache was flushed (SCRIPT FLUSH, a restarted or failed-over
 * Redis behind a proxy): load it again for later calls. */
static int reload_script(cluster_link *k) {
    if (k->reloading)
        return 0;
    if (redisAsyncCommand(k->cmd_w.ac, on_script_reloaded, NULL, "SCRIPT LOAD %s", cluster_publish_script) != REDIS_OK)
        return -1;
    note_sent(k);
    k->reloading = 1;
    return 0;
}

/* NOSCRIPT for the part that starts at `start`, which ran nothing: sent
 * again with the script itself when it is the only part in flight. Later
 * parts already sent are refused by the script (they must follow this
 * one), so then the batch fails and its publisher sends it again. */
static int retry_without_sha(cluster_link *k, publish_call *call, size_t start) {
    if (k->broken || reload_script(k) < 0 || call->use_eval || call->in_flight || call->failed)
        return -1;
    call->use_eval = 1;
    call->sent_end = start;
    return send_parts(k, call);
}

/* The answer to the oldest part in flight (Redis answers in order). */
static void on_published(redisAsyncContext *ac, void *reply, void *priv) {
    publish_call *call = priv;
    cluster_link *k = call->k;
    (void)ac;
    note_answered(k);
    size_t start = call->answered_end, end = call->part_ends[0];
    call->in_flight--;
    memmove(call->part_ends, call->part_ends + 1, call->in_flight * sizeof *call->part_ends);
    redisReply *r = reply;
    if (!r) {
        part_failed(call, "connection lost before the publish was confirmed");
    } else if (r->type == REDIS_REPLY_ERROR) {
        int noscript = strncmp(r->str, "NOSCRIPT", 8) == 0;
        if (noscript && retry_without_sha(k, call, start) == 0)
            return;
        if (noscript && !k->broken && reload_script(k) < 0)
            mark_broken(k, "SCRIPT LOAD", "cannot send");
        if (!call->failed)
            log_warn("redis %s: publish script: %s", k->cfg.url.display, r->str);
        part_failed(call, r->str);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
               r->element[1]->type != REDIS_REPLY_INTEGER) {
        part_failed(call, "unexpected answer to the publish script");
    } else if (!call->failed) {
        call->sum.accepted += (uint64_t)r->element[0]->integer;
        call->sum.duplicates += (uint64_t)r->element[1]->integer;
        call->use_eval = 0;
        call->answered_end = end;
    }
    if (!call->failed && call->answered_end < call->b->count)
        send_parts(k, call);
    if (call->failed || call->answered_end == call->b->count)
        publish_done(call); /* once the parts still in flight are answered */
}

/* The events after `start` that fit in one part (at least one). */
static size_t part_end_of(const cluster_batch *b, size_t start) {
    size_t end = start + 1, first = cluster_batch_start(b, start);
    while (end < b->count && end - start < PART_EVENTS && b->ends[end] - first <= PART_BYTES)
        end++;
    return end;
}

/* One script call for the next part of call's batch (from sent_end);
 * -1 (the link marked broken) when it cannot be sent. */
static int send_part(cluster_link *k, publish_call *call) {
    const cluster_batch *b = call->b;
    size_t part_start = call->sent_end, part_end = part_end_of(b, part_start);
    enum { ARGC = 16 };
    const char *argv[ARGC];
    size_t lens[ARGC];
    buf keys = BUF_INIT;
    char history[24], first_seq[24], count[24];
    int rc = -1;
    snprintf(history, sizeof history, "%llu", (unsigned long long)(k->cfg.history ? k->cfg.history : 1));
    snprintf(first_seq, sizeof first_seq, "%llu", (unsigned long long)(b->first_seq + part_start));
    /* Keys and names one after another in one buffer, NUL-separated. */
    size_t at[7];
    const char *chan = call->chan;
    int len = (int)call->len;
    at[0] = keys.len, buf_printf(&keys, "%s:id%c", k->prefix, 0);
    at[1] = keys.len, buf_printf(&keys, "%s:last%c", k->prefix, 0);
    at[2] = keys.len, buf_printf(&keys, "%s:channels%c", k->prefix, 0);
    at[3] = keys.len, buf_printf(&keys, "%s:s:%.*s%c", k->prefix, len, chan, 0);
    at[4] = keys.len, buf_printf(&keys, "%s:c:%.*s%c", k->prefix, len, chan, 0);
    at[5] = keys.len, buf_printf(&keys, "%s:kept%c", k->prefix, 0);
    at[6] = keys.len, buf_printf(&keys, "%s:p:%016llx%c", k->prefix, (unsigned long long)b->session, 0);
    if (!keys.data)
        goto out;
    size_t n = 0;
    int nkeys = b->session ? 6 : 5;
    char numkeys[4];
    snprintf(numkeys, sizeof numkeys, "%d", nkeys);
    if (call->use_eval) {
        argv[n] = "EVAL", lens[n++] = 4;
        argv[n] = cluster_publish_script, lens[n++] = strlen(cluster_publish_script);
    } else {
        argv[n] = "EVALSHA", lens[n++] = 7;
        argv[n] = k->sha, lens[n++] = strlen(k->sha);
    }
    argv[n] = numkeys, lens[n++] = strlen(numkeys);
    for (int i = 0; i < 4; i++)
        argv[n] = keys.data + at[i], lens[n++] = strlen(keys.data + at[i]);
    argv[n] = keys.data + at[5], lens[n++] = strlen(keys.data + at[5]);
    if (b->session)
        argv[n] = keys.data + at[6], lens[n++] = strlen(keys.data + at[6]);
    argv[n] = chan, lens[n++] = call->len;
    argv[n] = history, lens[n++] = strlen(history);
    argv[n] = keys.data + at[4], lens[n++] = strlen(keys.data + at[4]);
    argv[n] = first_seq, lens[n++] = strlen(first_seq);
    argv[n] = call->in_flight ? "1" : "0", lens[n++] = 1; /* follows a part in flight */
    /* The part's framed events go as one argument: the script handles
     * them as one string and numbers them as a range. */
    snprintf(count, sizeof count, "%zu", part_end - part_start);
    argv[n] = count, lens[n++] = strlen(count);
    size_t body = cluster_batch_start(b, part_start);
    argv[n] = b->bytes.data + body, lens[n++] = b->ends[part_end - 1] - body;
    if (redisAsyncCommandArgv(k->cmd_w.ac, on_published, call, (int)n, argv, lens) != REDIS_OK)
        goto out;
    note_sent(k);
    k->publish_calls++;
    call->part_ends[call->in_flight++] = part_end;
    call->sent_end = part_end;
    rc = 0;
out:
    if (rc < 0)
        mark_broken(k, "publish", "cannot send");
    buf_free(&keys);
    return rc;
}

int cluster_link_publish(cluster_link *k, const char *chan, size_t len, const cluster_batch *b, cluster_published_fn done,
                         void *ctx) {
    if (!cluster_link_ready(k) || b->count == 0)
        return -1;
    publish_call *call = calloc(1, sizeof *call + len + 1);
    if (!call)
        return -1;
    call->k = k;
    call->done = done;
    call->ctx = ctx;
    call->b = b;
    call->sent_ms = clock_now_ms();
    call->len = len;
    memcpy(call->chan, chan, len);
    send_parts(k, call);
    if (call->in_flight == 0) { /* not even the first part went out */
        free(call);
        return -1;
    }
    return 0;
}

/* A stream entry's text: field b (a script call's events), or e (one
 * event, written by the version before); NULL when it has neither. */
static const redisReply *entry_value(const redisReply *entry) {
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    const redisReply *fields = entry->element[1];
    for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        const redisReply *name = fields->element[f], *value = fields->element[f + 1];
        if (name->type == REDIS_REPLY_STRING && name->len == 1 && (name->str[0] == 'b' || name->str[0] == 'e') &&
            value->type == REDIS_REPLY_STRING)
            return value;
    }
    return NULL;
}

/* N of an entry's id N-0 (the number of its last event); 0 if garbled. */
static uint64_t entry_number(const redisReply *entry) {
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 1 || entry->element[0]->type != REDIS_REPLY_STRING)
        return 0;
    const char *id = entry->element[0]->str;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(id, &end, 10);
    return errno || end == id || *end != '-' ? 0 : (uint64_t)n;
}

static void on_filled(redisAsyncContext *ac, void *reply, void *priv) {
    fill_call *call = priv;
    cluster_link *k = call->k;
    (void)ac;
    note_answered(k);
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r && r->type == REDIS_REPLY_ERROR)
            log_warn("redis %s: reading stream of /%s: %s", k->cfg.url.display, call->chan, r->str);
        k->hooks.fill_failed(k->hooks.ctx, call->chan, call->len);
        free(call);
        return;
    }
    size_t n = r->elements;
    const char **msgs = calloc(n ? n : 1, sizeof *msgs);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    if (!msgs || !lens) {
        k->hooks.fill_failed(k->hooks.ctx, call->chan, call->len);
        goto out;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        /* XREVRANGE (the tail) answers newest first. */
        const redisReply *value = entry_value(r->element[call->tail ? n - 1 - i : i]);
        if (value) {
            msgs[count] = value->str;
            lens[count++] = value->len;
        }
    }
    uint64_t read_on_after = !call->tail && n == FILL_COUNT ? entry_number(r->element[n - 1]) : 0;
    k->hooks.filled(k->hooks.ctx, call->chan, call->len, msgs, lens, count, read_on_after);
out:
    free(msgs);
    free(lens);
    free(call);
}

int cluster_link_fill(cluster_link *k, const char *chan, size_t len, uint64_t after) {
    if (!cluster_link_ready(k))
        return -1;
    fill_call *call = malloc(sizeof *call + len + 1);
    if (!call)
        return -1;
    call->k = k;
    call->tail = after == 0;
    call->len = len;
    memcpy(call->chan, chan, len);
    call->chan[len] = '\0';
    /* Sized from the lengths: a long prefix and channel name must not be
     * cut into another channel's key. */
    char *key = malloc(strlen(k->prefix) + 3 + len + 1), start[32];
    if (!key) {
        free(call);
        return -1;
    }
    sprintf(key, "%s:s:%s", k->prefix, call->chan);
    snprintf(start, sizeof start, "%llu-0", (unsigned long long)after + 1);
    int rc = call->tail ? redisAsyncCommand(k->cmd_w.ac, on_filled, call, "XREVRANGE %s + - COUNT %llu", key,
                                            (unsigned long long)k->cfg.history)
                        : redisAsyncCommand(k->cmd_w.ac, on_filled, call, "XRANGE %s %s + COUNT %d", key, start,
                                            FILL_COUNT);
    free(key);
    if (rc != REDIS_OK) {
        free(call);
        mark_broken(k, "XRANGE", "cannot send");
        return -1;
    }
    note_sent(k);
    k->fills++;
    return 0;
}

void cluster_link_stats(const cluster_link *k, buf *out) {
    buf_printf(out,
               "\"connected\":%s,\"lag_ms\":%llu,\"connects\":%llu,\"publish_calls\":%llu,\"publish_failures\":%llu,"
               "\"stream_reads\":%llu",
               cluster_link_ready(k) ? "true" : "false", (unsigned long long)k->lag_ms,
               (unsigned long long)k->connects, (unsigned long long)k->publish_calls,
               (unsigned long long)k->publish_failures, (unsigned long long)k->fills);
}

void cluster_link_close(cluster_link *k) {
    if (!k)
        return;
    k->broken = 1;
    k->ready = 0; /* no down hook at exit */
    if (k->cmd_w.ac)
        redisAsyncFree(k->cmd_w.ac);
    if (k->sub_w.ac)
        redisAsyncFree(k->sub_w.ac);
    free(k);
}
