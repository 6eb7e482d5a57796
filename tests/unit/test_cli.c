/* The option parser in common/cli.c: a table with one option of every kind,
 * and for each row of cases an argv, the status, and either the values
 * stored or the exact message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exit_codes.h"
#include "harness.h"

typedef struct demo {
    int flag;
    int level;
    const char *name;
    const char *checked;
    const char *hosts[2];
    size_t host_count;
    const char **tags;
    size_t tag_count;
    uint64_t count;
    uint64_t size;
    uint64_t wait_ms;
    uint64_t timeout_ms;
    int format;
    const char *url;
    unsigned mode;
} demo;

static int check_not_bad(const char *value, char *err, size_t errlen) {
    if (strcmp(value, "bad") != 0)
        return 0;
    snprintf(err, errlen, "'%s' is not allowed", value);
    return -1;
}

static int take_mode(void *field, const char *value, char *err, size_t errlen) {
    char *end;
    unsigned long n = strtoul(value, &end, 8);
    if (!*value || *end || n > 0777) {
        snprintf(err, errlen, "invalid mode '%s' (expected an octal mode)", value);
        return -1;
    }
    *(unsigned *)field = (unsigned)n;
    return 0;
}

static const cli_choice formats[] = {{"a", 0}, {"b", 1}, {"c", 2}, {NULL, 0}};

#define OPT(long_name, short_name_, kind_, field)                                                                      \
    .name = (long_name), .short_name = (short_name_), .kind = (kind_), .at = offsetof(demo, field)

static const cli_option demo_table[] = {
    CLI_SECTION("Kinds:"),
    {OPT("flag", 'f', CLI_FLAG, flag), .help = "a flag"},
    {OPT("quiet", 'q', CLI_SET, level), .value = 0, .help = "level 0"},
    {OPT("verbose", 'v', CLI_SET, level), .value = 2, .help = "level 2"},
    {OPT("name", 'N', CLI_STRING, name), .min = 1, .reject = " \r\n", .what = "a name", .arg = "NAME",
     .help = "a name"},
    {OPT("checked", 0, CLI_STRING, checked), .check = check_not_bad, .arg = "S", .help = "not 'bad'"},
    {OPT("host", 0, CLI_LIST, hosts), .count_at = offsetof(demo, host_count), .max = 2, .reject = ":",
     .what = "a host name", .arg = "HOST", .help = "twice at most"},
    {OPT("tag", 't', CLI_LIST, tags), .count_at = offsetof(demo, tag_count), .arg = "TAG", .help = "any number"},
    {OPT("count", 'n', CLI_COUNT, count), .min = 1, .max = 100, .arg = "N", .help = "1 to 100"},
    {OPT("size", 0, CLI_SIZE, size), .min = 256, .max = 1 << 20, .arg = "SIZE", .help = "256 bytes to 1MiB"},
    {OPT("wait", 0, CLI_DURATION, wait_ms), .min = 1, .arg = "DUR", .help = "more than 0"},
    {OPT("timeout", 0, CLI_DURATION, timeout_ms), .arg = "DUR", .help = "any duration"},
    {OPT("format", 0, CLI_CHOICE, format), .choices = formats, .what = "format", .arg = "FORMAT",
     .help = "a, b or c"},
    {OPT("url", 'u', CLI_URL, url), .arg = "URL", .help = "http or https"},
    {OPT("mode", 0, CLI_CALL, mode), .take = take_mode, .arg = "MODE", .help = "octal"},
    CLI_SECTION(""),
    {OPT("help", 'h', CLI_HELP, flag), .help = "this help"},
    {OPT("version", 'V', CLI_VERSION, flag), .help = "the version"},
};

/* What other tools call these options (see cli_hint). */
static const cli_hint demo_hints[] = {
    {"-C", "-n/--count", NULL},
    {"--port", "-u/--url", NULL},
    {"-L", NULL, "demo follows redirects already"},
    {NULL, NULL, NULL},
};

static const cli_spec demo_spec = {
    .program = "demo",
    .options = demo_table,
    .count = sizeof demo_table / sizeof demo_table[0],
    .usage = "Usage: demo [OPTIONS] [ARG...]\n",
    .footer = "The end.\n",
    .help_column = 24,
    .hints = demo_hints,
};

