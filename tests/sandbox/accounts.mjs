// near-api-js 7 against a freshly started sandbox: accounts, transfers, keys, nonces, hostile transactions,
// a missing receiver, and a kill -9 + restart. Usage: node accounts.mjs path/to/outlayer-sandbox
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner, actions, createTransaction, nearToYocto,
  baseDecode, SignedTransaction, Signature } from 'near-api-js';
import { Sandbox, check } from './harness.mjs';

const total = async (a) => (await a.getState()).balance.total;
const sb = await new Sandbox(process.argv[2]).start();
try {
  const provider = new JsonRpcProvider({ url: sb.url });
  const cred = sb.credentials();
  const root = new Account('test.near', provider, KeyPairSigner.fromSecretKey(cred.private_key));

  const st = await root.getState();
  check(st.balance.total === nearToYocto(1000000000), 'test.near holds 1e9 NEAR at genesis');

  // create a sub-account with a full-access key
  const aliceKey = KeyPair.fromRandom('ed25519');
  const r1 = await root.createAccount({ newAccountId: 'alice.test.near', publicKey: aliceKey.getPublicKey(),
    nearToTransfer: nearToYocto(10) });
  check(r1.status.SuccessValue === '', 'createAccount succeeds');
  check(r1.transaction_outcome.outcome.gas_burnt > 0 && r1.receipts_outcome.length >= 1, 'outcomes have gas and receipts');
  const alice = new Account('alice.test.near', provider, new KeyPairSigner(aliceKey));
  check((await total(alice)) === nearToYocto(10), 'alice got 10 NEAR');

  // transfer back
  await alice.transfer({ receiverId: 'test.near', amount: nearToYocto(1) });
  const ab = await total(alice);
  check(ab < nearToYocto(9) && ab > nearToYocto(8.99), 'alice paid 1 NEAR plus gas: ' + ab);

  // keys: add and delete a full-access key, add a function-call key
  const k2 = KeyPair.fromRandom('ed25519');
  await alice.addFullAccessKey(k2.getPublicKey());
  let keys = await alice.getAccessKeyList();
  check(keys.keys.length === 2, 'two keys after addFullAccessKey');
  const alice2 = new Account('alice.test.near', provider, new KeyPairSigner(k2));
  await alice2.transfer({ receiverId: 'test.near', amount: 1n });
  check(true, 'second full-access key signs');
  await alice.deleteKey(k2.getPublicKey());
  keys = await alice.getAccessKeyList();
  check(keys.keys.length === 1, 'one key after deleteKey');
  let refused = null;
  try { await alice2.transfer({ receiverId: 'test.near', amount: 1n }); } catch (e) { refused = e; }
  check(refused && /AccessKeyNotFound|does not exist/i.test(String(refused.message) + JSON.stringify(refused)),
    'deleted key is refused: ' + (refused && refused.message));

  const fk = KeyPair.fromRandom('ed25519');
  await alice.addFunctionCallAccessKey({ publicKey: fk.getPublicKey(), contractId: 'test.near',
    methodNames: ['allowed'], allowance: nearToYocto(0.25) });
  const fkv = await alice.getAccessKey(fk.getPublicKey());
  check(fkv.permission && JSON.stringify(fkv.permission).includes('allowed'), 'function-call key stored with its methods');
  const aliceFk = new Account('alice.test.near', provider, new KeyPairSigner(fk));
  refused = null;
  try { await aliceFk.callFunctionRaw({ contractId: 'test.near', methodName: 'other', args: {} }); } catch (e) { refused = e; }
  check(refused && /MethodNameMismatch/.test(String(refused.message) + String(refused.type) + JSON.stringify(refused)),
    'function-call key refused outside its methods: ' + (refused && (refused.type || refused.message)));
  refused = null;
  try { await aliceFk.transfer({ receiverId: 'test.near', amount: 1n }); } catch (e) { refused = e; }
  check(refused, 'function-call key cannot transfer: ' + (refused && (refused.type || refused.message)));

  // InvalidNonce recovery: a second Account object with the same key makes the first one's cached nonce stale
  const rootB = new Account('test.near', provider, KeyPairSigner.fromSecretKey(cred.private_key));
  await root.transfer({ receiverId: 'alice.test.near', amount: 1n });
  await rootB.transfer({ receiverId: 'alice.test.near', amount: 1n });
  await rootB.transfer({ receiverId: 'alice.test.near', amount: 1n });
  await root.transfer({ receiverId: 'alice.test.near', amount: 1n });
  check(true, 'stale cached nonce recovered through InvalidNonce retry');

  // raw InvalidNonce shape
  const pk = (await root.getSigner().getPublicKey());
  const ak = await provider.viewAccessKey({ accountId: 'test.near', publicKey: pk.toString(), finalityQuery: { finality: 'optimistic' } });
  const blk = await provider.viewBlock({ finality: 'final' });
  const hash = baseDecode(blk.header.hash);
  const mk = async (nonce, bh = hash, acts = [actions.transfer(1n)], recv = 'alice.test.near') => {
    const tx = createTransaction('test.near', pk, recv, nonce, acts, bh);
    const { signedTransaction: signed } = await root.getSigner().signTransaction(tx);
    return Buffer.from(signed.encode()).toString('base64');
  };
  let r = await sb.rpc('send_tx', { signed_tx_base64: await mk(ak.nonce), wait_until: 'EXECUTED_OPTIMISTIC' });
  check(r.error && r.error.cause.name === 'INVALID_TRANSACTION' &&
    r.error.data.TxExecutionError.InvalidTxError.InvalidNonce.ak_nonce === Number(ak.nonce), 'InvalidNonce envelope');

  // hostile transactions change nothing
  const before = await total(root);
  r = await sb.rpc('send_tx', { signed_tx_base64: '!!notbase64', wait_until: 'EXECUTED_OPTIMISTIC' }, { raw: true });
  check(r.status === 400 && r.body.error.cause.name === 'PARSE_ERROR', 'bad base64 is a PARSE_ERROR (400)');
  r = await sb.rpc('send_tx', { signed_tx_base64: Buffer.from([1, 2, 3, 4, 5]).toString('base64') }, { raw: true });
  check(r.status === 400 && r.body.error.cause.name === 'PARSE_ERROR', 'bad borsh is a PARSE_ERROR');
  const good = Buffer.from(await mk(ak.nonce + 1n), 'base64');
  good[good.length - 5] ^= 1; // flip a signature bit
  r = await sb.rpc('send_tx', { signed_tx_base64: good.toString('base64') });
  check(r.error && r.error.data.TxExecutionError.InvalidTxError === 'InvalidSignature', 'bad signature is InvalidSignature');
  r = await sb.rpc('send_tx', { signed_tx_base64: await mk(ak.nonce + 1n, new Uint8Array(32).fill(7)) });
  check(r.error && r.error.data.TxExecutionError.InvalidTxError === 'Expired', 'unknown block hash is Expired');
  r = await sb.rpc('send_tx', { signed_tx_base64: await mk(ak.nonce + 1n, hash, [actions.functionCall('f', new Uint8Array(2 * 1024 * 1024), 10n ** 13n, 0n)]) });
  check(r.error && r.error.data.TxExecutionError.InvalidTxError.TransactionSizeExceeded.limit === 1572864,
    'a 2 MiB argument exceeds the transaction size limit');
  r = await sb.rpc('send_tx', { signed_tx_base64: await mk(ak.nonce + 1n, hash, [actions.functionCall('f', new Uint8Array(4 * 1024 * 1024 + 1), 10n ** 13n, 0n)]) });
  check(r.error && r.error.cause.name === 'PARSE_ERROR' && /argument|args|limit|4194304/i.test(r.error.data), 'arguments over 4 MiB refused at decoding: ' + r.error.data);
  check((await total(root)) === before, 'hostile transactions changed nothing');

  // a valid transaction to a missing account: gas burnt, AccountDoesNotExist at the receipt, deposit refunded
  r = await sb.rpc('send_tx', { signed_tx_base64: await mk(ak.nonce + 1n, hash, [actions.transfer(nearToYocto(5))], 'ghost.test.near'),
    wait_until: 'EXECUTED_OPTIMISTIC' });
  check(r.result && r.result.status.Failure.ActionError.kind.AccountDoesNotExist.account_id === 'ghost.test.near',
    'missing receiver fails with AccountDoesNotExist');
  await new Promise((res) => setTimeout(res, 300)); // refund receipt runs in a later block
  const after = await total(root);
  check(before - after < nearToYocto(0.01) && before > after, 'deposit refunded, only gas burnt: ' + (before - after));

  // EXPERIMENTAL_tx_status with receipts, tx by hash
  const txh = r.result.transaction.hash;
  const ex = await sb.rpc('EXPERIMENTAL_tx_status', { tx_hash: txh, sender_account_id: 'test.near', wait_until: 'FINAL' });
  check(ex.result && ex.result.receipts.length >= 2 && ex.result.receipts_outcome.length >= 2, 'EXPERIMENTAL_tx_status lists receipts and the refund');

  // delete the account: balance goes to the beneficiary
  const rootBefore = await total(root);
  await alice.deleteAccount('test.near');
  await new Promise((res) => setTimeout(res, 300));
  let gone = null;
  try { await alice.getState(); } catch (e) { gone = e; }
  check(gone, 'alice deleted');
  check((await total(root)) > rootBefore + nearToYocto(8), 'beneficiary received the balance');

  // kill -9 and restart: applied blocks and state survive
  const h1 = (await provider.viewBlock({ finality: 'final' })).header.height;
  const bal = await total(root);
  await sb.kill('SIGKILL');
  await sb.start(sb.port);
  const p2 = new JsonRpcProvider({ url: sb.url });
  const root2 = new Account('test.near', p2, KeyPairSigner.fromSecretKey(cred.private_key));
  check((await total(root2)) === bal, 'balance survives kill -9');
  check((await p2.viewBlock({ finality: 'final' })).header.height >= h1, 'height survives kill -9');
  await root2.transfer({ receiverId: 'test.near', amount: 1n });
  check(true, 'transactions work after restart');
  const unk = await sb.rpc('no_such_method', []);
  check(unk.error && unk.error.cause.name === 'METHOD_NOT_FOUND' && unk.error.code === -32601, 'unknown method envelope');

  // SIGTERM while a request waits for a transaction: the waiter answers at once and the process exits 0
  // (408 normally; a connection closed by the stopping server is tolerated, a 10 s wait is not)
  const waiting = sb.rpc('tx', { tx_hash: '11111111111111111111111111111111', sender_account_id: 'test.near',
    wait_until: 'EXECUTED_OPTIMISTIC' }, { raw: true }).catch((e) => ({ status: 'closed: ' + (e.cause?.code || e.message) }));
  await new Promise((res) => setTimeout(res, 300));
  const t0 = Date.now();
  await sb.stop();
  const w = await waiting;
  const dt = Date.now() - t0;
  check(dt < 5000 && (w.status === 408 || String(w.status).startsWith('closed')), `shutdown answers waiting requests (${dt} ms, ${w.status})`);
} finally {
  await sb.stop();
}
