// near-api-js 7 against a fresh sandbox: deploy the C test contract (contracts/test/sbtest.c), calls with
// deposit and gas, views, logs, panics, unknown methods, views that refuse state changes, out-of-gas,
// cross-contract calls with callbacks and refunds. Usage: node contracts.mjs outlayer-sandbox sbtest.wasm
import { readFileSync } from 'node:fs';
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner, nearToYocto, teraToGas } from 'near-api-js';
import { Sandbox, check } from './harness.mjs';

const code = readFileSync(process.argv[3]);
const sb = await new Sandbox(process.argv[2]).start();
const total = async (a) => (await a.getState()).balance.total;
const tryCall = async (acct, args) => {
  try { return await acct.callFunctionRaw(args); } catch (e) { if (e.transactionResult) return e.transactionResult; throw e; }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  const provider = new JsonRpcProvider({ url: sb.url });
  const root = new Account('test.near', provider, KeyPairSigner.fromSecretKey(sb.credentials().private_key));
  const mk = async (name, near) => {
    const k = KeyPair.fromRandom('ed25519');
    await root.createAccount({ newAccountId: name, publicKey: k.getPublicKey(), nearToTransfer: nearToYocto(near) });
    return new Account(name, provider, new KeyPairSigner(k));
  };
  const c = await mk('c.test.near', 20), d = await mk('d.test.near', 20), bob = await mk('bob.test.near', 50);
  await c.deployContract(code);
  await d.deployContract(code);
  const st = await c.getState();
  check(st.storageUsage > code.length, 'deploy counts code bytes in storage: ' + st.storageUsage);
  const vc = await provider.viewContractCode({ contractId: 'c.test.near', blockQuery: { finality: 'optimistic' } });
  check(Buffer.from(vc.code_base64 ?? vc.code, 'base64').equals(code) || vc.code?.length === code.length, 'view_code returns the code');

  // views
  const v = await provider.callFunction({ contractId: 'c.test.near', method: 'echo', args: { a: 1 } });
  check(JSON.stringify(v) === '{"a":1}', 'view echo returns its input: ' + JSON.stringify(v));
  const raw = await sb.rpc('query', { request_type: 'call_function', account_id: 'c.test.near', method_name: 'set',
    args_base64: Buffer.from('x').toString('base64'), finality: 'optimistic' });
  check(raw.result && /ProhibitedInView/.test(raw.result.error), 'a view refuses storage_write: ' + raw.result.error);
  const raw2 = await sb.rpc('query', { request_type: 'call_function', account_id: 'c.test.near', method_name: 'nope',
    args_base64: '', finality: 'optimistic' });
  check(raw2.result && /MethodNotFound/.test(raw2.result.error), 'view of a missing method: ' + raw2.result.error);

  const kv = async (input) => {
    const r = await sb.rpc('query', { request_type: 'call_function', account_id: 'c.test.near', method_name: 'keccak',
      args_base64: Buffer.from(input).toString('base64'), finality: 'optimistic' });
    return Buffer.from(r.result.result).toString('hex');
  };
  const k0 = await kv(''), kabc = await kv('abc'), klong = await kv('a'.repeat(200));
  check(k0.slice(0, 64) === 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470', 'keccak256("") vector');
  check(kabc.slice(0, 64) === '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45', 'keccak256("abc") vector');
  check(kabc.slice(64) === '18587dc2ea106b9a1563e32b3312421ca164c7f1f07bc922a9c83d77cea3a1e5d0c69910739025372dc14ac9642629379540c17e2a65b19d77aa511a9d00bb96',
    'keccak512("abc") vector');
  check(klong.length === 192, 'keccak over more than one block');

  // calls with storage, deposit, logs
  const r1 = await bob.callFunctionRaw({ contractId: 'c.test.near', methodName: 'set', args: { v: 'hello' } });
  check(r1.status.SuccessValue === '', 'set succeeds');
  const rb = r1.receipts_outcome[0].block_hash;
  const chg = await sb.rpc('EXPERIMENTAL_changes', { changes_type: 'data_changes', account_ids: ['c.test.near'],
    key_prefix_base64: '', block_id: rb });
  check(chg.result.changes.length === 1 && chg.result.changes[0].type === 'data_update' &&
    Buffer.from(chg.result.changes[0].change.value_base64, 'base64').toString() === '{"v":"hello"}', 'EXPERIMENTAL_changes shows the data update');
  const rec = await sb.rpc('EXPERIMENTAL_receipt', { receipt_id: r1.receipts_outcome[0].id });
  check(rec.result && rec.result.receiver_id === 'c.test.near' && rec.result.receipt.Action.actions[0].FunctionCall.method_name === 'set',
    'EXPERIMENTAL_receipt returns the receipt');
  const unk = await sb.rpc('EXPERIMENTAL_receipt', { receipt_id: '11111111111111111111111111111111' });
  check(unk.error && unk.error.cause.name === 'UNKNOWN_RECEIPT', 'unknown receipt error');
  const ch = await provider.viewChunk([rb, 0]);
  check(ch.transactions.some((t) => t.hash === r1.transaction.hash) && ch.receipts.length >= 1, 'chunk lists the transaction and receipts');
  const got = await provider.callFunction({ contractId: 'c.test.near', method: 'get', args: {} });
  check(got && got.v === 'hello', 'state written by a call is visible to views');
  const vs = await sb.rpc('query', { request_type: 'view_state', account_id: 'c.test.near', prefix_base64: '', finality: 'final' });
  check(vs.result.values.length === 1 && Buffer.from(vs.result.values[0].key, 'base64').toString() === 'k', 'view_state lists the key');
  const dep = await bob.callFunction({ contractId: 'c.test.near', methodName: 'deposit', args: {}, deposit: 12345n });
  check(String(dep) === '12345', 'attached deposit seen by the contract: ' + dep);
  const r2 = await bob.callFunctionRaw({ contractId: 'c.test.near', methodName: 'echo', args: { x: 2 } });
  check(r2.receipts_outcome.some((o) => o.outcome.logs.includes('echo called')), 'outcome carries the logs');

  // failures: panic, unknown method, out of gas
  const r3 = await tryCall(bob, { contractId: 'c.test.near', methodName: 'boom', args: {} });
  const f3 = JSON.stringify(r3.status);
  check(/Smart contract panicked: boom/.test(f3), 'panic is a FunctionCallError: ' + f3);
  check(r3.receipts_outcome.some((o) => o.outcome.logs.includes('before panic')), 'logs before a panic are kept');
  let e4 = null;
  try { await bob.callFunction({ contractId: 'c.test.near', methodName: 'nope', args: {} }); } catch (e) { e4 = e; }
  check(e4 && /MethodNotFound|MethodResolveError|method/i.test(String(e4.message) + JSON.stringify(e4)), 'unknown method fails: ' + (e4 && e4.message));
  await sleep(200); // earlier refunds land first
  const b0 = await total(bob);
  const r5 = await tryCall(bob, { contractId: 'c.test.near', methodName: 'burn', args: {}, gas: teraToGas(5) });
  check(/Exceeded the prepaid gas/.test(JSON.stringify(r5.status)), 'endless loop runs out of prepaid gas');
  const burnt = r5.receipts_outcome.reduce((s, o) => s + BigInt(o.outcome.gas_burnt), BigInt(r5.transaction_outcome.outcome.gas_burnt));
  check(burnt >= 5n * 10n ** 12n && burnt < 7n * 10n ** 12n, '5 Tgas of wasm plus fees burnt: ' + burnt);
  await sleep(200);
  const spent = b0 - await total(bob);
  check(spent === burnt * 100000000n, 'the signer pays exactly the gas burnt (rest refunded): ' + spent);

  // a function-call key: its allowance pays the gas and gets the unused part back
  const fk = KeyPair.fromRandom('ed25519');
  await bob.addFunctionCallAccessKey({ publicKey: fk.getPublicKey(), contractId: 'c.test.near', methodNames: ['echo'],
    allowance: nearToYocto(1) });
  const bobFk = new Account('bob.test.near', provider, new KeyPairSigner(fk));
  const r9 = await bobFk.callFunctionRaw({ contractId: 'c.test.near', methodName: 'echo', args: { fk: 1 }, gas: teraToGas(50) });
  await sleep(200);
  const burnt9 = r9.receipts_outcome.reduce((s, o) => s + BigInt(o.outcome.gas_burnt), BigInt(r9.transaction_outcome.outcome.gas_burnt));
  const fkv = await bob.getAccessKey(fk.getPublicKey());
  const allowance = BigInt(fkv.permission.FunctionCall.allowance);
  check(allowance === nearToYocto(1) - burnt9 * 100000000n, 'allowance charged the gas and refunded the unused part: ' + allowance);

  // cross-contract: success, failing callee with a deposit refunded to the caller, missing callee
  await sleep(200);
  const c0 = await total(c), d0 = await total(d), bob0 = await total(bob);
  const r6 = await bob.callFunctionRaw({ contractId: 'c.test.near', methodName: 'call', args: Buffer.from('d.test.near|echo|hi'),
    deposit: nearToYocto(1), gas: teraToGas(100) });
  check(Buffer.from(r6.status.SuccessValue, 'base64').toString() === 'ok:hi', 'callback sees the callee result: ok:hi');
  await sleep(300);
  const burnt6 = r6.receipts_outcome.reduce((s, o) => s + BigInt(o.outcome.gas_burnt), BigInt(r6.transaction_outcome.outcome.gas_burnt));
  const spent6 = bob0 - await total(bob);
  check(spent6 === nearToYocto(1) + burnt6 * 100000000n,
    `cross-contract: the signer pays the deposit plus the gas burnt in all receipts (${burnt6} gas), the rest of 100 Tgas refunded`);
  check((await total(d)) - d0 === nearToYocto(1), 'the callee received the deposit');
  const c1 = await total(c);
  const r7 = await bob.callFunctionRaw({ contractId: 'c.test.near', methodName: 'call', args: Buffer.from('d.test.near|boom|'),
    deposit: nearToYocto(1), gas: teraToGas(100) });
  check(Buffer.from(r7.status.SuccessValue, 'base64').toString() === 'failed', 'callback sees the failure');
  check(r7.receipts_outcome.some((o) => JSON.stringify(o.outcome.status).includes('boom')), 'the failing callee outcome is listed');
  await sleep(300);
  const c2 = await total(c);
  check(c2 - c1 >= nearToYocto(1) && c2 - c1 < nearToYocto(1.01), 'failed callee refunded the deposit to the caller: ' + (c2 - c1));
  check((await total(d)) - d0 === nearToYocto(1), 'the failing callee kept nothing');
  const r8 = await bob.callFunctionRaw({ contractId: 'c.test.near', methodName: 'call', args: Buffer.from('nobody.test.near|echo|x'),
    gas: teraToGas(100) });
  check(Buffer.from(r8.status.SuccessValue, 'base64').toString() === 'failed', 'call to a missing account fails into the callback');
  check(r8.receipts_outcome.some((o) => JSON.stringify(o.outcome.status).includes('AccountDoesNotExist')), 'AccountDoesNotExist listed');
  const ex = await sb.rpc('EXPERIMENTAL_tx_status', { tx_hash: r7.transaction.hash, sender_account_id: 'bob.test.near', wait_until: 'FINAL' });
  check(ex.result.receipts.some((r) => r.receipt.Action.input_data_ids.length === 1), 'receipts show the callback data dependency');
  void c0;
} finally {
  await sb.stop();
}
