-- ARGV[9] = waiting token. Idempotent: leaving twice, or after being dropped, is not an error.
local token = ARGV[9]
local r = parse(redis.call('HGET', K_TOK, token))
if r then remove(token, r) end
return { r and 1 or 0, r and r.state or '' }
