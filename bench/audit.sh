#!/usr/bin/env bash
# Benchmark: `mcpctl audit list` (filtered) and `mcpctl audit verify` over 1,000,000 audit rows.
#
# Targets: `audit list --email X --since 1d --limit 50` answers in < 50 ms;
# `audit verify` checks > 500,000 rows/s.
#
#   bench/audit.sh                       # ROWS=1000000 RUNS=20 VERIFY_RUNS=3
#   REFILL=1 bench/audit.sh              # rebuild the cached store
#   MCPCTL_BIN=/path/to/mcpctl EMAIL=bob@example.com bench/audit.sh
#
# The store is filled by bench/fill_audit.py (valid hash chain, ~50 users, 30 days of traffic) and cached
# at $MCPCTL_BENCH_STORE (default /tmp/mcpctl-bench-audit-$ROWS.db); it is reused while younger than
# 6 hours (so `--since 1d` still selects about 1/30 of the rows) and rebuilt otherwise.
# Each measurement runs one process per run, interleaved with its baselines (ABBA order), and the
# figures are medians; ratios are against baselines measured in the same run:
#   audit list   vs  `mcpctl --version` (process start: the floor for any mcpctl command)
#                and `sqlite3 "$DB" "<the same SELECT>"` (the query alone, from a fresh process)
#   audit verify vs  a sqlite3 full read of every hashed column (the I/O and decoding verify cannot avoid),
#                and `sqlite3 "$DB" "SELECT count(*) FROM audit"` (for scale only: SQLite counts cells per
#                page of the smallest index without decoding rows, so it is not a scan of the data)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-20}
VERIFY_RUNS=${VERIFY_RUNS:-3}
WARMUP=${WARMUP:-2}
STORE=${MCPCTL_BENCH_STORE:-/tmp/mcpctl-bench-audit-$ROWS.db}
MAX_AGE_S=${MAX_AGE_S:-21600}

. "$ROOT/bench/lib.sh"
need sqlite3 sqlite3
need python3 python3

BIN=$(mcpctl_bin)
export MCPCTL_DB="$STORE"

# --- the store ------------------------------------------------------------------------------------
fresh=0
if [ -z "${REFILL:-}" ] && [ -f "$STORE" ] && [ -f "$STORE.filled" ]; then
    age=$(( $(date +%s) - $(cat "$STORE.filled") ))
    [ "$age" -lt "$MAX_AGE_S" ] && fresh=1
fi
if [ "$fresh" = 1 ]; then
    echo "reusing $STORE (filled $(( age / 60 )) min ago; REFILL=1 to rebuild)"
else
    echo "filling $STORE with $ROWS rows…"
    rm -f "$STORE" "$STORE-wal" "$STORE-shm" "$STORE.filled"
    "$BIN" init >/dev/null
    python3 "$ROOT/bench/fill_audit.py" --db "$STORE" --rows "$ROWS"
    # The independent check: a chain written by Python's sqlite3 + hashlib passes mcpctl's verifier only if
    # fill_audit.py's canonical encoding matches AuditChain.swift byte for byte.
    "$BIN" audit verify
    date +%s >"$STORE.filled"
fi
TOTAL=$(sqlite3 "$STORE" "SELECT count(*) FROM audit")
EMAIL=${EMAIL:-$(python3 "$ROOT/bench/fill_audit.py" --print-users | sed -n 1p)}
SINCE_MS=$(( ($(date +%s) - 86400) * 1000 ))
COLS="seq, at, source, action, actor, email, token_id, client_id, app, env, method, tool, decision, reason, status, duration_ms, remote_addr, target, args_digest, prev_hash, hash"
LIST_SQL="SELECT $COLS FROM audit WHERE at >= $SINCE_MS AND email = '$EMAIL' ORDER BY at DESC, seq DESC LIMIT 50"
SCAN_SQL="SELECT count(*), sum(length(source) + length(action) + length(actor) + length(email) + length(token_id) + length(client_id) + length(app) + length(env) + length(method) + length(tool) + length(decision) + length(reason) + length(status) + length(duration_ms) + length(remote_addr) + length(target) + length(args_digest) + length(prev_hash) + length(hash) + at) FROM audit"
matching=$(sqlite3 "$STORE" "SELECT count(*) FROM audit WHERE at >= $SINCE_MS AND email = '$EMAIL'")
day=$(sqlite3 "$STORE" "SELECT count(*) FROM audit WHERE at >= $SINCE_MS")
echo "store: $TOTAL rows, $day in the last day, $matching of them for $EMAIL"
echo "query plan: $(sqlite3 "$STORE" "EXPLAIN QUERY PLAN $LIST_SQL" | tail -n +2 | tr -s ' \n' ' ')"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(sqlite3 --version | cut -d' ' -f1-2); binary: $BIN"

