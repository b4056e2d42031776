-- Compare-and-set of one duration model's JSON (engines/redis/redis-model-store.ts).
-- KEYS[1] model key; ARGV[1] the JSON read before the change ('' for none); ARGV[2] the new JSON.
-- Returns 1 when written, 0 when another instance wrote first.
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
