#!/usr/bin/env bash
# PostgreSQL store and replicas: the figures of a shared store, in one run, every ratio against a baseline
# measured in the same run. The upstream is nginx answering one fixed tools/call result (bench/lib.sh);
# PostgreSQL 15 is a throwaway cluster started here (bench/postgres-cluster.sh), durable (fsync on) unless
# PG_FSYNC=off; the SQLite store and the cluster live side by side in STORE_DIR (same disk).
#
#   1. One replica, PostgreSQL vs SQLite: authenticated, audited tools/call straight to `mcpctl serve` under
#      wrk -cCONNECTIONS, runs interleaved (sqlite pg pg sqlite per round). req/s, and server CPU per request:
#      mcpctl alone, and mcpctl + every PostgreSQL process (backends, WAL writer, checkpointer) for the PG
#      store, since SQLite does that work inside mcpctl. Target: PG req/s ≥ 0.8 × SQLite.
#   2. Two replicas on the same PostgreSQL database behind nginx (upstream block, round robin) vs one replica
#      behind the same nginx (bench/nginx-replicas.conf), interleaved (one two two one). req/s ratio.
#   3. Revocation across replicas: REVOKE_THREADS connections straight to each of the two replicas on one
#      token; `mcpctl token revoke` mid-load (bench/postgres-client.py revoke). Per replica, when it began
#      refusing relative to the revoke's return, and the requests ACCEPTED (200 with a result) although sent
#      after it returned: must be 0. REVOKES times, a fresh token each.
#   4. kill -9 of one replica under load: CRASH_CLIENTS clients through nginx (two replicas), each request a
#      tool of its own name (bench/reliability-client.py acked); CRASHES times a replica (alternating) is
#      killed with SIGKILL and restarted. Then every acknowledged (2xx) request must have its allow row in
#      PostgreSQL (read back with `mcpctl audit export`), none twice, and `mcpctl audit verify` must pass.
#   5. When PG/SQLite req/s < 0.8 (PROFILE=auto) or PROFILE=1: a profile of the PG path — perf (cpu-clock) of
#      the replica during one wrk run, top symbols, folded stacks and an SVG flame graph (bench/flamegraph.py),
#      and from pg_stat_statements the statements, transactions and server time per request.
#
# Usage: bench/postgres.sh
# Environment:
#   MCPCTL_BIN       mcpctl binary (default: build .build/release/mcpctl with `swift build -c release`)
#   DURATION         seconds per wrk run (default 15)
#   ROUNDS           interleaved rounds of parts 1 and 2 (default 1: a b b a)
#   CONNECTIONS      wrk connections (default 32); THREADS wrk threads (default 2)
#   REVOKE_THREADS   connections per replica in part 3 (default 8); REVOKES rounds of it (default 3)
#   CRASH_CLIENTS    clients in part 4 (default 8); CRASHES kills in part 4 (default 4)
#   STORE_DIR        where the SQLite store and the PostgreSQL cluster live (default /var/tmp: a disk, not tmpfs)
#   PG_FSYNC=off     a non-durable cluster (fsync, full_page_writes, synchronous_commit off): faster, not honest
#   PG_STAT_STATEMENTS=0  do not load pg_stat_statements (part 5 then has no statement counts)
#   PROFILE          auto (default), 1 (always), 0 (never); PROFILE_OUT (default $WORK/profile, kept with KEEP=1)
#   KEEP=1           keep the temp directory (stores, logs, profile)
# Needs nginx, wrk, curl, python3, postgresql-15 (all installed from Debian with apt-get when missing and
# running as root); perf for part 5. Everything listens on 127.0.0.1 only. Exit 1 when a correctness check
# fails (accepted after revoke, lost or duplicated audit row, audit verify), 2 when it could not run.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-1}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
REVOKE_THREADS=${REVOKE_THREADS:-8}
REVOKES=${REVOKES:-3}
CRASH_CLIENTS=${CRASH_CLIENTS:-8}
CRASHES=${CRASHES:-4}
STORE_DIR=${STORE_DIR:-/var/tmp}
PROFILE=${PROFILE:-auto}

say() { printf '%s\n' "$*" >&2; }
die() { say "postgres.sh: $*"; exit 2; }