/* What a parse stored, beyond the defaults (all zero), and the operands. */
static void describe(const demo *d, char **argv, int argc, int next, char *out, size_t len) {
    FILE *f = fmemopen(out, len, "w");
    if (d->flag)
        fprintf(f, " flag");
    if (d->level)
        fprintf(f, " level=%d", d->level);
    if (d->name)
        fprintf(f, " name=%s", d->name);
    if (d->checked)
        fprintf(f, " checked=%s", d->checked);
    for (size_t i = 0; i < d->host_count; i++)
        fprintf(f, " host=%s", d->hosts[i]);
    for (size_t i = 0; i < d->tag_count; i++)
        fprintf(f, " tag=%s", d->tags[i]);
    if (d->count)
        fprintf(f, " count=%llu", (unsigned long long)d->count);
    if (d->size)
        fprintf(f, " size=%llu", (unsigned long long)d->size);
    if (d->wait_ms)
        fprintf(f, " wait=%llu", (unsigned long long)d->wait_ms);
    if (d->timeout_ms)
        fprintf(f, " timeout=%llu", (unsigned long long)d->timeout_ms);
    if (d->format)
        fprintf(f, " format=%d", d->format);
    if (d->url)
        fprintf(f, " url=%s", d->url);
    if (d->mode)
        fprintf(f, " mode=%o", d->mode);
    for (int i = next; i < argc; i++)
        fprintf(f, " [%s]", argv[i]);
    fclose(f);
}

typedef struct parse_case {
    const char *name;
    const cli_spec *spec;
    const char *args[8]; /* after the program name; ends at NULL */
    enum cli_status status;
    const char *want; /* CLI_OK: describe()'s text; CLI_ERROR: the message */
} parse_case;

