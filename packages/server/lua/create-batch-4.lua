-- KEYS: 1 tenant index, 2 tenant changes, 3 due, 4 the tenant's status set of pending jobs
-- ARGV: 1 job key prefix, 2 batch key prefix (a batch is <prefix><id>, its ids <prefix><id>:jobs), 3 batch id,
--       4 batch idempotency key ('' for none),
--       5 fingerprint, 6 ttl ms of the batch (and its key), 7 n: batch field/value count, 8..7+n the batch's fields,
--       then per job: id, ref, change score, due score ('' for none), t, t tag index keys, f, f field/value items
-- Creates a batch and every job of it, all or none: every check comes before the first write (a
-- script that fails half-way is not rolled back). Returns {'created'}, {'replayed', batch id} or {'mismatch'}.
if ARGV[4] ~= '' then
  local prior = redis.call('HMGET', ARGV[4], 'fingerprint', 'batch')
  if prior[1] and redis.call('EXISTS', ARGV[2] .. prior[2]) == 1 then
    if prior[1] ~= ARGV[5] then return {'mismatch'} end
    return {'replayed', prior[2]}
  end
end
local batch = ARGV[2] .. ARGV[3]
local batch_jobs = batch .. ':jobs'
local nb = tonumber(ARGV[7])
local first = 8 + nb
-- Pass 1: check.
local i = first
while i <= #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 1 then return redis.error_reply('ERR jobwait: job id already exists') end
  local t = tonumber(ARGV[i + 4])
  local f = tonumber(ARGV[i + 5 + t])
  i = i + 6 + t + f
end
if redis.call('EXISTS', batch) == 1 then return redis.error_reply('ERR jobwait: batch id already exists') end
-- Pass 2: write.
local ttl = tonumber(ARGV[6])
if ARGV[4] ~= '' then
  redis.call('HSET', ARGV[4], 'fingerprint', ARGV[5], 'batch', ARGV[3])
  redis.call('PEXPIRE', ARGV[4], ttl)
end
redis.call('HSET', batch, unpack(ARGV, 8, 7 + nb))
redis.call('PEXPIRE', batch, ttl)
i = first
while i <= #ARGV do
  local id = ARGV[i]
  local t = tonumber(ARGV[i + 4])
  local f = tonumber(ARGV[i + 5 + t])
  redis.call('HSET', ARGV[1] .. id, unpack(ARGV, i + 6 + t, i + 5 + t + f))
  redis.call('ZADD', KEYS[1], 0, id)
  redis.call('ZADD', KEYS[2], ARGV[i + 2], id)
  redis.call('SADD', KEYS[4], id)
  redis.call('ZADD', batch_jobs, 0, id)
  if ARGV[i + 3] ~= '' then redis.call('ZADD', KEYS[3], ARGV[i + 3], ARGV[i + 1]) end
  for j = i + 5, i + 4 + t do redis.call('ZADD', ARGV[j], 0, id) end
  i = i + 6 + t + f
end
redis.call('PEXPIRE', batch_jobs, ttl)
return {'created'}
