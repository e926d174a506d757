#!/usr/bin/env bash
# OAuth authorization server benchmarks: token endpoint (refresh_token grant with rotation)
# and introspection throughput with wrk on loopback, and the cost of one login (PBKDF2-HMAC-SHA256,
# 600,000 iterations) as seen over HTTP.
#
#   bench/oauth.sh [DURATION_SECONDS] [CONNECTIONS]      (defaults: 10 s, 16 connections, 2 wrk threads)
#
# Needs: a release build (swift build -c release) or MCPCTL_BIN, wrk (apt-get install wrk), python3.
# Everything runs against a throw-away store in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-16}
THREADS=2
BIN=${MCPCTL_BIN:-$PWD/.build/release/mcpctl}
command -v wrk >/dev/null || { echo "bench/oauth.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench/oauth.sh: no $BIN; run swift build -c release" >&2; exit 1; }

WORK=$(mktemp -d /tmp/mcpctl-bench-oauth.XXXXXX)
export MCPCTL_DB=$WORK/store/mcpctl.db NO_COLOR=1
SERVE_PID=""
cleanup() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

PASSWORD='bench password 1'
printf '%s\n' "$PASSWORD" | "$BIN" user add bench@example.com --password-stdin >/dev/null
"$BIN" app add notes --env dev --upstream http://127.0.0.1:9/mcp >/dev/null
"$BIN" grant add bench@example.com --app notes --env dev --role admin >/dev/null
RS=$("$BIN" client register --name bench-rs --redirect-uri https://rs.example.com/cb --confidential --json)
RS_ID=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$RS")
RS_SECRET=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$RS")

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
"$BIN" serve --listen 127.0.0.1:$PORT --log-level error --max-connections-per-address 100000 >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# Log in once per family through the real forms, and time logins (the PBKDF2 cost) separately.
FAMILIES=$((CONNS * 2))
python3 - "$BASE" "$PASSWORD" "$FAMILIES" "$WORK" <<'PY'
import base64, hashlib, http.cookiejar, json, re, secrets, statistics, sys, time, urllib.parse, urllib.request
base, password, families, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
def browser():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
def call(opener, method, url, data=None, headers={}):
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with opener.open(req, timeout=30) as r: return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e: return e.code, dict(e.headers), e.read().decode()
form = {"Content-Type": "application/x-www-form-urlencoded"}
plain = browser()
st, _, body = call(plain, "POST", base + "/oauth/register", json.dumps({"client_name": "bench", "redirect_uris": ["http://127.0.0.1:1/cb"],
    "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]}).encode(), {"Content-Type": "application/json"})
client = json.loads(body)["client_id"]
def authorize_query():
    v = secrets.token_urlsafe(48)
    c = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).decode().rstrip("=")
    q = urllib.parse.urlencode({"response_type": "code", "client_id": client, "redirect_uri": "http://127.0.0.1:1/cb", "state": "s",
        "code_challenge": c, "code_challenge_method": "S256", "resource": base + "/mcp/notes/dev", "scope": "read write delete"})
    return v, base + "/oauth/authorize?" + q
def hidden(name, page): return re.search(r'name="%s" value="([^"]*)"' % name, page).group(1)
# Login cost: fresh browser each time; only the POST of the login form is timed.
times = []
for _ in range(8):
    b = browser(); _, url = authorize_query(); _, _, page = call(b, "GET", url)
    data = urllib.parse.urlencode({"tx": hidden("tx", page), "csrf": hidden("csrf", page), "email": "bench@example.com", "password": password}).encode()
    t = time.perf_counter(); st, h, _ = call(b, "POST", base + "/oauth/authorize", data, form); times.append((time.perf_counter() - t) * 1000)
    assert st == 303, st
times.sort()
# One signed-in browser approves many codes; each code starts a refresh-token family.
b = browser(); v, url = authorize_query(); _, _, page = call(b, "GET", url)
call(b, "POST", base + "/oauth/authorize", urllib.parse.urlencode({"tx": hidden("tx", page), "csrf": hidden("csrf", page),
     "email": "bench@example.com", "password": password}).encode(), form)
refresh, access = [], None
for i in range(families):
    v, url = authorize_query(); _, _, page = call(b, "GET", url)
    data = urllib.parse.urlencode([("tx", hidden("tx", page)), ("csrf", hidden("csrf", page)), ("scope", "read"), ("scope", "write"),
                                   ("scope", "delete"), ("decision", "approve")]).encode()
    st, h, _ = call(b, "POST", base + "/oauth/authorize", data, form)
    code = urllib.parse.parse_qs(urllib.parse.urlparse(h["Location"]).query)["code"][0]
    tok = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code, "code_verifier": v, "client_id": client,
                                  "redirect_uri": "http://127.0.0.1:1/cb", "resource": base + "/mcp/notes/dev"}).encode()
    t0 = time.perf_counter(); st, _, body = call(plain, "POST", base + "/oauth/token", tok, form)
    assert st == 200, body
    j = json.loads(body); refresh.append(j["refresh_token"]); access = j["access_token"]
open(work + "/refresh.txt", "w").write("\n".join(refresh) + "\n")
open(work + "/access.txt", "w").write(access)
open(work + "/client.txt", "w").write(client)
print(f"login (PBKDF2 600k, over HTTP): median {statistics.median(times):.0f} ms, min {times[0]:.0f} ms, max {times[-1]:.0f} ms (n={len(times)})")
PY

CLIENT=$(cat "$WORK/client.txt")
# Token endpoint: every request spends one refresh token and the response hands over its successor,
# so each wrk thread keeps a queue of live tokens (one family per connection, rotating).
cat >"$WORK/refresh.lua" <<LUA
local all = {}
for line in io.lines("$WORK/refresh.txt") do all[#all + 1] = line end
local counter = 0
function setup(thread)
  local mine = {}
  for i = counter + 1, #all, $THREADS do mine[#mine + 1] = all[i] end
  counter = counter + 1
  thread:set("tokens", table.concat(mine, "\n"))
end
local queue = {}
function init(args)
  for t in string.gmatch(tokens, "[^\n]+") do queue[#queue + 1] = t end
end
function request()
  local t = table.remove(queue, 1) or "mcp_rt_exhausted"
  return wrk.format("POST", "/oauth/token", {["Content-Type"] = "application/x-www-form-urlencoded"},
    "grant_type=refresh_token&client_id=$CLIENT&refresh_token=" .. t)
end
function response(status, headers, body)
  local t = string.match(body, '"refresh_token":"([^"]+)"')
  if t then queue[#queue + 1] = t end
end
LUA
ACCESS=$(cat "$WORK/access.txt")
AUTH=$(printf '%s:%s' "$RS_ID" "$RS_SECRET" | base64 -w0)
cat >"$WORK/introspect.lua" <<LUA
wrk.method = "POST"
wrk.body = "token=$ACCESS"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $AUTH"
LUA

echo "== token endpoint: refresh_token grant with rotation (${THREADS} threads, ${CONNS} connections, ${DURATION}s)"
wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s "$WORK/refresh.lua" "$BASE" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|requests in"
echo "== introspection of an active access token, client_secret_basic (${THREADS} threads, ${CONNS} connections, ${DURATION}s)"
wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s "$WORK/introspect.lua" "$BASE/oauth/introspect" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|requests in"
"$BIN" audit verify >/dev/null && echo "audit verify: ok"
