/* ssed's configuration: parsed and validated once at start. */
#ifndef SSED_OPTIONS_H
#define SSED_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "exit_codes.h"

#define SSED_MAX_LISTEN 16
#define SSED_MAX_PUBLIC 64

enum input_format { INPUT_LINES, INPUT_SSE };
/* --sync: when the store (store.h) asks the disk to keep what it wrote. */
enum store_sync { STORE_SYNC_OFF, STORE_SYNC_BATCH, STORE_SYNC_ALWAYS };
/* --metrics-channels' ceiling: the channels one scrape labels (metrics.h). */
#define METRICS_MAX_CHANNELS 1000

typedef struct ssed_options {
    const char *listen[SSED_MAX_LISTEN];
    size_t listen_count;
    int read_stdin;
    const char *fifo_path;
    mode_t fifo_mode;
    enum input_format format;
    int null_separated;
    const char *event_type;
    const char *channel;
    uint64_t max_event_size;
    uint64_t history;
    uint64_t max_history_bytes; /* 0: no cap */
    uint64_t replay;
    /* --replay FILE (replay.h): a recording served at its pace; NULL: none.
     * "-" is stdin. */
    const char *replay_file;
    double replay_speed;      /* --speed; 0: max */
    int replay_loop;          /* --loop */
    uint64_t replay_from_ms;  /* --replay-from */
    int replay_post;          /* --method POST: a POST to the channel gets the recording */
    uint64_t keepalive_ms;
    long long retry_ms; /* -1: no retry field */
    uint64_t max_pending;
    uint64_t max_clients; /* 0: from the descriptor limit */
    uint64_t max_channels;
    uint64_t header_timeout_ms;
    uint64_t max_header_size;
    uint64_t h2_max_streams; /* --h2-max-streams: SETTINGS_MAX_CONCURRENT_STREAMS */
    uint64_t h2_conn_buffer;  /* --h2-conn-buffer: frame bytes one HTTP/2 connection's streams hold */
    uint64_t h2_total_buffer; /* --h2-total-buffer: frame bytes all HTTP/2 connections hold */
    uint64_t shutdown_timeout_ms;
    const char *cors_origin;
    const char *allow_host[SSED_MAX_LISTEN];
    size_t allow_host_count;
    const char *token;
    const char *token_file;
    int no_publish;
    /* JWT (--jwt-secret-file or --jwt-key-file set): subscribers and
     * publishers need tokens whose claims allow their channels. */
    const char *jwt_secret_file;
    const char *jwt_key_file;
    const char *jwt_audience;
    const char *jwt_issuer;
    uint64_t jwt_leeway_ms;
    const char *jwt_cookie;
    const char *public_channels[SSED_MAX_PUBLIC]; /* patterns anonymous subscribers may read */
    size_t public_count;
    int no_ui;
    int exit_on_eof;
    int check_only; /* --check: read and check the configuration's files, serve nothing */
    const char *store_path; /* NULL: history in memory only */
    int store_sync;         /* enum store_sync */
    int store_repair;
    const char *redis_url;    /* --redis; NULL: a single server */
    const char *redis_prefix; /* --redis-prefix (default ssed) */
    int reuse_port;
    const char *tls_cert; /* --tls-cert; NULL: no TLS listener */
    const char *tls_key;
    const char *tls_ciphers;      /* --tls-ciphers; NULL: ssed's modern default (TLS 1.2) */
    const char *tls_ciphersuites; /* --tls-ciphersuites; NULL: OpenSSL's default (TLS 1.3) */
    int verbosity; /* 0 quiet, 1 normal, 2 verbose */
    int log_format; /* enum log_format */
    uint64_t metrics_channels; /* channels /_ssed/metrics labels; the rest are summed */
    char *config_text; /* --config's contents, which string options point into; freed by options_free */
} ssed_options;

/* Parse argv into o. CLI_RUN (0) to go on; CLI_DONE (1) after --help or
 * --version; CLI_USAGE (2) after a usage error (reported). main turns the
 * last two into an exit status with cli_exit_status. */
cli_outcome options_parse(ssed_options *o, int argc, char **argv);

/* Free what options_parse allocated (whatever it returned). */
void options_free(ssed_options *o);

#endif
