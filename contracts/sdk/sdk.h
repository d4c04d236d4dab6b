/* sdk: a small SDK for NEAR contracts written in freestanding C.
 *
 * The same sources compile two ways:
 *   - wasm32 (clang --target=wasm32-unknown-unknown -mcpu=mvp -nostdlib): the near_* host functions are
 *     imports from module "env" (../shared/reference/near-protocol.md §1), the allocator is a bump
 *     allocator over memory.grow, and rt.c provides memcpy/memset/memmove/memcmp.
 *   - native: the near_* functions come from host_double.c, a test double of the NEAR host that keeps
 *     registers, storage, context, logs, promises and yields in memory, and turns panics into a longjmp
 *     back to the test harness (host_double.h).
 *
 * Memory: every allocation comes from one arena (sdk_alloc) that lives exactly as long as one method call
 * (a NEAR call is a fresh wasm instance; the double resets the arena before each call). Nothing is ever
 * freed individually, so no function below has a "caller frees" rule: returned pointers stay valid until
 * the method returns.
 *
 * Errors: contract code is all-or-nothing, so most helpers panic (sdk_panic*) with a message naming the
 * argument or rule at fault; the JSON reader returns NULL and fills an sdk_json_err instead so that callers
 * can prefix the message with the method name. */
#ifndef OUTLAYER_CONTRACTS_SDK_H
#define OUTLAYER_CONTRACTS_SDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdk_limits.h"

#ifdef __wasm__
/* Provided by rt.c (no libc in contracts). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#else
#include <string.h>
#endif

/* ---- exported methods ------------------------------------------------------------------------- */

/* SDK_METHOD(c_name, "export_name") defines a contract method `void c_name(void)`. In wasm it is
 * exported under export_name; natively it is a plain function the tests call through the double. */
#ifdef __wasm__
#define SDK_METHOD(cname, ename)                                                                       \
    void cname(void);                                                                                  \
    __attribute__((export_name(ename))) void cname(void)
#else
#define SDK_METHOD(cname, ename)                                                                       \
    void cname(void);                                                                                  \
    void cname(void)
#endif

/* ---- runtime: memory, strings, formatting ------------------------------------------------------ */

/* Arena allocation, 8-byte aligned, zero-filled. Panics "out of memory" when the arena (wasm: memory.grow;
 * native: SDK_NATIVE_HEAP_BYTES) cannot satisfy it. Never returns NULL. */
void *sdk_alloc(size_t n);
/* Grows the block p (from sdk_alloc, old size old_n) to n bytes; in place when p is the last block. */
void *sdk_realloc(void *p, size_t old_n, size_t n);
/* Copies n bytes into a new NUL-terminated arena string. */
char *sdk_strndup(const char *s, size_t n);
size_t sdk_strlen(const char *s);
bool sdk_streq(const char *a, const char *b);
bool sdk_memeq(const void *a, size_t an, const void *b, size_t bn);

#ifndef __wasm__
/* Native only: forget every arena block (the double calls this before each method call). */
void sdk__heap_reset(void);
#endif

/* Formats into buf (capacity cap >= 1), always terminating, truncating when needed; returns the length
 * written. Conversions: %s (const char *), %d (int), %U (uint64_t), %Q (const u128 *, decimal), %%.
 * No compiler type checking: keep the argument types exact. */
size_t sdk_fmt(char *buf, size_t cap, const char *fmt, ...);

/* ---- u128: yoctoNEAR amounts ------------------------------------------------------------------- */

typedef struct u128 {
    uint64_t lo, hi;
} u128;

