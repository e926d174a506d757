#!/usr/bin/env bash
# MCP revisions benchmark: the same authenticated, audited tools/call through `mcpctl serve` in both MCP
# revisions, in one run, same concurrency, interleaved (a b c c b a) so drift hits every run alike:
#   (a) 2025-11-25 request to a 2025-11-25 upstream (passed through, as bench/gateway.sh);
#   (b) 2026-07-28 request to a 2026-07-28 upstream (passed through: envelope and mirrored headers checked);
#   (c) 2026-07-28 request to a 2025-11-25 upstream (the gateway holds the upstream session for the caller).
# The upstreams are nginx answering a fixed result (bench/nginx-revisions.conf). Prints req/s, latency and the
# server's CPU µs per request of each, and the ratios b/a and c/a. Target: the 2026-07-28 path costs no
# more per request than the 2025-11-25 one (CPU µs/req ratio <= 1, within the run's noise).
#
# Usage: bench/revisions.sh
# Environment:
#   MCPCTL_BIN    mcpctl binary (default: build .build/release/mcpctl with `swift build -c release`)
#   DURATION      seconds per wrk run (default 10)
#   THREADS       wrk threads (default 2)
#   CONNECTIONS   concurrency (default 64)
#   KEEP=1        keep the temp directory
#   PROFILE=a|b|c instead of the comparison, sample the server with `perf record -g` (cpu-clock, 999 Hz)
#                 during one wrk run of that kind; prints the top symbols (self time) and writes folded
#                 stacks and an SVG flame graph (bench/flamegraph.py) to PROFILE_OUT (default /tmp/mcpctl-profile-KIND)
# Needs nginx, wrk and curl (bench/lib.sh installs them as root when missing). Loopback only.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}

say() { printf '%s\n' "$*" >&2; }
die() { say "revisions.sh: $*"; exit 1; }

. "$ROOT/bench/lib.sh"
need_load_tools || die "nginx, wrk and curl are needed"
if [ -n "${MCPCTL_BIN:-}" ]; then BIN=$MCPCTL_BIN; else
    say "building mcpctl (release)…"; (cd "$ROOT" && swift build -c release >/dev/null); BIN=$ROOT/.build/release/mcpctl
fi
[ -x "$BIN" ] || die "no mcpctl binary at $BIN"

WORK=$(mktemp -d /tmp/mcpctl-revbench.XXXXXX)
NGINX_PID=""
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- nginx: a 2026-07-28 upstream at /modern/, a 2025-11-25 one at /legacy/ ----------------------------
PORT=$(free_port)
user_line=""; [ "$(id -u)" = 0 ] && user_line="user root;"
mkdir -p "$WORK/nginx"
sed -e "s|@DIR@|$WORK/nginx|g" -e "s|@PORT@|$PORT|g" -e "s|@USER@|$user_line|" "$HERE/nginx-revisions.conf" >"$WORK/nginx/nginx.conf"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/nginx-error.log" 2>>"$WORK/nginx/nginx-error.log" &
NGINX_PID=$!
wait_http "http://127.0.0.1:$PORT/" "$NGINX_PID" || { cat "$WORK/nginx/nginx-error.log" >&2; die "nginx did not start"; }

# --- a store: one user, both environments, the tool's scope, a token -------------------------------------
export MCPCTL_DB=$WORK/store.db NO_COLOR=1
EMAIL=bench@example.com
"$BIN" init >/dev/null
"$BIN" user add "$EMAIL" --name Bench </dev/null >/dev/null 2>&1
"$BIN" app add bench --env legacy --upstream "http://127.0.0.1:$PORT/legacy/" >/dev/null
"$BIN" app add bench --env modern --upstream "http://127.0.0.1:$PORT/modern/" >/dev/null
"$BIN" grant add "$EMAIL" --app bench --role editor >/dev/null
"$BIN" tool scope bench echo write >/dev/null
TOKEN=$("$BIN" token create --email "$EMAIL" --name bench --scopes read,write --expires never 2>/dev/null)
[ -n "$TOKEN" ] || die "token create printed nothing"

GW_PORT=$(free_port)
"$BIN" serve --listen "127.0.0.1:$GW_PORT" --log-level error --max-connections-per-address 100000 2>"$WORK/serve.log" &
SERVER_PID=$!
wait_http "http://127.0.0.1:$GW_PORT/healthz" "$SERVER_PID" || { cat "$WORK/serve.log" >&2; die "mcpctl serve did not start"; }
GW=http://127.0.0.1:$GW_PORT/mcp/bench

