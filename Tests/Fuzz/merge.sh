#!/usr/bin/env bash
# Adds to a target's committed seed corpus the inputs of its last runs (.build-fuzz/corpus/TARGET) that reach
# code edges the seeds do not (hit counts ignored, so the corpus stays small).
#   Tests/Fuzz/merge.sh TARGET
set -euo pipefail
cd "$(dirname "$0")/../.."
target="$1"
[ -d "Tests/Fuzz/$target" ] || target="Fuzz$target"
[ -x ".build-fuzz/release/$target" ] || { echo "build and run it first: Tests/Fuzz/run.sh $1 SECONDS" >&2; exit 64; }
before=$(ls "Tests/Fuzz/corpus/$target" | wc -l)
SWIFT_BACKTRACE=enable=no ".build-fuzz/release/$target" -set_cover_merge=1 -use_counters=0 -max_len=4096 \
    "Tests/Fuzz/corpus/$target" ".build-fuzz/corpus/$target" >".build-fuzz/$target.merge.log" 2>&1
echo "$target: corpus $before -> $(ls "Tests/Fuzz/corpus/$target" | wc -l) files, $(cat "Tests/Fuzz/corpus/$target"/* | wc -c) bytes"
