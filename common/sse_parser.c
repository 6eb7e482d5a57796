#include "sse_parser.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "line_end.h"
#include "utf8.h"

/* The longest field name ("event", "retry") plus colon and space: a line may
 * exceed the event size limit by this much and still carry a full event. */
#define FIELD_OVERHEAD 16

void sse_parser_init(sse_parser *p, size_t max_event_size, const sse_parser_handlers *handlers) {
    memset(p, 0, sizeof *p);
    if (handlers)
        p->handlers = *handlers;
    p->max_event_size = max_event_size ? max_event_size : SSE_DEFAULT_MAX_EVENT_SIZE;
    p->bom_pending = 1;
    p->last_id = "";
}

/* ids[cur_id] became the last event ID string: keep its text at hand. */
static void note_last_id(sse_parser *p) {
    const buf *id = &p->ids[p->cur_id];
    p->last_id = id->len ? id->data : "";
    p->last_id_len = id->len;
}

int sse_parser_set_last_id(sse_parser *p, const char *id, size_t len) {
    p->id_pending = 0;
    buf_clear(&p->ids[p->cur_id]);
    int rc = utf8_sanitize_append(&p->ids[p->cur_id], id, len);
    note_last_id(p);
    return rc;
}

/* A blank line: the last event ID string becomes the last event ID buffer,
 * whether or not an event is dispatched (the spec's dispatch, step 1). */
static void commit_id(sse_parser *p) {
    if (p->id_pending) { /* rare: most events carry no id */
        p->cur_id ^= 1;
        p->id_pending = 0;
        note_last_id(p);
    }
}

static void reset_event(sse_parser *p) {
    buf_clear(&p->data);
    p->data_in_place = NULL;
    p->data_in_place_len = 0;
    buf_clear(&p->type);
    p->id_in_event = 0;
}

/* Bytes of data held for the current event, each line with its LF. */
static size_t data_bytes(const sse_parser *p) {
    return p->data_in_place ? p->data_in_place_len + 1 : p->data.len;
}

/* Copy an in-place data line into the data buffer: before another data line
 * joins it, and before the fed bytes go away. */
static int keep_data_in_place(sse_parser *p) {
    const char *line = p->data_in_place;
    p->data_in_place = NULL;
    /* Room for the line and its LF first, so data never holds one without the other. */
    if (buf_reserve(&p->data, p->data_in_place_len + 1) < 0)
        return -1;
    buf_append(&p->data, line, p->data_in_place_len);
    return buf_append_char(&p->data, '\n');
}

static void start_discarding(sse_parser *p, size_t bytes_so_far) {
    p->discarding = 1;
    p->discarded = data_bytes(p) + bytes_so_far;
    p->bom_pending = 0;
    reset_event(p);
}

static void stop_discarding(sse_parser *p) {
    p->discarding = 0;
    p->partial_bytes = 0;
    if (p->handlers.on_oversize)
        p->handlers.on_oversize(p->handlers.ctx, p->discarded);
    p->discarded = 0;
}

static void dispatch(sse_parser *p) {
    commit_id(p);
    if (data_bytes(p) == 0) {
        reset_event(p);
        return;
    }
    if (p->handlers.on_event) {
        int in_place = p->data_in_place != NULL;
        sse_event ev = {
            .type = p->type.len ? p->type.data : "message",
            .type_len = p->type.len ? p->type.len : 7,
            .data = in_place ? p->data_in_place : p->data.data,
            .data_len = in_place ? p->data_in_place_len : p->data.len - 1,
            .id = p->last_id,
            .id_len = p->last_id_len,
            .id_in_event = p->id_in_event,
        };
        p->handlers.on_event(p->handlers.ctx, &ev);
    }
    reset_event(p);
}

void sse_parser_record_blocks(sse_parser *p, void (*on_blank_line)(void *ctx)) {
    p->on_blank_line = on_blank_line;
    p->comment_keep_space = 1;
}

