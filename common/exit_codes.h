/* The exit statuses of all three tools, in one place. 0, 1 and 2 mean the
 * same everywhere; 3 and up belong to one tool each and are documented in
 * its man page (EXIT STATUS) and its --help. The names are not EXIT_SUCCESS
 * and EXIT_FAILURE because <stdlib.h> defines those as macros. */
#ifndef SSETOOLS_EXIT_CODES_H
#define SSETOOLS_EXIT_CODES_H

enum ssetools_exit {
    EXIT_OK = 0,      /* done; also after --help and --version */
    EXIT_RUNTIME = 1, /* a runtime failure: a file, memory, stdin, cannot listen */
    EXIT_USAGE = 2,   /* an unknown option, a bad value, options that do not go together */

    /* ssecat(1) */
    EXIT_HTTP = 3,       /* a status other than 200, or the wrong content type */
    EXIT_CONNECTION = 4, /* the network failed and reconnecting did not help */
    EXIT_TIMEOUT = 5,    /* --idle-timeout or --max-time */

    /* ssepub(1) */
    EXIT_REFUSED = 3,     /* the server refused events: auth, too large, malformed */
    EXIT_UNREACHABLE = 4, /* the server could not be reached within --retry-for */
};

#endif
