// A small NEAR JSON-RPC server for tests/near/test_rpc.c: answers on 127.0.0.1 with the response
// shapes of a real node (../shared/reference/near-protocol.md §4: result bodies, the error envelope,
// HTTP 408/500/503) for fixed accounts, and keeps just enough state for transactions: per-key nonces
// (InvalidNonce when reused), known transaction hashes, Expired for an all-zero block hash.
//
// Usage: node rpc_server.mjs   -> prints "PORT <n>" once listening; runs until stdin closes.
// Accounts with behaviour: alice.test (exists, key FAe4…), missing.test (UNKNOWN_ACCOUNT),
// legacy.test (pre-"cause" error), flaky.test (two 503s then OK), broken.test (always 500
// INTERNAL_ERROR), slow.test (answers after 3 s), garbage.test (HTTP 200, not JSON),
// bob.test (no contract code), panic.test (contract panics), rot.test (every key is a full-access key
// starting at nonce 0).
// Test-only method: test_counts -> {"<method>/<account>": number of requests}.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { decodeSignedTransaction, encodeTransaction, baseEncode } from 'near-api-js';

const ALICE_KEY = 'ed25519:FAe4sisG95oZ42w7buUn5qEE4TAnfTTFPiguZUHmhiF';
const HASH = (s) => baseEncode(createHash('sha256').update(s).digest());
const BLOCK_HASH = HASH('block-1000');
const counts = {};
const nonces = new Map([[`alice.test/${ALICE_KEY}`, 100n]]);
const txs = new Map(); // hash -> outcome
const bump = (k) => { counts[k] = (counts[k] || 0) + 1; return counts[k]; };

const ok = (id, result) => [200, { jsonrpc: '2.0', id, result }];
const handlerError = (id, cause, info, data, status = 200) =>
  [status, { jsonrpc: '2.0', id, error: { name: 'HANDLER_ERROR', cause: { name: cause, info }, code: -32000,
                                          message: 'Server error', data } }];
const blockInfo = { block_height: 1000, block_hash: BLOCK_HASH };

function outcome(hash, signer, receiver, status, wait) {
  const receipt = HASH('receipt-' + hash);
  return {
    final_execution_status: wait || 'EXECUTED_OPTIMISTIC',
    status,
    transaction: { signer_id: signer, public_key: ALICE_KEY, nonce: 0, receiver_id: receiver, actions: [],
                   priority_fee: 0, signature: 'ed25519:1', hash },
    transaction_outcome: { proof: [], block_hash: BLOCK_HASH, id: hash,
      outcome: { logs: [], receipt_ids: [receipt], gas_burnt: 2428000000000, tokens_burnt: '242800000000000000000',
                 executor_id: signer, status: { SuccessReceiptId: receipt }, metadata: { version: 1, gas_profile: null } } },
    receipts_outcome: [{ proof: [], block_hash: BLOCK_HASH, id: receipt,
      outcome: { logs: ['hello'], receipt_ids: [], gas_burnt: 1000, tokens_burnt: '0', executor_id: receiver,
                 status, metadata: { version: 3, gas_profile: [] } } }],
  };
}

function sendTx(id, b64, wait) {
  let stx;
  try { stx = decodeSignedTransaction(Buffer.from(b64, 'base64')); } catch (e) {
    return [200, { jsonrpc: '2.0', id, error: { name: 'REQUEST_VALIDATION_ERROR',
      cause: { name: 'PARSE_ERROR', info: { error_message: String(e.message) } }, code: -32700, message: 'Parse error',
      data: String(e.message) } }];
  }
  const tx = stx.transaction;
  const hash = baseEncode(createHash('sha256').update(encodeTransaction(tx)).digest());
  const key = `${tx.signerId}/${tx.publicKey.toString()}`;
  const invalid = (e) => handlerError(id, 'INVALID_TRANSACTION', {}, { TxExecutionError: { InvalidTxError: e } });
  if (txs.has(hash)) return ok(id, txs.get(hash)); // re-sending is idempotent
  if (tx.signerId === 'rot.test' && !nonces.has(key)) nonces.set(key, 0n); // rot.test: any key is a full-access key
  if (!nonces.has(key)) return invalid({ InvalidAccessKeyError: { AccessKeyNotFound: { account_id: tx.signerId, public_key: tx.publicKey.toString() } } });
  if (Buffer.from(tx.blockHash).every((b) => b === 0)) return invalid('Expired');
  const ak = nonces.get(key);
  if (BigInt(tx.nonce) <= ak) return invalid({ InvalidNonce: { tx_nonce: Number(tx.nonce), ak_nonce: Number(ak) } });
  nonces.set(key, BigInt(tx.nonce));
  let status = { SuccessValue: Buffer.from('"done"').toString('base64') };
  if (tx.receiverId === 'panic.test')
    status = { Failure: { ActionError: { index: 0, kind: { FunctionCallError: { ExecutionError: 'Smart contract panicked: boom' } } } } };
  const out = outcome(hash, tx.signerId, tx.receiverId, status, wait);
  txs.set(hash, out);
  if (wait === 'NONE') return ok(id, { final_execution_status: 'NONE' });
  return ok(id, out);
}

