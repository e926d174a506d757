#!/usr/bin/env bash
# Observability overhead: the same authenticated, audited MCP tools/call through `mcpctl serve` (a) with
# metrics and tracing off and (b) with both on (`--metrics-listen`, scraped once a second as Prometheus
# would, faster than its usual 15 s, and `--otlp-endpoint` exporting every span to a local sink: by default
# the nginx upstream itself, which reads each POST and answers 200; SINK=python uses bench/otlp_sink.py,
# which counts what it gets but on a loaded machine takes far fewer spans per second). Both servers run side by side on copies of one store against one nginx upstream;
# wrk drives them in turn, interleaved a b b a per round, so drift on the shared machine hits both alike.
# Prints req/s and server CPU µs/req per run (the server's own threads, the span exporter's included), the
# medians, each round's b/a, and the median of those (the verdict). Targets: req/s b/a ≥ 0.95 (within 5 %),
# CPU µs/req b/a ≤ 1.05.
#
# Usage: bench/observability.sh
# Environment:
#   MCPCTL_BIN   mcpctl binary (default: build .build/release/mcpctl with `swift build -c release`)
#   DURATION     seconds per wrk run (default 6)
#   ROUNDS       a b b a rounds (default 5: 10 runs of each); the verdict is the median of the rounds' b/a
#   THREADS      wrk threads (default 2)
#   CONNECTIONS  concurrency (default 64)
#   SINK         nginx (default) or python: what receives the spans
#   ON           what (b) turns on: both (default), metrics or tracing — to see which one costs what
#   OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG   passed to (b), e.g. parentbased_traceidratio and 0.1
#   KEEP=1       keep the temp directory (stores, logs)
#   PROFILE=a|b  instead of the comparison, sample that server with `perf record -g` (cpu-clock, 999 Hz)
#                during one wrk run; prints the top symbols (self time, % of that server's CPU samples) and
#                writes folded stacks and an SVG flame graph (bench/flamegraph.py) to PROFILE_OUT
#                (default /tmp/mcpctl-obsprofile-KIND)
# Needs nginx, wrk, curl and python3. Everything listens on 127.0.0.1 only; every run is bounded by DURATION.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-6}
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
SINK=${SINK:-nginx}
ON=${ON:-both}
case "$ON" in both|metrics|tracing) ;; *) die "ON must be both, metrics or tracing";; esac

say() { printf '%s\n' "$*" >&2; }
die() { say "observability.sh: $*"; exit 1; }

. "$ROOT/bench/lib.sh"
need_load_tools || die "nginx, wrk and curl are needed"
command -v python3 >/dev/null 2>&1 || need python3 python3 || die "python3 is needed"

if [ -n "${MCPCTL_BIN:-}" ]; then
    BIN=$MCPCTL_BIN
else
    say "building mcpctl (release)…"
    (cd "$ROOT" && swift build -c release --product mcpctl >/dev/null)
    BIN=$ROOT/.build/release/mcpctl
fi
[ -x "$BIN" ] || die "no mcpctl binary at $BIN"

