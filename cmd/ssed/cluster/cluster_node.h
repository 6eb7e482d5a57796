/* A node of a cluster (--redis) in the server's life: events published
 * here go to Redis in one script call per request or input read, and come
 * back, with every other node's, through the subscription into the local
 * hub with the id Redis gave them (cluster_delivery.c keeps them in order
 * and fills holes). While Redis cannot be reached POSTs get 503 and stdin
 * and FIFO input pause; subscribers keep their streams. Every function is
 * a no-op (or "ready") when the server has no --redis. */
#ifndef SSED_CLUSTER_NODE_H
#define SSED_CLUSTER_NODE_H

#include "cluster_link.h"
#include "server.h"

/* --redis: connect (in the background). -1 after logging why. */
int server_cluster_open(server *srv);
int server_cluster_enabled(const server *srv);
void server_cluster_step(server *srv, uint64_t now_ms);
int server_cluster_timeout(const server *srv, uint64_t now_ms);
int server_cluster_ready(const server *srv);
/* The node has read every channel's stream since it started (so a
 * subscriber's Last-Event-ID can be found in history); 1 without --redis. */
int server_cluster_synced(server *srv);
/* May a subscriber resume on this channel after last_id now? Not while
 * the node is behind on it (its link down or coming back, a hole being
 * filled) and has not delivered last_id's number yet: the catching up
 * would deliver live, again, events the client already had from another
 * node. 1 without --redis, without a Last-Event-ID, or for an id that is
 * not a number (history alone decides then). */
int server_cluster_may_resume(server *srv, const char *chan, size_t len, const char *last_id, size_t last_len);
/* Send a request's events; `done` is called once with the outcome. -1:
 * Redis is not reachable now, nothing sent. */
int server_cluster_publish(server *srv, channel *ch, const cluster_batch *b, cluster_published_fn done, void *ctx);
/* Route an input's events through Redis (its target's emit and flush). */
void server_cluster_input_target(server *srv, input_target *to);
/* Events read from stdin or the FIFO that Redis has not confirmed yet
 * (being sent, waiting to be, or to be resent); 0 without --redis. A
 * shutdown waits for them, up to --shutdown-timeout, as a single ssed's
 * inputs are published before it exits. */
size_t server_cluster_unconfirmed(const server *srv);
/* ,"redis":{...} for /_ssed/stats; nothing without --redis. */
void server_cluster_stats(const server *srv, buf *out);
void server_cluster_close(server *srv);

#endif
