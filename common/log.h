/* Messages on stderr, each prefixed with the program's name, filtered by the
 * level chosen with -q / -v. Errors are always shown. A program may ask for
 * timestamps, and for JSON lines instead of text (ssed --log-format). */
#ifndef SSETOOLS_LOG_H
#define SSETOOLS_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2 };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

void log_init(const char *program, enum log_level level);
enum log_level log_get_level(void);
/* Start each text line with an RFC 3339 UTC time (ssed: a log to read
 * later). JSON lines always carry one. */
void log_set_timestamps(int on);
/* One JSON object a line: {"time","level","msg", fields...}. */
void log_set_format(enum log_format format);
const char *log_program(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* normal and verbose */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* normal and verbose */
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* -v only */

/* A structured message: a fixed text and fields a log reader can select
 * on. In text, "msg key=value ..." (a value with spaces, quotes or control
 * characters quoted as a JSON string); in JSON, each field a member. The
 * caller never passes a secret: no token, password or header value. */
enum log_severity { LOG_SEV_ERROR, LOG_SEV_WARN, LOG_SEV_INFO, LOG_SEV_DEBUG /* -v only */ };
typedef struct log_field {
    const char *key;
    const char *text; /* NULL: the field is `number` */
    uint64_t number;
} log_field;
#define LOG_STR(key, value) ((log_field){(key), (value), 0})
#define LOG_NUM(key, value) ((log_field){(key), NULL, (uint64_t)(value)})

void log_fields(enum log_severity severity, const char *msg, const log_field *fields, size_t count);
/* log_event(LOG_SEV_INFO, "disconnect", LOG_STR("peer", p), LOG_NUM("bytes", n)) */
#define log_event(severity, msg, ...)                                                                                  \
    log_fields((severity), (msg), (const log_field[]){__VA_ARGS__},                                                    \
               sizeof((const log_field[]){__VA_ARGS__}) / sizeof(log_field))
/* Whether a message of that severity would be written: skip building
 * fields that cost something. */
int log_enabled(enum log_severity severity);

#endif
