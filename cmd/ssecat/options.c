#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "units.h"
#include "version.h"

#define DEFAULT_RETRY_DELAY_MS 3000
#define DEFAULT_MAX_DELAY_MS 60000
#define BEARER_ENV "SSECAT_BEARER"

static const char usage_text[] =
    "Usage: ssecat [OPTIONS] URL\n"
    "       ssecat [OPTIONS] -            (or --input FILE)\n"
    "Subscribe to a Server-Sent Events stream and print each event as a browser's\n"
    "EventSource would see it. '-' parses a captured stream from stdin.\n"
    "\n"
    "Request:\n"
    "  -H, --header 'NAME: VALUE'    add a request header (repeatable)\n"
    "  -X, --request METHOD          request method (default GET, or POST with a body)\n"
    "  -d, --data DATA|@FILE         send DATA (or FILE's contents, @- for stdin) as the body\n"
    "      --json DATA|@FILE         send a JSON body with Content-Type: application/json\n"
    "  -u, --user USER:PASS          basic authentication\n"
    "      --bearer TOKEN            Authorization: Bearer TOKEN (default: $" BEARER_ENV ")\n"
    "  -k, --insecure                do not verify the TLS certificate\n"
    "      --cacert FILE             CA certificates to verify the server with\n"
    "      --proxy URL               use this HTTP proxy\n"
    "      --unix-socket PATH        connect through a Unix socket\n"
    "      --connect-timeout DUR     limit on connecting (e.g. 5s)\n"
    "      --compressed              accept a compressed response\n"
    "  -A, --user-agent STRING       User-Agent (default ssecat/" SSETOOLS_VERSION ")\n"
    "      --last-event-id ID        Last-Event-ID of the first request\n"
    "      --ignore-content-type     accept a 200 response of any content type\n"
    "\n"
    "Reconnecting (on by default for GET):\n"
    "      --retry-delay DUR         reconnection time until the server sends retry: (3s)\n"
    "      --max-delay DUR           cap of the backoff on repeated failures (60s)\n"
    "      --max-retries N           give up after N attempts in a row that fail (no limit)\n"
    "      --no-reconnect            exit when the stream ends\n"
    "      --reconnect               reconnect after a non-GET stream ends too\n"
    "\n"
    "Output:\n"
    "  -o, --output FORMAT           data, json, sse or pretty (default: pretty on a\n"
    "                                terminal, data otherwise)\n"
    "  -F, --format-string TEMPLATE  print TEMPLATE per event: %t type, %d data, %i id,\n"
    "                                %I ISO 8601 time, %U Unix time, %j JSON, %%, \\n, \\t\n"
    "      --comments                show comments (keep-alives) and retry values\n"
    "      --timestamps              add the receive time\n"
    "      --no-color                no colour in the pretty format (also NO_COLOR)\n"
    "      --pretty-json             indent JSON data in the pretty format\n"
    "      --max-event-size SIZE     drop larger events (default 1MiB)\n"
    "      --input FILE              parse a captured stream from FILE\n"
    "\n"
    "Selecting and stopping:\n"
    "  -e, --event TYPE              only events of TYPE (repeatable)\n"
    "  -n, --count N                 exit after N events\n"
    "      --until DATA              exit after an event whose data is DATA\n"
    "      --idle-timeout DUR        exit if nothing arrives for DUR\n"
    "  -m, --max-time DUR            exit after DUR in all\n"
    "\n"
    "  -s, --silent                  no reconnection reports or warnings\n"
    "  -v, --verbose                 show request and response headers\n"
    "  -h, --help                    this help\n"
    "  -V, --version                 the version\n"
    "\n"
    "Durations take units: 250ms, 15s, 2m, 1h. Exit status: 0 done (stream ended,\n"
    "-n or --until reached, interrupted), 1 runtime error, 2 usage error, 3 HTTP\n"
    "status or content-type failure, 4 connection failure, 5 timeout.\n"
    "See ssecat(1).\n";

