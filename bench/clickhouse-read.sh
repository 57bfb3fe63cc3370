#!/usr/bin/env bash
# clickhouse-read.sh - rows per second read from ClickHouse by chroma-migrate's ClickHouse source,
# against clickhouse-client exporting the same table to /dev/null, in the same run. Not a test.
#
# usage: bench/clickhouse-read.sh [ROWS [DIM]]        (default 100000 x 384)
# env:   CM_BIN   the chroma-migrate binary (default build/chroma-migrate)
#        RUNS     timed runs per reader, best kept (default 3)
#
# Starts Debian's clickhouse-server (tests/clickhouse/server.sh) in a temporary folder, creates
# chroma 0.3.x's two tables in database `bench` and fills `embeddings` with one collection of
# ROWS rows of DIM random doubles (INSERT ... SELECT from system.numbers; ids, documents and
# metadata like chroma's), then times:
#   chroma-migrate inspect   reads every record through the source (and analyses it: ids hashed
#                            for duplicates, metadata parsed) - the reading a migration does
#   chroma-migrate export    the same plus writing every value as JSON text (shortest doubles), once
# and the peak memory (RSS) of one inspect run.
#   curl, same query         the HTTP RowBinary answer alone, as the source requests it
#   clickhouse-client        SELECT * FROM embeddings FORMAT RowBinary over the native protocol
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
dim=${2:-384}
runs=${RUNS:-3}
bin=${CM_BIN:-build/chroma-migrate}
[ -x "$bin" ] || { echo "no $bin: run make first" >&2; exit 1; }
command -v clickhouse-client >/dev/null || { echo "clickhouse-client missing (scripts/install-test-deps.sh)" >&2; exit 1; }

. tests/clickhouse/server.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cm-bench-ch.XXXXXX")
trap 'ch_stop; rm -rf "$tmp"' EXIT
ch_start "$tmp/ch"

uuid=5f0c8d2e-1b7a-4c3e-9f21-8d6b4a2e7c10
ch_query "CREATE DATABASE bench" >/dev/null
ch_query "CREATE TABLE bench.collections (uuid UUID, name String, metadata String) ENGINE = MergeTree() ORDER BY uuid" >/dev/null
ch_query "CREATE TABLE bench.embeddings (collection_uuid UUID, uuid UUID, embedding Array(Float64), document Nullable(String), id Nullable(String), metadata Nullable(String)) ENGINE = MergeTree() ORDER BY collection_uuid" >/dev/null
ch_query "INSERT INTO bench.collections VALUES ('$uuid', 'bench', '{\"hnsw:space\": \"l2\"}')" >/dev/null
t0=$(date +%s.%N)
ch_query "INSERT INTO bench.embeddings SELECT toUUID('$uuid'), generateUUIDv4(),
  arrayMap(i -> rand(i + number * $dim) / 4294967296.0 * 2 - 1, range($dim)),
  concat('document number ', toString(number), ' with some text in it'),
  concat('id-', toString(number)),
  concat('{\"source\": \"file-', toString(number % 100), '.txt\", \"page\": ', toString(number % 1000), ', \"score\": 0.5}')
  FROM system.numbers LIMIT $rows" >/dev/null
ch_query "OPTIMIZE TABLE bench.embeddings FINAL" >/dev/null
t1=$(date +%s.%N)
bytes=$(ch_query "SELECT sum(data_uncompressed_bytes) FROM system.columns WHERE database = 'bench' AND table = 'embeddings'")
echo "table: $rows rows x $dim Float64 (uncompressed $((bytes / 1048576)) MiB), generated in $(echo "$t1 - $t0" | bc) s"
echo "ClickHouse $(ch_query 'SELECT version()'), $(nproc) cores; best of $runs runs each"
echo

best() { # label command... -> prints seconds of the fastest run, keeps it in $secs
  local b= t s e
  for _ in $(seq 1 "$runs"); do
    s=$(date +%s.%N)
    "$@" >/dev/null || { echo "$1 failed" >&2; exit 1; }
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
  done
  secs=$b
}
report() { # label seconds
  printf '%-44s %8.3f s %12.0f rows/s\n' "$1" "$2" "$(echo "$rows / $2" | bc -l)"
}

src="clickhouse://127.0.0.1:$CH_HTTP_PORT/bench"
best "$bin" inspect --quiet --json "$src"; inspect_s=$secs; report "chroma-migrate inspect (read + analyse)" "$inspect_s"
runs_saved=$runs; runs=1 # export is dominated by writing 38 M doubles as text: once is enough
best "$bin" export "$src"; export_s=$secs; report "chroma-migrate export (read + JSON text), 1 run" "$export_s"
runs=$runs_saved
q="SELECT id, embedding, document, metadata FROM embeddings WHERE collection_uuid = '$uuid' FORMAT RowBinary"
best curl -sS --fail --data-binary "$q" "http://127.0.0.1:$CH_HTTP_PORT/?database=bench&max_threads=1"; curl_s=$secs
report "curl, the source's HTTP query (max_threads=1)" "$curl_s"
best clickhouse-client --host 127.0.0.1 --port "$CH_TCP_PORT" --database bench \
  --query "SELECT * FROM embeddings FORMAT RowBinary"; client_s=$secs
report "clickhouse-client SELECT * ... RowBinary" "$client_s"
rss=$(/usr/bin/time -f %M "$bin" inspect --quiet --json "$src" 2>&1 >/dev/null | tail -n 1)
echo
echo "chroma-migrate inspect peak memory: $((rss / 1024)) MiB (the table is $((bytes / 1048576)) MiB: rows are streamed)"
printf 'ratio chroma-migrate inspect / clickhouse-client: %.2f (rows/s; > 1 means faster)\n' "$(echo "$client_s / $inspect_s" | bc -l)"
printf 'ratio chroma-migrate export  / clickhouse-client: %.2f\n' "$(echo "$client_s / $export_s" | bc -l)"
