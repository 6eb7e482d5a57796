#include "sender.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "clock.h"
#include "entropy.h"
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
        if (entropy_fill(&id, sizeof id) < 0) {
            log_error("random session number: %s", strerror(errno));
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

/* The "error" text of an answer, or its first line for other servers,
 * without the status ssed's plain-text answers start with ("503 Service
 * Unavailable: ..."), which the caller has already said. */
static void answer_reason(const buf *answer, long status, char *out, size_t size) {
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
    char code[24];
    int code_len = snprintf(code, sizeof code, "%ld ", status);
    if (strncmp(out, code, (size_t)code_len) == 0)
        memmove(out, out + code_len, n - (size_t)code_len + 1);
}

/* One POST of the batch. Returns the HTTP status, or 0 when no answer came
 * (why in errbuf, and its kind in *failure). */
static long post_once(sender *s, batch *b, char *errbuf, enum http_failure *failure) {
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
        *failure = http_client_failure_kind(s->curl, rc);
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", why);
        return 0;
    }
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    s->answered = 1;
    char text[300];
    answer_reason(&s->answer, status, text, sizeof text);
    log_verbose("POST %s: %ld %s", s->o->target, status, text);
    return status;
}

static void give_up(sender *s, batch *b, int status, const char *why) {
    s->undelivered += b->count;
    s->fatal = 1;
    s->fatal_status = status;
    log_error("%zu event%s not delivered: %s", b->count, b->count == 1 ? "" : "s", why);
    batch_drop_front(b, b->count);
}

/* A run of failed sends of one batch, retried until --retry-for has passed
 * since the first of them. */
typedef struct retrying {
    uint64_t first_failure; /* 0: the last send did not fail */
    uint64_t last_report;
    uint64_t backoff;
} retrying;

/* Why the send failed, for messages: libcurl's words when no answer came
 * ("connect URL: Connection refused"), else the answer's. */
static void failure_reason(const sender *s, long status, const char *errbuf, char *reason, size_t size) {
    if (status == 0) {
        snprintf(reason, size, "%s", errbuf);
        return;
    }
    char answer[400] = "unexpected answer";
    if (status >= 500)
        answer_reason(&s->answer, status, answer, sizeof answer);
    snprintf(reason, size, "POST %s: %ld %s", s->o->target, status, answer);
}

/* After a transient failure: wait and return 0 to send again, or give up
 * on the batch (-1) when --retry-for has passed, a stop signal came, or
 * the first request of the run met an error that waiting will not heal
 * (a name that does not resolve, a certificate that does not verify). */
static int retry_or_give_up(sender *s, batch *b, retrying *r, long status, const char *errbuf,
                            enum http_failure failure) {
    char reason[CURL_ERROR_SIZE + 64], why[sizeof reason + 128], left[32];
    failure_reason(s, status, errbuf, reason, sizeof reason);
    const char *hint = s->answered ? NULL : http_client_failure_hint(failure);
    uint64_t now = clock_now_ms();
    if (!r->first_failure)
        r->first_failure = now;
    uint64_t spent = now - r->first_failure;
    units_format_duration(left, sizeof left, spent < s->o->retry_for_ms ? s->o->retry_for_ms - spent : 0);
    if (hint)
        snprintf(why, sizeof why, "%s (%s)", reason, hint);
    else if (signals_stop_requested())
        snprintf(why, sizeof why, "interrupted while retrying: %s", reason);
    else if (spent >= s->o->retry_for_ms) {
        units_format_duration(left, sizeof left, s->o->retry_for_ms);
        snprintf(why, sizeof why, "still failing after %s (--retry-for): %s", left, reason);
    } else
        why[0] = '\0';
    if (why[0]) {
        give_up(s, b, EXIT_UNREACHABLE, why);
        return -1;
    }
    /* Said at once, so a server that is down is known within a second. */
    const char *what = status == 0 ? "cannot reach the server: " : "";
    if (spent == 0 || now - r->last_report >= STILL_RETRYING_MS) {
        log_info("%s%s; %s for %s more (--retry-for)", what, reason, spent == 0 ? "retrying" : "still retrying",
                 left);
        r->last_report = now;
    } else {
        log_verbose("%s; retrying", reason);
    }
    uint64_t jitter;
    if (entropy_fill(&jitter, sizeof jitter) < 0)
        jitter = now;
    /* The last try is made when --retry-for ends, not a backoff after. */
    uint64_t pause = backoff_jitter_ms(r->backoff, (uint32_t)jitter);
    sleep_ms(pause < s->o->retry_for_ms - spent ? pause : s->o->retry_for_ms - spent);
    r->backoff = backoff_next_ms(r->backoff, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
    return 0;
}

void sender_send(sender *s, batch *b) {
    retrying r = {0, 0, BACKOFF_FIRST_MS};
    char errbuf[CURL_ERROR_SIZE];
    while (b->count > 0) {
        enum http_failure failure = HTTP_FAILURE_OTHER;
        long status = post_once(s, b, errbuf, &failure);
        long long accepted = status ? answer_number(&s->answer, "accepted") : -1;
        if (accepted > 0) {
            size_t taken = (size_t)accepted < b->count ? (size_t)accepted : b->count;
            s->delivered += taken;
            batch_drop_front(b, taken);
        }
        if (status == 200 && b->count == 0)
            return;
        if (status >= 400 && status < 500) {
            char reason[512];
            answer_reason(&s->answer, status, reason, sizeof reason);
            if ((status == 400 || status == 413) && b->count > 0 && accepted >= 0) {
                /* One event was refused: report it, send the rest. */
                log_error("event from input %llu refused by the server (%ld): %s",
                          (unsigned long long)b->inputs[0], status, reason);
                s->refused++;
                batch_drop_front(b, 1);
                r.first_failure = 0;
                continue;
            }
            char why[700];
            snprintf(why, sizeof why, "refused by the server (%ld): %s", status, reason);
            s->refused += b->count;
            give_up(s, b, EXIT_REFUSED, why);
            return;
        }
        /* Transient: no answer, 5xx, or an answer we cannot read. */
        if (retry_or_give_up(s, b, &r, status, errbuf, failure) < 0)
            return;
    }
}
