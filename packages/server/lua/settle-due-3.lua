-- KEYS: 1 due, 2 expiring, 3 unnotified; ARGV: 1 now, 2 limit, 3 job key prefix, 4 retention ms, 5 key prefix
-- Claim and change in one script: an instance that runs it after another finds nothing left to settle.
-- Each settled job also goes into the unnotified set (scored by now) until its webhooks are enqueued:
-- if this reply is lost, the change is still made, and a later sweep does the rest.
local refs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, ref in ipairs(refs) do
  redis.call('ZREM', KEYS[1], ref)
  local sep = string.find(ref, '|', 1, true)
  local id = string.sub(ref, sep + 1)
  local key = ARGV[3] .. id
  local s = redis.call('HMGET', key, 'state', 'outcome', 'due_at')
  if s[1] == 'pending' then
    redis.call('HSET', key, 'state', s[2], 'updated_at', s[3])
    local status = ARGV[5] .. 't:' .. string.sub(ref, 1, sep - 1) .. ':status:'
    redis.call('SREM', status .. 'pending', id)
    redis.call('SADD', status .. s[2], id)
    redis.call('HINCRBY', key, 'version', 1)
    out[#out + 1] = redis.call('HGETALL', key)
    local expireAt = string.format('%.0f', tonumber(s[3]) + tonumber(ARGV[4]))
    -- The tenant's current seed timer gets no expiry (see set-timer-2.lua); the timer key is built
    -- from the prefix as engines/redis/redis-keys.ts does.
    if redis.call('GET', ARGV[5] .. 't:' .. string.sub(ref, 1, sep - 1) .. ':timer') ~= id then redis.call('PEXPIREAT', key, expireAt) end
    redis.call('ZADD', KEYS[2], expireAt, ref)
    redis.call('ZADD', KEYS[3], ARGV[1], ref)
  end
end
return out
