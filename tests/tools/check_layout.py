#!/usr/bin/env python3
"""The layout's rules (docs/design.md, "Who may include whom"), checked on every
#include "..." of src/: the data flows one way and each room knows only the
rooms below it. A second rule: no string literal of a library file (any room
but cli/ and main) names a command-line flag ("--name"); the library marks an
error with a kind and a hint and the CLI words the advice (src/cli/advice.c).
A literal may name one only with a "flag-ok:" comment on its line or the four
lines above saying why. Prints one line per broken rule and
'layout: N passed, N failed' (one check per rule and file)."""
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
# Known exceptions, each to go (see docs/design.md, "Not yet"):
EXCEPT = {
    # the directory writer converts a legacy hnswlib index it is given by path
    ("chroma/dir_writer.c", "legacy/index_reuse_ext.h"),
}

def room(rel):
    parts = rel.split("/")
    if len(parts) == 1:
        return {"endpoints.c": "endpoints", "endpoints.h": "endpoints", "main.c": "main"}.get(parts[0], "?")
    return parts[0]

FLAG = re.compile(r"--[a-z][a-z-]+")
LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"')
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)

def flag_literals(text):
    """(line, flag) of every string literal naming a flag without a flag-ok
    comment near it. Comments are blanked first (keeping the line breaks) so
    that a quote inside one is not taken for a literal."""
    code = COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    lines = text.split("\n")
    for m in LITERAL.finditer(code):
        f = FLAG.search(m.group(0))
        if not f:
            continue
        ln = code.count("\n", 0, m.start())
        if any("flag-ok:" in l for l in lines[max(0, ln - 4):ln + 1]):
            continue
        yield ln + 1, f.group(0)

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
        if me not in ("cli", "main", "?"):
            flags_ok = True
            for ln, flag in flag_literals(open(path, encoding="utf-8").read()):
                print(f"layout: src/{rel}:{ln}: a string literal names the flag {flag}; "
                      "mark the error (cm_err_mark) and word the advice in src/cli/advice.c")
                flags_ok = False
            passed += flags_ok
            failed += not flags_ok
        if me == "?":
            print(f"layout: src/{rel} is in no room the rules know")
            ok = False
        passed += ok
        failed += not ok
print(f"layout: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
