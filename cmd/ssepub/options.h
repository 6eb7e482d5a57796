/* ssepub's configuration, parsed and validated once at start. */
#ifndef SSEPUB_OPTIONS_H
#define SSEPUB_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "exit_codes.h"
#include "http_client.h"

enum input_mode { INPUT_ARGS, INPUT_LINES, INPUT_WHOLE, INPUT_SSE };

typedef struct ssepub_options {
    http_client_config http;
    const char *url; /* the base URL, before --channel */
    char *target;    /* the URL posted to (owned) */
    const char *channel;
    enum input_mode mode;
    int null_separated;
    const char *event_type;
    const char *id;
    char *message; /* arguments joined with spaces (owned) */
    uint64_t retry_for_ms;
    uint64_t max_event_size;
    int verbosity;
} ssepub_options;

/* Parse argv and the environment into o. CLI_RUN to go on; CLI_DONE after
 * --help or --version; CLI_USAGE after a usage error (reported). Call
 * options_free whatever it returns. */
cli_outcome options_parse(ssepub_options *o, int argc, char **argv);
void options_free(ssepub_options *o);

#endif
