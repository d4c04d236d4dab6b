/* sdk limits: every limit of the contract SDK in one place, each with its reason. Contract-level limits
 * (caps on requests, outputs, secrets) live in contracts/outlayer/outlayer_limits.h. */
#ifndef OUTLAYER_CONTRACTS_SDK_LIMITS_H
#define OUTLAYER_CONTRACTS_SDK_LIMITS_H

/* JSON nesting depth. The contract's own shapes nest at most ~6 deep; access conditions and guest JSON
 * outputs get room to spare. Bounds the reader's recursion, which uses the 64 KiB wasm stack. */
#define SDK_JSON_MAX_DEPTH 64

/* Largest call input the SDK parses as JSON: 64 KiB of input_data escaped as \u00XX is 384 KiB, plus
 * the rest of the arguments. NEAR itself allows 4 MiB of arguments; we refuse early and say so. */
#define SDK_JSON_MAX_INPUT (512u * 1024u)

/* NEAR caps a storage key at 2048 bytes (max_length_storage_key); checked before the host call so the
 * panic names the key instead of a host error. */
#define SDK_MAX_STORAGE_KEY 2048u

/* Panic messages are truncated to this many bytes (logs and panics are capped by NEAR too; a long,
 * user-controlled value must not make the message itself fail). */
#define SDK_PANIC_MAX_BYTES 1024u

/* One log line (NEAR allows 16 KiB of logs per call in total). */
#define SDK_LOG_MAX_BYTES 16384u

/* Native builds only: bytes of arena per method call (wasm uses memory.grow up to NEAR's 128 MiB). */
#define SDK_NATIVE_HEAP_BYTES (48u * 1024u * 1024u)

/* Register id the SDK uses for host results (any id < 100 works; one is enough since every value is
 * copied out at once). */
#define SDK_REGISTER 0u

#endif