#define U128_ZERO ((u128){0, 0})
#define U128_MAX ((u128){UINT64_MAX, UINT64_MAX})
static inline u128 u128_from_u64(uint64_t v) { return (u128){v, 0}; }
static inline bool u128_is_zero(u128 a) { return (a.lo | a.hi) == 0; }
int u128_cmp(u128 a, u128 b); /* -1, 0, 1 */
/* Checked: return false on overflow/underflow (then *out is unspecified). */
bool u128_add(u128 a, u128 b, u128 *out);
bool u128_sub(u128 a, u128 b, u128 *out);
bool u128_mul(u128 a, u128 b, u128 *out);
/* Saturating variants, for "never more than" arithmetic. */
u128 u128_add_sat(u128 a, u128 b);
u128 u128_mul_sat(u128 a, u128 b);
static inline u128 u128_min(u128 a, u128 b) { return u128_cmp(a, b) <= 0 ? a : b; }
/* a / d and a % d for a 32-bit divisor d > 0. */
u128 u128_divmod_u32(u128 a, uint32_t d, uint32_t *rem);
/* Strict decimal: 1..39 digits, no sign, no leading zero (except "0"), must fit in 128 bits. */
bool u128_parse(const char *s, size_t n, u128 *out);
/* Decimal into buf (capacity >= 40); returns the length. */
size_t u128_to_dec(u128 a, char *buf);
/* 16 bytes little-endian, the host ABI's layout for balances. */
void u128_to_le(u128 a, uint8_t out[16]);
u128 u128_from_le(const uint8_t in[16]);

/* ---- encodings --------------------------------------------------------------------------------- */

/* Lowercase hex of n bytes into out (capacity >= 2n+1). */
void sdk_hex_encode(const uint8_t *in, size_t n, char *out);
/* Strict lowercase-or-uppercase hex of even length into out (capacity >= n/2); false on any bad char. */
bool sdk_hex_decode(const char *in, size_t n, uint8_t *out, size_t *out_n);
/* Standard base64 with padding. Encode: returns an arena string. Decode: strict (canonical padding,
 * no whitespace); returns false on any malformed input. */
char *sdk_base64_encode(const uint8_t *in, size_t n, size_t *out_n);
bool sdk_base64_decode(const char *in, size_t n, uint8_t **out, size_t *out_n);
/* Bitcoin-alphabet base58 of n bytes (n <= 64) into an arena string (NEAR's key encoding). */
char *sdk_base58_encode(const uint8_t *in, size_t n);

/* ---- JSON -------------------------------------------------------------------------------------- */

typedef enum sdk_json_type {
    SDK_JSON_NULL,
    SDK_JSON_BOOL,
    SDK_JSON_NUMBER,
    SDK_JSON_STRING,
    SDK_JSON_ARRAY,
    SDK_JSON_OBJECT,
} sdk_json_type;

/* A parsed JSON value. Strings are decoded (escapes resolved), NUL-terminated, and valid UTF-8; they may
 * contain NUL bytes, so use len. Numbers keep their source text (num/len). Objects never hold the same key
 * twice (the reader refuses duplicates). All memory is arena memory. */
typedef struct sdk_json sdk_json;
struct sdk_json {
    sdk_json_type type;
    bool b;            /* BOOL */
    const char *s;     /* STRING: decoded text; NUMBER: source text */
    size_t len;        /* STRING/NUMBER: bytes; ARRAY/OBJECT: number of items */
    sdk_json **items;  /* ARRAY/OBJECT: values */
    const char **keys; /* OBJECT: keys (NUL-terminated, decoded) */
    size_t *key_lens;  /* OBJECT: key byte lengths */
};

typedef struct sdk_json_err {
    size_t offset; /* byte offset in the input where the problem was found */
    char msg[160];
} sdk_json_err;

/* Parses exactly one JSON value (RFC 8259, strict: no trailing commas, comments, NaN, leading zeros,
 * lone surrogates, invalid UTF-8, control characters in strings, duplicate keys or trailing bytes) of at
 * most max_bytes bytes and SDK_JSON_MAX_DEPTH nesting. Returns NULL and fills err on failure. */
sdk_json *sdk_json_parse(const char *text, size_t n, size_t max_bytes, sdk_json_err *err);

