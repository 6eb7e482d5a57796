#include "output.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "json_pretty.h"
#include "sse_encode.h"
#include "terminal.h"
#include "utf8.h"

#define COLOR_TYPE "\033[1;36m"
#define COLOR_ID "\033[33m"
#define COLOR_CHANNEL "\033[35m"
#define COLOR_DIM "\033[2m"
#define COLOR_RESET "\033[0m"

void output_init(output *o, const output_config *cfg) {
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
}

void output_free(output *o) { buf_free(&o->sse_id); }

int output_needs_time(const output *o) {
    return o->cfg.timestamps || o->cfg.format == OUTPUT_JSON || o->cfg.format == OUTPUT_TEMPLATE;
}

/* -F placeholders after '%' and escapes after '\'. */
static const char TEMPLATE_PLACEHOLDERS[] = "tdiIUj%";
static const char TEMPLATE_ESCAPES[] = "ntre\\";

int output_check_template(const char *template, char *err, size_t errlen) {
    for (const char *p = template; *p; p++) {
        if (*p != '%' && *p != '\\')
            continue;
        const char *known = *p == '%' ? TEMPLATE_PLACEHOLDERS : TEMPLATE_ESCAPES;
        if (p[1] == '\0' || !strchr(known, p[1])) {
            snprintf(err, errlen, "unknown %s '%c%c' in '%s' (known: %s)", *p == '%' ? "placeholder" : "escape", *p,
                     p[1] ? p[1] : ' ', template, *p == '%' ? "%t %d %i %I %U %j %%" : "\\n \\t \\r \\e \\\\");
            return -1;
        }
        p++;
    }
    return 0;
}

/* Format second `secs` into o->iso_text, its milliseconds left for
 * append_iso_time to fill. 0, or -1 when it cannot be formatted. */
static int format_iso_second(output *o, time_t secs) {
    struct tm tm;
    if (!gmtime_r(&secs, &tm))
        return -1;
    int n = snprintf(o->iso_text, sizeof o->iso_text, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n <= 0 || (size_t)n >= sizeof o->iso_text)
        return -1;
    o->iso_second = secs;
    o->iso_ms = -1;
    o->iso_len = (size_t)n;
    return 0;
}

/* RFC 3339 in UTC with milliseconds: sortable, and what jq's fromdate and
 * every log tool read. Formatting a date costs more than parsing an event,
 * so each second is formatted once, each millisecond written once, and
 * each event copies the text. */
static int append_iso_time(output *o, buf *out, const struct timespec *now) {
    if (o->iso_len == 0 || o->iso_second != now->tv_sec) {
        o->iso_len = 0;
        if (format_iso_second(o, now->tv_sec) < 0)
            return buf_append_str(out, "1970-01-01T00:00:00.000Z");
    }
    long ms = now->tv_nsec / 1000000L;
    if (ms < 0 || ms > 999) /* not from clock_gettime; printed as it always was */
        return buf_append(out, o->iso_text, o->iso_len - 4) | buf_printf(out, "%03ldZ", ms);
    if (ms != o->iso_ms) {
        char *digits = o->iso_text + o->iso_len - 4;
        digits[0] = (char)('0' + ms / 100);
        digits[1] = (char)('0' + ms / 10 % 10);
        digits[2] = (char)('0' + ms % 10);
        o->iso_ms = ms;
    }
    return buf_append(out, o->iso_text, o->iso_len);
}

static int append_unix_time(buf *out, const struct timespec *now) {
    return buf_printf(out, "%lld.%03ld", (long long)now->tv_sec, now->tv_nsec / 1000000L);
}

/* A string literal, its length known at compile time: -o json appends
 * four per event. */
#define APPEND_LITERAL(out, text) buf_append((out), (text), sizeof(text) - 1)

static int append_json_event(output *o, buf *out, const sse_event *ev, const char *channel, size_t channel_len,
                             const struct timespec *now) {
    int rc = APPEND_LITERAL(out, "{\"type\":");
    rc |= json_append_string(out, ev->type, ev->type_len);
    rc |= APPEND_LITERAL(out, ",\"id\":");
    rc |= json_append_string(out, ev->id, ev->id_len);
    rc |= APPEND_LITERAL(out, ",\"data\":");
    rc |= json_append_string(out, ev->data, ev->data_len);
    if (channel) {
        rc |= APPEND_LITERAL(out, ",\"channel\":");
        rc |= json_append_string(out, channel, channel_len);
    }
    rc |= APPEND_LITERAL(out, ",\"time\":\"");
    rc |= append_iso_time(o, out, now);
    rc |= APPEND_LITERAL(out, "\"}");
    return rc ? -1 : 0;
}

/* Network text in the data, sse and -F formats: as it is, or neutralised
 * when stdout is a terminal (pretty does so always). */
