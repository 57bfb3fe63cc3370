// store-names.mjs STORE_DIR - the collection names of a legacy store (as DuckDB reads them), one per line.
import { readLegacyStore } from '../node/lib/legacy-oracle.mjs';

const s = await readLegacyStore(process.argv[2]);
for (const c of s.collections) console.log(c.name);
process.exit(0);
