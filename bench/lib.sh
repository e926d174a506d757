# Shared by the bench scripts (source it after setting ROOT).

# need COMMAND DEBIAN-PACKAGE: installs the package when the command is missing.
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "installing $2 (for $1)…" >&2
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
}

# mcpctl_bin: prints the binary to measure. $MCPCTL_BIN if set; else the binary operators install (README
# "Install": the Swift runtime and Foundation linked in), built into .build-static when missing.
mcpctl_bin() {
    local bin=${MCPCTL_BIN:-$ROOT/.build-static/release/mcpctl}
    if [ ! -x "$bin" ]; then
        if [ -n "${MCPCTL_BIN:-}" ]; then echo "MCPCTL_BIN=$MCPCTL_BIN is not executable" >&2; return 1; fi
        echo "building $bin (swift build -c release --static-swift-stdlib)…" >&2
        (cd "$ROOT" && swift build -c release --static-swift-stdlib --product mcpctl --scratch-path .build-static >&2) || return 1
    fi
    printf '%s\n' "$bin"
}

# port_in_use PORT: true when something accepts connections on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: prints a random port on 127.0.0.1 that nothing listens on, below the kernel's ephemeral range (a port
# in it may be the local end of one of the many connections a run opens, and then cannot be bound).
free_port() {
    local p low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$low" -gt 12000 ] 2>/dev/null || low=32768
    for _ in $(seq 1 100); do
        p=$((10000 + RANDOM % (low - 10000)))
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    echo "no free port" >&2
    return 1
}

# wait_http URL PID: waits up to 10 s for URL to answer; fails at once when PID has exited.
wait_http() {
    for _ in $(seq 1 100); do
        kill -0 "$2" 2>/dev/null || return 1
        curl -s -o /dev/null -m 1 "$1" && return 0
        sleep 0.1
    done
    return 1
}

# need_load_tools: nginx, wrk and curl, installed from Debian when missing (only as root); sets NGINX.
need_load_tools() {
    local missing=()
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || { echo "missing ${missing[*]}: install them (apt-get install ${missing[*]})" >&2; return 1; }
        echo "installing ${missing[*]} from Debian…" >&2
        # policy-rc.d keeps the packaged nginx service from starting on :80.
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null; } ||
            return 1
    fi
    NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
}

# start_nginx_upstream DIR: runs nginx with bench/nginx-upstream.conf in the background, its files in DIR.
# Sets NGINX_PID, NGINX_PORT (answers every request with one fixed JSON-RPC tools/call result) and
# PROXY_PORT (nginx as a bare reverse proxy to NGINX_PORT). Needs NGINX (need_load_tools).
start_nginx_upstream() {
    local dir=$1 user_line=""
    NGINX_PORT=$(free_port) || return 1
    PROXY_PORT=$(free_port) || return 1
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && user_line="user root;"
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@PROXY_PORT@|$PROXY_PORT|g" -e "s|@USER@|$user_line|" \
        "$ROOT/bench/nginx-upstream.conf" >"$dir/nginx.conf"
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" 2>>"$dir/nginx-error.log" &
    NGINX_PID=$!
    wait_http "http://127.0.0.1:$NGINX_PORT/" "$NGINX_PID" || { cat "$dir/nginx-error.log" >&2; echo "nginx did not start" >&2; return 1; }
}

# wrk_field LINE NAME: the value of NAME=… in the RESULT line printed by bench/wrk-mcp.lua's done().
wrk_field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<"$1"; }

# perf_start PID OUT: samples process PID with `perf record -g` (cpu-clock, 999 Hz) into OUT/perf.data; sets PERF_PID.
perf_start() {
    command -v perf >/dev/null || { echo "perf is needed (Debian: linux-perf)" >&2; return 1; }
    mkdir -p "$2"
    perf record -e cpu-clock -F 999 -g -p "$1" -o "$2/perf.data" 2>"$2/perf-record.log" &
    PERF_PID=$!
    sleep 0.5
}

# perf_finish OUT: stops the sampling, prints the top symbols by self time, and writes OUT/stacks.folded and
# OUT/flame.svg (bench/flamegraph.py).
perf_finish() {
    kill -INT "$PERF_PID"; wait "$PERF_PID" || true
    perf report -i "$1/perf.data" --no-children --stdio --percent-limit 0.7 -g none 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -n 45
    perf script -i "$1/perf.data" 2>/dev/null | python3 "$ROOT/bench/flamegraph.py" --folded "$1/stacks.folded" >"$1/flame.svg"
}