static void blank_line(sse_parser *p) {
    if (p->on_blank_line)
        p->on_blank_line(p->handlers.ctx);
}

static int parse_retry(const char *v, size_t len, unsigned long long *ms) {
    if (len == 0)
        return 0;
    unsigned long long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        unsigned digit = (unsigned)(v[i] - '0');
        /* The spec takes any run of digits; past 2^64 the value clamps
         * (it means "practically never" either way). */
        n = n > (ULLONG_MAX - digit) / 10 ? ULLONG_MAX : n * 10 + digit;
    }
    *ms = n;
    return 1;
}

/* Append text known to be ASCII as it is, anything else made valid UTF-8. */
static int append_text(buf *out, const char *s, size_t len, int ascii) {
    return ascii ? buf_append(out, s, len) : utf8_sanitize_append(out, s, len);
}

/* How a line reached the parser: whether it is all ASCII (so needs no UTF-8
 * check) and whether it lies in the caller's bytes (so may be referenced
 * until the feed returns) rather than in the parser's line buffer. */
typedef struct line_info {
    int ascii;
    int in_callers_bytes;
} line_info;

static int process_data(sse_parser *p, const char *value, size_t value_len, size_t line_len, line_info li) {
    if (data_bytes(p) + value_len + 1 > p->max_event_size) {
        start_discarding(p, line_len + 1);
        return 0;
    }
    if (data_bytes(p) == 0 && li.in_callers_bytes &&
        (li.ascii || utf8_valid_prefix(value, value_len) == value_len)) {
        p->data_in_place = value;
        p->data_in_place_len = value_len;
        return 0;
    }
    if (p->data_in_place && keep_data_in_place(p) < 0)
        return -1;
    if (append_text(&p->data, value, value_len, li.ascii) < 0)
        return -1;
    return buf_append_char(&p->data, '\n');
}

static int process_field(sse_parser *p, const char *name, size_t name_len, const char *value, size_t value_len,
                         size_t line_len, line_info li) {
    switch (name_len) {
    case 4:
        if (memcmp(name, "data", 4) != 0)
            return 0;
        return process_data(p, value, value_len, line_len, li);
    case 5:
        if (memcmp(name, "event", 5) == 0) {
            buf_clear(&p->type);
            return append_text(&p->type, value, value_len, li.ascii);
        }
        if (memcmp(name, "retry", 5) == 0) {
            unsigned long long ms;
            if (parse_retry(value, value_len, &ms) && p->handlers.on_retry)
                p->handlers.on_retry(p->handlers.ctx, ms);
        }
        return 0;
    case 2:
        if (memcmp(name, "id", 2) != 0 || memchr(value, '\0', value_len))
            return 0;
        p->id_in_event = 1;
        /* Into the last event ID buffer; a blank line makes it the string. */
        buf_clear(&p->ids[!p->cur_id]);
        if (append_text(&p->ids[!p->cur_id], value, value_len, li.ascii) < 0)
            return -1;
        p->id_pending = 1;
        return 0;
    default:
        return 0;
    }
}

/* The colon ending a field name, looked for only where a name the parser
 * knows could end (event and retry are the longest): a longer name is
 * unknown whatever follows. A new, longer field name must raise this. */
#define LONGEST_FIELD_NAME 5

