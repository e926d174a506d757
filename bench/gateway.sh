#!/usr/bin/env bash
# Gateway benchmark: an authenticated, audited MCP tools/call through
# `mcpctl serve` against the same call made directly to the upstream. The upstream is nginx on
# loopback returning one fixed JSON-RPC result (the ceiling); load comes from wrk on the same
# machine, same concurrency, same run. It also runs (c): nginx itself as a bare reverse proxy to the same
# upstream, i.e. what one proxy hop without authentication or audit costs when client, proxy and upstream
# share the cores. Targets, against that hop: gateway req/s >= 0.6 x hop req/s (b/c) at c=32 and c=256,
# and p99 added latency (p99 through it minus p99 direct) at c=1 <= 2 x the hop's.
#
# Usage: bench/gateway.sh
# Environment:
#   MCPCTL_BIN      mcpctl binary (default: build .build/release/mcpctl with `swift build -c release`)
#   DURATION        seconds per wrk run (default 15)
#   THREADS         wrk threads (default 2)
#   CONNECTIONS     space-separated concurrency levels (default "1 32 256"; peak RSS is read after each)
#   INFO_LOG=1      also run the gateway once more at --log-level info (request log to a file)
#   PYTHON_BASELINE=0  skip (d), the Python FastMCP proxy with a token verifier (bench/fastmcp_proxy.py,
#                   run from .venv-mcp1, made by .ci/setup-python when missing) at the first concurrency
#   SERVE_ARGS      more options for `mcpctl serve`, e.g. "--audit-sync normal" (what an fsync per group commit costs)
#   KEEP=1          keep the temp directory (store, logs, nginx config)
# Needs nginx and wrk (installed from Debian with apt-get when missing and running as root), curl.
# Everything listens on 127.0.0.1 only; every run is bounded by DURATION.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-"1 32 256"}
INFO_LOG=${INFO_LOG:-0}
PYTHON_BASELINE=${PYTHON_BASELINE:-1}

say() { printf '%s\n' "$*" >&2; }
die() { say "gateway.sh: $*"; exit 1; }

# --- tools ---------------------------------------------------------------------------------------
. "$ROOT/bench/lib.sh"
need_load_tools || die "nginx, wrk and curl are needed"

if [ -n "${MCPCTL_BIN:-}" ]; then
    BIN=$MCPCTL_BIN
else
    say "building mcpctl (release)…"
    (cd "$ROOT" && swift build -c release >/dev/null)
    BIN=$ROOT/.build/release/mcpctl
fi
[ -x "$BIN" ] || die "no mcpctl binary at $BIN"

# --- temp dir and cleanup --------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/mcpctl-gwbench.XXXXXX)
NGINX_PID=""
SERVER_PID=""
PY_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    [ -n "$PY_PID" ] && kill "$PY_PID" 2>/dev/null && wait "$PY_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. nginx, the upstream ceiling ---------------------------------------------------------------
start_nginx_upstream "$WORK/nginx" || die "nginx did not start"

# --- 2. a store: user, app, grant, tool scope, token -----------------------------------------------
export MCPCTL_DB=$WORK/store.db
export NO_COLOR=1
EMAIL=bench@example.com
"$BIN" init >/dev/null
"$BIN" user add "$EMAIL" --name Bench </dev/null >/dev/null 2>&1
"$BIN" app add bench --env prod --upstream "http://127.0.0.1:$NGINX_PORT/" >/dev/null
"$BIN" grant add "$EMAIL" --app bench --env prod --role editor >/dev/null
# The gateway has never seen a tools/list from nginx: without an override `echo` would need delete.
"$BIN" tool scope bench echo write >/dev/null
TOKEN=$("$BIN" token create --email "$EMAIL" --name bench --scopes read,write --expires never 2>/dev/null)
[ -n "$TOKEN" ] || die "token create printed nothing"

