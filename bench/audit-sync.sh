#!/usr/bin/env bash
# What durable audit commits cost: gateway throughput with `serve --audit-sync full` (the default: the
# WAL is synced at every group commit) against `--audit-sync normal` (commits reach the OS only), same
# store, same upstream (nginx answering one fixed JSON-RPC result), same wrk load, one run.
#
# Usage: bench/audit-sync.sh
# Environment:
#   MCPCTL_BIN    mcpctl binary (default: build .build/release/mcpctl)
#   STORE_DIR     directory for the store; put it on the disk you deploy on (default: a temp dir under /var/tmp,
#                 usually a real disk; /tmp may be a tmpfs, where a sync costs nothing)
#   DURATION      seconds per wrk run (default 10); CONNECTIONS (default 64); THREADS (default 2)
# Needs nginx, wrk and curl (see bench/gateway.sh). Listens on 127.0.0.1 only.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-10}; CONNECTIONS=${CONNECTIONS:-64}; THREADS=${THREADS:-2}
die() { printf 'audit-sync.sh: %s\n' "$*" >&2; exit 1; }
for c in nginx wrk curl; do command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] || die "missing $c (apt-get install nginx-light wrk curl)"; done
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
if [ -z "${MCPCTL_BIN:-}" ]; then (cd "$ROOT" && swift build -c release --product mcpctl >/dev/null); fi
BIN=${MCPCTL_BIN:-$ROOT/.build/release/mcpctl}

WORK=$(mktemp -d /tmp/mcpctl-syncbench.XXXXXX)
STORE=$(mktemp -d "${STORE_DIR:-/var/tmp}/mcpctl-syncstore.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$WORK" "$STORE"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null -m 1 "$1" && return 0; sleep 0.1; done; return 1; }

UP=$(free_port); PROXY=$(free_port); mkdir -p "$WORK/nginx"
user_line=""; [ "$(id -u)" = 0 ] && user_line="user root;"
sed -e "s|@DIR@|$WORK/nginx|g" -e "s|@PORT@|$UP|g" -e "s|@PROXY_PORT@|$PROXY|g" -e "s|@USER@|$user_line|" \
    "$HERE/nginx-upstream.conf" >"$WORK/nginx/nginx.conf"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" 2>/dev/null & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/" || die "nginx did not start"

export MCPCTL_DB=$STORE/mcpctl.db NO_COLOR=1
"$BIN" app add bench --env prod --upstream "http://127.0.0.1:$UP/" >/dev/null
"$BIN" user add bench@example.com </dev/null >/dev/null 2>&1
"$BIN" grant add bench@example.com --app bench --env prod --role editor >/dev/null
"$BIN" tool scope bench echo write >/dev/null
TOKEN=$("$BIN" token create --email bench@example.com --scopes read,write 2>/dev/null)

run() { # MODE → prints req/s
    local port; port=$(free_port)
    "$BIN" serve --listen "127.0.0.1:$port" --log-level error --audit-sync "$1" 2>"$WORK/serve-$1.log" & local pid=$!
    wait_http "http://127.0.0.1:$port/healthz" || die "serve --audit-sync $1 did not start"
    local out; out=$(WRK_TOKEN=$TOKEN wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$HERE/wrk-mcp.lua" "http://127.0.0.1:$port/mcp/bench/prod")
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    grep -q ' non2xx=0 ' <<<"$out" || die "non-2xx answers with --audit-sync $1: $(grep RESULT <<<"$out")"
    sed -n 's/.* rps=\([0-9.]*\) .*/\1/p' <<<"$out"
}
full=$(run full); normal=$(run normal)
printf '# gateway tools/call, wrk -t%s -c%s -d%ss, store on %s (%s)\n' "$THREADS" "$CONNECTIONS" "$DURATION" \
    "$(findmnt -n -o SOURCE -T "$STORE")" "$(findmnt -n -o FSTYPE -T "$STORE")"
printf '%-22s %10s\n' "--audit-sync full" "$full" "--audit-sync normal" "$normal"
printf '%-22s %10s\n' "ratio full/normal" "$(awk -v f="$full" -v n="$normal" 'BEGIN {printf "%.3f", f / n}')"
"$BIN" audit verify >/dev/null || die "audit verify failed"