static int append_network(output *o, buf *out, const char *s, size_t len) {
    return o->cfg.terminal ? terminal_safe_append(out, s, len, 1) : buf_append(out, s, len);
}

static int append_colored(output *o, buf *out, const char *color, const char *s, size_t len) {
    int rc = 0;
    if (o->cfg.color)
        rc |= buf_append_str(out, color);
    rc |= terminal_safe_append(out, s, len, 0);
    if (o->cfg.color)
        rc |= buf_append_str(out, COLOR_RESET);
    return rc ? -1 : 0;
}

/* Data lines indented under the header line, so where one event ends and
 * the next begins is plain even for multi-line data. */
static int append_pretty_data(output *o, buf *out, const char *data, size_t len) {
    if (o->cfg.pretty_json) {
        int rc = json_pretty_append(out, data, len, "  ");
        if (rc != 0)
            return rc < 0 ? -1 : buf_append_char(out, '\n');
    }
    size_t pos = 0;
    for (;;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        if ((end > pos && buf_append(out, "  ", 2) < 0) || terminal_safe_append(out, data + pos, end - pos, 0) < 0 ||
            buf_append_char(out, '\n') < 0)
            return -1;
        if (!nl)
            return 0;
        pos = end + 1;
    }
}

static int pretty_time(output *o, buf *out, const struct timespec *now) {
    if (!o->cfg.timestamps)
        return 0;
    int rc = buf_append_str(out, "  ");
    if (o->cfg.color)
        rc |= buf_append_str(out, COLOR_DIM);
    rc |= append_iso_time(o, out, now);
    if (o->cfg.color)
        rc |= buf_append_str(out, COLOR_RESET);
    return rc ? -1 : 0;
}

static int pretty_event(output *o, buf *out, const sse_event *ev, const char *channel, size_t channel_len,
                        const struct timespec *now) {
    int rc = append_colored(o, out, COLOR_TYPE, ev->type, ev->type_len);
    if (channel) {
        rc |= buf_append_str(out, "  channel: ");
        rc |= append_colored(o, out, COLOR_CHANNEL, channel, channel_len);
    }
    if (ev->id_len > 0) {
        rc |= buf_append_str(out, "  id: ");
        rc |= append_colored(o, out, COLOR_ID, ev->id, ev->id_len);
    }
    rc |= pretty_time(o, out, now);
    rc |= buf_append_char(out, '\n');
    rc |= append_pretty_data(o, out, ev->data, ev->data_len);
    return rc ? -1 : 0;
}

/* The sse format writes an id field whenever the downstream client's last
 * event ID would otherwise differ from what this client saw. */
static int sse_stream_event(output *o, buf *out, const sse_event *ev, const struct timespec *now) {
    int id_changed = !o->sse_id_known || o->sse_id.len != ev->id_len ||
                     (ev->id_len && memcmp(o->sse_id.data, ev->id, ev->id_len) != 0);
    sse_out_event out_ev = {
        .type = ev->type, /* the encoder leaves out the default "message" */
        .type_len = ev->type_len,
        .id = ev->id,
        .id_len = ev->id_len,
        .has_id = ev->id_in_event || (id_changed && (o->sse_id_known || ev->id_len > 0)),
        .data = ev->data,
        .data_len = ev->data_len,
        .retry_ms = -1,
    };
    if (o->cfg.timestamps) {
        buf stamp = BUF_INIT;
        int rc = buf_append_str(&stamp, "time ") | append_iso_time(o, &stamp, now);
        rc |= rc ? 0 : sse_encode_comment(out, stamp.data, stamp.len);
        buf_free(&stamp);
        if (rc)
            return -1;
    }
    if (sse_encode_event(out, &out_ev) != SSE_ENCODE_OK)
        return -1;
    if (out_ev.has_id) {
        buf_clear(&o->sse_id);
        if (buf_append(&o->sse_id, ev->id, ev->id_len) < 0)
            return -1;
        o->sse_id_known = 1;
    }
    return 0;
}

static int template_event(output *o, buf *out, const sse_event *ev, const char *channel, size_t channel_len,
                          const struct timespec *now) {
    int rc = 0;
    for (const char *p = o->cfg.template; *p && rc == 0; p++) {
        if ((*p == '%' || *p == '\\') && p[1] == '\0')
            break; /* output_check_template refuses this; never read past the end */
        if (*p == '%') {
            switch (*++p) {
            case 't':
                rc = append_network(o, out, ev->type, ev->type_len);
                break;
            case 'd':
                rc = append_network(o, out, ev->data, ev->data_len);
                break;
            case 'i':
                rc = append_network(o, out, ev->id, ev->id_len);
                break;
            case 'I':
                rc = append_iso_time(o, out, now);
                break;
            case 'U':
                rc = append_unix_time(out, now);
                break;
            case 'j':
                rc = append_json_event(o, out, ev, channel, channel_len, now);
                break;
            default:
                rc = buf_append_char(out, *p);
            }
        } else if (*p == '\\') {
            static const char from[] = "ntre", to[] = "\n\t\r\033";
            const char *k = strchr(from, *++p);
            rc = buf_append_char(out, k && *p ? to[k - from] : *p);
        } else {
            rc = buf_append_char(out, *p);
        }
    }
    return rc;
}

