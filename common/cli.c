#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exit_codes.h"
#include "units.h"
#include "version.h"

/* getopt_long's val for a row: its short letter, so that short options
 * bundle, else 256 plus its index, which no letter can be. */
static int option_val(const cli_spec *spec, const cli_option *opt) {
    return opt->short_name ? opt->short_name : 256 + (int)(opt - spec->options);
}

static const cli_option *option_for_val(const cli_spec *spec, int val) {
    if (val >= 256)
        return (size_t)(val - 256) < spec->count ? &spec->options[val - 256] : NULL;
    for (size_t i = 0; i < spec->count; i++)
        if (spec->options[i].kind != CLI_HEADING && spec->options[i].short_name == val)
            return &spec->options[i];
    return NULL;
}

static int takes_value(enum cli_kind kind) {
    return kind != CLI_HEADING && kind != CLI_FLAG && kind != CLI_SET && kind != CLI_HELP && kind != CLI_VERSION;
}

/* getopt_long's two descriptions of the options, made from the table so
 * they cannot disagree with it. -1 if the table has too many rows. */
static int build_getopt(const cli_spec *spec, struct option *longopts, char *shortopts) {
    if (spec->count > CLI_MAX_OPTIONS)
        return -1;
    size_t n = 0;
    *shortopts++ = ':'; /* a missing value comes back as ':', not as an unknown option */
    for (size_t i = 0; i < spec->count; i++) {
        const cli_option *opt = &spec->options[i];
        if (opt->kind == CLI_HEADING)
            continue;
        int has_arg = takes_value(opt->kind) ? required_argument : no_argument;
        longopts[n++] = (struct option){opt->name, has_arg, NULL, option_val(spec, opt)};
        if (opt->short_name) {
            *shortopts++ = (char)opt->short_name;
            if (has_arg)
                *shortopts++ = ':';
        }
    }
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    *shortopts = '\0';
    return 0;
}

/* How every message names an option: "-m/--max-time", or "--json". */
static const char *option_name(const cli_option *opt, char *out, size_t len) {
    if (opt->short_name)
        snprintf(out, len, "-%c/--%s", opt->short_name, opt->name);
    else
        snprintf(out, len, "--%s", opt->name);
    return out;
}

/* The hint for an unknown option, as typed ("-C", "--port"), or NULL. */
static const cli_hint *find_hint(const cli_spec *spec, const char *typed) {
    for (const cli_hint *h = spec->hints; h && h->typed; h++)
        if (strcmp(h->typed, typed) == 0)
            return h;
    return NULL;
}

/* The edit distance between a and b, counting a swap of two neighbours as
 * one edit ("outptu" is one from "output"); names longer than
 * CLI_NAME_MAX count as far from everything. */
#define CLI_NAME_MAX 48
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > CLI_NAME_MAX || lb > CLI_NAME_MAX)
        return SIZE_MAX;
    size_t d[CLI_NAME_MAX + 1][CLI_NAME_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

/* `typed` (a long name without dashes) in TLS's spelling when it says
 * SSL ("ssl-key" becomes "tls-key"), into out; 0, or -1 when it does not. */
static int tls_spelling(const char *typed, char *out, size_t len) {
    const char *ssl = strstr(typed, "ssl");
    if (!ssl || strlen(typed) >= len)
        return -1;
    snprintf(out, len, "%.*stls%s", (int)(ssl - typed), typed, ssl + 3);
    return 0;
}

/* How far `typed` is from option `name`: the edit distance, or that of
 * its TLS spelling when it is nearer; with `family`, 1 when the TLS
 * spelling starts a family of names ("ssl" for "tls-cert"). */
static size_t name_distance(const char *typed, const char *name, int family) {
    size_t best = edit_distance(typed, name);
    char tls[CLI_NAME_MAX + 1];
    if (tls_spelling(typed, tls, sizeof tls) < 0)
        return best;
    size_t len = strlen(tls), as_tls = edit_distance(tls, name);
    if (family && strncmp(name, tls, len) == 0 && name[len] == '-')
        as_tls = 1;
    return as_tls < best ? as_tls : best;
}

/* The options a mistyped long name most likely meant, for "did you mean
 * A, B or C?": those nearest it, within one edit of a short name or two of
 * a longer one, if there are at most CLI_NEAR_MAX (more is no guess). Of a
 * family ("--ssl": --tls-cert, --tls-key, ...) only the first in the table
 * is named, the one a tool lists first. Into `out`; "" when none is near. */
#define CLI_NEAR_MAX 3
static void nearest_options(const cli_spec *spec, const char *typed, char *out, size_t len) {
    const cli_option *near[CLI_NEAR_MAX];
    size_t best = strlen(typed) <= 4 ? 1 : 2, count = 0;
    int family_named = 0;
    for (size_t i = 0; i < spec->count; i++) {
        const cli_option *opt = &spec->options[i];
        size_t d = opt->kind == CLI_HEADING ? SIZE_MAX : name_distance(typed, opt->name, !family_named);
        family_named |= d == 1 && name_distance(typed, opt->name, 0) > 1;
        if (d < best)
            best = d, count = 0;
        if (d == best && count++ < CLI_NEAR_MAX)
            near[count - 1] = opt;
    }
    out[0] = '\0';
    for (size_t i = 0; count <= CLI_NEAR_MAX && i < count; i++) {
        char name[128];
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", i == 0 ? "" : i + 1 == count ? " or " : ", ",
                 option_name(near[i], name, sizeof name));
    }
}

