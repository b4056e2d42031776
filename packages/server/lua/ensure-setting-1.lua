-- KEYS: 1 settings; ARGV: 1 key, 2 value
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
