#include "stream.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http_client.h"
#include "log.h"
#include "signals.h"
#include "terminal.h"
#include "utf8.h"

/* How much of a refused response's body is shown: enough for an API's
 * error JSON, not a whole HTML page. */
#define ERROR_BODY_MAX 2048
#define STREAM_POLL_CAP_MS 250
/* Browsers give up after 20 redirects; so do we. */
#define STREAM_MAX_REDIRECTS 20

enum response_state { RESPONSE_HEADERS, RESPONSE_OPEN, RESPONSE_REFUSED, RESPONSE_REDIRECT };

/* One request: ssecat follows redirects itself, one request each, so that
 * it decides per hop what the request carries. */
typedef struct transfer {
    const ssecat_options *o;
    const char *url; /* of this request */
    int foreign;     /* url's host is not o->url's: no -H, -u or token unless --location-trusted */
    int get_only;    /* a redirect turned the request into a GET without body */
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
    int paused;         /* the body callback paused the transfer to end it without an error */
    enum stream_end cut; /* a signal or --max-time ended it inside libcurl (0: neither) */
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
    /* The redirects browsers follow; any other 3xx is an answer. */
    if ((code == 301 || code == 302 || code == 303 || code == 307 || code == 308) && t->has_location) {
        t->state = RESPONSE_REDIRECT;
        return;
    }
    if (code == 200 && (t->o->ignore_content_type || is_event_stream(&t->content_type))) {
        t->state = RESPONSE_OPEN;
        t->opened = 1;
        if (t->s->rec)
            recorder_opened(t->s->rec, code);
        buf shown = BUF_INIT;
        log_verbose("stream open: %s", terminal_stderr_text(&shown, t->status_line.data, t->status_line.len, 0));
        buf_free(&shown);
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
    if (t->s->rec)
        recorder_header_line(t->s->rec, line, len);
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
        t->paused = 1; /* seen enough: stop the transfer, quietly (not a write failure in -v) */
        return CURL_WRITEFUNC_PAUSE;
    }
    return len;
}

/* libcurl may call the body callback for a long time within one
 * curl_multi_perform: a compressed response inflates every byte it read
 * (a gzip bomb is gigabytes), so Ctrl-C and --max-time are looked at here
 * too, not only between calls. 1 when the transfer must end now. */
static int cut_short(transfer *t) {
    limits_touch(t->l); /* bytes arrived: not idle */
    if (signals_stop_requested())
        t->cut = STREAM_INTERRUPTED;
    else if (limits_expired(t->l, 1))
        t->cut = STREAM_TIMEOUT;
    return t->cut != 0;
}

static size_t on_body(char *data, size_t size, size_t count, void *ctx) {
    transfer *t = ctx;
    size_t len = size * count;
    if (cut_short(t))
        return 0; /* an error, not a pause: a paused libcurl would go on inflating into its own buffer */
    if (t->state == RESPONSE_HEADERS)
        decide(t);
    if (t->state == RESPONSE_REFUSED)
        return keep_error_body(t, data, len);
    if (t->state == RESPONSE_REDIRECT)
        return len; /* a redirect's body is not the stream */
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
        /* A stop ssecat chose: paused, not failed, so -v shows no
         * "Failure writing output". */
        t->stopped_done = 1;
        t->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    return len;
}

/* The refused response as the user needs it: the status line, why it was
 * refused, and the start of the body (an API's error JSON, usually). */
static void report_refused(transfer *t) {
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    buf shown = BUF_INIT, shown_type = BUF_INIT;
    const char *status = t->status_line.len ? terminal_stderr_text(&shown, t->status_line.data, t->status_line.len, 0)
                                            : "no status line";
    if (code == 200)
        log_error("%s: %s with Content-Type '%s', not text/event-stream (--ignore-content-type accepts it)",
                  t->url, status, terminal_stderr_text(&shown_type, t->content_type.data, t->content_type.len, 0));
    else if (code == 204)
        log_error("%s: %s (the server asks clients not to reconnect)", t->url, status);
    else
        log_error("%s: %s", t->url, status);
    const char *body = terminal_stderr_text(&shown, t->error_body.data, t->error_body.len, 1);
    size_t body_len = strlen(body);
    if (body_len > 0) {
        fwrite(body, 1, body_len, stderr);
        if (body[body_len - 1] != '\n')
            fputc('\n', stderr);
        if (t->error_body_cut)
            fprintf(stderr, "[... the rest of the response body is not shown]\n");
    }
    buf_free(&shown);
    buf_free(&shown_type);
}

/* "connect URL: Connection refused", with libcurl's text (which may quote
 * the server, a redirect's URL) made safe for stderr. */
