/* contracts/sdk: JSON reader and writer (strictness, limits, exact errors), u128 arithmetic and decimal
 * strings at the limits, hex/base64/base58, storage maps and events through the host double, and panics
 * (message, rollback of writes, host rules). */
#include "host_double.h"
#include "sdk.h"
#include "test.h"

static sdk_json_err E;

static sdk_json *parse(const char *s) { return sdk_json_parse(s, strlen(s), SDK_JSON_MAX_INPUT, &E); }

static void expect_bad(const char *s, const char *msg, size_t offset) {
    sdk__heap_reset();
    if (parse(s)) T_FAIL("accepted invalid JSON: %s", s);
    ASSERT_STREQ(E.msg, msg);
    ASSERT_EQ(E.offset, offset);
}

static const char *roundtrip(const char *s) {
    sdk_json *v = parse(s);
    if (!v) T_FAIL("rejected %s: %s at %zu", s, E.msg, E.offset);
    sdk_jw w;
    sdk_jw_init(&w, 1 << 20, "test");
    sdk_jw_value(&w, v);
    return sdk_jw_finish(&w);
}

static void test_json_reader(void) {
    sdk__heap_reset();
    ASSERT_STREQ(roundtrip(" {\"a\" : [1, -2.5e3, true, false, null, \"x\"], \"b\":{}} "),
                 "{\"a\":[1,-2.5e3,true,false,null,\"x\"],\"b\":{}}");
    ASSERT_STREQ(roundtrip("\"\\u00e9\\ud83d\\ude00\\n\\\"\\/\""), "\"\xc3\xa9\xf0\x9f\x98\x80\\n\\\"/\"");
    ASSERT_STREQ(roundtrip("\"\\u0001\""), "\"\\u0001\"");
    ASSERT_STREQ(roundtrip("0"), "0");
    ASSERT_STREQ(roundtrip("[]"), "[]");

    expect_bad("", "unexpected end of input", 0);
    expect_bad("{\"a\":1,}", "object: trailing comma", 7);
    expect_bad("[1,]", "array: trailing comma", 3);
    expect_bad("{\"a\":1,\"a\":2}", "object: duplicate key", 7);
    expect_bad("01", "number: leading zero", 1);
    expect_bad("-", "number: missing digits", 1);
    expect_bad("1.", "number: missing digits after '.'", 2);
    expect_bad("1e+", "number: missing exponent digits", 3);
    expect_bad("\"abc", "string: unterminated", 4);
    expect_bad("\"a\x01\"", "string: unescaped control character", 2);
    expect_bad("\"\\x\"", "string: bad escape", 1);
    expect_bad("\"\\u12g4\"", "string: bad \\u escape", 1);
    expect_bad("\"\\ud800\"", "string: lone high surrogate", 1);
    expect_bad("\"\\udc00\"", "string: lone low surrogate", 1);
    expect_bad("\"\xc0\xaf\"", "string: invalid UTF-8", 1);        /* overlong */
    expect_bad("\"\xed\xa0\x80\"", "string: invalid UTF-8", 1);    /* encoded surrogate */
    expect_bad("\"\xf4\x90\x80\x80\"", "string: invalid UTF-8", 1); /* above U+10FFFF */
    expect_bad("{} x", "trailing characters after the JSON value", 3);
    expect_bad("NaN", "unexpected character", 0);
    expect_bad("tru", "unexpected character", 0);
    expect_bad("{\"a\" 1}", "object: expected ':'", 5);
    expect_bad("{1:2}", "object: expected a string key", 1);
    expect_bad("[1 2]", "array: expected ',' or ']'", 3);
    expect_bad("/* c */ 1", "unexpected character", 0);

    /* depth: 64 nested arrays parse, 65 do not */
    char deep[200];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = 0;
    sdk__heap_reset();
    ASSERT_TRUE(parse(deep) != NULL);
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = 0;
    expect_bad(deep, "nesting deeper than SDK_JSON_MAX_DEPTH (64)", 64);

    /* size limit is checked before parsing */
    sdk__heap_reset();
    ASSERT_TRUE(sdk_json_parse("[1,2]", 5, 4, &E) == NULL);
    ASSERT_STREQ(E.msg, "input of 5 bytes exceeds the limit of 4 bytes");
    ASSERT_TRUE(sdk_json_parse("[1,2]", 5, 5, &E) != NULL);

    /* u64 accessor: strict */
    sdk__heap_reset();
    uint64_t u;
    ASSERT_TRUE(sdk_json_u64(parse("18446744073709551615"), &u) && u == UINT64_MAX);
    ASSERT_TRUE(!sdk_json_u64(parse("18446744073709551616"), &u));
    ASSERT_TRUE(!sdk_json_u64(parse("-1"), &u));
    ASSERT_TRUE(!sdk_json_u64(parse("1.0"), &u));
    ASSERT_TRUE(!sdk_json_u64(parse("1e3"), &u));
    ASSERT_TRUE(!sdk_json_u64(parse("\"5\""), &u));

    /* member access; a NUL inside a key does not alias a shorter key */
    sdk_json *o = parse("{\"a\\u0000b\":1,\"a\":2}");
    ASSERT_TRUE(o != NULL);
    ASSERT_TRUE(sdk_json_u64(sdk_json_get(o, "a"), &u) && u == 2);
    ASSERT_TRUE(sdk_json_get(o, "b") == NULL);
}

