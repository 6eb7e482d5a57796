#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "version.h"

#define DEFAULT_RETRY_DELAY_MS 3000
#define DEFAULT_MAX_DELAY_MS 60000
#define BEARER_ENV "SSECAT_BEARER"
/* Browsers deliver a 10 MiB data line; ssecat keeps only one event at a
 * time, so it can afford to take what they take. */
#define DEFAULT_MAX_EVENT_SIZE ((uint64_t)64 << 20)

/* What the command line says, beyond the configuration itself: the
 * parser stores into this, and resolve() turns it into ssecat_options. */
typedef struct ssecat_args {
    ssecat_options o;
    int reconnect;       /* -1; 0 after --no-reconnect, 1 after --reconnect */
    int format;          /* -1, or the enum output_format of -o */
    int no_color;        /* --no-color */
    int body_from_stdin; /* a -d or --json read stdin (@-) */
    int no_buffer;       /* -N: curl's habit; ssecat writes each event at once anyway */
    int show_error;      /* -S: curl's habit; ssecat shows errors even with -s anyway */
    int no_curlrc;       /* -q: curl's habit; ssecat reads no configuration file */
} ssecat_args;

/* A body argument: DATA as given, or @FILE's bytes (@- for stdin).
 * 0, or -1 with a message in err. */
static int read_body(ssecat_args *a, const char *arg, char *err, size_t errlen) {
    ssecat_options *o = &a->o;
    free(o->body);
    o->body = NULL;
    o->body_len = 0;
    o->has_body = 1;
    if (arg[0] != '@') {
        o->body = strdup(arg);
        if (!o->body) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        o->body_len = strlen(arg);
        return 0;
    }
    const char *path = arg + 1;
    a->body_from_stdin |= strcmp(path, "-") == 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    buf body = BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&body, chunk, n) < 0)
            break;
    int failed = ferror(f) || n > 0;
    if (f != stdin)
        fclose(f);
    if (failed || buf_append_char(&body, '\0') < 0) {
        buf_free(&body);
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    o->body = body.data;
    o->body_len = body.len - 1;
    return 0;
}

static int take_data(void *args, const char *value, char *err, size_t errlen) {
    ((ssecat_args *)args)->o.json_body = 0;
    return read_body(args, value, err, errlen);
}

static int take_json(void *args, const char *value, char *err, size_t errlen) {
    ((ssecat_args *)args)->o.json_body = 1;
    return read_body(args, value, err, errlen);
}

static int take_header(void *http, const char *value, char *err, size_t errlen) {
    return http_client_add_header(http, value, err, errlen);
}

static int check_userpwd(const char *value, char *err, size_t errlen) {
    if (strchr(value, ':'))
        return 0;
    snprintf(err, errlen, "expected USER:PASS, got '%s'", value);
    return -1;
}

static void print_version(FILE *out) { fprintf(out, "ssecat %s (ssetools) %s\n", SSETOOLS_VERSION, curl_version()); }

static const cli_choice output_formats[] = {
    {"data", OUTPUT_DATA}, {"json", OUTPUT_JSON}, {"sse", OUTPUT_SSE}, {"pretty", OUTPUT_PRETTY},
    {"record", OUTPUT_RECORD}, {NULL, 0},
};

#define OPT(long_name, short_name_, kind_, field)                                                                      \
    .name = (long_name), .short_name = (short_name_), .kind = (kind_), .at = offsetof(ssecat_args, field)

