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
