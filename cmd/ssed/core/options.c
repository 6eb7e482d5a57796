#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "channel_pattern.h"
#include "hub.h"
#include "listener.h"
#include "log.h"
#include "redis_url.h"
#include "tls.h"

/* What the command line says, beyond the configuration itself: the
 * parser stores into this, and resolve() turns it into ssed_options. */
typedef struct ssed_args {
    ssed_options o;
    int format;        /* enum input_format */
    uint64_t retry_ms; /* UINT64_MAX: no --retry */
    const char *config_path;
} ssed_args;

static int take_fifo_mode(void *mode, const char *value, char *err, size_t errlen) {
    char *end;
    long n = strtol(value, &end, 8);
    if (*value == '\0' || *end || n < 0 || n > 0777) {
        snprintf(err, errlen, "invalid mode '%s' (expected an octal mode such as 0600)", value);
        return -1;
    }
    *(mode_t *)mode = (mode_t)n;
    return 0;
}

/* --redis: checked now, so a bad URL is a usage error. The message never
 * repeats the URL (it may hold a password). */
static int check_redis_url(const char *value, char *err, size_t errlen) {
    redis_url u;
    return redis_url_parse(value, &u, err, errlen);
}

/* --redis-prefix: names keys and a pub/sub pattern, so no glob or space. */
static int check_redis_prefix(const char *value, char *err, size_t errlen) {
    size_t n = strlen(value);
    if (n > 100 || strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n) {
        snprintf(err, errlen, "invalid prefix '%s' (1 to 100 letters, digits, '-', '_', '.')", value);
        return -1;
    }
    return 0;
}

/* --replay: digits only are a count (new subscribers get the last N);
 * anything else a recording file ("-": stdin; ./123 for a file named
 * with digits). */
static int take_replay(void *field, const char *value, char *err, size_t errlen) {
    ssed_options *o = field;
    size_t n = strlen(value);
    if (n == 0) {
        snprintf(err, errlen, "expected a count or a recording file");
        return -1;
    }
    if (strspn(value, "0123456789") != n) {
        o->replay_file = value;
        return 0;
    }
    char *end;
    unsigned long long v = strtoull(value, &end, 10);
    if (n > 8 || v > 10000000) {
        snprintf(err, errlen, "'%s' is more than 10000000 (a file named with digits is ./%s)", value, value);
        return -1;
    }
    o->replay = v;
    return 0;
}

/* --speed: a positive factor of the recorded pace, or max. */
static int take_speed(void *field, const char *value, char *err, size_t errlen) {
    if (strcmp(value, "max") == 0) {
        *(double *)field = 0;
        return 0;
    }
    char *end;
    double v = strtod(value, &end);
    if (end == value || *end || !(v >= 0.001 && v <= 1000000)) {
        snprintf(err, errlen, "invalid speed '%s' (a factor such as 0.5 or 2, or max)", value);
        return -1;
    }
    *(double *)field = v;
    return 0;
}

static const cli_choice replay_methods[] = {{"GET", 0}, {"POST", 1}, {NULL, 0}};

/* A channel name, with or without its leading slashes. */
static int take_channel(void *channel, const char *value, char *err, size_t errlen) {
    while (*value == '/')
        value++;
    if (!hub_channel_name_valid(value, strlen(value)) || strncmp(value, "_ssed", 5) == 0) {
        snprintf(err, errlen, "invalid channel '%s' (use letters, digits, '-', '_', '.', '~' and '/'; not _ssed)",
                 value);
        return -1;
    }
    *(const char **)channel = value;
    return 0;
}

/* --public: a channel pattern, as in a token's claims. */
static int check_pattern(const char *value, char *err, size_t errlen) {
    if (!channel_pattern_valid(value, strlen(value))) {
        snprintf(err, errlen, "invalid channel pattern '%s' (channel names whose segments may be * or **)", value);
        return -1;
    }
    return 0;
}

