/* ssepub: publish events to a running ssed. Parse options, read events in
 * batches, deliver each batch (or report what was not delivered), exit with
 * a status that says which. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "http_client.h"
#include "log.h"
#include "options.h"
#include "sender.h"
#include "signals.h"
#include "source.h"

static int exit_status(const sender *s, const source *src) {
    if (s->fatal)
        return s->fatal_status;
    if (s->refused || src->too_large)
        return EXIT_REFUSED;
    if (src->read_failed || src->incomplete)
        return EXIT_RUNTIME;
    return EXIT_OK;
}

/* Read batches and send each until the input ends or sending cannot go on. */
static void deliver(sender *s, source *src, batch *b) {
    enum source_state state;
    do {
        state = source_fill(src, b);
        if (b->count > 0)
            sender_send(s, b);
    } while (state == SOURCE_BATCH_READY && !s->fatal);
    log_verbose("%llu event%s delivered in %llu request%s", (unsigned long long)s->delivered,
                s->delivered == 1 ? "" : "s", (unsigned long long)s->requests, s->requests == 1 ? "" : "s");
}

/* Every way out goes through cleanup; everything it frees is either set
 * up or zeroed by then. */
int main(int argc, char **argv) {
    ssepub_options o;
    sender s = {0};
    source src = {0};
    batch b = {0};
    int curl_ready = 0;
    int status = EXIT_RUNTIME;
    char err[256];
    cli_outcome parsed = options_parse(&o, argc, argv);
    if (parsed != CLI_RUN) {
        status = cli_exit_status(parsed);
        goto cleanup;
    }
    log_init("ssepub", (enum log_level)o.verbosity);
    if (signals_install() < 0) {
        log_error("sigaction: %s", strerror(errno));
        goto cleanup;
    }
    if (http_client_global_init(err, sizeof err) < 0) {
        log_error("%s", err);
        goto cleanup;
    }
    curl_ready = 1;
    source_init(&src, &o);
    if (sender_init(&s, &o) < 0)
        goto cleanup;
    deliver(&s, &src, &b);
    status = exit_status(&s, &src);

cleanup:
    sender_free(&s);
    batch_free(&b);
    source_free(&src);
    if (curl_ready)
        http_client_global_cleanup();
    options_free(&o);
    return status;
}
