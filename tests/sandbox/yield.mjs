// Yield/resume (NEP-519) with the C test contract: resume delivers the payload, another account's resume
// returns 0, a payload over 1024 bytes fails, no resume times out after the window (sandbox_fast_forward),
// a kill -9 in the middle keeps the yield and its deadline, and send_tx waiting on a yield gets 408.
// Usage: node yield.mjs outlayer-sandbox sbtest.wasm
import { readFileSync } from 'node:fs';
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner, nearToYocto, teraToGas, actions } from 'near-api-js';
import { Sandbox, check } from './harness.mjs';

const code = readFileSync(process.argv[3]);
const sb = await new Sandbox(process.argv[2], { blockMs: 60 }).start();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  let provider = new JsonRpcProvider({ url: sb.url });
  const cred = sb.credentials();
  let root = new Account('test.near', provider, KeyPairSigner.fromSecretKey(cred.private_key));
  const keys = {};
  const mk = async (name, near) => {
    keys[name] = KeyPair.fromRandom('ed25519');
    await root.createAccount({ newAccountId: name, publicKey: keys[name].getPublicKey(), nearToTransfer: nearToYocto(near) });
  };
  const acct = (name) => new Account(name, provider, new KeyPairSigner(keys[name]));
  await mk('c.test.near', 20);
  await mk('d.test.near', 20);
  await mk('bob.test.near', 50);
  await acct('c.test.near').deployContract(code);
  await acct('d.test.near').deployContract(code);
  const view = async (m) => {
    const r = await sb.rpc('query', { request_type: 'call_function', account_id: 'c.test.near', method_name: m,
      args_base64: '', finality: 'optimistic' });
    return Buffer.from(r.result.result);
  };
  const startYield = async (arg) => {
    const r = await acct('bob.test.near').signAndSendTransaction({ receiverId: 'c.test.near',
      actions: [actions.functionCall('yield', Buffer.from(arg), teraToGas(100), 0n)], waitUntil: 'INCLUDED' });
    await sleep(150);
    return { hash: r.transaction?.hash ?? r.transaction_outcome?.id, yid: await view('yid') };
  };
  const resume = async (who, contract, payload, yid) => {
    const r = await new Account(who, provider, new KeyPairSigner(keys[who])).callFunctionRaw({ contractId: contract,
      methodName: 'resume', args: Buffer.concat([yid, Buffer.from(payload)]), gas: teraToGas(50) }).catch((e) => e.transactionResult);
    return r;
  };
  const height = async () => (await provider.viewBlock({ finality: 'optimistic' })).header.height;

  // 1. resume delivers the payload
  const y1 = await startYield('args1');
  check(y1.yid.length === 32, 'yield returns a 32-byte data id');
  const other = await resume('d.test.near', 'd.test.near', 'x', y1.yid);
  check(Buffer.from(other.status.SuccessValue, 'base64').toString() === '0', "another account's resume returns 0");
  const big = await resume('bob.test.near', 'c.test.near', 'x'.repeat(1025), y1.yid);
  check(/YieldPayloadLength|1024/.test(JSON.stringify(big.status)), 'a payload over 1024 bytes fails: ' + JSON.stringify(big.status).slice(0, 160));
  const ok = await resume('bob.test.near', 'c.test.near', 'payload-1', y1.yid);
  check(Buffer.from(ok.status.SuccessValue, 'base64').toString() === '1', 'resume returns 1');
  const again = await resume('bob.test.near', 'c.test.near', 'second', y1.yid);
  check(Buffer.from(again.status.SuccessValue, 'base64').toString() === '0', 'a second resume returns 0 (first wins)');
  await sleep(200);
  check((await view('y')).toString() === 'resumed:payload-1', 'callback got the payload');
  const st = await sb.rpc('tx', { tx_hash: y1.hash, sender_account_id: 'bob.test.near', wait_until: 'EXECUTED_OPTIMISTIC' });
  check(Buffer.from(st.result.status.SuccessValue, 'base64').toString() === 'resumed:payload-1', 'the yielding transaction ends with the callback value');

  // 2. no resume: timeout after the 200-block window
  const y2 = await startYield('args2');
  await sb.rpc('sandbox_fast_forward', { delta_height: 150 });
  await sleep(150);
  check((await view('y')).toString() === 'resumed:payload-1', 'still pending 150 blocks later');
  await sb.rpc('sandbox_fast_forward', { delta_height: 60 });
  await sleep(200);
  check((await view('y')).toString() === 'timeout', 'callback sees the timeout after the window');
  const st2 = await sb.rpc('tx', { tx_hash: y2.hash, sender_account_id: 'bob.test.near', wait_until: 'EXECUTED_OPTIMISTIC' });
  check(Buffer.from(st2.result.status.SuccessValue, 'base64').toString() === 'timeout', 'timed-out yield transaction completes');

  // 3. kill -9 in the middle keeps the yield and its deadline
  const h0 = await height();
  const y3 = await startYield('args3');
  await sb.rpc('sandbox_fast_forward', { delta_height: 100 });
  await sb.kill('SIGKILL');
  await sb.start(sb.port);
  provider = new JsonRpcProvider({ url: sb.url });
  root = new Account('test.near', provider, KeyPairSigner.fromSecretKey(cred.private_key));
  const h1 = await height();
  check(h1 >= h0 + 100, 'restart keeps the blocks');
  await sb.rpc('sandbox_fast_forward', { delta_height: Math.max(0, h0 + 150 - h1) });
  await sleep(150);
  check((await view('y')).toString() === 'timeout' && (await view('yid')).equals(y3.yid), 'pending yield survives the restart');
  const ok3 = await resume('bob.test.near', 'c.test.near', 'after-restart', y3.yid);
  check(ok3.status.SuccessValue && Buffer.from(ok3.status.SuccessValue, 'base64').toString() === '1', 'resume after restart returns 1: ' + JSON.stringify(ok3.status));
  await sleep(200);
  check((await view('y')).toString() === 'resumed:after-restart', 'callback got the payload after restart');
  const y4 = await startYield('args4');
  const h4 = await height();
  await sb.kill('SIGKILL');
  await sb.start(sb.port);
  provider = new JsonRpcProvider({ url: sb.url });
  await sb.rpc('sandbox_fast_forward', { delta_height: Math.max(0, h4 + 160 - (await height())) });
  await sleep(150);
  check((await view('y')).toString() === 'resumed:after-restart', 'deadline kept across restart (not yet expired)');
  await sb.rpc('sandbox_fast_forward', { delta_height: 45 });
  await sleep(200);
  check((await view('y')).toString() === 'timeout', 'deadline kept across restart (expired on time)');
  void y4;

  // 4. send_tx waiting on a yield: 408 TIMEOUT_ERROR after about 10 s
  const bob = new Account('bob.test.near', provider, new KeyPairSigner(keys['bob.test.near']));
  const tx = await bob.createSignedTransaction({ receiverId: 'c.test.near', actions: [actions.functionCall('yield', Buffer.from('a5'), teraToGas(100), 0n)] });
  const t0 = Date.now();
  const r = await sb.rpc('send_tx', { signed_tx_base64: Buffer.from(tx.encode()).toString('base64'), wait_until: 'EXECUTED_OPTIMISTIC' }, { raw: true });
  const dt = Date.now() - t0;
  check(r.status === 408 && r.body.error.cause.name === 'TIMEOUT_ERROR' && dt > 9000 && dt < 13000, `send_tx on a yield: HTTP ${r.status} after ${dt} ms`);
} finally {
  await sb.stop();
}
