/* ssed: serve events from stdin or a FIFO to any number of Server-Sent
 * Events subscribers. Parse options, listen, open the inputs, run the loop,
 * shut down cleanly. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "cluster_node.h"
#include "connection.h"
#include "h2.h"
#include "input.h"
#include "replay.h"
#include "jwt.h"
#include "jwt_cache.h"
#include "listener.h"
#include "log.h"
#include "reload.h"
#include "router.h"
#include "serving.h"
#include "signal_source.h"
#include "store_loop.h"
#include "systemd_notify.h"
#include "systemd_sockets.h"
#include "tls.h"
#include "token.h"

/* Descriptors kept back from --max-clients for listeners, inputs, epoll. */
#define RESERVED_FDS 32

static uint64_t raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        struct rlimit raised = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = want;
        else
            log_warn("cannot raise the descriptor limit to %llu: %s", (unsigned long long)want, strerror(errno));
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1048576 : (uint64_t)rl.rlim_cur;
}

static void on_signal(loop_watch *w, uint32_t events) {
    (void)events;
    server *srv = (server *)((char *)w - offsetof(server, signal_watch));
    int signo;
    while ((signo = signal_source_next(srv->signal_fd)) != 0) {
        if (signo == SIGHUP) {
            reload_all(srv);
        } else if (srv->stopping) {
            log_info("second signal: closing now");
            server_close_all(srv);
        } else {
            log_info("%s received: closing streams", strsignal(signo));
            server_begin_shutdown(srv);
        }
    }
}

static int setup_signals(server *srv) {
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP); /* reload.c: never an end, with or without TLS */
    srv->signal_fd = signal_source_open(&set);
    if (srv->signal_fd < 0) {
        log_error("taking over SIGINT, SIGTERM and SIGHUP: %s", strerror(errno));
        return -1;
    }
    srv->signal_watch.on_ready = on_signal;
    if (loop_add(&srv->loop, srv->signal_fd, LOOP_IN, &srv->signal_watch) < 0) {
        log_error("%s signals: %s", loop_backend, strerror(errno));
        return -1;
    }
    return 0;
}

/* Watch a listening socket, opened by ssed or passed by systemd. */
static int watch_listener(server *srv, int fd, const char *url, const char *name, int tls) {
    listener_watch *l = &srv->listeners[srv->listener_count++];
    l->fd = fd;
    l->srv = srv;
    l->tls = tls;
    l->watch.on_ready = server_accept_ready;
    snprintf(l->url, sizeof l->url, "%s", url);
    snprintf(l->name, sizeof l->name, "%s", name);
    if (loop_add(&srv->loop, fd, LOOP_IN, &l->watch) < 0) {
        log_error("%s %s: %s", loop_backend, url, strerror(errno));
        return -1;
    }
    return 0;
}

/* Socket activation: systemd's sockets replace --listen. 1 if there were
 * some, 0 if none, -1 on error (logged). */
static int take_systemd_sockets(server *srv) {
    systemd_socket passed[SSED_MAX_LISTEN];
    char err[400], url[300];
    int count = systemd_sockets_take(passed, SSED_MAX_LISTEN, err, sizeof err);
    if (count < 0)
        log_error("%s", err);
    if (count <= 0)
        return count;
    log_info("socket activation: serving the %d socket%s systemd passed (--listen is not used)", count,
             count == 1 ? "" : "s");
    for (int i = 0; i < count; i++) {
        if (listener_url(passed[i].fd, url, sizeof url) < 0) {
            log_error("socket activation: descriptor %d: getsockname: %s", passed[i].fd, strerror(errno));
            return -1;
        }
        /* A socket named "http" or "https" (FileDescriptorName=) says
         * what it speaks, as --listen's scheme does; others follow
         * --tls-cert. */
        int tls = strcmp(passed[i].name, "http") == 0 ? 0 : strcmp(passed[i].name, "https") == 0 ? 1 : srv->tls != NULL;
        if (tls && !srv->tls) {
            log_error("socket activation: socket named 'https' needs --tls-cert and --tls-key");
            return -1;
        }
        if (tls)
            listener_url_tls(url, sizeof url);
        if (watch_listener(srv, passed[i].fd, url, passed[i].name, tls) < 0)
            return -1;
    }
    return 1;
}

