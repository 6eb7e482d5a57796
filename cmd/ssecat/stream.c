#include "stream.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_client.h"
#include "log.h"
#include "signals.h"
#include "utf8.h"

/* How much of a refused response's body is shown: enough for an API's
 * error JSON, not a whole HTML page. */
#define ERROR_BODY_MAX 2048
#define STREAM_POLL_CAP_MS 250

enum response_state { RESPONSE_HEADERS, RESPONSE_OPEN, RESPONSE_REFUSED };

typedef struct transfer {
    const ssecat_options *o;
    sse_parser *p;
    sink *s;
    limits *l;
    CURL *curl;
    enum response_state state;
    int opened;
    buf status_line;  /* of the latest response (redirects have several) */
    buf content_type; /* its Content-Type value */
    int has_location;
    buf error_body;
    int error_body_cut;
    int stopped_done;   /* the body callback stopped because the sink is done */
    int stopped_failed; /* ... because of a local failure, already reported */
} transfer;

static void trim_line(const char **s, size_t *len) {
    while (*len > 0 && ((*s)[*len - 1] == '\r' || (*s)[*len - 1] == '\n' || (*s)[*len - 1] == ' ' ||
                        (*s)[*len - 1] == '\t'))
        (*len)--;
    while (*len > 0 && (**s == ' ' || **s == '\t'))
        (*s)++, (*len)--;
}

