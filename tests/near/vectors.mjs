// Test vectors for src/near, produced by near-api-js itself (the compatibility oracle).
//
//   node vectors.mjs gen            prints {"secret_key", "cases":[...]}: for each transaction a plain
//                                   description (what the C side builds on its own), near-api-js's
//                                   borsh hex, base58 hash, signature and signed base64.
//   node vectors.mjs verify FILE    FILE = [{"name", "signed_b64"}] produced by our C code: near-api-js
//                                   decodes each, re-encodes it byte for byte, verifies the signature
//                                   over sha256(borsh(tx)) and compares it with the case of that name.
//
// Needs only node_modules (no network). Exit status 0 = all good; failures are printed to stderr.
import { createHash } from 'node:crypto';
import {
  KeyPair, KeyPairSigner, PublicKey, actions, createTransaction, buildDelegateAction, encodeTransaction,
  decodeSignedTransaction, baseEncode, baseDecode,
} from 'near-api-js';

const SEED_SK =
  'ed25519:1GMkH3brNXiNNs1tiFZHu4yZSRrzJwxi5wB9bHFtMikjwpAW9DMZzU2Pqakc5it8X3N5vPmqdN7KF4CCUpmKhq';
const key = KeyPair.fromString(SEED_SK);
const signer = new KeyPairSigner(key);
const pk = key.getPublicKey();
// A second ed25519 key and a secp256k1 public key (64 bytes x||y) for AddKey/DeleteKey/Stake.
const pk2 = PublicKey.fromString('ed25519:11111111111111111111111111111111');
const secpBytes = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) & 0xff);
const pkSecp = PublicKey.fromString('secp256k1:' + baseEncode(secpBytes));
const blockHash = new Uint8Array(32).fill(0x11);
const wasm = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
const hex = (u8) => Buffer.from(u8).toString('hex');
const b64 = (u8) => Buffer.from(u8).toString('base64');
const enc = new TextEncoder();

// Each entry: [description for C, near-api-js action]. Descriptions use decimal strings for u64/u128.
function A(desc, act) { return { desc, act }; }
const acts = {
  create: () => A({ type: 'CreateAccount' }, actions.createAccount()),
  deploy: () => A({ type: 'DeployContract', code_b64: b64(wasm) }, actions.deployContract(wasm)),
  call: (m, args, gas, dep) =>
    A({ type: 'FunctionCall', method_name: m, args_b64: b64(enc.encode(args)), gas: String(gas), deposit: String(dep) },
      actions.functionCall(m, enc.encode(args), gas, dep)),
  transfer: (d) => A({ type: 'Transfer', deposit: String(d) }, actions.transfer(d)),
  stake: (s, k) => A({ type: 'Stake', stake: String(s), public_key: k.toString() }, actions.stake(s, k)),
  addFull: (k) => A({ type: 'AddKey', public_key: k.toString(), permission: 'FullAccess' }, actions.addFullAccessKey(k)),
  addFc: (k, r, ms, allowance) =>
    A({ type: 'AddKey', public_key: k.toString(),
        permission: { receiver_id: r, method_names: ms, allowance: allowance === undefined ? null : String(allowance) } },
      actions.addFunctionCallAccessKey(k, r, ms, allowance)),
  delKey: (k) => A({ type: 'DeleteKey', public_key: k.toString() }, actions.deleteKey(k)),
  delAcct: (b) => A({ type: 'DeleteAccount', beneficiary_id: b }, actions.deleteAccount(b)),
  deployGlobal: (mode) =>
    A({ type: 'DeployGlobalContract', code_b64: b64(wasm), mode }, actions.deployGlobalContract(wasm, mode)),
  useGlobalAcct: (a) => A({ type: 'UseGlobalContract', account_id: a }, actions.useGlobalContract({ accountId: a })),
  useGlobalHash: (h) =>
    A({ type: 'UseGlobalContract', code_hash: baseEncode(h) }, actions.useGlobalContract({ codeHash: h })),
};

async function delegate(inner, nonce, maxHeight) {
  const da = buildDelegateAction({
    senderId: 'alice.test', receiverId: 'relay.test', actions: inner.map((x) => x.act), nonce: BigInt(nonce),
    maxBlockHeight: BigInt(maxHeight), publicKey: pk,
  });
  const { signedDelegate } = await signer.signDelegateAction(da);
  const sig = 'ed25519:' + baseEncode(signedDelegate.signature.data);
  return A({ type: 'Delegate',
             delegate: { sender_id: 'alice.test', receiver_id: 'relay.test', nonce: String(nonce),
                         max_block_height: String(maxHeight), public_key: pk.toString(),
                         actions: inner.map((x) => x.desc) },
             signature: sig },
           actions.signedDelegate({ delegateAction: da, signature: signedDelegate.signature }));
}

