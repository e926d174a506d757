#!/usr/bin/env bash
# Builds one libFuzzer target (if needed) and runs it for a while on its seed corpus.
#   Tests/Fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags…]
# TARGET is a directory name under Tests/Fuzz (FuzzHTTPRequest, …) or the same without "Fuzz" (HTTPRequest).
# The build uses its own scratch path (.build-fuzz) so it never disturbs the normal build. New inputs
# the fuzzer finds go to .build-fuzz/corpus/TARGET (not committed); crashes go to .build-fuzz/crashes/TARGET.
# Prints the number of executions; exits non-zero when the fuzzer found a crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() { echo "usage: Tests/Fuzz/run.sh TARGET [SECONDS] [libFuzzer flags…]" >&2; exit 64; }
[ $# -ge 1 ] || usage
target="$1"
seconds="${2:-30}"
shift $(( $# >= 2 ? 2 : 1 ))
[ -d "Tests/Fuzz/$target" ] || target="Fuzz$target"
[ -d "Tests/Fuzz/$target" ] && [ "$target" != FuzzSupport ] || { echo "unknown fuzz target: $1" >&2; usage; }

scratch=.build-fuzz
export MCPCTL_FUZZ=1
# The Swift backtracer reads raw memory on a crash, which AddressSanitizer reports as a second error.
export SWIFT_BACKTRACE=enable=no
swift build -c release --scratch-path "$scratch" --product "$target" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing >&2

seeds="Tests/Fuzz/corpus/$target"
found="$scratch/corpus/$target"
crashes="$scratch/crashes/$target"
mkdir -p "$found" "$crashes"
log="$scratch/$target.log"
status=0
# -rss_limit_mb: the sanitizer's shadow memory counts against it; inputs stay small (-max_len).
"$scratch/release/$target" "$found" "$seeds" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" "$@" >"$log" 2>&1 || status=$?
executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
echo "$target: ${executions:-0} executions in ${seconds}s, exit status $status"
if [ "$status" -ne 0 ]; then
    grep -E "ERROR|invariant broken|Fatal error|SUMMARY|artifact_prefix|Test unit written" "$log" >&2 || tail -40 "$log" >&2
fi
exit "$status"
