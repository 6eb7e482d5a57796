#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sse_parser.h"
#include "version.h"

#define DEFAULT_URL "http://127.0.0.1:8080/"
#define DEFAULT_RETRY_FOR_MS 30000

/* What the command line says, beyond the configuration itself: the
 * parser stores into this, and resolve() turns it into ssepub_options. */
typedef struct ssepub_args {
    ssepub_options o;
    int whole; /* -s/--stdin-whole */
    int sse;   /* --format sse */
} ssepub_args;

static int take_header(void *http, const char *value, char *err, size_t errlen) {
    return http_client_add_header(http, value, err, errlen);
}

/* -u is USER:PASS, as in curl and mosquitto_pub. It was ssepub's URL
 * before: a value that is a URL still sets it, with a warning, for one
 * release. */
static int take_user(void *base, const char *value, char *err, size_t errlen) {
    ssepub_args *a = base;
    if (strstr(value, "://")) {
        if (!cli_url_valid(value)) {
            snprintf(err, errlen, "unsupported URL '%s' (expected http:// or https://)", value);
            return -1;
        }
        fprintf(stderr, "ssepub: warning: -u URL is deprecated and will stop working; use --url URL "
                        "(-u is --user USER:PASS, as in curl)\n");
        a->o.url = value;
        return 0;
    }
    if (!strchr(value, ':')) {
        snprintf(err, errlen, "expected USER:PASS, got '%s'", value);
        return -1;
    }
    a->o.http.userpwd = value;
    return 0;
}

static const cli_choice input_formats[] = {{"lines", 0}, {"sse", 1}, {NULL, 0}};

#define OPT(long_name, short_name_, kind_, field)                                                                      \
    .name = (long_name), .short_name = (short_name_), .kind = (kind_), .at = offsetof(ssepub_args, field)

/* Every option, in --help's order. */
static const cli_option option_table[] = {
    CLI_SECTION("Target:"),
    {OPT("url", 0, CLI_URL, o.url), .arg = "URL",
     .help = "ssed's URL (default: $SSED_URL, else " DEFAULT_URL ")"},
    {OPT("channel", 'c', CLI_STRING, o.channel), .arg = "NAME",
     .help = "publish to channel NAME (replaces the URL's path)"},
    {OPT("unix-socket", 0, CLI_STRING, o.http.unix_socket), .arg = "PATH",
     .help = "connect through a Unix socket"},
    {OPT("user", 'u', CLI_CALL, o), .take = take_user, .arg = "USER:PASS", .help = "basic authentication"},
    {OPT("token", 0, CLI_STRING, o.http.bearer), .min = 1, .reject = " \t\r\n", .what = "a token", .arg = "TOKEN",
     .help = "send Authorization: Bearer TOKEN (default: $SSED_TOKEN)"},
    {OPT("token-file", 0, CLI_CALL, o.http), .take = http_client_take_token_file, .arg = "FILE",
     .help = "the token from the first line of FILE (kept out of ps)"},

    CLI_SECTION("Events:"),
    {OPT("event", 'e', CLI_STRING, o.event_type), .min = 1, .reject = "\r\n", .what = "an event type",
     .arg = "TYPE", .help = "event type of each event (default: none, i.e. message)"},
    {OPT("id", 'i', CLI_STRING, o.id), .reject = "\r\n", .what = "an id", .arg = "ID",
     .help = "id of the event (MESSAGE or --stdin-whole only)"},
    {OPT("stdin-whole", 's', CLI_FLAG, whole), .help = "all of stdin is one event"},
    {OPT("null", '0', CLI_FLAG, o.null_separated), .help = "stdin records end with NUL instead of newline"},
    {OPT("format", 0, CLI_CHOICE, sse), .choices = input_formats, .what = "format", .arg = "FORMAT",
     .help = "lines (default) or sse: stdin is an event stream"},
    {OPT("max-event-size", 0, CLI_SIZE, o.max_event_size), .min = 1, .arg = "SIZE",
     .help = "larger records are reported and not sent (default 1MiB)"},

    CLI_SECTION("Delivery:"),
    {OPT("retry-for", 0, CLI_DURATION, o.retry_for_ms), .arg = "DURATION",
     .help = "keep retrying a failed send this long (default 30s)"},
    {OPT("header", 'H', CLI_CALL, o.http), .take = take_header, .arg = "'NAME: VALUE'",
     .help = "add a request header (repeatable)"},
    {OPT("insecure", 'k', CLI_FLAG, o.http.insecure), .help = "do not verify the TLS certificate"},
    {OPT("cacert", 0, CLI_STRING, o.http.cacert), .check = http_client_check_file, .arg = "FILE",
     .help = "CA certificates to verify the server with"},
    {OPT("proxy", 0, CLI_STRING, o.http.proxy), .arg = "URL", .help = "use this HTTP proxy"},
    {OPT("connect-timeout", 0, CLI_DURATION, o.http.connect_timeout_ms), .arg = "DUR",
     .help = "limit on connecting (e.g. 5s)"},
    {OPT("user-agent", 'A', CLI_STRING, o.http.user_agent), .arg = "STRING",
     .help = "User-Agent (default ssepub/" SSETOOLS_VERSION ")"},

    CLI_SECTION(""),
    {OPT("quiet", 'q', CLI_SET, o.verbosity), .value = LOG_QUIET, .help = "errors only"},
    {OPT("verbose", 'v', CLI_SET, o.verbosity), .value = LOG_VERBOSE,
     .help = "show requests, responses and the server's answers"},
    {OPT("help", 'h', CLI_HELP, o), .help = "show this help and exit"},
    {OPT("version", 'V', CLI_VERSION, o), .help = "show the version and exit"},
};

