#!/usr/bin/env bash
# Benchmark: mcpctl's own SHA-256 (Sources/MCPAuth/Crypto/SHA256.swift) in MB/s, built into a small driver
# (bench/sha256-main.swift) with the same optimisation as a release build (-O, whole module).
#
#   bench/sha256.sh                          # MIB=256 ROWS=1000000 ROW_BYTES=264
#   SHA256_SOURCE=/path/to/SHA256.swift bench/sha256.sh    # measure another version (e.g. main's)
#
# Prints (a) bulk MB/s over one MIB-MiB message fed in 64 KiB updates and (b) rows/s for ROWS messages of
# 32 + ROW_BYTES bytes (a previous hash and an audit row's encoding: what `audit verify` hashes per row), each
# through the one-message hasher, and (c) when SHA256MultiBuffer.swift sits next to the source, the same rows
# through the multi-buffer hasher (four rows per SIMD lane set), as `audit verify` runs it. Wall figures move
# with the machine's load; the per-CPU-second figures much less.
# Baseline for scale, same run: `sha256sum` over the same MIB of zeros (coreutils; whether it uses the CPU's
# SHA extensions depends on how it was built; mcpctl's code is portable Swift and does not).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
command -v swiftc >/dev/null || { echo "swiftc (the Swift toolchain) is needed" >&2; exit 2; }
need /usr/bin/time time
MIB=${MIB:-256}
ROWS=${ROWS:-1000000}
ROW_BYTES=${ROW_BYTES:-264}
SOURCE=${SHA256_SOURCE:-$ROOT/Sources/MCPAuth/Crypto/SHA256.swift}

TMP=$(mktemp -d /tmp/mcpctl-bench-sha256.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cp "$ROOT/bench/sha256-main.swift" "$TMP/main.swift"   # top-level code must live in main.swift
# The multi-buffer hasher (four messages per SIMD lane set) is measured too when it sits next to SOURCE.
MULTI=$(dirname "$SOURCE")/SHA256MultiBuffer.swift
set -- "$SOURCE"; [ -f "$MULTI" ] && set -- "$SOURCE" "$MULTI" -D MULTIBUFFER
swiftc -O -wmo -module-name SHA256Bench "$@" "$TMP/main.swift" -o "$TMP/sha256-bench" 2>&1 \
    | grep -v 'warning: ' || true
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); source: $SOURCE"
"$TMP/sha256-bench" "$MIB" "$ROWS" "$ROW_BYTES"
# The baseline's own CPU time (user+sys of sha256sum alone, not of the pipe feeding it), as for mcpctl's.
/usr/bin/time -f "%e %U %S" -o "$TMP/time" sha256sum < <(head -c $((MIB * 1048576)) /dev/zero) >/dev/null
read -r wall user sys <"$TMP/time"
python3 -c "import sys; b=int(sys.argv[1])*1048576; w=float(sys.argv[2]); c=float(sys.argv[3])+float(sys.argv[4]); print(f'baseline sha256sum (coreutils): {b/w/1e6:.0f} MB/s wall, {b/max(c,1e-3)/1e6:.0f} MB/s per CPU-second')" "$MIB" "$wall" "$user" "$sys"
