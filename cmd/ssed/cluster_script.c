/* Every event of a cluster, from any node and any source, goes through this
 * script, so one atomic step decides its number, keeps it and sends it:
 * - the number: PREFIX:id, incremented; when missing (a new cluster, or a
 *   Redis that lost its data) seeded from Redis' clock in microseconds, as
 *   a single ssed seeds its ids, so numbers keep increasing;
 * - exactly-once resends: events numbered below the publisher's recorded
 *   next SSE-Sequence are counted as duplicates and skipped;
 * - history: XADD to the channel's stream as entry N-0, MAXLEN ~ history;
 * - broadcast: PUBLISH to every node. Plain PUBLISH, not SPUBLISH: nodes
 *   follow all channels with one pattern subscription, which sharded
 *   pub/sub does not offer.
 * Each message starts "N PREV ", PREV the channel's previous number, so a
 * node sees a hole at once (cluster_delivery.c).
 * KEYS: id, last, channels, stream[, publisher]; ARGV: channel, history,
 * pub/sub channel, first sequence, then one encoded event per argument.
 * Returns {accepted, duplicates}. */
#include "cluster_script.h"

const char cluster_publish_script[] =
    "local id, lasts, chans, stream, pubkey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]\n"
    "local name, hist, pub, seq = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])\n"
    "local next_seq = 0\n"
    "if pubkey then next_seq = tonumber(redis.call('GET', pubkey) or '0') end\n"
    "if redis.call('EXISTS', id) == 0 then\n"
    "  local t = redis.call('TIME')\n"
    "  redis.call('SET', id, string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2]) - 1))\n"
    "end\n"
    "local prev = tonumber(redis.call('HGET', lasts, name) or '0')\n"
    "local accepted, dups = 0, 0\n"
    "for i = 5, #ARGV do\n"
    "  if pubkey and seq < next_seq then\n"
    "    dups = dups + 1\n"
    "  else\n"
    "    local n = redis.call('INCR', id)\n"
    "    local msg = string.format('%d %d ', n, prev) .. ARGV[i]\n"
    "    redis.call('XADD', stream, 'MAXLEN', '~', hist, string.format('%d-0', n), 'e', msg)\n"
    "    redis.call('PUBLISH', pub, msg)\n"
    "    prev = n\n"
    "    accepted = accepted + 1\n"
    "  end\n"
    "  seq = seq + 1\n"
    "end\n"
    "if accepted > 0 then\n"
    "  redis.call('HSET', lasts, name, string.format('%d', prev))\n"
    "  redis.call('SADD', chans, name)\n"
    "end\n"
    "if pubkey and seq > next_seq then redis.call('SET', pubkey, string.format('%d', seq), 'EX', 86400) end\n"
    "return {accepted, dups}\n";
