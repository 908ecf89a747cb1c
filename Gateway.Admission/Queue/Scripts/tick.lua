-- The tick, run by every instance for every room (atomic, so running it everywhere is safe): cleanup
-- that does not depend on abandoned clients coming back, the opening's shuffle, promotion while nobody
-- polls, and the room's state for the ETA, the gauges, the admin API and the gates' revocation lists.
-- Every step examines a bounded number of entries; a room nobody uses is only read, never written.
local in_use = redis.call('HLEN', K_TOK) > 0
local dropped, expired, promoted, pdropped, moved = 0, 0, 0, 0, 0
local tokens = bucket()
local keep_revoked = revocations_keep_ms()
if in_use then
  if not SEEN or NOW - SEEN > GAP_MS / 4 then redis.call('HSET', K_META, 'seen', int(NOW)) end
  dropped, expired = sweep(A_SWEEP_LIMIT)
  -- The shuffle: the pre-queue, ordered by the random scores drawn at join, is placed in bounded steps;
  -- each popped person gets the next sequence number ahead of every later joiner (ensure_open). One command
  -- of each kind per step, not five per person: about a third of the store time (docs/FAIRNESS.md).
  if OPENED and PQN > 0 and A_SHUFFLE_LIMIT > 0 then
    local popped = redis.call('ZPOPMIN', K_PQ, A_SHUFFLE_LIMIT)
    if #popped > 0 then
      local ids = {}
      for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
      local raws = redis.call('HMGET', K_TOK, unpack(ids))
      local seq = tonumber(redis.call('HGET', K_META, 'pseq')) or 0
      -- Pre-queued pages poll again spread over half of AbandonAfter after the opening, or up to a pre-queue
      -- interval (a minute) after it when the opening was moved earlier: their grace covers both.
      local deadline = ROOM_NOW + math.max(2 * ABANDON_MS, PREQUEUE_POLL_MAX_MS + ABANDON_MS)
      local places, line, deadlines = {}, {}, {}
      for i = 1, #ids do
        local r = parse(raws[i])
        if r then
          seq = seq + 1
          r.state = 'w'
          r.seq = seq
          places[#places + 1] = ids[i]
          places[#places + 1] = encode(r)
          line[#line + 1] = seq
          line[#line + 1] = ids[i]
          deadlines[#deadlines + 1] = deadline
          deadlines[#deadlines + 1] = ids[i]
          tree_add(seq, 1)
          moved = moved + 1
        end
      end
      if moved > 0 then
        redis.call('HSET', K_TOK, unpack(places))
        redis.call('ZADD', K_Q, unpack(line))
        redis.call('ZADD', K_DL, unpack(deadlines))
        redis.call('HSET', K_META, 'pseq', int(seq))
      end
    end
  end
  tokens, promoted, pdropped = promote(A_PROMOTE_LIMIT)
  -- Admissions revoked longer ago than any admission lives are of no use to a gate any more.
  local stale = redis.call('ZRANGEBYSCORE', K_REV, '-inf', NOW - keep_revoked, 'LIMIT', 0, A_SWEEP_LIMIT)
  if #stale > 0 then redis.call('ZREM', K_REV, unpack(stale)) end
  local used = redis.call('ZRANGEBYSCORE', K_POW, '-inf', NOW, 'LIMIT', 0, A_SWEEP_LIMIT)
  if #used > 0 then redis.call('ZREM', K_POW, unpack(used)) end
  if NOW - (tonumber(redis.call('HGET', K_META, 'ttl_at')) or 0) > KEY_TTL_MS / 10 then
    expire_all()
    redis.call('HSET', K_META, 'ttl_at', int(NOW))
  end
end
-- Operator state outlives idle periods but not the room: kept while any instance still ticks the room.
if next(CTL) ~= nil and redis.call('PTTL', K_CTL) < CTL_TTL_MS / 2 then redis.call('PEXPIRE', K_CTL, CTL_TTL_MS) end

local head = redis.call('ZRANGE', K_Q, 0, 0)
local oldest = 0
if head[1] then oldest = (parse(redis.call('HGET', K_TOK, head[1])) or { joined = 0 }).joined end
local ctl = redis.call('HGETALL', K_CTL)
local revoked = redis.call('ZRANGEBYSCORE', K_REV, A_REV_SINCE, '+inf', 'WITHSCORES', 'LIMIT', 0, A_REV_LIMIT)

local history = {}
if A_HISTORY == 1 then
  local oldest_bucket = math.floor((NOW - HIST_KEEP_MS) / HIST_BUCKET_MS)
  local waiting = redis.call('ZCARD', K_Q)
  if in_use then
    redis.call('HSET', K_HIST, 'l' .. int(math.floor(NOW / HIST_BUCKET_MS)), waiting)
    redis.call('PEXPIRE', K_HIST, KEY_TTL_MS)
  end
  local hist = redis.call('HGETALL', K_HIST)
  for i = 1, #hist, 2 do
    local kind = string.match(hist[i], '^%a') or ''
    local b = tonumber(string.sub(hist[i], #kind + 1))
    if not b or b < oldest_bucket then
      redis.call('HDEL', K_HIST, hist[i])
    else
      history[#history + 1] = kind == '' and 'p' or kind
      history[#history + 1] = b
      history[#history + 1] = tonumber(hist[i + 1])
    end
  end
end

local m = redis.call('HMGET', K_META, 'entered', 'admitted', 'joins')
return {
  dropped + pdropped, expired, promoted, math.floor(tokens * 1000), redis.call('ZCARD', K_Q), redis.call('ZCARD', K_PQ),
  redis.call('ZCARD', K_DL) - redis.call('ZCARD', K_Q), redis.call('ZCARD', K_ACT), tonumber(m[1]) or 0, tonumber(m[2]) or 0,
  oldest, NOW, OPENED and 1 or 0, STATE, string.format('%.6f', EFF_REFILL), moved, ctl, revoked, history,
  tonumber(m[3]) or 0, (PQ_MODE and redis.call('ZCARD', K_PQ) > 0) and PQ_MODE or '', keep_revoked
}