# --- tools -----------------------------------------------------------------------------------------------
. "$ROOT/bench/lib.sh"
. "$ROOT/bench/postgres-cluster.sh"
need_load_tools || die "nginx, wrk and curl are needed"
need python3 python3
find_postgres || die "postgresql-15 is needed"
if [ -n "${MCPCTL_BIN:-}" ]; then
    BIN=$MCPCTL_BIN
else
    say "building mcpctl (release)…"
    (cd "$ROOT" && swift build -c release --product mcpctl >/dev/null) || die "build failed"
    BIN=$ROOT/.build/release/mcpctl
fi
[ -x "$BIN" ] || die "no mcpctl binary at $BIN"
PY=python3

# --- temp dir, cleanup ---------------------------------------------------------------------------------------
WORK=$(mktemp -d "$STORE_DIR/mcpctl-pgbench.XXXXXX")
NGINX_PID="" FRONT_PID="" CLIENT_PID="" PERF_PID="" PERF_PG_PID=""
declare -A PID=()
cleanup() {
    local p
    for p in "$PERF_PID" "$PERF_PG_PID" "$CLIENT_PID" "${PID[@]}" "$FRONT_PID" "$NGINX_PID"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
    done
    stop_postgres
    if [ "${KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILED=0
check() { # NAME OK(0|1) DETAIL
    if [ "$2" = 1 ]; then printf '  PASS  %s: %s\n' "$1" "$3"; else printf '  FAIL  %s: %s\n' "$1" "$3"; FAILED=$((FAILED + 1)); fi
}

# --- upstream, PostgreSQL, the two stores --------------------------------------------------------------------
start_nginx_upstream "$WORK/nginx" || die "nginx did not start"
start_postgres "$WORK/pg" || die "PostgreSQL did not start"
export NO_COLOR=1
EMAIL=bench@example.com
SQLITE_DB=$WORK/store.db

# setup_store DB: the users, app, grants and tool scope every part uses; prints "TOKEN_ID TOKEN" for wrk.
setup_store() {
    local db=$1
    MCPCTL_DB=$db "$BIN" init >/dev/null
    MCPCTL_DB=$db "$BIN" user add "$EMAIL" --name Bench </dev/null >/dev/null 2>&1
    MCPCTL_DB=$db "$BIN" app add bench --env prod --upstream "http://127.0.0.1:$NGINX_PORT/" >/dev/null
    MCPCTL_DB=$db "$BIN" grant add "$EMAIL" --app bench --env prod --role editor >/dev/null
    MCPCTL_DB=$db "$BIN" tool scope bench echo write >/dev/null   # nginx never answers tools/list
    # Part 4 calls a tool of a new name on every request: unseen tools need the delete scope (admin).
    MCPCTL_DB=$db "$BIN" user add crash@example.com </dev/null >/dev/null 2>&1
    MCPCTL_DB=$db "$BIN" grant add crash@example.com --app bench --env prod --role admin >/dev/null
    new_token "$db" wrk
}
new_token() { # DB NAME [EMAIL SCOPES] → "ID SECRET"
    MCPCTL_DB=$1 "$BIN" token create --email "${3:-$EMAIL}" --name "$2" --scopes "${4:-read,write}" --expires never --json 2>/dev/null |
        $PY -c 'import json, sys; t = json.load(sys.stdin); print(t["id"], t["token"])'
}
read -r _ SQLITE_TOKEN <<<"$(setup_store "$SQLITE_DB")"
read -r _ PG_TOKEN <<<"$(setup_store "$PG_URL")"
[ -n "$SQLITE_TOKEN" ] && [ -n "$PG_TOKEN" ] || die "token create printed nothing"

# --- servers: s (SQLite), r1 and r2 (replicas on PostgreSQL), nginx in front of r1 / r1+r2 --------------------
# pick_port VAR: a free port none of this run's listeners has taken (free_port alone may repeat itself).
USED_PORTS=" $NGINX_PORT $PROXY_PORT $PG_PORT "
pick_port() {
    local p
    while :; do
        p=$(free_port) || return 1
        case $USED_PORTS in *" $p "*) continue ;; esac
        USED_PORTS+="$p "
        printf -v "$1" '%s' "$p"
        return 0
    done
}
declare -A PORT=()
for s in s r1 r2; do pick_port "PORT[$s]"; done
pick_port FRONT_ONE; pick_port FRONT_TWO
start_server() { # NAME
    local name=$1 db=$PG_URL
    [ "$name" = s ] && db=$SQLITE_DB
    # One client address holds every connection (wrk, nginx): lift the per-address cap; keep nginx's idle
    # upstream connections open between the parts.
    MCPCTL_DB=$db "$BIN" serve --listen "127.0.0.1:${PORT[$name]}" --public-url "http://127.0.0.1:$FRONT_TWO" \
        --log-level error --max-connections-per-address 100000 --keep-alive-timeout 5m 2>>"$WORK/serve-$name.log" &
    PID[$name]=$!
    wait_http "http://127.0.0.1:${PORT[$name]}/healthz" "${PID[$name]}" || { tail -n 20 "$WORK/serve-$name.log" >&2; die "mcpctl serve ($name) did not start"; }
}
for s in s r1 r2; do start_server "$s"; done
mkdir -p "$WORK/front"
user_line=""; [ "$(id -u)" = 0 ] && user_line="user root;"
sed -e "s|@DIR@|$WORK/front|g" -e "s|@ONE_PORT@|$FRONT_ONE|g" -e "s|@TWO_PORT@|$FRONT_TWO|g" -e "s|@USER@|$user_line|" \
    -e "s|@R1@|127.0.0.1:${PORT[r1]}|g" -e "s|@R2@|127.0.0.1:${PORT[r2]}|g" "$HERE/nginx-replicas.conf" >"$WORK/front/nginx.conf"
"$NGINX" -p "$WORK/front" -c "$WORK/front/nginx.conf" -e "$WORK/front/nginx-error.log" 2>>"$WORK/front/nginx-error.log" &
FRONT_PID=$!
wait_http "http://127.0.0.1:$FRONT_TWO/healthz" "$FRONT_PID" || { cat "$WORK/front/nginx-error.log" >&2; die "the front nginx did not start"; }

url() { printf 'http://127.0.0.1:%s/mcp/bench/prod' "$1"; }
BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}'
probe() { # URL TOKEN
    local out
    out=$(curl -s -m 5 -w '\n%{http_code}' -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-11-25' --data "$BODY" "$1")
    [ "${out##*$'\n'}" = 200 ] || die "probe of $1 failed: $out"
}
probe "$(url "${PORT[s]}")" "$SQLITE_TOKEN"
for p in "${PORT[r1]}" "${PORT[r2]}" "$FRONT_ONE" "$FRONT_TWO"; do probe "$(url "$p")" "$PG_TOKEN"; done

# --- measuring ----------------------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
cpu_secs() { # PID… → CPU seconds (user+system, all threads) used so far
    local t=0 p
    for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    awk -v t="$t" -v hz="$CLK_TCK" 'BEGIN {printf "%.3f", t / hz}'
}
# PostgreSQL's CPU so far: the postmaster, its live children (backends, WAL writer, checkpointer…) and the
# children it has reaped (cutime/cstime), so a backend that ended in between still counts.
pg_cpu() {
    local master t
    master=$(postgres_pids | head -n1)
    [ -n "$master" ] || { echo 0; return; }
    # shellcheck disable=SC2046
    t=$(awk '{print $16 + $17}' "/proc/$master/stat" 2>/dev/null || echo 0)
    # shellcheck disable=SC2046
    awk -v a="$(cpu_secs $(postgres_pids))" -v t="$t" -v hz="$CLK_TCK" 'BEGIN {printf "%.3f", a + t / hz}'
}
# pg_counts → "STATEMENTS WRITE_TXNS AUDIT_INSERTS" so far (pg_stat_statements; "0 0 0" without it): every
# statement, the write transactions (each takes the store's advisory write lock first), audit rows inserted
# (rows, not statements: a group commit inserts up to 64 rows per statement).
pg_counts() {
    [ "$PG_STAT_STATEMENTS" = 1 ] || { echo "0 0 0"; return; }
    pg_sql "SELECT coalesce(sum(calls), 0) || ' ' ||
                   coalesce(sum(calls) FILTER (WHERE query LIKE 'SELECT pg_advisory_xact_lock%'), 0) || ' ' ||
                   coalesce(sum(rows) FILTER (WHERE query LIKE 'INSERT INTO audit (%'), 0)
            FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'mcpctl_bench')"
}
# counts_cols BEFORE AFTER REQUESTS → "statements/req rows/write_txn"
counts_cols() {
    local s0 l0 i0 s1 l1 i1
    read -r s0 l0 i0 <<<"$1"; read -r s1 l1 i1 <<<"$2"
    [ "$PG_STAT_STATEMENTS" = 1 ] || { echo "- -"; return; }
    echo "$(div "$((s1 - s0))" "$3" | sed 's/\(\.[0-9][0-9]\)[0-9]*$/\1/') $(div "$((i1 - i0))" "$((l1 - l0))" | sed 's/\(\.[0-9]\)[0-9]*$/\1/')"
}
run_wrk() { # CONNECTIONS URL TOKEN → the RESULT line of wrk-mcp.lua
    local out
    out=$(WRK_TOKEN="$3" wrk -t"$(( THREADS < $1 ? THREADS : $1 ))" -c"$1" -d"${4:-$DURATION}s" --timeout 10s -s "$HERE/wrk-mcp.lua" "$2" 2>&1) ||
        { say "$out"; die "wrk failed"; }
    grep '^RESULT' <<<"$out" || { say "$out"; die "no RESULT line from wrk"; }
}
f() { wrk_field "$@"; }
div() { awk -v a="$1" -v b="$2" -v s="${3:-1}" 'BEGIN {if (b > 0) printf "%.3f", a * s / b; else print "-"}'; }
# Sums per kind: requests, seconds, non-2xx, CPU of mcpctl, CPU of PostgreSQL.
declare -A REQ=() SECS=() NON2XX=() CPU_GW=() CPU_PG=() CPU_R1=() CPU_R2=()
add() { # KIND RESULT GW_CPU PG_CPU
    REQ[$1]=$(( ${REQ[$1]:-0} + $(f "$2" requests) )); NON2XX[$1]=$(( ${NON2XX[$1]:-0} + $(f "$2" non2xx) ))
    SECS[$1]=$(awk -v a="${SECS[$1]:-0}" -v b="$(f "$2" seconds)" 'BEGIN {print a + b}')
    CPU_GW[$1]=$(awk -v a="${CPU_GW[$1]:-0}" -v b="$3" 'BEGIN {print a + b}')
    CPU_PG[$1]=$(awk -v a="${CPU_PG[$1]:-0}" -v b="$4" 'BEGIN {print a + b}')
}
rps() { div "${REQ[$1]}" "${SECS[$1]}"; }
us() { div "$2" "${REQ[$1]}" 1000000; }
line() { printf '%-30s %10s %9s %9s %8s %10s %12s %12s %9s %9s\n' "$@"; }

