-- KEYS: 1..4 the tenant's status sets (pending, completed, error, canceled), 5 counted marker,
--       6 tenant index, 7 due
-- ARGV: 1 job key prefix, 2 now, 3 the tenant's ref prefix ('<t>|'), 4 batch size
-- Returns {'building'} while the sets are still being filled with jobs stored before they existed
-- (a batch per call, so no call holds Redis long; the caller calls again), else the four counts
-- as reads show them: a pending job past its due time counts as its outcome.
local marker = redis.call('GET', KEYS[5])
if marker ~= 'done' then
  local start = '-'
  if marker then start = '(' .. marker end
  local batch = tonumber(ARGV[4])
  local ids = redis.call('ZRANGEBYLEX', KEYS[6], start, '+', 'LIMIT', 0, batch)
  local index = {pending = KEYS[1], completed = KEYS[2], error = KEYS[3], canceled = KEYS[4]}
  for _, id in ipairs(ids) do
    local state = redis.call('HGET', ARGV[1] .. id, 'state')
    -- The scripts that change jobs keep the sets from now on; this adds what came before them.
    if state and index[state] then
      for name, set in pairs(index) do
        if name ~= state then redis.call('SREM', set, id) end
      end
      redis.call('SADD', index[state], id)
    end
  end
  if #ids < batch then
    redis.call('SET', KEYS[5], 'done')
  else
    redis.call('SET', KEYS[5], ids[#ids])
    return {'building'}
  end
end
local counts = {redis.call('SCARD', KEYS[1]), redis.call('SCARD', KEYS[2]), redis.call('SCARD', KEYS[3]), redis.call('SCARD', KEYS[4])}
local position = {completed = 2, error = 3}
-- Overdue pending jobs: few, since the scheduler settles them within moments.
local refs = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', ARGV[2])
local prefix = ARGV[3]
for _, ref in ipairs(refs) do
  if string.sub(ref, 1, #prefix) == prefix then
    local s = redis.call('HMGET', ARGV[1] .. string.sub(ref, #prefix + 1), 'state', 'outcome', 'duration')
    -- A timer ends as its outcome; a reported job (no duration) past its deadline as an error.
    local ends = s[2]
    if not s[3] or s[3] == '' then ends = 'error' end
    if s[1] == 'pending' and position[ends] then
      counts[1] = counts[1] - 1
      counts[position[ends]] = counts[position[ends]] + 1
    end
  end
end
return counts
