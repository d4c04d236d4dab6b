// Runs the built contract .wasm files for real (in node's V8) against a small NEAR host written here,
// to check what the native tests cannot: the wasm ABI (i64 arguments, pointers, registers), the freestanding
// runtime (allocator over memory.grow, mem* functions), and that the wasm build behaves like the native one
// (same panic messages, same settlement). The host follows ../shared/reference/near-protocol.md §1: storage
// usage = key + value + 40 per record, registers, logs, promises and yields recorded, panics roll back.
// Usage: node run_wasm.mjs OUTLAYER_WASM COINFLIP_WASM
import { readFileSync } from 'node:fs';

const [outlayerPath, coinflipPath] = process.argv.slice(2);
const enc = new TextEncoder(), dec = new TextDecoder('utf-8', { fatal: true });
let failures = 0;
function check(cond, what) {
  if (!cond) { failures++; console.error('FAIL:', what); }
}
const show = (v) => (typeof v === "bigint" ? `${v}n` : JSON.stringify(v));
function eq(a, b, what) { check(a === b, `${what}: ${show(a)} !== ${show(b)}`); }

class Panic extends Error {}

class Chain {
  constructor(wasmPath, account, balance) {
    this.module = new WebAssembly.Module(readFileSync(wasmPath));
    this.account = account;
    this.balance = balance;
    this.storage = new Map(); // hex key -> Uint8Array
    this.usage = 0n;
    this.height = 100n;
    this.yields = new Map(); // hex data id -> {args, created, payload}
    this.yieldCounter = 0;
  }

