// OutLayer and coinflip on a real `outlayer-sandbox` chain, driven by near-api-js as user and operator:
// request -> operator resolves -> the caller's transaction ends with the output and the refund is exact; a
// failed run keeps the base fee; no resolve -> after the yield window the payer gets the whole deposit back
// and the request is gone; a second resolve, a non-operator resolve and a late resolve fail; malformed JSON
// is refused with a message; secrets deposits; coinflip plays win, loss, timeout and refused rounds; upgrade
// and migrate keep state and pending requests. Prints the gas the sandbox burnt
// for request_execution, resolve_execution and on_execution_response.
// Usage: node outlayer_sandbox.mjs outlayer-sandbox outlayer.wasm coinflip.wasm
import { readFileSync } from 'node:fs';
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner, nearToYocto, teraToGas, actions } from 'near-api-js';
import { Sandbox, check } from '../sandbox/harness.mjs';

const [bin, outlayerWasm, coinflipWasm] = process.argv.slice(2);
const sb = await new Sandbox(bin, { blockMs: 50 }).start();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const BASE = 10n ** 21n, PER_M = 10n ** 14n, PER_MS = 10n ** 17n;
const OL = 'outlayer.test.near';
const gas = {};
try {
  const provider = new JsonRpcProvider({ url: sb.url });
  const root = new Account('test.near', provider, KeyPairSigner.fromSecretKey(sb.credentials().private_key));
  const mk = async (name, near) => {
    const k = KeyPair.fromRandom('ed25519');
    await root.createAccount({ newAccountId: name, publicKey: k.getPublicKey(), nearToTransfer: nearToYocto(near) });
    return new Account(name, provider, new KeyPairSigner(k));
  };
  const outlayer = await mk(OL, 30), op = await mk('op.test.near', 20), alice = await mk('alice.test.near', 50);
  const mallory = await mk('mallory.test.near', 10);
  await outlayer.deployContract(readFileSync(outlayerWasm));
  const tryCall = async (acct, a) => {
    try { return await acct.callFunctionRaw(a); } catch (e) { if (e.transactionResult) return e.transactionResult; throw e; }
  };
  const init = await tryCall(outlayer, { contractId: OL, methodName: 'new', args: { owner_id: OL, operator_id: 'op.test.near' } });
  check(init.status.SuccessValue !== undefined, 'new: ' + JSON.stringify(init.status));
  const view = async (method, args = {}, contract = OL) => {
    const r = await sb.rpc('query', { request_type: 'call_function', account_id: contract, method_name: method,
      args_base64: Buffer.from(JSON.stringify(args)).toString('base64'), finality: 'optimistic' });
    if (!r.result || r.result.error) throw new Error(`view ${method}: ${JSON.stringify(r)}`);
    return JSON.parse(Buffer.from(r.result.result).toString());
  };
  check(view('get_pricing').then !== undefined, 'views answer');
  const pricing = await view('get_pricing');
  check(pricing.base_fee === '1000000000000000000000', 'get_pricing: ' + JSON.stringify(pricing));

  // sends a transaction that waits on a yield: INCLUDED, then poll its status
  const send = async (acct, contract, method, args, deposit, tgas = 150) => {
    const r = await acct.signAndSendTransaction({ receiverId: contract,
      actions: [actions.functionCall(method, Buffer.from(typeof args === 'string' ? args : JSON.stringify(args)),
        teraToGas(tgas), deposit)], waitUntil: 'INCLUDED' });
    return r.transaction?.hash ?? r.transaction_outcome?.id;
  };
  const final = async (hash, sender, timeoutMs = 20000) => {
    const t0 = Date.now();
    for (;;) {
      const r = await sb.rpc('EXPERIMENTAL_tx_status', { tx_hash: hash, sender_account_id: sender, wait_until: 'EXECUTED_OPTIMISTIC' });
      if (r.result && r.result.status && (r.result.status.SuccessValue !== undefined || r.result.status.Failure)) return r.result;
      if (Date.now() - t0 > timeoutMs) throw new Error('transaction did not finish: ' + JSON.stringify(r).slice(0, 300));
      await sleep(100);
    }
  };
  const pendingFor = async (sender) => {
    for (let i = 0; i < 100; i++) {
      const list = await view('list_pending_requests', {});
      const mine = list.filter((q) => q.sender_id === sender);
      if (mine.length) return mine.at(-1);
      await sleep(50);
    }
    throw new Error('no pending request from ' + sender);
  };
  const events = (res, name) => res.receipts_outcome.flatMap((o) => o.outcome.logs)
    .filter((l) => l.startsWith('EVENT_JSON:')).map((l) => JSON.parse(l.slice(11))).filter((e) => e.event === name);
  const resolve = (who, id, response, report) => tryCall(who, { contractId: OL, methodName: 'resolve_execution',
    args: report ? { request_id: id, response, report } : { request_id: id, response }, gas: teraToGas(100) });
  const value = (res) => Buffer.from(res.status.SuccessValue, 'base64').toString();
  const refundTo = (res, who) => (res.receipts || []).filter((r) => r.receiver_id === who && r.predecessor_id === OL)
    .flatMap((r) => r.receipt?.Action?.actions || []).reduce((s, a) => s + BigInt(a.Transfer?.deposit ?? 0), 0n);

  // 1. request -> resolve -> the caller's transaction ends with the output; the refund is exact
  const DEP = 10n ** 23n;
  const h1 = await send(alice, OL, 'request_execution', { source: { GitHub: { repo: 'https://github.com/x/random', commit: 'abc' } },
    input_data: '{"min":0,"max":1}' }, DEP);
  const q1 = await pendingFor('alice.test.near');
  check(q1.resource_limits.max_instructions === 1000000000 && q1.payment === String(DEP), 'list_pending_requests shows the request');
  check(/^[0-9a-f]{64}$/.test(q1.data_id), 'data_id is hex');
  const bad = await resolve(mallory, q1.request_id, { success: true, resources_used: { instructions: 0, time_ms: 0 } });
  check(/only the operator op.test.near may resolve/.test(JSON.stringify(bad.status)), 'a non-operator cannot resolve');
  const r1 = await resolve(op, q1.request_id, { success: true, output: { Text: 'hello' },
    resources_used: { instructions: 2500000, time_ms: 30, compile_time_ms: 1000 } },
  { wasm_hash: 'a'.repeat(64), input_hash: 'b'.repeat(64), output_hash: 'c'.repeat(64) });
  check(r1.status.SuccessValue !== undefined, 'operator resolves: ' + JSON.stringify(r1.status).slice(0, 200));
  gas.resolve_execution = BigInt(r1.transaction_outcome.outcome.gas_burnt) + r1.receipts_outcome.reduce((s, o) => s + BigInt(o.outcome.gas_burnt), 0n);
  const again = await resolve(op, q1.request_id, { success: false, resources_used: { instructions: 0, time_ms: 0 } });
  check(/first resolution wins|not found/.test(JSON.stringify(again.status)), 'a second resolve fails: ' + JSON.stringify(again.status).slice(0, 200));
  const f1 = await final(h1, 'alice.test.near');
  check(value(f1) === '"hello"', 'the caller receives the output: ' + value(f1));
  const cost = BASE + 2n * PER_M + 30n * PER_MS + 1000n * PER_MS;
  const done1 = events(f1, 'execution_completed')[0];
  check(done1 && done1.data[0].payment_charged === String(cost) && done1.data[0].payment_refunded === String(DEP - cost),
    'execution_completed charges exactly the usage: ' + JSON.stringify(done1?.data[0]));
  check(done1.data[0].wasm_hash === 'a'.repeat(64) && /^ed25519:/.test(done1.data[0].worker_public_key), 'report and worker key in the event');
  const refund1 = refundTo(f1, 'alice.test.near');
  check(refund1 === 0n || refund1 === DEP - cost, 'refund receipt carries payment - cost: ' + refund1);
  const outs = f1.receipts_outcome.map((o) => ({ id: o.id, gas: BigInt(o.outcome.gas_burnt), logs: o.outcome.logs }));
  gas.request_execution = BigInt(f1.transaction_outcome.outcome.gas_burnt) + outs[0].gas;
  const cb = outs.find((o) => o.logs.some((l) => l.includes('execution_completed')));
  gas.on_execution_response = cb ? cb.gas : 0n;
  check((await view('get_request', { request_id: q1.request_id })) === null, 'the settled request is gone');

  // 1b. an output above the 1024-byte resume payload is kept in state and re-attached by the callback
  const hb = await send(alice, OL, 'request_execution', { source: { GitHub: { repo: 'r', commit: 'c' } } }, DEP);
  const qb = await pendingFor('alice.test.near');
  const text = 'z'.repeat(5000);
  const rb = await resolve(op, qb.request_id, { success: true, output: { Text: text }, resources_used: { instructions: 0, time_ms: 1 } });
  check(rb.status.SuccessValue !== undefined, 'a 5000-byte output resolves: ' + JSON.stringify(rb.status).slice(0, 200));
  gas.resolve_large = BigInt(rb.transaction_outcome.outcome.gas_burnt) + rb.receipts_outcome.reduce((s, o) => s + BigInt(o.outcome.gas_burnt), 0n);
  const fb = await final(hb, 'alice.test.near');
  check(value(fb) === JSON.stringify(text), 'the caller receives the whole 5000-byte output');
  check(events(fb, 'execution_completed')[0].data[0].payment_refunded === String(DEP - BASE - PER_MS), 'large output: exact refund');

  // 2. a failed run keeps only the base fee and returns null
  const h2 = await send(alice, OL, 'request_execution', { source: { GitHub: { repo: 'r', commit: 'c' } } }, DEP);
  const q2 = await pendingFor('alice.test.near');
  await resolve(op, q2.request_id, { success: false, error: 'trap: unreachable', resources_used: { instructions: 999000000, time_ms: 9000 } });
  const f2 = await final(h2, 'alice.test.near');
  check(value(f2) === 'null', 'a failed run returns null');
  const done2 = events(f2, 'execution_completed')[0].data[0];
  check(done2.payment_charged === String(BASE) && done2.error_message === 'trap: unreachable', 'a failed run keeps the base fee');

  // 3. nobody answers: after the window everything comes back and the request is gone; a late resolve fails
  const h3 = await send(alice, OL, 'request_execution', { source: { GitHub: { repo: 'r', commit: 'c' } } }, DEP);
  const q3 = await pendingFor('alice.test.near');
  await sb.rpc('sandbox_fast_forward', { delta_height: 210 });
  const f3 = await final(h3, 'alice.test.near', 30000);
  check(value(f3) === 'null', 'a timed-out request returns null');
  const done3 = events(f3, 'execution_completed')[0].data[0];
  check(done3.error_message === 'timeout' && done3.payment_charged === '0' && done3.payment_refunded === String(DEP),
    'timeout refunds the whole deposit: ' + JSON.stringify(done3));
  check((await view('get_request', { request_id: q3.request_id })) === null, 'the timed-out request is gone');
  const late = await resolve(op, q3.request_id, { success: true, resources_used: { instructions: 0, time_ms: 0 } });
  check(/not found/.test(JSON.stringify(late.status)), 'a late resolve fails');

  // 4. malformed arguments are refused with a message
  const m = await tryCall(alice, { contractId: OL, methodName: 'request_execution', args: Buffer.from('{"source":1,}'), deposit: DEP, gas: teraToGas(150) });
  check(/invalid JSON arguments: object: trailing comma at byte 12/.test(JSON.stringify(m.status)), 'malformed JSON is refused: ' + JSON.stringify(m.status).slice(0, 200));

  // 4b. secrets: the deposit is the storage the entry takes, the rest and the delete come back exactly
  const sec = { accessor: { Repo: { repo: 'github.com/a/b', branch: 'main' } }, profile: 'default',
    encrypted_secrets_base64: 'c2VjcmV0', access: { AccountPattern: { pattern: '^[a-z]+\\.test\\.near$' } } };
  const est = await view('estimate_storage_cost', { ...sec, owner: 'alice.test.near' });
  const usage0 = (await outlayer.getState()).storageUsage;
  const st = await tryCall(alice, { contractId: OL, methodName: 'store_secrets', args: sec, deposit: 10n ** 24n, gas: teraToGas(50) });
  check(st.status.SuccessValue !== undefined, 'store_secrets');
  const usage1 = (await outlayer.getState()).storageUsage;
  check(BigInt(est) === BigInt(usage1 - usage0) * 10n ** 19n, `the estimate equals the storage taken (${est})`);
  const got = await view('get_secrets', { accessor: sec.accessor, profile: 'default', owner: 'alice.test.near' });
  check(got && got.storage_deposit === est && got.encrypted_secrets === 'c2VjcmV0', 'get_secrets shows the deposit');
  const del = await tryCall(alice, { contractId: OL, methodName: 'delete_secrets', args: { accessor: sec.accessor, profile: 'default' }, gas: teraToGas(50) });
  check(del.status.SuccessValue !== undefined && (await outlayer.getState()).storageUsage === usage0, 'delete_secrets frees the storage');

  // 5. coinflip: win, loss, timeout
  const cf = await mk('coinflip.test.near', 30), player = await mk('player.test.near', 20);
  await cf.deployContract(readFileSync(coinflipWasm));
  await tryCall(cf, { contractId: 'coinflip.test.near', methodName: 'new', args: { outlayer_id: OL, source: { GitHub: { repo: 'https://github.com/outlayer/random', commit: 'abc' } } } });
  const round = async (choice, answer) => {
    const h = await send(player, 'coinflip.test.near', 'flip_coin', { choice }, 10n ** 24n, 200);
    const q = await pendingFor('coinflip.test.near');
    if (answer === null) await sb.rpc('sandbox_fast_forward', { delta_height: 210 });
    else await resolve(op, q.request_id, { success: true, output: { Json: answer }, resources_used: { instructions: 21043, time_ms: 6 } });
    return JSON.parse(value(await final(h, 'player.test.near', 30000)));
  };
  const win = await round('Heads', { random_number: 4 });
  check(win.won === true && win.paid === '2000000000000000000000000', 'coinflip win pays double: ' + JSON.stringify(win));
  const loss = await round('Tails', { random_number: 4 });
  check(loss.won === false && loss.paid === '0', 'coinflip loss keeps the stake: ' + JSON.stringify(loss));
  const to = await round('Heads', null);
  check(to.outcome === null && to.paid === '1000000000000000000000000', 'coinflip timeout returns the stake: ' + JSON.stringify(to));
  // OutLayer refuses the request (paused): coinflip's callback sees the failed call and returns the stake
  await tryCall(outlayer, { contractId: OL, methodName: 'set_paused', args: { paused: true } });
  const hp = await send(player, 'coinflip.test.near', 'flip_coin', { choice: 'Tails' }, 10n ** 24n, 200);
  const refused = JSON.parse(value(await final(hp, 'player.test.near')));
  check(refused.outcome === null && refused.paid === '1000000000000000000000000', 'a refused request returns the stake: ' + JSON.stringify(refused));
  await tryCall(outlayer, { contractId: OL, methodName: 'set_paused', args: { paused: false } });
  const stats = await view('get_stats', {}, 'coinflip.test.near');
  check(stats.games === 4 && stats.wins === 1 && stats.losses === 1 && stats.refunds === 2 && stats.reserved === '0', 'coinflip stats');

  // 6. upgrade: the owner redeploys (here the same code) and migrate runs; state and pending requests survive
  const hu = await send(alice, OL, 'request_execution', { source: { GitHub: { repo: 'r', commit: 'c' } } }, DEP);
  const qu = await pendingFor('alice.test.near');
  const before = await view('get_stats');
  const up = await tryCall(outlayer, { contractId: OL, methodName: 'upgrade', args: readFileSync(outlayerWasm), gas: teraToGas(300) });
  check(up.status.SuccessValue !== undefined && up.receipts_outcome.some((o) => o.outcome.logs.includes('migrate: state at version 1')),
    'upgrade deploys and migrates: ' + JSON.stringify(up.status).slice(0, 200));
  const bad2 = await tryCall(alice, { contractId: OL, methodName: 'upgrade', args: readFileSync(outlayerWasm), gas: teraToGas(300) });
  check(/only the owner outlayer.test.near may call this/.test(JSON.stringify(bad2.status)), 'only the owner can upgrade');
  check(JSON.stringify(await view('get_stats')) === JSON.stringify(before), 'stats survive the upgrade');
  await resolve(op, qu.request_id, { success: true, output: { Text: 'after upgrade' }, resources_used: { instructions: 0, time_ms: 0 } });
  check(value(await final(hu, 'alice.test.near')) === '"after upgrade"', 'a request made before the upgrade settles after it');

  const tg = (g) => (Number(g) / 1e12).toFixed(2) + ' Tgas';
  console.log(`gas (sandbox): request_execution ${tg(gas.request_execution)}, resolve_execution ${tg(gas.resolve_execution)}, ` +
    `on_execution_response ${tg(gas.on_execution_response)}, resolve_execution with a 5000-byte output ${tg(gas.resolve_large)}; ` +
    `outlayer.wasm ${readFileSync(outlayerWasm).length} bytes`);
} finally {
  await sb.stop();
}
