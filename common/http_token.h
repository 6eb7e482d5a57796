/* RFC 9110 token characters (tchar): what a method or a header name is
 * made of. One table, looked up per byte, as picohttpparser does. */
#ifndef SSETOOLS_HTTP_TOKEN_H
#define SSETOOLS_HTTP_TOKEN_H

extern const unsigned char http_token_chars[256];

static inline int http_is_tchar(unsigned char c) { return http_token_chars[c]; }

#endif
