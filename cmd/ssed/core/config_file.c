#include "config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLANKS " \t\r\f\v"

/* The whole file, NUL-terminated, in one allocation: string options keep
 * pointing into it. NULL after reporting why not. */
static char *read_whole(const char *program, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_usage_error(program, "--config %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(CONFIG_FILE_MAX + 1);
    size_t len = 0;
    ssize_t n = 1;
    while (text && len <= CONFIG_FILE_MAX && n > 0) {
        n = read(fd, text + len, CONFIG_FILE_MAX + 1 - len);
        if (n > 0)
            len += (size_t)n;
        else if (n < 0 && errno == EINTR)
            n = 1;
    }
    int saved = errno;
    close(fd);
    if (!text || n < 0 || len > CONFIG_FILE_MAX) {
        if (!text)
            cli_usage_error(program, "--config %s: out of memory", path);
        else if (n < 0)
            cli_usage_error(program, "--config %s: %s", path, strerror(saved));
        else
            cli_usage_error(program, "--config %s: larger than %d bytes", path, CONFIG_FILE_MAX);
        free(text);
        return NULL;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        cli_usage_error(program, "--config %s: contains a NUL byte (not a text file?)", path);
        free(text);
        return NULL;
    }
    return text;
}

/* Where an option was first given, to refuse it a second time: by row,
 * and by the field it sets (-v and -q both set the verbosity). */
typedef struct seen_options {
    unsigned line[CLI_MAX_OPTIONS];
} seen_options;

static int check_once(const cli_spec *spec, const cli_option *opt, seen_options *seen, unsigned lineno,
                      char *err, size_t errlen) {
    if (opt->kind == CLI_LIST)
        return 0;
    for (size_t i = 0; i < spec->count; i++) {
        const cli_option *other = &spec->options[i];
        if (!seen->line[i] || other->kind == CLI_HEADING || other->at != opt->at)
            continue;
        if (other == opt)
            snprintf(err, errlen, "%s: given twice (first on line %u)", opt->name, seen->line[i]);
        else
            snprintf(err, errlen, "%s: conflicts with %s on line %u", opt->name, other->name, seen->line[i]);
        return -1;
    }
    seen->line[opt - spec->options] = lineno;
    return 0;
}

/* A '#' at the start of the line or after a blank starts a comment, as in
 * nginx and sshd; one inside a word ("token abc#def") is the value's. */
static void cut_comment(char *line) {
    for (char *p = line; *p; p++) {
        if (*p == '#' && (p == line || strchr(BLANKS, p[-1]))) {
            *p = '\0';
            return;
        }
    }
}

/* One line, blanks already trimmed from both ends and not a comment:
 * "key value", "key = value" and "key=value" all mean the same, since
 * operators bring each habit from another daemon's file. */
static int apply_line(const cli_spec *spec, void *base, char *line, seen_options *seen, unsigned lineno, char *err,
                      size_t errlen) {
    char *value = line + strcspn(line, BLANKS "=");
    char *after = value + strspn(value, BLANKS);
    if (*after == '=')
        after += 1 + strspn(after + 1, BLANKS);
    *value = '\0';
    value = after;
    if (*line == '\0') {
        snprintf(err, errlen, "no option name before '='");
        return -1;
    }
    if (strncmp(line, "--", 2) == 0) {
        snprintf(err, errlen, "unknown option '%s' (write '%s', without the leading --)", line, line + 2);
        return -1;
    }
    /* A file that names another, or that would make every start a mere
     * check (a service that exits at once), is a mistake. */
    if (strcmp(line, "config") == 0 || strcmp(line, "check") == 0) {
        snprintf(err, errlen, "%s: cannot be used in a configuration file", line);
        return -1;
    }
    const cli_option *opt = cli_set_option(spec, base, line, *value ? value : NULL, err, errlen);
    return opt ? check_once(spec, opt, seen, lineno, err, errlen) : -1;
}

static char *trim(char *s) {
    s += strspn(s, BLANKS);
    size_t n = strlen(s);
    while (n > 0 && strchr(BLANKS, s[n - 1]))
        s[--n] = '\0';
    return s;
}

cli_outcome config_file_apply(const cli_spec *spec, void *base, const char *path, char **text) {
    *text = read_whole(spec->program, path);
    if (!*text)
        return CLI_USAGE;
    seen_options seen = {{0}};
    unsigned lineno = 0;
    /* Editors on Windows may start a UTF-8 file with a byte order mark;
     * it is no part of the first option's name. */
    char *start = *text;
    if (strncmp(start, "\xEF\xBB\xBF", 3) == 0)
        start += 3;
    for (char *next = start; next;) {
        char *line = next;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        cut_comment(line);
        line = trim(line);
        if (*line == '\0')
            continue;
        char err[640];
        if (apply_line(spec, base, line, &seen, lineno, err, sizeof err) < 0)
            return cli_usage_error(spec->program, "%s:%u: %s", path, lineno, err);
    }
    return CLI_RUN;
}

void config_file_drop_lists(const cli_spec *spec, void *file_base, const void *cmdline_base) {
    for (size_t i = 0; i < spec->count; i++) {
        const cli_option *opt = &spec->options[i];
        /* An emptied count is enough for both kinds of list: a fixed array
         * is refilled from its start, and a growable one is realloc'ed from
         * count 0, reusing (not leaking) its allocation. */
        if (opt->kind != CLI_LIST)
            continue;
        if (*(const size_t *)((const char *)cmdline_base + opt->count_at) > 0)
            *(size_t *)((char *)file_base + opt->count_at) = 0;
    }
}
