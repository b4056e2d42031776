-- KEYS: 1 access mode, 2 active key ids; ARGV: 1 now (ms); returns 1 when open (now or already), 0 while a key is still active
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
if redis.call('HGET', KEYS[1], 'mode') == 'open' then return 1 end
redis.call('HSET', KEYS[1], 'mode', 'open', 'since', ARGV[1], 'reason', 'opened by `jobwait keys open-access`')
return 1
