/* The JSON answer of /_ssed/stats. */
#ifndef SSED_STATS_H
#define SSED_STATS_H

#include "buf.h"
#include "server.h"

/* Totals; with per_channel, each channel's figures too. */
void stats_render(server *srv, buf *out, int per_channel);

#endif