/* Every option, in --help's order. */
static const cli_option option_table[] = {
    CLI_SECTION("Request:"),
    {OPT("header", 'H', CLI_CALL, o.http), .take = take_header, .arg = "'NAME: VALUE'",
     .help = "add a request header (repeatable)"},
    {OPT("request", 'X', CLI_STRING, o.method), .min = 1, .reject = " \t\r\n", .what = "a method",
     .arg = "METHOD", .help = "request method (default GET, or POST with a body)"},
    /* -d and --json take the whole ssecat_args (o is at its start). */
    {OPT("data", 'd', CLI_CALL, o), .take = take_data, .arg = "DATA|@FILE",
     .help = "send DATA (or FILE's contents, @- for stdin) as the body"},
    {OPT("json", 0, CLI_CALL, o), .take = take_json, .arg = "DATA|@FILE",
     .help = "send a JSON body with Content-Type: application/json"},
    {OPT("user", 'u', CLI_STRING, o.http.userpwd), .check = check_userpwd, .arg = "USER:PASS",
     .help = "basic authentication"},
    {OPT("bearer", 0, CLI_STRING, o.http.bearer), .reject = "\r\n", .what = "a token", .arg = "TOKEN",
     .help = "Authorization: Bearer TOKEN (default: $" BEARER_ENV ")"},
    {OPT("token-file", 0, CLI_CALL, o.http), .take = http_client_take_token_file, .arg = "FILE",
     .help = "the bearer token from the first line of FILE (kept out of ps)"},
    {OPT("insecure", 'k', CLI_FLAG, o.http.insecure), .help = "do not verify the TLS certificate"},
    {OPT("cacert", 0, CLI_STRING, o.http.cacert), .check = http_client_check_file, .arg = "FILE",
     .help = "CA certificates to verify the server with"},
    {OPT("proxy", 0, CLI_STRING, o.http.proxy), .arg = "URL", .help = "use this HTTP proxy"},
    {OPT("unix-socket", 0, CLI_STRING, o.http.unix_socket), .arg = "PATH",
     .help = "connect through a Unix socket"},
    {OPT("connect-timeout", 0, CLI_DURATION, o.http.connect_timeout_ms), .arg = "DUR",
     .help = "limit on connecting (e.g. 5s)"},
    {OPT("compressed", 0, CLI_FLAG, o.http.compressed), .help = "ask for a compressed response (one sent\nunasked is decoded anyway)"},
    {OPT("user-agent", 'A', CLI_STRING, o.http.user_agent), .arg = "STRING",
     .help = "User-Agent (default ssecat/" SSETOOLS_VERSION ")"},
    {OPT("last-event-id", 0, CLI_STRING, o.last_event_id), .reject = "\r\n", .what = "an id", .arg = "ID",
     .help = "Last-Event-ID of the first request"},
    {OPT("ignore-content-type", 0, CLI_FLAG, o.ignore_content_type),
     .help = "accept a 200 response of any content type"},
    {OPT("location-trusted", 0, CLI_FLAG, o.location_trusted),
     .help = "send -H headers and credentials on redirects\nto other hosts too"},

    CLI_SECTION("Reconnecting (on by default for GET):"),
    {OPT("retry-delay", 0, CLI_DURATION, o.retry_delay_ms), .arg = "DUR",
     .help = "reconnection time until the server sends retry: (3s)"},
    {OPT("max-delay", 0, CLI_DURATION, o.max_delay_ms), .arg = "DUR",
     .help = "cap of the backoff on repeated failures (60s)"},
    /* Into an int64_t: the count fits, and C lets a uint64_t store reach it. */
    {OPT("max-retries", 0, CLI_COUNT, o.max_retries), .max = 1000000000, .arg = "N",
     .help = "give up after N attempts in a row that fail (no limit)"},
    {OPT("retry-connrefused", 0, CLI_FLAG, o.retry_connrefused),
     .help = "retry a refused first connection too, until the\nserver is up (else exit 4 at once)"},
    {OPT("no-reconnect", 0, CLI_SET, reconnect), .value = 0, .help = "exit when the stream ends"},
    {OPT("reconnect", 0, CLI_SET, reconnect), .value = 1, .help = "reconnect after a non-GET stream ends too"},

    CLI_SECTION("Output:"),
    {OPT("output", 'o', CLI_CHOICE, format), .choices = output_formats, .what = "format", .arg = "FORMAT",
     .help = "data, json, sse, pretty or record (default: pretty\non a terminal, data otherwise)"},
    {OPT("format-string", 'F', CLI_STRING, o.output.template), .check = output_check_template,
     .arg = "TEMPLATE",
     .help = "print TEMPLATE per event: %t type, %d data, %i id,\n"
             "%I ISO 8601 time, %U Unix time, %j JSON, %%, \\n, \\t"},
    {OPT("comments", 0, CLI_FLAG, o.output.comments),
     .help = "show comments (keep-alives) and retry values\n(and record comments)"},
    {OPT("record", 0, CLI_STRING, o.record_path), .min = 1, .what = "a file", .arg = "FILE",
     .help = "also write a recording of the stream to FILE\n(mode 0600; -o record writes it to stdout)"},
    {OPT("timestamps", 0, CLI_FLAG, o.output.timestamps), .help = "add the receive time"},
    {OPT("no-color", 0, CLI_FLAG, no_color), .help = "no colour in the pretty format (also NO_COLOR)"},
    {OPT("pretty-json", 0, CLI_FLAG, o.output.pretty_json), .help = "indent JSON data in the pretty format"},
    {OPT("no-buffer", 'N', CLI_FLAG, no_buffer), .help = "accepted as in curl; output is never buffered"},
    {OPT("max-event-size", 0, CLI_SIZE, o.max_event_size), .min = 1, .arg = "SIZE",
     .help = "drop larger events (default 64MiB)"},
    {OPT("input", 0, CLI_STRING, o.input_path), .arg = "FILE", .help = "parse a captured stream from FILE"},

    CLI_SECTION("Selecting and stopping:"),
    {OPT("event", 'e', CLI_LIST, o.event_types), .count_at = offsetof(ssecat_args, o.event_type_count),
     .arg = "TYPE", .help = "only events of TYPE (repeatable)"},
    {OPT("count", 'n', CLI_COUNT, o.count), .min = 1, .arg = "N", .help = "exit after N events"},
    {OPT("until", 0, CLI_STRING, o.until), .arg = "DATA",
     .help = "exit at an event whose data is DATA, a terminator\n(such as [DONE]): it is not printed"},
    {OPT("until-inclusive", 0, CLI_FLAG, o.until_inclusive), .help = "print the --until event too"},
    {OPT("idle-timeout", 0, CLI_DURATION, o.idle_timeout_ms), .min = 1, .arg = "DUR",
     .help = "exit if nothing arrives for DUR"},
    {OPT("max-time", 'm', CLI_DURATION, o.max_time_ms), .min = 1, .arg = "DUR", .help = "exit after DUR in all"},

    CLI_SECTION(""),
    {OPT("silent", 's', CLI_FLAG, o.silent), .help = "no reconnection reports or warnings"},
    {OPT("show-error", 'S', CLI_FLAG, show_error), .help = "accepted as in curl; errors show even with -s"},
    {OPT("disable", 'q', CLI_FLAG, no_curlrc), .help = "accepted as in curl (no .curlrc); ssecat reads\nno configuration file"},
    {OPT("verbose", 'v', CLI_FLAG, o.verbose), .help = "show request and response headers"},
    {OPT("help", 'h', CLI_HELP, o), .help = "this help"},
    {OPT("version", 'V', CLI_VERSION, o), .help = "the version"},
};

