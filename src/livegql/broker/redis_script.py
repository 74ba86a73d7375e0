"""The Redis broker's wire formats: stream-entry IDs as positions, and the two Lua scripts it runs.

A position is a Stream entry ID `"<ms>-<seq>"`; IDs are compared as `(int, int)` tuples, never as strings
(`"9-0" > "10-0"` as text).
"""

from typing import Any

Key = tuple[int, int]
"""A stream entry ID as numbers, the only form in which IDs are compared."""

Event = tuple[Key, str, Any]
"""One event as delivered to local subscribers: its ID, its position text, its decoded payload."""

ZERO: Key = (0, 0)
"""The ID before every entry: the start of a stream that does not exist yet."""

_ID_PART_MAX = 2**64 - 1  # Redis keeps each half of an entry ID in an unsigned 64-bit integer


def parse_position(text: str) -> Key | None:
    """The ID a client-supplied position names, or None when it is not `<ms>-<seq>` in Redis's range."""
    ms, dash, seq = text.partition("-")
    # isascii() first: str.isdigit() also accepts digits such as "²" that int() rejects.
    if not dash or not (ms.isascii() and ms.isdigit() and seq.isascii() and seq.isdigit()):
        return None
    key = (int(ms), int(seq))
    if key[0] > _ID_PART_MAX or key[1] > _ID_PART_MAX:
        return None
    return key


def parse_id(raw: bytes) -> Key:
    """An entry ID as Redis sends it (trusted: Redis generated it)."""
    ms, _, seq = raw.partition(b"-")
    return int(ms), int(seq)


def format_key(key: Key) -> str:
    return f"{key[0]}-{key[1]}"


PUBLISH_LUA = """
-- KEYS[1]: the topic's stream; KEYS[2] (optional): the idempotency key of this publish.
-- ARGV: [1] payload JSON, [2] pub/sub channel, [3] entries kept, [4] max age in ms, [5] count slack,
-- [6] age slack in ms.
-- XADD and PUBLISH run in one script so that a reader which SUBSCRIBEd before reading the stream sees every
-- entry at least once: in the stream, on the channel, or both (it drops duplicates by ID).
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local a_ms, a_seq = parse(a)
  local b_ms, b_seq = parse(b)
  return a_ms < b_ms or (a_ms == b_ms and a_seq < b_seq)
end
if KEYS[2] then
  -- A retry after an ambiguous failure (the reply was lost, not the command) returns the first ID.
  -- GET then SET is as good as SET NX here: a script runs atomically.
  local known = redis.call('GET', KEYS[2])
  if known then return known end
end
local id = redis.call('XADD', KEYS[1], '*', 'p', ARGV[1])
-- Trim by count and age, letting the excess grow by a slack first so that trimming is amortised (like
-- MAXLEN ~). Done by hand, not with XADD MAXLEN / XTRIM MINID: Redis 7.0 trimming does not advance
-- max-deleted-entry-id, and that ID is how a resuming reader learns its successors are gone. `cut` is the
-- newest entry to drop.
local cut = nil
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[3])
if excess >= tonumber(ARGV[5]) then
  local old = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
  cut = old[#old][1]
end
local horizon = parse(id) - tonumber(ARGV[4])
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]
if parse(first) < horizon - tonumber(ARGV[6]) then
  local expired = redis.call('XREVRANGE', KEYS[1], '(' .. string.format('%d', horizon) .. '-0', '-', 'COUNT', 1)[1]
  if expired and (cut == nil or less(cut, expired[1])) then cut = expired[1] end
end
if cut then
  local cut_ms, cut_seq = parse(cut)
  redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-%d', cut_ms, cut_seq + 1))
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'max-deleted-entry-id' and less(info[i + 1], cut) then
      redis.call('XSETID', KEYS[1], id, 'MAXDELETEDID', cut)
    end
  end
end
if KEYS[2] then
  redis.call('SET', KEYS[2], id, 'PX', ARGV[4])
end
redis.call('PUBLISH', ARGV[2], id .. ' ' .. ARGV[1])
return id
"""

PAGE_LUA = """
-- KEYS[1]: a topic's stream. ARGV[1]: exclusive start ID, ARGV[2]: inclusive end ID, ARGV[3]: page size
-- (0: the stream's state only). Returns {0} when the stream does not exist, else
-- {1, last-generated-id, max-deleted-entry-id, entries}: one atomic snapshot, so "nothing after the start
-- was deleted" holds for exactly the entries returned.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, deleted = '0-0', '0-0'
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1]
  elseif info[i] == 'max-deleted-entry-id' then deleted = info[i + 1] end
end
local entries = {}
if tonumber(ARGV[3]) > 0 then
  -- pcall: an exclusive start at the largest possible ID is an error; that position is then simply ahead.
  entries = redis.pcall('XRANGE', KEYS[1], '(' .. ARGV[1], ARGV[2], 'COUNT', ARGV[3])
  if entries.err then entries = {} end
end
return {1, last, deleted, entries}
"""
