-- KEYS: 1 key hash, 2 active ids; ARGV: 1 id, 2 now
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'revokedAt', ARGV[2])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