WORK=$(mktemp -d /tmp/mcpctl-obsbench.XXXXXX)
NGINX_PID="" OFF_PID="" ON_PID="" SINK_PID="" SCRAPER_PID=""
cleanup() {
    for p in $SCRAPER_PID $OFF_PID $ON_PID $SINK_PID $NGINX_PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    if [ "${KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- upstream, store, sink ---------------------------------------------------------------------------
start_nginx_upstream "$WORK/nginx" || die "nginx did not start"
export NO_COLOR=1
export MCPCTL_DB=$WORK/off/store.db
EMAIL=bench@example.com
"$BIN" init >/dev/null
"$BIN" user add "$EMAIL" --name Bench </dev/null >/dev/null 2>&1
"$BIN" app add bench --env prod --upstream "http://127.0.0.1:$NGINX_PORT/" >/dev/null
"$BIN" grant add "$EMAIL" --app bench --env prod --role editor >/dev/null
"$BIN" tool scope bench echo write >/dev/null
TOKEN=$("$BIN" token create --email "$EMAIL" --name bench --scopes read,write --expires never 2>/dev/null)
[ -n "$TOKEN" ] || die "token create printed nothing"
# The second server gets a copy (same token, same rows): the two never share a store's writer.
mkdir -p "$WORK/on"
"$BIN" store backup "$WORK/on/store.db" >/dev/null 2>&1 || cp "$WORK/off/store.db" "$WORK/on/store.db"

if [ "$SINK" = python ]; then
    python3 "$HERE/otlp_sink.py" >"$WORK/sink.out" 2>"$WORK/sink.err" &
    SINK_PID=$!
    for _ in $(seq 1 100); do grep -q READY "$WORK/sink.out" 2>/dev/null && break; sleep 0.1; done
    SINK_PORT=$(sed -n 's/^READY //p' "$WORK/sink.out")
    [ -n "$SINK_PORT" ] || { cat "$WORK/sink.err" >&2; die "the OTLP sink did not start"; }
else
    SINK_PORT=$NGINX_PORT
fi

# --- the two servers -----------------------------------------------------------------------------------
OFF_PORT=$(free_port); ON_PORT=$(free_port); METRICS_PORT=$(free_port)
MCPCTL_DB=$WORK/off/store.db "$BIN" serve --listen "127.0.0.1:$OFF_PORT" --log-level error \
    --max-connections-per-address 100000 2>"$WORK/off.log" &
OFF_PID=$!
ON_FLAGS=()
[ "$ON" = tracing ] || ON_FLAGS+=(--metrics-listen "127.0.0.1:$METRICS_PORT")
[ "$ON" = metrics ] || ON_FLAGS+=(--otlp-endpoint "http://127.0.0.1:$SINK_PORT")
MCPCTL_DB=$WORK/on/store.db "$BIN" serve --listen "127.0.0.1:$ON_PORT" --log-level error \
    --max-connections-per-address 100000 "${ON_FLAGS[@]}" 2>"$WORK/on.log" &
ON_PID=$!
wait_http "http://127.0.0.1:$OFF_PORT/healthz" "$OFF_PID" || { cat "$WORK/off.log" >&2; die "server (a) did not start"; }
wait_http "http://127.0.0.1:$ON_PORT/healthz" "$ON_PID" || { cat "$WORK/on.log" >&2; die "server (b) did not start"; }
if [ "$ON" != tracing ]; then
    ( while sleep 1; do curl -s -o /dev/null -m 1 "http://127.0.0.1:$METRICS_PORT/metrics" || true; done ) &
    SCRAPER_PID=$!
fi

BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}'
for port in "$OFF_PORT" "$ON_PORT"; do
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' --data "$BODY" "http://127.0.0.1:$port/mcp/bench/prod")
    [ "$code" = 200 ] || die "probe through the gateway on port $port answered $code"
done

# --- wrk, a b b a ---------------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
cpu_secs() { awk -v hz="$CLK_TCK" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
run() { # LABEL PORT PID
    local out line t0 t1
    t0=$(cpu_secs "$3")
    out=$(WRK_TOKEN="$TOKEN" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$HERE/wrk-mcp.lua" \
        "http://127.0.0.1:$2/mcp/bench/prod" 2>&1) || { say "$out"; die "wrk failed"; }
    t1=$(cpu_secs "$3")
    line=$(grep '^RESULT' <<<"$out") || { say "$out"; die "no RESULT line from wrk"; }
    local rps n non2xx
    rps=$(wrk_field "$line" rps); n=$(wrk_field "$line" requests); non2xx=$(wrk_field "$line" non2xx)
    printf '%-30s %10s %9s %9s %8s %12s\n' "$1" "$rps" "$(wrk_field "$line" p50_ms)" "$(wrk_field "$line" p99_ms)" "$non2xx" \
        "$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN {if (n > 0) printf "%.0f", (b - a) * 1e6 / n; else print "-"}')"
    printf '%s %s\n' "$rps" "$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN {if (n > 0) printf "%.1f", (b - a) * 1e6 / n; else print 0}')" >>"$WORK/$4"
}

if [ -n "${PROFILE:-}" ]; then
    case $PROFILE in
        a) port=$OFF_PORT; pid=$OFF_PID ;;
        b) port=$ON_PORT; pid=$ON_PID ;;
        *) die "PROFILE must be a or b" ;;
    esac
    OUT=${PROFILE_OUT:-/tmp/mcpctl-obsprofile-$PROFILE}
    perf_start "$pid" "$OUT" || die "cannot profile"
    printf '%-30s %10s %9s %9s %8s %12s\n' run req/s p50_ms p99_ms non2xx server_cpu_us/req
    run "profile $PROFILE" "$port" "$pid" profile.txt
    perf_finish "$OUT"
    say "profile $PROFILE: folded stacks and flame.svg in $OUT"
    exit 0
