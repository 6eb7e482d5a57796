/* ssed built without OpenSSL (make JWT=0): the --jwt-* options are refused
 * at start. */
#include <stdio.h>

#include "jwt.h"

jwt_verifier *jwt_verifier_new(const jwt_settings *s, char *err, size_t errlen) {
    (void)s;
    snprintf(err, errlen, "this ssed was built without JWT support (make JWT=0); --jwt-* options are unavailable");
    return NULL;
}

void jwt_verifier_free(jwt_verifier *v) { (void)v; }

int jwt_verify(const jwt_verifier *v, const char *token, size_t len, int64_t now_s, jwt_claims *out,
               const char **why) {
    (void)v, (void)token, (void)len, (void)now_s, (void)out;
    *why = "JWT support is not built in";
    return -1;
}

int64_t jwt_leeway(const jwt_verifier *v) {
    (void)v;
    return 0;
}
