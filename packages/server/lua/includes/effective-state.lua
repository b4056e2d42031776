-- The effective-state rule of jobs/transition.ts, shared by the scripts that filter or sort on it:
-- a pending job past its deadline reads as settled, changed at its deadline. A timer's deadline is
-- its due time (and it ends as its outcome); a reported job's (no duration) is deadline_at, and it
-- ends as an error (stalled or expired).
local function deadline_of(due_at, duration, deadline_at)
  if duration and duration ~= '' then return tonumber(due_at) end
  if deadline_at and deadline_at ~= '' then return tonumber(deadline_at) end
  return nil
end
local function effective_status(state, outcome, due_at, duration, deadline_at, now)
  local deadline = deadline_of(due_at, duration, deadline_at)
  if state == 'pending' and deadline and now >= deadline then
    if duration and duration ~= '' then return outcome end
    return 'error'
  end
  return state
end
local function effective_updated(state, due_at, duration, deadline_at, updated_at, now)
  local deadline = deadline_of(due_at, duration, deadline_at)
  if state == 'pending' and deadline and now >= deadline then return deadline end
  return tonumber(updated_at)
end
