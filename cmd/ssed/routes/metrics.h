/* The Prometheus answer of /_ssed/metrics (text exposition format 0.0.4).
 * Same rule as /_ssed/stats: totals to anyone, per-channel series only to
 * those who may publish. */
#ifndef SSED_METRICS_H
#define SSED_METRICS_H

#include "buf.h"
#include "server.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* The most channels --metrics-channels may label. */
/* The label of what the channels beyond --metrics-channels sum to; no
 * channel is named so (their labels start with '/'). */
#define METRICS_OTHER_CHANNELS "_other"

/* Every metric; with per_channel, the busiest --metrics-channels channels
 * by events published, each under its own label, and the rest summed. */
void metrics_render(server *srv, buf *out, int per_channel);

/* Append a label value escaped as the format wants: backslash, double
 * quote and line feed. */
void metrics_append_label_value(buf *out, const char *s, size_t len);

#endif