# One call of each kind by hand: each must be answered 200 (this also makes the gateway probe both upstreams).
probe() { # URL LUA
    local body headers=()
    if [ "$2" = 2026 ]; then
        body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
        headers=(-H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo')
    else
        body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}'
        headers=(-H 'MCP-Protocol-Version: 2025-11-25')
    fi
    local out
    out=$(curl -s -m 5 -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' "${headers[@]}" --data "$body" "$1")
    [ "${out##*$'\n'}" = 200 ] || die "probe of $1 ($2) failed: $out"
}
probe "$GW/legacy" 2025; probe "$GW/modern" 2026; probe "$GW/legacy" 2026

CLK_TCK=$(getconf CLK_TCK)
cpu_secs() { awk -v hz="$CLK_TCK" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$SERVER_PID/stat"; }
field() { wrk_field "$@"; }
declare -A REQ CPU SECS P50 P99 NON2XX
run() { # LABEL URL LUA
    local t0 t1 out line
    t0=$(cpu_secs)
    out=$(WRK_TOKEN="$TOKEN" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$3" "$2" 2>&1) || { say "$out"; die "wrk failed"; }
    t1=$(cpu_secs)
    line=$(grep '^RESULT' <<<"$out") || { say "$out"; die "no RESULT line from wrk"; }
    REQ[$1]=$(( ${REQ[$1]:-0} + $(field "$line" requests) ))
    SECS[$1]=$(awk -v a="${SECS[$1]:-0}" -v b="$(field "$line" seconds)" 'BEGIN {print a + b}')
    CPU[$1]=$(awk -v a="${CPU[$1]:-0}" -v x="$t0" -v y="$t1" 'BEGIN {print a + y - x}')
    P50[$1]="${P50[$1]:-}$(field "$line" p50_ms) "
    P99[$1]="${P99[$1]:-}$(field "$line" p99_ms) "
    NON2XX[$1]=$(( ${NON2XX[$1]:-0} + $(field "$line" non2xx) ))
}
if [ -n "${PROFILE:-}" ]; then
    case $PROFILE in
        a) url="$GW/legacy"; lua="$HERE/wrk-mcp.lua" ;;
        b) url="$GW/modern"; lua="$HERE/wrk-mcp-2026.lua" ;;
        c) url="$GW/legacy"; lua="$HERE/wrk-mcp-2026.lua" ;;
        *) die "PROFILE must be a, b or c" ;;
    esac
    OUT=${PROFILE_OUT:-/tmp/mcpctl-profile-$PROFILE}
    perf_start "$SERVER_PID" "$OUT" || die "cannot profile"
    run "$PROFILE" "$url" "$lua"
    perf_finish "$OUT"
    say "profile $PROFILE: $(awk -v c="${CPU[$PROFILE]}" -v n="${REQ[$PROFILE]}" 'BEGIN {printf "%.1f", c * 1e6 / n}') µs CPU/req; folded stacks and flame.svg in $OUT"
    exit 0
fi

A="a 2025-11-25 → 2025-11-25"; B="b 2026-07-28 → 2026-07-28"; C="c 2026-07-28 → 2025-11-25"
for label in "$A" "$B" "$C" "$C" "$B" "$A"; do
    case $label in
        a*) run "$label" "$GW/legacy" "$HERE/wrk-mcp.lua" ;;
        b*) run "$label" "$GW/modern" "$HERE/wrk-mcp-2026.lua" ;;
        c*) run "$label" "$GW/legacy" "$HERE/wrk-mcp-2026.lua" ;;
    esac
done

printf '\n# mcpctl MCP revisions benchmark — %s — %s CPUs; wrk -t%s -c%s, 2 × %ss per run (a b c c b a)\n' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$THREADS" "$CONNECTIONS" "$DURATION"
printf '# load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %10s %14s %16s %8s %18s\n' run req/s p50_ms p99_ms non2xx server_cpu_us/req
rps() { awk -v n="${REQ[$1]}" -v s="${SECS[$1]}" 'BEGIN {printf "%.1f", n / s}'; }
us() { awk -v c="${CPU[$1]}" -v n="${REQ[$1]}" 'BEGIN {printf "%.1f", c * 1e6 / n}'; }
for label in "$A" "$B" "$C"; do
    printf '%-28s %10s %14s %16s %8s %18s\n' "$label" "$(rps "$label")" "${P50[$label]% }" "${P99[$label]% }" "${NON2XX[$label]}" "$(us "$label")"
done
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.3f", x / y}'; }
printf '\nratio b/a  req/s %s   cpu/req %s   (2026-07-28 pass-through vs 2025-11-25; target cpu/req <= 1)\n' \
    "$(ratio "$(rps "$B")" "$(rps "$A")")" "$(ratio "$(us "$B")" "$(us "$A")")"
printf 'ratio c/a  req/s %s   cpu/req %s   (2026-07-28 client, gateway-held 2025-11-25 session)\n' \
    "$(ratio "$(rps "$C")" "$(rps "$A")")" "$(ratio "$(us "$C")" "$(us "$A")")"
denied=$("$BIN" audit list --source mcp --decision deny --limit 5 --json | grep -c '"seq"' || true)
printf 'denied mcp rows (should be 0): %s; audit verify: %s\n' "$denied" "$("$BIN" audit verify 2>&1 | head -n1)"
