/* coordinator: the task API of OutLayer (DESIGN.md §2, §4). A durable leased task queue (SQLite by
 * default, PostgreSQL when DATABASE_URL=postgres://...), worker bearer tokens, a content-addressed
 * module cache, a public read API, /health and /metrics. Redis (REDIS_URL) only speeds up wake-ups
 * and carries rate limits; losing it loses nothing. docs/coordinator.md describes the HTTP API. */
#ifndef OUTLAYER_COORDINATOR_H
#define OUTLAYER_COORDINATOR_H

#include "base/base.h"

/* `outlayer coordinator [flags]` runs the server until SIGINT/SIGTERM;
 * `outlayer coordinator token create --name NAME` prints a new worker token once;
 * `... token revoke --name NAME`, `... token list`; `--help` lists every setting.
 * argv[0] is the command name. Returns the process exit status (0 ok, 1 runtime error, 2 bad usage
 * or configuration). */
int coordinator_main(int argc, char **argv);

/* Where the coordinator reads pricing from (the contract's get_pricing, through src/near once it is
 * wired). fetch returns 0 and a malloc'd JSON text in *out_json (the caller frees it), or an error.
 * ctx is borrowed. Without a source, /public/pricing answers 503 pricing_unavailable. */
typedef struct coordinator_pricing_source {
    int (*fetch)(void *ctx, char **out_json, ol_err *err);
    void *ctx;
} coordinator_pricing_source;

/* Sets the process-wide pricing source used by coordinator_main (call before it). */
void coordinator_set_pricing_source(const coordinator_pricing_source *src);

#endif
