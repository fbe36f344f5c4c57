-- The squad's daily budgets, in one script so every step is atomic across processes.
-- KEYS[1]: the day's hash; KEYS[2]: the day's in-flight holds (a sorted set by deadline).
-- Both share one hash tag, so the script runs unchanged on a Redis Cluster.
-- Hash fields: ready; s|<scope> spent and r|<scope> reserved, where scope is `*` (the whole
-- day) or squad:<name>, caller:<sub>, feature:<tag>; h|<id> a hold {a = units, s = scopes};
-- x|<id> a hold that expired and was charged in full; alert:<level> once per day.
-- Money is in integer units of 1e-8 USD (the spend log's numeric scale).
-- ARGV[1] is the operation:
--   init ttl_s spent_json levels_csv        -> 1 rebuilt now | 0 already there
--   reserve id amount deadline_ms now_ms limits_json ([[scope, limit or -1], ...], `*` first)
--     -> {1, spent, reserved} held
--        {0, index, spent, reserved, limit, alerted} spent alone leaves no room (402)
--        {3, index, spent, reserved, limit, alerted} in-flight holds take the room (429)
--        {-1} counter missing
--   settle id actual budget level...        -> {1, spent, reserved, crossed...}
--        {2, spent, reserved} hold unknown (the counter was rebuilt meanwhile) | {-1}
local day, holds = KEYS[1], KEYS[2]
local op = ARGV[1]

local function get(field)
  return tonumber(redis.call('HGET', day, field) or '0')
end

local function add(field, amount)
  local value = get(field) + amount
  if value < 0 then value = 0 end
  redis.call('HSET', day, field, string.format('%.0f', value))
  return value
end

if op == 'init' then
  if redis.call('HEXISTS', day, 'ready') == 1 then return 0 end
  redis.call('DEL', holds)
  redis.call('HSET', day, 'ready', 1)
  for scope, units in pairs(cjson.decode(ARGV[3])) do
    redis.call('HSET', day, 's|' .. scope, string.format('%.0f', units))
  end
  for level in string.gmatch(ARGV[4], '%d+') do
    redis.call('HSET', day, 'alert:' .. level, 1)
  end
  redis.call('EXPIRE', day, tonumber(ARGV[2]))
  return 1
end

if redis.call('HEXISTS', day, 'ready') == 0 then return {-1} end

-- Holds past their deadline belong to calls that never settled (a killed process): the
-- provider may have billed them, so they are charged in full and remembered for a late settle.
local function reap(now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, 100)) do
    local raw = redis.call('HGET', day, 'h|' .. id)
    if raw then
      local hold = cjson.decode(raw)
      for _, scope in ipairs(hold.s) do
        add('r|' .. scope, -hold.a)
        add('s|' .. scope, hold.a)
      end
      redis.call('HSET', day, 'x|' .. id, raw)
      redis.call('HDEL', day, 'h|' .. id)
    end
    redis.call('ZREM', holds, id)
  end
end

if op == 'reserve' then
  local id, amount = ARGV[2], tonumber(ARGV[3])
  reap(tonumber(ARGV[5]))
  local limits = cjson.decode(ARGV[6])
  for index, pair in ipairs(limits) do
    local scope, limit = pair[1], tonumber(pair[2])
    local spent, reserved = get('s|' .. scope), get('r|' .. scope)
    if limit >= 0 and spent + reserved + amount > limit then
      local status = 0
      if spent + amount <= limit then status = 3 end
      local alerted = 0
      if scope == '*' then alerted = redis.call('HSETNX', day, 'alert:100', 1) end
      return {status, index, spent, reserved, limit, alerted}
    end
  end
  local scopes = {}
  for _, pair in ipairs(limits) do
    add('r|' .. pair[1], amount)
    table.insert(scopes, pair[1])
  end
  redis.call('HSET', day, 'h|' .. id, cjson.encode({a = amount, s = scopes}))
  redis.call('ZADD', holds, tonumber(ARGV[4]), id)
  redis.call('EXPIRE', holds, redis.call('TTL', day))
  return {1, get('s|*'), get('r|*')}
end

if op == 'settle' then
  local id, actual, budget = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
  local raw = redis.call('HGET', day, 'h|' .. id)
  local charged = 0
  if raw then
    redis.call('HDEL', day, 'h|' .. id)
    redis.call('ZREM', holds, id)
  else
    raw = redis.call('HGET', day, 'x|' .. id)
    if not raw then return {2, get('s|*'), get('r|*')} end
    redis.call('HDEL', day, 'x|' .. id)
    charged = 1
  end
  local hold = cjson.decode(raw)
  for _, scope in ipairs(hold.s) do
    if charged == 1 then
      add('s|' .. scope, actual - hold.a)
    else
      add('r|' .. scope, -hold.a)
      add('s|' .. scope, actual)
    end
  end
  local spent = get('s|*')
  local result = {1, spent, get('r|*')}
  for i = 5, #ARGV do
    local level = tonumber(ARGV[i])
    if budget > 0 and spent * 100 >= level * budget
        and redis.call('HSETNX', day, 'alert:' .. level, 1) == 1 then
      table.insert(result, level)
    end
  end
  return result
end

return redis.error_reply('unknown budget operation ' .. tostring(op))