  call(method, { pred = 'alice.near', args = '', deposit = 0n, gas = 300n * 10n ** 12n, result = null } = {}) {
    const out = { logs: [], promises: [], ret: null, panic: null, returnedPromise: null };
    const regs = new Map();
    const savedStorage = new Map(this.storage), savedUsage = this.usage, savedYields = new Map(this.yields);
    const input = typeof args === 'string' ? enc.encode(args) : args;
    let mem;
    const bytes = (ptr, len) => new Uint8Array(mem.buffer, Number(ptr), Number(len)).slice();
    const readArg = (len, ptr) => {
      if (len === 0xffffffffffffffffn) {
        if (!regs.has(ptr)) throw new Panic('HostError: InvalidRegisterId');
        return regs.get(ptr);
      }
      return bytes(ptr, len);
    };
    const u128At = (ptr) => {
      const b = bytes(ptr, 16);
      let v = 0n;
      for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
      return v;
    };
    const putU128 = (ptr, v) => {
      const b = new Uint8Array(mem.buffer, Number(ptr), 16);
      for (let i = 0; i < 16; i++) { b[i] = Number(v & 0xffn); v >>= 8n; }
    };
    const hex = (b) => Buffer.from(b).toString('hex');
    const str = (b) => dec.decode(b);
    const self = this;
    const env = {
      read_register(r, ptr) {
        if (!regs.has(r)) throw new Panic('HostError: InvalidRegisterId');
        new Uint8Array(mem.buffer, Number(ptr), regs.get(r).length).set(regs.get(r));
      },
      register_len: (r) => (regs.has(r) ? BigInt(regs.get(r).length) : 0xffffffffffffffffn),
      current_account_id: (r) => { regs.set(r, enc.encode(self.account)); },
      predecessor_account_id: (r) => { regs.set(r, enc.encode(pred)); },
      signer_account_pk: (r) => { regs.set(r, new Uint8Array(33).fill(7, 1)); },
      input: (r) => { regs.set(r, input); },
      block_index: () => self.height,
      block_timestamp: () => 1700000000000000000n,
      storage_usage: () => self.usage,
      account_balance: (ptr) => putU128(ptr, self.balance + deposit),
      attached_deposit: (ptr) => putU128(ptr, deposit),
      prepaid_gas: () => gas,
      used_gas: () => 2n * 10n ** 12n,
      value_return(len, ptr) { out.ret = str(readArg(len, ptr)); },
      panic_utf8(len, ptr) { throw new Panic(str(bytes(ptr, len))); },
      log_utf8(len, ptr) {
        if (out.logs.length >= 100) throw new Panic('HostError: NumberOfLogsExceeded');
        out.logs.push(str(bytes(ptr, len)));
      },
      storage_write(kl, kp, vl, vp, r) {
        const k = readArg(kl, kp), v = readArg(vl, vp), kh = hex(k);
        const old = self.storage.get(kh);
        if (old) { regs.set(r, old); self.usage += BigInt(v.length - old.length); }
        else self.usage += BigInt(k.length + v.length + 40);
        self.storage.set(kh, v);
        return old ? 1n : 0n;
      },
      storage_read(kl, kp, r) {
        const v = self.storage.get(hex(readArg(kl, kp)));
        if (!v) return 0n;
        regs.set(r, v);
        return 1n;
      },
      storage_remove(kl, kp, r) {
        const k = readArg(kl, kp), kh = hex(k), v = self.storage.get(kh);
        if (!v) return 0n;
        regs.set(r, v);
        self.usage -= BigInt(k.length + v.length + 40);
        self.storage.delete(kh);
        return 1n;
      },
      storage_has_key: (kl, kp) => (self.storage.has(hex(readArg(kl, kp))) ? 1n : 0n),
      promise_batch_create(al, ap) {
        out.promises.push({ receiver: str(readArg(al, ap)), actions: [] });
        return BigInt(out.promises.length - 1);
      },
      promise_batch_action_transfer(p, ptr) { out.promises[p].actions.push({ transfer: u128At(ptr) }); },
      promise_batch_action_deploy_contract(p, l, ptr) { out.promises[p].actions.push({ deploy: Number(l) }); },
      promise_batch_action_function_call(p, ml, mp, al, ap, amt, g) {
        out.promises[p].actions.push({ call: str(readArg(ml, mp)), args: str(readArg(al, ap)), deposit: u128At(amt), gas: g });
      },
      promise_create(al, ap, ml, mp, argl, argp, amt, g) {
        const p = env.promise_batch_create(al, ap);
        env.promise_batch_action_function_call(p, ml, mp, argl, argp, amt, g);
        return p;
      },
      promise_then(after, al, ap, ml, mp, argl, argp, amt, g) {
        const p = env.promise_create(al, ap, ml, mp, argl, argp, amt, g);
        out.promises[p].after = after;
        return p;
      },
      promise_return(p) { out.returnedPromise = p; },
      promise_results_count: () => (result ? 1n : 0n),
      promise_result(i, r) {
        if (!result || i !== 0n) throw new Panic('HostError: InvalidPromiseResultIndex');
        if (result.status !== 1) return 2n;
        regs.set(r, enc.encode(result.payload));
        return 1n;
      },
      promise_yield_create(ml, mp, al, ap, g, w, r) {
        const id = new Uint8Array(32).fill(0xa0);
        new DataView(id.buffer).setUint32(0, ++self.yieldCounter, true);
        self.yields.set(hex(id), { args: str(readArg(al, ap)), created: self.height, payload: null });
        out.promises.push({ receiver: self.account, yield: str(readArg(ml, mp)), dataId: hex(id), gas: g });
        regs.set(r, id);
        return BigInt(out.promises.length - 1);
      },
      promise_yield_resume(il, ip, pl, pp) {
        const id = hex(readArg(il, ip)), payload = readArg(pl, pp);
        if (payload.length > 1024) throw new Panic('HostError: YieldPayloadLength');
        const y = self.yields.get(id);
        if (!y || self.height >= y.created + 200n) return 0;
        if (y.payload === null) y.payload = str(payload);
        return 1;
      },
    };
    try {
      const inst = new WebAssembly.Instance(this.module, { env });
      mem = inst.exports.memory;
      if (!inst.exports[method]) throw new Error(`no export ${method}`);
      inst.exports[method]();
      this.balance += deposit;
      for (const p of out.promises) for (const a of p.actions || []) this.balance -= (a.transfer || 0n) + (a.deposit || 0n);
    } catch (e) {
      if (!(e instanceof Panic)) throw e;
      out.panic = e.message;
      this.storage = savedStorage; this.usage = savedUsage; this.yields = savedYields;
      out.promises = [];
    }
    return out;
  }

  runYield(method, dataId) {
    const y = this.yields.get(dataId);
    this.yields.delete(dataId);
    return this.call(method, { pred: this.account, args: y.args,
      result: y.payload === null ? { status: 2 } : { status: 1, payload: y.payload } });
  }
}

