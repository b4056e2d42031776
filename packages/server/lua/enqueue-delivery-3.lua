-- KEYS: 1 delivery, 2 due, 3 job index; ARGV: 1 id, 2 createdAt, 3 nextAttemptAt ('' unless pending), 4.. field/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
return 1
