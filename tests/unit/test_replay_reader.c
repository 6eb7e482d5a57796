/* The recording reader (replay_reader.h): items with their times, types,
 * ids, comments and retry-only blocks; unknown keys ignored; an incomplete
 * last block dropped; the first line checked; the same result whatever the
 * chunking. */
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "replay_reader.h"

typedef struct reader_case {
    const char *name;
    const char *input;
    size_t max;
    const char *want; /* the items, then "!" and the error if any */
} reader_case;

#define HEAD ": ssecat-recording=1\n"

static const reader_case cases[] = {
    {"replay reader: an event with type, id and two data lines at its time",
     HEAD ": url=http://x/\n: t=1.250\nevent: update\nid: 41\ndata: a\ndata: b\n\n", 100,
     "E1250 t=update id=41 d=a\\nb r=-1;"},
    {"replay reader: a message without id; a retry with its event; a retry-only block",
     HEAD ": t=0.5\ndata: x\n\n: t=1\nretry: 500\ndata: y\n\n: t=2.001\nretry: 9\n\n: t=3\ndata: z\n\n", 100,
     "E500 t=- id=- d=x r=-1;E1000 t=- id=- d=y r=500;R2001 r=9;E3000 t=- id=- d=z r=-1;"},
    {"replay reader: comments keep their text after comment=; unknown keys and plain comments ignored",
     HEAD ": t=0.010\n: comment= ping\n: t=0.020\n: comment=keepalive\n: reconnect=1\n: header=X: y\n:other\n"
          ": t=0.030\nid:\ndata:\n\n: end=stream ended\n",
     100, "C10 ' ping';C20 'keepalive';E30 t=- id= d= r=-1;"},
    {"replay reader: an incomplete last block is dropped", HEAD ": t=0.1\ndata: a\n\n: t=0.2\ndata: b\n", 100,
     "E100 t=- id=- d=a r=-1;"},
    {"replay reader: a block over the limit is skipped, the rest read",
     HEAD ": t=0.1\ndata: 0123456789abcdef\n\n: t=0.2\ndata: ok\n\n", 12, "O;E200 t=- id=- d=ok r=-1;"},
    {"replay reader: CRLF line ends are read too", ": ssecat-recording=1\r\n: t=0.1\r\ndata: a\r\n\r\n", 100,
     "E100 t=- id=- d=a r=-1;"},
    {"replay reader: a plain event stream is refused", "data: a\n\n", 100,
     "!not a recording (its first line is not ': ssecat-recording=1')"},
    {"replay reader: an unknown version is refused", ": ssecat-recording=2\n: t=1\ndata: a\n\n", 100,
     "!recording format version '2' is not known (this ssed reads version 1)"},
    {"replay reader: empty input is refused", "", 100, "!empty: not a recording (no ': ssecat-recording=1' line)"},
};

static void on_item(void *ctx, const replay_item *it) {
    buf *out = ctx;
    if (it->kind == REPLAY_RETRY) {
        buf_printf(out, "R%llu r=%lld;", (unsigned long long)it->t_ms, it->retry_ms);
        return;
    }
    if (it->kind == REPLAY_COMMENT) {
        buf_printf(out, "C%llu '%.*s';", (unsigned long long)it->t_ms, (int)it->data_len, it->data);
        return;
    }
    buf_printf(out, "E%llu t=%.*s id=%.*s d=", (unsigned long long)it->t_ms, it->type ? (int)it->type_len : 1,
               it->type ? it->type : "-", it->id ? (int)it->id_len : 1, it->id ? it->id : "-");
    for (size_t i = 0; i < it->data_len; i++)
        buf_append_str(out, it->data[i] == '\n' ? "\\n" : (char[]){it->data[i], 0});
    buf_printf(out, " r=%lld;", it->retry_ms);
}

static void on_oversize(void *ctx, size_t bytes) {
    (void)bytes;
    buf_append_str(ctx, "O;");
}

static void run(buf *out, const reader_case *c, size_t chunk) {
    buf_clear(out);
    replay_reader r;
    replay_reader_handlers h = {on_item, on_oversize, out};
    replay_reader_init(&r, c->max, &h);
    size_t len = strlen(c->input);
    int rc = 0;
    for (size_t pos = 0; pos < len && rc == 0; pos += chunk)
        rc = replay_reader_feed(&r, c->input + pos, len - pos < chunk ? len - pos : chunk);
    if (rc == 0)
        rc = replay_reader_finish(&r);
    if (rc < 0)
        buf_printf(out, "!%s", r.err);
    replay_reader_free(&r);
    buf_append_char(out, '\0');
}

static void check_reader(const void *arg) {
    const reader_case *c = arg;
    buf out = BUF_INIT;
    size_t len = strlen(c->input);
    for (size_t chunk = 1; chunk <= (len ? len : 1); chunk++) {
        run(&out, c, chunk);
        if (strcmp(out.data, c->want) != 0) {
            harness_fail(__FILE__, __LINE__, "chunk %zu: got \"%s\" want \"%s\"", chunk, out.data, c->want);
            break;
        }
    }
    buf_free(&out);
}

void replay_reader_tests_register(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        harness_add(cases[i].name, check_reader, &cases[i]);
}
