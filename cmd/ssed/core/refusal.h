/* The kinds of error reply ssed counts (ssed_refusals_total): the server's
 * statistics (server.h) hold one counter each, and http_reply.h says
 * which kind an error status is. */
#ifndef SSED_REFUSAL_H
#define SSED_REFUSAL_H

/* Why a request got an error reply, for ssed_refusals_total; busy and
 * header timeouts are counted on their own. */
enum refusal {
    REFUSAL_BAD_REQUEST,  /* 400, 411, 413, 414, 415, 431, 501, 505 and other 4xx */
    REFUSAL_FORBIDDEN,    /* 401, 403, 421: no or a wrong token, not a local peer, Host refused */
    REFUSAL_NOT_FOUND,    /* 404 */
    REFUSAL_METHOD,       /* 405 */
    REFUSAL_UNAVAILABLE,  /* 5xx: limits, store or Redis down, out of memory */
    REFUSAL_KINDS
};

#endif