enum {
    OPT_JSON = 256,
    OPT_BEARER,
    OPT_CACERT,
    OPT_PROXY,
    OPT_UNIX_SOCKET,
    OPT_CONNECT_TIMEOUT,
    OPT_COMPRESSED,
    OPT_LAST_EVENT_ID,
    OPT_IGNORE_CONTENT_TYPE,
    OPT_RETRY_DELAY,
    OPT_MAX_DELAY,
    OPT_MAX_RETRIES,
    OPT_NO_RECONNECT,
    OPT_RECONNECT,
    OPT_COMMENTS,
    OPT_TIMESTAMPS,
    OPT_NO_COLOR,
    OPT_PRETTY_JSON,
    OPT_MAX_EVENT_SIZE,
    OPT_INPUT,
    OPT_UNTIL,
    OPT_IDLE_TIMEOUT,
};

static const struct option long_options[] = {
    {"header", required_argument, NULL, 'H'},
    {"request", required_argument, NULL, 'X'},
    {"data", required_argument, NULL, 'd'},
    {"json", required_argument, NULL, OPT_JSON},
    {"user", required_argument, NULL, 'u'},
    {"bearer", required_argument, NULL, OPT_BEARER},
    {"insecure", no_argument, NULL, 'k'},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"proxy", required_argument, NULL, OPT_PROXY},
    {"unix-socket", required_argument, NULL, OPT_UNIX_SOCKET},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"compressed", no_argument, NULL, OPT_COMPRESSED},
    {"user-agent", required_argument, NULL, 'A'},
    {"last-event-id", required_argument, NULL, OPT_LAST_EVENT_ID},
    {"ignore-content-type", no_argument, NULL, OPT_IGNORE_CONTENT_TYPE},
    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
    {"max-delay", required_argument, NULL, OPT_MAX_DELAY},
    {"max-retries", required_argument, NULL, OPT_MAX_RETRIES},
    {"no-reconnect", no_argument, NULL, OPT_NO_RECONNECT},
    {"reconnect", no_argument, NULL, OPT_RECONNECT},
    {"output", required_argument, NULL, 'o'},
    {"format-string", required_argument, NULL, 'F'},
    {"comments", no_argument, NULL, OPT_COMMENTS},
    {"timestamps", no_argument, NULL, OPT_TIMESTAMPS},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"pretty-json", no_argument, NULL, OPT_PRETTY_JSON},
    {"max-event-size", required_argument, NULL, OPT_MAX_EVENT_SIZE},
    {"input", required_argument, NULL, OPT_INPUT},
    {"event", required_argument, NULL, 'e'},
    {"count", required_argument, NULL, 'n'},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"max-time", required_argument, NULL, 'm'},
    {"silent", no_argument, NULL, 's'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* The long name of an option, for the options shared through http_client. */
static const char *long_name(int code) {
    for (const struct option *lo = long_options; lo->name; lo++)
        if (lo->val == code)
            return lo->name;
    return "";
}

/* The option as the user spelled it, for messages: "--max-time" or "-m". */
static const char *option_name(int code, char *space, size_t len) {
    for (const struct option *lo = long_options; lo->name; lo++) {
        if (lo->val == code) {
            if (code < 256)
                snprintf(space, len, "-%c/--%s", code, lo->name);
            else
                snprintf(space, len, "--%s", lo->name);
            return space;
        }
    }
    return "option";
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ssecat: %s\nTry 'ssecat --help' for more information.\n", msg);
    return EXIT_USAGE;
}

/* A body argument: DATA as given, or @FILE's bytes (@- for stdin). */
static int read_body(ssecat_options *o, const char *arg, const char *opt) {
    free(o->body);
    o->body = NULL;
    o->body_len = 0;
    o->has_body = 1;
    if (arg[0] != '@') {
        o->body_len = strlen(arg);
        o->body = malloc(o->body_len + 1);
        if (!o->body)
            return usage_error("%s: out of memory", opt);
        memcpy(o->body, arg, o->body_len + 1);
        return -1;
    }
    const char *path = arg + 1;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ssecat: %s: %s: %s\n", opt, path, strerror(errno));
        return EXIT_USAGE;
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
        return usage_error("%s: cannot read %s", opt, path);
    }
    o->body = body.data;
    o->body_len = body.len - 1;
    return -1;
}

static int starts_with_nocase(const char *s, const char *prefix) { return strncasecmp(s, prefix, strlen(prefix)) == 0; }

