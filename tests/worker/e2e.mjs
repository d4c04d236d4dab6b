// End to end: outlayer-sandbox with the OutLayer contract deployed, outlayer-coordinator (SQLite) and
// outlayer-worker (monitor + reporter) as real processes on loopback. A user's request_execution for a
// C repository (a local git repository over file://) is built, run and answered on chain; a second request
// for the same commit is served from the cache; a program that exits 1 is reported as a failure. Prints
// the latency from the request's block to the OutLayer callback and to the end of the caller's transaction.
// Usage: node e2e.mjs outlayer-sandbox outlayer-coordinator outlayer-worker outlayer.wasm guests-dir
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner, nearToYocto, teraToGas, actions } from 'near-api-js';
import { Sandbox, check, fail } from '../sandbox/harness.mjs';

const [sbBin, coordBin, workerBin, contractWasm, guestsDir] = process.argv.slice(2);
const BLOCK_MS = Number(process.env.E2E_BLOCK_MS || 100);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tmp = mkdtempSync(join(tmpdir(), 'outlayer-e2e-'));
chmodSync(tmp, 0o755); // the build user clones from here
const children = [];
const cleanup = () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } };
process.on('exit', cleanup);

// files: name -> source path to copy, or { text } to write.
function gitRepo(name, files) {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, src] of Object.entries(files)) {
    if (typeof src === 'string') copyFileSync(src, join(dir, f));
    else writeFileSync(join(dir, f), src.text);
  }
  const git = (...a) => execFileSync('git', ['-C', dir, ...a], { encoding: 'utf8' }).trim();
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init');
  return { url: 'file://' + dir, commit: git('rev-parse', 'HEAD') };
}