TMP=$(mktemp -d /tmp/mcpctl-bench-audit.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

config() {  # config BASELINE RUNS WARMUP NAME ARGV-JSON …
    python3 - "$@" <<'PY'
import json, sys
base, runs, warmup, *rest = sys.argv[1:]
cmds = {rest[i]: json.loads(rest[i + 1]) for i in range(0, len(rest), 2)}
print(json.dumps({"commands": cmds, "baseline": base, "runs": int(runs), "warmup": int(warmup)}))
PY
}
j() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }

# --- audit list -----------------------------------------------------------------------------------
echo
echo "== audit list --email $EMAIL --since 1d --limit 50 ($RUNS runs + $WARMUP warm-up, interleaved)"
LIST_NAME="mcpctl audit list (filtered)"
CFG=$(config "mcpctl --version (process start)" "$RUNS" "$WARMUP" \
    "mcpctl --version (process start)" "$(j "$BIN" --version)" \
    "sqlite3 same query" "$(j sqlite3 "$STORE" "$LIST_SQL")" \
    "$LIST_NAME" "$(j "$BIN" audit list --email "$EMAIL" --since 1d --limit 50)" \
    "mcpctl audit list --json (filtered)" "$(j "$BIN" audit list --email "$EMAIL" --since 1d --limit 50 --json)")
python3 "$ROOT/bench/harness.py" "$CFG" 2>"$TMP/list.json"
python3 - "$TMP/list.json" "$LIST_NAME" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["median_ms"]; name = sys.argv[2]
v, s, l = m["mcpctl --version (process start)"], m["sqlite3 same query"], m[name]
print(f"audit list: {l:.1f} ms median (target < 50 ms: {'met' if l < 50 else 'MISSED'}); "
      f"{l / v:.2f}x process start ({v:.1f} ms), {l / s:.2f}x the same query in sqlite3 ({s:.1f} ms); "
      f"work beyond process start {l - v:.1f} ms")
PY

# --- audit verify ---------------------------------------------------------------------------------
echo
echo "== audit verify over $TOTAL rows ($VERIFY_RUNS runs + 1 warm-up, interleaved)"
CFG=$(config "sqlite3 full read of every column" "$VERIFY_RUNS" 1 \
    "sqlite3 SELECT count(*)" "$(j sqlite3 "$STORE" "SELECT count(*) FROM audit")" \
    "sqlite3 full read of every column" "$(j sqlite3 "$STORE" "$SCAN_SQL")" \
    "mcpctl audit verify" "$(j "$BIN" audit verify)")
python3 "$ROOT/bench/harness.py" "$CFG" 2>"$TMP/verify.json"
python3 - "$TMP/verify.json" "$TOTAL" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); m, c = d["median_ms"], d["cpu_median_ms"]; n = int(sys.argv[2])
rate = lambda ms: n / (ms / 1000)
v, s, f = m["mcpctl audit verify"], m["sqlite3 SELECT count(*)"], m["sqlite3 full read of every column"]
print(f"audit verify: {rate(v):,.0f} rows/s ({v / 1000:.2f} s median wall; {rate(c['mcpctl audit verify']):,.0f} rows/s per "
      f"CPU-second) (target > 500,000 rows/s: {'met' if rate(v) > 500_000 else 'MISSED'})")
print(f"  baselines: sqlite3 full read {rate(f):,.0f} rows/s ({rate(c['sqlite3 full read of every column']):,.0f} per CPU-second) "
      f"-> verify takes {v / f:.2f}x the time of a bare full read; sqlite3 count(*) {rate(s):,.0f} rows/s")
PY
