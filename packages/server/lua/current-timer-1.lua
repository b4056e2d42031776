-- KEYS: 1 timer; ARGV: 1 job key prefix
local id = redis.call('GET', KEYS[1])
if not id then return {} end
return redis.call('HGETALL', ARGV[1] .. id)
