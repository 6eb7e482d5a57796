/* The server's context: configuration, event loop, hub, listeners, inputs
 * and the lists that order connections by deadline. Passed to every module;
 * there is no other state. Only the struct: what is done with it lives in
 * serving.c (accepting, deadlines, shutdown) and the modules it names. */
#ifndef SSED_SERVER_H
#define SSED_SERVER_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "dedup.h"
#include "hub.h"
#include "input.h"
#include "intake_gate.h"
#include "latency.h"
#include "list.h"
#include "loop.h"
#include "options.h"
#include "refusal.h"

typedef struct server server;
typedef struct stream_routes stream_routes; /* stream.h */
typedef struct cluster_node cluster_node; /* cluster_node.h */
struct jwt_verifier;                      /* jwt.h */
struct jwt_cache;                         /* jwt_cache.h */
struct replay_timeline;                   /* replay.h */

typedef struct listener_watch {
    loop_watch watch;
    server *srv;
    int fd;
    int paused;
    int tls; /* connections accepted here speak TLS */
    char url[300];
    char name[256]; /* the name systemd gave a passed socket, or "" */
} listener_watch;

typedef struct server_stats {
    uint64_t started_ms;
    uint64_t connections_total; /* TCP (and unix socket) connections accepted */
    uint64_t h2_streams_total;  /* HTTP/2 streams opened */
    uint64_t subscribers_total;
    uint64_t bytes_out;
    uint64_t oversized_records;
    uint64_t rejected_busy;
    uint64_t header_timeouts;
    uint64_t events_published; /* over HTTP, resends skipped as duplicates not counted */
    uint64_t publish_duplicates; /* events skipped as already published (their id was seen) */
    uint64_t publish_refused;
    /* Fan-out cost: write calls to subscribers, and events they completed
     * (keep-alives and notices included). */
    uint64_t subscriber_writes;
    uint64_t events_delivered;
    uint64_t publish_requests; /* POSTs to a channel, refused ones too */
    uint64_t refusals[REFUSAL_KINDS]; /* error replies, by enum refusal */
    uint64_t h2_over_budget_goaways; /* HTTP/2 clients dropped past --h2-total-buffer */
    uint64_t redis_refused; /* messages, entries and names from Redis refused as malformed */
    latency_histogram delivery_latency;
} server_stats;

struct server {
    const ssed_options *opt;
    const stream_routes *routes; /* what streams call with requests and bodies */
    const char *token; /* publishers must present it; NULL: loopback only */
    char *token_owned; /* what token points to when read from --token-file; SIGHUP replaces it */
    loop loop;
    hub hub;
    intake_gate intake; /* whether inputs may read now, and why not (intake_gate.h) */
    listener_watch listeners[SSED_MAX_LISTEN];
    size_t listener_count;
    input_source inputs[2];
    size_t input_count;
    channel *input_channel;
    /* Connections (connection.h), by deadline: */
    list_node reading;   /* owing a request head, or lingering after an answer, oldest first */
    list_node sessions;  /* HTTP/2 sessions with request streams: no deadline */
    /* Streams (stream.h), by deadline: */
    list_node streaming; /* subscribers, least recently written first */
    list_node publishing; /* publishers sending a body, or awaiting its answer: no deadline */
    list_node ending;    /* not answered yet, replying, or ending: closed --header-timeout after */
    list_node graveyard; /* connections closed this iteration, freed after it */
    list_node stream_graveyard; /* streams closed this iteration, freed after it */
    list_node buffered_input; /* connections holding input epoll cannot see (TLS's, or requests read early) */
    list_node flushing;  /* HTTP/2 sessions with frames to send */
    struct tls_server *tls; /* --tls-cert; NULL: plaintext only */
    int handshakes_left; /* TLS handshake steps this loop turn may still take */
    list_node expiring;  /* streams whose token expires, soonest first */
    size_t conn_count;      /* TCP connections and HTTP/2 streams (--max-clients counts both) */
    size_t h2_stream_count; /* of them, HTTP/2 streams */
    size_t subscriber_count;
    uint64_t max_clients;
    uint64_t accept_resume_ms; /* listeners paused after EMFILE until then */
    size_t conns_freed_since_trim; /* malloc_trim when a crowd has left (serving.c) */
    size_t h2_held; /* bytes all HTTP/2 streams hold for DATA frames (h2_budget.c) */
    uint64_t h2_enforce_at_ms; /* past --h2-total-buffer, look for a peer to drop no sooner */
    int accept_error_logged;
    int reserve_fd; /* kept free to refuse clients when descriptors run out */
    int stopping;
    uint64_t stop_deadline_ms;
    int signal_fd;
    loop_watch signal_watch;
    shared_event *keepalive;
    shared_event *expired_notice; /* the last thing a stream whose token expired is sent */
    struct jwt_verifier *jwt; /* --jwt-*; NULL: no tokens for subscribers */
    struct jwt_cache *jwt_cache; /* tokens that verified, until they expire */
    dedup_table *dedup;
    struct store *store; /* --store; NULL: history in memory only */
    cluster_node *cluster; /* --redis; NULL: a single server */
    struct replay_timeline *replay; /* --replay FILE's shared timeline; NULL: none */
    list_node replay_streams; /* streams each playing the recording on its own timeline (replay.h) */
    int exit_status; /* set by what ends ssed with a failure (a bad recording on stdin); 0: none */
    server_stats stats;
};

#endif