printf '\n# mcpctl PostgreSQL store and replicas — %s — %s CPUs (%s)\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
printf '# binary %s (%s); wrk -t%s -c%s -d%ss, %s round(s); stores in %s\n' "$BIN" "$("$BIN" --version)" "$THREADS" \
    "$CONNECTIONS" "$DURATION" "$ROUNDS" "$STORE_DIR"
printf '# %s\n' "$PG_SETTINGS"
[ "$PG_FSYNC" = off ] && printf '# PG_FSYNC=off: PostgreSQL is NOT durable in this run; SQLite is (synchronous=FULL)\n'
printf '# load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

# Warm-up: every server opens its store connections and fills its access cache before the clock runs.
run_wrk "$CONNECTIONS" "$(url "${PORT[s]}")" "$SQLITE_TOKEN" 2 >/dev/null
run_wrk "$CONNECTIONS" "$(url "$FRONT_TWO")" "$PG_TOKEN" 2 >/dev/null

# =========================================================================================================
# 1. one replica: PostgreSQL vs SQLite
# =========================================================================================================
printf '\n## 1. one replica, straight to mcpctl serve: PostgreSQL vs SQLite (c=%s)\n' "$CONNECTIONS"
line run req/s p50_ms p99_ms non2xx gw_cpu_us gw+pg_cpu_us stmts/req rows/wtx
one_run() { # KIND(sqlite|pg) ROUND
    local kind=$1 pid port token g0 g1 p0 p1 c0 c1 r
    if [ "$kind" = sqlite ]; then pid=${PID[s]} port=${PORT[s]} token=$SQLITE_TOKEN; else pid=${PID[r1]} port=${PORT[r1]} token=$PG_TOKEN; fi
    c0=$(pg_counts); g0=$(cpu_secs "$pid"); p0=$(pg_cpu)
    r=$(run_wrk "$CONNECTIONS" "$(url "$port")" "$token")
    g1=$(cpu_secs "$pid"); p1=$(pg_cpu); c1=$(pg_counts)
    [ "$kind" = sqlite ] && p1=$p0   # PostgreSQL idles meanwhile: its background CPU is not SQLite's cost
    local gw pg
    gw=$(awk -v a="$g0" -v b="$g1" 'BEGIN {print b - a}'); pg=$(awk -v a="$p0" -v b="$p1" 'BEGIN {print b - a}')
    add "$kind" "$r" "$gw" "$pg"
    line "$kind (round $2)" "$(f "$r" rps)" "$(f "$r" p50_ms)" "$(f "$r" p99_ms)" "$(f "$r" non2xx)" \
        "$(div "$gw" "$(f "$r" requests)" 1000000 | cut -d. -f1)" \
        "$(div "$(awk -v a="$gw" -v b="$pg" 'BEGIN {print a + b}')" "$(f "$r" requests)" 1000000 | cut -d. -f1)" \
        $([ "$kind" = pg ] && counts_cols "$c0" "$c1" "$(f "$r" requests)" || echo "- -")
}
for round in $(seq 1 "$ROUNDS"); do
    for kind in sqlite pg pg sqlite; do one_run "$kind" "$round"; done
