-- KEYS: 1 expiring, 2 unnotified; ARGV: 1 now, 2 limit, 3 key prefix
-- The per-job and per-tenant key names are built here from the prefix (as engines/redis/redis-keys.ts does).
local refs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, ref in ipairs(refs) do
  local sep = string.find(ref, '|', 1, true)
  local tenant = string.sub(ref, 1, sep - 1)
  local id = string.sub(ref, sep + 1)
  redis.call('DEL', ARGV[3] .. 'job:' .. id)
  redis.call('ZREM', ARGV[3] .. 't:' .. tenant .. ':jobs', id)
  redis.call('ZREM', ARGV[3] .. 't:' .. tenant .. ':changes', id)
  redis.call('ZREM', KEYS[1], ref)
  redis.call('ZREM', KEYS[2], ref)
end
return #refs
