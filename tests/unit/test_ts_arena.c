/*  test_ts_arena - the bump allocator: zeroed, aligned memory; a reset
    keeps the largest chunk within its keep bound (a batch's memory is
    reused, not faulted in again) and never hands out stale bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "ts_arena.h"

#define BIG_BYTES (500u * 1024)

static bool
s_all_zero (const uint8_t *p, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (p [i])
            return false;
    return true;
}

static void
test_aligned_and_zeroed (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    for (size_t size = 1; size < 70000; size = size * 3 + 1) {
        uint8_t *p = ts_arena_alloc (arena, size);
        assert_int_equal ((uintptr_t) p % 16, 0);
        assert_true (s_all_zero (p, size));
        memset (p, 0xff, size);
    }
    ts_arena_destroy (&arena);
    assert_null (arena);
}

//  With a 1 MiB bound the batch's 500 KB chunk survives the reset: the
//  same memory comes back, zeroed again.
static void
test_reset_keeps_a_chunk_within_bound (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    ts_arena_keep (arena, 1024 * 1024);
    for (int round = 0; round < 3; round++) {
        uint8_t *big = ts_arena_alloc (arena, BIG_BYTES);
        assert_true (s_all_zero (big, BIG_BYTES));
        memset (big, 0xab, BIG_BYTES);
        ts_arena_reset (arena);
        assert_int_equal (ts_arena_used (arena), 0);
        uint8_t *again = ts_arena_alloc (arena, BIG_BYTES);
        //  The kept chunk is the big one: a fresh allocation starts it.
        assert_ptr_equal (again, big);
        assert_true (s_all_zero (again, BIG_BYTES));
        ts_arena_reset (arena);
    }
    ts_arena_destroy (&arena);
}

//  A reset after an allocation over the bound keeps a small chunk only;
//  the arena goes on working.
static void
test_reset_drops_chunks_over_bound (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    ts_arena_keep (arena, 64 * 1024);
    uint8_t *big = ts_arena_alloc (arena, 2 * 1024 * 1024);
    memset (big, 0xcd, 2 * 1024 * 1024);
    ts_arena_reset (arena);
    uint8_t *p = ts_arena_alloc (arena, 4096);
    assert_true (s_all_zero (p, 4096));
    assert_int_equal (ts_arena_used (arena), 4096);
    ts_arena_destroy (&arena);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_aligned_and_zeroed),
        cmocka_unit_test (test_reset_keeps_a_chunk_within_bound),
        cmocka_unit_test (test_reset_drops_chunks_over_bound),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