static const cli_choice sync_modes[] = {
    {"always", STORE_SYNC_ALWAYS}, {"batch", STORE_SYNC_BATCH}, {"off", STORE_SYNC_OFF}, {NULL, 0}};

static const cli_choice log_formats[] = {{"text", LOG_FORMAT_TEXT}, {"json", LOG_FORMAT_JSON}, {NULL, 0}};

static const cli_choice input_formats[] = {{"lines", INPUT_LINES}, {"sse", INPUT_SSE}, {NULL, 0}};

#define OPT(long_name, short_name_, kind_, field)                                                                      \
    .name = (long_name), .short_name = (short_name_), .kind = (kind_), .at = offsetof(ssed_args, field)

/* Every option, in --help's order. */
static const cli_option option_table[] = {
    CLI_SECTION("Input:"),
    {OPT("fifo", 0, CLI_STRING, o.fifo_path), .arg = "PATH",
     .help = "also read events from the FIFO at PATH (created if missing)"},
    {OPT("fifo-mode", 0, CLI_CALL, o.fifo_mode), .take = take_fifo_mode, .arg = "MODE",
     .help = "permissions of a FIFO ssed creates (default 0600)"},
    {OPT("no-stdin", 0, CLI_SET, o.read_stdin), .value = 0, .help = "do not read events from standard input"},
    {OPT("format", 0, CLI_CHOICE, format), .choices = input_formats, .what = "format", .arg = "FORMAT",
     .help = "lines: each input line is one event (default);\n"
             "sse: the input is an event stream (event:, id:, data:, retry:)"},
    {OPT("null", '0', CLI_FLAG, o.null_separated), .help = "lines format: records end with NUL instead of newline"},
    {OPT("event", 'e', CLI_STRING, o.event_type), .reject = "\r\n", .what = "an event type", .arg = "NAME",
     .help = "event type of lines input (default: none, i.e. message)"},
    {OPT("channel", 'c', CLI_CALL, o.channel), .take = take_channel, .arg = "NAME",
     .help = "channel the input goes to (default: the root channel, /)"},
    {OPT("max-event-size", 0, CLI_SIZE, o.max_event_size), .min = 1, .arg = "SIZE",
     .help = "larger input records are skipped with a warning (default 1MiB)"},
    {OPT("exit-on-eof", 0, CLI_FLAG, o.exit_on_eof),
     .help = "when stdin (or the --replay recording) ends, deliver what is\n"
             "owed, close streams, exit 0"},

    CLI_SECTION("Replay (--replay FILE):"),
    {OPT("speed", 0, CLI_CALL, o.replay_speed), .take = take_speed, .arg = "X",
     .help = "play the recording X times as fast (0.5, 2), or max: as fast as\n"
             "subscribers take it (default 1)"},
    {OPT("loop", 0, CLI_FLAG, o.replay_loop),
     .help = "start the recording again at its end (ids repeat)"},
    {OPT("replay-from", 0, CLI_DURATION, o.replay_from_ms), .arg = "DURATION",
     .help = "skip the recording's first DURATION"},
    {OPT("method", 0, CLI_CHOICE, o.replay_post), .choices = replay_methods, .what = "method", .arg = "METHOD",
     .help = "POST: a POST (any body) to the channel is answered with the\n"
             "recording from its start, on its own timeline (a mock of an\n"
             "LLM's streaming API); publishing to it is then off (default GET)"},

    CLI_SECTION("Serving:"),
    {OPT("listen", 'l', CLI_LIST, o.listen), .count_at = offsetof(ssed_args, o.listen_count),
     .max = SSED_MAX_LISTEN, .arg = "ADDR",
     .help = "HOST:PORT, [IPv6]:PORT, :PORT (all addresses) or unix:PATH;\n"
             "repeatable; port 0 to 65535, 0 picks a free one;\n"
             "default 127.0.0.1:8080;\n"
             "http://ADDR or https://ADDR says whether it speaks TLS, which an\n"
             "ADDR without a scheme does when --tls-cert is given"},
    {OPT("tls-cert", 0, CLI_STRING, o.tls_cert), .min = 1, .arg = "FILE",
     .help = "serve HTTPS with this certificate chain (PEM, the server's\n"
             "certificate first); SIGHUP loads it and the key again"},
    {OPT("tls-key", 0, CLI_STRING, o.tls_key), .min = 1, .arg = "FILE",
     .help = "the private key of --tls-cert (PEM, without a pass phrase)"},
    {OPT("tls-ciphers", 0, CLI_STRING, o.tls_ciphers), .min = 1, .check = tls_check_ciphers, .arg = "LIST",
     .help = "TLS 1.2 ciphers, in OpenSSL's syntax and ssed's order of\n"
             "preference (default: ECDHE with AES-GCM or ChaCha20-Poly1305)"},
    {OPT("tls-ciphersuites", 0, CLI_STRING, o.tls_ciphersuites), .min = 1, .check = tls_check_ciphersuites,
     .arg = "LIST", .help = "TLS 1.3 suites separated by ':', in ssed's order of preference\n"
                           "(default: OpenSSL's, all AEAD)"},
    {OPT("history", 0, CLI_COUNT, o.history), .max = 10000000, .arg = "N",
     .help = "events kept per channel for Last-Event-ID resume (default 1000)"},
    {OPT("max-history-bytes", 0, CLI_SIZE, o.max_history_bytes), .arg = "SIZE",
     .help = "history of all channels together; oldest evicted first\n(default 256MiB; 0: no cap)"},
    {OPT("store", 0, CLI_STRING, o.store_path), .min = 1, .arg = "PATH",
     .help = "keep history, ids and publisher dedup in a crash-safe store at\n"
             "PATH (SQLite, mode 0600), so they survive a restart"},
    {OPT("sync", 0, CLI_CHOICE, o.store_sync), .choices = sync_modes, .what = "sync mode", .arg = "MODE",
     .help = "when the store is forced to disk: always (before every publish\n"
             "is acknowledged and after every input batch); batch (before\n"
             "acknowledging, else within 100ms; the default); off (never)"},
    {OPT("store-repair", 0, CLI_FLAG, o.store_repair),
     .help = "a damaged store is moved to PATH.corrupt and an empty one started\n"
             "(without it, ssed refuses to start from a damaged store)"},
    {OPT("redis", 0, CLI_STRING, o.redis_url), .min = 1, .check = check_redis_url, .arg = "URL",
     .help = "join a cluster of ssed nodes sharing channels, ids and history\n"
             "through Redis: redis://[user:pass@]host:port[/db] or unix:PATH\n"
             "(password also from SSED_REDIS_PASSWORD)"},
    {OPT("redis-prefix", 0, CLI_STRING, o.redis_prefix), .min = 1, .check = check_redis_prefix, .arg = "NAME",
     .help = "namespace of the cluster's Redis keys (default ssed), so\n"
             "clusters can share a Redis"},
    {OPT("reuse-port", 0, CLI_FLAG, o.reuse_port),
     .help = "listen with SO_REUSEPORT: several ssed processes (each with\n"
             "--redis) share the port as one cluster"},
    {OPT("replay", 0, CLI_CALL, o), .take = take_replay, .arg = "N|FILE",
     .help = "N (digits): new subscribers without Last-Event-ID first get the\n"
             "last N (default 0); FILE: serve a recording (ssecat -o record) at\n"
             "its pace on the input channel instead of stdin (- reads it from\n"
             "stdin; a file named with digits is ./123); see Replay above"},
    {OPT("keepalive", 0, CLI_DURATION, o.keepalive_ms), .arg = "DURATION",
     .help = "comment to subscribers idle that long; 0 disables (default 15s)"},
    {OPT("retry", 0, CLI_DURATION, retry_ms), .arg = "DURATION",
     .help = "reconnection time sent as retry: at the start of each stream"},
    {OPT("cors", 0, CLI_STRING, o.cors_origin), .min = 1, .reject = "\r\n", .what = "an origin", .arg = "ORIGIN",
     .help = "allow cross-origin subscribers from ORIGIN, or * for any"},
    {OPT("allow-host", 0, CLI_LIST, o.allow_host), .count_at = offsetof(ssed_args, o.allow_host_count),
     .max = SSED_MAX_LISTEN, .min = 1, .reject = ":/ \t\r\n", .what = "a host name", .arg = "NAME",
     .help = "on a loopback listener, also answer Host NAME; repeatable"},
    {OPT("max-pending", 0, CLI_SIZE, o.max_pending), .arg = "SIZE",
     .help = "unsent bytes a live subscriber may owe before it is dropped; events\n"
             "that encode larger are refused (default 1MiB)"},
    {OPT("max-clients", 0, CLI_COUNT, o.max_clients), .min = 1, .max = 100000000, .arg = "N",
     .help = "connections served at once; more get 503 (default: from ulimit -n)"},
    {OPT("max-channels", 0, CLI_COUNT, o.max_channels), .min = 1, .max = 100000000, .arg = "N",
     .help = "channels publishers may create (default 1000); subscribers may\n"
             "wait on as many more that nothing has published to yet"},
    {OPT("max-header-size", 0, CLI_SIZE, o.max_header_size), .min = 256, .max = 1 << 20, .arg = "SIZE",
     .help = "largest request head accepted (default 8KiB)"},
    {OPT("h2-max-streams", 0, CLI_COUNT, o.h2_max_streams), .min = 1, .max = 65535, .arg = "N",
     .help = "streams one HTTP/2 connection may have open at once (default 256)"},
    {OPT("h2-conn-buffer", 0, CLI_SIZE, o.h2_conn_buffer), .min = 16384, .arg = "SIZE",
     .help = "response bytes one HTTP/2 connection holds for DATA frames,\n"
             "shared by its open streams (each at least 1KiB, at most 64KiB,\n"
             "half of --max-pending and what the client's window allows;\n"
             "they count against --max-pending) (default 1MiB)"},
    {OPT("h2-total-buffer", 0, CLI_SIZE, o.h2_total_buffer), .min = 65536, .arg = "SIZE",
     .help = "the same for all HTTP/2 connections together; past it, the one\n"
             "holding most while it reads nothing gets GOAWAY (default 64MiB)"},
    {OPT("header-timeout", 0, CLI_DURATION, o.header_timeout_ms), .min = 1, .arg = "DURATION",
     .help = "time a client has to send its request head (default 10s)"},
    {OPT("shutdown-timeout", 0, CLI_DURATION, o.shutdown_timeout_ms), .arg = "DURATION",
     .help = "on exit, time to deliver what subscribers are owed (default 5s)"},
    {OPT("no-ui", 0, CLI_FLAG, o.no_ui), .help = "browsers get the event stream, not the live viewer page"},
    {OPT("metrics-channels", 0, CLI_COUNT, o.metrics_channels), .max = METRICS_MAX_CHANNELS, .arg = "N",
     .help = "channels /_ssed/metrics names, the busiest first; the rest are\n"
             "summed under channel=\"_other\" (default 100, at most 1000)"},

    CLI_SECTION("Publishing (POST /CHANNEL):"),
    {OPT("token", 0, CLI_STRING, o.token), .min = 1, .reject = "\r\n \t", .what = "a token", .arg = "TOKEN",
     .help = "publishers must send Authorization: Bearer TOKEN\n"
             "(also from SSED_TOKEN; default: none, loopback and unix peers only)"},
    {OPT("token-file", 0, CLI_STRING, o.token_file), .arg = "FILE",
     .help = "read the token from the first line of FILE; SIGHUP reads\n"
             "it again"},
    {OPT("no-publish", 0, CLI_FLAG, o.no_publish), .help = "turn the publish endpoint off"},

    CLI_SECTION("Tokens (JWT) for subscribers and publishers:"),
    {OPT("jwt-secret-file", 0, CLI_STRING, o.jwt_secret_file), .min = 1, .arg = "FILE",
     .help = "verify HS256, HS384, HS512 tokens with the secret in FILE\n"
             "(at least 32 bytes); subscribers and publishers then need tokens"},
    {OPT("jwt-key-file", 0, CLI_STRING, o.jwt_key_file), .min = 1, .arg = "FILE",
     .help = "verify RS256/384/512, ES256 or EdDSA tokens with the PEM public\n"
             "key in FILE (RSA, EC P-256 or Ed25519); SIGHUP reads the\n"
             "key files again"},
    {OPT("jwt-audience", 0, CLI_STRING, o.jwt_audience), .min = 1, .arg = "AUD",
     .help = "tokens must name AUD in their aud claim"},
    {OPT("jwt-issuer", 0, CLI_STRING, o.jwt_issuer), .min = 1, .arg = "ISS",
     .help = "tokens must have iss ISS"},
    {OPT("jwt-leeway", 0, CLI_DURATION, o.jwt_leeway_ms), .max = 3600000, .arg = "DURATION",
     .help = "clock skew allowed for exp and nbf (default 30s); a stream\n"
             "ends when its token's exp plus this passes"},
    {OPT("jwt-cookie", 0, CLI_STRING, o.jwt_cookie), .min = 1, .reject = "=;, \t\r\n\"", .what = "a cookie name",
     .arg = "NAME", .help = "also take a subscriber's token from the cookie NAME (for EventSource)"},
    {OPT("public", 0, CLI_LIST, o.public_channels), .count_at = offsetof(ssed_args, o.public_count),
     .max = SSED_MAX_PUBLIC, .check = check_pattern, .arg = "PATTERN",
     .help = "channels matching PATTERN (news/*, feeds/**) need no token to\n"
             "subscribe; repeatable"},

    CLI_SECTION("Other:"),
    {OPT("config", 0, CLI_STRING, config_path), .min = 1, .arg = "FILE",
     .help = "read options from FILE first: one per line, long name without --,\n"
             "then the value (listen 127.0.0.1:8080 or listen = ...); # at a\n"
             "line's start or after a blank starts a comment;\n"
             "options given on the command line win (a repeatable one given\n"
             "there replaces the file's)"},
    {OPT("check", 't', CLI_FLAG, o.check_only),
     .help = "check the options, the --config file, certificate and key, token\n"
             "and JWT key files, store and FIFO paths, the --replay recording,\n"
             "then exit without serving: 0 when good, 2 when not (as nginx -t)"},
    {OPT("verbose", 'v', CLI_SET, o.verbosity), .value = 2, .help = "also log connects, disconnects, publishes and\n"
             "refused requests (400, 404, 405, 421)"},
    {OPT("quiet", 'q', CLI_SET, o.verbosity), .value = 0, .help = "log errors only"},
    {OPT("log-format", 0, CLI_CHOICE, o.log_format), .choices = log_formats, .what = "log format", .arg = "FORMAT",
     .help = "text: lines with an RFC 3339 time (default); json: one JSON\n"
             "object a line with time, level, msg and fields"},
    {OPT("help", 'h', CLI_HELP, o), .help = "show this help and exit"},
    {OPT("version", 'V', CLI_VERSION, o), .help = "show the version and exit"},
};