function query(id, p) {
  const acct = p.account_id;
  switch (p.request_type) {
    case 'view_account':
      return ok(id, { amount: '1000000000000000000000000', locked: '0', code_hash: '11111111111111111111111111111111',
                      storage_usage: 182, storage_paid_at: 0, ...blockInfo });
    case 'view_access_key': {
      if (acct === 'rot.test' && !nonces.has(`${acct}/${p.public_key}`)) nonces.set(`${acct}/${p.public_key}`, 0n);
      const n = nonces.get(`${acct}/${p.public_key}`);
      if (n === undefined)
        return ok(id, { error: `access key ${p.public_key} does not exist while viewing`, logs: [], ...blockInfo });
      return ok(id, { nonce: Number(n), permission: 'FullAccess', ...blockInfo });
    }
    case 'view_access_key_list':
      return ok(id, { keys: [{ public_key: ALICE_KEY, access_key: { nonce: 100, permission: 'FullAccess' } }], ...blockInfo });
    case 'call_function': {
      const args = Buffer.from(p.args_base64, 'base64').toString();
      if (acct === 'panic.test')
        return ok(id, { error: 'wasm execution failed with error: HostError(GuestPanic { panic_msg: "boom: bad args" })', logs: [], ...blockInfo });
      if (p.method_name === 'nope')
        return ok(id, { error: 'wasm execution failed with error: MethodResolveError(MethodNotFound)', logs: [], ...blockInfo });
      return ok(id, { result: [...Buffer.from(JSON.stringify({ echo: JSON.parse(args || 'null') }))], logs: ['log1'], ...blockInfo });
    }
    case 'view_state':
      return ok(id, { values: [{ key: Buffer.from('k').toString('base64'), value: Buffer.from('v').toString('base64') }], ...blockInfo });
    case 'view_code':
      if (acct === 'bob.test')
        return handlerError(id, 'NO_CONTRACT_CODE', { contract_account_id: acct, ...blockInfo }, `Contract code for contract ID #${acct} has never been observed on the node`);
      return ok(id, { code_base64: Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]).toString('base64'), hash: HASH('code'), ...blockInfo });
    default:
      return [200, { jsonrpc: '2.0', id, error: { name: 'REQUEST_VALIDATION_ERROR',
        cause: { name: 'PARSE_ERROR', info: { error_message: 'unknown request_type' } }, code: -32700, message: 'Parse error', data: 'unknown request_type' } }];
  }
}