done
TOTAL_SQLITE=$(awk -v a="${CPU_GW[sqlite]}" 'BEGIN {print a}')
TOTAL_PG=$(awk -v a="${CPU_GW[pg]}" -v b="${CPU_PG[pg]}" 'BEGIN {print a + b}')
line "sqlite (all rounds)" "$(rps sqlite)" "" "" "${NON2XX[sqlite]}" "$(us sqlite "${CPU_GW[sqlite]}" | cut -d. -f1)" \
    "$(us sqlite "$TOTAL_SQLITE" | cut -d. -f1)" "-"
line "pg (all rounds)" "$(rps pg)" "" "" "${NON2XX[pg]}" "$(us pg "${CPU_GW[pg]}" | cut -d. -f1)" "$(us pg "$TOTAL_PG" | cut -d. -f1)" ""
RATIO_PG=$(div "$(rps pg)" "$(rps sqlite)")
verdict=PASS; awk -v r="$RATIO_PG" 'BEGIN {exit !(r < 0.8)}' && verdict=BELOW-TARGET
printf 'ratio pg/sqlite req/s:              %s   (target >= 0.8: %s)\n' "$RATIO_PG" "$verdict"
printf 'ratio pg/sqlite mcpctl CPU/req:     %s   (the gateway process alone)\n' \
    "$(div "$(us pg "${CPU_GW[pg]}")" "$(us sqlite "${CPU_GW[sqlite]}")")"
