-- Periodic maintenance by every gateway instance: cleanup that does not depend on abandoned clients
-- coming back, admission flow while nobody polls, and the admission history ETAs are computed from.
-- Returns { dropped, expired, promoted, millitokens, queue_len, admitted_total, bucket1, count1, ...,
--   { now_ms, kind1, bucket1, value1, ... } }: promotion counts per bucket as before, then one trailing
-- table with the store time and the other per-bucket series: 'v' = waiting users who vanished, 'l' = queue
-- length sampled by the last tick of the bucket. A reader that takes pairs up to the end skips that table.
local dropped, expired = sweep(SWEEP_LIMIT)
local tokens, promoted, pdropped = promote(PROMOTE_LIMIT)
local oldest = math.floor((NOW - HIST_KEEP_MS) / HIST_BUCKET_MS)
local out = { dropped + pdropped, expired, promoted, math.floor(tokens * 1000), redis.call('ZCARD', K_Q),
  tonumber(redis.call('HGET', K_META, 'admitted')) or 0 }
local in_use = out[5] > 0 or redis.call('HLEN', K_TOK) > 0
if in_use then redis.call('HSET', K_HIST, 'l' .. int(math.floor(NOW / HIST_BUCKET_MS)), out[5]) end
local hist = redis.call('HGETALL', K_HIST)
local series = { NOW }
for i = 1, #hist, 2 do
  local kind = string.match(hist[i], '^%a') or ''
  local bucket = tonumber(string.sub(hist[i], #kind + 1))
  if not bucket or bucket < oldest then
    redis.call('HDEL', K_HIST, hist[i])
  elseif kind == '' then
    out[#out + 1] = bucket
    out[#out + 1] = tonumber(hist[i + 1])
  else
    series[#series + 1] = kind
    series[#series + 1] = bucket
    series[#series + 1] = tonumber(hist[i + 1])
  end
end
out[#out + 1] = series
if in_use then touch() end
return out
