/*  test_ts_time - the community's clock (Asia/Shanghai, UTC+8): months
    turning at local midnight, weeks from Monday, days, RFC 3339 text and
    parsing (Z, offsets, fractions, bad inputs), and the round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ts_time.h"

//  2026-12-31T16:00:00Z = 2027-01-01T00:00:00+08:00 (a local midnight).
#define NEW_YEAR_2027_MS 1798732800000LL
//  2026-12-07T00:00:00+08:00, a Monday.
#define MONDAY_MS 1796572800000LL

static void
test_month_boundary_at_local_midnight (void **state)
{
    (void) state;
    char month [8];
    ts_month_of (NEW_YEAR_2027_MS, month);
    assert_string_equal (month, "2027-01");
    ts_month_of (NEW_YEAR_2027_MS - 1, month);                //  23:59:59.999 local
    assert_string_equal (month, "2026-12");
    //  In UTC it is still December for 8 hours: the local month counts.
    ts_month_of (NEW_YEAR_2027_MS + 7 * TS_HOUR_MS, month);
    assert_string_equal (month, "2027-01");
    assert_int_equal (ts_month_index_of (NEW_YEAR_2027_MS), 2027 * 12);
    assert_int_equal (ts_month_index_of (NEW_YEAR_2027_MS - 1), 2026 * 12 + 11);
    assert_true (ts_month_start_ms (2027 * 12) == NEW_YEAR_2027_MS);
    //  Every month start is the first instant of its month.
    for (int m = 2000 * 12; m < 2100 * 12; m += 7) {
        int64_t start = ts_month_start_ms (m);
        assert_int_equal (ts_month_index_of (start), m);
        assert_int_equal (ts_month_index_of (start - 1), m - 1);
    }
}

static void
test_month_text_and_index (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    assert_int_equal (ts_month_index ("2026-03"), 2026 * 12 + 2);
    assert_string_equal (ts_month_text (arena, 2026 * 12 + 2), "2026-03");
    assert_string_equal (ts_month_text (arena, 2000 * 12), "2000-01");
    assert_int_equal (ts_month_index ("2026-13"), -1);
    assert_int_equal (ts_month_index ("2026-00"), -1);
    assert_int_equal (ts_month_index ("1999-12"), -1);
    assert_int_equal (ts_month_index ("2101-01"), -1);
    assert_int_equal (ts_month_index ("2026-3"), -1);
    assert_int_equal (ts_month_index ("2026/03"), -1);
    assert_int_equal (ts_month_index ("2026-03-01"), -1);
    assert_int_equal (ts_month_index (NULL), -1);
    ts_arena_destroy (&arena);
}

static void
test_week_of (void **state)
{
    (void) state;
    //  Monday 00:00 local starts a week; Sunday 23:59:59.999 is the one before.
    assert_int_equal (ts_week_of (MONDAY_MS), ts_week_of (MONDAY_MS + 6 * TS_DAY_MS + TS_DAY_MS - 1));
    assert_int_equal (ts_week_of (MONDAY_MS - 1) + 1, ts_week_of (MONDAY_MS));
    assert_int_equal (ts_week_of (MONDAY_MS + 7 * TS_DAY_MS), ts_week_of (MONDAY_MS) + 1);
    //  Sunday 20:00Z is already Monday in Shanghai: same week as Monday noon.
    int64_t sunday_utc_evening = MONDAY_MS + 4 * TS_HOUR_MS;
    assert_int_equal (ts_week_of (sunday_utc_evening), ts_week_of (MONDAY_MS + 12 * TS_HOUR_MS));
    //  Week 1 starts on Monday 1970-01-05 local; before it, week 0.
    int64_t first_monday = 4 * TS_DAY_MS - 8 * TS_HOUR_MS;
    assert_int_equal (ts_week_of (first_monday), 1);
    assert_int_equal (ts_week_of (first_monday - 1), 0);
    assert_int_equal (ts_week_of (0), 0);
    //  Days: local midnight starts one.
    assert_int_equal (ts_day_of (MONDAY_MS) - ts_day_of (MONDAY_MS - 1), 1);
    assert_int_equal (ts_day_of (-8 * TS_HOUR_MS), 0);
    assert_int_equal (ts_day_of (-8 * TS_HOUR_MS - 1), -1);
}

static void
test_time_text (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    assert_string_equal (ts_time_text (arena, NEW_YEAR_2027_MS), "2027-01-01T00:00:00.000+08:00");
    assert_string_equal (ts_time_text (arena, NEW_YEAR_2027_MS - 1),
                         "2026-12-31T23:59:59.999+08:00");
    assert_string_equal (ts_time_text (arena, 0), "1970-01-01T08:00:00.000+08:00");
    char out [TS_TIME_TEXT_MAX];
    ts_time_format (1796997131123LL, out, sizeof out);
    assert_string_equal (out, "2026-12-11T21:52:11.123+08:00");
    ts_arena_destroy (&arena);
}

static void
test_time_parse_forms (void **state)
{
    (void) state;
    int64_t ms = 0;
    assert_true (ts_time_parse ("2026-12-31T16:00:00Z", &ms));
    assert_true (ms == NEW_YEAR_2027_MS);
    assert_true (ts_time_parse ("2026-12-31t16:00:00z", &ms));      //  lower case
    assert_true (ms == NEW_YEAR_2027_MS);
    assert_true (ts_time_parse ("2026-12-31 16:00:00Z", &ms));      //  space for T
    assert_true (ms == NEW_YEAR_2027_MS);
    assert_true (ts_time_parse ("2027-01-01T00:00:00+08:00", &ms));
    assert_true (ms == NEW_YEAR_2027_MS);
    assert_true (ts_time_parse ("2026-12-31T16:00:00+00:00", &ms));
    assert_true (ms == NEW_YEAR_2027_MS);
    assert_true (ts_time_parse ("2026-12-31T10:30:00-05:30", &ms));
    assert_true (ms == NEW_YEAR_2027_MS);
    //  Fractions: 1 to 9 digits, milliseconds kept.
    assert_true (ts_time_parse ("2026-12-31T16:00:00.5Z", &ms));
    assert_true (ms == NEW_YEAR_2027_MS + 500);
    assert_true (ts_time_parse ("2026-12-31T16:00:00.123Z", &ms));
    assert_true (ms == NEW_YEAR_2027_MS + 123);
    assert_true (ts_time_parse ("2026-12-31T16:00:00.123999999Z", &ms));
    assert_true (ms == NEW_YEAR_2027_MS + 123);
    assert_true (ts_time_parse ("2027-01-01T00:00:00.001+08:00", &ms));
    assert_true (ms == NEW_YEAR_2027_MS + 1);
}

static void
test_time_parse_bad (void **state)
{
    (void) state;
    const char *bad [] = {
        NULL, "", "2026-12-31", "2026-12-31T16:00:00",              //  no offset
        "2026-12-31T16:00Z", "2026-12-31T16:00:00.Z",               //  empty fraction
        "2026-12-31T16:00:00.1234567891Z",                          //  10 digits
        "2026-12-31T24:00:00Z", "2026-12-31T23:60:00Z",
        "2026-12-31T23:59:60Z",                                     //  leap second
        "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",             //  not a leap year
        "2026-04-31T00:00:00Z", "2026-12-31T16:00:00+0800",
        "2026-12-31T16:00:00+08", "2026-12-31T16:00:00+24:00",
        "2026-12-31T16:00:00+08:60", "2026-12-31X16:00:00Z",
        "2026-12-31T16:00:00Zjunk", "1969-12-31T23:59:59Z",         //  before the epoch
        "1970-01-01T07:59:59+08:00", "2101-01-01T00:00:00Z",
        "２０２６-12-31T16:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        int64_t ms = 42;
        assert_false (ts_time_parse (bad [i], &ms));
        assert_true (ms == 42);
    }
    int64_t ms;
    assert_true (ts_time_parse ("1970-01-01T00:00:00Z", &ms));
    assert_true (ms == 0);
    assert_true (ts_time_parse ("2024-02-29T12:00:00Z", &ms));     //  a leap day
}

static void
test_time_round_trip (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    const int64_t samples [] = { 0, 1, 999, NEW_YEAR_2027_MS - 1, NEW_YEAR_2027_MS,
                                 MONDAY_MS + 12345, 4102444799999LL /* 2099-12-31T23:59:59.999Z */ };
    for (size_t i = 0; i < sizeof samples / sizeof samples [0]; i++) {
        const char *text = ts_time_text (arena, samples [i]);
        int64_t back = -1;
        assert_true (ts_time_parse (text, &back));
        assert_true (back == samples [i]);
    }
    ts_arena_destroy (&arena);
}