/* An unknown option, a missing value, or a value given to a flag, named as
 * the user typed it (getopt_long leaves optopt 0 for an unknown long
 * option, and the option's val when a long one has the wrong value count;
 * after a long option optind has moved past it). */
static void getopt_error(const cli_spec *spec, int c, char **argv, char *err, size_t errlen) {
    const cli_option *known = optopt ? option_for_val(spec, optopt) : NULL;
    const char *arg = argv[optind - 1];
    char typed[128];
    if (strncmp(arg, "--", 2) == 0 && (c == ':' || !optopt || known))
        snprintf(typed, sizeof typed, "%.*s", (int)strcspn(arg, "="), arg);
    else if (optopt > 0 && optopt < 256)
        snprintf(typed, sizeof typed, "-%c", optopt);
    else
        snprintf(typed, sizeof typed, "%s", arg);
    const char *problem = c == ':' ? "needs a value" : known ? "takes no value" : NULL;
    const cli_hint *hint = problem ? NULL : find_hint(spec, typed);
    char near[400] = "";
    if (!problem && !hint && strncmp(typed, "--", 2) == 0)
        nearest_options(spec, typed + 2, near, sizeof near);
    if (problem)
        snprintf(err, errlen, "%s: option %s", typed, problem);
    else if (hint && hint->instead)
        snprintf(err, errlen, "%s: unknown option (did you mean %s?)", typed, hint->instead);
    else if (hint)
        snprintf(err, errlen, "%s: unknown option (%s)", typed, hint->note);
    else if (near[0])
        snprintf(err, errlen, "%s: unknown option (did you mean %s?)", typed, near);
    else
        snprintf(err, errlen, "%s: unknown option", typed);
}

/* A byte a value may not contain, for messages. */
static const char *byte_name(char c, char *out, size_t len) {
    if (c == '\r' || c == '\n')
        return "a line break";
    if (c == ' ')
        return "a space";
    if (c == '\t')
        return "a tab";
    if ((unsigned char)c > ' ' && (unsigned char)c < 127)
        snprintf(out, len, "'%c'", c);
    else
        snprintf(out, len, "the byte 0x%02x", (unsigned char)c);
    return out;
}

static int check_string(const cli_option *opt, const char *value, char *err, size_t errlen) {
    const char *what = opt->what ? opt->what : "the value";
    size_t len = strlen(value);
    if (len < opt->min) {
        if (opt->min == 1)
            snprintf(err, errlen, "%s cannot be empty", what);
        else
            snprintf(err, errlen, "%s must be at least %llu bytes long", what, (unsigned long long)opt->min);
        return -1;
    }
    size_t bad = opt->reject ? strcspn(value, opt->reject) : len;
    if (bad < len) {
        char name[32];
        snprintf(err, errlen, "%s cannot contain %s", what, byte_name(value[bad], name, sizeof name));
        return -1;
    }
    return opt->check ? opt->check(value, err, errlen) : 0;
}

static int take_list(const cli_option *opt, void *base, const char *value, char *err, size_t errlen) {
    if (check_string(opt, value, err, errlen) < 0)
        return -1;
    const char **fixed = (const char **)((char *)base + opt->at);
    size_t *count = (size_t *)((char *)base + opt->count_at);
    if (opt->max) {
        if (*count >= opt->max) {
            snprintf(err, errlen, "can be given at most %llu time%s", (unsigned long long)opt->max,
                     opt->max == 1 ? "" : "s");
            return -1;
        }
        fixed[(*count)++] = value;
        return 0;
    }
    const char ***grown = (const char ***)((char *)base + opt->at);
    const char **items = realloc(*grown, (*count + 1) * sizeof *items);
    if (!items) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    items[(*count)++] = value;
    *grown = items;
    return 0;
}

