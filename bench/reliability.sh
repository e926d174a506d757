#!/usr/bin/env bash
# Reliability suite: revocation, audit after kill -9 and CLI concurrency under load, against one store.
# It prints figures and never asserts on time; it exits 1 only when a correctness check fails.
#
#   1. Concurrency: 4 CLI writer loops (tokens, grants, users, apps/clients/tool scopes) on the same store
#      while wrk drives authenticated tools/call through `mcpctl serve` to an nginx upstream for DURATION s.
#      Checks: no CLI command fails (failures are counted by message; "database is locked"/SQLITE_BUSY named
#      apart), every CLI write has its cli audit row, no 5xx from the gateway, an mcp allow row with a 2xx status for every 2xx wrk counted
#      (rows >= responses), `mcpctl audit verify` passes.
#   2. Crashes: CRASH_CLIENTS clients, one token each, send tools/call in a loop, each request calling a tool
#      of its own name (audit rows carry the tool, not the arguments), and record the requests answered 2xx;
#      the server is killed with SIGKILL CRASHES times under that load and restarted, while the tokens and
#      grants CLI loops of part 1 go on. Checks: no CLI command fails, every
#      acknowledged request has an allow row with a 2xx status (matched by token id and tool name), no
#      request has two; `PRAGMA integrity_check` = ok after every restart; `audit verify` passes at the end.
#   3. Revocation under load: 32 connections share one token; `mcpctl token revoke` runs mid-load. Check:
#      no 2xx for any request sent (monotonic clock) after the revoke command returned.
#
# Usage: bench/reliability.sh
# Environment:
#   MCPCTL_BIN      mcpctl binary (default: bench/lib.sh's mcpctl_bin, .build-static/release/mcpctl)
#   DURATION        seconds of part 1 (default 60)
#   CRASHES         kill -9 rounds in part 2 (default 10)
#   CRASH_CLIENTS   clients (tokens) in part 2 (default 8)
#   CONNECTIONS     wrk connections in part 1 (default 32; `serve` caps connections per address)
#   THREADS         wrk threads (default 2)
#   KEEP=1          keep the temp directory (store, logs)
# Needs nginx, wrk, curl (installed from Debian when missing and running as root), sqlite3, python3.
# Everything listens on 127.0.0.1 only.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-60}
CRASHES=${CRASHES:-10}
CRASH_CLIENTS=${CRASH_CLIENTS:-8}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}

say() { printf '%s\n' "$*" >&2; }
die() { say "reliability.sh: $*"; exit 2; }

. "$ROOT/bench/lib.sh"
need_load_tools || die "nginx, wrk and curl are needed"
need sqlite3 sqlite3
need python3 python3
BIN=$(mcpctl_bin) || die "no mcpctl binary"
PY=python3