# --- 3. mcpctl serve --------------------------------------------------------------------------------
GW_PORT=$(free_port)
start_server() { # LOG_LEVEL STDERR_FILE
    # wrk is one client address holding every connection: lift the per-address cap (default 64) for it.
    # shellcheck disable=SC2086
    "$BIN" serve --listen "127.0.0.1:$GW_PORT" --log-level "$1" --max-connections-per-address 100000 ${SERVE_ARGS:-} 2>"$2" &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$GW_PORT/healthz" "$SERVER_PID" || { cat "$2" >&2; die "mcpctl serve did not start"; }
}
stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
start_server error "$WORK/serve.log"
GW_URL="http://127.0.0.1:$GW_PORT/mcp/bench/prod"
UP_URL="http://127.0.0.1:$NGINX_PORT/"
PROXY_URL="http://127.0.0.1:$PROXY_PORT/"

# One call by hand: the gateway must answer 200 with the upstream's result.
BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}'
probe=$(curl -s -m 5 -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' --data "$BODY" "$GW_URL")
[ "${probe##*$'\n'}" = 200 ] || die "probe through the gateway failed: $probe"
say "probe: $(head -n1 <<<"$probe")"

# --- 4. wrk ------------------------------------------------------------------------------------------
field() { wrk_field "$@"; }
run_wrk() { # LABEL CONNECTIONS URL [TOKEN]
    local out
    out=$(WRK_TOKEN="${4:-}" wrk -t"$(( THREADS < $2 ? THREADS : $2 ))" -c"$2" -d"${DURATION}s" --timeout 10s -s "$HERE/wrk-mcp.lua" "$3" 2>&1) ||
        { say "$out"; die "wrk failed"; }
    local line
    line=$(grep '^RESULT' <<<"$out") || { say "$out"; die "no RESULT line from wrk"; }
    printf '%s\n' "$line"
}
# CPU seconds (user+system) used so far by the given PIDs (all their threads), from /proc/PID/stat.
CLK_TCK=$(getconf CLK_TCK)
cpu_secs() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
             awk -v t="$t" -v hz="$CLK_TCK" 'BEGIN {printf "%.3f", t / hz}'; }
us_per_req() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {if (n > 0) printf "%.0f", (b - a) * 1e6 / n; else print "-"}'; }
audit_seq() { "$BIN" audit head --json | sed -n 's/.*"seq":\([0-9]*\).*/\1/p'; }
count_fsyncs=0
command -v perf >/dev/null 2>&1 && perf stat -e syscalls:sys_enter_fdatasync -- true >/dev/null 2>&1 && count_fsyncs=1

printf '\n# mcpctl gateway benchmark — %s — %s CPUs (%s)\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
printf '# wrk -t%s -d%ss; upstream nginx %s (%s workers); tools/call body %d bytes\n' "$THREADS" "$DURATION" \
    "$("$NGINX" -v 2>&1 | sed 's|.*/||')" "$(nproc)" "${#BODY}"
printf '# load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %5s %10s %9s %9s %9s %8s %12s\n' run conns req/s p50_ms p99_ms max_ms non2xx server_cpu_us/req
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')

