/* Pricing read from the OutLayer contract through src/near: view calls get_pricing and
 * get_max_limits at final finality on NEAR_RPC_URL. The coordinator caches the answer
 * (PRICING_TTL_MS in api.c) and keeps the last good one when the RPC fails. */
#include "coordinator/coordinator_int.h"
#include "near/near.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct near_pricing {
    near_rpc *rpc;
    char contract[CO_ACCOUNT_MAX + 1];
} near_pricing;

/* Calls a JSON view method; returns the parsed object (caller decrefs) or NULL with err set. */
static json_t *view_object(near_pricing *p, const char *method, ol_err *err) {
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (near_rpc_call_function(p->rpc, p->contract, method, (const uint8_t *)"{}", 2, NEAR_FINAL, &bytes, &n, NULL, NULL,
                               err))
        return NULL;
    json_t *o = json_loadb((const char *)bytes, n, 0, NULL);
    free(bytes);
    if (!json_is_object(o)) {
        json_decref(o);
        ol_err_set(err, CO_ERR_INVALID, "%s on %s did not return a JSON object", method, p->contract);
        return NULL;
    }
    return o;
}

static int fetch(void *ctx, char **out_json, ol_err *err) {
    near_pricing *p = ctx;
    *out_json = NULL;
    json_t *pricing = view_object(p, "get_pricing", err);
    if (!pricing) return err ? (err->code ? err->code : CO_ERR_IO) : CO_ERR_IO;
    ol_err sub;
    json_t *limits = view_object(p, "get_max_limits", &sub);
    json_object_set_new(pricing, "max_limits", limits ? limits : json_null());
    json_object_set_new(pricing, "contract_id", json_string(p->contract));
    *out_json = json_dumps(pricing, JSON_COMPACT);
    json_decref(pricing);
    if (!*out_json) return ol_err_set(err, CO_ERR_IO, "pricing: out of memory");
    return 0;
}

int co_near_pricing_new(const char *rpc_url, const char *contract, coordinator_pricing_source *out, ol_err *err) {
    memset(out, 0, sizeof *out);
    if (strlen(contract) > CO_ACCOUNT_MAX) return ol_err_set(err, CO_ERR_INVALID, "contract id too long");
    near_pricing *p = calloc(1, sizeof *p);
    if (!p) return ol_err_set(err, CO_ERR_IO, "pricing: out of memory");
    near_rpc_opts o = {.url = rpc_url, .timeout_ms = 10000, .max_retries = 1};
    p->rpc = near_rpc_new(&o, err);
    if (!p->rpc) {
        free(p);
        return err && err->code ? err->code : CO_ERR_IO;
    }
    ol_strlcpy(p->contract, contract, sizeof p->contract);
    out->fetch = fetch;
    out->ctx = p;
    return 0;
}

void co_near_pricing_free(coordinator_pricing_source *src) {
    if (!src || src->fetch != fetch) return;
    near_pricing *p = src->ctx;
    near_rpc_free(p->rpc);
    free(p);
    memset(src, 0, sizeof *src);
}