static void test_json_writer(void) {
    sdk__heap_reset();
    sdk_jw w;
    sdk_jw_init(&w, 1000, "w");
    sdk_jw_obj_open(&w);
    sdk_jw_key(&w, "s");
    sdk_jw_strn(&w, "a\"\\\n\x1f\x7f", 6);
    sdk_jw_key(&w, "n");
    sdk_jw_u64(&w, UINT64_MAX);
    sdk_jw_key(&w, "q");
    sdk_jw_u128(&w, U128_MAX);
    sdk_jw_key(&w, "arr");
    sdk_jw_arr_open(&w);
    sdk_jw_bool(&w, true);
    sdk_jw_null(&w);
    sdk_jw_obj_open(&w);
    sdk_jw_obj_close(&w);
    sdk_jw_arr_close(&w);
    sdk_jw_obj_close(&w);
    ASSERT_STREQ(sdk_jw_finish(&w), "{\"s\":\"a\\\"\\\\\\n\\u001f\x7f\",\"n\":18446744073709551615,"
                                    "\"q\":\"340282366920938463463374607431768211455\",\"arr\":[true,null,{}]}");
    /* the writer's output is valid JSON for the reader */
    ASSERT_TRUE(sdk_json_parse(w.buf, w.len, 1000, &E) != NULL);
}

