/* Every event of a cluster, from any node and any source, goes through this
 * script, so one atomic step decides its number, keeps it and sends it. It
 * does nothing per event (Redis runs one script at a time: per-event Lua
 * work was most of a call's cost); a call's events come framed in one
 * argument, the body (cluster_message.h), and are handled as one string:
 * - the numbers: PREFIX:id, raised once per call by the count accepted
 *   (INCRBY); when missing (a new cluster, or a Redis that lost its data)
 *   seeded from Redis' clock in microseconds, as a single ssed seeds its
 *   ids, so numbers keep increasing. The call's events are numbered as a
 *   range, FIRST = the new value - count + 1, in the order of the body;
 * - exactly-once resends: events numbered below the publisher's recorded
 *   next SSE-Sequence are counted as duplicates and skipped (they are the
 *   call's first events: a publisher numbers its events one after another);
 *   only then is the body walked, skipping that many framed events;
 * - history: one XADD per call to the channel's stream, entry LAST-0 (the
 *   number of the call's last event) holding the call's message (field b).
 *   The stream is trimmed by events, not entries (an entry may hold a
 *   thousand): PREFIX:kept counts each channel's events in its stream, and
 *   the oldest entries go while the rest still hold --history events, so a
 *   stream keeps at least --history events and fewer than --history plus
 *   one call's (at most 1,000). Usually one entry goes per call. A node
 *   reading from number W reads the entries from W-0 on (the first may
 *   start before W) and keeps the newest --history events of a tail;
 * - broadcast: one PUBLISH per call, the same message, which the nodes
 *   split. Plain PUBLISH, not SPUBLISH: nodes follow all channels with one
 *   pattern subscription, which sharded pub/sub does not offer.
 * The message is "#FIRST PREV COUNT\n" and the body, PREV the channel's
 * previous number, so a node sees a hole at once (cluster_delivery.c),
 * within a call or between calls.
 * A call marked "follows" is a later part of a batch sent while the part
 * before is still on its way (pipelined on one connection, so Redis runs
 * them in order): it runs only if that part was recorded, else it answers
 * an error and changes nothing, so a part that failed is never overtaken.
 * KEYS: id, last, channels, stream, kept[, publisher]; ARGV: channel, history,
 * pub/sub channel, first sequence, follows (0/1), count, body. Returns
 * {accepted, duplicates}. */
#include "cluster_script.h"

const char cluster_publish_script[] =
    "local id, lasts, chans, stream, kept_key, pubkey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]\n"
    "local name, hist, pub, seq = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])\n"
    "local total, body = tonumber(ARGV[6]), ARGV[7]\n"
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
    "  if dups > 0 then\n"
    "    local at = 1\n"
    "    for i = 1, dups do\n"
    "      local nl = string.find(body, '\\n', at, true)\n"
    "      local len = nl and tonumber(string.sub(body, at, nl - 1))\n"
    "      if not len then return redis.error_reply('ERR malformed body: event ' .. i .. ' has no length') end\n"
    "      at = nl + 1 + len\n"
    "    end\n"
    "    body = string.sub(body, at)\n"
    "  end\n"
    "  if redis.call('EXISTS', id) == 0 then\n"
    "    local t = redis.call('TIME')\n"
    "    redis.call('SET', id, string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2]) - 1))\n"
    "  end\n"
    "  local last = redis.call('INCRBY', id, accepted)\n"
    "  local last_s = string.format('%d', last)\n"
    "  local prev = redis.call('HGET', lasts, name) or '0'\n"
    "  local msg = string.format('#%d %s %d\\n', last - accepted + 1, prev, accepted) .. body\n"
    "  local newest = last_s .. '-0'\n"
    "  redis.call('XADD', stream, newest, 'b', msg)\n"
    /* Entries of the version before (field e) hold one event each. A
     * count that disagrees with the stream (keys edited by hand) stops at
     * the newest entry, which always stays. */
    "  local kept = redis.call('HINCRBY', kept_key, name, accepted)\n"
    "  while kept > hist do\n"
    "    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]\n"
    "    if not oldest or oldest[1] == newest then kept = accepted break end\n"
    "    local n = 1\n"
    "    if oldest[2][1] == 'b' then n = tonumber(string.match(oldest[2][2], '^#%d+ %d+ (%d+)')) or 1 end\n"
    "    if kept - n < hist then break end\n"
    "    redis.call('XDEL', stream, oldest[1])\n"
    "    kept = kept - n\n"
    "  end\n"
    "  redis.call('HSET', kept_key, name, kept)\n"
    "  redis.call('PUBLISH', pub, msg)\n"
    "  redis.call('HSET', lasts, name, last_s)\n"
    "  redis.call('SADD', chans, name)\n"
    "end\n"
    "if pubkey and seq + total > next_seq then\n"
    "  redis.call('SET', pubkey, string.format('%d', seq + total), 'EX', 86400)\n"
    "end\n"
    "return {accepted, dups}\n";
