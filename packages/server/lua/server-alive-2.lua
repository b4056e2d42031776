-- KEYS: 1 server-alive, 2 up-since; ARGV: 1 now (ms), 2 outage gap (ms)
-- Marks the server alive at `now` (each instance does, every second). When no instance did within
-- the gap before (every instance was down, or Redis was; or this is the first start), the server
-- is back since `now`: up-since moves there, and the caller gives running jobs their restart grace.
-- Returns {up-since, 1 when this call found the outage, else 0}.
local now = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '')
local upSince = tonumber(redis.call('GET', KEYS[2]) or '') or 0
local found = 0
if last == nil or now - last > tonumber(ARGV[2]) then
  upSince = now
  found = 1
  redis.call('SET', KEYS[2], ARGV[1])
end
-- Instances' clocks differ a little: the mark only goes forward.
if last == nil or now > last then redis.call('SET', KEYS[1], ARGV[1]) end
return {tostring(upSince), found}
