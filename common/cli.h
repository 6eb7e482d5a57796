/* Command-line options, declared once per tool in a table and parsed by one
 * parser (after curl's tool_getparam.c). Each row names an option, its kind
 * and its bounds, where its value goes, and its line in --help; the parser
 * builds getopt_long's arrays from the table, checks every value by its kind
 * and words every complaint the same way for every tool:
 *
 *   ssecat: -m/--max-time: invalid duration '5x' (expected e.g. 250ms, 15s, 2m, 1h)
 *   ssed: --max-header-size: invalid size '100' (expected from 256 bytes to 1MiB)
 *   ssepub: -e/--event: an event type cannot contain a line break
 *
 * An option is named "-m/--max-time" when it has a short form, else
 * "--json", whichever the user typed. What no kind covers (checks across
 * options, operands, environment variables) stays in the tool's options.c,
 * after the table is parsed, and reports through cli_usage_error.
 *
 * Values are stored at an offset (offsetof) into a struct of the tool's; the
 * parser keeps no state of its own between calls. Strings are not copied:
 * they point into argv. */
#ifndef SSETOOLS_CLI_H
#define SSETOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cli_kind {
    CLI_HEADING,  /* not an option: a section title in --help ("" for a blank line) */
    CLI_FLAG,     /* no value; the int at .at becomes 1 */
    CLI_SET,      /* no value; the int at .at becomes .value (-q, -v, --no-stdin) */
    CLI_STRING,   /* const char *; at least .min bytes, none of .reject, then .check if set */
    CLI_LIST,     /* repeatable CLI_STRING: const char * array at .at, size_t count at .count_at;
                   * .max > 0: a fixed array of .max; .max == 0: a malloc'ed array the
                   * parser grows and the caller frees */
    CLI_COUNT,    /* uint64_t whole number in [.min, .max] (.max 0: no limit) */
    CLI_SIZE,     /* uint64_t bytes ("512", "64K", "1MiB") in [.min, .max] (.max 0: no limit) */
    CLI_DURATION, /* uint64_t milliseconds ("250ms", "15s", "2m") in [.min, .max] (.max 0: no limit) */
    CLI_CHOICE,   /* int: the .value of the entry of .choices named by the argument */
    CLI_URL,      /* const char *: an http:// or https:// URL */
    CLI_CALL,     /* .take(base + .at, value): what no kind covers (-H, -d @FILE, --fifo-mode) */
    CLI_HELP,     /* print --help, made from the table, and stop */
    CLI_VERSION,  /* print the version and stop */
};

typedef struct cli_choice {
    const char *name;
    int value;
} cli_choice;

/* A further check of a CLI_STRING value: 0, or -1 with a message in err. */
typedef int (*cli_check_fn)(const char *value, char *err, size_t errlen);

/* CLI_CALL: store `value` at `field` (the tool's struct + .at; .at 0 gives
 * the whole struct). 0, or -1 with a message in err. */
typedef int (*cli_take_fn)(void *field, const char *value, char *err, size_t errlen);

typedef struct cli_option {
    const char *name;   /* long name without "--"; NULL for a heading */
    int short_name;     /* 'm', or 0 for a long-only option */
    enum cli_kind kind;
    size_t at;          /* offsetof the destination in the tool's struct */
    const char *arg;    /* the value's name in --help ("DUR"); NULL for kinds without a value */
    const char *help;   /* the description in --help ('\n' goes on at the column); a heading's title */
    uint64_t min, max;  /* bounds (COUNT, SIZE, DURATION); STRING, LIST: .min is the least length;
                         * LIST: .max is how many times the option may be given (0: no limit) */
    int value;          /* CLI_SET */
    const char *what;   /* the value in messages: "format" (CHOICE), "an event type" (STRING, LIST) */
    const char *reject; /* STRING, LIST: bytes the value may not contain */
    const cli_choice *choices; /* CLI_CHOICE: ended by an entry with a NULL name */
    size_t count_at;    /* CLI_LIST: offsetof the size_t count */
    cli_check_fn check; /* CLI_STRING, CLI_LIST: optional */
    cli_take_fn take;   /* CLI_CALL */
} cli_option;