static void test_u128(void) {
    u128 r;
    ASSERT_TRUE(u128_add(U128_MAX, U128_ZERO, &r) && u128_cmp(r, U128_MAX) == 0);
    ASSERT_TRUE(!u128_add(U128_MAX, u128_from_u64(1), &r));
    ASSERT_TRUE(u128_add(u128_from_u64(UINT64_MAX), u128_from_u64(1), &r) && r.hi == 1 && r.lo == 0);
    ASSERT_TRUE(!u128_add((u128){0, UINT64_MAX}, (u128){0, 1}, &r));
    ASSERT_TRUE(!u128_sub(U128_ZERO, u128_from_u64(1), &r));
    ASSERT_TRUE(u128_sub((u128){0, 1}, u128_from_u64(1), &r) && r.hi == 0 && r.lo == UINT64_MAX);
    ASSERT_TRUE(u128_mul(u128_from_u64(UINT64_MAX), u128_from_u64(UINT64_MAX), &r));
    ASSERT_TRUE(r.hi == UINT64_MAX - 1 && r.lo == 1);
    ASSERT_TRUE(!u128_mul((u128){0, 1}, (u128){0, 1}, &r));
    ASSERT_TRUE(!u128_mul(U128_MAX, u128_from_u64(2), &r));
    ASSERT_TRUE(u128_mul(U128_MAX, u128_from_u64(1), &r) && u128_cmp(r, U128_MAX) == 0);
    ASSERT_TRUE(u128_cmp(u128_mul_sat(U128_MAX, u128_from_u64(3)), U128_MAX) == 0);
    ASSERT_TRUE(u128_cmp(u128_add_sat(U128_MAX, u128_from_u64(3)), U128_MAX) == 0);

    char buf[40];
    ASSERT_EQ(u128_to_dec(U128_MAX, buf), 39);
    ASSERT_STREQ(buf, "340282366920938463463374607431768211455");
    u128_to_dec(U128_ZERO, buf);
    ASSERT_STREQ(buf, "0");
    ASSERT_TRUE(u128_parse("340282366920938463463374607431768211455", 39, &r) && u128_cmp(r, U128_MAX) == 0);
    ASSERT_TRUE(!u128_parse("340282366920938463463374607431768211456", 39, &r));
    ASSERT_TRUE(!u128_parse("1000000000000000000000000000000000000000", 40, &r));
    ASSERT_TRUE(!u128_parse("01", 2, &r));
    ASSERT_TRUE(!u128_parse("", 0, &r));
    ASSERT_TRUE(!u128_parse("-1", 2, &r));
    ASSERT_TRUE(!u128_parse("1 ", 2, &r));
    ASSERT_TRUE(u128_parse("0", 1, &r) && u128_is_zero(r));
    uint32_t rem;
    u128 q = u128_divmod_u32(U128_MAX, 1000000, &rem);
    u128 back;
    ASSERT_TRUE(u128_mul(q, u128_from_u64(1000000), &back) && u128_add(back, u128_from_u64(rem), &back));
    ASSERT_TRUE(u128_cmp(back, U128_MAX) == 0);
    uint8_t le[16];
    u128_to_le((u128){0x0807060504030201ull, 0x100f0e0d0c0b0a09ull}, le);
    for (int i = 0; i < 16; i++) ASSERT_EQ(le[i], i + 1);
    ASSERT_TRUE(u128_from_le(le).lo == 0x0807060504030201ull);
}