/* What websocketd users type, and ssed's word for it. */
static const cli_hint option_hints[] = {
    {"--port", "-l/--listen", NULL},
    {"--address", "-l/--listen", NULL},
    {"-p", "-l/--listen", NULL},
    {"--loglevel", "-v/--verbose or -q/--quiet", NULL},
    {"--test", "-t/--check", NULL},
    {"--configtest", "-t/--check", NULL},
    {NULL, NULL, NULL},
};

static const cli_spec cli = {
    .program = "ssed",
    .options = option_table,
    .count = sizeof option_table / sizeof option_table[0],
    .usage = "Usage: ssed [OPTIONS]\n"
             "Serve events from stdin or a FIFO to any number of Server-Sent Events subscribers.\n",
    .footer = "Endpoints: GET or HEAD /CHANNEL subscribes (/ is the root channel; /?channels=a,b several);\n"
              "POST /CHANNEL publishes; /_ssed/stats (JSON), /_ssed/metrics (Prometheus), /_ssed/health.\n"
              "With --replay FILE, GET /CHANNEL?replay=start plays the recording from its start.\n"
              "Durations take ms, s, m, h; sizes take K, KiB, M, MiB.\n"
              "Under systemd, sockets it passes (LISTEN_FDS) replace --listen, and ssed sends\n"
              "READY=1, STOPPING=1 and WATCHDOG=1 to NOTIFY_SOCKET (see man ssed, SYSTEMD).\n"
              "Exit status: 0 stopped cleanly, 1 runtime failure (e.g. cannot listen, store locked\n"
              "or damaged), 2 usage error (also --check finding a problem).\n",
    .help_column = 29,
    .hints = option_hints,
};

