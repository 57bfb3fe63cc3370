// chroma-server.mjs - run a real Chroma server (npm chromadb-js-bindings-linux-x64-gnu) on a directory.
//
//   const srv = await startChroma(dir, {port, logFile, timeoutMs, chroma});
//   srv.url, srv.port, srv.pid, srv.chroma ('1.0' | '1.5'), srv.label ('Chroma 1.0.19' | 'Chroma 1.5.9');
//   await srv.stop() (SIGTERM, waits for exit); await srv.kill() (SIGKILL)
//
// Two servers (`chroma`, default $CM_CHROMA, else '1.0'):
//   '1.0'  Chroma 1.0.19: binding 1.0.5 in tests/node (built from Chroma's 1.0.19 release commit; every
//          release's /api/v2/version says "1.0.0", so the label comes from here, not from the server);
//   '1.5'  Chroma 1.5.9: binding 1.3.4 in tests/node15 (its own package.json, so npm never replaces
//          1.0.5). It needs glibc 2.39: node is started through the loader of Debian 13's libc6,
//          unpacked into tests/node15/glibc by scripts/install-chroma15-libc.sh, for that process only.
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
const NODE_DIR = path.resolve(path.dirname(SELF), '..');
export const RIGS = {
  '1.0': { label: 'Chroma 1.0.19', dir: NODE_DIR },
  // spinsOnStop: this binding catches SIGTERM/SIGINT, logs "Received SIGTERM, shutting down service",
  // shuts the service down, then loops in its signal handler re-raising the (blocked) signal at
  // 100% CPU and never exits (seen here, with the handler on the stack in gdb). stop() waits for
  // that shutdown (the log line, then no heartbeat) and only then kills the process.
  '1.5': { label: 'Chroma 1.5.9', dir: path.resolve(NODE_DIR, '../node15'), glibc: path.resolve(NODE_DIR, '../node15/glibc'),
           spinsOnStop: true },
};

export function rigOf(chroma = process.env.CM_CHROMA || '1.0') {
  const rig = RIGS[chroma];
  if (!rig) throw new Error(`unknown Chroma server '${chroma}' (known: ${Object.keys(RIGS).join(', ')})`);
  return { chroma, ...rig };
}

// The command that runs this file's child mode for a rig: node itself, or node through the newer
// C library's loader.
function childCommand(rig, args) {
  if (!rig.glibc) return [process.execPath, args];
  const lib = path.join(rig.glibc, 'usr/lib/x86_64-linux-gnu');
  const loader = path.join(lib, 'ld-linux-x86-64.so.2');
  if (!fs.existsSync(loader)) throw new Error(`${rig.label} needs ${loader}: run scripts/install-test-deps.sh`);
  return [loader, ['--library-path', `${lib}:/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu`, process.execPath, ...args]];
}

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

// The part of the log written since `from` (bytes): panic messages first, then the last lines.
function logExcerpt(file, from = 0, n = 15) {
  let text;
  try {
    text = fs.readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '(no log)';
  }
  const lines = text.split('\n');
  const key = [];
  lines.forEach((l, i) => { if (/panicked at|Address already in use|^Error/i.test(l) && key.length < 6) key.push(l, lines[i + 1] ?? ''); });
  return (key.length ? `${key.join('\n')}\n...\n` : '') + lines.slice(-n).join('\n');
}

