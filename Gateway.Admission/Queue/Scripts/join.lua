-- Join: one place per caller. A caller (A_WHO: the gateway's identity cookie, or a verified user id)
-- that has a place gets it back; an unverified user id that already holds a place is refused
-- (ALREADY_QUEUED, no token); otherwise the caller's client (A_CLIENT) must be within its join rate and
-- live-place cap, the room must accept joins, the line must have room; then a new place is appended with
-- a store-side sequence number (or pre-queued with the random score A_PQ_SCORE before the opening).
local who, user, client = A_WHO, A_USER, A_CLIENT

local id = redis.call('HGET', K_WHO, who)
local r = id and parse(redis.call('HGET', K_TOK, id)) or nil
if id and not r then
  redis.call('HDEL', K_WHO, who)
  id = nil
end
-- A verified user without a place of their own, from a browser that already holds one (it joined before signing
-- in): the same person, so that place becomes the user's, from any device, instead of a second one.
if not id and A_ALSO ~= '' then
  local also = redis.call('HGET', K_WHO, A_ALSO)
  local held = also and parse(redis.call('HGET', K_TOK, also)) or nil
  if held and held.who == A_ALSO then
    id, r = also, held
    r.who = who
    redis.call('HSET', K_TOK, id, encode(r))
    -- The browser's own entry stays: a join from it without the user_token still finds the place. When the place
    -- ends, that entry is left pointing at nothing, and removed at that browser's next join (or with the room's keys).
    redis.call('HSET', K_WHO, who, id)
  end
end
if r then
  if r.state == 'w' or r.state == 'r' then
    local deadline = tonumber(redis.call('ZSCORE', K_DL, id))
    if not deadline or deadline <= ROOM_NOW then
      remove(id, r, 'drop')
      id, r = nil, nil
    elseif r.state == 'w' then
      heartbeat(id, deadline)
    end
  end
end
if r then
  local tokens = bucket()
  return reply('OK', id, r, tokens, 0, 0, 0, 0, tonumber(redis.call('ZSCORE', K_ACT, r.aid)) or 0)
end

-- From here on the caller has no place: everything that could refuse a new one. A proof-of-work solution opens one
-- new place, once: a replayed challenge is refused first. (A caller who has a place got it back above without spending
-- the solution: a retry after a 503, or a repeat with the same Idempotency-Key, finds the place its first try made.)
if A_POW_ID ~= '' then
  if redis.call('ZADD', K_POW, 'NX', A_POW_EXP, A_POW_ID) == 0 then return reply('POW_REPLAYED') end
  expire(K_POW)
end
if user ~= '' then
  local other = redis.call('HGET', K_USERS, user)
  if other and redis.call('HEXISTS', K_TOK, other) == 1 then return reply('ALREADY_QUEUED') end
end
if STATE == 'closed' or (EFF_JOINS_CLOSE_AT > 0 and NOW >= EFF_JOINS_CLOSE_AT) then return reply('CLOSED') end
local prequeue = false
if not OPENED then
  if EFF_PREQUEUE_FROM > 0 and NOW >= EFF_PREQUEUE_FROM then prequeue = true else return reply('NOT_OPEN') end
end
if A_JOINS_PER_MIN > 0 then
  -- A fixed one-minute window per client address, shared by every instance; the previous minute's
  -- counts are unlinked (freed in the background) when the minute turns.
  local minute = math.floor(NOW / 60000)
  if tonumber(redis.call('HGET', K_META, 'jlm')) ~= minute then
    redis.call('UNLINK', K_JL)
    redis.call('HSET', K_META, 'jlm', int(minute))
  end
  if redis.call('HINCRBY', K_JL, client, 1) > A_JOINS_PER_MIN then return reply('RATE_LIMITED') end
  redis.call('PEXPIRE', K_JL, 120000)
end
if A_MAX_PLACES > 0 and (tonumber(redis.call('HGET', K_PC, client)) or 0) >= A_MAX_PLACES then return reply('TOO_MANY_PLACES') end
if redis.call('ZCARD', K_Q) + redis.call('ZCARD', K_PQ) >= A_MAX_LEN then return reply('FULL') end

id = A_ID
r = { state = 'w', seq = 0, joined = NOW, ready = 0, user = user, who = who, client = client, aid = '' }
if prequeue then
  r.state = 'p'
  -- With the shuffle, the random score drawn by the gateway is the order; without it, join order. The first joiner
  -- fixes which for the whole pre-queue, so a ShuffleAtOpen changed half-way cannot mix the two in one line.
  if not PQ_MODE or redis.call('ZCARD', K_PQ) == 0 then
    PQ_MODE = EFF_SHUFFLE == 1 and 's' or 'f'
    redis.call('HSET', K_META, 'pqmode', PQ_MODE)
  end
  local score = A_PQ_SCORE
  if PQ_MODE ~= 's' then score = redis.call('HINCRBY', K_META, 'pqseq', 1) end
  redis.call('ZADD', K_PQ, score, id)
else
  r.seq = redis.call('HINCRBY', K_META, 'seq', 1)
  redis.call('ZADD', K_Q, r.seq, id)
  tree_add(r.seq, 1)
  redis.call('ZADD', K_DL, ROOM_NOW + HEARTBEAT_MS, id)
end
redis.call('HSET', K_TOK, id, encode(r))
redis.call('HSET', K_WHO, who, id)
if user ~= '' then redis.call('HSET', K_USERS, user, id) end
redis.call('HINCRBY', K_PC, client, 1)
-- Every new place, across instances: the rate the proof of work's automatic difficulty follows.
redis.call('HINCRBY', K_META, 'joins', 1)

local tokens, promoted, dropped = promote(A_PROMOTE_LIMIT)
expire(K_Q, K_TOK, K_DL, K_WHO, K_USERS, K_PC, K_META, K_PQ, K_RANK, K_HIST)
r = parse(redis.call('HGET', K_TOK, id))
return reply('OK', id, r, tokens, promoted, dropped, 0, 1)
