#include "log.h"

#include <stdarg.h>
#include <stdio.h>

/* The program's configuration: set once in main, read everywhere. */
static const char *program_name = "ssetools";
static enum log_level current_level = LOG_NORMAL;

void log_init(const char *program, enum log_level level) {
    program_name = program;
    current_level = level;
}

enum log_level log_get_level(void) { return current_level; }

const char *log_program(void) { return program_name; }

static void emit(enum log_level needed, const char *kind, const char *fmt, va_list ap) {
    if (current_level < needed)
        return;
    char line[4096];
    vsnprintf(line, sizeof line, fmt, ap);
    /* One fprintf per message so concurrent writers do not interleave. */
    fprintf(stderr, "%s: %s%s\n", program_name, kind, line);
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
