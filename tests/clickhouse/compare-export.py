#!/usr/bin/env python3
"""compare-export.py EXPORT.jsonl EXPECTED.jsonl - `chroma-migrate export` of the ClickHouse fixture
against its expected.jsonl, record for record.

Per collection (export and expected.jsonl list collections in different orders: export in the
source's order, ClickHouse's uuid order; expected.jsonl in creation order), the records must come
in the same order: expected.jsonl is in insertion order (`seq`) and the ClickHouse source promises
storage order, which for rows chroma inserted is insertion order. That is stricter than comparing
multisets, and it is what makes `--duplicates first` mean "first inserted". If the order ever
differed, the multiset comparison below would say whether only the order is wrong.

Equality is strict: ids and documents as exact strings, embeddings bit for bit as float64, metadata
values with their types (1.0 is a float, 1 an int, true a bool; -0.0 keeps its sign).
Prints "<name>: N passed, N failed" lines (one check per record plus per-collection checks).
"""
import json
import math
import struct
import sys
from collections import Counter, OrderedDict


def bits(x):
    return struct.pack('<d', x)


def same(a, b, path='value'):
    """None if a and b are the same typed JSON value, else a description of the first difference."""
    if type(a) is not type(b):
        return f'{path}: {type(a).__name__} {a!r:.80} != {type(b).__name__} {b!r:.80}'
    if isinstance(a, float):
        if bits(a) != bits(b) and not (math.isnan(a) and math.isnan(b)):
            return f'{path}: float {a!r} != {b!r}'
        return None
    if isinstance(a, dict):
        if set(a) != set(b):
            return f'{path}: keys {sorted(a)!r:.200} != {sorted(b)!r:.200}'
        for k in a:
            d = same(a[k], b[k], f'{path}[{k!r}]')
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f'{path}: {len(a)} elements != {len(b)}'
        for i, (x, y) in enumerate(zip(a, b)):
            d = same(x, y, f'{path}[{i}]')
            if d:
                return d
        return None
    return None if a == b else f'{path}: {a!r:.80} != {b!r:.80}'


def load(path):
    by = OrderedDict()
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                by.setdefault(r['collection'], []).append(r)
    return by


def key(r):
    return json.dumps([r['id'], [bits(x).hex() for x in r['embedding']], r['document'], r['metadata']],
                      sort_keys=True)


def main():
    got, want = load(sys.argv[1]), load(sys.argv[2])
    passed = failed = 0
    shown = 0
    for name in sorted(set(got) | set(want)):
        g, w = got.get(name, []), want.get(name, [])
        if len(g) != len(w):
            print(f'collection {name}: export has {len(g)} records, expected.jsonl {len(w)}')
            failed += 1
        else:
            passed += 1
        for i, (a, b) in enumerate(zip(g, w)):
            exp = {k: b[k] for k in ('id', 'embedding', 'document', 'metadata')}
            act = {k: a[k] for k in ('id', 'embedding', 'document', 'metadata')}
            d = same(act, exp, f'{name} row {i} (seq {b["seq"]}, id {b["id"]!r})')
            if d:
                failed += 1
                if shown < 10:
                    print('DIFF', d)
                    shown += 1
            else:
                passed += 1
        # Only the order wrong? (explains a failure above; passes silently otherwise)
        if Counter(map(key, g)) == Counter(map(key, w)):
            passed += 1
        else:
            print(f'collection {name}: the records differ as multisets too')
            failed += 1
    # 'empty_one' has no rows, so it appears in neither file: inspect checks it.
    print(f'export-vs-expected: {passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
