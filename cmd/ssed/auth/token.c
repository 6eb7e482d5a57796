/* The publish token: where it comes from and how it is checked. It is never
 * logged or shown by any endpoint. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "token.h"
#include "token_file.h"

const char *token_load(const ssed_options *o, char **owned) {
    *owned = NULL;
    if (o->token)
        return o->token;
    if (o->token_file) {
        char err[300];
        *owned = token_file_read(o->token_file, err, sizeof err);
        if (!*owned) {
            log_error("--token-file %s", err);
            return TOKEN_ERROR;
        }
        return *owned;
    }
    const char *env = getenv("SSED_TOKEN");
    return env && *env ? env : NULL;
}

int token_matches(const char *token, const char *given, size_t given_len) {
    size_t token_len = strlen(token);
    /* Constant time in the token's content: every byte is compared, and a
     * length mismatch does not return early. */
    unsigned char diff = given_len != token_len;
    for (size_t i = 0; i < token_len; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
    return diff == 0;
}