/* An amount as people write it: "1MiB", "256 bytes", "15s", "1ms". */
static void format_amount(enum cli_kind kind, uint64_t n, char *out, size_t len) {
    static const struct {
        enum cli_kind kind;
        uint64_t unit;
        const char *name;
    } units[] = {{CLI_SIZE, 1ULL << 30, "GiB"}, {CLI_SIZE, 1ULL << 20, "MiB"}, {CLI_SIZE, 1ULL << 10, "KiB"},
                 {CLI_DURATION, 3600000, "h"},  {CLI_DURATION, 60000, "m"},    {CLI_DURATION, 1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (units[i].kind == kind && n >= units[i].unit && n % units[i].unit == 0) {
            snprintf(out, len, "%llu%s", (unsigned long long)(n / units[i].unit), units[i].name);
            return;
        }
    }
    if (kind == CLI_SIZE)
        snprintf(out, len, "%llu byte%s", (unsigned long long)n, n == 1 ? "" : "s");
    else
        snprintf(out, len, "%llums", (unsigned long long)n);
}

/* A size or a duration, within the row's bounds. */
static int take_amount(const cli_option *opt, uint64_t *field, const char *value, char *err, size_t errlen) {
    uint64_t n;
    int rc = opt->kind == CLI_SIZE ? units_parse_size(value, &n, err, errlen)
                                   : units_parse_duration(value, &n, err, errlen);
    if (rc < 0)
        return -1;
    if (n >= opt->min && (opt->max == 0 || n <= opt->max)) {
        *field = n;
        return 0;
    }
    char lo[32], hi[32];
    format_amount(opt->kind, opt->min, lo, sizeof lo);
    format_amount(opt->kind, opt->max, hi, sizeof hi);
    const char *noun = opt->kind == CLI_SIZE ? "size" : "duration";
    if (opt->max == 0)
        snprintf(err, errlen, "invalid %s '%s' (expected at least %s)", noun, value, lo);
    else if (opt->min == 0)
        snprintf(err, errlen, "invalid %s '%s' (expected at most %s)", noun, value, hi);
    else
        snprintf(err, errlen, "invalid %s '%s' (expected from %s to %s)", noun, value, lo, hi);
    return -1;
}

static int take_choice(const cli_option *opt, int *field, const char *value, char *err, size_t errlen) {
    char names[256] = "";
    size_t used = 0;
    for (const cli_choice *c = opt->choices; c->name; c++) {
        if (strcmp(c->name, value) == 0) {
            *field = c->value;
            return 0;
        }
        const char *sep = c == opt->choices ? "" : c[1].name ? ", " : " or ";
        int n = snprintf(names + used, sizeof names - used, "%s%s", sep, c->name);
        if (n > 0 && (size_t)n < sizeof names - used)
            used += (size_t)n;
    }
    snprintf(err, errlen, "unknown %s '%s' (expected %s)", opt->what ? opt->what : "value", value, names);
    return -1;
}

int cli_url_valid(const char *text) {
    return strncasecmp(text, "http://", 7) == 0 || strncasecmp(text, "https://", 8) == 0;
}

/* Check one option's value by its kind and store it. */
static int take_value(const cli_option *opt, void *base, const char *value, char *err, size_t errlen) {
    void *field = (char *)base + opt->at;
    switch (opt->kind) {
    case CLI_FLAG:
        *(int *)field = 1;
        return 0;
    case CLI_SET:
        *(int *)field = opt->value;
        return 0;
    case CLI_STRING:
        if (check_string(opt, value, err, errlen) < 0)
            return -1;
        *(const char **)field = value;
        return 0;
    case CLI_LIST:
        return take_list(opt, base, value, err, errlen);
    case CLI_COUNT:
        return units_parse_count(value, opt->min, opt->max ? opt->max : UINT64_MAX, field, err, errlen);
    case CLI_SIZE:
    case CLI_DURATION:
        return take_amount(opt, field, value, err, errlen);
    case CLI_CHOICE:
        return take_choice(opt, field, value, err, errlen);
    case CLI_URL:
        if (!cli_url_valid(value)) {
            snprintf(err, errlen, "unsupported URL '%s' (expected http:// or https://)", value);
            return -1;
        }
        *(const char **)field = value;
        return 0;
    case CLI_CALL:
        return opt->take(field, value, err, errlen);
    default:
        return 0;
    }
}

enum cli_status cli_parse(const cli_spec *spec, void *base, int argc, char **argv, int *next_arg, char *err,
                          size_t errlen) {
    struct option longopts[CLI_MAX_OPTIONS + 1];
    char shortopts[2 * CLI_MAX_OPTIONS + 2];
    *next_arg = argc;
    if (build_getopt(spec, longopts, shortopts) < 0) {
        snprintf(err, errlen, "more than %d rows in the option table", CLI_MAX_OPTIONS);
        return CLI_ERROR;
    }
    optind = 0; /* glibc: start afresh, whatever was parsed before */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (c == ':' || c == '?') {
            getopt_error(spec, c, argv, err, errlen);
            return CLI_ERROR;
        }
        const cli_option *opt = option_for_val(spec, c);
        if (opt->kind == CLI_HELP)
            return CLI_HELP_ASKED;
        if (opt->kind == CLI_VERSION)
            return CLI_VERSION_ASKED;
        char why[512], name[80];
        if (take_value(opt, base, optarg, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", option_name(opt, name, sizeof name), why);
            return CLI_ERROR;
        }
    }
    *next_arg = optind;
    return CLI_OK;
}

const cli_option *cli_set_option(const cli_spec *spec, void *base, const char *name, const char *value, char *err,
                                 size_t errlen) {
    const cli_option *opt = NULL;
    for (size_t i = 0; i < spec->count && !opt; i++)
        if (spec->options[i].kind != CLI_HEADING && strcmp(spec->options[i].name, name) == 0)
            opt = &spec->options[i];
    if (!opt || opt->kind == CLI_HELP || opt->kind == CLI_VERSION) {
        char typed[128];
        snprintf(typed, sizeof typed, "--%s", name);
        const cli_hint *hint = opt ? NULL : find_hint(spec, typed);
        if (hint && hint->instead)
            snprintf(err, errlen, "unknown option '%s' (did you mean %s?)", name, hint->instead);
        else
            snprintf(err, errlen, "unknown option '%s'", name);
        return NULL;
    }
    if (takes_value(opt->kind) && !value) {
        snprintf(err, errlen, "%s: needs a value", name);
        return NULL;
    }
    if (!takes_value(opt->kind) && value) {
        snprintf(err, errlen, "%s: takes no value", name);
        return NULL;
    }
    char why[512];
    if (take_value(opt, base, value, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", name, why);
        return NULL;
    }
    return opt;
}

cli_outcome cli_parse_and_report(const cli_spec *spec, void *base, int argc, char **argv, int *next_arg) {
    char err[640];
    switch (cli_parse(spec, base, argc, argv, next_arg, err, sizeof err)) {
    case CLI_OK:
        return CLI_RUN;
    case CLI_HELP_ASKED:
        cli_print_help(spec, stdout);
        return CLI_DONE;
    case CLI_VERSION_ASKED:
        if (spec->print_version)
            spec->print_version(stdout);
        else
            printf("%s %s\n", spec->program, SSETOOLS_VERSION);
        return CLI_DONE;
    default:
        return cli_usage_error(spec->program, "%s", err);
    }
}

cli_outcome cli_usage_error(const char *program, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program, msg, program);
    return CLI_USAGE;
}

int cli_exit_status(cli_outcome outcome) { return outcome == CLI_USAGE ? EXIT_USAGE : EXIT_OK; }

/* One option's lines in --help: "  -m, --max-time DUR" and its description
 * from the column on (two spaces further when the name reaches it). */
static void print_option(const cli_spec *spec, const cli_option *opt, FILE *out) {
    int n;
    if (opt->short_name)
        n = fprintf(out, "  -%c, --%s", opt->short_name, opt->name);
    else
        n = fprintf(out, "      --%s", opt->name);
    if (opt->arg)
        n += fprintf(out, " %s", opt->arg);
    fprintf(out, "%*s", n < spec->help_column ? spec->help_column - n : 2, "");
    for (const char *h = opt->help ? opt->help : ""; *h; h++) {
        fputc(*h, out);
        if (*h == '\n')
            fprintf(out, "%*s", spec->help_column, "");
    }
    fputc('\n', out);
}

void cli_print_help(const cli_spec *spec, FILE *out) {
    fputs(spec->usage, out);
    for (size_t i = 0; i < spec->count; i++) {
        const cli_option *opt = &spec->options[i];
        if (opt->kind == CLI_HEADING)
            fprintf(out, "\n%s%s", opt->help, opt->help[0] ? "\n" : "");
        else
            print_option(spec, opt, out);
    }
    if (spec->footer)
        fprintf(out, "\n%s", spec->footer);
}