printf 'ratio pg/sqlite total CPU/req:      %s   (mcpctl + PostgreSQL vs mcpctl on SQLite)\n' \
    "$(div "$(us pg "$TOTAL_PG")" "$(us sqlite "$TOTAL_SQLITE")")"

# =========================================================================================================
# 2. two replicas behind nginx vs one
# =========================================================================================================
printf '\n## 2. nginx (upstream block, round robin) in front of two replicas vs one, same PostgreSQL (c=%s)\n' "$CONNECTIONS"
line run req/s p50_ms p99_ms non2xx r1_cpu_us r2_cpu_us gw+pg_cpu_us stmts/req rows/wtx
front_run() { # KIND(one|two) ROUND
    local kind=$1 port a1 a2 b1 b2 p0 p1 c0 c1 r
    port=$FRONT_ONE; [ "$kind" = two ] && port=$FRONT_TWO
    c0=$(pg_counts); a1=$(cpu_secs "${PID[r1]}"); a2=$(cpu_secs "${PID[r2]}"); p0=$(pg_cpu)
    r=$(run_wrk "$CONNECTIONS" "$(url "$port")" "$PG_TOKEN")
    b1=$(cpu_secs "${PID[r1]}"); b2=$(cpu_secs "${PID[r2]}"); p1=$(pg_cpu); c1=$(pg_counts)
    local u1 u2 pg n
    u1=$(awk -v a="$a1" -v b="$b1" 'BEGIN {print b - a}'); u2=$(awk -v a="$a2" -v b="$b2" 'BEGIN {print b - a}')
    pg=$(awk -v a="$p0" -v b="$p1" 'BEGIN {print b - a}'); n=$(f "$r" requests)
    add "$kind" "$r" "$(awk -v a="$u1" -v b="$u2" 'BEGIN {print a + b}')" "$pg"
    line "$kind replica(s) (round $2)" "$(f "$r" rps)" "$(f "$r" p50_ms)" "$(f "$r" p99_ms)" "$(f "$r" non2xx)" \
        "$(div "$u1" "$n" 1000000 | cut -d. -f1)" "$(div "$u2" "$n" 1000000 | cut -d. -f1)" \
        "$(div "$(awk -v a="$u1" -v b="$u2" -v p="$pg" 'BEGIN {print a + b + p}')" "$n" 1000000 | cut -d. -f1)" \
        $(counts_cols "$c0" "$c1" "$n")
}
for round in $(seq 1 "$ROUNDS"); do
    for kind in one two two one; do front_run "$kind" "$round"; done
