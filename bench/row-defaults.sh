#!/bin/sh
# Counts silent defaults in row decoding (`row.string("x") ?? ""`, `.int(...) ?? 0`, `.bytes ?? []`) per file.
# Usage: bench/row-defaults.sh [DIR]   (default Sources/MCPAuth)
dir=${1:-Sources/MCPAuth}
grep -rnoE '(\.string|\.int|\.bytes)(\("[a-z_]+"\))?\s*\?\?\s*("[^"]*"|0|\[\])' "$dir" | awk -F: '{print $1}' | sort | uniq -c
printf 'total: '; grep -rnoE '(\.string|\.int|\.bytes)(\("[a-z_]+"\))?\s*\?\?\s*("[^"]*"|0|\[\])' "$dir" | wc -l