static void
test_day_parse (void **state)
{
    (void) state;
    int64_t ms = 0;
    assert_true (ts_day_parse ("2027-01-01", &ms));
    assert_true (ms == NEW_YEAR_2027_MS);                           //  local midnight
    assert_true (ts_day_parse ("2024-02-29", &ms));                 //  leap day
    assert_true (ts_day_parse ("2000-02-29", &ms));                 //  divisible by 400
    assert_true (ts_day_parse ("2024-03-01", &ms));
    int64_t march = ms;
    assert_true (ts_day_parse ("2024-02-29", &ms));
    assert_true (march - ms == TS_DAY_MS);
    const char *bad [] = {
        NULL, "", "2026-02-29", "2100-02-29",                       //  not leap years
        "2026-04-31", "2026-00-10", "2026-13-01", "2026-01-00", "2026-01-32",
        "1999-12-31", "2101-01-01", "2026-1-01", "2026-01-1", "20260101",
        "2026-01-01T00:00:00Z", "2026-01-01 ", "abcd-ef-gh",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ms = 42;
        assert_false (ts_day_parse (bad [i], &ms));
        assert_true (ms == 42);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_month_boundary_at_local_midnight),
        cmocka_unit_test (test_month_text_and_index),
        cmocka_unit_test (test_week_of),
        cmocka_unit_test (test_time_text),
        cmocka_unit_test (test_time_parse_forms),
        cmocka_unit_test (test_time_parse_bad),
        cmocka_unit_test (test_time_round_trip),
        cmocka_unit_test (test_day_parse),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
