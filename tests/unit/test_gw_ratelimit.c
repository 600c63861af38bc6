/*  test_gw_ratelimit - token buckets per caller: a burst of one second's
    rate, refill over time, callers independent, 0 = no limit, a full
    table lets calls through (and counts them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gw_ratelimit.h"

static void
test_burst_then_refused_then_refilled (void **state)
{
    (void) state;
    gw_ratelimit *rl = gw_ratelimit_new (5);
    uint64_t t = 1000000;
    for (int i = 0; i < 5; i++)
        assert_true (gw_ratelimit_allow (rl, "t1", t));
    assert_false (gw_ratelimit_allow (rl, "t1", t));
    assert_false (gw_ratelimit_allow (rl, "t1", t + 100));      //  0.5 of a call back
    assert_true (gw_ratelimit_allow (rl, "t1", t + 200));       //  one call back
    assert_false (gw_ratelimit_allow (rl, "t1", t + 200));
    //  After a long pause the bucket holds one second's worth, not more.
    for (int i = 0; i < 5; i++)
        assert_true (gw_ratelimit_allow (rl, "t1", t + 100000));
    assert_false (gw_ratelimit_allow (rl, "t1", t + 100000));
    gw_ratelimit_destroy (&rl);
    assert_null (rl);
}

static void
test_callers_are_independent (void **state)
{
    (void) state;
    gw_ratelimit *rl = gw_ratelimit_new (2);
    assert_true (gw_ratelimit_allow (rl, "a", 1000));
    assert_true (gw_ratelimit_allow (rl, "a", 1000));
    assert_false (gw_ratelimit_allow (rl, "a", 1000));
    assert_true (gw_ratelimit_allow (rl, "b", 1000));
    assert_true (gw_ratelimit_allow (rl, "127.0.0.1", 1000));
    gw_ratelimit_destroy (&rl);
}

static void
test_zero_means_no_limit (void **state)
{
    (void) state;
    gw_ratelimit *rl = gw_ratelimit_new (0);
    for (int i = 0; i < 100000; i++)
        assert_true (gw_ratelimit_allow (rl, "t1", 5));
    gw_ratelimit_destroy (&rl);
}

static void
test_full_table_fails_open_and_counts (void **state)
{
    (void) state;
    gw_ratelimit *rl = gw_ratelimit_new (1);
    char key [32];
    //  Many more active callers than slots: every call is still answered.
    for (int i = 0; i < GW_RATELIMIT_SLOTS * 2; i++) {
        snprintf (key, sizeof key, "k%d", i);
        assert_true (gw_ratelimit_allow (rl, key, 1000));
    }
    assert_true (gw_ratelimit_overflows (rl) > 0);
    //  Idle buckets are reused a minute later: new callers get limits again.
    uint64_t before = gw_ratelimit_overflows (rl);
    assert_true (gw_ratelimit_allow (rl, "late", 1000 + 61000));
    assert_false (gw_ratelimit_allow (rl, "late", 1000 + 61000));
    assert_int_equal (gw_ratelimit_overflows (rl), before);
    gw_ratelimit_destroy (&rl);
}

static void
test_long_keys_are_cut_consistently (void **state)
{
    (void) state;
    gw_ratelimit *rl = gw_ratelimit_new (1);
    char key [200];
    memset (key, 'x', sizeof key - 1);
    key [sizeof key - 1] = 0;
    assert_true (gw_ratelimit_allow (rl, key, 1000));
    assert_false (gw_ratelimit_allow (rl, key, 1000));
    gw_ratelimit_destroy (&rl);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_burst_then_refused_then_refilled),
        cmocka_unit_test (test_callers_are_independent),
        cmocka_unit_test (test_zero_means_no_limit),
        cmocka_unit_test (test_full_table_fails_open_and_counts),
        cmocka_unit_test (test_long_keys_are_cut_consistently),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