static void test_codecs(void) {
    sdk__heap_reset();
    char hex[9];
    const uint8_t b[4] = {0xde, 0xad, 0x00, 0x0f};
    sdk_hex_encode(b, 4, hex);
    ASSERT_STREQ(hex, "dead000f");
    uint8_t out[4];
    size_t n;
    ASSERT_TRUE(sdk_hex_decode("DEad000f", 8, out, &n) && n == 4 && out[0] == 0xde);
    ASSERT_TRUE(!sdk_hex_decode("abc", 3, out, &n));
    ASSERT_TRUE(!sdk_hex_decode("zz", 2, out, &n));

    const char *cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}};
    for (int i = 0; i < 5; i++) {
        size_t en;
        ASSERT_STREQ(sdk_base64_encode((const uint8_t *)cases[i][0], strlen(cases[i][0]), &en), cases[i][1]);
        uint8_t *d;
        size_t dn;
        ASSERT_TRUE(sdk_base64_decode(cases[i][1], strlen(cases[i][1]), &d, &dn));
        ASSERT_EQ(dn, strlen(cases[i][0]));
        ASSERT_TRUE(memcmp(d, cases[i][0], dn) == 0);
    }
    uint8_t *d;
    size_t dn;
    ASSERT_TRUE(!sdk_base64_decode("Zg=", 3, &d, &dn));   /* length */
    ASSERT_TRUE(!sdk_base64_decode("Zh==", 4, &d, &dn));  /* non-canonical padding bits */
    ASSERT_TRUE(!sdk_base64_decode("Z===", 4, &d, &dn));
    ASSERT_TRUE(!sdk_base64_decode("Zg==Zg==", 8, &d, &dn)); /* padding in the middle */
    ASSERT_TRUE(!sdk_base64_decode("Zm 9", 4, &d, &dn));

    /* base58: NEAR's key vector (../shared/reference/near-protocol.md §6b) */
    const uint8_t pk[32] = {0x03, 0xa1, 0x07, 0xbf, 0xf3, 0xce, 0x10, 0xbe, 0x1d, 0x70, 0xdd,
                            0x18, 0xe7, 0x4b, 0xc0, 0x99, 0x67, 0xe4, 0xd6, 0x30, 0x9b, 0xa5,
                            0x0d, 0x5f, 0x1d, 0xdc, 0x86, 0x64, 0x12, 0x55, 0x31, 0xb8};
    ASSERT_STREQ(sdk_base58_encode(pk, 32), "FAe4sisG95oZ42w7buUn5qEE4TAnfTTFPiguZUHmhiF");
    const uint8_t z[3] = {0, 0, 1};
    ASSERT_STREQ(sdk_base58_encode(z, 3), "112");

    char f[128];
    u128 big = U128_MAX;
    sdk_fmt(f, sizeof f, "%s=%d/%U/%Q%%", "x", -5, (uint64_t)UINT64_MAX, &big);
    ASSERT_STREQ(f, "x=-5/18446744073709551615/340282366920938463463374607431768211455%");
    ASSERT_EQ(sdk_fmt(f, 4, "abcdef"), 3);
    ASSERT_STREQ(f, "abc");

    ASSERT_TRUE(sdk_account_id_valid("alice.near", 10));
    ASSERT_TRUE(sdk_account_id_valid("a-b_c.d", 7));
    ASSERT_TRUE(!sdk_account_id_valid("a", 1));
    ASSERT_TRUE(!sdk_account_id_valid("Alice.near", 10));
    ASSERT_TRUE(!sdk_account_id_valid("a..b", 4));
    ASSERT_TRUE(!sdk_account_id_valid(".ab", 3));
    ASSERT_TRUE(!sdk_account_id_valid("ab.", 3));
}

/* ---- through the host double ---- */

static const sdk_map M1 = {"x", 1}, M2 = {"xy", 2};

static void m_storage(void) {
    sdk_map_set(&M1, "y1", 2, "first", 5);
    sdk_map_set(&M2, "1", 1, "second", 6); /* same full key "xy1": maps with overlapping prefixes collide */
    sdk_bytes v;
    ASSERT_TRUE(sdk_map_get(&M1, "y1", 2, &v));
    ASSERT_STREQ(v.p, "second");
    sdk_map_set(&M1, "a", 1, "", 0);
    ASSERT_TRUE(sdk_map_get(&M1, "a", 1, &v) && v.n == 0);
    ASSERT_TRUE(sdk_map_remove(&M1, "a", 1));
    ASSERT_TRUE(!sdk_map_has(&M1, "a", 1));
    uint8_t be[8];
    sdk_u64_be(0x0102030405060708ull, be);
    ASSERT_EQ(be[0], 1);
    ASSERT_EQ(be[7], 8);
    sdk_emit_event("near-outlayer", "1.0.0", "test", "[{\"a\":1}]", 9);
    sdk_log("done");
    sdk_return_str("\"ok\"");
}

static void m_write_then_panic(void) {
    sdk_storage_write("k", 1, "v", 1);
    sdk_panicf("boom %U", (uint64_t)42);
}

static void m_bad_json(void) { sdk_input_json_object("m"); }

static void m_long_panic(void) {
    static char msg[3000];
    /* 'é' repeated: the cut at SDK_PANIC_MAX_BYTES must not split a character */
    for (int i = 0; i < 1499; i++) {
        msg[2 * i] = (char)0xc3;
        msg[2 * i + 1] = (char)0xa9;
    }
    memmove(msg + 1, msg, 2998); /* odd offset so 1024 falls inside a pair */
    msg[0] = 'x';
    msg[2999] = 0;
    sdk_panic(msg);
}

