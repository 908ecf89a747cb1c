-- Shared functions of the queue scripts. QueueScripts prepends a header generated from C# (ScriptLayout):
-- the keys K_* (every key of one room shares the {eventId} hash tag, so each script touches one Redis
-- Cluster slot, and every key arrives in KEYS so Garnet's Lua transaction mode can lock it), the common
-- arguments (CAPACITY, REFILL, ABANDON_MS, ...), the script's own arguments (A_*), the constants shared
-- with C# (HIST_BUCKET_MS, ...) and NOW, the store's time in ms (Redis TIME; a test-only variant reads it
-- from an argument). Every loop below is bounded by a count of what it examines.

local function int(x) return string.format('%d', x) end
local unpack = table.unpack or unpack

-- The room clock: store time minus every stretch in which nobody could reach the store (OFF). Waiting
-- and ready deadlines are on this clock, so an outage does not count toward AbandonAfter. Each tick
-- writes SEEN; a script that finds SEEN older than GAP_MS adds the gap to OFF (O(1), however many wait).
local meta0 = redis.call('HMGET', K_META, 'off', 'seen', 'opened', 'pqn', 'tokens', 'ts', 'pqmode')
local OFF = tonumber(meta0[1]) or 0
local SEEN = tonumber(meta0[2])
local OPENED = meta0[3] == '1'
local PQN = tonumber(meta0[4]) or 0
-- The bucket as last written (tokens at ts), kept here so every read of it in one script costs nothing.
local BUCKET_TOKENS, BUCKET_TS = tonumber(meta0[5]), tonumber(meta0[6])
-- The pre-queue's order, fixed by its first joiner: 's' = the random draw (ShuffleAtOpen), 'f' = join order.
local PQ_MODE = meta0[7]
if SEEN and NOW - SEEN > GAP_MS then
  OFF = OFF + (NOW - SEEN)
  redis.call('HSET', K_META, 'off', int(OFF), 'seen', int(NOW))
  SEEN = NOW
end
local ROOM_NOW = NOW - OFF
-- A place's deadline after a heartbeat (a join, a poll, an enter): a quarter past AbandonAfter, so a status poll
-- renews it at most once per quarter (most polls write nothing) and still leaves every place at least AbandonAfter.
local HEARTBEAT_MS = ABANDON_MS + math.floor(ABANDON_MS / 4)

-- A heartbeat of a live place: its deadline becomes HEARTBEAT_MS from now, never shorter than it was (the grace of
-- places made by an opening, a ready reservation's).
local function heartbeat(id, deadline)
  local at = ROOM_NOW + HEARTBEAT_MS
  if deadline and deadline > at then at = deadline end
  redis.call('ZADD', K_DL, 'XX', at, id)
end

-- Operators' live overrides (admin API) and the adaptive rate, shared by every instance through the store.
local CTL = {}
do
  local raw = redis.call('HGETALL', K_CTL)
  for i = 1, #raw, 2 do CTL[raw[i]] = raw[i + 1] end
end
local function ctl_number(name, default)
  local v = tonumber(CTL[name])
  if v == nil then return default end
  return v
end
local STATE = CTL.state or 'open'
local EFF_CAPACITY = ctl_number('capacity', CAPACITY)
local EFF_REFILL = ctl_number('refill', REFILL)
if CTL.adaptive then EFF_REFILL = math.min(EFF_REFILL, tonumber(CTL.adaptive) or EFF_REFILL) end
local EFF_MAX_ACTIVE = ctl_number('max_active', MAX_ACTIVE)
local EFF_OPENS_AT = ctl_number('opens_at', OPENS_AT)
local EFF_PREQUEUE_FROM = ctl_number('prequeue_from', PREQUEUE_FROM)
local EFF_JOINS_CLOSE_AT = ctl_number('joins_close_at', JOINS_CLOSE_AT)
local EFF_SHUFFLE = ctl_number('shuffle', SHUFFLE)

-- The opening: the first script at or after OpensAt reserves the next sequence numbers for the pre-queue
-- (the shuffle hands out pseq+1 .. PQN) and moves the join sequence past them, so every later joiner is behind
-- every pre-queued person, whatever the shuffle's progress; anyone already in line (a room that was open
-- before an opening was scheduled) keeps the numbers below, ahead of both.
-- A room without OpensAt is open; if people are still pre-queued (their schedule was removed before its opening),
-- it opens for them now, so they are placed ahead of later joiners instead of waiting for an opening that never comes.
-- An opened room given a new OpensAt in the future by an operator (the store's override, which every instance
-- reads alike; never one instance's configuration, which may lag the others') is not open until then, and opens
-- again at it, placing that pre-queue behind everyone already in line: once the first opening's shuffle is done,
-- so nobody it has not placed yet loses the place it reserved for them.
local function ensure_open()
  if EFF_OPENS_AT > 0 and NOW < EFF_OPENS_AT then
    if OPENED and CTL.opens_at and redis.call('ZCARD', K_PQ) == 0 then
      redis.call('HDEL', K_META, 'opened')
      OPENED = false
    end
    return
  end
  if OPENED then return end
  if EFF_OPENS_AT <= 0 and redis.call('ZCARD', K_PQ) == 0 then
    OPENED = true
    return
  end
  local base = tonumber(redis.call('HGET', K_META, 'seq')) or 0
  PQN = base + redis.call('ZCARD', K_PQ)
  redis.call('HSET', K_META, 'seq', int(PQN), 'pseq', int(base), 'opened', '1', 'pqn', int(PQN))
  OPENED = true
