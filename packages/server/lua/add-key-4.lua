-- KEYS: 1 key hash, 2 all ids, 3 active ids, 4 access mode; ARGV: 1 id, 2 revoked ('1'/'0'), 3 now (ms), 4.. field/value pairs
-- A key actually added turns keys on in the same script: no moment holds a key while the mode says open.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[2] == '0' then redis.call('SADD', KEYS[3], ARGV[1]) end
if redis.call('HGET', KEYS[4], 'mode') ~= 'keys' then
  redis.call('HSET', KEYS[4], 'mode', 'keys', 'since', ARGV[3], 'reason', 'API key ' .. ARGV[1] .. ' created')
end
return 1