/* Object member by key, or NULL when absent (a JSON null member is returned as a NULL-type value). */
const sdk_json *sdk_json_get(const sdk_json *obj, const char *key);
/* True when v is absent or JSON null. */
static inline bool sdk_json_is_null(const sdk_json *v) { return !v || v->type == SDK_JSON_NULL; }
/* Strict u64 from a JSON number: digits only (no sign, fraction or exponent), must fit. */
bool sdk_json_u64(const sdk_json *v, uint64_t *out);

/* A growable output buffer that writes compact JSON; commas are inserted automatically. Every string
 * written is escaped. Grows in the arena up to max bytes; sdk_jw_* panic with "<what> exceeds <max>"
 * past that. */
typedef struct sdk_jw {
    char *buf;
    size_t len, cap, max;
    bool comma;
    const char *what; /* named in the limit panic */
} sdk_jw;

void sdk_jw_init(sdk_jw *w, size_t max, const char *what);
void sdk_jw_raw(sdk_jw *w, const char *s, size_t n); /* bytes as they are, no comma logic */
void sdk_jw_obj_open(sdk_jw *w);
void sdk_jw_obj_close(sdk_jw *w);
void sdk_jw_arr_open(sdk_jw *w);
void sdk_jw_arr_close(sdk_jw *w);
void sdk_jw_key(sdk_jw *w, const char *key);
void sdk_jw_str(sdk_jw *w, const char *s);
void sdk_jw_strn(sdk_jw *w, const char *s, size_t n);
void sdk_jw_u64(sdk_jw *w, uint64_t v);
void sdk_jw_u128(sdk_jw *w, u128 v); /* as a decimal string, NEAR's convention */
void sdk_jw_bool(sdk_jw *w, bool v);
void sdk_jw_null(sdk_jw *w);
void sdk_jw_value(sdk_jw *w, const sdk_json *v); /* re-serialises a parsed value compactly */
void sdk_jw_json(sdk_jw *w, const char *json, size_t n); /* a complete JSON value, trusted */
/* NUL-terminates and returns the buffer. */
const char *sdk_jw_finish(sdk_jw *w);

/* ---- host wrappers ----------------------------------------------------------------------------- */

/* A byte string in the arena (NUL-terminated for convenience). */
typedef struct sdk_bytes {
    const char *p;
    size_t n;
} sdk_bytes;

/* Panics with msg (UTF-8). Never returns. Messages over SDK_PANIC_MAX_BYTES are truncated. */
__attribute__((noreturn)) void sdk_panic(const char *msg);
/* sdk_fmt then sdk_panic. */
__attribute__((noreturn)) void sdk_panicf(const char *fmt, ...);
void sdk_log(const char *msg);

sdk_bytes sdk_input(void);
/* Parses the call's input as a JSON object (empty input = {}). Panics "<method>: invalid JSON
 * arguments: <reason> at byte N" or "<method>: arguments must be a JSON object". */
sdk_json *sdk_input_json_object(const char *method);
void sdk_return(const char *p, size_t n);
static inline void sdk_return_str(const char *s) { sdk_return(s, sdk_strlen(s)); }

sdk_bytes sdk_current_account_id(void);
sdk_bytes sdk_predecessor_account_id(void);
sdk_bytes sdk_signer_account_id(void);
sdk_bytes sdk_signer_account_pk(void); /* borsh PublicKey bytes */
u128 sdk_attached_deposit(void);
u128 sdk_account_balance(void);
uint64_t sdk_block_height(void);
uint64_t sdk_block_timestamp(void);
uint64_t sdk_prepaid_gas(void);
uint64_t sdk_used_gas(void);
uint64_t sdk_storage_usage(void);

/* Panics "<method> is private: only <self> may call it" unless predecessor == current account. */
void sdk_require_private(const char *method);
/* Panics "<method> does not accept a deposit" when yoctoNEAR is attached (it would be stuck in the contract). */
void sdk_require_no_deposit(const char *method);
/* NEAR account id rules (2..64 bytes, [a-z0-9] with single -_. separators). */
bool sdk_account_id_valid(const char *s, size_t n);

