#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "units.h"
#include "version.h"

static const char usage_text[] =
    "Usage: ssed [OPTIONS]\n"
    "Serve events from stdin or a FIFO to any number of Server-Sent Events subscribers.\n"
    "\n"
    "Input:\n"
    "      --fifo PATH            also read events from the FIFO at PATH (created if missing)\n"
    "      --fifo-mode MODE       permissions of a FIFO ssed creates (default 0600)\n"
    "      --no-stdin             do not read events from standard input\n"
    "      --format FORMAT        lines: each input line is one event (default);\n"
    "                             sse: the input is an event stream (event:, id:, data:, retry:)\n"
    "  -0, --null                 lines format: records end with NUL instead of newline\n"
    "  -e, --event NAME           event type of lines input (default: none, i.e. message)\n"
    "  -c, --channel NAME         channel the input goes to (default: the root channel, /)\n"
    "      --max-event-size SIZE  larger input records are skipped with a warning (default 1MiB)\n"
    "      --exit-on-eof          when stdin ends, deliver what is owed, close streams, exit 0\n"
    "\n"
    "Serving:\n"
    "  -l, --listen ADDR          HOST:PORT, [IPv6]:PORT, :PORT (all addresses) or unix:PATH;\n"
    "                             repeatable; port 0 picks a free port (default 127.0.0.1:8080)\n"
    "      --history N            events kept per channel for Last-Event-ID resume (default 1000)\n"
    "      --max-history-bytes SIZE  history of all channels together; oldest evicted first\n"
    "                             (default 256MiB; 0: no cap)\n"
    "      --replay N             new subscribers without Last-Event-ID first get the last N (default 0)\n"
    "      --keepalive DURATION   comment to subscribers idle that long; 0 disables (default 15s)\n"
    "      --retry DURATION       reconnection time sent as retry: at the start of each stream\n"
    "      --cors ORIGIN          allow cross-origin subscribers from ORIGIN, or * for any\n"
    "      --allow-host NAME      on a loopback listener, also answer Host NAME; repeatable\n"
    "      --max-pending SIZE     unsent bytes a live subscriber may owe before it is dropped; events\n"
    "                             that encode larger are refused (default 1MiB)\n"
    "      --max-clients N        connections served at once; more get 503 (default: from ulimit -n)\n"
    "      --max-channels N       channels publishers may create (default 1000); subscribers may\n"
    "                             wait on as many more that nothing has published to yet\n"
    "      --max-header-size SIZE largest request head accepted (default 8KiB)\n"
    "      --header-timeout DURATION  time a client has to send its request head (default 10s)\n"
    "      --shutdown-timeout DURATION  on exit, time to deliver what subscribers are owed (default 5s)\n"
    "      --no-ui                browsers get the event stream, not the live viewer page\n"
    "\n"
    "Publishing (POST /CHANNEL):\n"
    "      --token TOKEN          publishers must send Authorization: Bearer TOKEN\n"
    "                             (also from SSED_TOKEN; default: none, loopback and unix peers only)\n"
    "      --token-file FILE      read the token from the first line of FILE\n"
    "      --no-publish           turn the publish endpoint off\n"
    "\n"
    "Other:\n"
    "  -v, --verbose              log connects and disconnects\n"
    "  -q, --quiet                log errors only\n"
    "  -h, --help                 show this help and exit\n"
    "  -V, --version              show the version and exit\n"
    "\n"
    "Endpoints: GET or HEAD /CHANNEL subscribes (/ is the root channel; /?channels=a,b several);\n"
    "POST /CHANNEL publishes; /_ssed/stats (JSON), /_ssed/health.\n"
    "Durations take ms, s, m, h; sizes take K, KiB, M, MiB.\n"
    "Exit status: 0 stopped cleanly, 1 runtime failure (e.g. cannot listen), 2 usage error.\n";

enum {
    OPT_FIFO = 256,
    OPT_FIFO_MODE,
    OPT_NO_STDIN,
    OPT_FORMAT,
    OPT_MAX_EVENT_SIZE,
    OPT_EXIT_ON_EOF,
    OPT_HISTORY,
    OPT_MAX_HISTORY_BYTES,
    OPT_REPLAY,
    OPT_KEEPALIVE,
    OPT_RETRY,
    OPT_CORS,
    OPT_ALLOW_HOST,
    OPT_MAX_PENDING,
    OPT_MAX_CLIENTS,
    OPT_MAX_CHANNELS,
    OPT_MAX_HEADER_SIZE,
    OPT_HEADER_TIMEOUT,
    OPT_SHUTDOWN_TIMEOUT,
    OPT_TOKEN,
    OPT_TOKEN_FILE,
    OPT_NO_PUBLISH,
    OPT_NO_UI,
};