static void set_defaults(ssed_args *a) {
    memset(a, 0, sizeof *a);
    ssed_options *o = &a->o;
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
    o->h2_max_streams = 256;
    o->h2_conn_buffer = 1 << 20;
    o->h2_total_buffer = 64 << 20;
    o->shutdown_timeout_ms = 5000;
    o->verbosity = 1;
    o->log_format = LOG_FORMAT_TEXT;
    o->metrics_channels = 100;
    o->replay_speed = 1;
    o->jwt_leeway_ms = 30000;
    o->store_sync = -1;
    a->format = INPUT_LINES;
    a->retry_ms = UINT64_MAX;
}

/* --replay FILE and the options that only go with it. The recording is
 * the input: stdin is not read as events besides it. */
static cli_outcome resolve_replay(ssed_options *o) {
    if (!o->replay_file) {
        const char *needs = o->replay_speed != 1 ? "--speed" : o->replay_loop ? "--loop"
                            : o->replay_from_ms ? "--replay-from" : o->replay_post ? "--method" : NULL;
        if (needs)
            return cli_usage_error(cli.program, "%s: needs --replay FILE", needs);
        return CLI_RUN;
    }
    if (o->redis_url)
        return cli_usage_error(cli.program, "--replay %s: cannot be used with --redis", o->replay_file);
    if (o->replay_loop && strcmp(o->replay_file, "-") == 0)
        return cli_usage_error(cli.program, "--loop: needs a recording file (stdin cannot start again)");
    if (o->replay_post && strcmp(o->replay_file, "-") == 0)
        return cli_usage_error(cli.program, "--method POST: needs a recording file (each POST reads it from its start)");
    o->read_stdin = 0;
    return CLI_RUN;
}