static const parse_case parse_cases[] = {
    /* Flags, GNU style, operands. */
    {"cli: a short flag", &demo_spec, {"-f"}, CLI_OK, " flag"},
    {"cli: a long flag before an operand", &demo_spec, {"--flag", "op"}, CLI_OK, " flag [op]"},
    {"cli: operands come last whatever their place", &demo_spec, {"op", "-f", "op2"}, CLI_OK, " flag [op] [op2]"},
    {"cli: bundled short flags", &demo_spec, {"-fv"}, CLI_OK, " flag level=2"},
    {"cli: the last of -v and -q wins", &demo_spec, {"-v", "-q"}, CLI_OK, ""},
    {"cli: a unique prefix of a long name", &demo_spec, {"--fl"}, CLI_OK, " flag"},
    {"cli: -- ends the options", &demo_spec, {"--", "-f"}, CLI_OK, " [-f]"},
    /* Strings. */
    {"cli: string as --name=VALUE", &demo_spec, {"--name=bob"}, CLI_OK, " name=bob"},
    {"cli: string as -N VALUE", &demo_spec, {"-N", "bob"}, CLI_OK, " name=bob"},
    {"cli: string as -NVALUE", &demo_spec, {"-Nbob"}, CLI_OK, " name=bob"},
    {"cli: string too short", &demo_spec, {"--name", ""}, CLI_ERROR, "-N/--name: a name cannot be empty"},
    {"cli: string with a rejected space", &demo_spec, {"--name", "a b"}, CLI_ERROR,
     "-N/--name: a name cannot contain a space"},
    {"cli: string with a rejected line break", &demo_spec, {"-N", "a\nb"}, CLI_ERROR,
     "-N/--name: a name cannot contain a line break"},
    {"cli: string passing its check", &demo_spec, {"--checked", "good"}, CLI_OK, " checked=good"},
    {"cli: string failing its check", &demo_spec, {"--checked", "bad"}, CLI_ERROR, "--checked: 'bad' is not allowed"},
    /* Lists. */
    {"cli: fixed list", &demo_spec, {"--host", "a", "--host", "b"}, CLI_OK, " host=a host=b"},
    {"cli: fixed list given too often", &demo_spec, {"--host", "a", "--host", "b", "--host", "c"}, CLI_ERROR,
     "--host: can be given at most 2 times"},
    {"cli: list value with a rejected byte", &demo_spec, {"--host", "a:80"}, CLI_ERROR,
     "--host: a host name cannot contain ':'"},
    {"cli: growing list", &demo_spec, {"-t", "x", "-ty", "--tag=z"}, CLI_OK, " tag=x tag=y tag=z"},
    /* Counts. */
    {"cli: count in bounds", &demo_spec, {"-n", "100"}, CLI_OK, " count=100"},
    {"cli: count below its least", &demo_spec, {"-n", "0"}, CLI_ERROR,
     "-n/--count: invalid number '0' (expected a whole number from 1 to 100)"},
    {"cli: count above its most", &demo_spec, {"--count", "101"}, CLI_ERROR,
     "-n/--count: invalid number '101' (expected a whole number from 1 to 100)"},
    {"cli: count that is not a number", &demo_spec, {"--count=-1"}, CLI_ERROR,
     "-n/--count: invalid number '-1' (expected a whole number from 1 to 100)"},
    /* Sizes. */
    {"cli: size with a unit", &demo_spec, {"--size", "1MiB"}, CLI_OK, " size=1048576"},
    {"cli: size at its least", &demo_spec, {"--size", "256"}, CLI_OK, " size=256"},
    {"cli: size with an unknown unit", &demo_spec, {"--size", "12Q"}, CLI_ERROR,
     "--size: invalid size '12Q' (expected e.g. 512, 64K, 1MiB)"},
    {"cli: size below its least", &demo_spec, {"--size", "100"}, CLI_ERROR,
     "--size: invalid size '100' (expected from 256 bytes to 1MiB)"},
    {"cli: size above its most", &demo_spec, {"--size", "2M"}, CLI_ERROR,
     "--size: invalid size '2M' (expected from 256 bytes to 1MiB)"},
    /* Durations. */
    {"cli: duration in ms", &demo_spec, {"--wait", "1500ms"}, CLI_OK, " wait=1500"},
    {"cli: duration as a bare number of seconds", &demo_spec, {"--timeout", "2"}, CLI_OK, " timeout=2000"},
    {"cli: duration with an unknown unit", &demo_spec, {"--wait", "5x"}, CLI_ERROR,
     "--wait: invalid duration '5x' (expected e.g. 250ms, 15s, 2m, 1h)"},
    {"cli: duration below its least", &demo_spec, {"--wait", "0"}, CLI_ERROR,
     "--wait: invalid duration '0' (expected at least 1ms)"},
    /* Choices, URLs, calls. */
    {"cli: choice", &demo_spec, {"--format", "c"}, CLI_OK, " format=2"},
    {"cli: unknown choice", &demo_spec, {"--format", "d"}, CLI_ERROR,
     "--format: unknown format 'd' (expected a, b or c)"},
    {"cli: URL, scheme in any case", &demo_spec, {"-u", "HTTPS://example.com/"}, CLI_OK,
     " url=HTTPS://example.com/"},
    {"cli: URL of another scheme", &demo_spec, {"--url", "ftp://example.com/"}, CLI_ERROR,
     "-u/--url: unsupported URL 'ftp://example.com/' (expected http:// or https://)"},
    {"cli: URL without a scheme", &demo_spec, {"--url", "example.com"}, CLI_ERROR,
     "-u/--url: unsupported URL 'example.com' (expected http:// or https://)"},
    {"cli: call", &demo_spec, {"--mode", "0640"}, CLI_OK, " mode=640"},
    {"cli: call refusing the value", &demo_spec, {"--mode", "9"}, CLI_ERROR,
     "--mode: invalid mode '9' (expected an octal mode)"},
    /* What getopt_long finds. */
    {"cli: unknown long option", &demo_spec, {"--bogus"}, CLI_ERROR, "--bogus: unknown option"},
    {"cli: unknown long option with a value", &demo_spec, {"--bogus=1"}, CLI_ERROR, "--bogus: unknown option"},
    {"cli: unknown short option", &demo_spec, {"-z"}, CLI_ERROR, "-z: unknown option"},
    {"cli: unknown short option in a bundle", &demo_spec, {"--flag", "-zf"}, CLI_ERROR, "-z: unknown option"},
    {"cli: a value for a flag", &demo_spec, {"--flag=1"}, CLI_ERROR, "--flag: option takes no value"},
    {"cli: missing value, long", &demo_spec, {"--count"}, CLI_ERROR, "--count: option needs a value"},
    {"cli: missing value, short", &demo_spec, {"-fn"}, CLI_ERROR, "-n: option needs a value"},
    /* Did you mean: options other tools have, from the tool's hints. */
    {"cli: a hinted short option", &demo_spec, {"-C", "5"}, CLI_ERROR, "-C: unknown option (did you mean -n/--count?)"},
    {"cli: a hinted short option in a bundle", &demo_spec, {"-fC5"}, CLI_ERROR,
     "-C: unknown option (did you mean -n/--count?)"},
    {"cli: a hinted long option", &demo_spec, {"--port", "80"}, CLI_ERROR,
     "--port: unknown option (did you mean -u/--url?)"},
    {"cli: a hinted long option with a value", &demo_spec, {"--port=80"}, CLI_ERROR,
     "--port: unknown option (did you mean -u/--url?)"},
    {"cli: a hint that is a note", &demo_spec, {"-L", "op"}, CLI_ERROR,
     "-L: unknown option (demo follows redirects already)"},
    {"cli: hints match whole names only", &demo_spec, {"--por"}, CLI_ERROR, "--por: unknown option"},
    {"cli: a hint is not given for a missing value", &demo_spec, {"-n"}, CLI_ERROR, "-n: option needs a value"},
    /* Did you mean: typos, by edit distance (a swap of neighbours is one). */
    {"cli: a letter left out", &demo_spec, {"--verbse"}, CLI_ERROR, "--verbse: unknown option (did you mean -v/--verbose?)"},
    {"cli: a letter too many", &demo_spec, {"--counts=5"}, CLI_ERROR, "--counts: unknown option (did you mean -n/--count?)"},
    {"cli: two letters swapped", &demo_spec, {"--tiemout", "1s"}, CLI_ERROR,
     "--tiemout: unknown option (did you mean --timeout?)"},
    {"cli: two edits of a long name", &demo_spec, {"--tiemot", "1s"}, CLI_ERROR,
     "--tiemot: unknown option (did you mean --timeout?)"},
    {"cli: a short name allows one edit only", &demo_spec, {"--tg", "x"}, CLI_ERROR,
     "--tg: unknown option (did you mean -t/--tag?)"},
    {"cli: two edits of a short name are no guess", &demo_spec, {"--maze"}, CLI_ERROR, "--maze: unknown option"},
    {"cli: nothing near", &demo_spec, {"--zzzzzz"}, CLI_ERROR, "--zzzzzz: unknown option"},
    {"cli: a tie names each", &demo_spec, {"--moste"}, CLI_ERROR,
     "--moste: unknown option (did you mean --host or --mode?)"},
    /* --help and --version stop the parse where they are. */
    {"cli: --help", &demo_spec, {"-f", "--help"}, CLI_HELP_ASKED, NULL},
    {"cli: --help before a bad option", &demo_spec, {"-h", "--bogus"}, CLI_HELP_ASKED, NULL},
    {"cli: a bad option before --help", &demo_spec, {"--bogus", "-h"}, CLI_ERROR, "--bogus: unknown option"},
    {"cli: --version", &demo_spec, {"-V"}, CLI_VERSION_ASKED, NULL},
};

