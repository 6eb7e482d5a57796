/* ssecat's configuration: every option, parsed and validated once at start. */
#ifndef SSECAT_OPTIONS_H
#define SSECAT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "http_client.h"
#include "output.h"

/* Exit statuses, documented in ssecat(1) and --help. */
enum ssecat_exit {
    EXIT_OK = 0,           /* stream ended, -n or --until reached, Ctrl-C */
    EXIT_RUNTIME = 1,      /* any other failure: a file, memory, writing the output */
    EXIT_USAGE = 2,        /* bad options */
    EXIT_HTTP = 3,         /* a status other than 200, or the wrong content type */
    EXIT_CONNECTION = 4,   /* the network failed and reconnecting did not help */
    EXIT_TIMEOUT = 5,      /* --idle-timeout or --max-time */
};

typedef struct ssecat_options {
    const char *url;        /* NULL when reading a captured stream */
    const char *input_path; /* "-" for stdin; NULL when reading a URL */

    http_client_config http;
    const char *method;  /* -X; NULL: GET, or POST with a body */
    char *body;          /* -d, --data, --json (owned) */
    size_t body_len;
    int has_body;
    int json_body; /* --json: send Content-Type: application/json */
    const char *last_event_id;
    int ignore_content_type;

    uint64_t retry_delay_ms; /* reconnection time until the server sends retry: */
    uint64_t max_delay_ms;   /* cap of the backoff */
    int reconnect;           /* resolved: 1 for GET unless --no-reconnect, else only with --reconnect */
    int64_t max_retries;     /* reconnection attempts in a row without a stream; -1: no limit */
    uint64_t max_event_size;

    output_config output;
    const char **event_types; /* -e; NULL: every type */
    size_t event_type_count;
    uint64_t count; /* -n; 0: no limit */
    const char *until;
    uint64_t idle_timeout_ms; /* 0: none */
    uint64_t max_time_ms;     /* 0: none */
    int silent;
    int verbose;
} ssecat_options;

/* Parse argv. Returns -1 when the program should go on, else the exit
 * status to end with (0 after --help or --version, 2 after a usage error,
 * whose message has been printed). */
int options_parse(ssecat_options *o, int argc, char **argv);
void options_free(ssecat_options *o);

#endif