/* What mosquitto_pub users type, and ssepub's word for it. */
static const cli_hint option_hints[] = {
    {"-t", "-c/--channel", NULL}, /* topic */
    {"-L", "--url", NULL},     /* mqtt://host:port/topic */
    {"-p", "--url", NULL},     /* port */
    {"-m", NULL, "the message is the operands: ssepub [OPTIONS] MESSAGE..."},
    {"-l", NULL, "ssepub sends each line of stdin as an event already"},
    {"-f", NULL, "send a file as one event with -s/--stdin-whole < FILE"},
    {"--ssl", NULL, "TLS comes with an https:// --url"}, /* curl */
    {NULL, NULL, NULL},
};

static const cli_spec cli = {
    .program = "ssepub",
    .options = option_table,
    .count = sizeof option_table / sizeof option_table[0],
    .usage = "Usage: ssepub [OPTIONS] [MESSAGE...]\n"
             "Publish events to a running ssed. MESSAGE words joined with spaces make one event;\n"
             "without them, each line of stdin is one event, sent as it arrives.\n",
    .footer = "Exit status: 0 all delivered, 1 local error (reading stdin, incomplete event),\n"
              "2 usage error, 3 refused by the server (auth, too large, malformed),\n"
              "4 server unreachable within --retry-for (at once for a host name that does\n"
              "not resolve or a certificate that does not verify).\n",
    .help_column = 30,
    .hints = option_hints,
};

static void set_defaults(ssepub_args *a) {
    memset(a, 0, sizeof *a);
    a->o.http = (http_client_config)HTTP_CLIENT_CONFIG_INIT("ssepub");
    a->o.retry_for_ms = DEFAULT_RETRY_FOR_MS;
    a->o.max_event_size = SSE_DEFAULT_MAX_EVENT_SIZE;
    a->o.verbosity = LOG_NORMAL;
    a->o.mode = INPUT_LINES;
}

/* The URL to post to: the base URL, its path replaced by /CHANNEL if given. */
static cli_outcome build_target(ssepub_options *o) {
    const char *url = o->url;
    if (!o->channel) {
        o->target = strdup(url);
        return o->target ? CLI_RUN : cli_usage_error(cli.program, "out of memory");
    }
    const char *host = strstr(url, "://") + 3;
    size_t base_len = strcspn(host, "/?#") + (size_t)(host - url);
    const char *name = o->channel;
    while (*name == '/')
        name++;
    size_t need = base_len + strlen(name) + 2;
    o->target = malloc(need);
    if (!o->target)
        return cli_usage_error(cli.program, "out of memory");
    snprintf(o->target, need, "%.*s/%s", (int)base_len, url, name);
    return CLI_RUN;
}