/* A heading row: CLI_SECTION("Request:"), or CLI_SECTION("") for a blank line. */
#define CLI_SECTION(title) {.kind = CLI_HEADING, .help = (title)}

/* An option another tool has that this one does not, and what to use
 * instead: users bring their curl, mosquitto_sub and websocketd habits.
 * An unknown option found here is reported as
 *
 *   ssecat: -C: unknown option (did you mean -n/--count?)
 *
 * or, with .note instead of .instead, "(NOTE)". */
typedef struct cli_hint {
    const char *typed;   /* as the user types it: "-C", "--port" */
    const char *instead; /* this tool's option: "-n/--count"; NULL when .note says it all */
    const char *note;    /* said when .instead is NULL: "ssecat follows redirects already" */
} cli_hint;

/* The most rows a table may have (headings included). */
#define CLI_MAX_OPTIONS 96

typedef struct cli_spec {
    const char *program;        /* starts every message: "ssecat" */
    const cli_option *options;
    size_t count;
    const char *usage;          /* --help before the options: "Usage: ..." and what the tool does */
    const char *footer;         /* --help after the options, after a blank line */
    int help_column;            /* where descriptions start in --help */
    void (*print_version)(FILE *out); /* NULL: "PROGRAM VERSION" */
    const cli_hint *hints;      /* ended by an entry with a NULL .typed; may be NULL */
} cli_spec;

enum cli_status {
    CLI_OK,            /* options taken; operands from *next_arg */
    CLI_ERROR,         /* message in err (without the program's name) */
    CLI_HELP_ASKED,    /* -h/--help */
    CLI_VERSION_ASKED, /* -V/--version */
};

/* Parse argv against spec's table, storing values into base. Stops at the
 * first problem, or at --help or --version. GNU style: "--name=value",
 * "--name value", "-xVALUE", "-x VALUE", bundled flags, operands anywhere
 * (argv is reordered so they come last), "--" ends the options. Prints
 * nothing. */
enum cli_status cli_parse(const cli_spec *spec, void *base, int argc, char **argv, int *next_arg, char *err,
                          size_t errlen);

/* Set one option by its long name, as a configuration file names it
 * ("listen" and "127.0.0.1:8080"; value NULL for one that takes none),
 * checked by its kind as on the command line. Returns its row, or NULL with
 * a message in err naming it as given ("history: invalid count 'x' ...",
 * "unknown option 'lisen'"). --help and --version cannot be set. */
const cli_option *cli_set_option(const cli_spec *spec, void *base, const char *name, const char *value, char *err,
                                 size_t errlen);

/* What a tool's options_parse returns to main. The numbers are those ssed's
 * main has always taken (0 run, 1 --help or --version, 2 usage error). */
typedef enum cli_outcome {
    CLI_RUN = 0,   /* go on */
    CLI_DONE = 1,  /* --help or --version was printed */
    CLI_USAGE = 2, /* a usage error was reported */
} cli_outcome;

/* cli_parse, then print --help or the version to stdout, or the error to
 * stderr in the form of cli_usage_error. */
cli_outcome cli_parse_and_report(const cli_spec *spec, void *base, int argc, char **argv, int *next_arg);

/* Report a usage error on stderr: "PROGRAM: message" and where to look
 * for help. Returns CLI_USAGE. */
cli_outcome cli_usage_error(const char *program, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit status for what options_parse returned: EXIT_OK after --help or
 * --version (and for CLI_RUN), EXIT_USAGE after a usage error. */
int cli_exit_status(cli_outcome outcome);

/* --help: spec's usage, the table (one line per option, headings), footer. */
void cli_print_help(const cli_spec *spec, FILE *out);

/* Whether text is an http:// or https:// URL (the scheme in any case). */
int cli_url_valid(const char *text);

#endif
