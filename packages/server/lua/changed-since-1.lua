-- KEYS: 1 tenant changes; ARGV: 1 job key prefix, 2 since, 3 now, 4 cap
--- @include "effective-state"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf', 'LIMIT', 0, tonumber(ARGV[4]))
local since = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local s = redis.call('HMGET', key, 'state', 'created_at', 'due_at', 'updated_at', 'duration', 'deadline_at')
  if not s[1] then
    redis.call('ZREM', KEYS[1], id)
  elseif tonumber(s[2]) >= since or effective_updated(s[1], s[3], s[5], s[6], s[4], now) >= since then
    out[#out + 1] = redis.call('HGETALL', key)
  end
end
return out
