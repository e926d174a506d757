#!/usr/bin/env bash
# Open-connection benchmark: what `mcpctl serve` costs per connection it holds open. Opens N connections
# to the server and, once all are open, prints the server's thread count and RSS, at each level of LEVELS:
#   keepalive  each connection sends `GET /healthz`, reads the answer, then sits idle (kept alive);
#   sse        each connection opens a `GET` event stream through the gateway with a valid token; the
#              upstream (a small asyncio server started here) sends one comment and then stays silent.
#   load       the throughput test (wrk, POST tools/call, c=32) without open streams, at c=256, and again
#              while STREAMS idle `GET` event streams with valid tokens are held open: threads, RSS, req/s and
#              server CPU per request for each.
# With BASELINE_BIN the same runs are made against that binary too (e.g. one built from main), and both
# columns are printed side by side. Nothing here asserts a figure.
#
# Usage: bench/connections.sh
# Environment:
#   MCPCTL_BIN     mcpctl binary (default .build/release/mcpctl, built if missing)
#   BASELINE_BIN   a second binary to compare against (optional)
#   LEVELS         connection counts (default "256 1000 10000"); each needs ~2 descriptors per connection in
#                  the server (4 for sse: client and upstream sides) and one in the client
#   MODES          "keepalive sse load" (default); sse levels and STREAMS are capped by the open-file limit
#   SETTLE         seconds to wait at each level before reading threads and RSS (default 4: idle worker
#                  threads end after 2 s)
#   STREAMS        idle event streams held during the load run (default 10000)
#   DURATION       seconds of each wrk run in the load mode (default 10)
#   KEEP=1         keep the temp directory
# Needs python3, curl and wrk (for the load mode). Everything listens on 127.0.0.1 only.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LEVELS=${LEVELS:-"256 1000 10000"}
MODES=${MODES:-"keepalive sse load"}
SETTLE=${SETTLE:-4}
STREAMS=${STREAMS:-10000}
DURATION=${DURATION:-10}

say() { printf '%s\n' "$*" >&2; }
die() { say "connections.sh: $*"; exit 1; }
. "$ROOT/bench/lib.sh"

if [ -n "${MCPCTL_BIN:-}" ]; then
    BIN=$MCPCTL_BIN
else
    BIN=$ROOT/.build/release/mcpctl
    [ -x "$BIN" ] || (cd "$ROOT" && swift build -c release --product mcpctl >/dev/null)
fi
[ -x "$BIN" ] || die "no mcpctl binary at $BIN"
[ -z "${BASELINE_BIN:-}" ] || [ -x "$BASELINE_BIN" ] || die "no baseline binary at $BASELINE_BIN"
command -v python3 >/dev/null || die "python3 is needed"

# Raise the open-file limit (as root past the hard limit: each stream takes two descriptors in the server);
# the server, the client and the upstream each inherit it.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
MAX_LEVEL=$STREAMS
for n in $LEVELS; do [ "$n" -gt "$MAX_LEVEL" ] && MAX_LEVEL=$n; done

WORK=$(mktemp -d /tmp/mcpctl-connbench.XXXXXX)
SERVER_PID=""
UP_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    [ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the upstream: answers a GET with an event stream that sends one comment and then stays open ---------
cat >"$WORK/upstream.py" <<'PY'
import asyncio, json, resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            if head.startswith(b"GET"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n9\r\n: hello\n\n\r\n")
                await writer.drain()
                await reader.read()  # silent until the gateway goes away
                return
            # tools/list names the one tool the load mode calls (read-only, so a read token may call it).
            request = json.loads(body or b"{}")
            if request.get("method") == "tools/list":
                result = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": True}}]}
            else:
                result = {"content": [{"type": "text", "text": "hello"}]}
            body = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "result": result}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()

async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]), backlog=4096)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
PY

# --- the client: opens connections up to each level, then reads the server's threads and RSS ----------------
cat >"$WORK/client.py" <<'PY'
import resource, socket, sys, time
mode, port, pid, token, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
levels = [int(n) for n in sys.argv[6].split()]
settle = float(sys.argv[7])
hold = len(sys.argv) > 8 and sys.argv[8] == "hold"  # keep the connections open until killed
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def whole_answer(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return True

if mode == "keepalive":
    request = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
    done = whole_answer
else:
    request = (f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
               f"Accept: text/event-stream\r\n\r\n").encode()
    # The gateway sends the head of the stream at once; the upstream's comment is not relayed.
    done = lambda data: b"\r\n\r\n" in data

def status():
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) / 1024

