/* ssecat: subscribe to a Server-Sent Events stream (or read a captured one)
 * and print each event as a browser's EventSource would see it. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "http_client.h"
#include "input.h"
#include "limits.h"
#include "log.h"
#include "options.h"
#include "record.h"
#include "reconnect.h"
#include "signals.h"
#include "sink.h"
#include "sse_parser.h"

/* The recording's "end=": why the run ended, from its exit status. */
static const char *end_reason(int status, const sink *s) {
    switch (status) {
    case EXIT_OK:
        return signals_stop_requested() ? "interrupted" : s->done ? "done" : "stream ended";
    case EXIT_HTTP:
        return "refused";
    case EXIT_CONNECTION:
        return "connection failed";
    case EXIT_TIMEOUT:
        return "timeout";
    default:
        return "failed";
    }
}

static int subscribe(const ssecat_options *o, sse_parser *p, sink *s, limits *l) {
    char err[256];
    if (http_client_global_init(err, sizeof err) < 0) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    int status = reconnect_run(o, p, s, l);
    http_client_global_cleanup();
    if (s->rec)
        recorder_end(s->rec, end_reason(status, s));
    return status;
}

/* --record FILE or -o record: open the recording, and have the parser
 * report where blocks end. 0, or -1 when it cannot be written (reported). */
static int start_recording(const ssecat_options *o, recorder *r, sink *s, sse_parser *p) {
    if (!o->record_path && o->output.format != OUTPUT_RECORD)
        return 0;
    s->rec = r;
    sse_parser_record_blocks(p, sink_on_blank_line);
    return recorder_open(r, o->record_path, o->url, o->output.comments);
}

/* Parse options, then read the captured stream or subscribe, then clean
 * up: every way out goes through cleanup, and everything it frees is
 * either set up or zeroed by then. */
int main(int argc, char **argv) {
    ssecat_options o;
    sink s = {0};
    sse_parser p = {0};
    recorder rec = {.fd = -1};
    int status = EXIT_RUNTIME;
    cli_outcome parsed = options_parse(&o, argc, argv);
    if (parsed != CLI_RUN) {
        status = cli_exit_status(parsed);
        goto cleanup;
    }
    log_init("ssecat", o.silent ? LOG_QUIET : o.verbose ? LOG_VERBOSE : LOG_NORMAL);
    /* Events have nowhere to go; and a socket opened now could take fd 1
     * and receive them. */
    if (fcntl(STDOUT_FILENO, F_GETFL) < 0 && errno == EBADF) {
        log_error("standard output is closed: %s", strerror(errno));
        goto cleanup;
    }
    if (signals_install() < 0) {
        log_error("sigaction: %s", strerror(errno));
        goto cleanup;
    }

    sink_init(&s, &o);
    sse_parser_handlers handlers = sink_handlers(&s);
    sse_parser_init(&p, (size_t)o.max_event_size, &handlers);
    if (start_recording(&o, &rec, &s, &p) < 0)
        goto cleanup;
    limits l;
    limits_init(&l, o.idle_timeout_ms, o.max_time_ms);
    if (o.last_event_id && sse_parser_set_last_id(&p, o.last_event_id, strlen(o.last_event_id)) < 0) {
        log_error("out of memory");
        goto cleanup;
    }
    status = o.input_path ? input_run(o.input_path, &p, &s, &l) : subscribe(&o, &p, &s, &l);

cleanup:
    sse_parser_free(&p);
    recorder_close(&rec);
    sink_free(&s);
    options_free(&o);
    return status;
}
