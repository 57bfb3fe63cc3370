// asked-ids.mjs - from a stand-in's request log (--log), the ids asked for by id (POST .../get
// {"ids": [...]}): prints "TOTAL DISTINCT"; exit 1 when one request names an id twice.
// usage: node tests/http-source/asked-ids.mjs REQUEST_LOG
import fs from 'node:fs';

const asked = [];
let repeated = 0;
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
  const m = line.match(/^POST \S+\/get (\{"ids".*)$/);
  if (!m) continue;
  const ids = JSON.parse(m[1]).ids;
  if (new Set(ids).size !== ids.length) repeated++;
  asked.push(...ids);
}
console.log(`${asked.length} ${new Set(asked).size}`);
process.exit(repeated ? 1 : 0);