// servers still running when this process exits (even on an uncaught exception) are killed
const live = new Set();
process.on('exit', () => { for (const c of live) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function heartbeat(url) {
  try {
    const r = await fetch(`${url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

// Whether the server logged its shutdown (after byte `from` of its log) and stopped answering,
// within ms.
async function shutDown(url, logFile, from, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    let logged = false;
    try { logged = /shutting down service/.test(fs.readFileSync(logFile).subarray(from).toString('utf8')); } catch { /* none yet */ }
    if (logged && !(await heartbeat(url))) return true;
    await sleep(100);
  }
  return false;
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function startOnce(dir, port, logFile, timeoutMs, rig) {
  // the heartbeat cannot tell our server from another one on the same port: make sure it is free
  if (!(await portIsFree(port))) {
    const err = new Error(`chroma server on ${dir}: port ${port} is already in use on 127.0.0.1`);
    err.portClash = true;
    throw err;
  }
  const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const fd = fs.openSync(logFile, 'a');
  const [cmd, args] = childCommand(rig, [SELF, '--child', dir, String(port), rig.chroma]);
  const child = spawn(cmd, args, {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ANONYMIZED_TELEMETRY: 'False', NO_COLOR: '1' },
    detached: false,
  });
  fs.closeSync(fd);
  live.add(child);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; live.delete(child); resolve(exited); });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await heartbeat(url)) {
      const wait = async (sig) => {
        if (!exited) { try { child.kill(sig); } catch { /* gone */ } }
        if (sig !== 'SIGKILL' && rig.spinsOnStop && !exited) {
          // exited.shutdown: the server shut down on the signal and was then killed (see RIGS)
          const shut = await shutDown(url, logFile, logStart, 15000);
          if (!exited) { try { child.kill('SIGKILL'); } catch { /* gone */ } }
          await exitPromise;
          if (shut) exited = { ...exited, shutdown: sig };
          return exited;
        }
        const t = setTimeout(() => { if (!exited) { try { child.kill('SIGKILL'); } catch { /* gone */ } } }, 15000);
        await exitPromise;
        clearTimeout(t);
        return exited;
      };
      return {
        url, port, pid: child.pid, logFile, dir, chroma: rig.chroma, label: rig.label,
        stop: () => wait('SIGTERM'),
        kill: () => wait('SIGKILL'),
        exited: () => exited,
      };
    }
    await sleep(100);
  }
  const early = exited;
  if (!exited) { child.kill('SIGKILL'); await exitPromise; }
  const why = early ? `exited before answering (code ${early.code}, signal ${early.signal})` : `no heartbeat within ${timeoutMs} ms`;
  const excerpt = logExcerpt(logFile, logStart);
  const err = new Error(`${rig.label} server on ${dir} port ${port}: ${why}\n--- log (${logFile}) ---\n${excerpt}`);
  err.portClash = /Address already in use/i.test(excerpt);
  throw err;
}

export async function startChroma(dir, opts = {}) {
  const timeoutMs = opts.timeoutMs ?? 60000;
  const rig = rigOf(opts.chroma);
  fs.mkdirSync(dir, { recursive: true });
  const logFile = opts.logFile ?? path.join(os.tmpdir(), `chroma-server-${process.pid}-${Date.now()}.log`);
  let lastErr;
  for (let attempt = 0; attempt < (opts.port ? 1 : 3); attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startOnce(path.resolve(dir), port, logFile, timeoutMs, rig);
    } catch (e) {
      lastErr = e;
      if (!e.portClash) break; // retry only when another process took the free port meanwhile
    }
  }
  throw lastErr;
}

// --child DIR PORT: run the server in this process until killed. Used by startChroma; for manual use
// run tests/node/chroma-server.mjs DIR [PORT]. The blocking cli() runs in a worker thread so that the
// main thread can watch the parent: if the parent dies without stopping us (crash, SIGKILL), we go too.
if (process.argv[1] === SELF && process.argv[2] === '--child') {
  const { Worker } = await import('node:worker_threads');
  const ppid = process.ppid;
  const w = new Worker(new URL(import.meta.url), { argv: ['--worker', process.argv[3], process.argv[4], process.argv[5]] });
  w.on('error', (e) => { console.error(`chroma-server child: ${e.stack || e}`); process.kill(process.pid, 'SIGKILL'); });
  // Chroma 1.0.19 leaves SIGTERM to node, which dies of it; Chroma 1.5.9 catches it, shuts down
  // and returns from cli(), and its handler stays installed, so a SIGTERM we sent ourselves would be
  // swallowed: a clean return exits 0 instead.
  w.on('exit', (code) => (code ? process.kill(process.pid, 'SIGKILL') : process.exit(0)));
  // process.exit() would wait for the worker, which is stuck in native code: kill ourselves instead
  setInterval(() => { if (process.ppid !== ppid) process.kill(process.pid, 'SIGKILL'); }, 500);
} else if (process.argv[1] === SELF && process.argv[2] === '--worker') {
  const require = createRequire(path.join(rigOf(process.argv[5]).dir, 'package.json'));
  const b = require(BINDING);
  b.cli(['chroma', 'run', '--path', process.argv[3], '--port', process.argv[4], '--host', '127.0.0.1']);
}
