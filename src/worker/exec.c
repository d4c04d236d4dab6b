/* The executor: one request's module run through src/wasi in deterministic mode, so that `outlayer
 * verify` can re-run it and get the same bytes and fuel: the clock starts at the request's block
 * timestamp and advances with fuel, randomness is ChaCha20 keyed by the request's seed. Limits come
 * from the request (defaults and caps of DESIGN.md §5, refused above a cap); the output is converted
 * by response_format. Nothing here talks to the chain or the coordinator. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "near/near.h"
#include "wasi/wasi.h"
#include "worker/worker_int.h"

#define WK_ENV_MAX 24u
#define WK_ENV_VALUE_MAX 256u

int worker_request_seed(const struct near_secret_key *sk, const char *data_id, uint8_t seed[32], char sig_hex[129],
                        ol_err *err) {
    size_t n = data_id ? strlen(data_id) : 0;
    if (n == 0)
        return ol_err_set(err, 1, "request has no data_id to derive its seed from");
    uint8_t id[32];
    size_t idlen = 0;
    const uint8_t *msg = (const uint8_t *)data_id;
    if (n == 64 && ol_hex_decode(data_id, 64, id, sizeof id, &idlen, NULL) == 0 && idlen == 32) {
        msg = id;
        n = 32;
    }
    near_signature sig;
    int rc = near_sign(sk, msg, n, &sig, err);
    if (rc)
        return rc;
    size_t sl = near_signature_len(sig.type);
    crypto_hash_sha256(seed, sig.data, sl);
    if (sig_hex)
        ol_hex_encode(sig.data, sl, sig_hex);
    return 0;
}

/* An optional non-negative integer field of obj (a JSON number, or a decimal string as NEAR writes
 * u64s): def when absent or null; false with msg when malformed or above cap. */
static bool limit_field(const json_t *obj, const char *key, uint64_t def, uint64_t cap, uint64_t *out, char *msg,
                        size_t mcap) {
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *out = def;
    if (!v || json_is_null(v))
        return true;
    uint64_t x = 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        x = (uint64_t)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s || *s == '-' || *s == '+')
            goto bad;
        x = strtoull(s, &end, 10);
        if (*end)
            goto bad;
    } else {
        goto bad;
    }
    if (x == 0 || x > cap) {
        snprintf(msg, mcap, "resource_limits.%s = %llu is outside 1..%llu", key, (unsigned long long)x, (unsigned long long)cap);
        return false;
    }
    *out = x;
    return true;
bad:
    snprintf(msg, mcap, "resource_limits.%s must be a non-negative integer", key);
    return false;
}

/* The text of a scalar field as an environment value; false when absent, null or too long. */
static bool scalar_text(const json_t *v, char *out, size_t cap) {
    if (!v || json_is_null(v))
        return false;
    if (json_is_string(v))
        return ol_strlcpy(out, json_string_value(v), cap) && *out;
    if (json_is_integer(v))
        return snprintf(out, cap, "%lld", (long long)json_integer_value(v)) < (int)cap;
    return false;
}

typedef struct envb {
    char store[WK_ENV_MAX][WK_ENV_VALUE_MAX + 40];
    const char *ptr[WK_ENV_MAX];
    size_t n;
} envb;

static void env_add(envb *e, const char *name, const json_t *v) {
    char val[WK_ENV_VALUE_MAX];
    if (e->n >= WK_ENV_MAX || !scalar_text(v, val, sizeof val))
        return;
    for (const char *c = val; *c; c++)
        if ((unsigned char)*c < 0x20)
            return; /* no control characters in a guest's environment */
    snprintf(e->store[e->n], sizeof e->store[0], "%s=%s", name, val);
    e->ptr[e->n] = e->store[e->n];
    e->n++;
}

static void env_add_u64(envb *e, const char *name, uint64_t v) {
    json_t *j = json_integer((json_int_t)v);
    env_add(e, name, j);
    json_decref(j);
}

/* The first value found among the request's top level and its "context" object. */
static const json_t *field(const json_t *req, const char *key) {
    const json_t *v = json_object_get(req, key);
    if (v && !json_is_null(v))
        return v;
    const json_t *ctx = json_object_get(req, "context");
    return ctx ? json_object_get(ctx, key) : NULL;
}

