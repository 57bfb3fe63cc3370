#!/usr/bin/env python3
"""The layout's rules (docs/design.md, "Who may include whom"), checked on every
#include "..." of src/: the data flows one way and each room knows only the
rooms below it. A second rule: no string literal of a library file (any room
but cli/ and main) names a command-line flag ("--name"); the library marks an
error or a note (cm_note) with a kind and a hint and the CLI words the advice
(src/cli/advice.c); there is no exception. A third: no function longer than
MAX_FUNC lines unless the comment above it says why ("long because ..."). A
fourth: the files that decide on a graph a source offers (index/prior_index.h,
index/hnsw_reuse.*) work on the prior index object only and open no file of the
source (no util/fsutil.h, no open/fopen/stat/opendir/access calls). A fifth: every
file opens with a comment (what it holds and why it is shaped so). Prints one
line per broken rule and 'layout: N passed, N failed' (one check per rule and
file)."""
import os, re, sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
SRC = os.path.join(ROOT, "src")

# room -> rooms it may include (besides itself)
MAY = {
    "util": set(),
    "format": {"util"},
    "net": {"util", "format"},
    "index": {"util", "format"},
    "core": {"util", "format"},
    "legacy": {"core", "index", "net", "format", "util"},
    "chroma": {"core", "index", "net", "format", "util"},
    "verify": {"chroma", "legacy", "core", "index", "net", "format", "util"},
    "endpoints": {"chroma", "legacy", "core", "index", "net", "format", "util", "verify"},
    "cli": {"endpoints", "verify", "chroma", "legacy", "core", "index", "net", "format", "util"},
    "main": {"cli", "util"},
}
# Known exceptions, each to go (see docs/design.md, "Not yet"): none now.
EXCEPT = set()

# Files that see a source's graph only through index/prior_index.h.
NO_SOURCE_FILES = {"index/prior_index.h", "index/hnsw_reuse.h", "index/hnsw_reuse.c"}
FILE_CALL = re.compile(r"\b(open|fopen|stat|lstat|opendir|access)\s*\(")

# A function is its first line at column 0 through the '}' at column 0 that
# closes the '{' at column 0 below it (the style of src/: braces of a
# function on their own lines).
MAX_FUNC = 120
# Known long functions, each to go (see docs/design.md, "Not yet"): none now.
LONG_EXCEPT = set()

def long_functions(rel, text):
    """(name, first line, length) of each function over MAX_FUNC lines whose
    comment does not say why it is long."""
    lines = text.split("\n")
    out = []
    for i, l in enumerate(lines):
        if l != "{":
            continue
        s = i - 1
        while s > 0 and lines[s][:1].isspace():
            s -= 1
        e = i + 1
        while e < len(lines) and not lines[e].startswith("}"):
            e += 1
        n = e - s + 1
        m = re.search(r"(\w+)\s*\(", " ".join(lines[s:i]))
        name = m.group(1) if m else "?"
        if n <= MAX_FUNC or (rel, name) in LONG_EXCEPT:
            continue
        above = []
        k = s - 1
        while k >= 0 and lines[k].strip() and not lines[k].startswith("}"):
            above.append(lines[k])
            k -= 1
        if re.search(r"long because", " ".join(above), re.I):
            continue
        out.append((name, s + 1, n))
    return out

def room(rel):
    parts = rel.split("/")
    if len(parts) == 1:
        return {"endpoints.c": "endpoints", "endpoints.h": "endpoints", "main.c": "main"}.get(parts[0], "?")
    return parts[0]

FLAG = re.compile(r"--[a-z][a-z-]+")
LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"')
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)

def flag_literals(text):
    """(line, flag) of every string literal naming a flag. Comments are
    blanked first (keeping the line breaks) so that a quote inside one is
    not taken for a literal."""
    code = COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for m in LITERAL.finditer(code):
        f = FLAG.search(m.group(0))
        if f:
            yield code.count("\n", 0, m.start()) + 1, f.group(0)

passed = failed = 0
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
for d, _, files in os.walk(SRC):
    for f in sorted(files):
        if not f.endswith((".c", ".h")):
            continue
        path = os.path.join(d, f)
        rel = os.path.relpath(path, SRC)
        me = room(rel)
        ok = True
        for m in inc.finditer(open(path, encoding="utf-8").read()):
            target = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(1)))
            other = room(target)
            if other == me or other in MAY.get(me, set()) or (rel, target) in EXCEPT:
                continue
            print(f"layout: src/{rel} ({me}) includes src/{target} ({other}), which {me}/ may not")
            ok = False
        if rel in NO_SOURCE_FILES:
            text = open(path, encoding="utf-8").read()
            code = COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
            for m in inc.finditer(text):
                if m.group(1).endswith("util/fsutil.h"):
                    print(f"layout: src/{rel} includes util/fsutil.h; it works on the prior index object only")
                    ok = False
            for m in FILE_CALL.finditer(code):
                ln = code.count("\n", 0, m.start()) + 1
                print(f"layout: src/{rel}:{ln}: calls {m.group(1)}(); the source's files are its own "
                      "(index/prior_index.h)")
                ok = False
        if me not in ("cli", "main", "?"):
            flags_ok = True
            for ln, flag in flag_literals(open(path, encoding="utf-8").read()):
                print(f"layout: src/{rel}:{ln}: a string literal names the flag {flag}; "
                      "mark the error (cm_err_mark) or the note (cm_note.hint) and word the advice in src/cli/advice.c")
                flags_ok = False
            passed += flags_ok
            failed += not flags_ok
        if rel.endswith(".c"):
            for name, line, n in long_functions(rel, open(path, encoding="utf-8").read()):
                print(f"layout: src/{rel}:{line}: {name}() is {n} lines (over {MAX_FUNC}); split it, or say "
                      f"in the comment above it why it is long (\"long because ...\")")
                ok = False
        if not open(path, encoding="utf-8").read().startswith("/*"):
            print(f"layout: src/{rel} does not open with a comment saying what it holds and why")
            ok = False
        if me == "?":
            print(f"layout: src/{rel} is in no room the rules know")
            ok = False
        passed += ok
        failed += not ok
print(f"layout: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
