// node tests/node/chroma-server.mjs DIR [PORT] [LOGFILE]
// Runs the real Chroma 1.0 server on DIR, bound to 127.0.0.1 (a free port when PORT is omitted),
// prints its URL, and stops it (SIGTERM) on Ctrl-C / SIGTERM.
import path from 'node:path';
import { startChroma } from './lib/chroma-server.mjs';

const [dir, port, logFile] = process.argv.slice(2);
if (!dir || (port && !/^\d+$/.test(port))) {
  console.error('usage: node tests/node/chroma-server.mjs DIR [PORT] [LOGFILE]');
  process.exit(2);
}
const srv = await startChroma(dir, { port: port ? Number(port) : undefined, logFile });
console.log(`chroma server: ${srv.url} (${srv.label}, pid ${srv.pid}, dir ${path.resolve(dir)}, log ${srv.logFile}); Ctrl-C stops it`);
const stop = async () => { await srv.stop(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => { if (srv.exited()) { console.error('chroma server exited:', JSON.stringify(srv.exited())); process.exit(1); } }, 500);
