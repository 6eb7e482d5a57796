/* What the hub's unit tests share (hub_fixture.c). */
#ifndef SSETOOLS_TEST_HUB_FIXTURE_H
#define SSETOOLS_TEST_HUB_FIXTURE_H

#include <stddef.h>

#include "buf.h"
#include "hub.h"

/* A hub with these limits (and room for 100 channels of each kind). */
int hub_fixture_init(hub *h, size_t history, size_t max_history_bytes, size_t max_pending);
/* Publish one event of this data, numbered by the hub. */
void hub_fixture_publish_text(hub *h, channel *ch, const char *data);
/* Write out everything the subscriber is owed, window by window, appending
 * each event's data and a space to out (a gap notice as GAP(ASKED>FIRST),
 * GAP/NAME(ASKED>FIRST) when it names its channel); returns the windows
 * and raises *largest_window (if not NULL) to the largest. */
size_t hub_fixture_drain(hub *h, subscriber *s, buf *out, size_t *largest_window);

#endif
