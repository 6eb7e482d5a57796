/* SIGHUP's work: each reloadable thing is read again on its own, so one
 * that fails keeps its old value and does not stop the others. */
#include <stdlib.h>

#include "jwt.h"
#include "jwt_cache.h"
#include "log.h"
#include "reload.h"
#include "tls.h"
#include "token_file.h"

/* Certificate renewals (certbot's deploy hook) reach new connections
 * without dropping the ones open. */
static void reload_tls(server *srv) {
    char err[600], what[400];
    if (tls_server_reload(srv->tls, err, sizeof err) < 0) {
        log_error("SIGHUP: keeping the TLS certificate in use: %s", err);
        return;
    }
    tls_server_describe(srv->tls, what, sizeof what);
    log_info("SIGHUP: TLS certificate reloaded for new connections: %s", what);
}

/* --token-file: a rotated publish token counts from the next request. */
static void reload_token(server *srv) {
    char err[300];
    char *fresh = token_file_read(srv->opt->token_file, err, sizeof err);
    if (!fresh) {
        log_error("SIGHUP: keeping the publish token in use: --token-file %s", err);
        return;
    }
    free(srv->token_owned);
    srv->token_owned = fresh;
    srv->token = fresh;
    log_info("SIGHUP: publish token reloaded from --token-file %s", srv->opt->token_file);
}

/* --jwt-secret-file, --jwt-key-file: new keys for tokens presented from
 * now on; tokens verified with the old keys are forgotten (the cache), and
 * streams already open keep going until their exp. */
static void reload_jwt(server *srv) {
    const ssed_options *o = srv->opt;
    jwt_settings settings = {o->jwt_secret_file, o->jwt_key_file, o->jwt_audience, o->jwt_issuer,
                             (int64_t)(o->jwt_leeway_ms / 1000)};
    char err[400];
    jwt_verifier *fresh = jwt_verifier_new(&settings, err, sizeof err);
    jwt_cache *cache = fresh ? jwt_cache_new(settings.leeway_s) : NULL;
    if (!cache) {
        log_error("SIGHUP: keeping the JWT keys in use: %s", fresh ? "out of memory" : err);
        jwt_verifier_free(fresh);
        return;
    }
    jwt_verifier_free(srv->jwt);
    jwt_cache_free(srv->jwt_cache);
    srv->jwt = fresh;
    srv->jwt_cache = cache;
    log_info("SIGHUP: JWT keys reloaded from %s%s%s", o->jwt_secret_file ? o->jwt_secret_file : "",
             o->jwt_secret_file && o->jwt_key_file ? " and " : "", o->jwt_key_file ? o->jwt_key_file : "");
}

void reload_all(server *srv) {
    int done = 0;
    if (srv->tls) {
        reload_tls(srv);
        done = 1;
    }
    /* --token (or SSED_TOKEN) wins over --token-file, as at start. */
    if (srv->opt->token_file && !srv->opt->token) {
        reload_token(srv);
        done = 1;
    }
    if (srv->jwt) {
        reload_jwt(srv);
        done = 1;
    }
    if (!done)
        log_info("SIGHUP: nothing to reload (no --tls-cert, --token-file, --jwt-secret-file or --jwt-key-file)");
}