/* What depends on several options, checked once all are read. */
static cli_outcome resolve(ssed_args *a) {
    ssed_options *o = &a->o;
    o->format = (enum input_format)a->format;
    if (a->retry_ms != UINT64_MAX)
        o->retry_ms = (long long)a->retry_ms;
    if (o->listen_count == 0)
        o->listen[o->listen_count++] = "127.0.0.1:8080";
    if (resolve_replay(o) != CLI_RUN)
        return CLI_USAGE;
    if (o->exit_on_eof && !o->read_stdin && !o->replay_file)
        return cli_usage_error(cli.program, "--exit-on-eof: needs stdin (it cannot be used with --no-stdin)");
    if (o->null_separated && o->format != INPUT_LINES)
        return cli_usage_error(cli.program, "--null: only applies to --format lines");
    if (o->token && o->token_file)
        return cli_usage_error(cli.program, "--token-file: give either --token or --token-file, not both");
    if (!o->store_path && (o->store_sync != -1 || o->store_repair))
        return cli_usage_error(cli.program, "%s: needs --store", o->store_repair ? "--store-repair" : "--sync");
    if (o->store_sync == -1)
        o->store_sync = STORE_SYNC_BATCH;
    if (o->redis_url && o->store_path)
        return cli_usage_error(cli.program, "--store: cannot be used with --redis (the cluster's history is in Redis)");
    if (o->redis_prefix && !o->redis_url)
        return cli_usage_error(cli.program, "--redis-prefix: needs --redis");
    if (!o->redis_prefix)
        o->redis_prefix = "ssed";
    if (o->tls_key && !o->tls_cert)
        return cli_usage_error(cli.program, "--tls-key: needs --tls-cert");
    if (o->tls_cert && !o->tls_key)
        return cli_usage_error(cli.program, "--tls-cert: needs --tls-key (the certificate's private key)");
    if (!o->tls_cert && (o->tls_ciphers || o->tls_ciphersuites))
        return cli_usage_error(cli.program, "%s: needs --tls-cert", o->tls_ciphers ? "--tls-ciphers" : "--tls-ciphersuites");
    for (size_t i = 0; i < o->listen_count; i++) {
        enum listener_scheme scheme;
        char why[200];
        if (listener_address_problem(listener_split_scheme(o->listen[i], &scheme), why, sizeof why) < 0)
            return cli_usage_error(cli.program, "--listen %s: %s", o->listen[i], why);
        if (scheme == LISTENER_HTTPS && !o->tls_cert)
            return cli_usage_error(cli.program, "--listen %s: needs --tls-cert and --tls-key", o->listen[i]);
    }
    if (!o->jwt_secret_file && !o->jwt_key_file) {
        const char *needs_jwt = o->jwt_audience ? "--jwt-audience" : o->jwt_issuer ? "--jwt-issuer"
                                : o->jwt_cookie ? "--jwt-cookie" : o->public_count ? "--public" : NULL;
        if (needs_jwt)
            return cli_usage_error(cli.program, "%s: needs --jwt-secret-file or --jwt-key-file", needs_jwt);
    }
    if (o->replay > o->history)
        return cli_usage_error(cli.program, "--replay: cannot be more than --history");
    return CLI_RUN;
}

