/* The "ssed" claim of a token, and channel patterns. */
#include "jwt_claims.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "channel_pattern.h"

/* A list of patterns, as a '\n'-ended string. */
static int read_patterns(const json_t *array, char **out, const char **why) {
    *out = NULL;
    if (!array)
        return 0;
    if (!json_is_array(array)) {
        *why = "the ssed claim's subscribe and publish must be arrays of channel patterns";
        return -1;
    }
    buf b = BUF_INIT;
    size_t k;
    const json_t *item;
    int failed = 0;
    json_array_foreach(array, k, item) {
        const char *s = json_string_value(item);
        if (!s || !channel_pattern_valid(s, json_string_length(item))) {
            buf_free(&b);
            *why = "the ssed claim holds an invalid channel pattern";
            return -1;
        }
        failed |= buf_append(&b, s, json_string_length(item)) < 0 || buf_append_char(&b, '\n') < 0;
    }
    if (failed || buf_append_char(&b, '\0') < 0) {
        buf_free(&b);
        *why = "out of memory while reading the token";
        return JWT_NO_MEMORY;
    }
    *out = b.data;
    return 0;
}

int jwt_claims_read(jwt_claims *out, const void *payload, const char **why) {
    const json_t *claim = json_object_get(payload, "ssed");
    memset(out, 0, sizeof *out);
    if (!claim)
        return 0;
    if (!json_is_object(claim)) {
        *why = "the ssed claim must be an object";
        return -1;
    }
    const json_t *admin = json_object_get(claim, "admin");
    if (admin && !json_is_boolean(admin)) {
        *why = "the ssed claim's admin must be true or false";
        return -1;
    }
    out->admin = json_is_true(admin);
    int rc = read_patterns(json_object_get(claim, "subscribe"), &out->subscribe, why);
    if (rc == 0)
        rc = read_patterns(json_object_get(claim, "publish"), &out->publish, why);
    if (rc < 0) {
        jwt_claims_free(out);
        return rc;
    }
    return 0;
}

void jwt_claims_free(jwt_claims *c) {
    free(c->subscribe);
    free(c->publish);
    c->subscribe = c->publish = NULL;
}
