#include "sender.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "backoff.h"
#include "clock.h"
#include "http_client.h"
#include "interrupt.h"
#include "log.h"
#include "signals.h"
#include "units.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 2000
/* While retrying, say so this often, so a quiet terminal is not a hang. */
#define STILL_RETRYING_MS 5000
/* A request that takes longer than this is given up and retried (numbered
 * events make that safe), so a server that hangs cannot hang ssepub. */
#define REQUEST_TIMEOUT_MS 60000L

/* The pause between retries. A stop signal cuts it short whenever it
 * lands, even just before the pause, and the retry loop then gives up. */
static void sleep_ms(uint64_t ms) {
    uint64_t end = clock_now_ms() + ms;
    for (uint64_t now = clock_now_ms(); now < end; now = clock_now_ms()) {
        enum interrupt_wait_result w = interrupt_wait(-1, (int)(end - now));
        if (w == WAIT_FAILED)
            log_error("ppoll: %s", strerror(errno));
        if (w == WAIT_STOPPED || w == WAIT_FAILED)
            return;
    }
}

static size_t on_answer(char *data, size_t size, size_t n, void *ctx) {
    buf *answer = ctx;
    size_t len = size * n;
    if (answer->len < 4096 && buf_append(answer, data, len < 4096 ? len : 4096) < 0)
        return 0;
    return len;
}

int sender_init(sender *s, const ssepub_options *o) {
    memset(s, 0, sizeof *s);
    s->o = o;
    uint64_t id = 0;
    while (id == 0)
        if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id) {
            log_error("getrandom: %s", strerror(errno));
            return -1;
        }
    snprintf(s->session, sizeof s->session, "%016llx", (unsigned long long)id);
    s->curl = curl_easy_init();
    if (!s->curl) {
        log_error("curl_easy_init failed");
        return -1;
    }
    return 0;
}

void sender_free(sender *s) {
    if (s->curl)
        curl_easy_cleanup(s->curl);
    buf_free(&s->answer);
}

/* A number after "key": in ssed's small JSON answer; -1 if absent. */
static long long answer_number(const buf *answer, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *end = answer->data + answer->len;
    const char *at = answer->len ? memmem(answer->data, answer->len, pattern, strlen(pattern)) : NULL;
    if (!at)
        return -1;
    long long n = 0;
    const char *p = at + strlen(pattern);
    if (p >= end || *p < '0' || *p > '9')
        return -1;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (*p - '0');
    return n;
}

/* The "error" text of an answer, or its first line for other servers. */
static void answer_reason(const buf *answer, char *out, size_t size) {
    const char *start = answer->len ? memmem(answer->data, answer->len, "\"error\":\"", 9) : NULL;
    size_t n = 0;
    if (start) {
        for (const char *p = start + 9; p < answer->data + answer->len && *p != '"' && n + 1 < size; p++) {
            if (*p == '\\' && p + 1 < answer->data + answer->len)
                p++;
            out[n++] = *p;
        }
    } else {
        for (size_t i = 0; i < answer->len && answer->data[i] != '\n' && n + 1 < size; i++)
            out[n++] = answer->data[i];
    }
    out[n] = '\0';
}

/* One POST of the batch. Returns the HTTP status, or 0 when no answer came
 * (why in errbuf). */