/* The command line wins over the file also across options that exclude each
 * other: one side of a pair given on the command line drops the file's other
 * side (file "token" + --token-file, file "store" + --redis), and with it
 * what only made sense with that side. */
static void drop_file_exclusives(ssed_args *file, const ssed_args *cmdline) {
    const ssed_options *c = &cmdline->o;
    ssed_options *f = &file->o;
    if (c->token_file)
        f->token = NULL;
    if (c->token)
        f->token_file = NULL;
    if (c->redis_url && f->store_path) {
        f->store_path = NULL;
        f->store_sync = -1;
        f->store_repair = 0;
    }
    if (c->store_path && f->redis_url) {
        f->redis_url = NULL;
        f->redis_prefix = NULL;
    }
}

/* --config: the file's options, then the command line's again over them,
 * so that the command line wins. */
static cli_outcome apply_config(ssed_args *a, int argc, char **argv) {
    ssed_args from_file;
    set_defaults(&from_file);
    cli_outcome rc = config_file_apply(&cli, &from_file, a->config_path, &from_file.o.config_text);
    if (rc == CLI_RUN) {
        config_file_drop_lists(&cli, &from_file, a);
        drop_file_exclusives(&from_file, a);
        int next;
        rc = cli_parse_and_report(&cli, &from_file, argc, argv, &next);
    }
    from_file.config_path = a->config_path;
    *a = from_file;
    return rc;
}

cli_outcome options_parse(ssed_options *o, int argc, char **argv) {
    ssed_args a;
    set_defaults(&a);
    int next;
    cli_outcome rc = cli_parse_and_report(&cli, &a, argc, argv, &next);
    if (rc == CLI_RUN && next < argc)
        rc = cli_usage_error(cli.program, "%s: unexpected argument (ssed takes options only)", argv[next]);
    if (rc == CLI_RUN && a.config_path)
        rc = apply_config(&a, argc, argv);
    if (rc == CLI_RUN)
        rc = resolve(&a);
    *o = a.o;
    return rc;
}

void options_free(ssed_options *o) {
    free(o->config_text);
    o->config_text = NULL;
}
