/* ssecat: subscribe to a Server-Sent Events stream (or read a captured one)
 * and print each event as a browser's EventSource would see it. */
#include <stdio.h>
#include <string.h>
#include <errno.h>

#include "http_client.h"
#include "input.h"
#include "limits.h"
#include "log.h"
#include "options.h"
#include "reconnect.h"
#include "signals.h"
#include "sink.h"
#include "sse_parser.h"

static int subscribe(const ssecat_options *o, sse_parser *p, sink *s, limits *l) {
    char err[256];
    if (http_client_global_init(err, sizeof err) < 0) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    int status = reconnect_run(o, p, s, l);
    http_client_global_cleanup();
    return status;
}

int main(int argc, char **argv) {
    ssecat_options o;
    int status = options_parse(&o, argc, argv);
    if (status >= 0) {
        options_free(&o);
        return status;
    }
    log_init("ssecat", o.silent ? LOG_QUIET : o.verbose ? LOG_VERBOSE : LOG_NORMAL);
    if (signals_install() < 0) {
        log_error("sigaction: %s", strerror(errno));
        options_free(&o);
        return EXIT_RUNTIME;
    }

    sink s;
    sink_init(&s, &o);
    sse_parser_handlers handlers = sink_handlers(&s);
    sse_parser p;
    sse_parser_init(&p, (size_t)o.max_event_size, &handlers);
    limits l;
    limits_init(&l, o.idle_timeout_ms, o.max_time_ms);

    if (o.last_event_id && sse_parser_set_last_id(&p, o.last_event_id, strlen(o.last_event_id)) < 0) {
        log_error("out of memory");
        status = EXIT_RUNTIME;
    } else if (o.input_path) {
        status = input_run(o.input_path, &p, &s, &l);
    } else {
        status = subscribe(&o, &p, &s, &l);
    }

    sse_parser_free(&p);
    sink_free(&s);
    options_free(&o);
    return status;
}
