/* ssed --replay FILE: a recording (ssecat --record) served at its pace.
 * The shared timeline plays it once for the server into the input channel
 * (-c): events go through the hub with their recorded ids, so history and
 * Last-Event-ID resume work as for any input; comments and retry-only
 * blocks go to live subscribers only. Per-request timelines
 * (routes/replay_route.c) play it anew for one subscriber (?replay=start)
 * or one POST (--method POST): their players are on srv->replay_streams. main asks when the next item of any is due
 * and steps them all. */
#ifndef SSED_REPLAY_H
#define SSED_REPLAY_H

#include <stdint.h>

#include "server.h"

/* Open the shared timeline (srv->opt->replay_file set; the input channel
 * held). 0, or the exit status after logging why: 1 when the file cannot
 * be read, 2 when it is not a recording. */
int server_replay_open(server *srv, void (*stop)(server *srv));
/* The loop's timeout for every timeline (-1: none due). */
int server_replay_timeout(server *srv, uint64_t now_ms);
/* Deliver what is due on every timeline. */
void server_replay_step(server *srv, uint64_t now_ms);
void server_replay_close(server *srv);
/* A comment (":TEXT") or a retry-only block as raw wire bytes; NULL if
 * memory ran out. */
struct replay_item;
shared_event *replay_raw_item(const struct replay_item *it);

#endif
