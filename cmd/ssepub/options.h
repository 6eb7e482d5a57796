/* ssepub's configuration, parsed and validated once at start. */
#ifndef SSEPUB_OPTIONS_H
#define SSEPUB_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "http_client.h"

/* Exit statuses, documented in ssepub(1). */
enum {
    EXIT_DELIVERED = 0,
    EXIT_LOCAL = 1,       /* reading stdin failed, an incomplete event at its end */
    EXIT_USAGE = 2,
    EXIT_REFUSED = 3,     /* the server refused events: auth, too large, malformed */
    EXIT_UNREACHABLE = 4, /* the server could not be reached within --retry-for */
};

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

/* 0 to run, 1 after --help or --version, 2 on a usage error (reported). */
int options_parse(ssepub_options *o, int argc, char **argv);
void options_free(ssepub_options *o);

#endif
