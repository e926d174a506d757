-- wrk script for bench/reliability.sh: the request of bench/wrk-mcp.lua (loaded from $WRK_MCP_LUA), plus a
-- count of every response by status class, which wrk-mcp.lua leaves out on purpose (a response() callback
-- costs client CPU; here correctness matters, not the last request per second). done() prints the
-- RESULT line of wrk-mcp.lua followed by
--   STATUS s2xx=N s3xx=N s4xx=N s5xx=N other=N codes=CODE:N,CODE:N,…
-- Usage: WRK_MCP_LUA=bench/wrk-mcp.lua WRK_TOKEN=… wrk -t2 -c32 -d60s -s bench/reliability-wrk.lua URL

dofile(assert(os.getenv("WRK_MCP_LUA"), "WRK_MCP_LUA must name bench/wrk-mcp.lua"))
local result_line = done

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  codes = {}
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  result_line(summary, latency, requests)
  local total, classes = {}, { s2xx = 0, s3xx = 0, s4xx = 0, s5xx = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("codes")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local list = {}
  for status, n in pairs(total) do
    local class = "s" .. math.floor(status / 100) .. "xx"
    if classes[class] == nil then class = "other" end
    classes[class] = classes[class] + n
    table.insert(list, status .. ":" .. n)
  end
  table.sort(list)
  io.write(string.format("STATUS s2xx=%d s3xx=%d s4xx=%d s5xx=%d other=%d codes=%s\n",
    classes.s2xx, classes.s3xx, classes.s4xx, classes.s5xx, classes.other, table.concat(list, ",")))
end