const transfersTo = (o, who) => o.promises.filter((p) => p.receiver === who)
  .flatMap((p) => p.actions || []).reduce((s, a) => s + (a.transfer || 0n), 0n);
const NEAR = 10n ** 24n, DEP = NEAR / 10n;
const BASE = 10n ** 21n, PER_M = 10n ** 14n, PER_MS = 10n ** 17n;

// ---- OutLayer ----
{
  const c = new Chain(outlayerPath, 'outlayer.near', NEAR);
  let o = c.call('new', { pred: 'owner.near', args: '{"owner_id":"owner.near","operator_id":"op.near"}' });
  eq(o.panic, null, 'new');
  o = c.call('get_pricing');
  eq(o.ret, '{"base_fee":"1000000000000000000000","per_million_instructions_fee":"100000000000000",' +
    '"per_ms_fee":"100000000000000000","per_compile_ms_fee":"100000000000000000"}', 'get_pricing');
  o = c.call('request_execution', { args: '{"source":1,}', deposit: DEP });
  eq(o.panic, 'request_execution: invalid JSON arguments: object: trailing comma at byte 12', 'bad JSON');
  o = c.call('request_execution', { args: '{"source":{"GitHub":{"repo":"r","commit":"c"}},"resource_limits":{"max_execution_seconds":61}}', deposit: DEP });
  eq(o.panic, 'request_execution: resource_limits.max_execution_seconds 61 exceeds the cap of 60', 'cap');

  const req = (extra, deposit = DEP) => {
    const r = c.call('request_execution', { args: `{"source":{"GitHub":{"repo":"https://github.com/x/random","commit":"abc"}}${extra}}`, deposit });
    eq(r.panic, null, 'request_execution');
    const y = r.promises.find((p) => p.yield);
    check(y && y.yield === 'on_execution_response' && r.returnedPromise === BigInt(r.promises.indexOf(y)), 'yield returned');
    check(r.logs[0].startsWith('EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"execution_requested"'), 'event');
    return { dataId: y.dataId, id: JSON.parse(c.yields.get(y.dataId).args).request_id };
  };
  const start = c.balance;
  let r = req(',"response_format":"Json","input_data":"{\\"min\\":0,\\"max\\":1}"');
  o = c.call('list_pending_requests', { args: '{}' });
  const listed = JSON.parse(o.ret);
  eq(listed.length, 1, 'one pending');
  eq(listed[0].data_id, r.dataId, 'data_id hex');
  eq(listed[0].resource_limits.max_execution_seconds, 10, 'default seconds');
  o = c.call('resolve_execution', { pred: 'alice.near', args: `{"request_id":${r.id},"response":{}}` });
  eq(o.panic, 'resolve_execution: only the operator op.near may resolve executions (caller: alice.near)', 'operator only');
  o = c.call('resolve_execution', { pred: 'op.near', args: `{"request_id":${r.id},"response":{"success":true,"output":{"Json":{"random_number":57}},"resources_used":{"instructions":21043000,"time_ms":6,"compile_time_ms":41230}}}` });
  eq(o.panic, null, 'resolve');
  o = c.call('resolve_execution', { pred: 'op.near', args: `{"request_id":${r.id},"response":{"success":false,"resources_used":{"instructions":0,"time_ms":0}}}` });
  eq(o.panic, `resolve_execution: request ${r.id} was already resolved; the first resolution wins`, 'first wins');
  o = c.runYield('on_execution_response', r.dataId);
  eq(o.panic, null, 'callback');
  eq(o.ret, '{"random_number":57}', 'callback value');
  const cost = BASE + 21n * PER_M + 6n * PER_MS + 41230n * PER_MS;
  eq(transfersTo(o, 'alice.near'), DEP - cost, 'refund');
  eq(c.balance, start + cost, 'contract keeps exactly the fee');
  eq(c.storage.size, 1, 'request storage released');

  // a large output: kept in state, re-attached by the callback
  r = req('');
  const text = 'z'.repeat(3000);
  o = c.call('resolve_execution', { pred: 'op.near', args: `{"request_id":${r.id},"response":{"success":true,"output":{"Text":"${text}"},"resources_used":{"instructions":0,"time_ms":0}}}` });
  eq(o.panic, null, 'large resolve');
  eq(c.yields.get(r.dataId).payload, '{"stored":true}', 'short payload');
  o = c.runYield('on_execution_response', r.dataId);
  eq(o.ret, JSON.stringify(text), 'large output re-attached');
  eq(c.storage.size, 1, 'large output storage released');

  // timeout: everything back
  r = req('');
  c.height += 200n;
  o = c.call('resolve_execution', { pred: 'op.near', args: `{"request_id":${r.id},"response":{"success":true,"resources_used":{"instructions":0,"time_ms":0}}}` });
  eq(o.panic, `resolve_execution: the yield of request ${r.id} is no longer pending (its 200-block window has passed)`, 'late resolve');
  o = c.runYield('on_execution_response', r.dataId);
  eq(o.ret, 'null', 'timeout returns null');
  eq(transfersTo(o, 'alice.near'), DEP, 'timeout refunds all');
  check(o.logs.at(-1).includes('"error_message":"timeout"'), 'timeout event');

  // secrets: the deposit is the measured storage
  const before = c.usage;
  o = c.call('store_secrets', { args: '{"accessor":{"Repo":{"repo":"github.com/a/b"}},"profile":"default","encrypted_secrets_base64":"c2VjcmV0","access":{"Whitelist":{"accounts":["bob.near"]}}}', deposit: NEAR });
  eq(o.panic, null, 'store_secrets');
  const dep = (c.usage - before) * 10n ** 19n;
  eq(transfersTo(o, 'alice.near'), NEAR - dep, 'secrets refund');
  o = c.call('delete_secrets', { args: '{"accessor":{"Repo":{"repo":"github.com/a/b"}},"profile":"default"}' });
  eq(transfersTo(o, 'alice.near'), dep, 'secrets delete refund');
  eq(c.usage, before, 'secrets storage released');

  // upgrade deploys and calls migrate
  o = c.call('upgrade', { pred: 'owner.near', args: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) });
  eq(o.panic, null, 'upgrade');
  check(o.promises[0].actions[0].deploy === 8 && o.promises[0].actions[1].call === 'migrate', 'deploy + migrate');
  o = c.call('migrate', { pred: 'outlayer.near', args: '{}' });
  eq(o.panic, null, 'migrate');
}

