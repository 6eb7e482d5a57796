#include "chunked.h"

#include "http_request.h"

/* Chunk extensions and trailer lines are skipped, but only this long. */
#define MAX_LINE 4096

enum {
    ST_SIZE,      /* hex digits of a chunk size */
    ST_EXT,       /* extension, up to CR LF */
    ST_SIZE_LF,   /* LF after the size line's CR */
    ST_DATA,      /* chunk data */
    ST_DATA_CR,   /* CR after chunk data */
    ST_DATA_LF,   /* LF after chunk data */
    ST_TRAILER,   /* start of a trailer line, or the final CR LF */
    ST_TRAILER_LINE,
    ST_TRAILER_LF,
    ST_END_LF,
    ST_DONE,
};

void chunked_init(chunked_decoder *d) {
    d->state = ST_SIZE;
    d->remaining = 0;
    d->size_digits = 0;
    d->line_bytes = 0;
}

static int broken(const char **error, const char *why) {
    *error = why;
    return CHUNKED_ERROR;
}

int chunked_feed(chunked_decoder *d, const char *in, size_t len, size_t *consumed,
                 int (*on_data)(void *ctx, const char *bytes, size_t len), void *ctx, const char **error) {
    size_t i = 0;
    *consumed = 0;
    while (i < len) {
        char c = in[i];
        switch (d->state) {
        case ST_SIZE: {
            int v = http_hex_digit(c);
            if (v >= 0) {
                if (d->size_digits == 15)
                    return broken(error, "chunk size too large");
                d->remaining = d->remaining * 16 + (uint64_t)v;
                d->size_digits++;
                i++;
                break;
            }
            if (d->size_digits == 0)
                return broken(error, "invalid chunk size");
            if (c == ';' || c == ' ' || c == '\t') {
                d->state = ST_EXT;
                d->line_bytes = 0;
            } else if (c == '\r') {
                d->state = ST_SIZE_LF;
            } else {
                return broken(error, "invalid chunk size");
            }
            i++;
            break;
        }
        case ST_EXT:
            if (c == '\r')
                d->state = ST_SIZE_LF;
            else if (c == '\n' || ++d->line_bytes > MAX_LINE)
                return broken(error, "malformed chunk extension");
            i++;
            break;
        case ST_SIZE_LF:
            if (c != '\n')
                return broken(error, "chunk size line must end in CRLF");
            i++;
            d->size_digits = 0;
            if (d->remaining == 0) {
                d->state = ST_TRAILER;
            } else {
                d->state = ST_DATA;
            }
            break;
        case ST_DATA: {
            size_t take = len - i;
            if (take > d->remaining)
                take = (size_t)d->remaining;
            if (on_data(ctx, in + i, take) < 0) {
                *consumed = i + take;
                return broken(error, NULL);
            }
            i += take;
            d->remaining -= take;
            if (d->remaining == 0)
                d->state = ST_DATA_CR;
            break;
        }
        case ST_DATA_CR:
            if (c != '\r')
                return broken(error, "chunk data must end in CRLF");
            d->state = ST_DATA_LF;
            i++;
            break;
        case ST_DATA_LF:
            if (c != '\n')
                return broken(error, "chunk data must end in CRLF");
            d->state = ST_SIZE;
            i++;
            break;
        case ST_TRAILER:
            if (c == '\r') {
                d->state = ST_END_LF;
            } else {
                d->state = ST_TRAILER_LINE;
                d->line_bytes = 1;
            }
            i++;
            break;
        case ST_TRAILER_LINE:
            if (c == '\r')
                d->state = ST_TRAILER_LF;
            else if (c == '\n' || ++d->line_bytes > MAX_LINE)
                return broken(error, "malformed trailer");
            i++;
            break;
        case ST_TRAILER_LF:
            if (c != '\n')
                return broken(error, "trailer line must end in CRLF");
            d->state = ST_TRAILER;
            i++;
            break;
        case ST_END_LF:
            if (c != '\n')
                return broken(error, "chunked body must end in CRLF");
            d->state = ST_DONE;
            i++;
            *consumed = i;
            return CHUNKED_DONE;
        default:
            *consumed = i;
            return CHUNKED_DONE;
        }
    }
    *consumed = i;
    return CHUNKED_MORE;
}
