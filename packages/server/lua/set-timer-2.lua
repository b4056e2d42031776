-- KEYS: 1 the tenant's timer, 2 expiring; ARGV: 1 job id, 2 job key prefix, 3 retention ms, 4 ref prefix (`<t>|`)
-- Points the tenant's seed timer at job ARGV[1]. The current timer outlives retention (GET /status
-- must never turn into "No timer started"): it has no expiry while it is current, and the timer it
-- replaces gets its expiry back (retention after it became final; at once if that has passed).
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PERSIST', ARGV[2] .. ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[4] .. ARGV[1])
if old and old ~= ARGV[1] then
  local s = redis.call('HMGET', ARGV[2] .. old, 'state', 'updated_at')
  if s[1] and s[1] ~= 'pending' then
    local expireAt = string.format('%.0f', tonumber(s[2]) + tonumber(ARGV[3]))
    redis.call('PEXPIREAT', ARGV[2] .. old, expireAt)
    redis.call('ZADD', KEYS[2], expireAt, ARGV[4] .. old)
  end
end
return 1
