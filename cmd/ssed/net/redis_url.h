/* --redis URL: where a cluster's Redis is and how to log in to it.
 * redis://[user:pass@]host[:port][/db] (host may be [IPv6]; port 6379 by
 * default) or unix:/path. The password may instead come from the
 * environment (SSED_REDIS_PASSWORD, applied by the caller); it is never
 * part of what redis_url_display gives, so logs never show it. */
#ifndef SSED_REDIS_URL_H
#define SSED_REDIS_URL_H

#include <stddef.h>

typedef struct redis_url {
    char host[256];       /* empty for unix: */
    int port;
    char unix_path[108];  /* set for unix:/path */
    char user[128];       /* empty: none (AUTH with the password alone) */
    char password[256];   /* empty: none */
    int has_password;
    int db;
    char display[300];    /* host:port or unix:/path, for logs */
} redis_url;

/* 0, or -1 with err saying what is wrong (the password is not repeated). */
int redis_url_parse(const char *text, redis_url *out, char *err, size_t errlen);

#endif
