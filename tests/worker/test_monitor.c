/* The monitor's paging logic (wk_monitor_step) against a small fake page source, task set and cursor
 * store: the cursor is read from the store at start and after errors, a restarted monitor continues
 * from the stored cursor (not from 0), the cursor never passes a request whose task was not created,
 * nothing pending is missed, full pages are followed, and two monitors never move the cursor backwards. */
#include <jansson.h>
#include <string.h>

#include "test.h"
#include "worker/worker_int.h"

#define MAX_ID 64

typedef struct fake {
    bool pending[MAX_ID]; /* the contract's pending requests */
    bool task[MAX_ID];    /* the coordinator's tasks (create is idempotent) */
    long long fail_create_at; /* create fails for this id (-1: never) */
    bool fail_list, fail_get;
    bool have_cursor, allow_back;
    long long next_id; /* the contract's next request id */
    long long cursor; /* the coordinator's stored cursor */
    long long list_from[32];
    int nlist, ncreate_calls, nget;
} fake;

static int f_list(void *ctx, long long from_id, unsigned limit, json_t **page, ol_err *err) {
    fake *f = ctx;
    if (f->fail_list)
        return ol_err_set(err, 1, "fake RPC down");
    if (f->nlist < 32)
        f->list_from[f->nlist] = from_id;
    f->nlist++;
    *page = json_array();
    for (long long id = from_id; id < MAX_ID && json_array_size(*page) < limit; id++)
        if (f->pending[id])
            json_array_append_new(*page, json_pack("{s:I,s:s,s:s}", "request_id", (json_int_t)id, "data_id", "dd",
                                                   "sender_id", "alice.test.near"));
    return 0;
}

static int f_create(void *ctx, const json_t *r, bool *created, ol_err *err) {
    fake *f = ctx;
    long long id = json_integer_value(json_object_get(r, "request_id"));
    f->ncreate_calls++;
    if (id == f->fail_create_at)
        return ol_err_set(err, 1, "fake coordinator refused request %lld", id);
    *created = !f->task[id];
    f->task[id] = true;
    return 0;
}

static int f_get(void *ctx, long long *value, bool *found, ol_err *err) {
    fake *f = ctx;
    f->nget++;
    if (f->fail_get)
        return ol_err_set(err, 1, "fake coordinator down");
    *found = f->have_cursor;
    *value = f->cursor;
    return 0;
}

static int f_cas(void *ctx, long long value, long long expected, bool *ok, long long *current, ol_err *err) {
    (void)err;
    fake *f = ctx;
    long long have = f->have_cursor ? f->cursor : -1;
    *ok = have == expected;
    if (*ok) {
        if (f->have_cursor && value < f->cursor && !f->allow_back)
            T_FAIL("the cursor moved backwards: %lld -> %lld", f->cursor, value);
        f->cursor = value;
        f->have_cursor = true;
    } else {
        *current = have;
    }
    return 0;
}

static int f_next(void *ctx, long long *next_id, ol_err *err) {
    (void)err;
    *next_id = ((fake *)ctx)->next_id;
    return 0;
}

static void add(fake *f, long long from, long long to) {
    for (long long i = from; i <= to; i++)
        f->pending[i] = true;
    if (to + 1 > f->next_id)
        f->next_id = to + 1;
}

/* Every pending request has its task. */
static void none_missed(const fake *f) {
    for (int i = 0; i < MAX_ID; i++)
        if (f->pending[i] && !f->task[i])
            T_FAIL("pending request %d has no task", i);
}

