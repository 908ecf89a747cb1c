-- ARGV[9] = candidate token, ARGV[10] = user id or '', ARGV[11] = idempotency key or '', ARGV[12] = max queue length
local candidate, user, idem, max_len = ARGV[9], ARGV[10], ARGV[11], tonumber(ARGV[12])
local dropped, expired = sweep(SWEEP_LIMIT)

-- One person, one place: a known idempotency key or user id returns the existing place.
local token = nil
if idem ~= '' then token = redis.call('HGET', K_IDEM, idem) or nil end
if not token and user ~= '' then token = redis.call('HGET', K_USERS, user) or nil end
local r = token and parse(redis.call('HGET', K_TOK, token)) or nil
if token and not r then token = nil end

local created = 0
if not token then
  if redis.call('ZCARD', K_Q) >= max_len then
    local tokens = tonumber(redis.call('HGET', K_META, 'tokens')) or CAPACITY
    return reply('FULL', nil, nil, tokens, 0, dropped, expired, 0)
  end
  token = candidate
  r = { state = 'w', seq = redis.call('HINCRBY', K_META, 'seq', 1), joined = NOW, ready = 0, exp = 0, user = user, idem = idem }
  redis.call('ZADD', K_Q, r.seq, token)
  tree_add(r.seq, 1)
  redis.call('HSET', K_TOK, token, encode(r))
  redis.call('ZADD', K_DL, NOW + ABANDON_MS, token)
  if user ~= '' then redis.call('HSET', K_USERS, user, token) end
  if idem ~= '' then redis.call('HSET', K_IDEM, idem, token) end
  created = 1
elseif r.state == 'w' then
  redis.call('ZADD', K_DL, 'XX', NOW + ABANDON_MS, token)
end

local tokens, promoted, pdropped = promote(PROMOTE_LIMIT)
touch()
r = parse(redis.call('HGET', K_TOK, token))
return reply('OK', token, r, tokens, promoted, dropped + pdropped, expired, created)
