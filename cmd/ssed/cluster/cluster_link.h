/* The link from one ssed node to its cluster's Redis: two connections (one
 * for commands, one subscribed to every channel's messages), the publish
 * script, reads of the channels' streams, and reconnection with backoff.
 * Publishing and reading are refused (-1) while it is not ready, that is
 * until both connections are up, the script loaded and the subscription
 * confirmed. Built without hiredis (make REDIS=0), cluster_link_open fails
 * with a clear error.
 *
 * Keys under PREFIX: PREFIX:id (the cluster's counter), PREFIX:last (hash:
 * channel -> its last cluster number), PREFIX:channels (set of channels),
 * PREFIX:s:CHANNEL (stream, one entry per script call: id LAST-0, LAST the
 * number of its last event, field b holding the same text as the call's
 * message; entries of the version before: one event each, field e),
 * PREFIX:p:SESSION (a publisher's next SSE-Sequence, for a day),
 * PREFIX:epoch (a random value: a new one tells a Redis that lost its
 * data, cluster_script_restore.c), PREFIX:kept (hash: channel -> events in
 * its stream); messages
 * on PREFIX:c:CHANNEL, one per script call carrying its events
 * (cluster_message.h). */
#ifndef SSED_CLUSTER_LINK_H
#define SSED_CLUSTER_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cluster_message.h"
#include "loop.h"
#include "redis_url.h"

typedef struct cluster_link cluster_link;

typedef struct cluster_link_hooks {
    /* A pub/sub message as it came: not trusted yet (cluster_link_check). */
    void (*message)(void *ctx, const char *chan, size_t len, const char *msg, size_t msg_len);
    /* A message cluster_link_check found in its stream (each event's
     * entry, for the version before's batch), or a malformed one (the
     * split refuses it), in the order they were checked. */
    void (*checked)(void *ctx, const char *chan, size_t len, const char *msg, size_t msg_len);
    /* A message that is not the cluster's (`why`): its stream has no
     * entry for its number while it holds older ones, or a different one. */
    void (*forged)(void *ctx, const char *chan, size_t len, const char *why);
    /* A fill's stream entries, oldest first; `read_on_after`: there may be
     * more after this number (the last entry's); 0: none. */
    void (*filled)(void *ctx, const char *chan, size_t len, const char *const *msgs, const size_t *lens, size_t count,
                   uint64_t read_on_after);
    void (*fill_failed)(void *ctx, const char *chan, size_t len);
    /* Ready (again): every channel Redis knows. */
    void (*up)(void *ctx, const char *const *names, const size_t *lens, size_t count);
    /* Redis lost its data (its epoch changed since this node joined):
     * called before `up` when found at a connect, or when an epoch check
     * asked for by cluster_link_check_epoch finds it. */
    void (*lost)(void *ctx);
    /* Not ready any more; publishes in flight get failed answers. */
    void (*down)(void *ctx);
    /* 0: leave what Redis sends in the sockets, and stop watching them for
     * input until cluster_link_resume_reading (the node's subscribers still
     * owe a round's worth, hub.h); NULL: always read. */
    int (*may_read)(void *ctx);
    void *ctx;
} cluster_link_hooks;

typedef struct cluster_publish_result {
    int ok;
    uint64_t accepted, duplicates;
    char error[400];
} cluster_publish_result;
typedef void (*cluster_published_fn)(void *ctx, const cluster_publish_result *r);

typedef struct cluster_link_config {
    redis_url url;
    const char *prefix;
    uint64_t history; /* MAXLEN ~ of each stream, in entries (script calls) */
} cluster_link_config;

/* NULL with err filled when it cannot even start (built without Redis,
 * out of memory); a Redis that does not answer yet is retried. */
cluster_link *cluster_link_open(const cluster_link_config *cfg, loop *l, const cluster_link_hooks *hooks, char *err,
                                size_t errlen);
/* Reconnect when it is time; once per loop iteration. */
void cluster_link_step(cluster_link *k, uint64_t now_ms);
/* may_read said no: read again (epoll reports what is waiting). */
void cluster_link_resume_reading(cluster_link *k);
int cluster_link_timeout(const cluster_link *k, uint64_t now_ms);
int cluster_link_ready(const cluster_link *k);
/* One script call for a batch; `done` is called exactly once (later, or
 * with a failure when the link drops). -1: not ready, nothing sent. */
int cluster_link_publish(cluster_link *k, const char *chan, size_t len, const cluster_batch *b, cluster_published_fn done,
                         void *ctx);
/* Read a channel's stream from the entry holding `after` + 1 on (0: its
 * newest --history entries, at least --history events);
 * answered by hooks.filled or hooks.fill_failed. -1: not ready. */
int cluster_link_fill(cluster_link *k, const char *chan, size_t len, uint64_t after);
/* Check a pub/sub message against its channel's stream (any Redis client
 * may PUBLISH): answered by hooks.checked or hooks.forged, in the order
 * asked, or by neither when the link drops first (a pub/sub loss: the
 * resync reads the stream). */
void cluster_link_check(cluster_link *k, const char *chan, size_t len, const char *msg, size_t msg_len);
/* Ask whether Redis lost its data since this node joined (hooks.lost
 * when it did): its epoch changed, or its counter is behind `highest`,
 * the highest number the node delivered (an older snapshot); one check at
 * a time. The node asks at every connect, before it reads the streams,
 * and when a message suggests a loss. */
void cluster_link_check_epoch(cluster_link *k, uint64_t highest);
/* Ask, once per process (the first connect that answers), whether Redis
 * persists its data: one warning line when it keeps nothing or only
 * snapshots, or when it refuses to say (cluster_link_persistence.c). */
void cluster_link_check_persistence(cluster_link *k);
/* Write back a channel's history after Redis lost its data: `count`
 * events, oldest first, each with its number and its one-event message
 * ("#N PREV 1\n" and its framed encoding), merged into the stream by one
 * script call (cluster_script_restore.c). `done` gets how many Redis did
 * not hold yet, or -1 (an error, the connection lost). -1: not sent. */
typedef void (*cluster_written_back_fn)(void *ctx, long long written);
int cluster_link_write_back(cluster_link *k, const char *chan, size_t len, const uint64_t *numbers,
                            const char *const *msgs, const size_t *msg_lens, size_t count, cluster_written_back_fn done,
                            void *ctx);
/* The link's figures as JSON members (after a comma). */
void cluster_link_stats(const cluster_link *k, buf *out);
void cluster_link_close(cluster_link *k);

#endif
