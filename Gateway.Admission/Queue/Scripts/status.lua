-- ARGV[9] = waiting token. A status call is the user's heartbeat.
local token = ARGV[9]
local dropped, expired = sweep(SWEEP_LIMIT)
local r = parse(redis.call('HGET', K_TOK, token))
if r then
  local deadline = tonumber(redis.call('ZSCORE', K_DL, token))
  if not deadline or deadline <= NOW then
    remove(token, r)
    if r.state == 'a' then expired = expired + 1 else dropped = dropped + 1 end
    r = nil
  elseif r.state == 'w' then
    redis.call('ZADD', K_DL, 'XX', NOW + ABANDON_MS, token)
  end
end
local tokens, promoted, pdropped = promote(PROMOTE_LIMIT)
if not r then return reply('NOT_FOUND', token, nil, tokens, promoted, dropped + pdropped, expired, 0) end
r = parse(redis.call('HGET', K_TOK, token))
return reply('OK', token, r, tokens, promoted, dropped + pdropped, expired, 0)