const sb = await new Sandbox(sbBin, { blockMs: BLOCK_MS }).start();
try {
  const provider = new JsonRpcProvider({ url: sb.url });
  const root = new Account('test.near', provider, KeyPairSigner.fromSecretKey(sb.credentials().private_key));
  const keys = {};
  const mk = async (name, near) => {
    keys[name] = KeyPair.fromRandom('ed25519');
    await root.createAccount({ newAccountId: name, publicKey: keys[name].getPublicKey(), nearToTransfer: nearToYocto(near) });
  };
  const acct = (name) => new Account(name, provider, new KeyPairSigner(keys[name]));
  await mk('outlayer.test.near', 50);
  await mk('operator.test.near', 20);
  await mk('user.test.near', 50);
  await acct('outlayer.test.near').deployContract(readFileSync(contractWasm));
  await acct('outlayer.test.near').callFunction({ contractId: 'outlayer.test.near', methodName: 'new',
    args: { owner_id: 'outlayer.test.near', operator_id: 'operator.test.near' }, gas: teraToGas(100) });
  // The worker's key: a function-call key of the operator account for resolve_execution only.
  const wk = KeyPair.fromRandom('ed25519');
  await acct('operator.test.near').addFunctionCallAccessKey({ publicKey: wk.getPublicKey(), contractId: 'outlayer.test.near',
    methodNames: ['resolve_execution'], allowance: nearToYocto(5) });
  const keyFile = join(tmp, 'worker-key.json');
  writeFileSync(keyFile, JSON.stringify({ account_id: 'operator.test.near', public_key: wk.getPublicKey().toString(),
    private_key: wk.toString() }), { mode: 0o600 });
  check(true, 'contract deployed and initialised; worker key added to the operator account');

  // Coordinator with a worker token.
  const cenv = { ...process.env, DATA_DIR: join(tmp, 'coord'), PORT: '0', PORT_FILE: join(tmp, 'coord.port'), TASK_LEASE_MS: '2000',
    LOG_LEVEL: 'warn', OUTLAYER_ENV_FILE: '/dev/null' };
  const token = execFileSync(coordBin, ['token', 'create', '--name', 'e2e'], { env: cenv, encoding: 'utf8' }).trim();
  const coord = spawn(coordBin, [], { env: cenv, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(coord);
  let cport = 0;
  for (let i = 0; i < 200 && !cport; i++) {
    try { cport = Number(readFileSync(join(tmp, 'coord.port'), 'utf8')); } catch { await sleep(25); }
  }
  if (!cport) fail('coordinator did not start');

  const startWorker = (id) => {
    const w = spawn(workerBin, [], { env: { ...process.env, API_BASE_URL: `http://127.0.0.1:${cport}`, API_AUTH_TOKEN: token,
    WORKER_ID: id, WORKER_SLOTS: '2', POLL_TIMEOUT_SECONDS: '2', ALLOWED_SOURCE_SCHEMES: 'file,http',
    NEAR_RPC_URL: sb.url, OUTLAYER_CONTRACT_ID: 'outlayer.test.near', OPERATOR_ACCOUNT_ID: 'operator.test.near',
    WORKER_KEY_FILE: keyFile, ENABLE_EVENT_MONITOR: 'true', MONITOR_INTERVAL_MS: '100', BLOCK_TIME_MS: String(BLOCK_MS),
    LOG_LEVEL: 'info', OUTLAYER_ENV_FILE: '/dev/null' }, stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(w);
    return w;
  };
  let worker = startWorker('e2e-worker');

  const echo = gitRepo('echo', { 'echo.c': join(guestsDir, 'echo.c'), 'outlayer.h': join(guestsDir, 'include', 'outlayer.h') });
  const exit1 = gitRepo('exitcode', { 'exitcode.c': join(guestsDir, 'exitcode.c'), 'outlayer.h': join(guestsDir, 'include', 'outlayer.h') });

  const heightOf = async (hash) => (await provider.viewBlock({ blockId: hash })).header.height;
  const request = async (repo, input, extra = {}, afterSend = null) => {
    const t0 = Date.now();
    const source = repo.wasmUrl ? { WasmUrl: { url: repo.wasmUrl, hash: repo.hash } } : { GitHub: { repo: repo.url, commit: repo.commit } };
    const r = await acct('user.test.near').signAndSendTransaction({ receiverId: 'outlayer.test.near',
      actions: [actions.functionCall('request_execution', Buffer.from(JSON.stringify({
        source, input_data: input, ...extra })), teraToGas(300), nearToYocto(1))],
      waitUntil: 'INCLUDED' });
    const hash = r.transaction?.hash ?? r.transaction_outcome?.id;
    if (afterSend) await afterSend();
    for (let i = 0; i < 600; i++) {
      const st = await sb.rpc('tx', { tx_hash: hash, sender_account_id: 'user.test.near', wait_until: 'EXECUTED_OPTIMISTIC' });
      const res = st.result;
      if (res && res.status && ('SuccessValue' in res.status || 'Failure' in res.status)) {
        const ms = Date.now() - t0;
        const reqH = await heightOf(res.transaction_outcome.block_hash);
        const hs = [];
        for (const o of res.receipts_outcome) hs.push({ h: await heightOf(o.block_hash), logs: o.outcome.logs, exec: o.outcome.executor_id });
        const cb = hs.find((x) => x.logs.some((l) => l.includes('execution_completed')));
        const last = Math.max(...hs.map((x) => x.h));
        const value = 'SuccessValue' in res.status ? Buffer.from(res.status.SuccessValue, 'base64').toString() : null;
        const event = cb ? JSON.parse(cb.logs.find((l) => l.includes('execution_completed')).replace(/^EVENT_JSON:/, '')) : null;
        return { value, failure: res.status.Failure, ms, reqH, cbH: cb ? cb.h : null, lastH: last, event };
      }
      await sleep(100);
    }
    fail('request did not finish');
  };

  const r1 = await request(echo, 'hello');
  console.log(`fresh build: request block ${r1.reqH}, OutLayer callback +${r1.cbH - r1.reqH} blocks, caller's end +${r1.lastH - r1.reqH} blocks, ${r1.ms} ms wall`);
  check(r1.value === JSON.stringify('user.test.near said "hello" at block ' + r1.reqH) || /said \\"hello\\"/.test(r1.value),
    'the caller receives the output: ' + r1.value);
  check(r1.event && r1.event.data[0].success === true, 'execution_completed says success');

  const r2 = await request(echo, 'again');
  console.log(`cached module: OutLayer callback +${r2.cbH - r2.reqH} blocks, caller's end +${r2.lastH - r2.reqH} blocks, ${r2.ms} ms wall`);
  check(/again/.test(r2.value), 'second request for the same commit answered: ' + r2.value);
  check(r2.event && r2.event.data[0].wasm_hash === r1.event.data[0].wasm_hash, 'same module hash for the same commit');

  const r3 = await request(exit1, '1');
  check(r3.value === 'null' && r3.event && r3.event.data[0].success === false, 'a program that exits 1 is a failure: ' +
    (r3.event && r3.event.data[0].error_message));
  const errOf = (r) => (r.event && r.event.data[0].error_message) || '';

  // Out of fuel: reported as a failure, the caller gets null.
  const loop = gitRepo('loop', { 'loop.c': join(guestsDir, 'loop.c'), 'outlayer.h': join(guestsDir, 'include', 'outlayer.h') });
  const r4 = await request(loop, '', { resource_limits: { max_instructions: 1000000 } });
  check(r4.value === 'null' && /out of fuel/.test(errOf(r4)), 'out of fuel is a failure: ' + errOf(r4));

  // An output over the 1024-byte resume payload arrives intact.
  const long = 'x'.repeat(3000);
  const r5 = await request(echo, long);
  check(r5.value && JSON.parse(r5.value).includes(long), 'a ' + (r5.value || '').length + '-byte output arrives intact');

  // A build that reaches for the network fails with a clear message.
  const net = gitRepo('net', { Makefile: { text: 'all:\n\tcurl -sS https://example.com/dep.tar.gz -o dep.tar.gz\n' } });
  const r6 = await request(net, '');
  check(r6.value === 'null' && /needs the network/.test(errOf(r6)), 'network build: ' + errOf(r6));

  // WasmUrl served by a local HTTP server: right hash runs, wrong hash is refused.
  const www = join(tmp, 'www');
  mkdirSync(www);
  execFileSync('clang-14', ['--target=wasm32-wasi', '-O2', '-I', join(guestsDir, 'include'), '-o', join(www, 'echo.wasm'),
    join(guestsDir, 'echo.c')]);
  const wasmHash = createHash('sha256').update(readFileSync(join(www, 'echo.wasm'))).digest('hex');
  const server = createServer((req, res) => {
    try { res.end(readFileSync(join(www, req.url.replace(/[^a-z.]/g, '')))); } catch { res.statusCode = 404; res.end(); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const wurl = `http://127.0.0.1:${server.address().port}/echo.wasm`;
  const r7 = await request({ wasmUrl: wurl, hash: wasmHash }, 'from a url');
  check(/from a url/.test(r7.value || ''), 'WasmUrl with the right hash: ' + r7.value);
  const r8 = await request({ wasmUrl: wurl, hash: 'ab'.repeat(32) }, 'x');
  check(r8.value === 'null' && /sha256/.test(errOf(r8)), 'WasmUrl with a wrong hash: ' + errOf(r8));
  server.close();

  // compile_only warms the cache without running; the next request for that commit is served from it.
  const warm = gitRepo('warm', { 'echo.c': join(guestsDir, 'echo.c'), 'outlayer.h': join(guestsDir, 'include', 'outlayer.h') });
  const r11 = await request(warm, '', { params: { compile_only: true } });
  check(r11.event && r11.event.data[0].success === true, 'compile_only succeeds: ' + r11.value);
  const r12 = await request(warm, 'warm');
  const jobs = JSON.stringify(await (await fetch(`http://127.0.0.1:${cport}/public/jobs?limit=100`)).json());
  check(/warm/.test(r12.value || '') && r12.event.data[0].wasm_hash === r11.event.data[0].wasm_hash &&
    jobs.includes('cached module ' + r11.event.data[0].wasm_hash), 'after compile_only the module comes from the cache (compilation note)');

  // A worker killed in the middle of a task: its lease expires and another worker answers in the window.
  const slow = gitRepo('slow', { 'echo.c': join(guestsDir, 'echo.c'), 'outlayer.h': join(guestsDir, 'include', 'outlayer.h'),
    Makefile: { text: 'app.wasm: echo.c\n\tsleep 2\n\t$(CC) -O2 -I. -o $@ echo.c\n' } });
  let killedAt = 0;
  const r10 = await request(slow, 'survived', {}, async () => {
    for (let i = 0; i < 100; i++) { // wait until the build runs, then SIGKILL the worker
      const t = await (await fetch(`http://127.0.0.1:${cport}/public/jobs?limit=100`)).json().catch(() => ({}));
      if (JSON.stringify(t).includes('"state":"leased"')) break;
      await sleep(50);
    }
    await sleep(500);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.on('exit', r));
    killedAt = Date.now();
    worker = startWorker('e2e-worker-2');
  });
  check(/survived/.test(r10.value || ''), `worker killed mid-task: another worker answered (${Date.now() - killedAt} ms after the kill): ` + r10.value);
  // The monitor's cursor lives in the coordinator: past every request seen so far (the restarted worker
  // continued from it rather than from 0, and the killed worker's request was still answered).
  const all = (await (await fetch(`http://127.0.0.1:${cport}/public/jobs?limit=100`)).json()).jobs;
  const maxId = Math.max(...all.map((j) => j.request_id));
  const cur = await (await fetch(`http://127.0.0.1:${cport}/monitor/cursor/outlayer.test.near`,
    { headers: { Authorization: `Bearer ${token}` } })).json();
  check(cur.value === maxId + 1, `monitor cursor kept in the coordinator: ${cur.value} (highest request id ${maxId})`);

  // No worker: the yield times out and the payer gets everything back.
  worker.kill('SIGTERM');
  await new Promise((r) => worker.on('exit', r));
  const r9 = await request(echo, 'nobody', {}, async () => {
    await sleep(300);
    await sb.rpc('sandbox_fast_forward', { delta_height: 210 });
  });
  check(r9.value === 'null' && errOf(r9) === 'timeout' && r9.event.data[0].payment_charged === '0',
    'no worker: timeout, nothing charged (refunded ' + (r9.event && r9.event.data[0].payment_refunded) + ')');
  coord.kill('SIGTERM');
  await sleep(300);
} finally {
  cleanup();
  await sb.stop().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
}
