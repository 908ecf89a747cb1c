-- Revoke: ends the admission A_AID on every gate (instances read K_REV every tick) and frees its place.
-- Reply: 1 when an admission in force was ended.
local id = redis.call('HGET', K_AID, A_AID)
local r = id and parse(redis.call('HGET', K_TOK, id)) or nil
local active = redis.call('ZSCORE', K_ACT, A_AID) ~= false
if r then
  remove(id, r, 'revoke')
else
  redis.call('ZREM', K_ACT, A_AID)
  redis.call('HDEL', K_AID, A_AID)
  redis.call('ZADD', K_REV, NOW, A_AID)
end
expire(K_REV)
return { active and 1 or 0 }
