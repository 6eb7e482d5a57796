/* Channel patterns, as tokens (jwt_claims.h) and --public list them: a
 * channel name whose segments may be `*` (any one segment) or `**` (one
 * or more). Its own module so the options and the access checks use one
 * definition without depending on tokens. */
#include "channel_pattern.h"

#include <string.h>

/* A channel has at most 200 bytes, so at most 201 segments. */
#define MAX_SEGMENTS 256

typedef struct segment {
    const char *p;
    size_t len;
} segment;

static void trim_slashes(const char **s, size_t *len) {
    while (*len > 0 && (*s)[0] == '/')
        (*s)++, (*len)--;
    while (*len > 0 && (*s)[*len - 1] == '/')
        (*len)--;
}

/* Split at '/'; the root channel ("") has no segments. -1 if too many. */
static int split_segments(const char *s, size_t len, segment *out) {
    trim_slashes(&s, &len);
    if (len == 0)
        return 0;
    int n = 0;
    for (const char *end = s + len;;) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        if (n == MAX_SEGMENTS)
            return -1;
        out[n].p = s;
        out[n].len = slash ? (size_t)(slash - s) : (size_t)(end - s);
        n++;
        if (!slash)
            return n;
        s = slash + 1;
    }
}

/* The characters of a channel name (hub_channel_name_valid), without '/'. */
static int segment_is_literal(const segment *s) {
    for (size_t i = 0; i < s->len; i++) {
        char ch = s->p[i];
        if (!(ch == '-' || ch == '_' || ch == '.' || ch == '~' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
              (ch >= 'A' && ch <= 'Z')))
            return 0;
        if (ch == '.' && i + 1 < s->len && s->p[i + 1] == '.')
            return 0;
    }
    return 1;
}

static int is_star(const segment *s) { return s->len == 1 && s->p[0] == '*'; }
static int is_double_star(const segment *s) { return s->len == 2 && s->p[0] == '*' && s->p[1] == '*'; }

int channel_pattern_valid(const char *pattern, size_t len) {
    if (len > JWT_MAX_PATTERN_LEN || memchr(pattern, '\0', len))
        return 0;
    segment seg[MAX_SEGMENTS];
    int n = split_segments(pattern, len, seg);
    if (n < 0)
        return 0;
    for (int i = 0; i < n; i++) {
        if (is_star(&seg[i]) || is_double_star(&seg[i]))
            continue;
        if (!segment_is_literal(&seg[i]))
            return 0;
    }
    return 1;
}

/* Wildcard matching over segments with one backtracking point, as for `*`
 * in file globs: `**` is "any one segment, then any number more", so a
 * mismatch retries from the last `**` taking one more segment. Linear in
 * the product of the segment counts at worst, never exponential. */
int channel_pattern_matches(const char *pattern, size_t pattern_len, const char *name, size_t name_len) {
    segment p[MAX_SEGMENTS], n[MAX_SEGMENTS];
    int np = split_segments(pattern, pattern_len, p);
    int nn = split_segments(name, name_len, n);
    if (np < 0 || nn < 0)
        return 0;
    int i = 0, j = 0, star_i = -1, star_j = 0;
    while (j < nn) {
        if (i < np && is_double_star(&p[i])) {
            i++, j++; /* its one mandatory segment */
            star_i = i;
            star_j = j;
        } else if (i < np && (is_star(&p[i]) || (p[i].len == n[j].len && memcmp(p[i].p, n[j].p, n[j].len) == 0))) {
            i++, j++;
        } else if (star_i >= 0) {
            i = star_i;
            j = ++star_j;
        } else {
            return 0;
        }
    }
    return i == np;
}

int channel_patterns_allow(const char *list, const char *name, size_t name_len) {
    if (!list)
        return 0;
    for (const char *p = list, *nl; (nl = strchr(p, '\n')); p = nl + 1)
        if (channel_pattern_matches(p, (size_t)(nl - p), name, name_len))
            return 1;
    return 0;
}