total_wrk=0
seq_before=$(audit_seq)
fsyncs_total=0
rss_kb=""
declare -A NGINX_RPS
declare -A GATEWAY_RPS
for c in $CONNECTIONS; do
    # shellcheck disable=SC2086
    t0=$(cpu_secs $NGINX_WORKERS)
    a=$(run_wrk nginx "$c" "$UP_URL")
    # shellcheck disable=SC2086
    t1=$(cpu_secs $NGINX_WORKERS)
    printf '%-22s %5s %10s %9s %9s %9s %8s %12s\n' "a nginx direct" "$c" "$(field "$a" rps)" "$(field "$a" p50_ms)" \
        "$(field "$a" p99_ms)" "$(field "$a" max_ms)" "$(field "$a" non2xx)" "$(us_per_req "$t0" "$t1" "$(field "$a" requests)")"
    # (c) nginx as a bare reverse proxy in front of the same upstream: the cost of one proxy hop here.
    p=$(run_wrk nginx-proxy "$c" "$PROXY_URL")
    printf '%-22s %5s %10s %9s %9s %9s %8s %12s\n' "c nginx proxy hop" "$c" "$(field "$p" rps)" "$(field "$p" p50_ms)" \
        "$(field "$p" p99_ms)" "$(field "$p" max_ms)" "$(field "$p" non2xx)" "-"
    if [ "$count_fsyncs" = 1 ]; then
        perf stat -x, -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync -p "$SERVER_PID" -o "$WORK/perf-$c.txt" &
        perf_pid=$!
    fi
    t0=$(cpu_secs "$SERVER_PID")
    b=$(run_wrk gateway "$c" "$GW_URL" "$TOKEN")
    t1=$(cpu_secs "$SERVER_PID")
    if [ "$count_fsyncs" = 1 ]; then
        kill -INT "$perf_pid" 2>/dev/null; wait "$perf_pid" 2>/dev/null || true
        n=$(awk -F, '/sys_enter_f/ {s += $1} END {print s+0}' "$WORK/perf-$c.txt")
        fsyncs_total=$((fsyncs_total + n))
    fi
    printf '%-22s %5s %10s %9s %9s %9s %8s %12s\n' "b mcpctl gateway" "$c" "$(field "$b" rps)" "$(field "$b" p50_ms)" \
        "$(field "$b" p99_ms)" "$(field "$b" max_ms)" "$(field "$b" non2xx)" "$(us_per_req "$t0" "$t1" "$(field "$b" requests)")"
    printf '%-22s %5s %10s   (gateway vs direct, for scale)\n' "ratio b/a" "$c" \
        "$(awk -v a="$(field "$a" rps)" -v b="$(field "$b" rps)" 'BEGIN {printf "%.3f", b / a}')"
    printf '%-22s %5s %10s   (nginx proxy hop vs direct, for scale)\n' "ratio c/a" "$c" \
        "$(awk -v a="$(field "$a" rps)" -v p="$(field "$p" rps)" 'BEGIN {printf "%.3f", p / a}')"
    ratio=$(awk -v p="$(field "$p" rps)" -v b="$(field "$b" rps)" 'BEGIN {printf "%.3f", b / p}')
    verdict=PASS; awk -v r="$ratio" 'BEGIN {exit !(r < 0.6)}' && verdict=BELOW-TARGET
    printf '%-22s %5s %10s   (gateway vs a bare nginx proxy hop; target >= 0.6: %s)\n' "ratio b/c" "$c" "$ratio" "$verdict"
    # Added latency: what the hop adds to the direct p99 (floored at 0.01 ms so a ratio stays defined).
    added_b=$(awk -v a="$(field "$a" p99_ms)" -v b="$(field "$b" p99_ms)" 'BEGIN {d = b - a; printf "%.3f", d < 0.01 ? 0.01 : d}')
    added_c=$(awk -v a="$(field "$a" p99_ms)" -v p="$(field "$p" p99_ms)" 'BEGIN {d = p - a; printf "%.3f", d < 0.01 ? 0.01 : d}')
    printf '%-22s %5s %10s   (p99 added by the gateway %s ms ÷ by the hop %s ms; target at c=1 <= 2)\n' "ratio p99 added b/c" "$c" \
        "$(awk -v b="$added_b" -v p="$added_c" 'BEGIN {printf "%.2f", b / p}')" "$added_b" "$added_c"
    NGINX_RPS[$c]=$(field "$a" rps)
    GATEWAY_RPS[$c]=$(field "$b" rps)
    errs=$(( $(field "$b" connect_err) + $(field "$b" read_err) + $(field "$b" write_err) + $(field "$b" timeout) ))
    [ "$errs" = 0 ] || say "warning: gateway run at c=$c had $errs socket errors/timeouts"
    total_wrk=$((total_wrk + $(field "$b" requests)))
    # --- 5. peak RSS under the highest concurrency (VmHWM is the high-water mark since start) ---
    rss_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$SERVER_PID/status")
    printf '%-22s %5s %10s\n' "mcpctl peak RSS (MiB)" "$c" "$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}')"
done

