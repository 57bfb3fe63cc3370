// chroma-client.mjs - the official JS client that goes with the Chroma server under test.
//
//   const { ChromaClient } = await chromaClient();      // $CM_CHROMA, else '1.0'
//
// Chroma 1.0.19 is paired with chromadb 3.0.6 (tests/node), Chroma 1.5.9 with chromadb 3.5.0
// (tests/node15): what a user of that release installs, and so what a user of it sees.
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { rigOf } from './chroma-server.mjs';

export async function chromaClient(chroma) {
  const rig = rigOf(chroma);
  const entry = createRequire(path.join(rig.dir, 'package.json')).resolve('chromadb');
  return import(pathToFileURL(entry).href);
}
