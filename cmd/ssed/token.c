/* The publish token: where it comes from and how it is checked. It is never
 * logged or shown by any endpoint. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "token.h"

const char *token_load(const ssed_options *o, char **owned) {
    *owned = NULL;
    if (o->token)
        return o->token;
    if (o->token_file) {
        FILE *f = fopen(o->token_file, "r");
        if (!f) {
            log_error("--token-file %s: %s", o->token_file, strerror(errno));
            return TOKEN_ERROR;
        }
        char line[4096];
        if (!fgets(line, sizeof line, f)) {
            fclose(f);
            log_error("--token-file %s: empty file", o->token_file);
            return TOKEN_ERROR;
        }
        fclose(f);
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || strpbrk(line, " \t")) {
            log_error("--token-file %s: the first line must be the token (no spaces)", o->token_file);
            return TOKEN_ERROR;
        }
        *owned = strdup(line);
        if (!*owned) {
            log_error("--token-file %s: out of memory", o->token_file);
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