static int header_is(const char *line, size_t len, const char *name) {
    size_t n = strlen(name);
    return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/* "text/event-stream", any case, parameters ignored, as the spec says. */
static int is_event_stream(const buf *content_type) {
    const char *ct = content_type->data ? content_type->data : "";
    size_t len = content_type->len;
    const char *semi = memchr(ct, ';', len);
    if (semi)
        len = (size_t)(semi - ct);
    trim_line(&ct, &len);
    return len == 17 && strncasecmp(ct, "text/event-stream", 17) == 0;
}

/* At the end of a header block: is this the final response, and does it
 * open the stream? Interim (1xx) responses and redirects libcurl follows are
 * passed over. */
static void decide(transfer *t) {
    long code = 0;
    if (curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
        code = 0;
    if (code >= 100 && code < 200)
        return;
    if (code >= 300 && code < 400 && t->has_location)
        return;
    if (code == 200 && (t->o->ignore_content_type || is_event_stream(&t->content_type))) {
        t->state = RESPONSE_OPEN;
        t->opened = 1;
        log_verbose("stream open: %.*s", (int)t->status_line.len, t->status_line.data ? t->status_line.data : "");
    } else {
        t->state = RESPONSE_REFUSED;
    }
}

static size_t on_header(char *data, size_t size, size_t count, void *ctx) {
    transfer *t = ctx;
    size_t total = size * count, len = total;
    const char *line = data;
    limits_touch(t->l);
    trim_line(&line, &len);
    int failed = 0;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        buf_clear(&t->status_line);
        buf_clear(&t->content_type);
        t->has_location = 0;
        t->state = RESPONSE_HEADERS;
        failed = utf8_sanitize_append(&t->status_line, line, len);
    } else if (len == 0) {
        if (t->state == RESPONSE_HEADERS)
            decide(t);
    } else if (header_is(line, len, "content-type")) {
        const char *v = line + 13;
        size_t vlen = len - 13;
        trim_line(&v, &vlen);
        buf_clear(&t->content_type);
        failed = buf_append(&t->content_type, v, vlen);
    } else if (header_is(line, len, "location")) {
        t->has_location = 1;
    }
    if (failed) {
        log_error("out of memory reading response headers");
        t->stopped_failed = 1;
        return 0;
    }
    return total;
}

static size_t keep_error_body(transfer *t, const char *data, size_t len) {
    size_t room = ERROR_BODY_MAX - t->error_body.len;
    size_t take = len < room ? len : room;
    if (buf_append(&t->error_body, data, take) < 0)
        return 0;
    if (take < len) {
        t->error_body_cut = 1;
        return 0; /* seen enough: stop the transfer */
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t count, void *ctx) {
    transfer *t = ctx;
    size_t len = size * count;
    if (t->state == RESPONSE_HEADERS)
        decide(t);
    if (t->state == RESPONSE_REFUSED)
        return keep_error_body(t, data, len);
    limits_touch(t->l);
    if (sse_parser_feed(t->p, data, len) < 0) {
        log_error("out of memory parsing the stream");
        t->stopped_failed = 1;
        return 0;
    }
    if (sink_flush(t->s) < 0) {
        t->stopped_failed = 1;
        return 0;
    }
    if (t->s->done) {
        t->stopped_done = 1;
        return 0;
    }
    return len;
}

/* The refused response as the user needs it: the status line, why it was
 * refused, and the start of the body (an API's error JSON, usually). */
static void report_refused(transfer *t) {
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    const char *status = t->status_line.len ? t->status_line.data : "no status line";
    int len = t->status_line.len ? (int)t->status_line.len : 14;
    if (code == 200)
        log_error("%s: %.*s with Content-Type '%.*s', not text/event-stream (--ignore-content-type accepts it)",
                  t->o->url, len, status, (int)t->content_type.len, t->content_type.data ? t->content_type.data : "");
    else if (code == 204)
        log_error("%s: %.*s (the server asks clients not to reconnect)", t->o->url, len, status);
    else
        log_error("%s: %.*s", t->o->url, len, status);
    if (t->error_body.len == 0)
        return;
    buf shown = BUF_INIT;
    if (utf8_sanitize_append(&shown, t->error_body.data, t->error_body.len) == 0) {
        fwrite(shown.data, 1, shown.len, stderr);
        if (shown.data[shown.len - 1] != '\n')
            fputc('\n', stderr);
        if (t->error_body_cut)
            fprintf(stderr, "[... the rest of the response body is not shown]\n");
    }
    buf_free(&shown);
}

/* "connect URL: Connection refused": what failed, where, and the system's
 * word for it when there is one. */
static void describe_failure(transfer *t, CURLcode rc, const char *errbuf, char *why, size_t whylen) {
    const char *verb;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        verb = "resolve";
        break;
    case CURLE_COULDNT_RESOLVE_PROXY:
        verb = "resolve proxy for";
        break;
    case CURLE_COULDNT_CONNECT:
        verb = "connect";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        verb = t->opened ? "read" : "connect";
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        verb = "TLS handshake with";
        break;
    case CURLE_SEND_ERROR:
        verb = "send to";
        break;
    default:
        verb = t->opened ? "read" : "request";
    }
    long os_errno = 0;
    if (curl_easy_getinfo(t->curl, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK)
        os_errno = 0;
    const char *text = os_errno && rc == CURLE_COULDNT_CONNECT ? strerror((int)os_errno)
                       : errbuf[0]                              ? errbuf
                                                                : curl_easy_strerror(rc);
    snprintf(why, whylen, "%s %s: %s", verb, t->o->url, text);
}

/* Request headers: the ones EventSource sends, the body's type, and the
 * Last-Event-ID to resume from. NULL-terminated, in `space`. */
static int request_headers(const ssecat_options *o, const sse_parser *p, buf *last_id, const char **space) {
    size_t n = 0;
    space[n++] = "Accept: text/event-stream";
    space[n++] = "Cache-Control: no-cache";
    size_t id_len;
    const char *id = sse_parser_last_id(p, &id_len);
    if (id_len > 0) {
        if (buf_append_str(last_id, "Last-Event-ID: ") < 0 || buf_append(last_id, id, id_len) < 0 ||
            buf_append_char(last_id, '\0') < 0)
            return -1;
        space[n++] = last_id->data;
    }
    if (o->json_body)
        space[n++] = "Content-Type: application/json";
    if (o->has_body)
        space[n++] = "Expect:"; /* no 100-continue round trip before the body */
    space[n] = NULL;
    return 0;
}

static int setup(transfer *t, const ssecat_options *o, struct curl_slist **headers, buf *last_id, char *errbuf) {
    const char *defaults[8];
    char err[256];
    if (request_headers(o, t->p, last_id, defaults) < 0) {
        log_error("out of memory");
        return -1;
    }
    if (http_client_setup(t->curl, &o->http, defaults, headers, err, sizeof err) < 0) {
        log_error("%s", err);
        return -1;
    }
    CURLcode rc = curl_easy_setopt(t->curl, CURLOPT_URL, o->url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, errbuf);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(t->curl, CURLOPT_HEADERFUNCTION, on_header);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(t->curl, CURLOPT_HEADERDATA, t);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, t);
    if (rc == CURLE_OK && o->has_body) {
        rc = curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, o->body);
    }
    if (rc == CURLE_OK && o->method)
        rc = curl_easy_setopt(t->curl, CURLOPT_CUSTOMREQUEST, o->method);
    if (rc != CURLE_OK) {
        log_error("%s: %s", o->url, curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* Drive the transfer until it ends, a limit passes or a signal arrives. The
 * wait is capped so a signal that lands on libcurl's resolver thread is
 * still seen promptly. */
static enum stream_end drive(CURLM *multi, transfer *t, CURLcode *result) {
    int running = 1;
    while (running) {
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc == CURLM_OK && running) {
            if (signals_stop_requested())
                return STREAM_INTERRUPTED;
            if (limits_expired(t->l, 1))
                return STREAM_TIMEOUT;
            mc = curl_multi_poll(multi, NULL, 0, limits_wait_ms(t->l, STREAM_POLL_CAP_MS), NULL);
        }
        if (mc != CURLM_OK) {
            log_error("%s: %s", t->o->url, curl_multi_strerror(mc));
            return STREAM_FAILED;
        }
    }
    int queued;
    CURLMsg *msg;
    *result = CURLE_OK;
    while ((msg = curl_multi_info_read(multi, &queued)))
        if (msg->msg == CURLMSG_DONE)
            *result = msg->data.result;
    return STREAM_ENDED;
}

enum stream_end stream_run(const ssecat_options *o, sse_parser *p, sink *s, limits *l, int *opened, char *why,
                           size_t whylen) {
    transfer t = {.o = o, .p = p, .s = s, .l = l, .state = RESPONSE_HEADERS};
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    buf last_id = BUF_INIT;
    enum stream_end end = STREAM_FAILED;
    CURLcode result = CURLE_OK;
    *opened = 0;
    why[0] = '\0';
    t.curl = curl_easy_init();
    CURLM *multi = curl_multi_init();
    if (!t.curl || !multi) {
        log_error("libcurl: out of memory");
        goto out;
    }
    if (setup(&t, o, &headers, &last_id, errbuf) < 0)
        goto out;
    CURLMcode mc = curl_multi_add_handle(multi, t.curl);
    if (mc != CURLM_OK) {
        log_error("%s: %s", o->url, curl_multi_strerror(mc));
        goto out;
    }
    end = drive(multi, &t, &result);
    curl_multi_remove_handle(multi, t.curl);
    if (end != STREAM_ENDED)
        goto out;
    if (t.stopped_failed) {
        end = STREAM_FAILED;
    } else if (t.stopped_done) {
        end = STREAM_DONE;
    } else if (t.state == RESPONSE_REFUSED) {
        report_refused(&t);
        end = STREAM_REFUSED;
    } else if (result == CURLE_TOO_MANY_REDIRECTS) {
        log_error("%s: %s", o->url, errbuf[0] ? errbuf : curl_easy_strerror(result));
        end = STREAM_REFUSED;
    } else if (result == CURLE_OK && t.state == RESPONSE_OPEN) {
        end = STREAM_ENDED;
    } else {
        describe_failure(&t, result == CURLE_OK ? CURLE_GOT_NOTHING : result, errbuf, why, whylen);
        end = STREAM_NETWORK;
    }
out:
    *opened = t.opened;
    if (multi)
        curl_multi_cleanup(multi);
    if (t.curl)
        curl_easy_cleanup(t.curl);
    curl_slist_free_all(headers);
    buf_free(&t.status_line);
    buf_free(&t.content_type);
    buf_free(&t.error_body);
    buf_free(&last_id);
    return end;
}
