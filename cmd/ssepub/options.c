#include "options.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sse_parser.h"
#include "units.h"
#include "version.h"

#define DEFAULT_URL "http://127.0.0.1:8080/"
#define DEFAULT_RETRY_FOR_MS 30000

static const char usage_text[] =
    "Usage: ssepub [OPTIONS] [MESSAGE...]\n"
    "Publish events to a running ssed. MESSAGE words joined with spaces make one event;\n"
    "without them, each line of stdin is one event, sent as it arrives.\n"
    "\n"
    "Target:\n"
    "  -u, --url URL               ssed's URL (default: $SSED_URL, else " DEFAULT_URL ")\n"
    "  -c, --channel NAME          publish to channel NAME (replaces the URL's path)\n"
    "      --unix-socket PATH      connect through a Unix socket\n"
    "      --token TOKEN           send Authorization: Bearer TOKEN (default: $SSED_TOKEN)\n"
    "\n"
    "Events:\n"
    "  -e, --event TYPE            event type of each event (default: none, i.e. message)\n"
    "  -i, --id ID                 id of the event (MESSAGE or --stdin-whole only)\n"
    "  -s, --stdin-whole           all of stdin is one event\n"
    "  -0, --null                  stdin records end with NUL instead of newline\n"
    "      --format FORMAT         lines (default) or sse: stdin is an event stream\n"
    "      --max-event-size SIZE   larger records are reported and not sent (default 1MiB)\n"
    "\n"
    "Delivery:\n"
    "      --retry-for DURATION    keep retrying a failed send this long (default 30s)\n"
    "  -H, --header 'NAME: VALUE'  add a request header (repeatable)\n"
    "  -k, --insecure              do not verify the TLS certificate\n"
    "      --cacert FILE           CA certificates to verify the server with\n"
    "      --proxy URL             use this HTTP proxy\n"
    "      --connect-timeout DUR   limit on connecting (e.g. 5s)\n"
    "  -A, --user-agent STRING     User-Agent (default ssepub/" SSETOOLS_VERSION ")\n"
    "\n"
    "  -q, --quiet                 errors only\n"
    "  -v, --verbose               show requests, responses and the server's answers\n"
    "  -h, --help                  show this help and exit\n"
    "  -V, --version               show the version and exit\n"
    "\n"
    "Exit status: 0 all delivered, 1 local error (reading stdin, incomplete event),\n"
    "2 usage error, 3 refused by the server (auth, too large, malformed),\n"
    "4 server unreachable within --retry-for.\n";

enum {
    OPT_UNIX_SOCKET = 256,
    OPT_TOKEN,
    OPT_FORMAT,
    OPT_MAX_EVENT_SIZE,
    OPT_RETRY_FOR,
    OPT_CACERT,
    OPT_PROXY,
    OPT_CONNECT_TIMEOUT,
};

static const struct option long_options[] = {
    {"url", required_argument, NULL, 'u'},
    {"channel", required_argument, NULL, 'c'},
    {"unix-socket", required_argument, NULL, OPT_UNIX_SOCKET},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"event", required_argument, NULL, 'e'},
    {"id", required_argument, NULL, 'i'},
    {"stdin-whole", no_argument, NULL, 's'},
    {"null", no_argument, NULL, '0'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"max-event-size", required_argument, NULL, OPT_MAX_EVENT_SIZE},
    {"retry-for", required_argument, NULL, OPT_RETRY_FOR},
    {"header", required_argument, NULL, 'H'},
    {"insecure", no_argument, NULL, 'k'},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"proxy", required_argument, NULL, OPT_PROXY},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"user-agent", required_argument, NULL, 'A'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("ssepub: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'ssepub --help' for more information.\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

/* The long name of an option, for the options shared through http_client. */
static const char *long_name(int code) {
    for (const struct option *lo = long_options; lo->name; lo++)
        if (lo->val == code)
            return lo->name;
    return "";
}

/* The option as written, for messages ("--event", or "-e"). */
static const char *option_name(int c, int index, char *out, size_t size) {
    if (index >= 0)
        snprintf(out, size, "--%s", long_options[index].name);
    else
        snprintf(out, size, "-%c", c);
    return out;
}

/* The URL to post to: the base URL, its path replaced by /CHANNEL if given. */
static int build_target(ssepub_options *o) {
    const char *url = o->url;
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end || scheme_end == url)
        return usage_error("--url: expected a URL such as %s, got '%s'", DEFAULT_URL, url);
    if (!o->channel) {
        o->target = strdup(url);
        return o->target ? 0 : usage_error("out of memory");
    }
    const char *host = scheme_end + 3;
    size_t base_len = strcspn(host, "/?#") + (size_t)(host - url);
    const char *name = o->channel;
    while (*name == '/')
        name++;
    size_t need = base_len + strlen(name) + 2;
    o->target = malloc(need);
    if (!o->target)
        return usage_error("out of memory");
    snprintf(o->target, need, "%.*s/%s", (int)base_len, url, name);
    return 0;
}

