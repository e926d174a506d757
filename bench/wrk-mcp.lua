-- wrk script for bench/gateway.sh: POSTs one MCP tools/call (JSON-RPC) on every request and prints a
-- machine-readable summary line in done().
--   WRK_TOKEN  if set, sent as "Authorization: Bearer <token>" (the gateway run; unset for nginx)
-- Usage: wrk -t2 -c64 -d15s --latency -s bench/wrk-mcp.lua http://127.0.0.1:PORT/mcp/bench/prod

wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
local token = os.getenv("WRK_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- No response() callback on purpose: it makes wrk hand every response to Lua, which costs client CPU
-- on the same two cores the servers use. Non-2xx/3xx answers are counted by wrk itself (errors.status).

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d connect_err=%d read_err=%d write_err=%d timeout=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
end