done
for kind in one two; do
    line "$kind (all rounds)" "$(rps "$kind")" "" "" "${NON2XX[$kind]}" "" "" \
        "$(us "$kind" "$(awk -v a="${CPU_GW[$kind]}" -v b="${CPU_PG[$kind]}" 'BEGIN {print a + b}')" | cut -d. -f1)"
done
printf 'ratio two/one req/s:                %s   (on %s cores shared by client, nginx, replicas and PostgreSQL,\n' \
    "$(div "$(rps two)" "$(rps one)")" "$(nproc)"
printf '                                          a second replica adds no CPU: read it as the cost of spreading, not scaling)\n'

# =========================================================================================================
# 3. revocation across two replicas
# =========================================================================================================
printf '\n## 3. revocation under load on two replicas: %s connections to each, `token revoke` mid-load, %s time(s)\n' \
    "$REVOKE_THREADS" "$REVOKES"
violations_total=0 switches=() revoke_ms=()
for i in $(seq 1 "$REVOKES"); do
    read -r rid rsecret <<<"$(new_token "$PG_URL" "revoke-$i")"
    out=$(MCPCTL_DB=$PG_URL $PY "$HERE/postgres-client.py" revoke --replica "$(url "${PORT[r1]}")" --replica "$(url "${PORT[r2]}")" \
        --token "$rsecret" --token-id "$rid" --mcpctl "$BIN" --threads "$REVOKE_THREADS" --before 2 --after 2) ||
        { say "$out"; die "the revocation client failed"; }
    printf 'revoke %s:\n' "$i"
    grep -v '^[A-Z_]*=' <<<"$out"
    v=$(sed -n 's/^VIOLATIONS=//p' <<<"$out"); violations_total=$((violations_total + v))
    switches+=("$(sed -n 's/^SWITCH_MS=//p' <<<"$out")"); revoke_ms+=("$(sed -n 's/^REVOKE_MS=//p' <<<"$out")")
done
printf 'time from `token revoke` returning to the last replica refusing, per revoke: <= %s ms\n' "${switches[*]}"
printf '  (the send time of the last replica'"'"'s first refusal after its last accepted request: an upper bound, since a\n'
printf '  connection sends its next request only when the last one is answered; <= 0: refused before the command\n'
printf '  returned. `token revoke` took %s ms)\n' "${revoke_ms[*]}"
check "revocation" "$([ "$violations_total" = 0 ] && echo 1 || echo 0)" \
    "$violations_total requests accepted (200 with a result) although sent after \`token revoke\` returned"

