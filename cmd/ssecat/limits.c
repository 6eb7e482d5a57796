#include "limits.h"

#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "log.h"

void limits_init(limits *l, uint64_t idle_ms, uint64_t max_ms) {
    l->start_ms = l->last_activity_ms = clock_now_ms();
    l->idle_ms = idle_ms;
    l->max_ms = max_ms;
}

void limits_touch(limits *l) {
    if (l->idle_ms)
        l->last_activity_ms = clock_now_ms();
}

static void print_duration(char *out, size_t len, uint64_t ms) {
    if (ms % 1000)
        snprintf(out, len, "%llums", (unsigned long long)ms);
    else
        snprintf(out, len, "%llus", (unsigned long long)(ms / 1000));
}

int limits_expired(const limits *l, int report) {
    uint64_t now = clock_now_ms();
    char text[32];
    if (l->max_ms && now - l->start_ms >= l->max_ms) {
        print_duration(text, sizeof text, l->max_ms);
        if (report)
            log_info("time limit of %s reached (--max-time)", text);
        return 1;
    }
    if (l->idle_ms && now - l->last_activity_ms >= l->idle_ms) {
        print_duration(text, sizeof text, l->idle_ms);
        if (report)
            log_info("nothing received for %s (--idle-timeout)", text);
        return 1;
    }
    return 0;
}

int limits_wait_ms(const limits *l, int cap) {
    uint64_t now = clock_now_ms(), wait = (uint64_t)cap;
    if (l->max_ms) {
        uint64_t end = l->start_ms + l->max_ms;
        if (end <= now)
            return 0;
        if (end - now < wait)
            wait = end - now;
    }
    if (l->idle_ms) {
        uint64_t end = l->last_activity_ms + l->idle_ms;
        if (end <= now)
            return 0;
        if (end - now < wait)
            wait = end - now;
    }
    return (int)wait;
}