static cli_outcome join_message(ssepub_options *o, int argc, char **argv) {
    size_t need = 1;
    for (int i = 0; i < argc; i++)
        need += strlen(argv[i]) + 1;
    o->message = malloc(need);
    if (!o->message)
        return cli_usage_error(cli.program, "out of memory");
    o->message[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(o->message, " ");
        strcat(o->message, argv[i]);
    }
    return CLI_RUN;
}

/* Where the events come from: the MESSAGE operands or stdin, read whole,
 * as lines or as an event stream. */
static cli_outcome choose_input(ssepub_args *a, int count, char **args) {
    ssepub_options *o = &a->o;
    if (count > 0) {
        if (a->whole || a->sse || o->null_separated)
            return cli_usage_error(cli.program, "%s: give a MESSAGE or read stdin, not both",
                                   a->whole ? "--stdin-whole" : a->sse ? "--format" : "--null");
        o->mode = INPUT_ARGS;
        return join_message(o, count, args);
    }
    /* Nothing to send but what a person would type: as mosquitto_pub
     * does, say how to use ssepub instead of waiting in silence. */
    if (!a->whole && !a->sse && !o->null_separated && isatty(STDIN_FILENO)) {
        fprintf(stderr, "ssepub: no MESSAGE given and standard input is a terminal (to type events: cat | ssepub)\n\n");
        cli_print_help(&cli, stderr);
        return CLI_USAGE;
    }
    if (a->whole) {
        if (a->sse || o->null_separated)
            return cli_usage_error(cli.program, "--stdin-whole: cannot be combined with %s",
                                   a->sse ? "--format sse" : "--null");
        o->mode = INPUT_WHOLE;
    } else if (a->sse) {
        if (o->null_separated)
            return cli_usage_error(cli.program, "--null: only applies to --format lines");
        o->mode = INPUT_SSE;
    }
    return CLI_RUN;
}

/* Settings that depend on several options or on the environment. */
static cli_outcome resolve(ssepub_args *a) {
    ssepub_options *o = &a->o;
    if (o->id && o->mode != INPUT_ARGS && o->mode != INPUT_WHOLE)
        return cli_usage_error(cli.program, "--id: names one event: give a MESSAGE or use --stdin-whole (in "
                                         "--format sse input, write id: lines)");
    if (http_client_token_twice(&o->http))
        return cli_usage_error(cli.program, "--token-file: give either --token or --token-file, not both");
    if (!o->http.bearer) {
        const char *env = getenv("SSED_TOKEN");
        if (env && *env)
            o->http.bearer = env;
    }
    if (!o->url) {
        const char *env = getenv("SSED_URL");
        o->url = env && *env ? env : DEFAULT_URL;
        if (!cli_url_valid(o->url))
            return cli_usage_error(cli.program, "SSED_URL: unsupported URL '%s' (expected http:// or https://)",
                                   o->url);
    }
    o->http.verbose = o->verbosity == LOG_VERBOSE;
    cli_outcome rc = build_target(o);
    const char *why = rc == CLI_RUN ? http_client_url_problem(o->target) : NULL;
    if (why)
        return cli_usage_error(cli.program, "invalid URL '%s': %s", o->target, why);
    return rc;
}

cli_outcome options_parse(ssepub_options *o, int argc, char **argv) {
    ssepub_args a;
    set_defaults(&a);
    int next;
    cli_outcome rc = cli_parse_and_report(&cli, &a, argc, argv, &next);
    if (rc == CLI_RUN)
        rc = choose_input(&a, argc - next, argv + next);
    if (rc == CLI_RUN)
        rc = resolve(&a);
    *o = a.o;
    return rc;
}

void options_free(ssepub_options *o) {
    free(o->target);
    free(o->message);
    http_client_config_free(&o->http);
}
