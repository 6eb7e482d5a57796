/* ssed --check (-t): read and check everything starting would read, then
 * exit without serving, as nginx -t does, so an operator (or a deploy
 * script, before systemctl reload) learns of a bad file before a restart
 * does. Options and the configuration file were checked by options_parse
 * already; this reads the files they name. Nothing is created, locked or
 * bound: a running ssed holding the store or the port is no problem. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "exit_codes.h"
#include "h2.h"
#include "jwt.h"
#include "log.h"
#include "replay_reader.h"
#include "store.h"
#include "tls.h"
#include "token.h"

/* The folder path names, which must let this user create a file there
 * (the store's file and journal, a FIFO ssed makes). */
static int check_folder_writable(const char *option, const char *path) {
    char *copy = strdup(path);
    if (!copy) {
        log_error("%s %s: out of memory", option, path);
        return -1;
    }
    const char *dir = dirname(copy);
    struct stat st;
    int rc = 0;
    if (stat(dir, &st) < 0) {
        log_error("%s %s: folder %s: %s", option, path, dir, strerror(errno));
        rc = -1;
    } else if (!S_ISDIR(st.st_mode)) {
        log_error("%s %s: %s is not a folder", option, path, dir);
        rc = -1;
    } else if (access(dir, W_OK | X_OK) < 0) {
        log_error("%s %s: cannot create files in %s: %s", option, path, dir, strerror(errno));
        rc = -1;
    }
    free(copy);
    return rc;
}

/* --store: an existing store must be a file this user may read and write;
 * a new one needs a writable folder (SQLite also writes PATH-wal beside
 * it). Whether it is a sound ssed store is left to the start, which may
 * repair it. */
static int check_store(const char *path) {
    if (!store_available) {
        log_error("--store %s: this ssed was built without a store engine (make STORE=0)", path);
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno != ENOENT) {
            log_error("--store %s: %s", path, strerror(errno));
            return -1;
        }
        return check_folder_writable("--store", path);
    }
    if (!S_ISREG(st.st_mode)) {
        log_error("--store %s: not a regular file (a link, folder or device is refused)", path);
        return -1;
    }
    if (access(path, R_OK | W_OK) < 0) {
        log_error("--store %s: %s", path, strerror(errno));
        return -1;
    }
    return check_folder_writable("--store", path);
}

/* --fifo: an existing one must be a FIFO ssed may read; a missing one is
 * created at start, so its folder must take it. */
static int check_fifo(const char *path) {
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT) {
            log_error("--fifo %s: %s", path, strerror(errno));
            return -1;
        }
        return check_folder_writable("--fifo", path);
    }
    if (!S_ISFIFO(st.st_mode)) {
        log_error("--fifo %s: exists and is not a FIFO", path);
        return -1;
    }
    if (access(path, R_OK) < 0) {
        log_error("--fifo %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* --tls-cert and --tls-key: loaded as at start (readable, the key matches
 * the certificate, the certificate valid now), then let go. */
static int check_tls(const ssed_options *o) {
    char err[600], what[400];
    const tls_config cfg = {o->tls_cert, o->tls_key, o->tls_ciphers, o->tls_ciphersuites, h2_available};
    tls_server *ts = tls_server_new(&cfg, err, sizeof err);
    if (!ts) {
        log_error("%s", err);
        return -1;
    }
    tls_server_describe(ts, what, sizeof what);
    log_info("check: TLS certificate %s: %s", o->tls_cert, what);
    tls_server_free(ts);
    return 0;
}

/* --jwt-secret-file, --jwt-key-file: read and parsed as at start. */
static int check_jwt(const ssed_options *o) {
    jwt_settings settings = {o->jwt_secret_file, o->jwt_key_file, o->jwt_audience, o->jwt_issuer,
                             (int64_t)(o->jwt_leeway_ms / 1000)};
    char err[400];
    jwt_verifier *v = jwt_verifier_new(&settings, err, sizeof err);
    if (!v) {
        log_error("%s", err);
        return -1;
    }
    jwt_verifier_free(v);
    return 0;
}

static void ignore_item(void *ctx, const replay_item *it) {
    (void)ctx;
    (void)it;
}

/* --replay FILE: it must open and start as a recording of a known version
 * (its first line; the rest is read as it plays). */
static int check_replay(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        log_error("--replay %s: %s", path, strerror(errno));
        return -1;
    }
    char head[256];
    size_t n = fread(head, 1, sizeof head, f);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        log_error("--replay %s: read failed", path);
        return -1;
    }
    replay_reader r;
    replay_reader_handlers h = {ignore_item, NULL, NULL};
    replay_reader_init(&r, 1 << 20, &h);
    int rc = replay_reader_feed(&r, head, n);
    if (rc == 0 && n < sizeof head)
        rc = replay_reader_finish(&r);
    if (rc < 0)
        log_error("--replay %s: %s", path, r.err);
    replay_reader_free(&r);
    return rc;
}

int check_run(const ssed_options *o) {
    int bad = 0;
    char *owned = NULL;
    /* token_load logs what is wrong with --token-file itself. */
    if (token_load(o, &owned) == TOKEN_ERROR)
        bad = 1;
    free(owned);
    if ((o->jwt_secret_file || o->jwt_key_file) && check_jwt(o) < 0)
        bad = 1;
    if (o->tls_cert && check_tls(o) < 0)
        bad = 1;
    if (o->store_path && check_store(o->store_path) < 0)
        bad = 1;
    if (o->fifo_path && check_fifo(o->fifo_path) < 0)
        bad = 1;
    if (o->replay_file && strcmp(o->replay_file, "-") != 0 && check_replay(o->replay_file) < 0)
        bad = 1;
    if (bad) {
        log_error("check: the configuration has errors; nothing was started");
        return EXIT_USAGE;
    }
    log_info("check: the configuration is good (options, files, certificates and keys); nothing was started");
    return EXIT_OK;
}
