-- Periodic maintenance by every gateway instance: cleanup that does not depend on abandoned clients
-- coming back, admission flow while nobody polls, and the admission history ETAs are computed from.
-- Returns { dropped, expired, promoted, millitokens, queue_len, admitted_total, bucket1, count1, ... }
local dropped, expired = sweep(SWEEP_LIMIT)
local tokens, promoted, pdropped = promote(PROMOTE_LIMIT)
local oldest = math.floor((NOW - HIST_KEEP_MS) / HIST_BUCKET_MS)
local hist = redis.call('HGETALL', K_HIST)
local out = { dropped + pdropped, expired, promoted, math.floor(tokens * 1000), redis.call('ZCARD', K_Q),
  tonumber(redis.call('HGET', K_META, 'admitted')) or 0 }
for i = 1, #hist, 2 do
  if tonumber(hist[i]) < oldest then
    redis.call('HDEL', K_HIST, hist[i])
  else
    out[#out + 1] = tonumber(hist[i])
    out[#out + 1] = tonumber(hist[i + 1])
  end
end
if out[5] > 0 or redis.call('HLEN', K_TOK) > 0 then touch() end
return out
