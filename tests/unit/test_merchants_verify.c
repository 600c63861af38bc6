/*  test_merchants_verify - the merchants' sys.Verify hook: a check-in the
    merchant's and the market's counters do not count is found, and named;
    an empty store is clean. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "test_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merchants.pb-c.h"
#include "merchants_service.h"
#include "ts_dispatch.h"
#include "ts_verify.h"

static void
test_uncounted_checkin (void **state)
{
    (void) state;
    char dir [TEST_DIR_MAX], err [256] = "";
    assert_int_equal (test_dir_make (dir, sizeof dir, "merchants"), 0);
    ts_dispatch *d = ts_dispatch_new (&merchants_service, dir, err, sizeof err);
    assert_non_null (d);
    ts_arena *arena = ts_arena_new ();
    Tashan__VerifyReply r = TASHAN__VERIFY_REPLY__INIT;
    assert_int_equal (ts_verify_run (d, arena, &r), 200);
    assert_int_equal (r.n_findings, 0);
    //  A check-in written without its counters, as a bug might.
    Tashan__Merchants__Checkin c = TASHAN__MERCHANTS__CHECKIN__INIT;
    c.checkin_id = "c1";
    c.merchant_id = "m7";
    c.person_id = "p1";
    c.service = "haircut";
    c.market_id = "k3";
    ts_txn *txn = ts_txn_begin (ts_dispatch_store (d), true);
    uint8_t key [8];
    ts_be64_put (key, 1);
    ts_txn_put_msg (txn, ts_store_table (ts_dispatch_store (d), "checkins"), key, 8, &c.base);
    assert_int_equal (ts_txn_commit (&txn), 0);
    Tashan__VerifyReply again = TASHAN__VERIFY_REPLY__INIT;
    assert_int_equal (ts_verify_run (d, arena, &again), 200);
    assert_int_equal (again.checked, 1);
    assert_int_equal (again.n_findings, 2);
    assert_non_null (strstr (again.findings [0], "m7: m.checkins says 0"));
    assert_non_null (strstr (again.findings [1], "k3: k.checkins says 0"));
    ts_arena_destroy (&arena);
    ts_dispatch_destroy (&d);
    test_dir_remove (dir);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_uncounted_checkin),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