static json_t *failure(const char *msg, uint64_t instructions, uint64_t time_ms) {
    return json_pack("{s:b,s:s,s:{s:I,s:I}}", "success", 0, "error", msg, "resources_used", "instructions",
                     (json_int_t)instructions, "time_ms", (json_int_t)time_ms);
}

static void sha_hex(const uint8_t *d, size_t n, char out[65]) {
    uint8_t h[32];
    crypto_hash_sha256(h, d, n);
    ol_hex_encode(h, 32, out);
}

int worker_execute(const worker_exec_params *p, json_t **out_response, json_t **out_report, ol_err *err) {
    *out_response = NULL;
    *out_report = NULL;
    const json_t *req = p->request;
    char wasm_hash[65], input_hash[65], output_hash[65] = "";
    sha_hex(p->wasm, p->wasm_len, wasm_hash);
    const json_t *in = json_object_get(req, "input_data");
    const char *input = json_is_string(in) ? json_string_value(in) : "";
    size_t input_len = json_is_string(in) ? json_string_length(in) : 0;
    sha_hex((const uint8_t *)input, input_len, input_hash);
    json_t *resp = NULL;
    char msg[512];
    wasi_result res;
    memset(&res, 0, sizeof res);

    const json_t *limits = json_object_get(req, "resource_limits");
    uint64_t fuel, mem_mb, secs;
    if (!limit_field(limits, "max_instructions", WORKER_MAX_INSTRUCTIONS_DEFAULT, WORKER_MAX_INSTRUCTIONS_CAP, &fuel, msg,
                     sizeof msg) ||
        !limit_field(limits, "max_memory_mb", WORKER_MAX_MEMORY_MB_DEFAULT, WORKER_MAX_MEMORY_MB_CAP, &mem_mb, msg, sizeof msg) ||
        !limit_field(limits, "max_execution_seconds", WORKER_MAX_SECONDS_DEFAULT, WORKER_MAX_SECONDS_CAP, &secs, msg,
                     sizeof msg)) {
        resp = failure(msg, 0, 0);
        goto report;
    }
    if (input_len > WORKER_OUTPUT_MAX_BYTES) {
        snprintf(msg, sizeof msg, "input_data is %zu bytes, over the %u-byte limit", input_len, WORKER_OUTPUT_MAX_BYTES);
        resp = failure(msg, 0, 0);
        goto report;
    }
    const json_t *secrets = json_object_get(req, "secrets_ref");
    if (secrets && !json_is_null(secrets)) {
        /* Never run a program without the secrets it was promised (issue 8 §5). */
        resp = failure("secrets are not available on this worker yet (no keystore); the program was not run", 0, 0);
        goto report;
    }
    const char *fmt = json_string_value(json_object_get(req, "response_format"));
    if (!fmt)
        fmt = "Text";
    if (strcmp(fmt, "Text") && strcmp(fmt, "Json") && strcmp(fmt, "Bytes")) {
        snprintf(msg, sizeof msg, "response_format must be Text, Json or Bytes");
        resp = failure(msg, 0, 0);
        goto report;
    }

    envb env = {0};
    env_add(&env, "NEAR_SENDER_ID", field(req, "sender_id"));
    env_add(&env, "NEAR_CONTRACT_ID", field(req, "contract_id"));
    env_add(&env, "NEAR_BLOCK_HEIGHT", field(req, "block_height"));
    env_add(&env, "NEAR_BLOCK_TIMESTAMP", field(req, "timestamp"));
    env_add(&env, "NEAR_RECEIPT_ID", field(req, "receipt_id"));
    env_add(&env, "NEAR_PREDECESSOR_ID", field(req, "predecessor_id"));
    env_add(&env, "NEAR_SIGNER_PUBLIC_KEY", field(req, "signer_public_key"));
    env_add(&env, "NEAR_GAS_BURNT", field(req, "gas_burnt"));
    const json_t *user = field(req, "payer_account_id");
    env_add(&env, "NEAR_USER_ACCOUNT_ID", user ? user : field(req, "sender_id"));
    env_add(&env, "NEAR_PAYMENT_YOCTO", field(req, "payment"));
    env_add(&env, "NEAR_TRANSACTION_HASH", field(req, "transaction_hash"));
    env_add_u64(&env, "NEAR_MAX_INSTRUCTIONS", fuel);
    env_add_u64(&env, "NEAR_MAX_MEMORY_MB", mem_mb);
    env_add_u64(&env, "NEAR_MAX_EXECUTION_SECONDS", secs);
    env_add(&env, "NEAR_REQUEST_ID", field(req, "request_id"));

    const char *args[] = {"program"};
    wasi_config cfg;
    wasi_config_default(&cfg);
    cfg.args = args;
    cfg.nargs = 1;
    cfg.env = env.ptr;
    cfg.nenv = env.n;
    cfg.stdin_data = (const uint8_t *)input;
    cfg.stdin_len = input_len;
    cfg.deterministic_clock = true;
    const json_t *ts = field(req, "timestamp");
    char tsbuf[32];
    cfg.timestamp_ns = scalar_text(ts, tsbuf, sizeof tsbuf) ? strtoull(tsbuf, NULL, 10) : 0;
    cfg.deterministic_random = true;
    memcpy(cfg.seed, p->seed, 32);
    cfg.fuel = fuel;
    cfg.metering = true;
    cfg.max_memory_bytes = mem_mb << 20;
    cfg.timeout_ms = secs * 1000u;
    cfg.max_stdout_bytes = WORKER_OUTPUT_MAX_BYTES;
    cfg.max_stderr_bytes = WASI_DEFAULT_MAX_STDERR_BYTES;
    cfg.capture_stdout = true;
    cfg.capture_stderr = true;
    cfg.stdout_fd = -1;
    cfg.stderr_fd = -1;
    if (wasi_run(p->wasm, p->wasm_len, &cfg, &res, err) != 0) {
        wasi_result_free(&res);
        return 1;
    }
    uint64_t time_ms = res.wall_ns / 1000000u;
    sha_hex(res.out ? res.out : (const uint8_t *)"", res.out_len, output_hash);
    if (res.outcome != WASI_OUTCOME_OK || res.exit_code != 0) {
        switch (res.outcome) {
        case WASI_OUTCOME_OK:
        case WASI_OUTCOME_EXIT: {
            size_t n = res.err_len > WORKER_ERROR_TEXT_MAX ? WORKER_ERROR_TEXT_MAX : res.err_len;
            snprintf(msg, sizeof msg, "the program exited with code %d%s%.*s", res.exit_code, n ? ": " : "", (int)n,
                     res.err ? (const char *)res.err + res.err_len - n : "");
            break;
        }
        case WASI_OUTCOME_OUT_OF_FUEL:
            snprintf(msg, sizeof msg, "out of fuel: the instruction limit (max_instructions = %llu) was reached",
                     (unsigned long long)fuel);
            break;
        case WASI_OUTCOME_TIMEOUT:
            snprintf(msg, sizeof msg, "time limit exceeded (max_execution_seconds = %llu)", (unsigned long long)secs);
            break;
        case WASI_OUTCOME_MEMORY_LIMIT:
            snprintf(msg, sizeof msg, "memory limit exceeded (max_memory_mb = %llu)", (unsigned long long)mem_mb);
            break;
        case WASI_OUTCOME_OUTPUT_LIMIT:
            snprintf(msg, sizeof msg, "output over %u bytes (the limit of a result)", WORKER_OUTPUT_MAX_BYTES);
            break;
        default: {
            const char *name = wasi_outcome_name(res.outcome);
            if (strncmp(res.message, name, strlen(name)) == 0)
                snprintf(msg, sizeof msg, "%s", res.message);
            else
                snprintf(msg, sizeof msg, "%s: %s", name, res.message);
            break;
        }
        }
        /* trailing newlines of stderr make poor messages */
        size_t ml = strlen(msg);
        while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == '\r'))
            msg[--ml] = 0;
        resp = failure(msg, res.fuel_used, time_ms);
        goto report;
    }
    json_t *output = NULL;
    const char *outp = res.out ? (const char *)res.out : "";
    if (strcmp(fmt, "Bytes") == 0) {
        size_t cap = ol_base64_encoded_len(res.out_len) + 1;
        char *b64 = malloc(cap);
        if (!b64 || ol_base64_encode((const uint8_t *)outp, res.out_len, b64, cap, err) != 0) {
            free(b64);
            wasi_result_free(&res);
            return ol_err_set(err, 1, "out of memory encoding the output");
        }
        output = json_string(b64);
        free(b64);
    } else if (strcmp(fmt, "Json") == 0) {
        json_error_t je;
        output = json_loadb(outp, res.out_len, JSON_DECODE_ANY, &je);
        if (!output) {
            snprintf(msg, sizeof msg, "output is not valid JSON (response_format Json): %s at byte %d", je.text, je.position);
            resp = failure(msg, res.fuel_used, time_ms);
            goto report;
        }
    } else {
        output = json_stringn(outp, res.out_len); /* NULL when not UTF-8 (or holds a NUL) */
        if (!output) {
            resp = failure("output is not valid UTF-8 text (response_format Text); use Bytes", res.fuel_used, time_ms);
            goto report;
        }
    }
    /* The contract's shape (the original's ExecutionOutput enum): {"Text":s} | {"Json":v} | {"Bytes":b64}. */
    resp = json_pack("{s:b,s:{s:o},s:{s:I,s:I}}", "success", 1, "output", fmt, output, "resources_used", "instructions",
                     (json_int_t)res.fuel_used, "time_ms", (json_int_t)time_ms);
