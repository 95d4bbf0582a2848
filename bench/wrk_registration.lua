-- wrk script for bench/api_registration_bench.py (run it through that script, not alone).
--
--   wrk ... -s bench/wrk_registration.lua URL -- MODE DATAFILE THREADS LAG
--
-- MODE      register: alternate PUT /api/v1/me/profile and POST /api/v1/me/trips
--           read:     GET /api/v1/me/profile with each token in turn
--           get:      GET the URL's path (no token), e.g. /healthz
-- DATAFILE  one user a line: "<token>\t<profile JSON>\t<trip JSON>" (the bodies
--           are json.dumps output, which escapes tabs, so a tab never occurs inside)
-- THREADS   wrk's -t, so that each wrk thread takes a disjoint slice of the users
-- LAG       how many pairs a user's POST trip trails its PUT profile (see below)
--
-- Each wrk thread has its own Lua state: requests are prebuilt once in init()
-- so that the load generator spends its (shared, 2-core) CPU on sending, not on
-- string formatting. done() prints one "WRK_RESULT {json}" line for the caller.
-- setup(), response() and done() come from wrk_result.lua, next to this file.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk_result.lua")

local requests_list = {}
local next_index = 0

local function read_users(path, thread_count)
  local users = {}
  local line_number = 0
  for line in io.lines(path) do
    -- Round-robin slices: wrk threads never share a user, so that the PUT/POST
    -- order below holds for every user.
    if line_number % thread_count == thread_number - 1 then
      local token, profile, trip = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
      if not token then
        error("malformed line " .. (line_number + 1) .. " in " .. path)
      end
      table.insert(users, { token = token, profile = profile, trip = trip })
    end
    line_number = line_number + 1
  end
  if #users == 0 then
    error("no users for wrk thread " .. thread_number .. " in " .. path)
  end
  return users
end

local function auth(token, with_body)
  local headers = { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json" }
  if with_body then
    headers["Content-Type"] = "application/json"
  end
  return headers
end

function init(args)
  local mode, path, thread_count, lag = args[1], args[2], tonumber(args[3] or "1"), tonumber(args[4] or "0")
  if mode == "get" then
    table.insert(requests_list, wrk.format("GET", wrk.path, { ["Accept"] = "application/json" }))
    return
  end
  local users = read_users(path, thread_count)
  if mode == "read" then
    for _, user in ipairs(users) do
      table.insert(requests_list, wrk.format("GET", "/api/v1/me/profile", auth(user.token, false)))
    end
  elseif mode == "register" then
    -- Slot 2j is user j's PUT profile, slot 2j+1 the POST trip of user j-LAG.
    -- With c connections a request can only be sent once the one c slots
    -- earlier has been answered, so with 2*LAG >= c a user's profile is
    -- written before its trip is sent: each user registers in the order a
    -- client would use, and the two requests never race for the same row.
    local count = #users
    lag = math.min(lag, count - 1)
    for j = 1, count do
      local writer = users[j]
      local traveller = users[((j - 1 - lag) % count) + 1]
      table.insert(requests_list, wrk.format("PUT", "/api/v1/me/profile", auth(writer.token, true), writer.profile))
      table.insert(requests_list, wrk.format("POST", "/api/v1/me/trips", auth(traveller.token, true), traveller.trip))
    end
  else
    error("unknown mode " .. tostring(mode))
  end
end

function request()
  -- Past the last user the list starts again: those PUTs then update a
  -- profile instead of creating it (the caller reports how many did).
  local r = requests_list[next_index + 1]
  next_index = (next_index + 1) % #requests_list
  return r
end
