/* The checks the worker makes against the chain before running a task, without a chain: a task's
 * payload must equal the pending request field by field (a forged or altered task is refused, naming
 * the field), and a task whose yield window is too short for its limits is left alone. */
#include <jansson.h>

#include "test.h"
#include "worker/worker_int.h"

static json_t *J(const char *s) {
    json_error_t e;
    json_t *v = json_loads(s, 0, &e);
    if (!v)
        T_FAIL("bad JSON in test: %s", e.text);
    return v;
}

int main(void) {
    const char *req = "{\"request_id\":7,\"data_id\":\"ab\",\"sender_id\":\"alice.near\",\"source\":{\"GitHub\":{\"repo\":\"https://x/y\","
                      "\"commit\":\"0123456789012345678901234567890123456789\"}},\"input_data\":\"{}\",\"resource_limits\":"
                      "{\"max_instructions\":1000},\"response_format\":\"Text\",\"secrets_ref\":null,\"params\":null,"
                      "\"payment\":\"100\",\"block_height\":50,\"timestamp\":1}";
    json_t *chain = J(req), *task = J(req);
    char why[256];
    ASSERT_TRUE(wk_request_matches(chain, task, why, sizeof why));
    /* absent and null are the same; fields that do not decide what runs may differ */
    json_object_del(task, "secrets_ref");
    json_object_set_new(task, "payment", json_string("999"));
    ASSERT_TRUE(wk_request_matches(chain, task, why, sizeof why));
    /* anything that decides what runs must be equal */
    json_object_set_new(task, "input_data", json_string("{\"evil\":1}"));
    ASSERT_TRUE(!wk_request_matches(chain, task, why, sizeof why));
    ASSERT_CONTAINS(why, "input_data differs");
    json_decref(task);
    task = J(req);
    json_object_set_new(json_object_get(json_object_get(task, "source"), "GitHub"), "commit",
                        json_string("ffff456789012345678901234567890123456789"));
    ASSERT_TRUE(!wk_request_matches(chain, task, why, sizeof why));
    ASSERT_CONTAINS(why, "source differs");
    json_decref(task);
    task = J(req);
    json_object_set_new(task, "secrets_ref", json_pack("{s:s}", "profile", "p"));
    ASSERT_TRUE(!wk_request_matches(chain, task, why, sizeof why));
    ASSERT_CONTAINS(why, "secrets_ref differs");
    ASSERT_TRUE(!wk_request_matches(NULL, task, why, sizeof why));
    ASSERT_CONTAINS(why, "not pending on chain");
    json_decref(task);
    json_decref(chain);

    /* yield window: created at 100, 200 blocks of >= 500 ms */
    ASSERT_TRUE(wk_window_ok(100, 100, 200, 500, 15000, why, sizeof why));  /* 100 s left */
    ASSERT_TRUE(wk_window_ok(100, 270, 200, 500, 15000, why, sizeof why));  /* 30 blocks = 15 s: just fits */
    ASSERT_TRUE(!wk_window_ok(100, 271, 200, 500, 15000, why, sizeof why)); /* 14.5 s */
    ASSERT_CONTAINS(why, "29 blocks");
    ASSERT_TRUE(!wk_window_ok(100, 400, 200, 500, 1, why, sizeof why)); /* closed */
    printf("ok\n");
    return 0;
}
