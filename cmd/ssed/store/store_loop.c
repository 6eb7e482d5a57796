/* The store in the server's life. Subscribers see only what the store
 * has: a commit that fails takes back the events it could not write
 * (store.h), and until one succeeds ssed takes no new events it would have
 * to acknowledge or could lose without telling: publishes get 503, stdin
 * and FIFO input pause (their writers block), and the write is retried
 * every second. */
#include "store_loop.h"

#include "log.h"
#include "store.h"

int server_store_open(server *srv) {
    const ssed_options *o = srv->opt;
    char err[600];
    srv->store = store_open(o->store_path, (enum store_sync)o->store_sync, o->store_repair, err, sizeof err);
    if (!srv->store || store_load(srv->store, &srv->hub, srv->dedup, err, sizeof err) < 0 ||
        store_commit(srv->store, 1, err, sizeof err) < 0) {
        log_error("%s", err);
        store_close(srv->store); /* no last commit: the store stays as it was found */
        srv->store = NULL;
        return -1;
    }
    log_verbose("store %s: %zu byte%s of history loaded", o->store_path, srv->hub.history.bytes,
                srv->hub.history.bytes == 1 ? "" : "s");
    return 0;
}

/* The gate's INTAKE_STORE: inputs wait on it; publishers are refused
 * meanwhile (publish_route.c), not held. */
static void pause_inputs(server *srv, int paused, const char *why) {
    if (intake_gate_holds(&srv->intake, INTAKE_BIT(INTAKE_STORE)) == paused)
        return;
    intake_gate_set(&srv->intake, INTAKE_STORE, paused);
    if (paused && store_broken(srv->store))
        log_error("%s; input paused and publishes refused (503) until ssed is restarted", why);
    else if (paused)
        log_warn("%s; input paused and publishes refused (503) until the store can write; retrying every second",
                 why);
    else
        log_info("store writable again: input resumed");
}

void server_store_step(server *srv, uint64_t now_ms) {
    if (!srv->store)
        return;
    char err[600];
    int rc = store_tick(srv->store, now_ms, err, sizeof err);
    if (rc == 0)
        rc = store_commit(srv->store, 0, err, sizeof err);
    if (rc < 0)
        pause_inputs(srv, 1, err);
    else
        pause_inputs(srv, 0, NULL);
    uint64_t input_lost;
    uint64_t withdrawn = store_take_withdrawn(srv->store, &input_lost);
    int final = store_broken(srv->store);
    if (withdrawn)
        log_warn("store %s: %llu event%s it could not write taken back unsent (publishers were answered 503%s)",
                 srv->opt->store_path, (unsigned long long)withdrawn, withdrawn == 1 ? "" : "s",
                 final ? "" : "; input is published again once the store can write");
    if (input_lost && final)
        log_error("store %s: %llu input event%s lost: the store cannot write until ssed is restarted",
                  srv->opt->store_path, (unsigned long long)input_lost, input_lost == 1 ? "" : "s");
    else if (input_lost)
        log_error("store %s: out of memory publishing %llu input event%s again; %s lost", srv->opt->store_path,
                  (unsigned long long)input_lost, input_lost == 1 ? "" : "s", input_lost == 1 ? "it is" : "they are");
}

int server_store_ack(server *srv, char *err, size_t errlen) {
    if (!srv->store)
        return 0;
    return store_commit(srv->store, 1, err, errlen);
}

int server_store_failing(const server *srv) { return srv->store && store_failing(srv->store); }

const char *server_store_error(const server *srv) {
    return server_store_failing(srv) ? store_error(srv->store) : "";
}

int server_store_timeout(const server *srv, uint64_t now_ms) {
    return srv->store ? store_next_timeout(srv->store, now_ms) : -1;
}

void server_store_close(server *srv) {
    if (!srv->store)
        return;
    char err[600];
    if (store_commit(srv->store, 1, err, sizeof err) < 0)
        log_error("%s; events since the last commit are not in the store", err);
    store_close(srv->store);
    srv->store = NULL;
}
