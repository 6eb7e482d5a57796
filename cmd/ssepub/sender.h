/* Delivering a batch to ssed: one POST per attempt over a kept-alive
 * connection, numbered so a resend after a lost answer publishes nothing
 * twice, retried with backoff on transient failures for --retry-for. */
#ifndef SSEPUB_SENDER_H
#define SSEPUB_SENDER_H

#include <curl/curl.h>
#include <stdint.h>

#include "batch.h"
#include "buf.h"
#include "options.h"

typedef struct sender {
    const ssepub_options *o;
    CURL *curl;
    char session[17]; /* SSE-Publisher: random, per run */
    buf answer;
    uint64_t requests;
    uint64_t delivered;
    uint64_t refused;      /* events the server would not take */
    uint64_t undelivered;  /* events given up on */
    int answered;          /* a request has had an answer: the URL works */
    int fatal;             /* nothing more can be delivered */
    int fatal_status;      /* EXIT_REFUSED or EXIT_UNREACHABLE */
} sender;

int sender_init(sender *s, const ssepub_options *o);
/* Deliver the whole batch (it comes back empty), or give up on what is left
 * and set s->fatal. Refused single events are reported and dropped. */
void sender_send(sender *s, batch *b);
void sender_free(sender *s);

#endif
