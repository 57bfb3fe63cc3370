// duckdb-scan.mjs FILE.parquet - the benchmark's reference: DuckDB reading
// every column of a legacy embeddings file (all values materialised by the
// aggregates). Prints seconds.
import { DuckDBInstance } from '@duckdb/node-api';
const f = process.argv[2].replaceAll("'", "''");
const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await db.connect();
const t0 = performance.now();
await con.runAndReadAll(`SELECT count(*), sum(len(embedding)), sum(list_sum(embedding)), sum(length(document)),
  sum(length(id)), sum(length(metadata)), count(DISTINCT collection_uuid), sum(length(uuid)) FROM read_parquet('${f}')`);
console.log(((performance.now() - t0) / 1000).toFixed(3));
