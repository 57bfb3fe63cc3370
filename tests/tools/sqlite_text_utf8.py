#!/usr/bin/env python3
"""Every TEXT value of a Chroma persistent directory's chroma.sqlite3 is strict
UTF-8 (nothing invalid written). usage: sqlite_text_utf8.py DB; exit 1, naming
the first values that are not, otherwise exit 0. The FTS5 shadow tables are
left out (they hold SQLite's own index data)."""
import sqlite3, sys


def bad_text(db):
    con = sqlite3.connect(db)
    con.text_factory = bytes
    bad = []
    tables = [r[0].decode() for r in con.execute("select name from sqlite_master where type='table'")]
    for t in tables:
        if "_fts" in t:
            continue
        for c in [r[1].decode() for r in con.execute(f'pragma table_info("{t}")')]:
            for (v,) in con.execute(f'select "{c}" from "{t}" where typeof("{c}") = \'text\''):
                try:
                    v.decode("utf-8", "strict")
                except UnicodeDecodeError:
                    bad.append((t, c, v[:40]))
    con.close()
    return bad


if __name__ == "__main__":
    found = bad_text(sys.argv[1])
    for t, c, v in found[:5]:
        print(f"{sys.argv[1]}: {t}.{c} holds text that is not UTF-8: {v!r}")
    sys.exit(1 if found else 0)
