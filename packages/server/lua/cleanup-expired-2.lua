-- KEYS: 1 expiring, 2 unnotified; ARGV: 1 now, 2 limit, 3 key prefix
-- Deletes up to `limit` finished jobs whose retention ended by `now` (their hashes may have expired
-- already), with their index entries and their finished deliveries; a delivery still being retried
-- stays. A tenant's current seed timer is kept: it only leaves the expiring set, and
-- set-timer-2.lua gives it an expiry again once another timer replaces it.
-- Returns {jobs deleted, deliveries deleted}.
-- Key names are built here from the prefix, as engines/redis/redis-keys.ts does: a ref holds the
-- tenant escaped by tenantKey(), the delivery index the tenant as encodeURIComponent() writes it.
local function unescape(text)
  return (string.gsub(text, '%%(%x%x)', function(hex) return string.char(tonumber(hex, 16)) end))
end
local function uri_component(text)
  return (string.gsub(text, "[^%w%-_%.!~%*'%(%)]", function(c) return string.format('%%%02X', string.byte(c)) end))
end
local prefix = ARGV[3]
local refs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local jobs, deliveries = 0, 0
for _, ref in ipairs(refs) do
  local sep = string.find(ref, '|', 1, true)
  local tenant = string.sub(ref, 1, sep - 1)
  local id = string.sub(ref, sep + 1)
  redis.call('ZREM', KEYS[1], ref)
  if redis.call('GET', prefix .. 't:' .. tenant .. ':timer') ~= id then
    redis.call('DEL', prefix .. 'job:' .. id)
    redis.call('ZREM', prefix .. 't:' .. tenant .. ':jobs', id)
    redis.call('ZREM', prefix .. 't:' .. tenant .. ':changes', id)
    for _, state in ipairs({'pending', 'completed', 'error', 'canceled'}) do
      redis.call('SREM', prefix .. 't:' .. tenant .. ':status:' .. state, id)
    end
    redis.call('ZREM', KEYS[2], ref)
    jobs = jobs + 1
    local index = prefix .. 'dlvjob:' .. uri_component(unescape(tenant)) .. ':' .. uri_component(id)
    for _, delivery in ipairs(redis.call('ZRANGE', index, 0, -1)) do
      local key = prefix .. 'dlv:' .. delivery
      local status = redis.call('HGET', key, 'status')
      if status ~= 'pending' then
        deliveries = deliveries + redis.call('DEL', key)
        redis.call('ZREM', index, delivery)
      end
    end
  end
end
return {jobs, deliveries}