static int open_listeners(server *srv) {
    int activated = take_systemd_sockets(srv);
    if (activated < 0)
        return -1;
    for (size_t i = 0; !activated && i < srv->opt->listen_count; i++) {
        char err[400], url[300];
        enum listener_scheme scheme;
        const char *addr = listener_split_scheme(srv->opt->listen[i], &scheme);
        int fd = listener_open(addr, srv->opt->reuse_port, url, sizeof url, err, sizeof err);
        if (fd < 0) {
            log_error("%s", err);
            return -1;
        }
        int tls = scheme == LISTENER_HTTPS || (scheme == LISTENER_DEFAULT && srv->tls);
        if (tls)
            listener_url_tls(url, sizeof url);
        if (watch_listener(srv, fd, url, "", tls) < 0)
            return -1;
    }
    return 0;
}

/* Said once every input is open too, so nothing says "serving" that then
 * fails to start. */
static void log_serving(const server *srv) {
    /* The name goes after the whole URL: "serving http://...:80/news (web)". */
    for (size_t i = 0; i < srv->listener_count; i++) {
        const listener_watch *l = &srv->listeners[i];
        log_info("serving %s%s%s%s%s", l->url, srv->opt->channel[0] ? srv->opt->channel : "", l->name[0] ? " (" : "",
                 l->name, l->name[0] ? ")" : "");
    }
    /* Scripts read the port from this line; make sure it is out now. */
    fflush(stderr);
}

/* --jwt-secret-file, --jwt-key-file: the keys tokens are verified with. */
static int open_jwt(server *srv) {
    const ssed_options *o = srv->opt;
    if (!o->jwt_secret_file && !o->jwt_key_file)
        return 0;
    jwt_settings settings = {o->jwt_secret_file, o->jwt_key_file, o->jwt_audience, o->jwt_issuer,
                             (int64_t)(o->jwt_leeway_ms / 1000)};
    char err[400];
    srv->jwt = jwt_verifier_new(&settings, err, sizeof err);
    if (!srv->jwt) {
        log_error("%s", err);
        return -1;
    }
    srv->jwt_cache = jwt_cache_new(settings.leeway_s);
    if (!srv->jwt_cache) {
        log_error("start-up: out of memory");
        return -1;
    }
    return 0;
}

/* --exit-on-eof: the end of stdin stops the server. */
static void shut_down_at_end(void *ctx) { server_begin_shutdown(ctx); }

static int open_inputs(server *srv) {
    const ssed_options *o = srv->opt;
    /* The input holds its channel for the whole run. */
    srv->input_channel = hub_channel_acquire(&srv->hub, o->channel, strlen(o->channel), HUB_FOR_PUBLISHING);
    if (!srv->input_channel) {
        log_error("cannot create channel /%s", o->channel);
        return -1;
    }
    input_target to = {&srv->loop, &srv->hub, &srv->intake, srv->input_channel, o, &srv->stats.oversized_records,
                       o->exit_on_eof ? shut_down_at_end : NULL, srv, NULL, NULL, NULL};
    server_cluster_input_target(srv, &to);
    if (o->read_stdin && input_open_stdin(&srv->inputs[srv->input_count++], &to) < 0)
        return -1;
    if (o->fifo_path && input_open_fifo(&srv->inputs[srv->input_count++], &to, o->fifo_path, o->fifo_mode) < 0)
        return -1;
    return 0;
}

/* An input epoll cannot watch, and that is not paused (by the store or the
 * cluster link): the loop must not wait for it. */
static int any_always_ready_input(server *srv) {
    for (size_t i = 0; i < srv->input_count; i++)
        if (input_wants_polling(&srv->inputs[i]))
            return 1;
    return 0;
}

/* The sooner of two loop timeouts (-1: none). */
static int earliest_timeout(int a, int b) {
    if (a < 0)
        return b;
    return b < 0 || a < b ? a : b;
}

/* --tls-cert: load and check the certificate and key now, so a bad one
 * stops ssed at start. */
static int open_tls(server *srv) {
    char err[600], what[400];
    const tls_config cfg = {srv->opt->tls_cert, srv->opt->tls_key, srv->opt->tls_ciphers, srv->opt->tls_ciphersuites,
                           h2_available};
    srv->tls = tls_server_new(&cfg, err, sizeof err);
    if (!srv->tls) {
        log_error("%s", err);
        return -1;
    }
    tls_server_describe(srv->tls, what, sizeof what);
    log_info("TLS certificate: %s", what);
    return 0;
}

