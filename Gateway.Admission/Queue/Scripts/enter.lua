-- Enter: a ready place becomes admitted exactly once, under the admission id A_AID the gateway derives
-- from the place (so a backend that sees the admission never learns the waiting token). Repeats return
-- the stored expiry, hence the same signed admission, at no capacity. A waiting place is NOT_READY.
local id = A_ID
local r = parse(redis.call('HGET', K_TOK, id))
local deadline
if r and (r.state == 'w' or r.state == 'r') then
  deadline = tonumber(redis.call('ZSCORE', K_DL, id))
  if not deadline or deadline <= ROOM_NOW then
    remove(id, r, 'drop')
    r = nil
  end
end
if not r then return reply('NOT_FOUND', id, r) end
if r.state == 'p' then return reply(STATE == 'closed' and 'CLOSED' or 'NOT_READY', id, r) end
if r.state == 'a' then
  local expiry = tonumber(redis.call('ZSCORE', K_ACT, r.aid))
  if not expiry then return reply('NOT_FOUND', id, nil) end
  return reply('GRANTED', id, r, bucket(), 0, 0, 0, 0, expiry)
end
if r.state == 'w' then
  heartbeat(id, deadline)
  return reply(STATE == 'closed' and 'CLOSED' or 'NOT_READY', id, r, bucket())
end
-- Before the opening (an opened room given a later OpensAt): admissions start at it.
if not OPENED then
  heartbeat(id, deadline)
  return reply(STATE == 'closed' and 'CLOSED' or 'NOT_READY', id, r, bucket())
end
-- Paused or closed by an operator: nobody is admitted; a ready place keeps its reservation (status renews it).
if STATE ~= 'open' then return reply(STATE == 'paused' and 'PAUSED' or 'CLOSED', id, r, bucket()) end
-- MaxActive counts admissions in force: promotion keeps active + ready within it, but an operator may lower it
-- after people were promoted. Their reservations are kept (status renews them) and granted as admissions end.
if at_max_active() then
  heartbeat(id, deadline)
  return reply('MAX_ACTIVE', id, r, bucket())
end
r.state = 'a'
r.aid = A_AID
local expiry = NOW + ADMISSION_TTL_MS
redis.call('HSET', K_TOK, id, encode(r))
redis.call('ZREM', K_DL, id)
redis.call('ZADD', K_ACT, expiry, r.aid)
redis.call('HSET', K_AID, r.aid, id)
redis.call('HINCRBY', K_META, 'entered', 1)
lives_note(ADMISSION_TTL_MS, expiry)
expire(K_ACT, K_AID)
-- The first grant also hands back the ETA promised at join, so the gateway can score it.
return reply('GRANTED', id, r, bucket(), 0, 0, 0, 1, expiry, tonumber(redis.call('HGET', K_ETA, id)) or -1)
