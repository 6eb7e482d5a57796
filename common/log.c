#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* The program's configuration: set once in main, read everywhere. */
static const char *program_name = "ssetools";
static enum log_level current_level = LOG_NORMAL;
static int with_timestamps;

void log_init(const char *program, enum log_level level) {
    program_name = program;
    current_level = level;
}

void log_set_timestamps(int on) { with_timestamps = on; }

enum log_level log_get_level(void) { return current_level; }

/* "2026-11-30T08:51:00.123Z ", or "" when the clock cannot be read. */
static void timestamp(char *out, size_t size) {
    struct timespec ts;
    struct tm tm;
    out[0] = '\0';
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || !gmtime_r(&ts.tv_sec, &tm))
        return;
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n > 0)
        snprintf(out + n, size - n, ".%03ldZ ", ts.tv_nsec / 1000000);
}

const char *log_program(void) { return program_name; }

static void emit(enum log_level needed, const char *kind, const char *fmt, va_list ap) {
    if (current_level < needed)
        return;
    char line[4096];
    vsnprintf(line, sizeof line, fmt, ap);
    char when[40] = "";
    if (with_timestamps)
        timestamp(when, sizeof when);
    /* One fprintf per message so concurrent writers do not interleave. */
    fprintf(stderr, "%s%s: %s%s\n", when, program_name, kind, line);
}

void log_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_QUIET, "", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_NORMAL, "warning: ", fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_NORMAL, "", fmt, ap);
    va_end(ap);
}

void log_verbose(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_VERBOSE, "", fmt, ap);
    va_end(ap);
}
