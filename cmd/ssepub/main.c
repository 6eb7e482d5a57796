/* ssepub: publish events to a running ssed. Parse options, read events in
 * batches, deliver each batch (or report what was not delivered), exit with
 * a status that says which. */
#include <stdio.h>

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
        return EXIT_LOCAL;
    return EXIT_DELIVERED;
}

int main(int argc, char **argv) {
    ssepub_options o;
    int rc = options_parse(&o, argc, argv);
    if (rc != 0) {
        options_free(&o);
        return rc == 1 ? EXIT_DELIVERED : EXIT_USAGE;
    }
    log_init("ssepub", (enum log_level)o.verbosity);
    char err[256];
    if (signals_install() < 0 || http_client_global_init(err, sizeof err) < 0) {
        log_error("start-up failed");
        options_free(&o);
        return EXIT_LOCAL;
    }
    sender s;
    source src;
    batch b = {0};
    source_init(&src, &o);
    int status = EXIT_LOCAL;
    if (sender_init(&s, &o) == 0) {
        enum source_state state;
        do {
            state = source_fill(&src, &b);
            if (b.count > 0)
                sender_send(&s, &b);
        } while (state == SOURCE_BATCH_READY && !s.fatal);
        log_verbose("%llu event%s delivered in %llu request%s", (unsigned long long)s.delivered,
                    s.delivered == 1 ? "" : "s", (unsigned long long)s.requests, s.requests == 1 ? "" : "s");
        status = exit_status(&s, &src);
        sender_free(&s);
    }
    batch_free(&b);
    source_free(&src);
    http_client_global_cleanup();
    options_free(&o);
    return status;
}
