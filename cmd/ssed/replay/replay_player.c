/* Playing a recording: read a chunk when nothing is queued, hand out each
 * item when the timeline reaches it, start again at the end with --loop. */
#include "replay_player.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define READ_CHUNK 65536
/* Items delivered per step: at --speed max the loop still serves clients. */
#define STEP_ITEMS 256

struct replay_queued {
    replay_queued *next;
    replay_item it; /* its strings point into bytes */
    char bytes[];
};

static const char *input_name(const replay_player *p) {
    return strcmp(p->set.path, "-") == 0 ? "stdin" : p->set.path;
}

/* The reader's item, copied onto the queue (items before --replay-from
 * are skipped). */
static void queue_item(void *ctx, const replay_item *it) {
    replay_player *p = ctx;
    if (it->t_ms < p->set.from_ms)
        return;
    replay_queued *q = malloc(sizeof *q + it->type_len + it->id_len + it->data_len + 1);
    if (!q) {
        log_error("%s: out of memory: a recorded item was skipped", input_name(p));
        return;
    }
    q->next = NULL;
    q->it = *it;
    char *at = q->bytes;
    if (it->type) {
        memcpy(at, it->type, it->type_len);
        q->it.type = at;
        at += it->type_len;
    }
    if (it->id) {
        memcpy(at, it->id, it->id_len);
        q->it.id = at;
        at += it->id_len;
    }
    memcpy(at, it->data ? it->data : "", it->data_len);
    q->it.data = at;
    if (p->tail)
        p->tail->next = q;
    else
        p->head = q;
    p->tail = q;
}

static void skipped_oversize(void *ctx, size_t bytes) {
    replay_player *p = ctx;
    p->oversized++;
    log_warn("%s: skipped a recorded block larger than --max-event-size %zu (size %zu)", input_name(p),
             p->set.max_event_size, bytes);
}

static void watch_input(replay_player *p, int want) {
    if (!p->pollable || p->armed == want || p->done)
        return;
    if (loop_modify(p->loop, p->fd, want ? LOOP_IN : 0, &p->watch) < 0) {
        log_error("%s: %s: %s", input_name(p), loop_backend, strerror(errno));
        return;
    }
    p->armed = want;
}

static void fail(replay_player *p, const char *why, int status) {
    watch_input(p, 0); /* before done, which watch_input leaves alone */
    p->done = 1;
    if (p->sink.failed)
        p->sink.failed(p->sink.ctx, why, status);
}

/* The input ended: finish this pass's items; the next pass begins once
 * they are delivered (replay_player_step). */
static void reached_eof(replay_player *p) {
    char why[400];
    if (replay_reader_finish(&p->reader) < 0) {
        snprintf(why, sizeof why, "%s: %s", input_name(p), p->reader.err);
        fail(p, why, 2);
        return;
    }
    p->at_eof = 1;
    watch_input(p, 0);
}

/* Read one chunk: 1 when it read (or the input ended), 0 when nothing
 * waits now, -1 when the player failed. */
static int fill(replay_player *p) {
    char chunk[READ_CHUNK];
    char why[400];
    ssize_t n = read(p->fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        watch_input(p, 1);
        return 0;
    }
    if (n < 0) {
        snprintf(why, sizeof why, "read %s: %s", input_name(p), strerror(errno));
        fail(p, why, 1);
        return -1;
    }
    if (n == 0) {
        reached_eof(p);
        return p->done ? -1 : 1;
    }
    if (replay_reader_feed(&p->reader, chunk, (size_t)n) < 0) {
        snprintf(why, sizeof why, "%s: %s", input_name(p), p->reader.err);
        fail(p, why, p->reader.bad ? 2 : 1);
        return -1;
    }
    return 1;
}

static void input_ready(loop_watch *w, uint32_t events) {
    (void)events;
    replay_player *p = (replay_player *)w;
    replay_player_step(p, clock_now_ms());
}

static int open_input(replay_player *p, char *err, size_t errlen) {
    if (strcmp(p->set.path, "-") == 0) {
        p->fd = STDIN_FILENO;
    } else {
        p->fd = open(p->set.path, O_RDONLY | O_CLOEXEC);
        if (p->fd < 0) {
            snprintf(err, errlen, "--replay %s: %s", p->set.path, strerror(errno));
            return -1;
        }
    }
    int flags = fcntl(p->fd, F_GETFL);
    if (flags < 0 || fcntl(p->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "--replay %s: fcntl: %s", input_name(p), strerror(errno));
        return -1;
    }
    if (loop_add(p->loop, p->fd, 0, &p->watch) == 0) {
        p->pollable = 1;
    } else if (errno != EPERM) {
        snprintf(err, errlen, "--replay %s: %s: %s", input_name(p), loop_backend, strerror(errno));
        return -1;
    }
    return 0;
}

