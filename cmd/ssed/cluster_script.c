/* Every event of a cluster, from any node and any source, goes through this
 * script, so one atomic step decides its number, keeps it and sends it:
 * - the numbers: PREFIX:id, raised once per call by the count accepted
 *   (INCRBY); when missing (a new cluster, or a Redis that lost its data)
 *   seeded from Redis' clock in microseconds, as a single ssed seeds its
 *   ids, so numbers keep increasing;
 * - exactly-once resends: events numbered below the publisher's recorded
 *   next SSE-Sequence are counted as duplicates and skipped (they are the
 *   call's first events: a publisher numbers its events one after another);
 * - history: XADD to the channel's stream as entry N-0, one entry per
 *   event, then one XTRIM MAXLEN ~ history per call;
 * - broadcast: one PUBLISH per call, a batch message carrying every event
 *   the call accepted (cluster_message.h), which the nodes split. Plain
 *   PUBLISH, not SPUBLISH: nodes follow all channels with one pattern
 *   subscription, which sharded pub/sub does not offer.
 * Each event starts "N PREV ", PREV the channel's previous number, so a
 * node sees a hole at once (cluster_delivery.c), within a batch or between.
 * A call marked "follows" is a later part of a batch sent while the part
 * before is still on its way (pipelined on one connection, so Redis runs
 * them in order): it runs only if that part was recorded, else it answers
 * an error and changes nothing, so a part that failed is never overtaken.
 * KEYS: id, last, channels, stream[, publisher]; ARGV: channel, history,
 * pub/sub channel, first sequence, follows (0/1), then one encoded event
 * per argument. Returns {accepted, duplicates}. */
#include "cluster_script.h"

const char cluster_publish_script[] =
    "local id, lasts, chans, stream, pubkey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]\n"
    "local name, hist, pub, seq = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])\n"
    "local total, first = #ARGV - 5, 6\n"
    "local next_seq, dups = 0, 0\n"
    "if pubkey then\n"
    "  next_seq = tonumber(redis.call('GET', pubkey) or '0')\n"
    "  if ARGV[5] == '1' and next_seq < seq then\n"
    "    return redis.error_reply('ORDER the part before this one was not recorded')\n"
    "  end\n"
    "  if next_seq > seq then dups = math.min(next_seq - seq, total) end\n"
    "end\n"
    "local accepted = total - dups\n"
    "if accepted > 0 then\n"
    "  if redis.call('EXISTS', id) == 0 then\n"
    "    local t = redis.call('TIME')\n"
    "    redis.call('SET', id, string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2]) - 1))\n"
    "  end\n"
    "  local n = redis.call('INCRBY', id, accepted) - accepted\n"
    "  local prev = tonumber(redis.call('HGET', lasts, name) or '0')\n"
    "  local parts = {string.format('*%d\\n', accepted)}\n"
    /* Per event only what must be: Redis spends most of a call here. */
    "  local prevs = string.format('%d', prev)\n"
    "  for i = first + dups, #ARGV do\n"
    "    n = n + 1\n"
    "    local ns = string.format('%d', n)\n"
    "    local msg = ns .. ' ' .. prevs .. ' ' .. ARGV[i]\n"
    "    redis.call('XADD', stream, ns .. '-0', 'e', msg)\n"
    "    parts[#parts + 1] = #msg .. '\\n'\n"
    "    parts[#parts + 1] = msg\n"
    "    prevs = ns\n"
    "  end\n"
    "  prev = n\n"
    "  redis.call('XTRIM', stream, 'MAXLEN', '~', hist)\n"
    "  redis.call('PUBLISH', pub, table.concat(parts))\n"
    "  redis.call('HSET', lasts, name, string.format('%d', prev))\n"
    "  redis.call('SADD', chans, name)\n"
    "end\n"
    "if pubkey and seq + total > next_seq then\n"
    "  redis.call('SET', pubkey, string.format('%d', seq + total), 'EX', 86400)\n"
    "end\n"
    "return {accepted, dups}\n";