static void run(server *srv, systemd_notifier *notifier) {
    int more_to_flush = 0;
    int told_stopping = 0;
    for (;;) {
        uint64_t now = clock_now_ms();
        if (srv->stopping && !told_stopping) {
            systemd_notify(notifier, "STOPPING=1");
            told_stopping = 1;
        }
        /* Input read before the stop is sent to Redis first, as a single
         * ssed publishes it before it exits. */
        if (srv->stopping &&
            ((srv->conn_count == 0 && !server_cluster_unconfirmed(srv)) || now >= srv->stop_deadline_ms))
            break;
        int timeout = more_to_flush || server_has_buffered_input(srv) || any_always_ready_input(srv)
                          ? 0
                          : earliest_timeout(earliest_timeout(server_next_timeout(srv, now), server_store_timeout(srv, now)),
                                             server_cluster_timeout(srv, now));
        timeout = earliest_timeout(timeout, systemd_watchdog_timeout(notifier, now));
        timeout = earliest_timeout(timeout, server_replay_timeout(srv, now));
        if (srv->opt->fifo_path && (timeout < 0 || timeout > INPUT_FIFO_CHECK_MS))
            timeout = INPUT_FIFO_CHECK_MS;
        srv->handshakes_left = SERVER_HANDSHAKES_PER_TURN;
        if (loop_run_once(&srv->loop, timeout) < 0) {
            log_error("%s wait: %s", loop_backend, strerror(errno));
            break;
        }
        server_read_buffered(srv);
        for (size_t i = 0; i < srv->input_count; i++) {
            input_poll_always_ready(&srv->inputs[i]);
            input_check_fifo(&srv->inputs[i], clock_now_ms());
        }
        server_run_timers(srv, clock_now_ms());
        server_replay_step(srv, clock_now_ms());
        /* Committed before subscribers are written to: what they see is in
         * the store (or queued for it while it cannot write). */
        server_store_step(srv, clock_now_ms());
        server_cluster_step(srv, clock_now_ms());
        systemd_watchdog_step(notifier, clock_now_ms());
        more_to_flush = server_flush_dirty(srv);
        server_free_graveyard(srv);
    }
    server_close_all(srv);
    server_free_graveyard(srv);
}

static const stream_routes routes = {router_handle, router_body, router_body_end, router_close};

int main(int argc, char **argv) {
    ssed_options opt;
    cli_outcome parsed = options_parse(&opt, argc, argv);
    if (parsed != CLI_RUN) {
        options_free(&opt);
        return cli_exit_status(parsed);
    }
    log_init("ssed", (enum log_level)opt.verbosity);
    /* A server's log is read later: every line says when (--check's
     * answer is read at once, by whoever ran it). */
    log_set_timestamps(!opt.check_only);
    log_set_format((enum log_format)opt.log_format);
    if (opt.check_only) {
        int checked = check_run(&opt);
        options_free(&opt);
        return checked;
    }

    int status = EXIT_RUNTIME;
    int replay_status = 0; /* --replay FILE: a recording that cannot be played (replay.h) */
    server srv;
    systemd_notifier notifier;
    systemd_notifier_open(&notifier, clock_now_ms());
    uint64_t fd_limit = raise_fd_limit();
    if (server_init(&srv, &opt, &routes) < 0) {
        log_error("start-up: %s", strerror(errno ? errno : ENOMEM));
        goto cleanup;
    }
    if (!opt.max_clients)
        srv.max_clients = fd_limit > RESERVED_FDS * 2 ? fd_limit - RESERVED_FDS : fd_limit / 2;
    srv.token = token_load(&opt, &srv.token_owned);
    if (srv.token == TOKEN_ERROR || open_jwt(&srv) < 0)
        goto cleanup;
    if ((!opt.tls_cert || open_tls(&srv) == 0) && (!opt.store_path || server_store_open(&srv) == 0) && (!opt.redis_url || server_cluster_open(&srv) == 0) &&
        setup_signals(&srv) == 0 &&
        open_listeners(&srv) == 0 && open_inputs(&srv) == 0 &&
        (replay_status = server_replay_open(&srv, server_begin_shutdown)) == 0) {
        log_serving(&srv);
        systemd_notify(&notifier, "READY=1");
        run(&srv, &notifier);
        status = srv.exit_status ? srv.exit_status : EXIT_OK;
    } else if (replay_status) {
        status = replay_status;
    }
cleanup:
    server_replay_close(&srv);
    server_cluster_close(&srv);
    server_store_close(&srv);
    for (size_t i = 0; i < srv.input_count; i++)
        input_close(&srv.inputs[i]);
    if (srv.signal_fd >= 0)
        close(srv.signal_fd);
    jwt_cache_free(srv.jwt_cache);
    jwt_verifier_free(srv.jwt);
    server_free(&srv);
    free(srv.token_owned);
    systemd_notifier_close(&notifier);
    options_free(&opt);
    return status;
}
