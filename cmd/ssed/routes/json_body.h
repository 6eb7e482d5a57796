/* A POST with Content-Type: application/json carries one JSON document:
 * anything else is refused rather than published as an event. */
#ifndef SSED_JSON_BODY_H
#define SSED_JSON_BODY_H

#include <stddef.h>

/* 0 if body is one JSON text (RFC 8259: any value, valid UTF-8, no
 * duplicate keys in an object); else -1 and why names the problem and
 * where, or JSON_BODY_NO_MEMORY when memory ran out while checking (the
 * body may be fine: refuse it for now, 503). */
#define JSON_BODY_NO_MEMORY (-2)
int json_body_check(const char *body, size_t len, char *why, size_t why_size);

#endif