# --- (d) the gateway against a Python FastMCP proxy with a token verifier ----------------
if [ "$PYTHON_BASELINE" = 1 ]; then
    PY=$ROOT/.venv-mcp1/bin/python
    [ -x "$PY" ] || bash "$ROOT/.ci/setup-python" >/dev/null
    PY_PORT=$(free_port)
    "$PY" "$HERE/fastmcp_proxy.py" --port "$PY_PORT" --upstream "$UP_URL" \
        --token-sha256 "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" >"$WORK/py.out" 2>"$WORK/py.err" &
    PY_PID=$!
    for _ in $(seq 1 100); do grep -q READY "$WORK/py.out" 2>/dev/null && break; sleep 0.1; done
    grep -q READY "$WORK/py.out" || { cat "$WORK/py.err" >&2; die "the Python FastMCP proxy did not start"; }
    c=${CONNECTIONS%% *}
    t0=$(cpu_secs "$PY_PID")
    d=$(run_wrk python "$c" "http://127.0.0.1:$PY_PORT/mcp" "$TOKEN")
    t1=$(cpu_secs "$PY_PID")
    printf '\n%-22s %5s %10s %9s %9s %9s %8s %12s\n' "d Python FastMCP proxy" "$c" "$(field "$d" rps)" "$(field "$d" p50_ms)" \
        "$(field "$d" p99_ms)" "$(field "$d" max_ms)" "$(field "$d" non2xx)" "$(us_per_req "$t0" "$t1" "$(field "$d" requests)")"
    printf '%-22s %5s %10s   (target >= 10)\n' "ratio b/d" "$c" \
        "$(awk -v d="$(field "$d" rps)" -v b="${GATEWAY_RPS[$c]}" 'BEGIN {if (d > 0) printf "%.1f", b / d; else print "-"}')"
    kill "$PY_PID" 2>/dev/null; wait "$PY_PID" 2>/dev/null || true
    PY_PID=""
fi

# --- audit: every request has its row, the chain verifies ---------------------------------------------
sleep 0.5
seq_after=$(audit_seq)
rows=$((seq_after - seq_before))
printf '\naudit rows written by the gateway runs: %d; responses counted by wrk: %d (rows - responses = %d: requests\n' \
    "$rows" "$total_wrk" "$((rows - total_wrk))"
printf '  still in flight when wrk stopped its clock are audited but not counted; must be >= 0)\n'
[ "$rows" -ge "$total_wrk" ] || say "ERROR: fewer audit rows than acknowledged requests"
printf 'audit list --limit 1:\n'
"$BIN" audit list --limit 1 | sed 's/^/  /'
denied=$("$BIN" audit list --source mcp --decision deny --limit 5 --json | grep -c '"seq"' || true)
printf 'denied mcp rows (should be 0): %s\n' "$denied"
verify_start=$(date +%s.%N)
verify=$("$BIN" audit verify 2>&1) || { say "$verify"; die "audit verify FAILED"; }
printf 'audit verify: %s (%.1fs)\n' "$verify" "$(awk -v s="$verify_start" -v e="$(date +%s.%N)" 'BEGIN {print e - s}')"

# --- 6. group commit: rows per transaction (synchronous=FULL: one fdatasync of the WAL per commit) ---
if [ "$count_fsyncs" = 1 ] && [ "$fsyncs_total" -gt 0 ]; then
    printf 'group commit: %d rows, %d fdatasync/fsync calls by the server (≈ commits + checkpoints) → %.1f rows per sync\n' \
        "$rows" "$fsyncs_total" "$(awk -v r="$rows" -v f="$fsyncs_total" 'BEGIN {print r / f}')"
else
    printf 'group commit: not observable here (needs perf with syscall tracepoints)\n'
fi

# --- optional: the request log at info level (what a default `mcpctl serve` writes) --------------------
if [ "$INFO_LOG" = 1 ]; then
    stop_server
    start_server info "$WORK/serve-info.log"
    c=${CONNECTIONS%% *}
    t0=$(cpu_secs "$SERVER_PID")
    b=$(run_wrk gateway-info "$c" "$GW_URL" "$TOKEN")
    t1=$(cpu_secs "$SERVER_PID")
    printf '\n%-22s %5s %10s %9s %9s %9s %8s %12s\n' "b gateway, log info" "$c" "$(field "$b" rps)" "$(field "$b" p50_ms)" \
        "$(field "$b" p99_ms)" "$(field "$b" max_ms)" "$(field "$b" non2xx)" "$(us_per_req "$t0" "$t1" "$(field "$b" requests)")"
    printf '%-22s %5s %10s   (vs. the nginx run above; request log to a file: %s lines)\n' "ratio b/a, log info" "$c" \
        "$(awk -v a="${NGINX_RPS[$c]}" -v b="$(field "$b" rps)" 'BEGIN {printf "%.3f", b / a}')" "$(wc -l <"$WORK/serve-info.log")"
fi
stop_server
printf '# load average after: %s (the machine is shared: other work on it lowers every figure above)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
