// Sandbox benchmark (not a test): function-call transactions per second and view calls per second against a
// freshly started outlayer-sandbox with the C test contract. Transactions are signed before the clock starts
// and sent with broadcast_tx_async over LANES keys (one in-order lane per key, so nonces never race).
// Usage: node bench/sandbox/bench.mjs path/to/outlayer-sandbox path/to/sbtest.wasm [txs] [block-ms]
import { readFileSync } from 'node:fs';
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner, actions, createTransaction, baseDecode, teraToGas } from 'near-api-js';
import { Sandbox } from '../../tests/sandbox/harness.mjs';

const [bin, wasm] = process.argv.slice(2, 4);
const N = Number(process.argv[4] || 4000), BLOCK_MS = Number(process.argv[5] || 100), LANES = 16, VIEW_SECONDS = 3;
const sb = await new Sandbox(bin, { blockMs: BLOCK_MS }).start();
try {
  const provider = new JsonRpcProvider({ url: sb.url });
  const root = new Account('test.near', provider, KeyPairSigner.fromSecretKey(sb.credentials().private_key));
  await root.signAndSendTransaction({ receiverId: 'test.near', actions: [actions.deployContract(readFileSync(wasm))] });
  const keys = Array.from({ length: LANES }, () => KeyPair.fromRandom('ed25519'));
  await root.signAndSendTransaction({ receiverId: 'test.near', actions: keys.map((k) => actions.addFullAccessKey(k.getPublicKey())) });
  const block = await provider.viewBlock({ finality: 'final' });
  const hash = baseDecode(block.header.hash);
  const lanes = [];
  for (const k of keys) {
    const ak = await provider.viewAccessKey({ accountId: 'test.near', publicKey: k.getPublicKey().toString(), finalityQuery: { finality: 'optimistic' } });
    const signer = new KeyPairSigner(k), txs = [];
    for (let i = 0; i < N / LANES; i++) {
      const tx = createTransaction('test.near', k.getPublicKey(), 'test.near', BigInt(ak.nonce) + 1n + BigInt(i),
        [actions.functionCall('set', Buffer.from('v' + i), teraToGas(10), 0n)], hash);
      const { signedTransaction } = await signer.signTransaction(tx);
      txs.push(Buffer.from(signedTransaction.encode()).toString('base64'));
    }
    lanes.push(txs);
  }
  const t0 = performance.now();
  const hashes = await Promise.all(lanes.map(async (txs) => {
    let last;
    for (const t of txs) last = (await sb.rpc('broadcast_tx_async', [t])).result;
    return last;
  }));
  for (const h of hashes) {
    const r = await sb.rpc('tx', { tx_hash: h, sender_account_id: 'test.near', wait_until: 'EXECUTED_OPTIMISTIC' });
    if (!r.result || !r.result.status.SuccessValue === undefined) throw new Error('tx failed: ' + JSON.stringify(r).slice(0, 300));
  }
  const dt = (performance.now() - t0) / 1000;
  console.log(`function-call tx/s: ${(N / dt).toFixed(0)} (${N} transactions calling set over ${LANES} keys in ${dt.toFixed(2)} s, block every ${BLOCK_MS} ms)`);

  let views = 0;
  const end = performance.now() + VIEW_SECONDS * 1000;
  const args = Buffer.from('{"x":1}').toString('base64');
  await Promise.all(Array.from({ length: LANES }, async () => {
    while (performance.now() < end) {
      const r = await sb.rpc('query', { request_type: 'call_function', account_id: 'test.near', method_name: 'echo', args_base64: args, finality: 'optimistic' });
      if (!r.result || !r.result.result) throw new Error('view failed');
      views++;
    }
  }));
  console.log(`view calls/s: ${(views / VIEW_SECONDS).toFixed(0)} (call_function echo, ${LANES} concurrent clients, ${VIEW_SECONDS} s)`);
} finally {
  await sb.stop();
}
