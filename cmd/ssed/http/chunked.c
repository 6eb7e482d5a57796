#include "chunked.h"

#include "http_request.h"

/* A chunk size line (size, whitespace, extensions) and each trailer line
 * are skipped, but only this long. */
#define MAX_LINE 4096

/* A chunk size of more than 15 significant hex digits (2^60 bytes) is
 * refused: no body is that large, and it keeps `remaining` from wrapping. */
#define MAX_SIZE_BEFORE_DIGIT (((uint64_t)1 << 56) - 1)

/* In the order they occur: chunked_feed picks the handler by range. */
enum {
    ST_SIZE,      /* hex digits of a chunk size */
    ST_SIZE_WS,   /* whitespace after the size, before ';' or CR LF */
    ST_EXT,       /* extension, up to CR LF */
    ST_SIZE_LF,   /* LF after the size line's CR */
    ST_DATA,      /* chunk data */
    ST_DATA_CR,   /* CR after chunk data */
    ST_DATA_LF,   /* LF after chunk data */
    ST_TRAILER,   /* start of a trailer line, or the final empty line */
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

/* The byte after a chunk size's digits and any whitespace: more
 * whitespace, ';' starting an extension, or the CR ending the line. */
static int after_size(chunked_decoder *d, char c, const char **error) {
    d->state = ST_SIZE_WS;
    if (c == ' ' || c == '\t')
        return CHUNKED_MORE;
    if (c == ';')
        d->state = ST_EXT;
    else if (c == '\r')
        d->state = ST_SIZE_LF;
    else
        return broken(error, "invalid chunk size");
    return CHUNKED_MORE;
}

/* One byte of a chunk size line: `1*HEXDIG *(BWS ";" ext) CRLF`. Leading
 * zeros count towards the line's length but not the size's digits. */
static int size_line_byte(chunked_decoder *d, char c, const char **error) {
    if (d->state != ST_SIZE_LF && ++d->line_bytes > MAX_LINE)
        return broken(error, "chunk size line too long");
    switch (d->state) {
    case ST_SIZE: {
        int v = http_hex_digit(c);
        if (v < 0 && d->size_digits == 0)
            return broken(error, "invalid chunk size");
        if (v < 0)
            return after_size(d, c, error);
        if (d->remaining > MAX_SIZE_BEFORE_DIGIT)
            return broken(error, "chunk size too large");
        d->remaining = d->remaining * 16 + (uint64_t)v;
        d->size_digits++;
        return CHUNKED_MORE;
    }
    case ST_SIZE_WS:
        return after_size(d, c, error);
    case ST_EXT:
        if (c == '\n')
            return broken(error, "malformed chunk extension");
        if (c == '\r')
            d->state = ST_SIZE_LF;
        return CHUNKED_MORE;
    default: /* ST_SIZE_LF */
        if (c != '\n')
            return broken(error, "chunk size line must end in CRLF");
        d->state = d->remaining == 0 ? ST_TRAILER : ST_DATA;
        d->size_digits = 0;
        d->line_bytes = 0;
        return CHUNKED_MORE;
    }
}

/* One byte after the last chunk: trailer lines, each ending in CRLF or a
 * bare LF (as header lines may), then an empty line in either form. Only
 * that empty line ends the body, so a request after it is never taken for a
 * trailer. */
static int trailer_byte(chunked_decoder *d, char c, const char **error) {
    switch (d->state) {
    case ST_TRAILER:
        if (c == '\n') {
            d->state = ST_DONE;
            return CHUNKED_DONE;
        }
        d->state = c == '\r' ? ST_END_LF : ST_TRAILER_LINE;
        d->line_bytes = 1;
        return CHUNKED_MORE;
    case ST_TRAILER_LINE:
        if (c == '\n')
            d->state = ST_TRAILER;
        else if (c == '\r')
            d->state = ST_TRAILER_LF;
        else if (++d->line_bytes > MAX_LINE)
            return broken(error, "trailer line too long");
        return CHUNKED_MORE;
    case ST_TRAILER_LF:
        if (c != '\n')
            return broken(error, "bare CR in a trailer line");
        d->state = ST_TRAILER;
        return CHUNKED_MORE;
    default: /* ST_END_LF */
        if (c != '\n')
            return broken(error, "chunked body must end in CRLF");
        d->state = ST_DONE;
        return CHUNKED_DONE;
    }
}

/* One byte of framing after chunk data: CR LF, then the next size line. */
static int data_end_byte(chunked_decoder *d, char c, const char **error) {
    if (c != (d->state == ST_DATA_CR ? '\r' : '\n'))
        return broken(error, "chunk data must end in CRLF");
    d->state = d->state == ST_DATA_CR ? ST_DATA_LF : ST_SIZE;
    return CHUNKED_MORE;
}

int chunked_feed(chunked_decoder *d, const char *in, size_t len, size_t *consumed,
                 int (*on_data)(void *ctx, const char *bytes, size_t len), void *ctx, const char **error) {
    size_t i = 0;
    *consumed = 0;
    if (d->state == ST_DONE)
        return CHUNKED_DONE;
    while (i < len) {
        if (d->state == ST_DATA) {
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
            continue;
        }
        int rc;
        if (d->state <= ST_SIZE_LF)
            rc = size_line_byte(d, in[i], error);
        else if (d->state <= ST_DATA_LF)
            rc = data_end_byte(d, in[i], error);
        else
            rc = trailer_byte(d, in[i], error);
        i++;
        if (rc != CHUNKED_MORE) {
            *consumed = i;
            return rc;
        }
    }
    *consumed = i;
    return CHUNKED_MORE;
}