held, failed = [], 0
def open_batch(count):
    global failed
    batch = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(request)
        batch.append(s)
    for s in batch:
        data = b""
        try:
            while not done(data):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        if not data.startswith(b"HTTP/1.1 200"):
            failed += 1
            if failed <= 3:
                print(f"  not served: {data[:120]!r}", file=sys.stderr)
        held.append(s)

for level in levels:
    while len(held) < level:
        open_batch(min(500, level - len(held)))
    # Worker threads that served the opening requests end after 10 s without work: wait them out.
    time.sleep(settle)
    threads, rss = status()
    print(f"{mode} {level} {threads} {rss:.1f} {failed}", flush=True)
while hold:
    time.sleep(60)
PY

# --- a store with one app whose upstream is the asyncio server above ------------------------------------------
# A free port can be taken by another process before the upstream binds it: try a few.
for _ in 1 2 3; do
    UP_PORT=$(free_port)
    python3 "$WORK/upstream.py" "$UP_PORT" >"$WORK/upstream.out" 2>"$WORK/upstream.err" &
    UP_PID=$!
    for _ in $(seq 1 100); do grep -q READY "$WORK/upstream.out" 2>/dev/null && break; kill -0 "$UP_PID" 2>/dev/null || break; sleep 0.1; done
    grep -q READY "$WORK/upstream.out" && break
    wait "$UP_PID" 2>/dev/null || true
    UP_PID=""
done
[ -n "$UP_PID" ] || { cat "$WORK/upstream.err" >&2; die "the upstream did not start"; }

export MCPCTL_DB=$WORK/store.db NO_COLOR=1
EMAIL=bench@example.com
"$BIN" init >/dev/null
"$BIN" user add "$EMAIL" --name Bench </dev/null >/dev/null 2>&1
"$BIN" app add bench --env prod --upstream "http://127.0.0.1:$UP_PORT/" >/dev/null
"$BIN" grant add "$EMAIL" --app bench --env prod --role editor >/dev/null
TOKEN=$("$BIN" token create --email "$EMAIL" --name bench --scopes read,write --expires never 2>/dev/null)
[ -n "$TOKEN" ] || die "token create printed nothing"

# start_serve BINARY MAX_CONNECTIONS: starts `mcpctl serve` on a free port (three tries: a port found free may be
# taken before the server binds it); sets SERVER_PID and SERVER_PORT.
start_serve() {
    for _ in 1 2 3; do
        SERVER_PORT=$(free_port)
        "$1" serve --listen "127.0.0.1:$SERVER_PORT" --log-level error --max-connections "$2" \
            --max-connections-per-address 100000 --keep-alive-timeout 1h 2>"$WORK/serve.log" &
        SERVER_PID=$!
        wait_http "http://127.0.0.1:$SERVER_PORT/healthz" "$SERVER_PID" && return 0
        kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    done
    cat "$WORK/serve.log" >&2
    die "mcpctl serve did not start"
}