# --- temp dir, cleanup -------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/mcpctl-reliability.XXXXXX)
NGINX_PID="" SERVER_PID="" CLIENT_PID=""
WRITER_PIDS=()
cleanup() {
    local p
    for p in "${WRITER_PIDS[@]}" "$CLIENT_PID" "$SERVER_PID" "$NGINX_PID"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILED=0
check() { # NAME OK(0|1) DETAIL
    if [ "$2" = 1 ]; then printf '  PASS  %s: %s\n' "$1" "$3"; else printf '  FAIL  %s: %s\n' "$1" "$3"; FAILED=$((FAILED + 1)); fi
}
ge() { [ "$1" -ge "$2" ] && echo 1 || echo 0; }
eq() { [ "$1" = "$2" ] && echo 1 || echo 0; }
sql() { sqlite3 -cmd '.timeout 10000' "$MCPCTL_DB" "$@"; }

# --- upstream, store, server -----------------------------------------------------------------------------
start_nginx_upstream "$WORK/nginx" || die "nginx did not start"
export MCPCTL_DB=$WORK/store.db NO_COLOR=1
EMAIL=bench@example.com
"$BIN" init >/dev/null
"$BIN" user add "$EMAIL" --name Bench </dev/null >/dev/null 2>&1
"$BIN" app add bench --env prod --upstream "http://127.0.0.1:$NGINX_PORT/" >/dev/null
"$BIN" grant add "$EMAIL" --app bench --env prod --role editor >/dev/null
"$BIN" tool scope bench echo write >/dev/null   # nginx never answers tools/list: set the scope by hand
for u in w1 w2; do "$BIN" user add "$u@example.com" </dev/null >/dev/null 2>&1; done
# Part 2 calls a tool of a new name on every request: the gateway has not seen them in a tools/list, so
# they need the delete scope.
"$BIN" user add crash@example.com </dev/null >/dev/null 2>&1
"$BIN" grant add crash@example.com --app bench --env prod --role admin >/dev/null
new_token() { # NAME [EMAIL SCOPES] → "ID SECRET"
    "$BIN" token create --email "${2:-$EMAIL}" --name "$1" --scopes "${3:-read,write}" --expires never --json 2>/dev/null |
        $PY -c 'import json, sys; t = json.load(sys.stdin); print(t["id"], t["token"])'
}

GW_PORT=$(free_port)
GW_URL="http://127.0.0.1:$GW_PORT/mcp/bench/prod"
SERVE_OPTS=(--listen "127.0.0.1:$GW_PORT" --log-level error)
# Per-address limits, where this build has them: every client here is 127.0.0.1.
per_addr=$("$BIN" serve --help | grep -o -- '--max-connections-per-[a-z-]*' | head -n1 || true)
[ -n "$per_addr" ] && SERVE_OPTS+=("$per_addr" 256)
start_server() {
    "$BIN" serve "${SERVE_OPTS[@]}" 2>>"$WORK/serve.log" &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$GW_PORT/healthz" "$SERVER_PID" || { tail -n 20 "$WORK/serve.log" >&2; die "mcpctl serve did not start"; }
}
start_server

printf '\n# mcpctl reliability — %s — %s CPUs, load %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '# binary %s (%s); serve %s\n' "$BIN" "$("$BIN" --version)" "${SERVE_OPTS[*]}"

# =========================================================================================================
# 1. Concurrency: CLI writers + wrk on one store
# =========================================================================================================
printf '\n## 1. concurrency: 4 CLI writer loops + wrk -t%s -c%s for %s s\n' "$THREADS" "$CONNECTIONS" "$DURATION"
read -r WRK_TOKEN_ID WRK_TOKEN <<<"$(new_token wrk)"

# cli LOOP ARGS…: runs mcpctl, passes its stdout through, appends "ms ok" ("ms ok read" for a command that
# changes nothing) or "ms FAIL <command>: <first stderr line>" to $WORK/cli-LOOP.log.
cli() {
    local loop=$1 t0 t1 rc=0 out
    shift
    t0=$EPOCHREALTIME
    out=$("$BIN" "$@" 2>"$WORK/cli-$loop.err" </dev/null) || rc=$?
    t1=$EPOCHREALTIME
    local ms
    ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')
    if [ "$rc" = 0 ]; then
        echo "$ms ok$([ "$1" = can-i ] && echo ' read')" >>"$WORK/cli-$loop.log"
    else
        echo "$ms FAIL $1 $2: $(head -n1 "$WORK/cli-$loop.err")" >>"$WORK/cli-$loop.log"
    fi
    printf '%s' "$out"
}
# The writer loops run until END (epoch seconds) or until $WORK/stop exists; P prefixes their log names.
running() { [ "$(date +%s)" -lt "$END" ] && [ ! -e "$WORK/stop" ]; }
P=""
start_writers() { # LOOP…
    local w
    for w in "$@"; do
        : >"$WORK/cli-$P$w.log"
        "writer_$w" &
        WRITER_PIDS+=($!)
    done
}
wait_writers() {
    local p
    for p in "${WRITER_PIDS[@]}"; do wait "$p" || true; done
    WRITER_PIDS=()
}
# cli_summary LOOP…: a table of the loops' logs; sets cli_total, cli_failed, cli_busy, cli_writes.
cli_summary() {
    local w log n f b p50 p99 mx
    cli_total=0 cli_failed=0 cli_busy=0 cli_writes=0
    printf '%-16s %8s %8s %9s %9s %9s  %s\n' loop commands failed p50_ms p99_ms max_ms "failures by message"
    for w in "$@"; do
        log=$WORK/cli-$w.log
        n=$(wc -l <"$log"); f=$(grep -c ' FAIL ' "$log" || true)
        b=$(grep ' FAIL ' "$log" | grep -ci 'busy\|locked' || true)
        cli_total=$((cli_total + n)); cli_failed=$((cli_failed + f)); cli_busy=$((cli_busy + b))
        cli_writes=$((cli_writes + $(grep -c ' ok$' "$log" || true)))
        read -r p50 p99 mx < <(awk '{print $1}' "$log" | sort -n |
            awk '{a[NR] = $1} END {if (NR == 0) {print "- - -"; exit} i50 = int(NR * 0.5); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1; print a[i50], a[i99], a[NR]}')
        printf '%-16s %8s %8s %9s %9s %9s  %s\n' "$w" "$n" "$f" "$p50" "$p99" "$mx" \
            "$(grep ' FAIL ' "$log" | cut -d' ' -f3- | sort | uniq -c | sort -rn | head -n3 | sed 's/^ *//' | paste -sd';' -)"
    done
}
json_id() { sed -n 's/.*"\(id\|client_id\)":"\([^"]*\)".*/\2/p' | head -n1; }

writer_tokens() { # create → rotate → revoke the new one (the old died at rotation)
    local id new
    while running; do
        id=$(cli "${P}tokens" token create --email w1@example.com --name churn --scopes read --json | json_id)
        [ -n "$id" ] || continue
        new=$(cli "${P}tokens" token rotate "$id" --json | json_id)
        [ -n "$new" ] && cli "${P}tokens" token revoke "$new" >/dev/null
    done
}
writer_grants() { # grant add/revoke on the app the gateway is serving, plus a can-i read
    while running; do
        cli "${P}grants" grant add w2@example.com --app bench --env prod --role viewer >/dev/null
        cli "${P}grants" can-i w2@example.com read --app bench --env prod >/dev/null
        cli "${P}grants" grant revoke w2@example.com --app bench --env prod >/dev/null
    done
}
writer_users() { # a user's whole life: add, token, revoke everything, disable, remove
    local i=0 u
    while running; do
        i=$((i + 1)); u="churn$i@example.com"
        cli "${P}users" user add "$u" >/dev/null
        cli "${P}users" token create --email "$u" --scopes read >/dev/null
        cli "${P}users" token revoke --email "$u" --all >/dev/null
        cli "${P}users" user disable "$u" >/dev/null
        cli "${P}users" user remove "$u" >/dev/null
    done
}
writer_policy() { # environments, tool scopes and OAuth clients
    local i=0 cid
    while running; do
        i=$((i + 1))
        cli "${P}policy" app add bench --env "s$i" --upstream "http://127.0.0.1:$NGINX_PORT/" >/dev/null
        cli "${P}policy" tool scope bench spare "$([ $((i % 2)) = 0 ] && echo write || echo auto)" >/dev/null
        cli "${P}policy" app remove bench --env "s$i" >/dev/null
        cid=$(cli "${P}policy" client register --name "churn $i" --redirect-uri "http://127.0.0.1:9/cb" --json | json_id)
        [ -n "$cid" ] && cli "${P}policy" client revoke "$cid" >/dev/null
    done
}

seq_before=$(sql "SELECT seq FROM audit_head")
END=$(( $(date +%s) + DURATION ))
start_writers tokens grants users policy
wrk_out=$(WRK_MCP_LUA="$HERE/wrk-mcp.lua" WRK_TOKEN="$WRK_TOKEN" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$HERE/reliability-wrk.lua" "$GW_URL" 2>&1) ||
    { say "$wrk_out"; die "wrk failed"; }
wait_writers
result=$(grep '^RESULT' <<<"$wrk_out") || { say "$wrk_out"; die "no RESULT line from wrk"; }
status=$(grep '^STATUS' <<<"$wrk_out") || die "no STATUS line from wrk"

cli_summary tokens grants users policy

s2xx=$(wrk_field "$status" s2xx); s5xx=$(wrk_field "$status" s5xx)
printf 'wrk: %s requests, %s req/s, p50 %s ms, p99 %s ms, max %s ms; by status %s; socket errors connect %s read %s write %s timeout %s\n' \
    "$(wrk_field "$result" requests)" "$(wrk_field "$result" rps)" "$(wrk_field "$result" p50_ms)" "$(wrk_field "$result" p99_ms)" \
    "$(wrk_field "$result" max_ms)" "$(wrk_field "$status" codes)" "$(wrk_field "$result" connect_err)" \
    "$(wrk_field "$result" read_err)" "$(wrk_field "$result" write_err)" "$(wrk_field "$result" timeout)"
sleep 0.5
rows=$(sql "SELECT count(*) FROM audit WHERE source = 'mcp' AND token_id = '$WRK_TOKEN_ID' AND decision = 'allow' AND status BETWEEN 200 AND 299")
rows_5xx=$(sql "SELECT count(*) FROM audit WHERE source = 'mcp' AND status >= 500")
cli_rows=$(sql "SELECT count(*) FROM audit WHERE source = 'cli' AND seq > $seq_before")
verify=$("$BIN" audit verify 2>&1) && verify_ok=1 || verify_ok=0
check "CLI busy/locked" "$(eq "$cli_busy" 0)" "$cli_busy of $cli_total commands surfaced SQLITE_BUSY / database is locked"
check "CLI failures" "$( [ "$cli_failed" = 0 ] && [ "$cli_total" -gt 0 ] && echo 1 || echo 0)" "$cli_failed of $cli_total commands failed"
check "CLI writes audited" "$(ge "$cli_rows" "$cli_writes")" "$cli_rows cli audit rows for $cli_writes successful writes"
check "gateway 5xx" "$(eq "$((s5xx + rows_5xx))" 0)" "wrk saw $s5xx, the audit log has $rows_5xx mcp rows with status >= 500"
check "every 2xx audited" "$(ge "$rows" "$s2xx")" "$rows allow rows with a 2xx status for the wrk token, $s2xx 2xx answers counted by wrk (surplus $((rows - s2xx)): in flight when wrk stopped, at most $CONNECTIONS)"
check "audit verify" "$verify_ok" "$verify"

# =========================================================================================================
# 2. kill -9 under load
# =========================================================================================================
printf '\n## 2. crashes: %s × kill -9 of the server under load from %s clients (one token each)\n' "$CRASHES" "$CRASH_CLIENTS"
: >"$WORK/crash-tokens"; : >"$WORK/crash-ids"
for i in $(seq 1 "$CRASH_CLIENTS"); do
    read -r id secret <<<"$(new_token "crash$i" crash@example.com read,write,delete)"
    echo "$secret" >>"$WORK/crash-tokens"; echo "$id" >>"$WORK/crash-ids"
done
$PY "$HERE/reliability-client.py" acked --url "$GW_URL" --tokens "$WORK/crash-tokens" --out "$WORK/crash.json" &
CLIENT_PID=$!
# Two CLI writer loops go on through the crashes: the first command after a kill -9 may find a WAL to recover.
P=crash- END=$(( $(date +%s) + 86400 ))
start_writers tokens grants
integrity_bad=0
restart_ms=()
printf '%-6s %9s %10s %12s  %s\n' crash "load_s" "restart_ms" "audit_rows" integrity_check
for i in $(seq 1 "$CRASHES"); do
    load_ms=$((1000 + RANDOM % 2000))
    sleep "$(awk -v m="$load_ms" 'BEGIN {print m / 1000}')"
    kill -KILL "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    t0=$EPOCHREALTIME
    start_server
    t1=$EPOCHREALTIME
    ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", (b - a) * 1000}')
    restart_ms+=("$ms")
    ic=$(sql "PRAGMA integrity_check" | paste -sd' ' -)
    [ "$ic" = ok ] || integrity_bad=$((integrity_bad + 1))
    printf '%-6s %9s %10s %12s  %s\n' "$i" "$(awk -v m="$load_ms" 'BEGIN {printf "%.1f", m / 1000}')" "$ms" \
        "$(sql "SELECT seq FROM audit_head")" "$ic"
done
sleep 1
touch "$WORK/stop"
wait_writers
kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || die "the crash client failed"
CLIENT_PID=""
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""

check_out=$($PY "$HERE/reliability-client.py" check-acked --db "$MCPCTL_DB" --ids "$WORK/crash-ids" --out "$WORK/crash.json") ||
    { say "$check_out"; die "the crash check failed to run"; }
grep -v '^LOST=' <<<"$check_out"
summary=$(grep '^LOST=' <<<"$check_out")
lost=$(wrk_field " $summary" LOST); dups=$(wrk_field " $summary" DUPLICATES); acked_total=$(wrk_field " $summary" ACKED)
printf 'restart to /healthz: %s ms (min/median/max over %s restarts)\n' \
    "$(printf '%s\n' "${restart_ms[@]}" | sort -n | awk '{a[NR] = $1} END {printf "%s/%s/%s", a[1], a[int((NR + 1) / 2)], a[NR]}')" "$CRASHES"
ic=$(sql "PRAGMA integrity_check" | paste -sd' ' -)
verify=$("$BIN" audit verify 2>&1) && verify_ok=1 || verify_ok=0
cli_summary crash-tokens crash-grants
check "CLI through the crashes" "$( [ "$cli_failed" = 0 ] && [ "$cli_total" -gt 0 ] && echo 1 || echo 0)" "$cli_failed of $cli_total commands failed ($cli_busy with busy/locked)"
check "no acknowledged row lost" "$(eq "$lost" 0)" "$lost of $acked_total acknowledged requests have no allow row with a 2xx status (matched by tool name)"
check "no request audited twice" "$(eq "$dups" 0)" "$dups requests have more than one row"
check "integrity_check" "$(eq "$integrity_bad$ic" 0ok)" "after every restart and at the end: $ic ($integrity_bad bad)"
check "audit verify" "$verify_ok" "$verify"

# =========================================================================================================
# 3. revocation under load
# =========================================================================================================
printf '\n## 3. revocation under load: 32 connections on one token, `token revoke` mid-load\n'
start_server
read -r REV_ID REV_TOKEN <<<"$(new_token revoke-me)"
rev_out=$($PY "$HERE/reliability-client.py" revoke --url "$GW_URL" --token "$REV_TOKEN" --token-id "$REV_ID" \
    --mcpctl "$BIN" --connections 32 --before 3 --after 3) || { say "$rev_out"; die "the revocation client failed"; }
grep -v '^VIOLATIONS=' <<<"$rev_out"
violations=$(sed -n 's/^VIOLATIONS=//p' <<<"$rev_out")
check "revocation" "$(eq "$violations" 0)" "$violations requests sent after \`token revoke\` returned were answered 2xx"
verify=$("$BIN" audit verify 2>&1) && verify_ok=1 || verify_ok=0
check "audit verify" "$verify_ok" "$verify"

printf '\n# load average after: %s. %s check(s) failed.\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$FAILED"
[ "$FAILED" = 0 ] || exit 1
