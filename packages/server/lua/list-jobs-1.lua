-- KEYS: 1 tenant index
-- ARGV: 1 job key prefix, 2 start ('+' or '(<id>'), 3 limit, 4 status ('' for any), 5 now, 6 scan budget
--- @include "effective-state"
local budget = tonumber(ARGV[6])
local ids = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[2], '-', 'LIMIT', 0, budget)
local limit = tonumber(ARGV[3])
local now = tonumber(ARGV[5])
local out = {}
local last = ''
for _, id in ipairs(ids) do
  last = id
  local key = ARGV[1] .. id
  local s = redis.call('HMGET', key, 'state', 'outcome', 'due_at', 'duration', 'deadline_at')
  if not s[1] then
    redis.call('ZREM', KEYS[1], id)
  elseif ARGV[4] == '' or effective_status(s[1], s[2], s[3], s[4], s[5], now) == ARGV[4] then
    out[#out + 1] = redis.call('HGETALL', key)
    if #out >= limit then break end
  end
end
local exhausted = 0
if #ids < budget then exhausted = 1 end
return {last, exhausted, out}