fi

printf '\n# mcpctl observability overhead — %s — %s CPUs — wrk -t%s -c%s -d%ss, %s a b b a rounds\n' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$THREADS" "$CONNECTIONS" "$DURATION" "$ROUNDS"
printf '# (b) turns on: %s; spans to the %s sink; metrics scraped every second\n' "$ON" "$SINK"
printf '# load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-30s %10s %9s %9s %8s %12s\n' run req/s p50_ms p99_ms non2xx server_cpu_us/req
for r in $(seq 1 "$ROUNDS"); do
    run "a off (round $r)" "$OFF_PORT" "$OFF_PID" off.txt
    run "b $ON on (round $r)" "$ON_PORT" "$ON_PID" on.txt
    run "b $ON on (round $r)" "$ON_PORT" "$ON_PID" on.txt
    run "a off (round $r)" "$OFF_PORT" "$OFF_PID" off.txt
done

median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
a_rps=$(cut -d' ' -f1 "$WORK/off.txt" | median); b_rps=$(cut -d' ' -f1 "$WORK/on.txt" | median)
a_cpu=$(cut -d' ' -f2 "$WORK/off.txt" | median); b_cpu=$(cut -d' ' -f2 "$WORK/on.txt" | median)
# Each round's a b b a runs are measured back to back, so the round's own ratio (its two b runs over its
# two a runs) cancels the drift between rounds; the verdict is the median of those ratios.
per_round() { # COLUMN: each round's b over its a (sums of its two runs of each)
    paste -d' ' <(cut -d' ' -f"$1" "$WORK/off.txt") <(cut -d' ' -f"$1" "$WORK/on.txt") \
        | awk '{a += $1; b += $2} NR % 2 == 0 {if (a > 0) printf "%.3f\n", b / a; else print "0"; a = 0; b = 0}'
}
round_ratios=$(per_round 1)
round_cpu_ratios=$(per_round 2)
ratio=$(median <<<"$round_ratios")
verdict=PASS; awk -v r="$ratio" 'BEGIN {exit !(r < 0.95)}' && verdict=BELOW-TARGET
printf '\nmedian req/s: a off %s, b on %s (b/a of the medians %s)\n' "$a_rps" "$b_rps" \
    "$(awk -v a="$a_rps" -v b="$b_rps" 'BEGIN {printf "%.3f", b / a}')"
printf 'b/a req/s per round: %s\n' "$(tr '\n' ' ' <<<"$round_ratios")"
printf 'ratio b/a req/s, median of the rounds: %s (target >= 0.95: %s)\n' "$ratio" "$verdict"
cpu_ratio=$(median <<<"$round_cpu_ratios")
cpu_verdict=PASS; awk -v r="$cpu_ratio" 'BEGIN {exit !(r > 1.05)}' && cpu_verdict=ABOVE-TARGET
printf 'server CPU µs/req: a %s, b %s (medians); b/a per round: %s\n' "$a_cpu" "$b_cpu" "$(tr '\n' ' ' <<<"$round_cpu_ratios")"
printf 'ratio b/a CPU µs/req, median of the rounds: %s (target <= 1.05: %s)\n' "$cpu_ratio" "$cpu_verdict"

# --- what (b) exported --------------------------------------------------------------------------------
if [ "$ON" = both ]; then
    sleep 2
    metrics=$(curl -s -m 5 "http://127.0.0.1:$METRICS_PORT/metrics")
    printf 'spans exported: %s; dropped (queue full): %s; dropped (export failed): %s\n' \
        "$(sed -n 's/^mcpctl_trace_spans_exported_total //p' <<<"$metrics")" \
        "$(sed -n 's/^mcpctl_trace_spans_dropped_total{reason="queue_full"} //p' <<<"$metrics")" \
        "$(sed -n 's/^mcpctl_trace_spans_dropped_total{reason="export_failed"} //p' <<<"$metrics")"
fi
if [ -n "$SINK_PID" ]; then
    kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=""
    printf 'sink received: %s\n' "$(grep '^posts=' "$WORK/sink.out" || echo '?')"
fi
printf '# load average after: %s (the machine is shared: other work on it lowers every figure above)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