report:
    if (!resp) {
        wasi_result_free(&res);
        return ol_err_set(err, 1, "out of memory building the response");
    }
    if (p->compile_time_ms)
        json_object_set_new(json_object_get(resp, "resources_used"), "compile_time_ms", json_integer((json_int_t)p->compile_time_ms));
    if (p->compilation_note && *p->compilation_note)
        json_object_set_new(resp, "compilation_note", json_string(p->compilation_note));
    if (!*output_hash)
        sha_hex((const uint8_t *)"", 0, output_hash);
    *out_report = json_pack("{s:s,s:s,s:s}", "wasm_hash", wasm_hash, "input_hash", input_hash, "output_hash", output_hash);
    *out_response = resp;
    wasi_result_free(&res);
    return 0;
}

/* The task loop's executor: an execute task's payload is the request. Its result for the coordinator
 * is {"response", "report", "seed_signature", "worker_public_key"}; the reporter sends the response
 * to the contract. */
int wk_exec_task(const wk_loop *L, const json_t *task, const worker_build_result *module, bool cached, json_t **result,
                 char *error, size_t error_cap, bool *retry) {
    *result = NULL;
    *retry = false;
    const json_t *req = json_object_get(task, "payload");
    const char *data_id = json_string_value(json_object_get(task, "data_id"));
    if (!json_is_object(req)) {
        snprintf(error, error_cap, "task has no request payload");
        return 1;
    }
    worker_exec_params p = {.wasm = module->wasm, .wasm_len = module->wasm_len, .request = req};
    char sig_hex[129], note[128] = "";
    ol_err e;
    if (worker_request_seed(&L->key.secret_key, data_id, p.seed, sig_hex, &e) != 0) {
        snprintf(error, error_cap, "seed: %s", e.msg);
        return 1;
    }
    if (cached)
        snprintf(note, sizeof note, "cached module %s", module->sha256_hex);
    else if (module->build_ms && strcmp(module->kind, "url") != 0)
        p.compile_time_ms = module->build_ms;
    p.compilation_note = note;
    json_t *params = json_object_get(req, "params");
    json_t *resp = NULL, *report = NULL;
    if (json_is_true(json_object_get(params, "compile_only"))) {
        /* Warm the cache only: nothing runs, nothing is charged but the compile time. */
        resp = json_pack("{s:b,s:{s:I,s:I},s:s}", "success", 1, "resources_used", "instructions", (json_int_t)0, "time_ms",
                         (json_int_t)0, "compilation_note", *note ? note : "compiled only");
        if (p.compile_time_ms)
            json_object_set_new(json_object_get(resp, "resources_used"), "compile_time_ms", json_integer((json_int_t)p.compile_time_ms));
        report = json_pack("{s:s}", "wasm_hash", module->sha256_hex);
    } else if (worker_execute(&p, &resp, &report, &e) != 0) {
        snprintf(error, error_cap, "executor: %s", e.msg);
        *retry = true;
        return 1;
    }
    char pk[NEAR_KEY_STR];
    near_public_key_format(&L->key.public_key, pk);
    *result = json_pack("{s:o,s:o,s:s,s:s}", "response", resp, "report", report, "seed_signature", sig_hex,
                        "worker_public_key", pk);
    return *result ? 0 : 1;
}
