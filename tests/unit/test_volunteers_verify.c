/*  test_volunteers_verify - the volunteers' sys.Verify hook: a store with
    no hours is clean; minutes by month for a volunteer with no record, or
    a total that differs from its months, are found and named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "test_fixture.h"
#include "test_volunteers_fixture.h"
#include "ts_verify.h"

//  One minutes row as volunteers_hours.c writes it.
static void
s_put_minutes (vfx_t *f, char kind, const char *id, uint64_t minutes)
{
    ts_txn *txn = ts_txn_begin (ts_dispatch_store (f->d), true);
    ts_key k;
    ts_key_init (&k);
    ts_key_u32 (&k, 2026 * 12 + 2);
    ts_key_bytes (&k, &kind, 1);
    ts_key_str (&k, id);
    ts_txn_put_u64 (txn, ts_store_table (ts_dispatch_store (f->d), "minutes"), k.data, k.size,
                    minutes);
    assert_int_equal (ts_txn_commit (&txn), 0);
}

static void
test_minutes_without_a_record (void **state)
{
    (void) state;
    vfx_t *f = vfx_new ();
    Tashan__VerifyReply r = TASHAN__VERIFY_REPLY__INIT;
    assert_int_equal (ts_verify_run (f->d, f->arena, &r), 200);
    assert_int_equal (r.n_findings, 0);
    s_put_minutes (f, 'v', "p9", 90);
    s_put_minutes (f, 'c', "q7", 30);
    Tashan__VerifyReply again = TASHAN__VERIFY_REPLY__INIT;
    assert_int_equal (ts_verify_run (f->d, f->arena, &again), 200);
    assert_int_equal (again.checked, 2);
    assert_int_equal (again.n_findings, 2);
    assert_non_null (strstr (again.findings [0], "circle q7"));
    assert_non_null (strstr (again.findings [1], "volunteer p9"));
    vfx_destroy (&f);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_minutes_without_a_record),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
