-- KEYS: 1 delivery, 2 due; ARGV: 1 id, 2 claim token, 3 status, 4 attempt JSON ('' for none),
--       5 nextAttemptAt ('' unless pending), 6 has note ('1'/'0'), 7 note, 8 now
if redis.call('HGET', KEYS[1], 'claimToken') ~= ARGV[2] then return 0 end
if ARGV[4] ~= '' then
  local attempts = redis.call('HGET', KEYS[1], 'attempts')
  if not attempts or attempts == '[]' then
    attempts = '[' .. ARGV[4] .. ']'
  else
    attempts = string.sub(attempts, 1, -2) .. ',' .. ARGV[4] .. ']'
  end
  redis.call('HSET', KEYS[1], 'attempts', attempts)
end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'updatedAt', ARGV[8])
redis.call('HDEL', KEYS[1], 'claimToken')
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'note', ARGV[7]) end
if ARGV[3] == 'pending' then
  redis.call('HSET', KEYS[1], 'nextAttemptAt', ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
else
  redis.call('HDEL', KEYS[1], 'nextAttemptAt')
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
