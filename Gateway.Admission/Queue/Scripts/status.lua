-- Status for a batch of places (the polls that reached one gateway instance while its previous batch
-- was in flight): each is the place's heartbeat and its position, nothing else. Promotion and cleanup
-- happen in the ticks, so a poll reads the place, its position and its deadline and writes the deadline
-- at most once per quarter of AbandonAfter (HEARTBEAT_MS), so every poll, written or not, leaves the place at
-- least AbandonAfter. A place past its deadline is ended here, never revived.
-- Reply: now_ms, the bucket's millitokens, then per place: state ('' = not found), position (-1 = none), joined_ms, ready_ms.
local out = { NOW, math.floor(bucket() * 1000) }
local renew_below = ROOM_NOW + ABANDON_MS
for i = A_IDS, #ARGV do
  local id = ARGV[i]
  local r = parse(redis.call('HGET', K_TOK, id))
  local pos = -1
  if r and (r.state == 'w' or r.state == 'r') then
    local deadline = tonumber(redis.call('ZSCORE', K_DL, id))
    if not deadline or deadline <= ROOM_NOW then
      remove(id, r, 'drop')
      r = nil
    elseif r.state == 'w' then
      if deadline < renew_below then heartbeat(id, deadline) end
      pos = position(id) or -1
    elseif deadline < renew_below and (STATE ~= 'open' or not OPENED or at_max_active()) then
      -- A ready place cannot enter while the room is paused or closed, before a (new) opening, or while MaxActive
      -- admissions are in force (the cap lowered after it was made ready): polling holds the reservation.
      heartbeat(id, deadline)
    end
  end
  out[#out + 1] = r and r.state or ''
  out[#out + 1] = pos
  out[#out + 1] = r and r.joined or 0
  out[#out + 1] = r and r.ready or 0
end
return out
