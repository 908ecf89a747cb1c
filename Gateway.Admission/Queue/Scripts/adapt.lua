-- Adaptive admission: the backends set the pace. Every instance sends its verdict on the room's backends
-- (A_REPORT: 'pause' while a circuit breaker of the room's clusters is open, 'decrease' with A_FACTOR, the
-- share of the attempts the backends took, when its last window showed overload, 'increase' when it did not,
-- 'hold' when it cannot tell) and this step decides for all of them, atomically, like TCP's congestion control:
-- - Start: the rate starts at A_FLOOR and doubles per period while the backends cope (slow start) up to a
--   threshold (at first the configured or overridden rate).
-- - Decrease: what the backends took (A_FACTOR of the rate that caused the overload, or of what the room really
--   promoted when it used well under its rate) is the capacity estimate (cap); the rate goes A_MARGIN below it,
--   and the threshold with it.
-- - Increase: A_STEP per period, twice the last with each increase in a row (up to 2^ADAPT_MAX_DOUBLINGS steps),
--   but never past the capacity estimate in one go: the rate stops at cap, then probes past it from one step
--   again. So a probe over a steady capacity costs one step of overload, and capacity that came back is found in
--   a few periods.
-- At most one decrease per two A_PERIOD_MS (overload reported meanwhile mostly comes from people admitted
-- before the decrease: the backend calls lag the admissions) and one increase per period, no increase within
-- two periods of any instance's overload report, never below A_FLOOR nor above the configured (or overridden)
-- rate. A pause sets the rate to 0
-- until no instance has asked for one for a whole period; admission then slow-starts again from A_FLOOR, up to
-- A_MARGIN times the rate the pause interrupted. The result goes to the control hash's 'adaptive' field, which
-- common.lua applies as min(refill, adaptive) in every script.
-- K_ADP keeps the controller's state: rate, threshold (ssthresh), capacity estimate (cap), increases in a row
-- (run); when it last decreased, increased, heard of overload and was asked to pause; the promotions counter at
-- the start of the measuring period (t0, n0) and the promotion rate of the last full period (used). A_ENABLED 0
-- (adaptation switched off) clears both.
-- Reply: action ('none', 'pause', 'resume', 'decrease', 'increase', 'off'), rate ('-1' = none), the
-- promotion rate used for the decision ('-1' = not measured yet), now_ms.
local ceiling = ctl_number('refill', REFILL)
if A_ENABLED == 0 then
  local cleared = 'none'
  if CTL.adaptive ~= nil then
    redis.call('HDEL', K_CTL, 'adaptive')
    cleared = 'off'
  end
  redis.call('DEL', K_ADP)
  return { cleared, '-1', '-1', NOW }
end

local s = {}
do
  local raw = redis.call('HGETALL', K_ADP)
  for i = 1, #raw, 2 do s[raw[i]] = tonumber(raw[i + 1]) end
end
-- The state outlives an operator clearing the control hash; without either, adaptation slow-starts from the floor.
local rate = s.rate or tonumber(CTL.adaptive) or math.min(A_FLOOR, ceiling)
if rate > ceiling then rate = ceiling end
-- Never below the floor outside a pause: an operator's lower rate, since removed, may have pulled it there, and an
-- idle room (which never earns an increase) would stay there.
if rate > 0 and rate < math.min(A_FLOOR, ceiling) then rate = math.min(A_FLOOR, ceiling) end
local ssthresh = s.ssthresh or ceiling
local dec_at, inc_at, bad_at, pause_at = s.dec_at or 0, s.inc_at or 0, s.bad_at or 0, s.pause_at or 0
local run, cap = s.run or 0, s.cap

-- What the room really promoted over the last full period. A rate far above what the line uses is not the
-- room's pace: a decrease starts from what was used, and an increase needs the rate to be used.
local promoted = tonumber(redis.call('HGET', K_META, 'admitted')) or 0
local t0, n0, used = s.t0, s.n0, s.used
if not t0 or promoted < n0 then
  t0, n0 = NOW, promoted
elseif NOW - t0 >= A_PERIOD_MS then
  used = (promoted - n0) * 1000 / (NOW - t0)
  t0, n0 = NOW, promoted
end
-- Before the first full period, a second or more of it is better than nothing.
local measured = used
if not measured and NOW - t0 >= 1000 then measured = (promoted - n0) * 1000 / (NOW - t0) end

local action = 'none'
if A_REPORT == 'pause' then
  pause_at = NOW
  if rate > 0 then
    -- The rate the pause interrupted may be what overloaded the backend: grow back to one decrease below it.
    ssthresh = math.max(A_FLOOR, rate * A_MARGIN)
    rate, action, run = 0, 'pause', 0
  end
elseif rate <= 0 then
  if A_REPORT ~= 'decrease' and NOW - pause_at >= A_PERIOD_MS then
    rate, action, run = math.min(A_FLOOR, ceiling), 'resume', 0
    inc_at = NOW
  end
elseif A_REPORT == 'decrease' then
  bad_at = NOW
  if NOW - dec_at >= A_PERIOD_MS * 2 then
    -- Counts as the period's decrease even at the floor, where it changes nothing.
    dec_at = NOW
    -- The overload came from the rate, unless the room used well under it (a room allowed 250/s but promoting
    -- 75/s is corrected from 75/s). The last period's promotions lag a change, so they are not used otherwise.
    local base = rate
    if measured and measured * 100 < rate * ADAPT_FULL_USE_PERCENT then base = measured end
    cap = math.max(A_FLOOR, base * A_FACTOR)
    local lowered = math.min(ceiling, math.max(A_FLOOR, cap * A_MARGIN))
    if lowered < rate then rate, action = lowered, 'decrease' end
    ssthresh, run = rate, 0
  end
elseif A_REPORT == 'increase' then
  -- Never while any instance has seen overload lately: one instance's healthy view does not outvote another's
  -- overloaded one. An overloaded instance reports at least every period and a half (after a decrease).
  if rate < ceiling and NOW - inc_at >= A_PERIOD_MS and NOW - bad_at >= A_PERIOD_MS * 2
      and (not measured or measured * 100 >= rate * ADAPT_FULL_USE_PERCENT) then
    local grown
    if rate < ssthresh then
      grown = math.max(rate + A_STEP, math.min(ssthresh, rate * 2))
    else
      grown = rate + A_STEP * 2 ^ math.min(run, ADAPT_MAX_DOUBLINGS)
      run = run + 1
      -- Up to the capacity estimate, not past it in one go: the probe beyond starts from one step again.
      if cap and rate < cap and grown > cap then grown, run = cap, 0 end
    end
    rate, action = math.min(ceiling, grown), 'increase'
    inc_at = NOW
  end
end

local value = string.format('%.6f', rate)
redis.call('HSET', K_ADP, 'rate', value, 'ssthresh', string.format('%.6f', ssthresh), 'dec_at', int(dec_at), 'inc_at', int(inc_at),
  'bad_at', int(bad_at), 'pause_at', int(pause_at), 't0', int(t0), 'n0', int(n0), 'run', run)
if cap then redis.call('HSET', K_ADP, 'cap', string.format('%.6f', cap)) end
if used then redis.call('HSET', K_ADP, 'used', string.format('%.6f', used)) end
redis.call('PEXPIRE', K_ADP, KEY_TTL_MS)
if CTL.adaptive ~= value then
  redis.call('HSET', K_CTL, 'adaptive', value)
  redis.call('PEXPIRE', K_CTL, CTL_TTL_MS)
end
return { action, value, measured and string.format('%.6f', measured) or '-1', NOW }