static void check_parse(const void *arg) {
    const parse_case *c = arg;
    char *argv[10] = {"demo"};
    int argc = 1;
    for (; c->args[argc - 1]; argc++)
        argv[argc] = (char *)c->args[argc - 1];
    demo d;
    memset(&d, 0, sizeof d);
    char err[512] = "", got[512] = "";
    int next = -1;
    enum cli_status status = cli_parse(c->spec, &d, argc, argv, &next, err, sizeof err);
    CHECK(status == c->status);
    if (c->status == CLI_OK) {
        describe(&d, argv, argc, next, got, sizeof got);
        CHECK_STR(got, c->want);
    } else if (c->status == CLI_ERROR) {
        CHECK_STR(err, c->want);
    }
    free(d.tags);
}

/* --help is the table: short and long names, the value's name, the
 * description at the column (two spaces on when the name reaches it),
 * continuation lines, headings and blank lines. */
static void help_from_the_table(const void *arg) {
    (void)arg;
    static const cli_option table[] = {
        CLI_SECTION("First:"),
        {.name = "all", .short_name = 'a', .kind = CLI_FLAG, .help = "short and long"},
        {.name = "long-only", .kind = CLI_STRING, .arg = "VALUE", .help = "one\ntwo"},
        {.name = "a-very-long-name", .kind = CLI_DURATION, .arg = "DUR", .help = "past the column"},
        CLI_SECTION(""),
        {.name = "help", .short_name = 'h', .kind = CLI_HELP, .help = "this help"},
    };
    static const cli_spec spec = {.program = "demo",
                                  .options = table,
                                  .count = sizeof table / sizeof table[0],
                                  .usage = "Usage: demo\n",
                                  .footer = "Footer.\n",
                                  .help_column = 22};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cli_print_help(&spec, f);
    fclose(f);
    CHECK_STR(text, "Usage: demo\n"
                    "\n"
                    "First:\n"
                    "  -a, --all           short and long\n"
                    "      --long-only VALUE  one\n"
                    "                      two\n"
                    "      --a-very-long-name DUR  past the column\n"
                    "\n"
                    "  -h, --help          this help\n"
                    "\n"
                    "Footer.\n");
    free(text);
}