/* What curl and mosquitto_sub users type, and ssecat's word for it. */
static const cli_hint option_hints[] = {
    {"-C", "-n/--count", NULL},            /* mosquitto_sub: message count */
    {"-W", "-m/--max-time", NULL},         /* mosquitto_sub: timeout in seconds */
    {"-w", "-F/--format-string", NULL},    /* curl: --write-out */
    {"--write-out", "-F/--format-string", NULL},
    {"-i", "-v/--verbose", NULL},          /* curl: --include */
    {"--include", "-v/--verbose", NULL},
    {"--retry", "--max-retries", NULL},
    {"-L", NULL, "ssecat follows redirects already"},
    {"--location", NULL, "ssecat follows redirects already"},
    {"-f", NULL, "ssecat fails on an HTTP error status already, with exit status 3"},
    {"--fail", NULL, "ssecat fails on an HTTP error status already, with exit status 3"},
    {"-t", NULL, "the stream is chosen by its URL: ssecat URL"}, /* mosquitto_sub: topic */
    {"--ssl", NULL, "TLS comes with an https:// URL"},          /* curl */
    {NULL, NULL, NULL},
};

static const cli_spec cli = {
    .program = "ssecat",
    .options = option_table,
    .count = sizeof option_table / sizeof option_table[0],
    .usage = "Usage: ssecat [OPTIONS] URL\n"
             "       ssecat [OPTIONS] -            (or --input FILE)\n"
             "Subscribe to a Server-Sent Events stream and print each event as a browser's\n"
             "EventSource would see it. '-' parses a captured stream from stdin.\n",
    .footer = "Durations take units: 250ms, 15s, 2m, 1h. Exit status: 0 done (stream ended,\n"
              "-n or --until reached, interrupted), 1 runtime error, 2 usage error, 3 HTTP\n"
              "status, content type or redirect refused, 4 connection failure (at once on\n"
              "a first connection's certificate, DNS or refused error), 5 timeout.\n"
              "See ssecat(1).\n",
    .help_column = 32,
    .print_version = print_version,
    .hints = option_hints,
};

static void set_defaults(ssecat_args *a) {
    memset(a, 0, sizeof *a);
    a->o.http = (http_client_config)HTTP_CLIENT_CONFIG_INIT("ssecat");
    a->o.retry_delay_ms = DEFAULT_RETRY_DELAY_MS;
    a->o.max_delay_ms = DEFAULT_MAX_DELAY_MS;
    a->o.max_retries = -1;
    a->o.max_event_size = DEFAULT_MAX_EVENT_SIZE;
    a->reconnect = -1;
    a->format = -1;
}

