#!/usr/bin/env bash
# Benchmark: `mcpctl token create` against the same insert done by the sqlite3 command-line tool.
#
# Target: `token create` within 2x of a bare sqlite3 insert into the same store.
# Both sides run on one fresh temporary store, as one process per run, interleaved round by round
# (ABBA order) so drift on a noisy machine hits both alike; we print medians and the ratio.
#
#   bench/token-create.sh                 # RUNS=40 by default
#   RUNS=100 MCPCTL_BIN=/path/to/mcpctl bench/token-create.sh
#
# What the sqlite3 side does, as one `sqlite3 "$DB" "…"` process per run (what mcpctl does too):
#   PRAGMA busy_timeout / journal_mode=WAL / synchronous=FULL / foreign_keys=ON, BEGIN IMMEDIATE,
#   INSERT INTO tokens (same columns: id, kind, user_id, secret_hash, hint, scopes, ttl, created/expires),
#   INSERT INTO audit (the token.create row, prev_hash from audit_head, a hash), UPDATE audit_head, COMMIT.
# It is the floor for "one durable transaction from a fresh process". mcpctl additionally checks
# migrations and the seed rows, looks the user up, reads the new token back and computes the
# SHA-256 chain hash. (sqlite3 uses sha3() as a stand-in for the chain hash, so the throwaway store's
# chain is not valid afterwards; nothing here verifies it.)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-40}
WARMUP=${WARMUP:-3}

. "$ROOT/bench/lib.sh"
need sqlite3 sqlite3
need python3 python3

BIN=$(mcpctl_bin)

TMP=$(mktemp -d /tmp/mcpctl-bench-token.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export MCPCTL_DB="$TMP/store/mcpctl.db"
EMAIL=bench@example.com
"$BIN" init >/dev/null
"$BIN" user add "$EMAIL" >/dev/null
ACTOR=$(id -un 2>/dev/null || echo "uid:$(id -u)")

NOW="CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
SQL="PRAGMA busy_timeout = 10000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
BEGIN IMMEDIATE;
INSERT INTO tokens (id, kind, user_id, client_id, name, secret_hash, hint, scopes, app, env, ttl_seconds,
                    created_at, expires_at, rotated_from, family_id, parent_id)
  SELECT 'tok_' || lower(hex(randomblob(8))), 'pat', id, NULL, NULL, randomblob(32),
         'mcp_pat_…' || substr(hex(randomblob(2)), 1, 4), 'read', NULL, NULL, 7776000,
         $NOW, $NOW + 7776000000, NULL, NULL, NULL
  FROM users WHERE email = '$EMAIL' AND disabled_at IS NULL;
INSERT INTO audit (seq, at, source, action, actor, email, token_id, client_id, app, env, method, tool, decision,
                   reason, status, duration_ms, remote_addr, target, args_digest, prev_hash, hash)
  SELECT h.seq + 1, $NOW, 'cli', 'token.create', '$ACTOR', '$EMAIL', t.id, NULL, NULL, NULL, NULL, NULL, 'allow',
         'scopes=read', NULL, NULL, NULL, NULL, NULL, h.hash, sha3(h.hash || t.id || t.created_at, 256)
  FROM audit_head h, tokens t WHERE h.id = 1 AND t.rowid = last_insert_rowid();
UPDATE audit_head SET seq = seq + 1, hash = (SELECT hash FROM audit WHERE seq = audit_head.seq + 1) WHERE id = 1;
COMMIT;"

# Sanity: each side really inserts one token and one audit row per run.
before=$(sqlite3 "$MCPCTL_DB" "SELECT count(*) FROM tokens; SELECT count(*) FROM audit;" | tr '\n' ' ')
sqlite3 "$MCPCTL_DB" "$SQL" >/dev/null
"$BIN" token create --email "$EMAIL" >/dev/null 2>&1
after=$(sqlite3 "$MCPCTL_DB" "SELECT count(*) FROM tokens; SELECT count(*) FROM audit;" | tr '\n' ' ')
echo "store: $MCPCTL_DB  (tokens, audit rows before: $before after one run of each: $after)"


echo "runs: $RUNS (+$WARMUP warm-up), interleaved; binary: $BIN"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(sqlite3 --version | cut -d' ' -f1-2)"
CONFIG=$(python3 - "$BIN" "$MCPCTL_DB" "$EMAIL" "$SQL" "$RUNS" "$WARMUP" <<'PY'
import json, sys
bin_, db, email, sql, runs, warmup = sys.argv[1:]
print(json.dumps({
    "commands": {
        "sqlite3 insert (baseline)": ["sqlite3", db, sql],
        "mcpctl token create": [bin_, "token", "create", "--email", email],
        "mcpctl --version": [bin_, "--version"],
        "sqlite3 :memory: (start)": ["sqlite3", ":memory:", "SELECT 1"],
    },
    "baseline": "sqlite3 insert (baseline)", "runs": int(runs), "warmup": int(warmup)}))
PY
)
RESULT=$(python3 "$ROOT/bench/harness.py" "$CONFIG" 2>"$TMP/medians.json")
echo "$RESULT"
python3 - "$TMP/medians.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
w, c = m["median_ms"], m["cpu_median_ms"]
r = w["mcpctl token create"] / w["sqlite3 insert (baseline)"]
rc = c["mcpctl token create"] / max(c["sqlite3 insert (baseline)"], 1e-9)
start = w["mcpctl --version"] - w["sqlite3 :memory: (start)"]
print()
print(f"token create: mcpctl {w['mcpctl token create']:.2f} ms vs sqlite3 {w['sqlite3 insert (baseline)']:.2f} ms "
      f"(median wall) -> ratio {r:.2f}x (target <= 2x: {'met' if r <= 2 else 'MISSED'}); cpu-time ratio {rc:.2f}x")
print(f"process start alone: mcpctl --version {w['mcpctl --version']:.2f} ms vs sqlite3 {w['sqlite3 :memory: (start)']:.2f} ms "
      f"(+{start:.2f} ms before mcpctl does any work)")
PY