static int join_message(ssepub_options *o, int argc, char **argv) {
    size_t need = 1;
    for (int i = 0; i < argc; i++)
        need += strlen(argv[i]) + 1;
    o->message = malloc(need);
    if (!o->message)
        return usage_error("out of memory");
    o->message[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(o->message, " ");
        strcat(o->message, argv[i]);
    }
    return 0;
}

int options_parse(ssepub_options *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->http = (http_client_config)HTTP_CLIENT_CONFIG_INIT("ssepub");
    o->retry_for_ms = DEFAULT_RETRY_FOR_MS;
    o->max_event_size = SSE_DEFAULT_MAX_EVENT_SIZE;
    o->verbosity = LOG_NORMAL;
    o->mode = INPUT_LINES;
    int whole = 0, sse = 0;
    char err[300], name[64];
    int c, index = -1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":u:c:e:i:s0H:kA:qvhV", long_options, &index)) != -1) {
        const char *opt = option_name(c, index, name, sizeof name);
        int shared = c == ':' || c == '?' ? 0 : http_client_take_option(&o->http, long_name(c), optarg, err, sizeof err);
        index = -1;
        if (shared < 0)
            return usage_error("%s: %s", opt, err);
        if (shared)
            continue;
        int rc = 0;
        switch (c) {
        case 'u':
            o->url = optarg;
            break;
        case 'c':
            o->channel = optarg;
            break;
        case OPT_TOKEN:
            if (!*optarg || strpbrk(optarg, " \t\r\n"))
                return usage_error("--token: a token cannot be empty or contain spaces or line breaks");
            o->http.bearer = optarg;
            break;
        case 'e':
            if (!*optarg || strpbrk(optarg, "\r\n"))
                return usage_error("%s: an event type cannot be empty or contain a line break", opt);
            o->event_type = optarg;
            break;
        case 'i':
            if (strpbrk(optarg, "\r\n"))
                return usage_error("%s: an id cannot contain a line break", opt);
            o->id = optarg;
            break;
        case 's':
            whole = 1;
            break;
        case '0':
            o->null_separated = 1;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "sse") == 0)
                sse = 1;
            else if (strcmp(optarg, "lines") != 0)
                return usage_error("--format: expected 'lines' or 'sse', got '%s'", optarg);
            break;
        case OPT_MAX_EVENT_SIZE:
            rc = units_parse_size(optarg, &o->max_event_size, err, sizeof err);
            if (rc == 0 && o->max_event_size == 0)
                return usage_error("--max-event-size: must be more than 0");
            break;
        case OPT_RETRY_FOR:
            rc = units_parse_duration(optarg, &o->retry_for_ms, err, sizeof err);
            break;
        case 'q':
            o->verbosity = LOG_QUIET;
            break;
        case 'v':
            o->verbosity = LOG_VERBOSE;
            o->http.verbose = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 1;
        case 'V':
            printf("ssepub %s\n", SSETOOLS_VERSION);
            return 1;
        case ':':
            return usage_error("%s: option needs a value", argv[optind - 1]);
        default:
            return usage_error("%s: unknown option", argv[optind - 1]);
        }
        if (rc != 0)
            return usage_error("%s: %s", opt, err);
    }
    if (optind < argc) {
        if (whole || sse || o->null_separated)
            return usage_error("%s: give a MESSAGE or read stdin, not both",
                               whole ? "--stdin-whole" : sse ? "--format" : "--null");
        o->mode = INPUT_ARGS;
        if (join_message(o, argc - optind, argv + optind) != 0)
            return EXIT_USAGE;
    } else if (whole) {
        if (sse || o->null_separated)
            return usage_error("--stdin-whole: cannot be combined with %s", sse ? "--format sse" : "--null");
        o->mode = INPUT_WHOLE;
    } else if (sse) {
        if (o->null_separated)
            return usage_error("--null: only applies to --format lines");
        o->mode = INPUT_SSE;
    }
    if (o->id && o->mode != INPUT_ARGS && o->mode != INPUT_WHOLE)
        return usage_error("--id: names one event: give a MESSAGE or use --stdin-whole (in --format sse "
                           "input, write id: lines)");
    if (!o->http.bearer) {
        const char *env = getenv("SSED_TOKEN");
        if (env && *env)
            o->http.bearer = env;
    }
    if (!o->url) {
        const char *env = getenv("SSED_URL");
        o->url = env && *env ? env : DEFAULT_URL;
    }
    return build_target(o);
}

void options_free(ssepub_options *o) {
    free(o->target);
    free(o->message);
    http_client_config_free(&o->http);
}