static int add_event_type(ssecat_options *o, const char *type) {
    const char **grown = realloc(o->event_types, (o->event_type_count + 1) * sizeof *grown);
    if (!grown)
        return usage_error("-e/--event: out of memory");
    o->event_types = grown;
    o->event_types[o->event_type_count++] = type;
    return -1;
}

/* Settings that depend on several options, or on the terminal, decided
 * once all options are read. */
static int resolve(ssecat_options *o, int reconnect_flag, int format_given, int no_color) {
    if (o->output.format == OUTPUT_TEMPLATE && format_given)
        return usage_error("-o/--output and -F/--format-string cannot be used together");
    if (!format_given && o->output.format != OUTPUT_TEMPLATE)
        o->output.format = isatty(STDOUT_FILENO) ? OUTPUT_PRETTY : OUTPUT_DATA;
    const char *no_color_env = getenv("NO_COLOR");
    o->output.color = o->output.format == OUTPUT_PRETTY && !no_color && isatty(STDOUT_FILENO) &&
                      !(no_color_env && no_color_env[0]);
    if (!o->http.bearer) {
        const char *env = getenv(BEARER_ENV);
        if (env && env[0])
            o->http.bearer = env;
    }
    if (o->http.bearer && strpbrk(o->http.bearer, "\r\n"))
        return usage_error("--bearer: the token contains a line break");
    int is_get = o->method ? strcmp(o->method, "GET") == 0 : !o->has_body;
    /* A POST stream ending is usually the answer being complete. */
    o->reconnect = reconnect_flag >= 0 ? reconnect_flag : is_get;
    return -1;
}

