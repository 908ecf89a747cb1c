-- Leave: ends the place, whatever its state, idempotently. A ready place gives its token back; an
-- admitted one ends its admission (frees its MaxActive slot and is revoked on every gate).
-- Reply: 1 when the place existed, its state, and the admission id it held ('' = none).
local r = parse(redis.call('HGET', K_TOK, A_ID))
if r then remove(A_ID, r, 'leave') end
return { r and 1 or 0, r and r.state or '', r and r.state == 'a' and r.aid or '' }
