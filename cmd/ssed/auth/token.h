#ifndef SSED_TOKEN_H
#define SSED_TOKEN_H

#include <stddef.h>

#include "options.h"

#define TOKEN_ERROR ((const char *)-1)

/* The token from --token, --token-file or SSED_TOKEN; NULL when none is
 * set; TOKEN_ERROR (after logging why) when the file cannot be used.
 * *owned is what the caller frees. */
const char *token_load(const ssed_options *o, char **owned);

/* Compare in time independent of where the strings differ. */
int token_matches(const char *token, const char *given, size_t given_len);

#endif