static void m_too_many_logs(void) {
    for (int i = 0; i < 101; i++) sdk_log("l");
}

static void m_big_key(void) {
    static char k[2049];
    memset(k, 'k', sizeof k);
    sdk_storage_write(k, sizeof k, "v", 1);
}

static void m_alloc(void) {
    char *a = sdk_alloc(10);
    memcpy(a, "0123456789", 10);
    char *b = sdk_realloc(a, 10, 20); /* last block: in place */
    ASSERT_TRUE(a == b);
    ASSERT_TRUE(memcmp(b, "0123456789", 10) == 0);
    char *c = sdk_alloc(4);
    char *d = sdk_realloc(b, 20, 40); /* not last: moved and copied */
    ASSERT_TRUE(d != b && memcmp(d, "0123456789", 10) == 0);
    (void)c;
    sdk_alloc((size_t)SDK_NATIVE_HEAP_BYTES); /* cannot fit: panics */
}

static void test_double(void) {
    hd_reset("c.near", hd_u128("1000"));
    const hd_outcome *o = hd_call(m_storage, NULL);
    ASSERT_TRUE(!o->panicked);
    ASSERT_STREQ(o->ret, "\"ok\"");
    ASSERT_EQ(o->nlogs, 2);
    ASSERT_STREQ(o->logs[0], "EVENT_JSON:{\"standard\":\"near-outlayer\",\"version\":\"1.0.0\",\"event\":\"test\","
                             "\"data\":[{\"a\":1}]}");
    /* storage usage is NEAR's: key + value + 40 per record */
    ASSERT_EQ(hd_storage_usage(), 3 + 6 + 40);

    uint64_t before = hd_storage_usage();
    o = hd_call(m_write_then_panic, &(hd_call_opts){.deposit = hd_u128("5")});
    ASSERT_TRUE(o->panicked);
    ASSERT_STREQ(o->panic_msg, "boom 42");
    ASSERT_EQ(hd_storage_usage(), before);              /* rolled back */
    ASSERT_TRUE(hd_storage_get("k", 1, NULL) == NULL);
    ASSERT_TRUE(u128_cmp(hd_balance(), hd_u128("1000")) == 0); /* deposit returned */

    o = hd_call(m_bad_json, &(hd_call_opts){.args = "{\"a\":1,}"});
    ASSERT_STREQ(o->panic_msg, "m: invalid JSON arguments: object: trailing comma at byte 7");
    o = hd_call(m_bad_json, &(hd_call_opts){.args = "[1]"});
    ASSERT_STREQ(o->panic_msg, "m: arguments must be a JSON object");
    o = hd_call(m_bad_json, &(hd_call_opts){.args = ""}); /* empty input = {} */
    ASSERT_TRUE(!o->panicked);

    o = hd_call(m_long_panic, NULL);
    ASSERT_TRUE(o->panicked);
    ASSERT_EQ(strlen(o->panic_msg), 1023); /* 'x' + 511 two-byte characters */

    o = hd_call(m_too_many_logs, NULL);
    ASSERT_STREQ(o->panic_msg, "HostError: NumberOfLogsExceeded");
    ASSERT_EQ(o->nlogs, 100);

    o = hd_call(m_big_key, NULL);
    ASSERT_STREQ(o->panic_msg, "storage key of 2049 bytes exceeds NEAR's limit of 2048 bytes");

    o = hd_call(m_alloc, NULL);
    ASSERT_STREQ(o->panic_msg, "out of memory");
}

int main(void) {
    test_json_reader();
    test_json_writer();
    test_u128();
    test_codecs();
    test_double();
    puts("test_contracts_sdk: ok");
    return 0;
}