static const struct option long_options[] = {
    {"fifo", required_argument, NULL, OPT_FIFO},
    {"fifo-mode", required_argument, NULL, OPT_FIFO_MODE},
    {"no-stdin", no_argument, NULL, OPT_NO_STDIN},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"null", no_argument, NULL, '0'},
    {"event", required_argument, NULL, 'e'},
    {"channel", required_argument, NULL, 'c'},
    {"max-event-size", required_argument, NULL, OPT_MAX_EVENT_SIZE},
    {"exit-on-eof", no_argument, NULL, OPT_EXIT_ON_EOF},
    {"listen", required_argument, NULL, 'l'},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"max-history-bytes", required_argument, NULL, OPT_MAX_HISTORY_BYTES},
    {"replay", required_argument, NULL, OPT_REPLAY},
    {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
    {"retry", required_argument, NULL, OPT_RETRY},
    {"cors", required_argument, NULL, OPT_CORS},
    {"allow-host", required_argument, NULL, OPT_ALLOW_HOST},
    {"max-pending", required_argument, NULL, OPT_MAX_PENDING},
    {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
    {"max-channels", required_argument, NULL, OPT_MAX_CHANNELS},
    {"max-header-size", required_argument, NULL, OPT_MAX_HEADER_SIZE},
    {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"no-publish", no_argument, NULL, OPT_NO_PUBLISH},
    {"no-ui", no_argument, NULL, OPT_NO_UI},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int usage_error(const char *option, const char *message) {
    fprintf(stderr, "ssed: %s: %s\nTry 'ssed --help' for more information.\n", option, message);
    return 2;
}

/* The option as the user wrote it, for messages: --long or -s. */
static void option_name(int val, int index, const char *arg, char *out, size_t size) {
    if (index >= 0) {
        snprintf(out, size, "--%s", long_options[index].name);
        return;
    }
    for (const struct option *o = long_options; o->name; o++) {
        if (o->val == val && val >= 256) {
            snprintf(out, size, "--%s", o->name);
            return;
        }
    }
    if (val > 0 && val < 256 && val != '?')
        snprintf(out, size, "-%c", val);
    else
        snprintf(out, size, "%s", arg);
    char *eq = strchr(out, '=');
    if (eq)
        *eq = '\0';
}

static void set_defaults(ssed_options *o) {
    memset(o, 0, sizeof *o);
    o->read_stdin = 1;
    o->fifo_mode = 0600;
    o->format = INPUT_LINES;
    o->channel = "";
    o->max_event_size = 1 << 20;
    o->history = 1000;
    o->max_history_bytes = 256 << 20;
    o->keepalive_ms = 15000;
    o->retry_ms = -1;
    o->max_pending = 1 << 20;
    o->max_channels = 1000;
    o->header_timeout_ms = 10000;
    o->max_header_size = 8192;
    o->shutdown_timeout_ms = 5000;
    o->verbosity = 1;
}

int options_parse(ssed_options *o, int argc, char **argv) {
    set_defaults(o);
    char err[160];
    uint64_t n;
    int c;
    opterr = 0;
    int index = -1;
    while ((c = getopt_long(argc, argv, ":0e:c:l:vqhV", long_options, &index)) != -1) {
        char name[64];
        option_name(c == ':' || c == '?' ? 0 : c, index, argv[optind - 1], name, sizeof name);
        index = -1;
        int rc = 0;
        switch (c) {
        case OPT_FIFO:
            o->fifo_path = optarg;
            break;
        case OPT_FIFO_MODE: {
            char *end;
            long mode = strtol(optarg, &end, 8);
            if (*optarg == '\0' || *end || mode < 0 || mode > 0777)
                return usage_error("--fifo-mode", "expected an octal mode such as 0600");
            o->fifo_mode = (mode_t)mode;
            break;
        }
        case OPT_NO_STDIN:
            o->read_stdin = 0;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "lines") == 0)
                o->format = INPUT_LINES;
            else if (strcmp(optarg, "sse") == 0)
                o->format = INPUT_SSE;
            else
                return usage_error("--format", "expected 'lines' or 'sse'");
            break;
        case '0':
            o->null_separated = 1;
            break;
        case 'e':
            if (strpbrk(optarg, "\r\n"))
                return usage_error("--event", "an event type cannot contain a line break");
            o->event_type = optarg;
            break;
        case 'c':
            while (*optarg == '/')
                optarg++;
            if (!hub_channel_name_valid(optarg, strlen(optarg)) || strncmp(optarg, "_ssed", 5) == 0)
                return usage_error("--channel", "use letters, digits, '-', '_', '.', '~' and '/' (not _ssed)");
            o->channel = optarg;
            break;
        case OPT_MAX_EVENT_SIZE:
            rc = units_parse_size(optarg, &o->max_event_size, err, sizeof err);
            if (rc == 0 && o->max_event_size == 0)
                return usage_error("--max-event-size", "must be more than 0");
            break;
        case OPT_EXIT_ON_EOF:
            o->exit_on_eof = 1;
            break;
        case 'l':
            if (o->listen_count == SSED_MAX_LISTEN)
                return usage_error("--listen", "at most 16 addresses");
            o->listen[o->listen_count++] = optarg;
            break;
        case OPT_HISTORY:
            rc = units_parse_count(optarg, 0, 10000000, &o->history, err, sizeof err);
            break;
        case OPT_MAX_HISTORY_BYTES:
            rc = units_parse_size(optarg, &o->max_history_bytes, err, sizeof err);
            break;
        case OPT_REPLAY:
            rc = units_parse_count(optarg, 0, 10000000, &o->replay, err, sizeof err);
            break;
        case OPT_KEEPALIVE:
            rc = units_parse_duration(optarg, &o->keepalive_ms, err, sizeof err);
            break;
        case OPT_RETRY:
            rc = units_parse_duration(optarg, &n, err, sizeof err);
            o->retry_ms = (long long)n;
            break;
        case OPT_CORS:
            if (*optarg == '\0' || strpbrk(optarg, "\r\n"))
                return usage_error("--cors", "expected an origin such as https://example.com, or *");
            o->cors_origin = optarg;
            break;
        case OPT_ALLOW_HOST:
            if (o->allow_host_count == SSED_MAX_LISTEN)
                return usage_error("--allow-host", "at most 16 names");
            if (*optarg == '\0' || strpbrk(optarg, ":/ \t\r\n"))
                return usage_error("--allow-host", "expected a host name without port, such as sse.example.com");
            o->allow_host[o->allow_host_count++] = optarg;
            break;
        case OPT_MAX_PENDING:
            rc = units_parse_size(optarg, &o->max_pending, err, sizeof err);
            break;
        case OPT_MAX_CLIENTS:
            rc = units_parse_count(optarg, 1, 100000000, &o->max_clients, err, sizeof err);
            break;
        case OPT_MAX_CHANNELS:
            rc = units_parse_count(optarg, 1, 100000000, &o->max_channels, err, sizeof err);
            break;
        case OPT_MAX_HEADER_SIZE:
            rc = units_parse_size(optarg, &o->max_header_size, err, sizeof err);
            if (rc == 0 && (o->max_header_size < 256 || o->max_header_size > (1 << 20)))
                return usage_error("--max-header-size", "must be from 256 bytes to 1MiB");
            break;
        case OPT_HEADER_TIMEOUT:
            rc = units_parse_duration(optarg, &o->header_timeout_ms, err, sizeof err);
            if (rc == 0 && o->header_timeout_ms == 0)
                return usage_error("--header-timeout", "must be more than 0");
            break;
        case OPT_SHUTDOWN_TIMEOUT:
            rc = units_parse_duration(optarg, &o->shutdown_timeout_ms, err, sizeof err);
            break;
        case OPT_TOKEN:
            if (*optarg == '\0' || strpbrk(optarg, "\r\n \t"))
                return usage_error(name, "a token cannot be empty or contain spaces or line breaks");
            o->token = optarg;
            break;
        case OPT_TOKEN_FILE:
            o->token_file = optarg;
            break;
        case OPT_NO_PUBLISH:
            o->no_publish = 1;
            break;
        case OPT_NO_UI:
            o->no_ui = 1;
            break;
        case 'v':
            o->verbosity = 2;
            break;
        case 'q':
            o->verbosity = 0;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 1;
        case 'V':
            printf("ssed %s\n", SSETOOLS_VERSION);
            return 1;
        case ':':
            snprintf(err, sizeof err, "option needs a value");
            return usage_error(name, err);
        default:
            return usage_error(name, "unknown option");
        }
        if (rc != 0)
            return usage_error(name, err);
    }
    if (optind < argc)
        return usage_error(argv[optind], "unexpected argument (ssed takes options only)");
    if (o->listen_count == 0)
        o->listen[o->listen_count++] = "127.0.0.1:8080";
    if (o->exit_on_eof && !o->read_stdin)
        return usage_error("--exit-on-eof", "needs stdin (it cannot be used with --no-stdin)");
    if (o->null_separated && o->format != INPUT_LINES)
        return usage_error("--null", "only applies to --format lines");
    if (o->token && o->token_file)
        return usage_error("--token-file", "give either --token or --token-file, not both");
    if (o->replay > o->history)
        return usage_error("--replay", "cannot be more than --history");
    return 0;
}
