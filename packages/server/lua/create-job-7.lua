-- KEYS: 1 job, 2 tenant index, 3 tenant changes, 4 due, 5 expiring, 6 idempotency key ('' for none),
--       7 the tenant's status set of the job's state
-- ARGV: 1 id, 2 ref, 3 change score, 4 due score ('' unless pending), 5 expire-at ms ('' unless final),
--       6 fingerprint, 7 idempotency ttl ms, 8 job key prefix, 9 n: how many tag index keys follow,
--       10..9+n the tag index keys (sorted sets of ids), then field/value pairs
if KEYS[6] ~= '' then
  local prior = redis.call('HMGET', KEYS[6], 'fingerprint', 'job')
  if prior[1] then
    -- A key lives as long as its job (every engine): once retention deleted the job, the key is free.
    local existing = redis.call('HGETALL', ARGV[8] .. prior[2])
    if #existing > 0 then
      if prior[1] ~= ARGV[6] then return {'mismatch'} end
      return {'replayed', existing}
    end
  end
end
-- Checked before any write: a script that fails half-way is not rolled back.
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('ERR jobwait: job id already exists') end
if KEYS[6] ~= '' then
  redis.call('HSET', KEYS[6], 'fingerprint', ARGV[6], 'job', ARGV[1])
  redis.call('PEXPIRE', KEYS[6], ARGV[7])
end
local tags = tonumber(ARGV[9])
redis.call('HSET', KEYS[1], unpack(ARGV, 10 + tags))
for i = 10, 9 + tags do redis.call('ZADD', ARGV[i], 0, ARGV[1]) end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[7], ARGV[1])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2]) end
if ARGV[5] ~= '' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[5])
  redis.call('ZADD', KEYS[5], ARGV[5], ARGV[2])
end
return {'created'}