int main(void) {
    fake f = {.fail_create_at = -1};
    wk_monitor_io io = {&f, f_list, f_create, f_get, f_cas, f_next};
    ol_err err;
    size_t created;

    /* first start: no cursor in the store, pages from 0 and stores the advance */
    wk_monitor m = {0};
    add(&f, 1, 3);
    ASSERT_EQ(wk_monitor_step(&m, &io, 100, &created, &err), 0);
    ASSERT_EQ(created, 3);
    ASSERT_EQ(f.list_from[0], 0);
    ASSERT_TRUE(f.have_cursor);
    ASSERT_EQ(f.cursor, 4);
    ASSERT_TRUE(!m.more);

    /* 2 answered, 4 and 5 new: pages from 4 only; 1 and 3 stay pending but already have their tasks */
    f.pending[2] = false;
    add(&f, 4, 5);
    ASSERT_EQ(wk_monitor_step(&m, &io, 100, &created, &err), 0);
    ASSERT_EQ(created, 2);
    ASSERT_EQ(f.list_from[1], 4);
    ASSERT_EQ(f.cursor, 6);
    /* nothing new: the cursor stays, nothing is re-created */
    int calls = f.ncreate_calls;
    ASSERT_EQ(wk_monitor_step(&m, &io, 100, &created, &err), 0);
    ASSERT_EQ(created, 0);
    ASSERT_EQ(f.ncreate_calls, calls);
    ASSERT_EQ(f.cursor, 6);
    none_missed(&f);

    /* a restarted worker reads the cursor from the store: continues at 6, not 0 */
    wk_monitor r = {0};
    add(&f, 6, 6);
    int gets = f.nget, lists = f.nlist;
    ASSERT_EQ(wk_monitor_step(&r, &io, 100, &created, &err), 0);
    ASSERT_EQ(f.nget, gets + 1);
    ASSERT_EQ(f.list_from[lists], 6);
    ASSERT_EQ(created, 1);
    ASSERT_EQ(f.cursor, 7);
    none_missed(&f);

    /* task creation fails at 8: the cursor stops at 8 (7 handed over), the error is returned and the
     * cursor re-read before the next page; then 8 and 9 are created and nothing is skipped */
    add(&f, 7, 9);
    f.fail_create_at = 8;
    ASSERT_EQ(wk_monitor_step(&r, &io, 100, &created, &err), 1);
    ASSERT_CONTAINS(err.msg, "refused request 8");
    ASSERT_EQ(created, 1);
    ASSERT_EQ(f.cursor, 8);
    ASSERT_TRUE(!r.known);
    ASSERT_TRUE(!f.task[8] && !f.task[9]);
    f.fail_create_at = -1;
    gets = f.nget;
    lists = f.nlist;
    ASSERT_EQ(wk_monitor_step(&r, &io, 100, &created, &err), 0);
    ASSERT_EQ(f.nget, gets + 1); /* re-read after the error */
    ASSERT_EQ(f.list_from[lists], 8);
    ASSERT_EQ(created, 2);
    ASSERT_EQ(f.cursor, 10);
    none_missed(&f);

    /* the chain read fails: error, cursor unchanged in the store and re-read next time */
    f.fail_list = true;
    ASSERT_EQ(wk_monitor_step(&r, &io, 100, &created, &err), 1);
    ASSERT_CONTAINS(err.msg, "fake RPC down");
    ASSERT_EQ(f.cursor, 10);
    ASSERT_TRUE(!r.known);
    f.fail_list = false;
    /* the coordinator is down when the cursor is read: error, nothing listed */
    f.fail_get = true;
    lists = f.nlist;
    ASSERT_EQ(wk_monitor_step(&r, &io, 100, &created, &err), 1);
    ASSERT_CONTAINS(err.msg, "fake coordinator down");
    ASSERT_EQ(f.nlist, lists);
    f.fail_get = false;

    /* full pages are followed: 5 new requests with pages of 2 */
    add(&f, 10, 14);
    size_t total = 0;
    int steps = 0;
    do {
        ASSERT_EQ(wk_monitor_step(&r, &io, 2, &created, &err), 0);
        total += created;
        steps++;
    } while (r.more && steps < 10);
    ASSERT_EQ(total, 5);
    ASSERT_EQ(steps, 3); /* 10-11, 12-13, 14 */
    ASSERT_EQ(f.cursor, 15);
    none_missed(&f);

    /* two monitors: a stale one (still at 10 from an earlier read) cannot move the stored cursor back;
     * it adopts the stored value instead */
    add(&f, 15, 19);
    ASSERT_EQ(wk_monitor_step(&r, &io, 100, &created, &err), 0);
    ASSERT_EQ(f.cursor, 20);
    wk_monitor stale = {.cursor = 10, .stored = 10, .known = true};
    ASSERT_EQ(wk_monitor_step(&stale, &io, 2, &created, &err), 0);
    ASSERT_EQ(created, 0); /* 10 and 11 already had tasks */
    ASSERT_EQ(f.cursor, 20);
    ASSERT_EQ(stale.cursor, 20);
    ASSERT_EQ(stale.stored, 20);
    /* a monitor behind by a little but ahead of the store's old value: compare-and-set retried */
    add(&f, 20, 23);
    wk_monitor a = {.cursor = 20, .stored = 20, .known = true}, b = {.cursor = 20, .stored = 20, .known = true};
    ASSERT_EQ(wk_monitor_step(&a, &io, 2, &created, &err), 0); /* 20,21 -> store 22 */
    ASSERT_EQ(f.cursor, 22);
    ASSERT_EQ(wk_monitor_step(&b, &io, 4, &created, &err), 0); /* 20..23 -> 24: CAS from 20 fails, then 22 -> 24 */
    ASSERT_EQ(f.cursor, 24);
    ASSERT_EQ(b.cursor, 24);
    none_missed(&f);

    /* the chain was reset under a kept coordinator: the stored cursor (24) is past the contract's next
     * request id (3); a monitor reading it pages from 0 instead of skipping the new requests 0..2 */
    memset(f.pending, 0, sizeof f.pending);
    memset(f.task, 0, sizeof f.task);
    f.next_id = 0;
    add(&f, 0, 2);
    f.allow_back = true;
    wk_monitor fresh = {0};
    lists = f.nlist;
    ASSERT_EQ(wk_monitor_step(&fresh, &io, 100, &created, &err), 0);
    ASSERT_EQ(f.list_from[lists], 0);
    ASSERT_EQ(created, 3);
    ASSERT_EQ(f.cursor, 3);
    none_missed(&f);
    printf("ok\n");
    return 0;
}