/* cli_set_option: the table's checks, by long name, as a configuration
 * file gives them; messages name the option as the file does. */
typedef struct set_case {
    const char *name, *value;
    const char *want_err; /* NULL: taken */
} set_case;

static const set_case set_cases[] = {
    {"flag", NULL, NULL},
    {"verbose", NULL, NULL},
    {"count", "42", NULL},
    {"wait", "250ms", NULL},
    {"host", "a", NULL},
    {"mode", "0640", NULL},
    {"count", "0", "count: invalid number '0' (expected a whole number from 1 to 100)"},
    {"name", "two words", "name: a name cannot contain a space"},
    {"format", "d", "format: unknown format 'd' (expected a, b or c)"},
    {"count", NULL, "count: needs a value"},
    {"flag", "yes", "flag: takes no value"},
    {"bogus", "1", "unknown option 'bogus'"},
    {"port", "80", "unknown option 'port' (did you mean -u/--url?)"},
    {"help", NULL, "unknown option 'help'"},
    {"version", NULL, "unknown option 'version'"},
};

static void set_by_name(const void *arg) {
    (void)arg;
    for (size_t i = 0; i < sizeof set_cases / sizeof set_cases[0]; i++) {
        const set_case *c = &set_cases[i];
        demo d;
        memset(&d, 0, sizeof d);
        char err[512] = "";
        const cli_option *opt = cli_set_option(&demo_spec, &d, c->name, c->value, err, sizeof err);
        if (c->want_err) {
            CHECK(opt == NULL);
            CHECK_STR(err, c->want_err);
        } else {
            CHECK(opt != NULL && strcmp(opt->name, c->name) == 0);
        }
    }
    demo d;
    memset(&d, 0, sizeof d);
    char err[512];
    CHECK(cli_set_option(&demo_spec, &d, "verbose", NULL, err, sizeof err) != NULL && d.level == 2);
    CHECK(cli_set_option(&demo_spec, &d, "wait", "2s", err, sizeof err) != NULL && d.wait_ms == 2000);
    CHECK(cli_set_option(&demo_spec, &d, "host", "a", err, sizeof err) != NULL);
    CHECK(cli_set_option(&demo_spec, &d, "host", "b", err, sizeof err) != NULL && d.host_count == 2);
    CHECK(cli_set_option(&demo_spec, &d, "host", "c", err, sizeof err) == NULL);
    CHECK_STR(err, "host: can be given at most 2 times");
}

static void exit_statuses(const void *arg) {
    (void)arg;
    CHECK(cli_exit_status(CLI_RUN) == EXIT_OK);
    CHECK(cli_exit_status(CLI_DONE) == EXIT_OK);
    CHECK(cli_exit_status(CLI_USAGE) == EXIT_USAGE);
    CHECK(EXIT_USAGE == 2 && EXIT_RUNTIME == 1 && EXIT_OK == 0);
}

void cli_tests_register(void) {
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++)
        harness_add(parse_cases[i].name, check_parse, &parse_cases[i]);
    harness_add("cli: --help is made from the table", help_from_the_table, NULL);
    harness_add("cli: --help and --version exit 0, usage errors 2", exit_statuses, NULL);
    harness_add("cli: an option set by its long name (configuration files)", set_by_name, NULL);
}
