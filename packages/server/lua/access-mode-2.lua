-- KEYS: 1 access mode, 2 all key ids; returns { mode, since or '', reason }
-- Data written before the mode existed has no access hash: any key ever made (revoked or not) means keys.
local m = redis.call('HMGET', KEYS[1], 'mode', 'since', 'reason')
if m[1] then return { m[1], m[2] or '', m[3] or '' } end
if redis.call('EXISTS', KEYS[2]) == 1 then return { 'keys', '', 'the data already held API keys' } end
return { 'open', '', 'no API key was ever created' }
