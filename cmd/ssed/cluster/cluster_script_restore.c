/* The scripts that carry a cluster over a Redis that lost its data
 * (FLUSHALL, a restart with nothing saved; man/ssed.1, CLUSTER).
 *
 * The epoch: PREFIX:epoch holds a random value, set by the first node
 * that finds it missing. A node remembers the epoch it joined; a Redis
 * that lost its data has none, or a newer one, so a node that finds
 * another value knows the loss for what it is, not a hole in the channel.
 * A Redis that came back from an older snapshot still has the epoch, but
 * its counter (PREFIX:id) is behind a number the asking node delivered:
 * that is a loss too, and the script sets a new epoch so every node
 * knows it. KEYS: epoch, id; ARGV: a fresh random value (fresh at every
 * call: a node that set the epoch before must not find its own value
 * again), the highest number the node delivered. Returns the epoch in
 * force.
 *
 * The write-back: a node hands back, per channel, the events it still
 * holds, each as a one-event message "#N PREV 1\n" and its framed
 * encoding (cluster_message.h), oldest first. The script merges them into
 * the stream: an event that an entry already holds (written since the
 * loss, or by another node's write-back) is skipped, the rest go in
 * number order among the entries there, so two nodes writing back at once
 * neither duplicate nor interleave (Redis runs one script at a time). The
 * channel's last number and the cluster's counter are raised to the
 * newest entry, so numbers keep increasing, and the channel's event count
 * (PREFIX:kept) is the stream's. KEYS: id, last, channels, stream, kept;
 * ARGV: channel, then N, message, N, message... Returns how many events
 * it wrote. */
#include "cluster_script.h"

const char cluster_epoch_script[] =
    "local e = redis.call('GET', KEYS[1])\n"
    "local id = tonumber(redis.call('GET', KEYS[2]) or '0') or 0\n"
    "if not e or id < tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[1]) e = ARGV[1] end\n"
    "return e\n";

const char cluster_restore_script[] =
    "local id, lasts, chans, stream, kept_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]\n"
    "local name = ARGV[1]\n"
    "local have = redis.call('XRANGE', stream, '-', '+')\n"
    "local function span(e)\n"
    "  local last = tonumber(string.match(e[1], '^(%d+)')) or 0\n"
    "  local count = 1\n"
    "  if e[2][1] == 'b' then count = tonumber(string.match(e[2][2], '^#%d+ %d+ (%d+)')) or 1 end\n"
    "  return last - count + 1, last, count\n"
    "end\n"
    "local out, added, total, i, j = {}, 0, 0, 1, 2\n"
    "while j < #ARGV do\n"
    "  local n = tonumber(ARGV[j])\n"
    "  while have[i] do\n"
    "    local first, last, count = span(have[i])\n"
    "    if last >= n then break end\n"
    "    out[#out + 1] = have[i]\n"
    "    total, i = total + count, i + 1\n"
    "  end\n"
    "  local covered = false\n"
    "  if have[i] then covered = span(have[i]) <= n end\n"
    "  if n and not covered and (#out == 0 or select(2, span(out[#out])) < n) then\n"
    "    out[#out + 1] = {string.format('%d-0', n), {'b', ARGV[j + 1]}}\n"
    "    added, total = added + 1, total + 1\n"
    "  end\n"
    "  j = j + 2\n"
    "end\n"
    "if added == 0 then return 0 end\n"
    "while have[i] do\n"
    "  local first, last, count = span(have[i])\n"
    "  out[#out + 1] = have[i]\n"
    "  total, i = total + count, i + 1\n"
    "end\n"
    "redis.call('DEL', stream)\n"
    "for _, e in ipairs(out) do redis.call('XADD', stream, e[1], unpack(e[2])) end\n"
    "local top = select(2, span(out[#out]))\n"
    "redis.call('HSET', kept_key, name, total)\n"
    "redis.call('SADD', chans, name)\n"
    "if top > tonumber(redis.call('HGET', lasts, name) or '0') then\n"
    "  redis.call('HSET', lasts, name, string.format('%d', top))\n"
    "end\n"
    "if top > tonumber(redis.call('GET', id) or '0') then redis.call('SET', id, string.format('%d', top)) end\n"
    "return added\n";