static long post_once(sender *s, batch *b, char *errbuf) {
    char sequence[48], publisher[48];
    snprintf(publisher, sizeof publisher, "SSE-Publisher: %s", s->session);
    snprintf(sequence, sizeof sequence, "SSE-Sequence: %llu", (unsigned long long)b->first_seq);
    const char *defaults[] = {"Content-Type: text/event-stream", publisher, sequence,
                              "Expect:", /* no 100-continue round trip */
                              NULL};
    struct curl_slist *headers = NULL;
    char err[256];
    if (http_client_setup(s->curl, &s->o->http, defaults, &headers, err, sizeof err) < 0) {
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", err);
        return 0;
    }
    buf_clear(&s->answer);
    errbuf[0] = '\0';
    CURLcode rc = curl_easy_setopt(s->curl, CURLOPT_URL, s->o->target);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body.len);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, b->body.data ? b->body.data : "");
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_answer);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &s->answer);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(s->curl);
    s->requests++;
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        char why[CURL_ERROR_SIZE];
        http_client_describe_failure(s->curl, rc, s->o->target, errbuf, 0, why, sizeof why);
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", why);
        return 0;
    }
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    log_verbose("POST %s: %ld %.*s", s->o->target, status, (int)(s->answer.len > 300 ? 300 : s->answer.len),
                s->answer.data ? s->answer.data : "");
    return status;
}

static void give_up(sender *s, batch *b, int status, const char *why) {
    s->undelivered += b->count;
    s->fatal = 1;
    s->fatal_status = status;
    log_error("%zu event%s not delivered: %s", b->count, b->count == 1 ? "" : "s", why);
    batch_drop_front(b, b->count);
}

void sender_send(sender *s, batch *b) {
    uint64_t first_failure = 0, last_report = 0, backoff = BACKOFF_FIRST_MS;
    char errbuf[CURL_ERROR_SIZE];
    while (b->count > 0) {
        long status = post_once(s, b, errbuf);
        long long accepted = status ? answer_number(&s->answer, "accepted") : -1;
        if (accepted > 0) {
            size_t taken = (size_t)accepted < b->count ? (size_t)accepted : b->count;
            s->delivered += taken;
            batch_drop_front(b, taken);
        }
        if (status == 200 && b->count == 0)
            return;
        char reason[512];
        if (status >= 400 && status < 500) {
            answer_reason(&s->answer, reason, sizeof reason);
            if ((status == 400 || status == 413) && b->count > 0 && accepted >= 0) {
                /* One event was refused: report it, send the rest. */
                log_error("event from input %llu refused by the server (%ld): %s",
                          (unsigned long long)b->inputs[0], status, reason);
                s->refused++;
                batch_drop_front(b, 1);
                first_failure = 0;
                continue;
            }
            char why[700];
            snprintf(why, sizeof why, "refused by the server (%ld): %s", status, reason);
            s->refused += b->count;
            give_up(s, b, EXIT_REFUSED, why);
            return;
        }
        /* Transient: no answer, 5xx, or an answer we cannot read. */
        if (status == 0)
            snprintf(reason, sizeof reason, "%s", errbuf);
        else {
            char answer[400] = "unexpected answer";
            if (status >= 500)
                answer_reason(&s->answer, answer, sizeof answer);
            snprintf(reason, sizeof reason, "POST %s: %ld %s", s->o->target, status, answer);
        }
        uint64_t now = clock_now_ms();
        if (!first_failure)
            first_failure = now;
        if (now - first_failure >= s->o->retry_for_ms || signals_stop_requested()) {
            char why[700];
            snprintf(why, sizeof why, "%s (%s %s)", reason,
                     signals_stop_requested() ? "interrupted while retrying" : "gave up after --retry-for",
                     s->o->target);
            give_up(s, b, EXIT_UNREACHABLE, why);
            return;
        }
        if (now == first_failure || now - last_report >= STILL_RETRYING_MS) {
            char left[32];
            units_format_duration(left, sizeof left, s->o->retry_for_ms - (now - first_failure));
            log_info("%s; %s for %s more (--retry-for)", reason, now == first_failure ? "retrying" : "still retrying",
                     left);
            last_report = now;
        } else {
            log_verbose("%s; retrying", reason);
        }
        uint64_t jitter;
        if (getrandom(&jitter, sizeof jitter, 0) != (ssize_t)sizeof jitter)
            jitter = now;
        sleep_ms(backoff_jitter_ms(backoff, (uint32_t)jitter));
        backoff = backoff_next_ms(backoff, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
    }
}