/* Storage. Keys and values are byte strings. read returns false when absent. */
bool sdk_storage_read(const void *key, size_t kn, sdk_bytes *out);
bool sdk_storage_has(const void *key, size_t kn);
void sdk_storage_write(const void *key, size_t kn, const void *val, size_t vn);
bool sdk_storage_remove(const void *key, size_t kn);

/* A storage map: keys are prefix ‖ sub-key. Maps never collide as long as no prefix is a prefix of another
 * (use one distinct byte per map, as the contracts do). */
typedef struct sdk_map {
    const char *prefix;
    size_t prefix_len;
} sdk_map;
/* Builds prefix ‖ k in the arena (panics "storage key exceeds ..." past NEAR's 2048-byte key limit). */
sdk_bytes sdk_map_key(const sdk_map *m, const void *k, size_t kn);
bool sdk_map_get(const sdk_map *m, const void *k, size_t kn, sdk_bytes *out);
void sdk_map_set(const sdk_map *m, const void *k, size_t kn, const void *v, size_t vn);
bool sdk_map_remove(const sdk_map *m, const void *k, size_t kn);
bool sdk_map_has(const sdk_map *m, const void *k, size_t kn);
/* u64 sub-keys encoded big-endian, so byte order = numeric order. */
void sdk_u64_be(uint64_t v, uint8_t out[8]);

/* Promises. Return promise indices. */
uint64_t sdk_promise_transfer(const char *account, size_t an, u128 amount);
uint64_t sdk_promise_call(const char *account, size_t an, const char *method, const char *args, size_t argn,
                          u128 deposit, uint64_t gas);
uint64_t sdk_promise_then(uint64_t after, const char *account, size_t an, const char *method,
                          const char *args, size_t argn, u128 deposit, uint64_t gas);
void sdk_promise_return(uint64_t idx);
uint64_t sdk_promise_results_count(void);
/* Result 0..count-1: 1 = success (bytes in *out), 2 = failed. */
int sdk_promise_result(uint64_t idx, sdk_bytes *out);
/* Yield: creates the callback to this account and writes the 32-byte data id. */
uint64_t sdk_yield_create(const char *method, const char *args, size_t argn, uint64_t gas, uint64_t weight,
                          uint8_t data_id[32]);
/* 1 when a yield with this data id is still pending on this account, else 0. */
int sdk_yield_resume(const uint8_t data_id[32], const char *payload, size_t n);
/* Deploys code to the current account and then calls method(args) on it (the upgrade path). */
uint64_t sdk_promise_deploy_and_call(const char *code, size_t code_n, const char *method, const char *args,
                                     size_t argn, uint64_t gas);

/* NEP-297 event: logs EVENT_JSON:{"standard":..,"version":..,"event":..,"data":<data_json>}. */
void sdk_emit_event(const char *standard, const char *version, const char *event, const char *data_json,
                    size_t data_n);

/* Binary record helpers for compact, versioned storage values. The reader panics "corrupt state: <what>"
 * on a short or malformed record (state is written only by the contract, so this is a bug, not input). */
typedef struct sdk_bin {
    uint8_t *buf;
    size_t len, cap;
    const uint8_t *rd;
    size_t rn, pos;
    const char *what;
} sdk_bin;
void sdk_bin_init(sdk_bin *b);
void sdk_bin_u8(sdk_bin *b, uint8_t v);
void sdk_bin_u64(sdk_bin *b, uint64_t v);
void sdk_bin_u128(sdk_bin *b, u128 v);
void sdk_bin_bytes(sdk_bin *b, const void *p, size_t n); /* u32 length ‖ bytes */
void sdk_bin_fixed(sdk_bin *b, const void *p, size_t n); /* bytes only */
void sdk_bin_reader(sdk_bin *b, const void *p, size_t n, const char *what);
uint8_t sdk_bin_get_u8(sdk_bin *b);
uint64_t sdk_bin_get_u64(sdk_bin *b);
u128 sdk_bin_get_u128(sdk_bin *b);
sdk_bytes sdk_bin_get_bytes(sdk_bin *b);
void sdk_bin_get_fixed(sdk_bin *b, void *out, size_t n);

#endif
