#!/usr/bin/env bash
# What the PostgreSQL store's statements cost the database server, and what other shapes of them would cost:
# pgbench against a throwaway PostgreSQL 15 cluster (bench/postgres-cluster.sh, durable unless PG_FSYNC=off)
# holding mcpctl's schema (`mcpctl init`), PostgreSQL's CPU (postmaster, live and ended backends, WAL writer…)
# per unit of work. No mcpctl process runs: this isolates the database's share of bench/postgres.sh's figures.
#
#   read path, per request (pgbench -c READ_CLIENTS):
#     rr3        BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT value FROM policy_generation …; COMMIT
#                (what the gateway sends on a cache hit today: three round trips)
#     one        the SELECT alone in autocommit (one round trip; a single statement sees one snapshot)
#     each in -M extended (unnamed statement: parsed and planned on every call, like PQexecParams)
#     and -M prepared (PQprepare once per connection, then PQexecPrepared)
#   audit group commit, per row (pgbench -c 2, AUDIT_ROWS rows per transaction, under the store's write lock):
#     rows       one INSERT per row (today)
#     multirow   one INSERT … SELECT … generate_series for the whole batch
#     each in -M extended and -M prepared
#
# Usage: bench/postgres-statements.sh
# Environment: DURATION (4 s per run), ROUNDS (2, interleaved), READ_CLIENTS (16), AUDIT_ROWS (14: the
#   rows per write transaction bench/postgres.sh measured at c=32), STORE_DIR (/var/tmp), PG_FSYNC, MCPCTL_BIN,
#   KEEP=1. Needs postgresql-15 (its pgbench), installed from Debian when missing and running as root.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-4}
ROUNDS=${ROUNDS:-2}
READ_CLIENTS=${READ_CLIENTS:-16}
AUDIT_ROWS=${AUDIT_ROWS:-14}
STORE_DIR=${STORE_DIR:-/var/tmp}
PG_STAT_STATEMENTS=0

say() { printf '%s\n' "$*" >&2; }
die() { say "postgres-statements.sh: $*"; exit 2; }
. "$ROOT/bench/lib.sh"
. "$ROOT/bench/postgres-cluster.sh"
find_postgres || die "postgresql-15 is needed"
BIN=${MCPCTL_BIN:-$ROOT/.build/release/mcpctl}
[ -x "$BIN" ] || die "no mcpctl binary at $BIN (build it: swift build -c release --product mcpctl, or set MCPCTL_BIN)"