# =========================================================================================================
# 4. kill -9 of one replica under load
# =========================================================================================================
printf '\n## 4. kill -9 of one replica under load: %s clients through nginx (two replicas), %s kill(s)\n' "$CRASH_CLIENTS" "$CRASHES"
: >"$WORK/crash-tokens"; : >"$WORK/crash-ids"
for i in $(seq 1 "$CRASH_CLIENTS"); do
    read -r id secret <<<"$(new_token "$PG_URL" "crash$i" crash@example.com read,write,delete)"
    echo "$secret" >>"$WORK/crash-tokens"; echo "$id" >>"$WORK/crash-ids"
done
$PY "$HERE/reliability-client.py" acked --url "$(url "$FRONT_TWO")" --tokens "$WORK/crash-tokens" --out "$WORK/crash.json" &
CLIENT_PID=$!
printf '  %-6s %-8s %9s %10s\n' kill replica load_s restart_ms
for i in $(seq 1 "$CRASHES"); do
    victim=r$(( (i - 1) % 2 + 1 ))   # r1, r2, r1, …
    load_ms=$((1500 + RANDOM % 1500))
    sleep "$(awk -v m="$load_ms" 'BEGIN {print m / 1000}')"
    kill -KILL "${PID[$victim]}"
    wait "${PID[$victim]}" 2>/dev/null || true
    t0=$EPOCHREALTIME
    start_server "$victim"
    printf '  %-6s %-8s %9s %10s\n' "$i" "$victim" "$(awk -v m="$load_ms" 'BEGIN {printf "%.1f", m / 1000}')" \
        "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", (b - a) * 1000}')"
done
sleep 1.5
kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" || die "the crash client failed"
CLIENT_PID=""
sleep 0.5
check_out=$(MCPCTL_DB=$PG_URL $PY "$HERE/postgres-client.py" check-acked --mcpctl "$BIN" --ids "$WORK/crash-ids" --out "$WORK/crash.json") ||
    { say "$check_out"; die "the crash check failed to run"; }
grep -v '^ACKED=' <<<"$check_out"
summary=" $(grep '^ACKED=' <<<"$check_out")"
acked=$(f "$summary" ACKED); lost=$(f "$summary" LOST); dups=$(f "$summary" DUPLICATES); unacked=$(f "$summary" UNACKED_ROWS)
printf 'acknowledged %s, missing %s (duplicated %s; audited but unanswered %s: the kill came between commit and answer)\n' \
    "$acked" "$lost" "$dups" "$unacked"
check "no acknowledged row lost" "$([ "$lost" = 0 ] && [ "$acked" -gt 0 ] && echo 1 || echo 0)" "$lost of $acked acknowledged requests have no allow row with a 2xx status"
check "no request audited twice" "$([ "$dups" = 0 ] && echo 1 || echo 0)" "$dups requests have more than one row"
verify=$(MCPCTL_DB=$PG_URL "$BIN" audit verify 2>&1) && verify_ok=1 || verify_ok=0
check "audit verify" "$verify_ok" "$verify"

