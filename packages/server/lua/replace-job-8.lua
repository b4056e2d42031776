-- KEYS: 1 job, 2 due, 3 expiring, 4 tenant changes, 5 unnotified, 6 the tenant's timer,
--       7 the tenant's status set of the state read, 8 the one of the state written
-- ARGV: 1 expected rev, 2 ref, 3 id, 4 deadline score ('' for none), 5 '1' when the job becomes final,
--       6 now, 7 expire-at ms (final only), 8 change score, 9.. field/value pairs of the whole record
-- Compare-and-set on the revision: every transition (report, cancel, settle) is decided in
-- jobs/transition.ts from the record read, and written only if no other write came in between,
-- so each happens once however many instances try it.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if rev ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 9))
redis.call('SREM', KEYS[7], ARGV[3])
redis.call('SADD', KEYS[8], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
else
  redis.call('ZREM', KEYS[2], ARGV[2])
end
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[3])
if ARGV[5] == '1' then
  -- The tenant's current seed timer gets no expiry (see set-timer-2.lua).
  if redis.call('GET', KEYS[6]) ~= ARGV[3] then redis.call('PEXPIREAT', KEYS[1], ARGV[7]) end
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[2])
  redis.call('ZADD', KEYS[5], ARGV[6], ARGV[2])
end
return 1
