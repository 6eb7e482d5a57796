/* Messages on stderr, each prefixed with the program's name, filtered by the
 * level chosen with -q / -v. Errors are always shown. */
#ifndef SSETOOLS_LOG_H
#define SSETOOLS_LOG_H

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2 };

void log_init(const char *program, enum log_level level);
enum log_level log_get_level(void);
/* Start each line with an RFC 3339 UTC time (ssed -v: a log to read later). */
void log_set_timestamps(int on);
const char *log_program(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* normal and verbose */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* normal and verbose */
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* -v only */

#endif
