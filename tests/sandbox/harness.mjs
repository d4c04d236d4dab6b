// Starts outlayer-sandbox on a free loopback port with a fresh temporary --home and talks JSON-RPC to it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exitCode = 1;
  throw new Error(msg);
}
export function check(cond, msg) {
  if (!cond) fail(msg);
  console.log('ok - ' + msg);
}

export class Sandbox {
  constructor(bin, { blockMs = 30, home = null, extra = [] } = {}) {
    this.bin = bin;
    this.blockMs = blockMs;
    this.home = home || mkdtempSync(join(tmpdir(), 'sandbox-'));
    this.ownHome = !home;
    this.extra = extra;
  }
  async start(port = 0) {
    this.proc = spawn(this.bin, ['--home', this.home, '--port', String(port), '--block-ms', String(this.blockMs),
      '--log-level', 'warn', ...this.extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.url = await new Promise((resolve, reject) => {
      let buf = '';
      const t = setTimeout(() => reject(new Error('sandbox did not start in 10 s')), 10000);
      this.proc.stdout.on('data', (d) => {
        buf += d.toString();
        const m = buf.match(/listening on (http:\/\/[0-9.]+:\d+)/);
        if (m) { clearTimeout(t); resolve(m[1]); }
      });
      this.proc.on('exit', (code) => { clearTimeout(t); reject(new Error('sandbox exited with ' + code)); });
    });
    this.port = Number(this.url.split(':')[2]);
    this.proc.removeAllListeners('exit');
    return this;
  }
  credentials() {
    return JSON.parse(readFileSync(join(this.home, 'credentials', 'test.near.json'), 'utf8'));
  }
  async rpc(method, params, { raw = false } = {}) {
    const res = await fetch(this.url, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'h', method, params }),
    });
    const body = await res.json();
    return raw ? { status: res.status, body } : body;
  }
  async kill(signal = 'SIGKILL') {
    if (!this.proc) return null;
    const p = new Promise((r) => this.proc.on('exit', (code, sig) => r(code ?? sig)));
    this.proc.kill(signal);
    const status = await p;
    this.proc = null;
    return status;
  }
  // SIGTERM: a clean shutdown must exit 0 (under sanitizers this also fails the test on leaks).
  async stop() {
    const status = await this.kill('SIGTERM');
    if (status !== null && status !== 0) fail('sandbox exited with ' + status + ' after SIGTERM');
    if (this.ownHome) rmSync(this.home, { recursive: true, force: true });
  }
}