int options_parse(ssecat_options *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->http = (http_client_config)HTTP_CLIENT_CONFIG_INIT("ssecat");
    o->retry_delay_ms = DEFAULT_RETRY_DELAY_MS;
    o->max_delay_ms = DEFAULT_MAX_DELAY_MS;
    o->max_retries = -1;
    o->max_event_size = SSE_DEFAULT_MAX_EVENT_SIZE;
    int reconnect_flag = -1, format_given = 0, no_color = 0, body_from_stdin = 0;
    char err[512], name[64];
    int c, rc = -1;
    uint64_t n;
    opterr = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, ":H:X:d:u:kA:o:F:e:n:m:svhV", long_options, NULL)) != -1) {
        const char *opt = option_name(c, name, sizeof name);
        int shared = http_client_take_option(&o->http, long_name(c), optarg, err, sizeof err);
        if (shared < 0)
            rc = usage_error("%s: %s", opt, err);
        if (shared != 0)
            continue;
        switch (c) {
        case 'X':
            if (!optarg[0] || strpbrk(optarg, " \t\r\n"))
                rc = usage_error("-X/--request: invalid method '%s'", optarg);
            o->method = optarg;
            break;
        case 'd':
        case OPT_JSON:
            o->json_body = c == OPT_JSON;
            body_from_stdin |= strcmp(optarg, "@-") == 0;
            rc = read_body(o, optarg, opt);
            break;
        case 'u':
            if (!strchr(optarg, ':'))
                rc = usage_error("-u/--user: expected USER:PASS, got '%s'", optarg);
            o->http.userpwd = optarg;
            break;
        case OPT_BEARER:
            o->http.bearer = optarg;
            break;
        case OPT_LAST_EVENT_ID:
            if (strpbrk(optarg, "\r\n"))
                rc = usage_error("--last-event-id: the id contains a line break");
            o->last_event_id = optarg;
            break;
        case OPT_IGNORE_CONTENT_TYPE:
            o->ignore_content_type = 1;
            break;
        case OPT_RETRY_DELAY:
            if (units_parse_duration(optarg, &o->retry_delay_ms, err, sizeof err) < 0)
                rc = usage_error("%s: %s", opt, err);
            break;
        case OPT_MAX_DELAY:
            if (units_parse_duration(optarg, &o->max_delay_ms, err, sizeof err) < 0)
                rc = usage_error("%s: %s", opt, err);
            break;
        case OPT_MAX_RETRIES:
            if (units_parse_count(optarg, 0, 1000000000, &n, err, sizeof err) < 0)
                rc = usage_error("%s: %s", opt, err);
            o->max_retries = (int64_t)n;
            break;
        case OPT_NO_RECONNECT:
            reconnect_flag = 0;
            break;
        case OPT_RECONNECT:
            reconnect_flag = 1;
            break;
        case 'o':
            if (output_parse_format(optarg, &o->output.format) < 0)
                rc = usage_error("-o/--output: unknown format '%s' (expected data, json, sse or pretty)", optarg);
            format_given = 1;
            break;
        case 'F':
            if (output_check_template(optarg, err, sizeof err) < 0)
                rc = usage_error("-F/--format-string: %s", err);
            o->output.format = OUTPUT_TEMPLATE;
            o->output.template = optarg;
            break;
        case OPT_COMMENTS:
            o->output.comments = 1;
            break;
        case OPT_TIMESTAMPS:
            o->output.timestamps = 1;
            break;
        case OPT_NO_COLOR:
            no_color = 1;
            break;
        case OPT_PRETTY_JSON:
            o->output.pretty_json = 1;
            break;
        case OPT_MAX_EVENT_SIZE:
            if (units_parse_size(optarg, &o->max_event_size, err, sizeof err) < 0)
                rc = usage_error("%s: %s", opt, err);
            else if (o->max_event_size == 0)
                rc = usage_error("%s: the size must be at least 1 byte", opt);
            break;
        case OPT_INPUT:
            o->input_path = optarg;
            break;
        case 'e':
            rc = add_event_type(o, optarg);
            break;
        case 'n':
            if (units_parse_count(optarg, 1, UINT64_MAX, &o->count, err, sizeof err) < 0)
                rc = usage_error("%s: %s", opt, err);
            break;
        case OPT_UNTIL:
            o->until = optarg;
            break;
        case OPT_IDLE_TIMEOUT:
            if (units_parse_duration(optarg, &o->idle_timeout_ms, err, sizeof err) < 0)
                rc = usage_error("%s: %s", opt, err);
            else if (o->idle_timeout_ms == 0)
                rc = usage_error("%s: the duration must be more than 0", opt);
            break;
        case 'm':
            if (units_parse_duration(optarg, &o->max_time_ms, err, sizeof err) < 0)
                rc = usage_error("%s: %s", opt, err);
            else if (o->max_time_ms == 0)
                rc = usage_error("%s: the duration must be more than 0", opt);
            break;
        case 's':
            o->silent = 1;
            break;
        case 'v':
            o->verbose = 1;
            o->http.verbose = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        case 'V':
            printf("ssecat %s (ssetools) %s\n", SSETOOLS_VERSION, curl_version());
            return EXIT_OK;
        case ':':
            if (strncmp(argv[optind - 1], "--", 2) != 0)
                rc = usage_error("option '-%c' needs a value", optopt);
            else
                rc = usage_error("option '%s' needs a value", argv[optind - 1]);
            break;
        default:
            if (strncmp(argv[optind - 1], "--", 2) != 0 && optopt)
                rc = usage_error("unknown option '-%c'", optopt);
            else
                rc = usage_error("unknown option '%s'", argv[optind - 1]);
            break;
        }
    }
    if (rc >= 0)
        return rc;
    int positional = argc - optind;
    if (o->input_path) {
        if (positional > 0)
            return usage_error("--input reads a file; do not give a URL ('%s') too", argv[optind]);
    } else if (positional != 1) {
        if (positional == 0)
            return usage_error("no URL given");
        return usage_error("one URL expected, got %d arguments", positional);
    } else if (strcmp(argv[optind], "-") == 0) {
        o->input_path = "-";
    } else if (starts_with_nocase(argv[optind], "http://") || starts_with_nocase(argv[optind], "https://")) {
        o->url = argv[optind];
    } else {
        return usage_error("unsupported URL '%s' (expected http:// or https://, or - for stdin)", argv[optind]);
    }
    if (body_from_stdin && o->input_path && strcmp(o->input_path, "-") == 0)
        return usage_error("the body and the event stream cannot both come from stdin");
    return resolve(o, reconnect_flag, format_given, no_color);
}

void options_free(ssecat_options *o) {
    http_client_config_free(&o->http);
    free(o->body);
    free(o->event_types);
    o->body = NULL;
    o->event_types = NULL;
}
