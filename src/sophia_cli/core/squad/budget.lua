-- The squad's daily budget, in one script so every step is atomic across processes.
-- KEYS[1]: the day's hash (fields: ready, spent, reserved, spent:<squad>, reserved:<squad>,
-- alert:<level>). Money is in integer units of 1e-8 USD (the spend log's numeric scale).
-- ARGV[1] is the operation:
--   reserve squad amount budget squad_budget(-1: none)
--     -> {1, spent, reserved} held | {0, spent, reserved} over the day's budget
--        {2, squad_spent, squad_reserved} over the squad's budget | {-1} counter missing
--   settle squad reserved actual budget level...
--     -> {1, spent, reserved, crossed_level...} | {-1} counter missing
--   init ttl_s spent_total level_already_crossed_csv squad spent [squad spent ...]
--     -> 1 when this call rebuilt the counter, 0 when it already existed
local key = KEYS[1]
local op = ARGV[1]

local function get(field)
  return tonumber(redis.call('HGET', key, field) or '0')
end

if op == 'init' then
  if redis.call('HEXISTS', key, 'ready') == 1 then return 0 end
  redis.call('HSET', key, 'ready', 1, 'spent', ARGV[3], 'reserved', 0)
  for level in string.gmatch(ARGV[4], '%d+') do
    redis.call('HSET', key, 'alert:' .. level, 1)
  end
  for i = 5, #ARGV, 2 do
    redis.call('HSET', key, 'spent:' .. ARGV[i], ARGV[i + 1])
  end
  redis.call('EXPIRE', key, tonumber(ARGV[2]))
  return 1
end

if redis.call('HEXISTS', key, 'ready') == 0 then return {-1} end
local squad = ARGV[2]

if op == 'reserve' then
  local amount = tonumber(ARGV[3])
  local spent, reserved = get('spent'), get('reserved')
  if spent + reserved + amount > tonumber(ARGV[4]) then return {0, spent, reserved} end
  local squad_budget = tonumber(ARGV[5])
  if squad_budget >= 0 then
    local squad_spent, squad_reserved = get('spent:' .. squad), get('reserved:' .. squad)
    if squad_spent + squad_reserved + amount > squad_budget then
      return {2, squad_spent, squad_reserved}
    end
  end
  redis.call('HINCRBY', key, 'reserved:' .. squad, amount)
  return {1, spent, redis.call('HINCRBY', key, 'reserved', amount)}
end

if op == 'settle' then
  local held, actual, budget = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  -- A counter rebuilt while this call was in flight no longer holds its reservation.
  local reserved = math.max(0, get('reserved') - held)
  redis.call('HSET', key, 'reserved', reserved)
  redis.call('HSET', key, 'reserved:' .. squad, math.max(0, get('reserved:' .. squad) - held))
  redis.call('HINCRBY', key, 'spent:' .. squad, actual)
  local spent = redis.call('HINCRBY', key, 'spent', actual)
  local result = {1, spent, reserved}
  for i = 6, #ARGV do
    local level = tonumber(ARGV[i])
    if budget > 0 and spent * 100 >= level * budget
        and redis.call('HSETNX', key, 'alert:' .. level, 1) == 1 then
      table.insert(result, level)
    end
  end
  return result
end

return redis.error_reply('unknown budget operation ' .. tostring(op))