static int process_line(sse_parser *p, const char *line, size_t len, line_info li) {
    if (p->discarding) {
        if (len == 0 && p->partial_bytes == 0) {
            commit_id(p); /* an id before the oversized part still counts */
            stop_discarding(p);
            blank_line(p);
        } else {
            p->discarded += len + p->partial_bytes + 1;
        }
        p->partial_bytes = 0;
        return 0;
    }
    if (p->bom_pending) {
        p->bom_pending = 0;
        if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3;
            len -= 3;
        }
    }
    if (len == 0) {
        dispatch(p);
        blank_line(p);
        return 0;
    }
    if (line[0] == ':') {
        if (!p->handlers.on_comment)
            return 0;
        size_t skip = (len > 1 && line[1] == ' ' && !p->comment_keep_space) ? 2 : 1;
        if (li.ascii) {
            p->handlers.on_comment(p->handlers.ctx, len > skip ? line + skip : "", len - skip);
            return 0;
        }
        buf_clear(&p->comment);
        if (utf8_sanitize_append(&p->comment, line + skip, len - skip) < 0)
            return -1;
        p->handlers.on_comment(p->handlers.ctx, p->comment.len ? p->comment.data : "", p->comment.len);
        return 0;
    }
    size_t name_len = 0;
    if (len >= 5 && memcmp(line, "data:", 5) == 0) {
        name_len = 4; /* by far the commonest line: no need to look for the colon */
    } else {
        while (name_len < len && name_len <= LONGEST_FIELD_NAME && line[name_len] != ':')
            name_len++;
    }
    if (name_len > LONGEST_FIELD_NAME)
        return 0;
    const char *value = name_len < len ? line + name_len + 1 : line + len;
    size_t value_len = len - (size_t)(value - line);
    if (value_len > 0 && value[0] == ' ') {
        value++;
        value_len--;
    }
    return process_field(p, line, name_len, value, value_len, len, li);
}

/* Keep the unterminated tail of a feed for the next one, within the limit. */
static int stash_partial_line(sse_parser *p, const char *bytes, size_t len) {
    if (p->discarding) {
        p->partial_bytes += len;
        return 0;
    }
    if (p->line.len + len > p->max_event_size + FIELD_OVERHEAD) {
        start_discarding(p, 0);
        p->partial_bytes = p->line.len + len;
        buf_clear(&p->line);
        return 0;
    }
    return buf_append(&p->line, bytes, len);
}

int sse_parser_feed(sse_parser *p, const char *bytes, size_t len) {
    size_t pos = 0;
    if (p->skip_lf && len > 0) {
        p->skip_lf = 0;
        if (bytes[0] == '\n')
            pos = 1;
    }
    int rc = 0;
    while (pos < len && rc == 0) {
        int non_ascii = 0;
        size_t eol = pos + line_end_find(bytes + pos, len - pos, &non_ascii);
        if (eol == len) {
            rc = stash_partial_line(p, bytes + pos, len - pos);
            break;
        }
        size_t next = eol + 1;
        if (bytes[eol] == '\r') {
            if (next < len) {
                if (bytes[next] == '\n')
                    next++;
            } else {
                p->skip_lf = 1;
            }
        }
        if (p->line.len > 0 || p->partial_bytes > 0) {
            /* The end of a line begun in an earlier feed: whole in line. */
            rc = stash_partial_line(p, bytes + pos, eol - pos);
            if (rc == 0)
                rc = process_line(p, p->line.data, p->line.len, (line_info){0, 0});
            buf_clear(&p->line);
        } else {
            if (eol - pos > p->max_event_size + FIELD_OVERHEAD && !p->discarding)
                start_discarding(p, 0);
            rc = process_line(p, bytes + pos, eol - pos, (line_info){!non_ascii, 1});
        }
        pos = next;
    }
    if (p->data_in_place && keep_data_in_place(p) < 0)
        return -1;
    return rc;
}

void sse_parser_finish(sse_parser *p) {
    if (p->discarding) {
        p->discarded += p->partial_bytes;
        stop_discarding(p);
    }
    buf_clear(&p->line);
    reset_event(p);
    p->id_pending = 0; /* the buffer reverts to the last dispatched id */
    p->skip_lf = 0;
    p->bom_pending = 1;
}

void sse_parser_free(sse_parser *p) {
    buf_free(&p->line);
    buf_free(&p->data);
    buf_free(&p->type);
    buf_free(&p->ids[0]);
    buf_free(&p->ids[1]);
    buf_free(&p->comment);
}
