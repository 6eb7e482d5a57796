/* The server's context: configuration, event loop, hub, listeners, inputs
 * and the lists that order connections by deadline. Passed to every module;
 * there is no other state. */
#ifndef SSED_SERVER_H
#define SSED_SERVER_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "dedup.h"
#include "hub.h"
#include "list.h"
#include "loop.h"
#include "options.h"
#include "record_reader.h"
#include "sse_parser.h"

typedef struct server server;

typedef struct listener_watch {
    loop_watch watch;
    server *srv;
    int fd;
    int paused;
    char url[300];
} listener_watch;

typedef struct input_source {
    loop_watch watch;
    server *srv;
    int fd;
    const char *name;
    int always_ready; /* a regular file or /dev/null: epoll cannot watch it */
    int open;
    record_reader records; /* lines format */
    sse_parser parser;   /* sse format */
    long long next_retry; /* sse format: a retry field for the next event */
    mode_t fifo_mode;     /* a FIFO: its mode, and which file we have open */
    dev_t fifo_dev;
    ino_t fifo_ino;
    uint64_t fifo_checked_ms;
} input_source;

typedef struct server_stats {
    uint64_t started_ms;
    uint64_t connections_total;
    uint64_t subscribers_total;
    uint64_t bytes_out;
    uint64_t oversized_records;
    uint64_t rejected_busy;
    uint64_t header_timeouts;
    uint64_t events_published; /* over HTTP */
    uint64_t publish_refused;
} server_stats;

struct server {
    const ssed_options *opt;
    const char *token; /* publishers must present it; NULL: loopback only */
    loop loop;
    hub hub;
    listener_watch listeners[SSED_MAX_LISTEN];
    size_t listener_count;
    input_source inputs[2];
    size_t input_count;
    channel *input_channel;
    list_node reading;   /* connections owing a request head, oldest first */
    list_node streaming; /* subscribers, least recently written first */
    list_node publishing; /* publishers sending a body */
    list_node graveyard; /* closed this iteration, freed after it */
    size_t conn_count;
    size_t subscriber_count;
    uint64_t max_clients;
    uint64_t accept_resume_ms; /* listeners paused after EMFILE until then */
    int accept_error_logged;
    int reserve_fd; /* kept free to refuse clients when descriptors run out */
    int stopping;
    uint64_t stop_deadline_ms;
    int signal_fd;
    loop_watch signal_watch;
    shared_event *keepalive;
    dedup_table *dedup;
    server_stats stats;
};

/* conn.c */
void conn_accept_ready(loop_watch *w, uint32_t events);
void server_flush_dirty(server *srv);
void server_run_timers(server *srv, uint64_t now);
int server_next_timeout(server *srv, uint64_t now);
void server_free_graveyard(server *srv);
void server_begin_shutdown(server *srv);
void server_close_all(server *srv);

/* input.c */
int input_open_stdin(server *srv, input_source *in);
int input_open_fifo(server *srv, input_source *in, const char *path, mode_t mode);
void input_poll_always_ready(server *srv);
/* How often ssed checks that a FIFO input is still the file at its path. */
#define INPUT_FIFO_CHECK_MS 1000
void input_check_fifos(server *srv, uint64_t now_ms);
void input_close(input_source *in);

/* stats.c */
void stats_render(server *srv, buf *out, int per_channel);

#endif
