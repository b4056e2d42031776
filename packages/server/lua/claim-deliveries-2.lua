-- KEYS: 1 due, 2 claim record; ARGV: 1 now, 2 lease end, 3 claim token, 4 limit, 5 delivery key prefix, 6 lease ms
-- Run again with the same token (its reply was lost), it answers what that token holds instead of claiming more.
if redis.call('EXISTS', KEYS[2]) == 1 then
  local out = {}
  for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    local key = ARGV[5] .. id
    if redis.call('HGET', key, 'claimToken') == ARGV[3] then out[#out + 1] = redis.call('HGETALL', key) end
  end
  return out
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[5] .. id
  if redis.call('HGET', key, 'status') == 'pending' then
    redis.call('HSET', key, 'nextAttemptAt', ARGV[2], 'claimToken', ARGV[3])
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    out[#out + 1] = redis.call('HGETALL', key)
    redis.call('RPUSH', KEYS[2], id)
  else
    -- Not pending (or gone): it has nothing to do in the due set.
    redis.call('ZREM', KEYS[1], id)
  end
end
if #out > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[6]) end
return out
