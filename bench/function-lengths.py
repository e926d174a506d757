#!/usr/bin/env python3
"""Lines per Swift function body (`func` / `init`), found by brace matching.

Usage: bench/function-lengths.py DIR [DIR...]
Prints the longest functions, the mean, and the count of `throws -> Result<` mixtures.
Strings, comments and multi-line string literals are skipped when matching braces.
"""
import re, sys, pathlib

DECL = re.compile(r'\b(func\s+[^\s(<]+|init[?!]?)\s*[(<]')

def strip(src):
    """Blank out comments and string literals, keeping newlines, so braces inside them do not count."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith('"""', i):
            j = src.find('"""', i + 3); j = n if j < 0 else j + 3
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif src.startswith('//', i):
            j = src.find('\n', i); j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif src.startswith('/*', i):
            j = src.find('*/', i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif src[i] == '"':
            j, depth = i + 1, 0
            while j < n and src[j] != '\n':
                if src[j] == '\\' and j + 1 < n and src[j + 1] == '(':
                    depth += 1; j += 2; continue
                if depth and src[j] == ')': depth -= 1
                elif src[j] == '\\': j += 1
                elif src[j] == '"' and depth == 0: break
                j += 1
            out.append(' ' * (j + 1 - i)); i = j + 1
        else:
            out.append(src[i]); i += 1
    return ''.join(out)

def functions(path):
    text = strip(path.read_text())
    for m in DECL.finditer(text):
        # The body is the first `{` after the signature, unless a protocol requirement ends first.
        j = m.end()
        depth = 0
        while j < len(text):
            c = text[j]
            if c in '(<[': depth += 1
            elif c in ')>]': depth -= 1
            elif c == '{' and depth <= 0: break
            elif c == '\n' and depth <= 0 and text[m.end():j].strip().endswith(('}',)): j = -1; break
            j += 1
        if j < 0 or j >= len(text): continue
        k, level = j, 0
        while k < len(text):
            if text[k] == '{': level += 1
            elif text[k] == '}':
                level -= 1
                if level == 0: break
            k += 1
        start = text.count('\n', 0, m.start()) + 1
        end = text.count('\n', 0, k) + 1
        yield (end - start + 1, f"{path}:{start}", m.group(1))

def main(dirs):
    rows, mixtures = [], 0
    for d in dirs:
        for p in sorted(pathlib.Path(d).rglob('*.swift')):
            rows += functions(p)
            mixtures += len(re.findall(r'throws(\([^)]*\))?\s*->\s*Result<', strip(p.read_text())))
    if not rows:
        print("no functions found"); return
    rows.sort(reverse=True)
    print(f"functions: {len(rows)}  mean lines: {sum(r[0] for r in rows) / len(rows):.1f}  "
          f"longest: {rows[0][0]} ({rows[0][2]} at {rows[0][1]})")
    print(f"`throws -> Result<` mixtures: {mixtures}")
    for n, where, name in rows[:8]:
        print(f"  {n:4d}  {name:32s} {where}")

if __name__ == '__main__':
    main(sys.argv[1:] or ['Sources'])
