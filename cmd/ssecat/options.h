/* ssecat's configuration: every option, parsed and validated once at start. */
#ifndef SSECAT_OPTIONS_H
#define SSECAT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "exit_codes.h"
#include "http_client.h"
#include "output.h"

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
    int location_trusted; /* -H, -u and the bearer token follow a redirect to another host */

    uint64_t retry_delay_ms; /* reconnection time until the server sends retry: */
    uint64_t max_delay_ms;   /* cap of the backoff */
    int reconnect;           /* resolved: 1 for GET unless --no-reconnect, else only with --reconnect */
    int retry_connrefused;   /* retry a refused connection before any stream has opened, too */
    int64_t max_retries;     /* reconnection attempts in a row without a stream; -1: no limit */
    uint64_t max_event_size;

    output_config output;
    const char *record_path; /* --record FILE; NULL: none (-o record writes stdout) */
    const char **event_types; /* -e; NULL: every type */
    size_t event_type_count;
    uint64_t count; /* -n; 0: no limit */
    const char *until;   /* --until: the data of the event that ends the stream */
    int until_inclusive; /* --until-inclusive: print that event too */
    uint64_t idle_timeout_ms; /* 0: none */
    uint64_t max_time_ms;     /* 0: none */
    int silent;
    int verbose;
} ssecat_options;

/* Parse argv and the environment into o. CLI_RUN to go on; CLI_DONE after
 * --help or --version; CLI_USAGE after a usage error (reported). Call
 * options_free whatever it returns. */
cli_outcome options_parse(ssecat_options *o, int argc, char **argv);
void options_free(ssecat_options *o);

#endif
