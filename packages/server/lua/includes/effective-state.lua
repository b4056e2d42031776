-- The effective-state rule, shared by the scripts that filter or sort on it:
-- a pending job past its due time reads as its outcome, changed at its due time.
local function effective_status(state, outcome, due_at, now)
  if state == 'pending' and now >= tonumber(due_at) then return outcome end
  return state
end
local function effective_updated(state, due_at, updated_at, now)
  if state == 'pending' and now >= tonumber(due_at) then return tonumber(due_at) end
  return tonumber(updated_at)
end
