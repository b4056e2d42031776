-- KEYS: 1 due; ARGV: 1 now, 2 limit
-- Takes the refs due by now out of the due index, so instances settling at the same moment claim
-- disjoint jobs. The caller settles each through replace-job (compare-and-set) and puts a ref back
-- with its new deadline when the job turns out to have moved (a heartbeat) or the write lost.
local refs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #refs > 0 then redis.call('ZREM', KEYS[1], unpack(refs)) end
return refs
