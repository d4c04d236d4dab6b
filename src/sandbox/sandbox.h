/* sandbox: `outlayer sandbox`, a local single-producer NEAR-compatible chain (issue 5).
 *
 * State lives in SQLite under --home (accounts, access keys, code, contract storage, receipts, blocks,
 * outcomes, the transaction pool); every block is applied in one SQLite transaction, so killing the
 * process at any moment loses no applied block. A producer thread makes a block every --block-ms and a
 * JSON-RPC server on 127.0.0.1:--port answers NEAR's methods with NEAR's error envelope
 * (../shared/reference/near-protocol.md §4). docs/sandbox.md describes what is implemented. */
#ifndef OUTLAYER_SANDBOX_H
#define OUTLAYER_SANDBOX_H

/* Runs the sandbox until SIGINT/SIGTERM. argv[0] is the program or sub-command name; flags:
 * --home DIR --port N --block-ms MS --yield-timeout-blocks N --log-level L. Returns the exit status. */
int sandbox_main(int argc, char **argv);

#endif
