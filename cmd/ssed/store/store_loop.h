/* The store in the server's life: opened and loaded before listening,
 * committed once per loop iteration and before each publish is answered,
 * synced on time, and what ssed does while it cannot write (publishers get
 * 503, inputs pause). */
#ifndef SSED_STORE_LOOP_H
#define SSED_STORE_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

/* --store: open, load into the hub and dedup table, commit what loading
 * changed. -1 after logging why (the caller exits 1). */
int server_store_open(server *srv);
/* Once per loop iteration, before subscribers are written to: commit, run
 * the batch sync and retries, pause or resume inputs. */
void server_store_step(server *srv, uint64_t now_ms);
/* Before a publish is answered: 0 when its events are committed (and
 * synced as --sync asks); -1 with err filled when not. */
int server_store_ack(server *srv, char *err, size_t errlen);
/* Whether the store cannot write now (new publishes are refused). */
int server_store_failing(const server *srv);
/* Why the store cannot write ("store PATH: ..."); "" when it can. */
const char *server_store_error(const server *srv);
/* Milliseconds until server_store_step has work; -1: none. */
int server_store_timeout(const server *srv, uint64_t now_ms);
/* At exit: a last commit and sync, then close. */
void server_store_close(server *srv);

#endif