WORK=$(mktemp -d "$STORE_DIR/mcpctl-pgstmt.XXXXXX")
cleanup() { stop_postgres; if [ "${KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM
start_postgres "$WORK/pg" || die "PostgreSQL did not start"
MCPCTL_DB=$PG_URL "$BIN" init >/dev/null
# Unique audit seqs for the pgbench clients (one nextval per transaction, in both shapes alike).
"$PG_BINDIR/psql" -X -q "$PG_URL" -c "CREATE SEQUENCE bench_seq" >/dev/null
PGPASSWORD=$(sed 's|.*://mcpctl:\([^@]*\)@.*|\1|' <<<"$PG_URL")
export PGPASSWORD

CLK_TCK=$(getconf CLK_TCK)
# PostgreSQL's CPU ticks so far: the postmaster's own and its reaped children's, plus its live children's.
pg_ticks() {
    local master t p
    master=$(postgres_pids | head -n1)
    t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$master/stat")
    for p in $(postgres_pids | tail -n +2); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo "$t"
}

# --- the pgbench scripts ------------------------------------------------------------------------------------
cat >"$WORK/rr3.sql" <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT value FROM policy_generation WHERE id = 1;
COMMIT;
SQL
cat >"$WORK/one.sql" <<'SQL'
SELECT value FROM policy_generation WHERE id = 1;
SQL
COLS="seq, at, source, action, actor, email, token_id, client_id, app, env, method, tool, decision, reason, status, duration_ms, remote_addr, target, args_digest, prev_hash, hash"
VALUES="1764900000000, 'mcp', 'tools/call', NULL, 'bench@example.com', 'tok_abcdefghijklmnop', NULL, 'bench', 'prod', 'tools/call', 'echo', 'allow', NULL, 200, 1.25, '127.0.0.1', NULL, 'a3f1c2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9', '\\x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20'::bytea, '\\x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20'::bytea"
audit_head() {
    printf '%s\n' 'BEGIN;' 'SELECT pg_advisory_xact_lock(7089, hashtext(current_schema()));' \
        'SELECT seq, hash FROM audit_head WHERE id = 1;' "SELECT nextval('bench_seq') * 1000 AS s \\gset"
}
audit_tail() { printf '%s\n' "INSERT INTO audit_head (id, seq, hash) VALUES (1, CAST(:s AS BIGINT), '\\x01'::bytea) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;" 'COMMIT;'; }
{
    audit_head
    for i in $(seq 1 "$AUDIT_ROWS"); do printf 'INSERT INTO audit (%s) VALUES (CAST(:s AS BIGINT) + %d, %s);\n' "$COLS" "$i" "$VALUES"; done
    audit_tail
} >"$WORK/rows.sql"
{
    audit_head
    printf 'INSERT INTO audit (%s) SELECT CAST(:s AS BIGINT) + g, %s FROM generate_series(1, %d) g;\n' "$COLS" "$VALUES" "$AUDIT_ROWS"
    audit_tail
} >"$WORK/multirow.sql"

# run SCRIPT MODE CLIENTS PER(units per pgbench transaction) → "units µs_cpu_per_unit tps"
run() {
    local t0 t1 out n
    t0=$(pg_ticks)
    out=$("$PG_BINDIR/pgbench" -n -h 127.0.0.1 -p "$PG_PORT" -U mcpctl -d mcpctl_bench -f "$WORK/$1.sql" -M "$2" \
        -c "$3" -j "$(( $3 < 2 ? $3 : 2 ))" -T "$DURATION" 2>&1) || { say "$out"; die "pgbench failed ($1 $2)"; }
    sleep 0.2   # let the postmaster reap the ended backends
    t1=$(pg_ticks)
    n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    awk -v n="$n" -v per="$4" -v t="$((t1 - t0))" -v hz="$CLK_TCK" -v d="$DURATION" \
        'BEGIN {u = n * per; printf "%d %.1f %.0f", u, (u > 0 ? t / hz * 1e6 / u : 0), n / d}'
}

printf '\n# PostgreSQL statement shapes — %s — %s CPUs, load %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '# %s\n# pgbench -T %s, %s interleaved round(s); figures: PostgreSQL CPU (all its processes) per unit\n' "$PG_SETTINGS" "$DURATION" "$ROUNDS"
declare -A CPU=()
printf '\n%-34s %8s %10s %14s\n' "read path (per request)" round requests pg_cpu_us/req
for round in $(seq 1 "$ROUNDS"); do
    for v in "rr3 extended" "one extended" "rr3 prepared" "one prepared"; do
        read -r s m <<<"$v"
        read -r n us _ <<<"$(run "$s" "$m" "$READ_CLIENTS" 1)"
        CPU[$v]="${CPU[$v]:-} $us"
        printf '%-34s %8s %10s %14s\n' "$s -M $m" "$round" "$n" "$us"
    done
done
printf '\n%-34s %8s %10s %14s %10s\n' "audit commit, $AUDIT_ROWS rows (per row)" round rows pg_cpu_us/row commits/s
for round in $(seq 1 "$ROUNDS"); do
    for v in "rows extended" "multirow extended" "rows prepared" "multirow prepared"; do
        read -r s m <<<"$v"
        read -r n us tps <<<"$(run "$s" "$m" 2 "$AUDIT_ROWS")"
        CPU[$v]="${CPU[$v]:-} $us"
        printf '%-34s %8s %10s %14s %10s\n' "$s -M $m" "$round" "$n" "$us" "$tps"
    done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
ratio() { awk -v a="$(median "${CPU[$1]}")" -v b="$(median "${CPU[$2]}")" 'BEGIN {printf "%.2f", a / b}'; }
printf '\nmedians (µs PostgreSQL CPU): read rr3/extended %s, one/extended %s, rr3/prepared %s, one/prepared %s\n' \
    "$(median "${CPU[rr3 extended]}")" "$(median "${CPU[one extended]}")" "$(median "${CPU[rr3 prepared]}")" "$(median "${CPU[one prepared]}")"
printf '  one/prepared ÷ rr3/extended (today): %s\n' "$(ratio "one prepared" "rr3 extended")"
printf 'medians (µs PostgreSQL CPU per audit row): rows/extended %s, multirow/extended %s, rows/prepared %s, multirow/prepared %s\n' \
    "$(median "${CPU[rows extended]}")" "$(median "${CPU[multirow extended]}")" "$(median "${CPU[rows prepared]}")" "$(median "${CPU[multirow prepared]}")"
printf '  multirow/prepared ÷ rows/extended (today): %s\n' "$(ratio "multirow prepared" "rows extended")"