// ---- coinflip ----
{
  const c = new Chain(coinflipPath, 'coinflip.near', 100n * NEAR);
  let o = c.call('new', { pred: 'deployer.near', args: '{"outlayer_id":"outlayer.near","source":{"GitHub":{"repo":"r","commit":"c"}}}' });
  eq(o.panic, null, 'coinflip new');
  o = c.call('flip_coin', { pred: 'player.near', args: '{"choice":"Heads"}', deposit: NEAR });
  eq(o.panic, null, 'flip_coin');
  const [reqP, thenP] = o.promises;
  eq(reqP.receiver, 'outlayer.near', 'request goes to outlayer');
  eq(reqP.actions[0].call, 'request_execution', 'request method');
  eq(reqP.actions[0].deposit, 2n * 10n ** 22n, 'fee deposit');
  eq(thenP.after, 0n, 'callback after the request');
  o = c.call('on_flip_result', { pred: 'coinflip.near', args: thenP.actions[0].args, result: { status: 1, payload: '{"random_number":4}' } });
  eq(o.panic, null, 'on_flip_result');
  eq(transfersTo(o, 'player.near'), 2n * NEAR, 'win pays double');
  o = c.call('flip_coin', { pred: 'player.near', args: '{"choice":"Tails"}', deposit: NEAR });
  o = c.call('on_flip_result', { pred: 'coinflip.near', args: o.promises[1].actions[0].args, result: { status: 1, payload: 'null' } });
  eq(transfersTo(o, 'player.near'), NEAR, 'null returns the stake');
  o = c.call('get_stats');
  eq(o.ret, '{"games":2,"wins":1,"losses":0,"refunds":1,"reserved":"0"}', 'coinflip stats');
}

if (failures) { console.error(`run_wasm: ${failures} failure(s)`); process.exit(1); }
console.log('run_wasm: outlayer.wasm and coinflip.wasm behave as the native build');
