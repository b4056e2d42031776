-- KEYS: 1 key hash, 2 all ids, 3 active ids; ARGV: 1 id, 2 revoked ('1'/'0'), 3.. field/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[2] == '0' then redis.call('SADD', KEYS[3], ARGV[1]) end
return 1