async function handle(req) {
  const { id, method, params } = req;
  const p = params || {};
  const acct = (!Array.isArray(p) && (p.account_id || p.sender_account_id)) || '';
  const n = bump(`${method}/${acct}`);
  // account-driven failure modes, for every method that names an account
  if (acct === 'missing.test')
    return handlerError(id, 'UNKNOWN_ACCOUNT', { requested_account_id: acct, ...blockInfo }, `account ${acct} does not exist while viewing`);
  if (acct === 'legacy.test')
    return [200, { jsonrpc: '2.0', id, error: { code: -32000, message: 'Server error', data: `account ${acct} does not exist while viewing` } }];
  if (acct === 'flaky.test' && n <= 2) return [503, '<html><body>503 Service Unavailable</body></html>'];
  if (acct === 'broken.test')
    return [500, { jsonrpc: '2.0', id, error: { name: 'INTERNAL_ERROR', cause: { name: 'INTERNAL_ERROR', info: { error_message: 'storage error' } },
                                                 code: -32000, message: 'Server error', data: 'storage error' } }];
  if (acct === 'slow.test') { await new Promise((r) => setTimeout(r, 3000)); }
  if (acct === 'garbage.test') return [200, 'this is not json'];
  if (acct === 'timeout.test') return handlerError(id, 'TIMEOUT_ERROR', {}, 'Timeout', 408);
  switch (method) {
    case 'status':
      return ok(id, { chain_id: 'test', protocol_version: 86, latest_protocol_version: 86, version: { version: '2.6.0', build: 'test' },
                      sync_info: { latest_block_hash: BLOCK_HASH, latest_block_height: 1000, syncing: false }, validators: [] });
    case 'block': {
      const bid = Array.isArray(p) ? p[0] : p.block_id;
      if (bid !== undefined && bid !== 1000 && bid !== BLOCK_HASH)
        return handlerError(id, 'UNKNOWN_BLOCK', {}, 'DB Not Found Error: BLOCK HEIGHT: ' + bid);
      return ok(id, { author: 'node.test', header: { height: 1000, hash: BLOCK_HASH, prev_hash: HASH('block-999'),
                      timestamp: 1700000000000000000, timestamp_nanosec: '1700000000000000000', gas_price: '100000000' },
                      chunks: [{ chunk_hash: HASH('chunk-1000'), shard_id: 0 }] });
    }
    case 'chunk':
      if (p.chunk_id && p.chunk_id !== HASH('chunk-1000'))
        return handlerError(id, 'UNKNOWN_CHUNK', { chunk_hash: p.chunk_id }, `Chunk Missing (unavailable on the node): ChunkHash(${p.chunk_id})`);
      return ok(id, { author: 'node.test', header: { chunk_hash: HASH('chunk-1000'), shard_id: 0, height_included: 1000 },
                      transactions: [], receipts: [] });
    case 'gas_price':
      return ok(id, { gas_price: '100000000' });
    case 'EXPERIMENTAL_protocol_config':
      return ok(id, { protocol_version: 86, chain_id: 'test', runtime_config: { storage_amount_per_byte: '10000000000000000000' } });
    case 'query':
      return query(id, p);
    case 'send_tx':
      return sendTx(id, p.signed_tx_base64, p.wait_until);
    case 'broadcast_tx_commit':
      return sendTx(id, p[0]);
    case 'broadcast_tx_async': {
      const [st, body] = sendTx(id, p[0], 'NONE');
      if (body.error) return ok(id, 'unreported'); // async never reports validation errors
      const stx = decodeSignedTransaction(Buffer.from(p[0], 'base64'));
      return ok(id, baseEncode(createHash('sha256').update(encodeTransaction(stx.transaction)).digest()));
    }
    case 'tx':
    case 'EXPERIMENTAL_tx_status': {
      const o = txs.get(p.tx_hash);
      if (!o) return handlerError(id, 'UNKNOWN_TRANSACTION', { requested_transaction_hash: p.tx_hash },
                                  `Transaction ${p.tx_hash} doesn't exist`);
      return ok(id, method === 'tx' ? o : { ...o, receipts: [] });
    }
    case 'test_counts':
      return ok(id, counts);
    default:
      return [200, { jsonrpc: '2.0', id, error: { name: 'REQUEST_VALIDATION_ERROR', cause: { name: 'METHOD_NOT_FOUND',
        info: { method_name: method } }, code: -32601, message: 'Method not found', data: method } }];
  }
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', async () => {
    let parsed;
    try { parsed = JSON.parse(body); } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { name: 'REQUEST_VALIDATION_ERROR',
        cause: { name: 'PARSE_ERROR', info: {} }, code: -32700, message: 'Parse error', data: 'bad JSON' } }));
      return;
    }
    const [status, out] = await handle(parsed);
    res.writeHead(status, { 'Content-Type': typeof out === 'string' ? 'text/html' : 'application/json' });
    res.end(typeof out === 'string' ? out : JSON.stringify(out));
  });
});
server.listen(0, '127.0.0.1', () => { console.log(`PORT ${server.address().port}`); });
// The test holds our stdin open; when it exits (or crashes) stdin ends and so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