static void describe_failure(transfer *t, CURLcode rc, const char *errbuf, stream_outcome *out) {
    buf shown = BUF_INIT;
    const char *text = errbuf[0] ? terminal_stderr_text(&shown, errbuf, strlen(errbuf), 0) : "";
    http_client_describe_failure(t->curl, rc, t->url, text, t->opened, out->why, sizeof out->why);
    out->failure = http_client_failure_kind(t->curl, rc);
    buf_free(&shown);
}

/* Request headers: the ones EventSource sends, the body's type, and the
 * Last-Event-ID to resume from. NULL-terminated, in `space`. */
static int request_headers(const ssecat_options *o, int with_body, const sse_parser *p, buf *last_id,
                           const char **space) {
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
    if (with_body && o->json_body)
        space[n++] = "Content-Type: application/json";
    if (with_body)
        space[n++] = "Expect:"; /* no 100-continue round trip before the body */
    space[n] = NULL;
    return 0;
}

static int setup(transfer *t, const ssecat_options *o, struct curl_slist **headers, buf *last_id, char *errbuf) {
    const char *defaults[8];
    char err[256];
    int with_body = o->has_body && !t->get_only;
    if (request_headers(o, with_body, t->p, last_id, defaults) < 0) {
        log_error("out of memory");
        return -1;
    }
    /* As curl without --location-trusted: what the user meant for one host
     * is not handed to another a redirect names. */
    http_client_config http = o->http;
    if (t->foreign && !o->location_trusted) {
        http.headers = NULL;
        http.header_count = 0;
        http.bearer = NULL;
        http.userpwd = NULL;
    }
    if (http_client_setup(t->curl, &http, defaults, headers, err, sizeof err) < 0) {
        log_error("%s", err);
        return -1;
    }
    CURLcode rc = curl_easy_setopt(t->curl, CURLOPT_FOLLOWLOCATION, 0L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(t->curl, CURLOPT_URL, t->url);
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
    if (rc == CURLE_OK && with_body) {
        rc = curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, o->body);
    }
    if (rc == CURLE_OK && o->method && !t->get_only)
        rc = curl_easy_setopt(t->curl, CURLOPT_CUSTOMREQUEST, o->method);
    if (rc != CURLE_OK) {
        log_error("%s: %s", t->url, curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* Drive the transfer until it ends, a limit passes or a signal arrives. The
 * wait is capped so a signal that lands on libcurl's resolver thread is
 * still seen promptly. */
static enum stream_end drive(CURLM *multi, transfer *t, CURLcode *result) {
    int running = 1;
    *result = CURLE_OK;
    while (running) {
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (t->cut)
            return t->cut;
        if (mc == CURLM_OK && t->paused)
            return STREAM_ENDED; /* ended by ssecat; stream_run says why */
        if (mc == CURLM_OK && running) {
            if (signals_stop_requested())
                return STREAM_INTERRUPTED;
            if (limits_expired(t->l, 1))
                return STREAM_TIMEOUT;
            mc = curl_multi_poll(multi, NULL, 0, limits_wait_ms(t->l, STREAM_POLL_CAP_MS), NULL);
        }
        if (mc != CURLM_OK) {
            log_error("%s: %s", t->url, curl_multi_strerror(mc));
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

/* Where a redirect points (libcurl resolves a relative Location), into
 * `next`; 0, or -1 when it names no usable URL. */
static int redirect_target(transfer *t, buf *next) {
    char *target = NULL;
    if (curl_easy_getinfo(t->curl, CURLINFO_REDIRECT_URL, &target) != CURLE_OK || !target)
        return -1;
    return buf_append_str(next, target) < 0 || buf_append_char(next, '\0') < 0 ? -1 : 0;
}

/* One request to t->url. A redirect ends it with its target in `next`
 * (and its status in *code) for stream_run to follow. */
static enum stream_end request_once(transfer *t, stream_outcome *out, buf *next, long *code) {
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    buf last_id = BUF_INIT;
    enum stream_end end = STREAM_FAILED;
    CURLcode result = CURLE_OK;
    t->curl = curl_easy_init();
    CURLM *multi = curl_multi_init();
    if (!t->curl || !multi) {
        log_error("libcurl: out of memory");
        goto out;
    }
    if (setup(t, t->o, &headers, &last_id, errbuf) < 0)
        goto out;
    CURLMcode mc = curl_multi_add_handle(multi, t->curl);
    if (mc != CURLM_OK) {
        log_error("%s: %s", t->url, curl_multi_strerror(mc));
        goto out;
    }
    end = drive(multi, t, &result);
    curl_multi_remove_handle(multi, t->curl);
    if (end != STREAM_ENDED)
        goto out;
    if (t->stopped_failed) {
        end = STREAM_FAILED;
    } else if (t->stopped_done) {
        end = STREAM_DONE;
    } else if (t->state == RESPONSE_REDIRECT) {
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, code);
        if (redirect_target(t, next) < 0) {
            report_refused(t);
            end = STREAM_REFUSED;
        }
    } else if (t->state == RESPONSE_REFUSED) {
        report_refused(t);
        end = STREAM_REFUSED;
    } else if (result == CURLE_OK && t->state == RESPONSE_OPEN) {
        end = STREAM_ENDED;
    } else {
        describe_failure(t, result == CURLE_OK ? CURLE_GOT_NOTHING : result, errbuf, out);
        /* The URL given was checked at start: one libcurl cannot use came
         * from a redirect, which is refused, not a network failure. */
        end = result == CURLE_URL_MALFORMAT ? STREAM_REFUSED : STREAM_NETWORK;
        if (end == STREAM_REFUSED)
            log_error("%s", out->why);
    }
out:
    if (multi)
        curl_multi_cleanup(multi);
    if (t->curl)
        curl_easy_cleanup(t->curl);
    t->curl = NULL;
    curl_slist_free_all(headers);
    buf_free(&last_id);
    return end;
}

/* The scheme, host and port of a URL, for telling whether a redirect
 * leaves the host the user named. 0, or -1 when it does not parse. */
static int url_origin(const char *url, buf *origin) {
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        rc = buf_printf(origin, "%s://%s:%s", scheme, host, port);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static int same_origin(const char *a, const char *b) {
    buf oa = BUF_INIT, ob = BUF_INIT;
    int same = url_origin(a, &oa) == 0 && url_origin(b, &ob) == 0 && oa.len == ob.len &&
               strncasecmp(oa.data, ob.data, oa.len) == 0;
    buf_free(&oa);
    buf_free(&ob);
    return same;
}

/* A URL of visible ASCII only: what a redirect must be to be followed, and
 * so what ssecat later prints as the URL it talks to. */
static int url_is_printable(const char *url) {
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f)
            return 0;
    return 1;
}

/* Whether a redirect may be followed, as browsers and curl allow: to http
 * or https only, at most STREAM_MAX_REDIRECTS times. Else reported. */
static int may_follow(const transfer *t, const char *target, int hops) {
    buf shown = BUF_INIT;
    int ok = 0;
    if (hops >= STREAM_MAX_REDIRECTS)
        log_error("%s: more than %d redirects", t->o->url, STREAM_MAX_REDIRECTS);
    else if (strncasecmp(target, "http://", 7) != 0 && strncasecmp(target, "https://", 8) != 0)
        log_error("%s: redirected to '%s', which is not an http or https URL", t->url,
                  terminal_stderr_text(&shown, target, strlen(target), 0));
    else if (!url_is_printable(target))
        log_error("%s: redirected to '%s', which is not a valid URL", t->url,
                  terminal_stderr_text(&shown, target, strlen(target), 0));
    else
        ok = 1;
    buf_free(&shown);
    return ok;
}

enum stream_end stream_run(const ssecat_options *o, sse_parser *p, sink *s, limits *l, stream_outcome *out) {
    buf url = BUF_INIT, next = BUF_INIT;
    transfer t = {.o = o, .url = o->url, .p = p, .s = s, .l = l};
    enum stream_end end;
    out->opened = 0;
    out->failure = HTTP_FAILURE_OTHER;
    out->why[0] = '\0';
    for (int hops = 0;; hops++) {
        long code = 0;
        t.state = RESPONSE_HEADERS;
        t.error_body_cut = t.stopped_done = t.stopped_failed = t.paused = 0;
        t.cut = 0;
        buf_clear(&t.error_body);
        buf_clear(&next);
        end = request_once(&t, out, &next, &code);
        if (end != STREAM_ENDED || next.len == 0)
            break;
        if (!may_follow(&t, next.data, hops)) {
            end = STREAM_REFUSED;
            break;
        }
        /* As browsers do: a 303, or a POST answered 301 or 302, is
         * followed with a GET without body. */
        int is_post = o->method ? strcmp(o->method, "POST") == 0 : o->has_body;
        t.get_only |= code == 303 || ((code == 301 || code == 302) && is_post);
        t.foreign = !same_origin(o->url, next.data);
        buf swap = url;
        url = next;
        next = swap;
        t.url = url.data;
    }
    out->opened = t.opened;
    buf_free(&t.status_line);
    buf_free(&t.content_type);
    buf_free(&t.error_body);
    buf_free(&url);
    buf_free(&next);
    return end;
}