int replay_player_open(replay_player *p, loop *l, const replay_settings *s, const replay_sink *sink, uint64_t now_ms,
                       char *err, size_t errlen) {
    list_node link = p->link; /* the owner's */
    memset(p, 0, sizeof *p);
    p->link = link;
    p->watch.on_ready = input_ready;
    p->loop = l;
    p->set = *s;
    p->sink = *sink;
    p->base_ms = now_ms;
    p->fd = -1;
    replay_reader_handlers h = {queue_item, skipped_oversize, p};
    replay_reader_init(&p->reader, s->max_event_size, &h);
    if (open_input(p, err, errlen) < 0)
        return -1;
    if (p->pollable) {
        watch_input(p, 1);
        return 0;
    }
    /* A file: its first line is checked now, so a wrong file stops ssed at
     * start. */
    char chunk[256];
    ssize_t n = read(p->fd, chunk, sizeof chunk);
    if (n < 0) {
        snprintf(err, errlen, "--replay %s: read: %s", p->set.path, strerror(errno));
        return -1;
    }
    int rc = n == 0 ? replay_reader_finish(&p->reader) : replay_reader_feed(&p->reader, chunk, (size_t)n);
    if (rc < 0) {
        snprintf(err, errlen, "--replay %s: %s", p->set.path, p->reader.err);
        return -2;
    }
    if (n == 0)
        p->at_eof = 1;
    return 0;
}

static uint64_t due_of(const replay_player *p, const replay_item *it) {
    if (p->set.speed <= 0)
        return 0;
    return p->base_ms + (uint64_t)((double)(it->t_ms - p->set.from_ms) / p->set.speed);
}

int replay_player_due_ms(const replay_player *p, uint64_t now_ms) {
    if (p->done)
        return -1;
    if (p->held)
        return p->sink.wakes ? -1 : REPLAY_POLL_MS;
    if (!p->head)
        return p->pollable && !p->at_eof ? -1 : 0; /* stdin: its input wakes it */
    uint64_t due = due_of(p, &p->head->it);
    return due <= now_ms ? 0 : due - now_ms > 60000 ? 60000 : (int)(due - now_ms);
}

/* The end of a pass: loop, or tell the sink. */
static void pass_ended(replay_player *p, uint64_t now_ms) {
    if (!p->set.loop) {
        watch_input(p, 0);
        p->done = 1;
        if (p->sink.ended)
            p->sink.ended(p->sink.ctx);
        return;
    }
    if (lseek(p->fd, 0, SEEK_SET) < 0) {
        char why[400];
        snprintf(why, sizeof why, "--loop %s: lseek: %s", input_name(p), strerror(errno));
        fail(p, why, 1);
        return;
    }
    replay_reader_reset(&p->reader);
    p->at_eof = 0;
    p->base_ms = now_ms;
}

void replay_player_step(replay_player *p, uint64_t now_ms) {
    if (p->held && !p->sink.wakes && now_ms >= p->held_ms + REPLAY_POLL_MS)
        p->held = 0;
    for (int i = 0; i < STEP_ITEMS && !p->done && !p->held; i++) {
        if (!p->head) {
            if (p->at_eof) {
                pass_ended(p, now_ms);
                if (p->set.loop && i > 0)
                    break; /* an empty recording must not spin here */
                continue;
            }
            if (fill(p) <= 0)
                break;
            continue;
        }
        replay_queued *q = p->head;
        if (due_of(p, &q->it) > now_ms)
            break;
        if (p->sink.deliver(p->sink.ctx, &q->it) == REPLAY_HELD) {
            p->held = 1;
            p->held_ms = now_ms;
            break;
        }
        p->head = q->next;
        if (!p->head)
            p->tail = NULL;
        free(q);
    }
    if (!p->done)
        watch_input(p, !p->head && !p->at_eof);
}

void replay_player_close(replay_player *p) {
    while (p->head) {
        replay_queued *q = p->head;
        p->head = q->next;
        free(q);
    }
    p->tail = NULL;
    if (p->fd >= 0) {
        if (p->pollable)
            loop_remove(p->loop, p->fd);
        if (p->fd != STDIN_FILENO)
            close(p->fd);
        p->fd = -1;
    }
    replay_reader_free(&p->reader);
    p->done = 1;
}
