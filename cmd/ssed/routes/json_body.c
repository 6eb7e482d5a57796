/* Checking JSON bodies with jansson: a strict RFC 8259 parser (UTF-8
 * validated, duplicate keys found with JSON_REJECT_DUPLICATES, nesting
 * bounded), kept up by its authors and packaged by Debian with pkg-config;
 * ssed's token verification (jwt.c) uses it too. The body is already
 * bounded by --max-event-size when this runs; jansson gets its memory
 * through json_guard.c, so running out of it is an answer, not a crash. */
#include "json_body.h"

#include <stdio.h>

#include "json_guard.h"

int json_body_check(const char *body, size_t len, char *why, size_t why_size) {
    json_error_t err;
    int out_of_memory;
    json_t *doc = json_guard_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err, &out_of_memory);
    if (doc) {
        json_decref(doc);
        return 0;
    }
    if (out_of_memory) {
        snprintf(why, why_size, "out of memory while checking the JSON body; try again");
        return JSON_BODY_NO_MEMORY;
    }
    snprintf(why, why_size, "the body is not JSON (Content-Type: application/json): %s at line %d, column %d",
             err.text, err.line, err.column);
    return -1;
}