# run BINARY MODE: one server, connections opened up to each level; prints "mode level threads rss failed" lines.
run() {
    local bin=$1 mode=$2 port levels=$LEVELS
    if [ "$mode" = sse ]; then
        # Each stream holds a client and an upstream descriptor in the server.
        local cap=$(( ($(ulimit -n) - 512) / 2 )) kept=""
        for n in $LEVELS; do [ "$n" -le "$cap" ] && kept="$kept $n"; done
        levels=$kept
    fi
    [ -n "${levels// /}" ] || return 0
    start_serve "$bin" $((MAX_LEVEL + 100))
    port=$SERVER_PORT
    python3 "$WORK/client.py" "$mode" "$port" "$SERVER_PID" "$TOKEN" /mcp/bench/prod "$levels" "$SETTLE" ||
        say "client failed ($bin $mode)"
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# --- the load mode ---------------------------------------------------------------------------------------
# sample PID: "threads rss_mib cpu_ticks" of a process.
sample() {
    awk '/^Threads:/ {t=$2} /^VmRSS:/ {r=$2} END {printf "%s %.1f ", t, r/1024}' "/proc/$1/status"
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# wrk_run PORT CONNS PID LABEL: runs wrk; samples the server halfway; prints "label threads rss rps cpu_us".
wrk_run() {
    local port=$1 conns=$2 pid=$3 label=$4 out=$WORK/wrk-$4.txt before mid after requests
    before=$(sample "$pid")
    WRK_TOKEN=$TOKEN wrk -t2 -c"$conns" -d"${DURATION}s" -s "$HERE/wrk-mcp.lua" "http://127.0.0.1:$port/mcp/bench/prod" >"$out" 2>&1 &
    local wrk_pid=$!
    sleep "$(awk -v d="$DURATION" 'BEGIN {print d / 2}')"
    mid=$(sample "$pid")
    wait "$wrk_pid" || true
    after=$(sample "$pid")
    requests=$(sed -n 's/.*RESULT requests=\([0-9]*\).*/\1/p' "$out")
    local rps ticks
    rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' "$out")
    ticks=$(( ${after##* } - ${before##* } ))
    local non2xx
    non2xx=$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' "$out")
    echo "$label ${mid% *} ${rps:-0} $(awk -v t="$ticks" -v n="${requests:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", (n > 0) ? t / hz * 1e6 / n : 0}') ${non2xx:-0}"
}

# run_load BINARY: prints "label threads rss rps cpu_us" lines.
run_load() {
    local bin=$1 port streams=$STREAMS cap client_pid
    command -v wrk >/dev/null || { say "wrk is needed for the load mode"; return 0; }
    cap=$(( ($(ulimit -n) - 1024) / 2 ))
    [ "$streams" -le "$cap" ] || { say "open-file limit $(ulimit -n): $cap streams instead of $streams"; streams=$cap; }
    start_serve "$bin" $((streams + 1000))
    port=$SERVER_PORT
    wrk_run "$port" 32 "$SERVER_PID" c32
    wrk_run "$port" 256 "$SERVER_PID" c256-busy
    rm -f "$WORK/held.txt"
    python3 "$WORK/client.py" sse "$port" "$SERVER_PID" "$TOKEN" /mcp/bench/prod "$streams" "$SETTLE" hold >"$WORK/held.txt" &
    client_pid=$!
    while kill -0 "$client_pid" 2>/dev/null && ! [ -s "$WORK/held.txt" ]; do sleep 1; done
    read -r _ _ threads rss failed <"$WORK/held.txt" || true
    echo "streams-idle ${threads:-?} ${rss:-?} - - ${failed:-?}"
    wrk_run "$port" 32 "$SERVER_PID" "c32+$streams-streams"
    kill "$client_pid" 2>/dev/null; wait "$client_pid" 2>/dev/null || true
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

printf '\n# mcpctl open-connection benchmark — %s — %s CPUs; open-file limit %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
    "$(nproc)" "$(ulimit -n)"
printf '# load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
for mode in $MODES; do
    [ "$mode" = load ] && continue
    run "$BIN" "$mode" >"$WORK/new-$mode.txt"
    [ -z "${BASELINE_BIN:-}" ] || run "$BASELINE_BIN" "$mode" >"$WORK/base-$mode.txt"
done
if [ -n "${BASELINE_BIN:-}" ]; then
    printf '%-10s %6s | %-24s | %-24s\n' mode conns "baseline threads  RSS MiB" "this build threads  RSS MiB"
else
    printf '%-10s %6s | %-24s\n' mode conns "threads  RSS MiB"
fi
for mode in $MODES; do
    [ "$mode" = load ] && continue
    while read -r m level threads rss failed; do
        line=$(printf '%-10s %6s' "$m" "$level")
        if [ -n "${BASELINE_BIN:-}" ]; then
            base=$(awk -v l="$level" '$2 == l {printf "%7s %9s", $3, $4; if ($5 > 0) printf " (%s failed)", $5}' "$WORK/base-$mode.txt")
            line="$line | $(printf '%-24s' "${base:-   (not run)}")"
        fi
        extra=""; [ "$failed" -gt 0 ] && extra=" ($failed failed)"
        printf '%s | %7s %9s%s\n' "$line" "$threads" "$rss" "$extra"
    done <"$WORK/new-$mode.txt"
done
if [[ " $MODES " == *" load "* ]]; then
    for which in new base; do
        bin=$BIN; [ "$which" = base ] && bin=${BASELINE_BIN:-}
        [ -n "$bin" ] || continue
        printf '\n# load (%s, %ss wrk runs; threads and RSS sampled halfway)\n' "$([ "$which" = base ] && echo baseline || echo this build)" "$DURATION"
        printf '%-22s %8s %9s %10s %12s\n' run threads "RSS MiB" "req/s" "CPU us/req"
        run_load "$bin" | while read -r label threads rss rps cpu extra; do
            [ -n "${extra:-}" ] && [ "$extra" != 0 ] && cpu="$cpu ($extra not 2xx/served)"
            printf '%-22s %8s %9s %10s %12s\n' "$label" "$threads" "$rss" "$rps" "$cpu"
        done
    done
fi
printf '# load average after: %s (the machine is shared)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