async function cases() {
  const U128_MAX = (1n << 128n) - 1n;
  const list = [
    ['spec_6b', 'alice.test', 'bob.test', 7n,
      [acts.transfer(10n ** 24n), acts.call('set', '{"v":1}', 30000000000000n, 0n)]],
    ['create_account', 'alice.test', 'sub.alice.test', 1n,
      [acts.create(), acts.transfer(10n ** 23n), acts.addFull(pk2)]],
    ['deploy_contract', 'alice.test', 'alice.test', 2n, [acts.deploy()]],
    ['function_call', 'alice.test', 'c.test', 3n,
      [acts.call('h\u00e9llo_w\u00f6rld', '{"a":[1,2,3],"s":"x"}', 300000000000000n, 1n)]],
    ['function_call_empty', 'alice.test', 'c.test', 4n, [acts.call('m', '', 0n, 0n)]],
    ['transfer_max', 'alice.test', 'bob.test', 5n, [acts.transfer(U128_MAX)]],
    ['stake_ed25519', 'alice.test', 'alice.test', 6n, [acts.stake(12345678901234567890123n, pk2)]],
    ['stake_secp256k1', 'alice.test', 'alice.test', 7n, [acts.stake(1n, pkSecp)]],
    ['add_key_full', 'alice.test', 'alice.test', 8n, [acts.addFull(pkSecp)]],
    ['add_key_fc', 'alice.test', 'alice.test', 9n,
      [acts.addFc(pk2, 'app.test', ['get', 'set_value'], 250000000000000000000000n)]],
    ['add_key_fc_unlimited', 'alice.test', 'alice.test', 10n, [acts.addFc(pk2, 'app.test', [], undefined)]],
    ['delete_key', 'alice.test', 'alice.test', 11n, [acts.delKey(pk2), acts.delKey(pkSecp)]],
    ['delete_account', 'alice.test', 'alice.test', 12n, [acts.delAcct('bob.test')]],
    ['deploy_global_hash', 'alice.test', 'alice.test', 13n, [acts.deployGlobal('codeHash')]],
    ['deploy_global_account', 'alice.test', 'alice.test', 14n, [acts.deployGlobal('accountId')]],
    ['use_global_account', 'alice.test', 'alice.test', 15n, [acts.useGlobalAcct('lib.test')]],
    ['use_global_hash', 'alice.test', 'alice.test', 16n, [acts.useGlobalHash(new Uint8Array(32).fill(0xab))]],
    ['delegate', 'relayer.test', 'alice.test', 17n,
      [await delegate([acts.transfer(5n), acts.call('ping', '{}', 10000000000000n, 0n)], 99n, 1000n)]],
    ['big_nonce', '03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8', 'bob.test',
      18446744073709551615n, [acts.transfer(1n)]],
    ['every_action', 'alice.test', 'alice.test', 19n,
      [acts.create(), acts.deploy(), acts.call('x', '[]', 1n, 2n), acts.transfer(3n), acts.stake(4n, pk),
        acts.addFull(pk2), acts.addFc(pkSecp, 'a.test', ['m'], 5n), acts.delKey(pk2), acts.delAcct('b.test'),
        await delegate([acts.create()], 1n, 2n), acts.deployGlobal('codeHash'), acts.useGlobalAcct('g.test')]],
  ];
  const out = [];
  for (const [name, signerId, receiverId, nonce, as] of list) {
    const tx = createTransaction(signerId, pk, receiverId, nonce, as.map((x) => x.act), blockHash);
    const { txHash, signedTransaction } = await signer.signTransaction(tx);
    out.push({
      name, signer_id: signerId, public_key: pk.toString(), nonce: String(nonce), receiver_id: receiverId,
      block_hash: baseEncode(blockHash), actions: as.map((x) => x.desc),
      borsh_hex: hex(encodeTransaction(tx)), hash: baseEncode(txHash),
      signature: 'ed25519:' + baseEncode(signedTransaction.signature.data),
      signed_b64: b64(encodeTransaction(signedTransaction)),
    });
  }
  return out;
}

async function verify(file) {
  const fs = await import('node:fs');
  const ours = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ref = new Map((await cases()).map((c) => [c.name, c]));
  let bad = 0;
  for (const { name, signed_b64 } of ours) {
    const fail = (why) => { bad++; console.error(`verify ${name}: ${why}`); };
    const bytes = Buffer.from(signed_b64, 'base64');
    let stx;
    try { stx = decodeSignedTransaction(bytes); } catch (e) { fail(`near-api-js cannot decode: ${e.message}`); continue; }
    const again = encodeTransaction(stx);
    if (hex(again) !== hex(bytes)) { fail('re-encoding differs'); continue; }
    const txBytes = encodeTransaction(stx.transaction);
    const hash = createHash('sha256').update(txBytes).digest();
    const pub = stx.transaction.publicKey;
    // decodeSignedTransaction yields a plain {ed25519Signature:{data:[...]}} object, not a Signature
    const sigObj = stx.signature.ed25519Signature ?? stx.signature.secp256k1Signature;
    const sig = stx.signature.data ?? (sigObj && Uint8Array.from(sigObj.data));
    if (!sig || !pub.verify(hash, sig)) { fail('signature does not verify'); continue; }
    const r = ref.get(name);
    if (!r) { fail('no such case'); continue; }
    if (stx.transaction.signerId !== r.signer_id || stx.transaction.receiverId !== r.receiver_id ||
        String(stx.transaction.nonce) !== r.nonce || stx.transaction.actions.length !== r.actions.length)
      fail('decoded fields differ from the case');
    else if (r.signed_b64 !== signed_b64) fail('bytes differ from near-api-js own signed transaction');
  }
  if (ours.length !== ref.size) { bad++; console.error(`verify: ${ours.length} transactions, expected ${ref.size}`); }
  console.log(JSON.stringify({ verified: ours.length - bad, failed: bad }));
  process.exit(bad ? 1 : 0);
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'gen') {
  console.log(JSON.stringify({ secret_key: SEED_SK, cases: await cases() }, null, 1));
} else if (mode === 'verify') {
  await verify(arg);
} else {
  console.error('usage: node vectors.mjs gen | verify FILE');
  process.exit(2);
}
