/* The time limits ssecat runs under (--idle-timeout, --max-time), kept on
 * the monotonic clock so a changed wall clock cannot end or prolong a run. */
#ifndef SSECAT_LIMITS_H
#define SSECAT_LIMITS_H

#include <stdint.h>

typedef struct limits {
    uint64_t start_ms;
    uint64_t last_activity_ms;
    uint64_t idle_ms; /* 0: none */
    uint64_t max_ms;  /* 0: none */
} limits;

void limits_init(limits *l, uint64_t idle_ms, uint64_t max_ms);
/* Bytes arrived: the idle clock starts again. */
void limits_touch(limits *l);
/* Whether a limit has passed; if so and `report` is set, says which on
 * stderr (unless -s). */
int limits_expired(const limits *l, int report);
/* How long one may wait before a limit could pass, at most `cap` ms. */
int limits_wait_ms(const limits *l, int cap);

#endif
