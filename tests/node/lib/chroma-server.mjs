// chroma-server.mjs - run the real Chroma 1.0 server (npm chromadb-js-bindings-linux-x64-gnu) on a directory.
//
//   const srv = await startChroma(dir, {port, logFile, timeoutMs});
//   srv.url, srv.port, srv.pid; await srv.stop() (SIGTERM, waits for exit); await srv.kill() (SIGKILL)
//
// The bindings' cli() blocks, so it runs in a child node process (this file's CLI mode, see below),
// bound to 127.0.0.1 only. Without a port a free one is picked (and retried if it was taken meanwhile).
// Readiness: GET /api/v2/heartbeat answers 200. On timeout or early exit the error carries the log tail.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const BINDING = 'chromadb-js-bindings-linux-x64-gnu/chromadb-js-bindings.linux-x64-gnu.node';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function tail(file, n = 40) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function heartbeat(url) {
  try {
    const r = await fetch(`${url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

async function startOnce(dir, port, logFile, timeoutMs) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [SELF, '--child', dir, String(port)], {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ANONYMIZED_TELEMETRY: 'False', NO_COLOR: '1' },
    detached: false,
  });
  fs.closeSync(fd);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await heartbeat(url)) {
      const wait = async (sig) => {
        if (!exited) { try { child.kill(sig); } catch { /* gone */ } }
        const t = setTimeout(() => { if (!exited) { try { child.kill('SIGKILL'); } catch { /* gone */ } } }, 15000);
        await exitPromise;
        clearTimeout(t);
        return exited;
      };
      return {
        url, port, pid: child.pid, logFile, dir,
        stop: () => wait('SIGTERM'),
        kill: () => wait('SIGKILL'),
        exited: () => exited,
      };
    }
    await sleep(100);
  }
  if (!exited) { child.kill('SIGKILL'); await exitPromise; }
  const why = exited && exited.code !== null && Date.now() < deadline
    ? `exited early (code ${exited.code}, signal ${exited.signal})` : `no heartbeat within ${timeoutMs} ms`;
  const err = new Error(`chroma server on ${dir} port ${port}: ${why}\n--- log tail (${logFile}) ---\n${tail(logFile)}`);
  err.earlyExit = !!(exited && Date.now() < deadline);
  throw err;
}

export async function startChroma(dir, opts = {}) {
  const timeoutMs = opts.timeoutMs ?? 60000;
  fs.mkdirSync(dir, { recursive: true });
  const logFile = opts.logFile ?? path.join(os.tmpdir(), `chroma-server-${process.pid}-${Date.now()}.log`);
  let lastErr;
  for (let attempt = 0; attempt < (opts.port ? 1 : 3); attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startOnce(path.resolve(dir), port, logFile, timeoutMs);
    } catch (e) {
      lastErr = e;
      if (!e.earlyExit) break; // a timeout is not a port clash: do not retry
    }
  }
  throw lastErr;
}

// --child DIR PORT: run the server in this process (blocks until killed). Used by startChroma;
// for manual use run tests/node/chroma-server.mjs DIR [PORT].
if (process.argv[1] === SELF && process.argv[2] === '--child') {
  const require = createRequire(import.meta.url);
  const b = require(BINDING);
  b.cli(['chroma', 'run', '--path', process.argv[3], '--port', process.argv[4], '--host', '127.0.0.1']);
  process.exit(0);
}
