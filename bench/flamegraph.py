#!/usr/bin/env python3
"""Folds `perf script` output into one line per stack ("outer;...;inner count") and draws it as an SVG
flame graph (the layout of Brendan Gregg's flamegraph.pl: width = samples, x order = name, y = depth).

Usage: perf script | bench/flamegraph.py [--folded FILE] > flame.svg
"""
import argparse
import collections
import html
import re
import sys


def fold(lines):
    stacks = collections.Counter()
    frames = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                stacks[";".join(reversed(frames))] += 1
            frames = []
            continue
        if line[0] not in " \t":
            continue  # the sample's header line (command, pid, time, event)
        match = re.match(r"\s*[0-9a-f]+\s+(.*?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)$", line)
        if match:
            name = match.group(1)
            if name == "[unknown]":
                name = "[" + match.group(2).rsplit("/", 1)[-1] + "]"
            frames.append(simplify(name))
    if frames:
        stacks[";".join(reversed(frames))] += 1
    return stacks


def simplify(name):
    # Swift symbols demangle long; keep them readable in a 1200-px graph.
    name = re.sub(r"\(.*\)", "()", name)
    return name.replace(";", ":")


def tree(stacks):
    root = {"name": "all", "count": 0, "children": {}}
    for stack, count in stacks.items():
        node = root
        node["count"] += count
        for frame in stack.split(";"):
            node = node["children"].setdefault(frame, {"name": frame, "count": 0, "children": {}})
            node["count"] += count
    return root


def svg(root, width=1200, row=16):
    total = max(root["count"], 1)
    rects = []

    def walk(node, x, depth):
        w = node["count"] / total * width
        if w < 0.3:
            return
        rects.append((x, depth, w, node["name"], node["count"]))
        child_x = x
        for child in sorted(node["children"].values(), key=lambda c: c["name"]):
            walk(child, child_x, depth + 1)
            child_x += child["count"] / total * width

    walk(root, 0.0, 0)
    depth = max((d for _, d, _, _, _ in rects), default=0) + 1
    height = depth * row + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">']
    for x, d, w, name, count in rects:
        y = height - (d + 1) * row - 10
        hue = 20 + (hash(name) % 40)
        label = html.escape(name)
        pct = count / total * 100
        out.append(f'<g><title>{label} ({count} samples, {pct:.2f}%)</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" fill="hsl({hue},90%,60%)"/>')
        if w > 40:
            chars = int(w / 7)
            text = html.escape(name[:chars - 2] + ".." if len(name) > chars else name)
            out.append(f'<text x="{x + 2:.1f}" y="{y + row - 4}">{text}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folded", help="also write the folded stacks to this file")
    args = parser.parse_args()
    stacks = fold(sys.stdin)
    if args.folded:
        with open(args.folded, "w") as f:
            for stack, count in sorted(stacks.items()):
                f.write(f"{stack} {count}\n")
    sys.stdout.write(svg(tree(stacks)))


if __name__ == "__main__":
    main()