end
ensure_open()

-- A place is 'state|seq|joined_ms|ready_ms|user|who|client|aid'; state p = pre-queued, w = waiting,
-- r = ready (an admission is reserved for it), a = admitted. joined/ready are store time (what people
-- waited); deadlines live in K_DL (room clock) and K_ACT (store time). No field holds '|' (the gateway validates).
local function parse(raw)
  if not raw then return nil end
  local s, seq, joined, ready, user, who, client, aid = string.match(raw, '^(%a)|(%d+)|(%d+)|(%d+)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not s then return nil end
  return { state = s, seq = tonumber(seq), joined = tonumber(joined), ready = tonumber(ready), user = user, who = who, client = client, aid = aid }
end

local function encode(r)
  return r.state .. '|' .. int(r.seq) .. '|' .. int(r.joined) .. '|' .. int(r.ready) .. '|' .. r.user .. '|' .. r.who .. '|' .. r.client .. '|' .. r.aid
end

-- The ETA's abandonment model needs to know how often waiting users vanish without taking a token.
local function count_vanished()
  redis.call('HINCRBY', K_HIST, 'v' .. int(math.floor(NOW / HIST_BUCKET_MS)), 1)
  redis.call('PEXPIRE', K_HIST, KEY_TTL_MS)
end

local function lowbit(i)
  local b = 1
  while i % (b * 2) == 0 do b = b * 2 end
  return b
end

-- Counts waiting users by join sequence: +1 when they start waiting, -1 when they stop. log2(TREE_SIZE) steps.
local function tree_add(seq, delta)
  if not RANK_BY_TREE or seq > TREE_SIZE then return end
  local i = seq
  while i <= TREE_SIZE do
    redis.call('HINCRBY', K_RANK, i, delta)
    i = i + lowbit(i)
  end
end

-- Waiting users with a sequence number up to seq: the position of the user holding seq.
local function tree_rank(seq)
  local fields = {}
  local i = seq
  while i > 0 do
    fields[#fields + 1] = i
    i = i - lowbit(i)
  end
  local sum = 0
  local values = redis.call('HMGET', K_RANK, unpack(fields))
  for j = 1, #values do sum = sum + (tonumber(values[j]) or 0) end
  return sum
end

-- The position (1 = next) of a waiting place, or nil when it is not waiting. Later joiners also count
-- the pre-queued people the opening's shuffle has not placed yet, who all go ahead of them.
local function position(id)
  local pos
  if RANK_BY_TREE then
    local seq = tonumber(redis.call('ZSCORE', K_Q, id))
    if not seq then return nil end
    if seq <= TREE_SIZE then pos = tree_rank(seq) else pos = redis.call('ZRANK', K_Q, id) + 1 end
    if OPENED and seq > PQN and PQN > 0 then pos = pos + redis.call('ZCARD', K_PQ) end
    return pos
  end
  local rank = redis.call('ZRANK', K_Q, id)
  if not rank then return nil end
  pos = rank + 1
  if OPENED and PQN > 0 then
    local remaining = redis.call('ZCARD', K_PQ)
    if remaining > 0 and tonumber(redis.call('ZSCORE', K_Q, id)) > PQN then pos = pos + remaining end
  end
  return pos
end

-- The bucket, evaluated lazily: whole tokens refill from the last write at the effective rate, capped
-- at the effective capacity. Only a change (a token taken or given back) is written.
-- The admission lifetimes that may still be in force: meta 'lives' holds 'ttl:expiry' pairs, one per AdmissionTtl
-- granted with, each with the last expiry granted under it. A revocation is kept as long as the longest of them, so
-- lowering AdmissionTtl does not forget the revocations of admissions granted before it (their tokens keep the expiry
-- they were signed with). At most LIVES_MAX pairs: beyond that the two shortest merge into the longer lifetime and the
-- later expiry, which can only keep revocations longer.
local LIVES_MAX = 8
local LIVES -- read once per script call

local function lives_read()
  if not LIVES then
    LIVES = {}
    for ttl, until_ms in string.gmatch(redis.call('HGET', K_META, 'lives') or '', '(%d+):(%d+)') do
      if tonumber(until_ms) > NOW then LIVES[#LIVES + 1] = { tonumber(ttl), tonumber(until_ms) } end
    end
  end
  return LIVES
end

-- How long a key must outlive the room's last activity: KEY_TTL_MS; the revocations and the meta hash (which holds
-- 'lives') also until the last admission granted under a longer AdmissionTtl has ended, plus a minute of clock skew.
-- An idle room's keys are not refreshed by its ticks, and KEY_TTL_MS follows the AdmissionTtl configured now.
local function ttl_for(key)
  if key ~= K_REV and key ~= K_META then return KEY_TTL_MS end
  local ttl = KEY_TTL_MS
  for _, l in ipairs(lives_read()) do ttl = math.max(ttl, l[2] - NOW + 60000) end
  return ttl
end

local function lives_note(ttl, until_ms)
  local lives, found = lives_read(), false
  for _, l in ipairs(lives) do
    if l[1] == ttl then
      l[2] = math.max(l[2], until_ms)
      found = true
    end
  end
  if not found then lives[#lives + 1] = { ttl, until_ms } end
  table.sort(lives, function(a, b) return a[1] < b[1] end)
  while #lives > LIVES_MAX do
    lives[2][2] = math.max(lives[1][2], lives[2][2])
    table.remove(lives, 1)
  end
  local parts = {}
  for i, l in ipairs(lives) do parts[i] = int(l[1]) .. ':' .. int(l[2]) end
  redis.call('HSET', K_META, 'lives', table.concat(parts, ','))
  LIVES = lives
  redis.call('PEXPIRE', K_META, ttl_for(K_META))
end

-- How long revocations are kept: AdmissionTtl, or longer while admissions granted with a longer one may be in force.
local function revocations_keep_ms()
  local keep = ADMISSION_TTL_MS
  for _, l in ipairs(lives_read()) do keep = math.max(keep, l[1]) end
  return keep
end

local function bucket()
  local tokens, ts = BUCKET_TOKENS, BUCKET_TS
  if not tokens or not ts then return EFF_CAPACITY end
  if NOW > ts then tokens = tokens + (NOW - ts) * EFF_REFILL / 1000 end
  if tokens > EFF_CAPACITY then tokens = EFF_CAPACITY end
  return tokens
end

local function save_bucket(tokens)
  BUCKET_TOKENS, BUCKET_TS = tokens, NOW
  redis.call('HSET', K_META, 'tokens', string.format('%.6f', tokens), 'ts', int(NOW))
  redis.call('PEXPIRE', K_META, ttl_for(K_META))
end

-- A token handed to someone who never used it goes back to the bucket (never above capacity), so the
-- next person in line gets it instead of waiting for the refill.
local function give_back()
  save_bucket(math.min(EFF_CAPACITY, bucket() + 1))
  -- For the ETA a place whose token comes back is one that left the line without using it: it vanished.
  count_vanished()
end

-- Ends a place and everything that points at it. 'why' is 'leave', 'drop', 'expire' or 'revoke'.
local function remove(id, r, why)
  if r then
    if r.user ~= '' and redis.call('HGET', K_USERS, r.user) == id then redis.call('HDEL', K_USERS, r.user) end
    if r.who ~= '' and redis.call('HGET', K_WHO, r.who) == id then redis.call('HDEL', K_WHO, r.who) end
    if r.client ~= '' and redis.call('HINCRBY', K_PC, r.client, -1) <= 0 then redis.call('HDEL', K_PC, r.client) end
    if r.state == 'w' then
      redis.call('ZREM', K_Q, id)
      tree_add(r.seq, -1)
      count_vanished()
    elseif r.state == 'p' then
      redis.call('ZREM', K_PQ, id)
    elseif r.state == 'r' then
      give_back()
    elseif r.state == 'a' and r.aid ~= '' then
      redis.call('ZREM', K_ACT, r.aid)
      redis.call('HDEL', K_AID, r.aid)
      -- Leaving or revoking ends the admission on every gate too; an expiry needs no record.
      if why ~= 'expire' then
        redis.call('ZADD', K_REV, NOW, r.aid)
        redis.call('PEXPIRE', K_REV, ttl_for(K_REV))
      end
    end
  end
  redis.call('HDEL', K_TOK, id)
  redis.call('HDEL', K_ETA, id)
  redis.call('ZREM', K_DL, id)
end

-- Waiting and ready places whose deadline (room clock) passed, then admissions that ran out (store time).
-- Examines at most 'limit' of each.
local function sweep(limit)
  local dropped, expired = 0, 0
  local due = redis.call('ZRANGEBYSCORE', K_DL, '-inf', ROOM_NOW, 'LIMIT', 0, limit)
  for i = 1, #due do
    remove(due[i], parse(redis.call('HGET', K_TOK, due[i])), 'drop')
    dropped = dropped + 1
  end
  local ended = redis.call('ZRANGEBYSCORE', K_ACT, '-inf', NOW, 'LIMIT', 0, limit)
  for i = 1, #ended do
    local id = redis.call('HGET', K_AID, ended[i])
    if id then remove(id, parse(redis.call('HGET', K_TOK, id)), 'expire') end
    redis.call('ZREM', K_ACT, ended[i])
    redis.call('HDEL', K_AID, ended[i])
    expired = expired + 1
  end
  return dropped, expired
end

-- Admissions in force plus admissions reserved for ready people: what MaxActive caps.
local function active_and_ready()
  return redis.call('ZCARD', K_ACT) + redis.call('ZCARD', K_DL) - redis.call('ZCARD', K_Q)
end

-- MaxActive admissions in force: a ready place cannot enter (only once the cap was lowered after its promotion).
local function at_max_active()
  return EFF_MAX_ACTIVE > 0 and redis.call('ZCARD', K_ACT) >= EFF_MAX_ACTIVE
end

-- The token bucket and the FIFO rule in one step: hand each whole token to the head of the line, in
-- join order, while the room is open, the pre-queue has been placed ahead of later joiners, and MaxActive
-- has room. A head whose deadline passed is dropped, never promoted, so it cannot block the line.
-- Examines at most 'limit' heads. Returns tokens left, promoted, dropped.
local function promote(limit)
  if STATE ~= 'open' or not OPENED then return bucket(), 0, 0 end
  local tokens = bucket()
  local want = math.floor(tokens)
  if EFF_MAX_ACTIVE > 0 then want = math.min(want, EFF_MAX_ACTIVE - active_and_ready()) end
  want = math.min(want, limit)
  if want <= 0 then return tokens, 0, 0 end
  local pq_left = PQN > 0 and redis.call('ZCARD', K_PQ) or 0
  local heads = redis.call('ZRANGE', K_Q, 0, want - 1, 'WITHSCORES')
  local promoted, dropped = 0, 0
  for i = 1, #heads, 2 do
    local id, seq = heads[i], tonumber(heads[i + 1])
    -- Later joiners wait until every pre-queued person has been placed ahead of them.
    if pq_left > 0 and seq > PQN then break end
    local r = parse(redis.call('HGET', K_TOK, id))
    local deadline = tonumber(redis.call('ZSCORE', K_DL, id))
    if not r or not deadline or deadline <= ROOM_NOW then
      remove(id, r, 'drop')
      dropped = dropped + 1
    else
      r.state = 'r'
      r.ready = NOW
      redis.call('HSET', K_TOK, id, encode(r))
      redis.call('ZREM', K_Q, id)
      tree_add(r.seq, -1)
      -- Never shorter than the deadline it had: people placed by the opening keep their grace (tick.lua).
      redis.call('ZADD', K_DL, math.max(ROOM_NOW + ABANDON_MS, deadline), id)
      tokens = tokens - 1
      promoted = promoted + 1
    end
  end
  if promoted > 0 then
    save_bucket(tokens)
    redis.call('HINCRBY', K_META, 'admitted', promoted)
    redis.call('HINCRBY', K_HIST, int(math.floor(NOW / HIST_BUCKET_MS)), promoted)
    redis.call('PEXPIRE', K_HIST, KEY_TTL_MS)
  end
  return tokens, promoted, dropped
end

-- Every key of the room lives as long as the room is in use, and no longer. Scripts that may create a
-- key (join) refresh the keys they write; the tick refreshes all of them while the room is in use.
local function expire(...)
  for _, key in ipairs({ ... }) do redis.call('PEXPIRE', key, ttl_for(key)) end
end

local function expire_all()
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl_for(KEYS[i])) end
end

-- The one reply shape of join and enter (decoded once, in RedisQueueStore, from ScriptLayout.Reply):
-- outcome, state, position (-1 = none), joined_ms, ready_ms, now_ms, id, millitokens, queue_len,
-- promoted, dropped, expired, created, admission_expiry_ms, first_eta (-1 = none), admission id.
local function reply(outcome, id, r, tokens, promoted, dropped, expired, created, admission_expiry, first_eta)
  local pos = -1
  if r and r.state == 'w' then pos = position(id) or -1 end
  return {
    outcome, r and r.state or '', pos, r and r.joined or 0, r and r.ready or 0, NOW, id or '',
    math.floor((tokens or 0) * 1000), redis.call('ZCARD', K_Q) + redis.call('ZCARD', K_PQ),
    promoted or 0, dropped or 0, expired or 0, created or 0, admission_expiry or 0, first_eta or -1, r and r.aid or ''
  }
end