int output_event(output *o, buf *out, const sse_event *ev, const char *channel, size_t channel_len,
                 const struct timespec *now) {
    int rc = 0;
    switch (o->cfg.format) {
    case OUTPUT_DATA:
        if (o->cfg.timestamps)
            rc = append_iso_time(o, out, now) | buf_append_char(out, ' ');
        return rc | append_network(o, out, ev->data, ev->data_len) | buf_append_char(out, '\n');
    case OUTPUT_JSON:
        return append_json_event(o, out, ev, channel, channel_len, now) | buf_append_char(out, '\n');
    case OUTPUT_SSE:
        if (o->cfg.terminal) { /* encoded apart, then neutralised: rare, so no hurry */
            buf encoded = BUF_INIT;
            rc = sse_stream_event(o, &encoded, ev, now);
            rc |= rc ? 0 : terminal_safe_append(out, encoded.data, encoded.len, 1);
            buf_free(&encoded);
            return rc;
        }
        return sse_stream_event(o, out, ev, now);
    case OUTPUT_PRETTY:
        return pretty_event(o, out, ev, channel, channel_len, now);
    case OUTPUT_TEMPLATE:
        return template_event(o, out, ev, channel, channel_len, now);
    case OUTPUT_RECORD:
        return 0;
    }
    return 0;
}

int output_comment(output *o, buf *out, const char *text, size_t len, const struct timespec *now) {
    if (!o->cfg.comments)
        return 0;
    int rc = 0;
    switch (o->cfg.format) {
    case OUTPUT_DATA:
    case OUTPUT_TEMPLATE:
        if (o->cfg.timestamps)
            rc = append_iso_time(o, out, now) | buf_append_char(out, ' ');
        rc |= buf_append_char(out, ':');
        if (len > 0)
            rc |= buf_append_char(out, ' ') | append_network(o, out, text, len);
        return rc | buf_append_char(out, '\n');
    case OUTPUT_JSON:
        rc = buf_append_str(out, "{\"comment\":") | json_append_string(out, text, len);
        rc |= buf_append_str(out, ",\"time\":\"") | append_iso_time(o, out, now);
        return rc | buf_append_str(out, "\"}\n");
    case OUTPUT_SSE:
        if (o->cfg.terminal) {
            buf encoded = BUF_INIT;
            rc = sse_encode_comment(&encoded, text, len) < 0 ? -1 : 0;
            rc |= rc ? 0 : terminal_safe_append(out, encoded.data, encoded.len, 1);
            buf_free(&encoded);
            return rc;
        }
        return sse_encode_comment(out, text, len) < 0 ? -1 : 0;
    case OUTPUT_PRETTY:
        rc = append_colored(o, out, COLOR_DIM, ":", 1);
        if (len > 0)
            rc |= buf_append_char(out, ' ') | append_colored(o, out, COLOR_DIM, text, len);
        return rc | pretty_time(o, out, now) | buf_append_char(out, '\n');
    case OUTPUT_RECORD:
        return 0;
    }
    return 0;
}

int output_retry(output *o, buf *out, unsigned long long ms, const struct timespec *now) {
    if (!o->cfg.comments)
        return 0;
    int rc = 0;
    switch (o->cfg.format) {
    case OUTPUT_DATA:
    case OUTPUT_TEMPLATE:
        if (o->cfg.timestamps)
            rc = append_iso_time(o, out, now) | buf_append_char(out, ' ');
        return rc | buf_printf(out, "retry: %llu\n", ms);
    case OUTPUT_JSON:
        rc = buf_printf(out, "{\"retry\":%llu,\"time\":\"", ms) | append_iso_time(o, out, now);
        return rc | buf_append_str(out, "\"}\n");
    case OUTPUT_SSE:
        return sse_encode_retry(out, ms) < 0 ? -1 : 0;
    case OUTPUT_PRETTY: {
        char text[48];
        int n = snprintf(text, sizeof text, "retry: %llu ms", ms);
        return append_colored(o, out, COLOR_DIM, text, (size_t)n) | pretty_time(o, out, now) |
               buf_append_char(out, '\n');
    }
    case OUTPUT_RECORD:
        return 0;
    }
    return 0;
}
