#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "json.h"

/* The program's configuration: set once in main, read everywhere. */
static const char *program_name = "ssetools";
static enum log_level current_level = LOG_NORMAL;
static int with_timestamps;
static enum log_format current_format = LOG_FORMAT_TEXT;

void log_init(const char *program, enum log_level level) {
    program_name = program;
    current_level = level;
}

void log_set_timestamps(int on) { with_timestamps = on; }

void log_set_format(enum log_format format) { current_format = format; }

enum log_level log_get_level(void) { return current_level; }

const char *log_program(void) { return program_name; }

static const struct {
    enum log_level needed;
    const char *name;        /* in JSON */
    const char *text_prefix; /* in text, after the program's name */
} severities[] = {
    [LOG_SEV_ERROR] = {LOG_QUIET, "error", ""},
    [LOG_SEV_WARN] = {LOG_NORMAL, "warn", "warning: "},
    [LOG_SEV_INFO] = {LOG_NORMAL, "info", ""},
    [LOG_SEV_DEBUG] = {LOG_VERBOSE, "debug", ""},
};

int log_enabled(enum log_severity severity) { return current_level >= severities[severity].needed; }

/* "2026-11-30T08:51:00.123Z", or "" when the clock cannot be read. */
static void timestamp(char *out, size_t size) {
    struct timespec ts;
    struct tm tm;
    out[0] = '\0';
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || !gmtime_r(&ts.tv_sec, &tm))
        return;
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n > 0)
        snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* A text value as is when a reader can split on spaces and '='; else
 * quoted and escaped as a JSON string. */
static void append_text_value(buf *line, const char *s) {
    size_t len = strlen(s);
    int plain = len > 0;
    for (size_t i = 0; i < len && plain; i++)
        plain = (unsigned char)s[i] > ' ' && s[i] != '"' && s[i] != '=' && s[i] != '\\' && (unsigned char)s[i] < 0x7f;
    if (plain)
        buf_append(line, s, len);
    else
        json_append_string(line, s, len);
}

static void append_text(buf *line, const char *when, enum log_severity severity, const char *msg,
                        const log_field *fields, size_t count) {
    if (when[0])
        buf_printf(line, "%s ", when);
    buf_printf(line, "%s: %s%s", program_name, severities[severity].text_prefix, msg);
    for (size_t i = 0; i < count; i++) {
        buf_printf(line, " %s=", fields[i].key);
        if (fields[i].text)
            append_text_value(line, fields[i].text);
        else
            buf_printf(line, "%llu", (unsigned long long)fields[i].number);
    }
}

static void append_json(buf *line, const char *when, enum log_severity severity, const char *msg,
                        const log_field *fields, size_t count) {
    buf_printf(line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", when, severities[severity].name);
    json_append_string(line, msg, strlen(msg));
    for (size_t i = 0; i < count; i++) {
        buf_append_char(line, ',');
        json_append_string(line, fields[i].key, strlen(fields[i].key));
        buf_append_char(line, ':');
        if (fields[i].text)
            json_append_string(line, fields[i].text, strlen(fields[i].text));
        else
            buf_printf(line, "%llu", (unsigned long long)fields[i].number);
    }
    buf_append_char(line, '}');
}

void log_fields(enum log_severity severity, const char *msg, const log_field *fields, size_t count) {
    if (!log_enabled(severity))
        return;
    char when[40] = "";
    if (with_timestamps || current_format == LOG_FORMAT_JSON)
        timestamp(when, sizeof when);
    buf line = BUF_INIT;
    if (current_format == LOG_FORMAT_JSON)
        append_json(&line, when, severity, msg, fields, count);
    else
        append_text(&line, when, severity, msg, fields, count);
    /* One write per message so concurrent writers do not interleave; out
     * of memory, the message alone is better than nothing. */
    if (buf_append_char(&line, '\n') == 0)
        fwrite(line.data, 1, line.len, stderr);
    else
        fprintf(stderr, "%s: %s\n", program_name, msg);
    buf_free(&line);
}

static void emit(enum log_severity severity, const char *fmt, va_list ap) {
    if (!log_enabled(severity))
        return;
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    log_fields(severity, msg, NULL, 0);
}

void log_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_SEV_ERROR, fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_SEV_WARN, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_SEV_INFO, fmt, ap);
    va_end(ap);
}

void log_verbose(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_SEV_DEBUG, fmt, ap);
    va_end(ap);
}