# =========================================================================================================
# 5. profile of the PG path
# =========================================================================================================
want_profile=0
[ "$PROFILE" = 1 ] && want_profile=1
[ "$PROFILE" = auto ] && awk -v r="$RATIO_PG" 'BEGIN {exit !(r < 0.8)}' && want_profile=1
if [ "$want_profile" = 1 ]; then
    OUT=${PROFILE_OUT:-$WORK/profile}; mkdir -p "$OUT"
    printf '\n## 5. profile of the PostgreSQL path: one replica, wrk -c%s, %ss (perf -e cpu-clock -F 999 -g)\n' "$CONNECTIONS" "$DURATION"
    run_wrk "$CONNECTIONS" "$(url "${PORT[r1]}")" "$PG_TOKEN" 2 >/dev/null   # r1 may be fresh from part 4: fill its pool
    [ "$PG_STAT_STATEMENTS" = 1 ] && pg_sql "SELECT pg_stat_statements_reset()" >/dev/null
    if command -v perf >/dev/null 2>&1; then
        perf record -e cpu-clock -F 999 -g -p "${PID[r1]}" -o "$OUT/perf.data" 2>"$OUT/perf-record.log" &
        PERF_PID=$!
        # PostgreSQL's side (backends, WAL writer…) as well: where its CPU per request goes.
        perf record -e cpu-clock -F 999 -g -p "$(postgres_pids | paste -sd, -)" -o "$OUT/perf-pg.data" 2>"$OUT/perf-pg-record.log" &
        PERF_PG_PID=$!
        sleep 0.5
    else
        say "perf is missing (Debian: linux-perf): statement counts only"
    fi
    r=$(run_wrk "$CONNECTIONS" "$(url "${PORT[r1]}")" "$PG_TOKEN")
    n=$(f "$r" requests)
    printf 'requests %s (%s req/s)\n' "$n" "$(f "$r" rps)"
    if [ -n "$PERF_PID" ]; then
        kill -INT "$PERF_PID" "$PERF_PG_PID"; wait "$PERF_PID" "$PERF_PG_PID" 2>/dev/null || true
        PERF_PID="" PERF_PG_PID=""
        printf '\ntop symbols of mcpctl serve (self time, %% of samples):\n'
        perf report -i "$OUT/perf.data" --no-children --stdio --percent-limit 1 -g none --sort dso,sym 2>/dev/null |
            grep -v '^#' | grep -v '^$' | head -n 30 | { command -v swift >/dev/null && swift demangle --simplified || cat; } | cut -c1-150
        printf '\nby library (self time):\n'
        perf report -i "$OUT/perf.data" --no-children --stdio --percent-limit 0.5 -g none --sort dso 2>/dev/null |
            grep -v '^#' | grep -v '^$' | head -n 12
        printf '\nPostgreSQL processes, top symbols (self time, %% of their samples; the server has no frame pointers,\n'
        printf 'so read names: parser/planner = statements parsed and planned on every call, kernel = sockets and fsync):\n'
        perf report -i "$OUT/perf-pg.data" --no-children --stdio --percent-limit 0.5 -g none --sort dso 2>/dev/null |
            grep -v '^#' | grep -v '^$' | head -n 6
        perf report -i "$OUT/perf-pg.data" --no-children --stdio --percent-limit 0.9 -g none --sort dso,sym 2>/dev/null |
            grep -v '^#' | grep -v '^$' | head -n 20 | cut -c1-150
        perf script -i "$OUT/perf.data" 2>/dev/null | $PY "$HERE/flamegraph.py" --folded "$OUT/stacks.folded" >"$OUT/flame.svg" || true
        printf 'folded stacks and flame.svg in %s%s\n' "$OUT" "$([ "${KEEP:-0}" = 1 ] || [ -n "${PROFILE_OUT:-}" ] || echo ' (deleted at exit: set KEEP=1)')"
    fi
    if [ "$PG_STAT_STATEMENTS" = 1 ]; then
        printf '\nstatements per request (pg_stat_statements, every statement of the run; execution time only, not parse/plan):\n'
        pg_sql "SELECT to_char(sum(calls)::numeric / $n, 'FM990.00') || ' statements (round trips) per request, ' ||
                       to_char(sum(total_exec_time)::numeric * 1000 / $n, 'FM99990.0') || ' µs execution time per request; transactions per request: ' ||
                       to_char(coalesce(sum(calls) FILTER (WHERE query LIKE 'BEGIN ISOLATION LEVEL REPEATABLE READ%'), 0)::numeric / $n, 'FM990.000') || ' read, ' ||
                       to_char(coalesce(sum(calls) FILTER (WHERE query LIKE 'SELECT pg_advisory_xact_lock%'), 0)::numeric / $n, 'FM990.000') || ' write'
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'mcpctl_bench')"
        printf '%9s %12s %10s  %s\n' calls/req us_total/req rows/call query
        pg_sql "SELECT to_char(calls::numeric / $n, 'FM9990.000') || '|' || to_char(total_exec_time::numeric * 1000 / $n, 'FM99990.0')
                       || '|' || to_char(rows::numeric / greatest(calls, 1), 'FM99990.0') || '|' || regexp_replace(query, '\\s+', ' ', 'g')
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'mcpctl_bench')
                ORDER BY calls DESC LIMIT 20" |
            awk -F'|' '{q = $4; if (length(q) > 110) q = substr(q, 1, 107) "..."; printf "%9s %12s %10s  %s\n", $1, $2, $3, q}'
    fi
fi

printf '\n# load average after: %s (a shared machine lowers every rate above; ratios and CPU/req drift less). %s check(s) failed.\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$FAILED"
[ "$FAILED" = 0 ] || exit 1