static int starts_with_nocase(const char *s, const char *prefix) { return strncasecmp(s, prefix, strlen(prefix)) == 0; }

/* The operands: one URL, or "-" for stdin, or none with --input. */
static cli_outcome take_operands(ssecat_args *a, int count, char **args) {
    ssecat_options *o = &a->o;
    if (o->input_path) {
        if (count > 0)
            return cli_usage_error(cli.program, "--input reads a file; do not give a URL ('%s') too", args[0]);
    } else if (count != 1) {
        if (count == 0)
            return cli_usage_error(cli.program, "no URL given");
        return cli_usage_error(cli.program, "one URL expected, got %d arguments", count);
    } else if (strcmp(args[0], "-") == 0) {
        o->input_path = "-";
    } else if (starts_with_nocase(args[0], "http://") || starts_with_nocase(args[0], "https://")) {
        const char *why = http_client_url_problem(args[0]);
        if (why)
            return cli_usage_error(cli.program, "invalid URL '%s': %s", args[0], why);
        o->url = args[0];
    } else {
        return cli_usage_error(cli.program, "unsupported URL '%s' (expected http:// or https://, or - for stdin)",
                               args[0]);
    }
    if (a->body_from_stdin && o->input_path && strcmp(o->input_path, "-") == 0)
        return cli_usage_error(cli.program, "the body and the event stream cannot both come from stdin");
    return CLI_RUN;
}

/* Settings that depend on several options, on the environment or on the
 * terminal, decided once all options are read. */
static cli_outcome resolve(ssecat_args *a) {
    ssecat_options *o = &a->o;
    if (o->output.template && a->format >= 0)
        return cli_usage_error(cli.program, "-o/--output and -F/--format-string cannot be used together");
    if (o->output.template)
        o->output.format = OUTPUT_TEMPLATE;
    else
        o->output.format = a->format >= 0 ? (enum output_format)a->format
                           : isatty(STDOUT_FILENO) ? OUTPUT_PRETTY
                                                   : OUTPUT_DATA;
    o->output.terminal = isatty(STDOUT_FILENO);
    if (o->record_path && strcmp(o->record_path, "-") == 0)
        return cli_usage_error(cli.program, "--record -: the events are printed on standard output; "
                                            "-o record writes the recording there instead");
    if (o->record_path && o->output.format == OUTPUT_RECORD)
        return cli_usage_error(cli.program, "--record and -o record cannot be used together");
    if (o->input_path && (o->record_path || o->output.format == OUTPUT_RECORD))
        return cli_usage_error(cli.program, "%s records a URL's stream, not a captured one",
                               o->record_path ? "--record" : "-o record");
    const char *no_color_env = getenv("NO_COLOR");
    o->output.color = o->output.format == OUTPUT_PRETTY && !a->no_color && isatty(STDOUT_FILENO) &&
                      !(no_color_env && no_color_env[0]);
    if (http_client_token_twice(&o->http))
        return cli_usage_error(cli.program, "--token-file: give either --bearer or --token-file, not both");
    if (!o->http.bearer) {
        const char *env = getenv(BEARER_ENV);
        if (env && strpbrk(env, "\r\n"))
            return cli_usage_error(cli.program, "%s: a token cannot contain a line break", BEARER_ENV);
        if (env && env[0])
            o->http.bearer = env;
    }
    if (o->until_inclusive && !o->until)
        return cli_usage_error(cli.program, "--until-inclusive: needs --until");
    o->http.verbose = o->verbose;
    int is_get = o->method ? strcmp(o->method, "GET") == 0 : !o->has_body;
    /* A POST stream ending is usually the answer being complete. */
    o->reconnect = a->reconnect >= 0 ? a->reconnect : is_get;
    return CLI_RUN;
}

cli_outcome options_parse(ssecat_options *o, int argc, char **argv) {
    ssecat_args a;
    set_defaults(&a);
    int next;
    cli_outcome rc = cli_parse_and_report(&cli, &a, argc, argv, &next);
    if (rc == CLI_RUN)
        rc = take_operands(&a, argc - next, argv + next);
    if (rc == CLI_RUN)
        rc = resolve(&a);
    *o = a.o;
    return rc;
}

void options_free(ssecat_options *o) {
    http_client_config_free(&o->http);
    free(o->body);
    free(o->event_types);
    o->body = NULL;
    o->event_types = NULL;
}
