/*  test_ts_id - kind-prefixed ids: parsing (overflow, leading zeros,
    wrong kind, junk), formatting, and ts_check_id's codes and messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ts_id.h"

static ts_ctx
s_ctx (ts_arena *arena)
{
    ts_ctx ctx;
    memset (&ctx, 0, sizeof ctx);
    ctx.arena = arena;
    return ctx;
}

static void
test_parse_good (void **state)
{
    (void) state;
    uint64_t n = 0;
    assert_true (ts_id_parse ("p1", 'p', &n));
    assert_int_equal (n, 1);
    assert_true (ts_id_parse ("h12", 'h', &n));
    assert_int_equal (n, 12);
    assert_true (ts_id_parse ("m9007199254740993", 'm', &n));
    assert_true (n == 9007199254740993ULL);
    //  The largest id there is: UINT64_MAX, 20 digits.
    assert_true (ts_id_parse ("e18446744073709551615", 'e', &n));
    assert_true (n == UINT64_MAX);
}

static void
test_parse_bad (void **state)
{
    (void) state;
    uint64_t n = 77;
    assert_false (ts_id_parse (NULL, 'p', &n));
    assert_false (ts_id_parse ("", 'p', &n));
    assert_false (ts_id_parse ("p", 'p', &n));
    assert_false (ts_id_parse ("p0", 'p', &n));             //  ids start at 1
    assert_false (ts_id_parse ("p012", 'p', &n));           //  leading zero
    assert_false (ts_id_parse ("h12", 'p', &n));            //  wrong kind
    assert_false (ts_id_parse ("P12", 'p', &n));            //  kinds are case-sensitive
    assert_false (ts_id_parse ("p12x", 'p', &n));
    assert_false (ts_id_parse ("p-1", 'p', &n));
    assert_false (ts_id_parse ("p 1", 'p', &n));
    assert_false (ts_id_parse ("p1 ", 'p', &n));
    assert_false (ts_id_parse ("12", 'p', &n));
    //  Overflow: one past UINT64_MAX, and 21 digits.
    assert_false (ts_id_parse ("e18446744073709551616", 'e', &n));
    assert_false (ts_id_parse ("e99999999999999999999", 'e', &n));
    assert_false (ts_id_parse ("e100000000000000000000", 'e', &n));
    assert_int_equal (n, 77);                               //  untouched on failure
}

static void
test_format_round_trip (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    assert_string_equal (ts_id_text (arena, 'p', 1), "p1");
    assert_string_equal (ts_id_text (arena, 'k', 4021), "k4021");
    char out [TS_ID_TEXT_MAX];
    ts_id_format ('e', UINT64_MAX, out);
    assert_string_equal (out, "e18446744073709551615");
    assert_true (strlen (out) < TS_ID_TEXT_MAX);
    assert_true (TS_ID_TEXT_MAX <= TS_ID_MAX_CHARS);
    const uint64_t samples [] = { 1, 9, 10, 99, 100, 123456789, UINT64_MAX / 3, UINT64_MAX };
    for (size_t i = 0; i < sizeof samples / sizeof samples [0]; i++) {
        uint64_t back = 0;
        assert_true (ts_id_parse (ts_id_text (arena, 'q', samples [i]), 'q', &back));
        assert_true (back == samples [i]);
    }
    ts_arena_destroy (&arena);
}

static void
test_check_id (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    uint64_t n = 0;
    ts_ctx ctx = s_ctx (arena);
    assert_int_equal (ts_check_id (&ctx, "id", "p5", 'p', "person", TS_NOT_FOUND, &n), 0);
    assert_int_equal (n, 5);
    assert_int_equal (ctx.code, 0);

    //  Well-formed text of another kind: the code asked for, the message
    //  naming the field, what was looked for and the text.
    ctx = s_ctx (arena);
    assert_int_equal (ts_check_id (&ctx, "id", "h5", 'p', "person", TS_NOT_FOUND, &n),
                      TS_NOT_FOUND);
    assert_int_equal (ctx.code, TS_NOT_FOUND);
    assert_string_equal (ctx.message, "id: no person h5");
    ctx = s_ctx (arena);
    assert_int_equal (ts_check_id (&ctx, "household_id", "h01", 'h', "household",
                                   TS_UNPROCESSABLE, &n), TS_UNPROCESSABLE);
    assert_string_equal (ctx.message, "household_id: no household h01");

    //  Missing, or longer than any id may be: 400, whatever the code.
    ctx = s_ctx (arena);
    assert_int_equal (ts_check_id (&ctx, "id", "", 'p', "person", TS_NOT_FOUND, &n),
                      TS_BAD_REQUEST);
    char long_id [TS_ID_MAX_CHARS + 2];
    long_id [0] = 'p';
    memset (long_id + 1, '1', TS_ID_MAX_CHARS);
    long_id [TS_ID_MAX_CHARS + 1] = 0;
    ctx = s_ctx (arena);
    assert_int_equal (ts_check_id (&ctx, "id", long_id, 'p', "person", TS_NOT_FOUND, &n),
                      TS_BAD_REQUEST);
    //  At the limit it is a string we accept, but not an id of ours.
    long_id [TS_ID_MAX_CHARS] = 0;
    ctx = s_ctx (arena);
    assert_int_equal (ts_check_id (&ctx, "id", long_id, 'p', "person", TS_NOT_FOUND, &n),
                      TS_NOT_FOUND);
    ts_arena_destroy (&arena);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_parse_good),
        cmocka_unit_test (test_parse_bad),
        cmocka_unit_test (test_format_round_trip),
        cmocka_unit_test (test_check_id),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
