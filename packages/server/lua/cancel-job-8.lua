-- KEYS: 1 job, 2 due, 3 expiring, 4 tenant changes, 5 unnotified, 6 the tenant's timer,
--       7 the tenant's pending set, 8 the tenant's canceled set
-- ARGV: 1 tenant, 2 now, 3 expire-at ms, 4 ref, 5 id
local s = redis.call('HMGET', KEYS[1], 'tenant', 'state', 'due_at')
if not s[1] or s[1] ~= ARGV[1] then return {'missing'} end
if s[2] == 'pending' and tonumber(s[3]) > tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'state', 'canceled', 'updated_at', ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'version', 1)
  redis.call('ZREM', KEYS[2], ARGV[4])
  redis.call('ZADD', KEYS[4], ARGV[2], ARGV[5])
  redis.call('SREM', KEYS[7], ARGV[5])
  redis.call('SADD', KEYS[8], ARGV[5])
  local job = redis.call('HGETALL', KEYS[1])
  -- The tenant's current seed timer gets no expiry (see set-timer-2.lua).
  if redis.call('GET', KEYS[6]) ~= ARGV[5] then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
  redis.call('ZADD', KEYS[5], ARGV[2], ARGV[4])
  return {'canceled', job}
end
return {'final', redis.call('HGETALL', KEYS[1])}
