-- ARGV[9] = waiting token. Atomic and idempotent: a ready token becomes admitted exactly once;
-- repeats return the same expiry (so the same signed admission) and cost no capacity.
local token = ARGV[9]
local dropped, expired = sweep(SWEEP_LIMIT)
local tokens, promoted, pdropped = promote(PROMOTE_LIMIT)
dropped = dropped + pdropped
local r = parse(redis.call('HGET', K_TOK, token))
if r then
  local deadline = tonumber(redis.call('ZSCORE', K_DL, token))
  if not deadline or deadline <= NOW then
    remove(token, r)
    if r.state == 'a' then expired = expired + 1 else dropped = dropped + 1 end
    r = nil
  end
end
if not r then return reply('NOT_FOUND', token, nil, tokens, promoted, dropped, expired, 0) end
if r.state == 'a' then return reply('GRANTED', token, r, tokens, promoted, dropped, expired, 0) end
if r.state == 'w' then
  redis.call('ZADD', K_DL, 'XX', NOW + ABANDON_MS, token)
  return reply('NOT_READY', token, r, tokens, promoted, dropped, expired, 0)
end
r.state = 'a'
r.exp = NOW + ADMISSION_TTL_MS
redis.call('HSET', K_TOK, token, encode(r))
redis.call('ZADD', K_DL, r.exp, token)
redis.call('HINCRBY', K_META, 'entered', 1)
touch()
-- The first grant also hands back the ETA promised at join, so the gateway can score it.
local out = reply('GRANTED', token, r, tokens, promoted, dropped, expired, 1)
out[#out + 1] = tonumber(redis.call('HGET', K_ETA, token)) or -1
return out
