/* The spec suite's `spectest` host module as a WebAssembly binary, hand-encoded.
 *
 * vm.h lets an embedder add host functions directly, but tables, memories and globals only come from
 * instances. So `spectest` is this small module: it imports the seven print functions from the host
 * module "host" (the runner supplies them as do-nothing host functions) and re-exports them together
 * with its own table, memory and globals. The runner instantiates it once per JSON file and registers
 * the instance as "spectest". Its text form:
 *
 *   (module
 *     (import "host" "print"         (func $p))
 *     (import "host" "print_i32"     (func $pi32 (param i32)))
 *     (import "host" "print_i64"     (func $pi64 (param i64)))
 *     (import "host" "print_f32"     (func $pf32 (param f32)))
 *     (import "host" "print_f64"     (func $pf64 (param f64)))
 *     (import "host" "print_i32_f32" (func $pif (param i32 f32)))
 *     (import "host" "print_f64_f64" (func $pff (param f64 f64)))
 *     (table (export "table") 10 20 funcref)
 *     (memory (export "memory") 1 2)
 *     (global (export "global_i32") i32 (i32.const 666))
 *     (global (export "global_i64") i64 (i64.const 666))
 *     (global (export "global_f32") f32 (f32.const 666.6))
 *     (global (export "global_f64") f64 (f64.const 666.6))
 *     (export "print" (func $p)) ... one export per imported function, same names)
 *
 * wat2wasm 1.0.32 produces exactly these 375 bytes from that text. Sizes are LEB128; every one here is
 * below 128 except the export section's (158 = 0x9e 0x01). */
#ifndef OUTLAYER_SPECTEST_MODULE_H
#define OUTLAYER_SPECTEST_MODULE_H

#include <stdint.h>

#define SPECTEST_HOST_MODULE "host"

static const uint8_t spectest_wasm[] = {
    0x00, 'a', 's', 'm', /* magic */
    0x01, 0x00, 0x00, 0x00, /* version 1 */

    /* type section (id 1), 30 bytes, 7 types */
    0x01, 0x1e, 0x07,
    0x60, 0x00, 0x00,             /* 0: () -> () */
    0x60, 0x01, 0x7f, 0x00,       /* 1: (i32) -> () */
    0x60, 0x01, 0x7e, 0x00,       /* 2: (i64) -> () */
    0x60, 0x01, 0x7d, 0x00,       /* 3: (f32) -> () */
    0x60, 0x01, 0x7c, 0x00,       /* 4: (f64) -> () */
    0x60, 0x02, 0x7f, 0x7d, 0x00, /* 5: (i32 f32) -> () */
    0x60, 0x02, 0x7c, 0x7c, 0x00, /* 6: (f64 f64) -> () */

    /* import section (id 2), 124 bytes, 7 imports: "host" "<name>" func <type> */
    0x02, 0x7c, 0x07,
    0x04, 'h', 'o', 's', 't', 0x05, 'p', 'r', 'i', 'n', 't', 0x00, 0x00,
    0x04, 'h', 'o', 's', 't', 0x09, 'p', 'r', 'i', 'n', 't', '_', 'i', '3', '2', 0x00, 0x01,
    0x04, 'h', 'o', 's', 't', 0x09, 'p', 'r', 'i', 'n', 't', '_', 'i', '6', '4', 0x00, 0x02,
    0x04, 'h', 'o', 's', 't', 0x09, 'p', 'r', 'i', 'n', 't', '_', 'f', '3', '2', 0x00, 0x03,
    0x04, 'h', 'o', 's', 't', 0x09, 'p', 'r', 'i', 'n', 't', '_', 'f', '6', '4', 0x00, 0x04,
    0x04, 'h', 'o', 's', 't', 0x0d, 'p', 'r', 'i', 'n', 't', '_', 'i', '3', '2', '_', 'f', '3', '2', 0x00, 0x05,
    0x04, 'h', 'o', 's', 't', 0x0d, 'p', 'r', 'i', 'n', 't', '_', 'f', '6', '4', '_', 'f', '6', '4', 0x00, 0x06,

    /* table section (id 4), 5 bytes: one funcref table, limits flag 1 (has max), min 10, max 20 */
    0x04, 0x05, 0x01, 0x70, 0x01, 0x0a, 0x14,

    /* memory section (id 5), 4 bytes: one memory, limits flag 1, min 1 page, max 2 pages */
    0x05, 0x04, 0x01, 0x01, 0x01, 0x02,

    /* global section (id 6), 33 bytes, 4 immutable globals with constant initialisers */
    0x06, 0x21, 0x04,
    0x7f, 0x00, 0x41, 0x9a, 0x05, 0x0b,                         /* i32 = i32.const 666 (LEB 9a 05) */
    0x7e, 0x00, 0x42, 0x9a, 0x05, 0x0b,                         /* i64 = i64.const 666 */
    0x7d, 0x00, 0x43, 0x66, 0xa6, 0x26, 0x44, 0x0b,             /* f32 = 666.6f, bits 0x4426a666 LE */
    0x7c, 0x00, 0x44, 0xcd, 0xcc, 0xcc, 0xcc, 0xcc, 0xd4, 0x84, 0x40, 0x0b, /* f64 = 666.6, 0x4084d4cccccccccd */

    /* export section (id 7), 158 bytes (LEB 9e 01), 13 exports: name, kind, index */
    0x07, 0x9e, 0x01, 0x0d,
    0x05, 't', 'a', 'b', 'l', 'e', 0x01, 0x00,                          /* table 0 */
    0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,                     /* memory 0 */
    0x0a, 'g', 'l', 'o', 'b', 'a', 'l', '_', 'i', '3', '2', 0x03, 0x00, /* global 0 */
    0x0a, 'g', 'l', 'o', 'b', 'a', 'l', '_', 'i', '6', '4', 0x03, 0x01, /* global 1 */
    0x0a, 'g', 'l', 'o', 'b', 'a', 'l', '_', 'f', '3', '2', 0x03, 0x02, /* global 2 */
    0x0a, 'g', 'l', 'o', 'b', 'a', 'l', '_', 'f', '6', '4', 0x03, 0x03, /* global 3 */
    0x05, 'p', 'r', 'i', 'n', 't', 0x00, 0x00,                                    /* func 0 */
    0x09, 'p', 'r', 'i', 'n', 't', '_', 'i', '3', '2', 0x00, 0x01,                /* func 1 */
    0x09, 'p', 'r', 'i', 'n', 't', '_', 'i', '6', '4', 0x00, 0x02,                /* func 2 */
    0x09, 'p', 'r', 'i', 'n', 't', '_', 'f', '3', '2', 0x00, 0x03,                /* func 3 */
    0x09, 'p', 'r', 'i', 'n', 't', '_', 'f', '6', '4', 0x00, 0x04,                /* func 4 */
    0x0d, 'p', 'r', 'i', 'n', 't', '_', 'i', '3', '2', '_', 'f', '3', '2', 0x00, 0x05, /* func 5 */
    0x0d, 'p', 'r', 'i', 'n', 't', '_', 'f', '6', '4', '_', 'f', '6', '4', 0x00, 0x06, /* func 6 */
};

#endif
