/*  test_ts_store_append - the store's cheap writes: append to an
    append-only table (ts_txn_append, ts_txn_append_msg) and writes through
    a cursor (ts_cursor_put, ts_cursor_del). Each test opens a store in its
    own temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_store.h"
#include "common.pb-c.h"

static const ts_table_def s_tables [] = { { "log", 0 }, { "keys", 0 } };
#define TABLE_COUNT 2
#define SCHEMA 3

typedef struct {
    char dir [64];                  //  temp dir of this test
    ts_store *store;
    ts_table log, keys;
} fx_t;

static void
s_open (fx_t *f)
{
    char err [256] = "";
    f->store = ts_store_new (f->dir, s_tables, TABLE_COUNT, SCHEMA, err, sizeof err);
    if (!f->store)
        fprintf (stderr, "ts_store_new: %s\n", err);
    assert_non_null (f->store);
    f->log = ts_store_table (f->store, "log");
    f->keys = ts_store_table (f->store, "keys");
}

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "append"), 0);
    s_open (f);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    ts_store_destroy (&f->store);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  Count the keys of a table, checking they come in increasing u64 order.
static uint64_t
s_count_ordered (fx_t *f, ts_table table)
{
    ts_txn *txn = ts_txn_begin (f->store, false);
    ts_cursor cur;
    uint64_t n = 0, last = 0;
    bool more = ts_cursor_open (&cur, txn, table) && ts_cursor_seek (&cur, NULL, 0);
    while (more && n < 1000000) {
        assert_int_equal (cur.key.size, 8);
        uint64_t seq = ts_be64_get (cur.key.data);
        assert_true (n == 0 || seq > last);
        last = seq;
        n++;
        more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    assert_int_equal (ts_txn_error (txn), 0);
    ts_txn_abort (&txn);
    return n;
}

//  --------------------------------------------------------------------
static void
test_append_in_order (void **state)
{
    fx_t *f = *state;
    //  Into an empty table, across many pages, over several commits.
    uint64_t seq = 0;
    for (int commit = 0; commit < 5; commit++) {
        ts_txn *txn = ts_txn_begin (f->store, true);
        for (int i = 0; i < 2000; i++) {
            uint8_t k [8];
            char v [32];
            ts_be64_put (k, ++seq);
            int len = snprintf (v, sizeof v, "value %llu", (unsigned long long) seq);
            ts_txn_append (txn, f->log, k, 8, v, (size_t) len);
        }
        assert_int_equal (ts_txn_commit (&txn), 0);
    }
    assert_int_equal (s_count_ordered (f, f->log), 10000);
    ts_txn *txn = ts_txn_begin (f->store, false);
    uint8_t k [8];
    ts_be64_put (k, 4321);
    ts_val v;
    assert_true (ts_txn_get (txn, f->log, k, 8, &v));
    assert_int_equal (v.size, strlen ("value 4321"));
    assert_memory_equal (v.data, "value 4321", v.size);
    ts_txn_abort (&txn);
}

static void
test_append_out_of_order_fails (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    uint8_t k [8];
    ts_be64_put (k, 10);
    ts_txn_append (txn, f->log, k, 8, "ten", 3);
    assert_int_equal (ts_txn_error (txn), 0);
    assert_int_equal (ts_txn_commit (&txn), 0);

    //  A key equal to the last one: sticky error, nothing written.
    txn = ts_txn_begin (f->store, true);
    ts_txn_append (txn, f->log, k, 8, "again", 5);
    assert_int_equal (ts_txn_error (txn), MDB_KEYEXIST);
    //  Later calls do nothing; commit becomes abort.
    ts_be64_put (k, 11);
    ts_txn_append (txn, f->log, k, 8, "eleven", 6);
    assert_int_equal (ts_txn_commit (&txn), MDB_KEYEXIST);

    //  A smaller key: the same.
    txn = ts_txn_begin (f->store, true);
    ts_be64_put (k, 9);
    ts_txn_append (txn, f->log, k, 8, "nine", 4);
    assert_int_equal (ts_txn_error (txn), MDB_KEYEXIST);
    ts_txn_abort (&txn);

    assert_int_equal (s_count_ordered (f, f->log), 1);
    txn = ts_txn_begin (f->store, false);
    ts_be64_put (k, 10);
    ts_val v;
    assert_true (ts_txn_get (txn, f->log, k, 8, &v));
    assert_memory_equal (v.data, "ten", 3);
    ts_txn_abort (&txn);
}

static void
test_append_msg_and_nested (void **state)
{
    fx_t *f = *state;
    ts_arena *arena = ts_arena_new ();
    ts_txn *txn = ts_txn_begin (f->store, true);
    //  A child's appends vanish with it; the parent appends after them.
    ts_txn *child = ts_txn_begin_nested (txn);
    uint8_t k [8];
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = "ops";
    caller.binding = "";
    caller.principal = "first";
    ts_be64_put (k, 1);
    ts_txn_append_msg (child, f->log, k, 8, &caller.base);
    ts_txn_abort (&child);
    child = ts_txn_begin_nested (txn);
    caller.principal = "second";
    ts_txn_append_msg (child, f->log, k, 8, &caller.base);
    ts_be64_put (k, 2);
    caller.principal = "third";
    ts_txn_append_msg (child, f->log, k, 8, &caller.base);
    assert_int_equal (ts_txn_commit (&child), 0);
    ts_be64_put (k, 3);
    caller.principal = "fourth";
    ts_txn_append_msg (txn, f->log, k, 8, &caller.base);
    assert_int_equal (ts_txn_commit (&txn), 0);

    txn = ts_txn_begin (f->store, false);
    const char *want [] = { "second", "third", "fourth" };
    for (uint64_t seq = 1; seq <= 3; seq++) {
        ts_be64_put (k, seq);
        Tashan__Caller *got = ts_txn_get_msg (txn, f->log, k, 8, &tashan__caller__descriptor,
                                              arena);
        assert_non_null (got);
        assert_string_equal (got->principal, want [seq - 1]);
        assert_string_equal (got->role, "ops");
    }
    ts_txn_abort (&txn);
    //  Out of order: sticky error, as for plain appends.
    txn = ts_txn_begin (f->store, true);
    ts_be64_put (k, 2);
    ts_txn_append_msg (txn, f->log, k, 8, &caller.base);
    assert_int_equal (ts_txn_error (txn), MDB_KEYEXIST);
    ts_txn_abort (&txn);
    ts_arena_destroy (&arena);
}

//  --------------------------------------------------------------------
static void
test_sticky_error_blocks (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_txn_fail (txn, TS_STORE_CORRUPT);
    uint8_t k [8];
    ts_be64_put (k, 1);
    ts_txn_append (txn, f->log, k, 8, "x", 1);
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    ts_txn_append_msg (txn, f->log, k, 8, &caller.base);
    assert_int_equal (ts_txn_commit (&txn), TS_STORE_CORRUPT);
    assert_int_equal (s_count_ordered (f, f->log), 0);
    txn = ts_txn_begin (f->store, false);
    assert_false (ts_txn_get (txn, f->keys, "k1", 2, NULL));
    ts_txn_abort (&txn);
}

//  --------------------------------------------------------------------
static void
test_cursor_put_del (void **state)
{
    fx_t *f = *state;
    //  Even keys 0..1998 written in order through one cursor, over pages.
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->log));
    for (uint64_t i = 0; i < 2000; i += 2) {
        uint8_t k [8];
        ts_be64_put (k, i);
        ts_cursor_put (&cur, k, 8, "even", 4);
        assert_null (cur.key.data);
    }
    ts_cursor_close (&cur);
    assert_int_equal (ts_txn_commit (&txn), 0);
    assert_int_equal (s_count_ordered (f, f->log), 1000);

    //  Odd keys in between, overwrites of some even ones (another size),
    //  and deletes of every fourth even key after a seek, all in key
    //  order through one cursor, inside a child that commits.
    txn = ts_txn_begin (f->store, true);
    ts_txn *child = ts_txn_begin_nested (txn);
    assert_true (ts_cursor_open (&cur, child, f->log));
    for (uint64_t i = 0; i < 2000; i++) {
        uint8_t k [8];
        ts_be64_put (k, i);
        if (i % 2)
            ts_cursor_put (&cur, k, 8, "odd", 3);
        else
        if (i % 8 == 0) {
            assert_true (ts_cursor_seek (&cur, k, 8));
            assert_memory_equal (cur.key.data, k, 8);
            ts_cursor_del (&cur);
            assert_null (cur.key.data);
        }
        else
        if (i % 8 == 2)
            ts_cursor_put (&cur, k, 8, "even, again", 11);
    }
    ts_cursor_close (&cur);
    assert_int_equal (ts_txn_commit (&child), 0);
    //  A child that is dropped changes nothing.
    child = ts_txn_begin_nested (txn);
    assert_true (ts_cursor_open (&cur, child, f->log));
    assert_true (ts_cursor_seek (&cur, NULL, 0));
    ts_cursor_del (&cur);
    uint8_t big [8];
    ts_be64_put (big, 1u << 30);
    ts_cursor_put (&cur, big, 8, "gone", 4);
    ts_cursor_close (&cur);
    ts_txn_abort (&child);
    assert_int_equal (ts_txn_commit (&txn), 0);

    assert_int_equal (s_count_ordered (f, f->log), 2000 - 250);
    txn = ts_txn_begin (f->store, false);
    for (uint64_t i = 0; i < 2000; i++) {
        uint8_t k [8];
        ts_be64_put (k, i);
        ts_val v;
        bool found = ts_txn_get (txn, f->log, k, 8, &v);
        if (i % 8 == 0) {
            assert_false (found);
            continue;
        }
        assert_true (found);
        const char *want = i % 2 ? "odd" : i % 8 == 2 ? "even, again" : "even";
        assert_int_equal (v.size, strlen (want));
        assert_memory_equal (v.data, want, v.size);
    }
    assert_false (ts_txn_get (txn, f->log, big, 8, NULL));
    ts_txn_abort (&txn);
}

static void
test_cursor_writes_sticky (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->keys));
    ts_cursor_put (&cur, "a", 1, "1", 1);
    assert_true (ts_cursor_seek (&cur, "a", 1));
    ts_txn_fail (txn, TS_STORE_CORRUPT);
    //  Nothing happens once the transaction has failed.
    ts_cursor_del (&cur);
    ts_cursor_put (&cur, "b", 1, "2", 1);
    ts_cursor_del (&cur);
    ts_cursor_close (&cur);
    assert_int_equal (ts_txn_commit (&txn), TS_STORE_CORRUPT);
    txn = ts_txn_begin (f->store, false);
    assert_false (ts_txn_get (txn, f->keys, "a", 1, NULL));
    assert_false (ts_txn_get (txn, f->keys, "b", 1, NULL));
    ts_txn_abort (&txn);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_append_in_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_append_out_of_order_fails, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_append_msg_and_nested, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sticky_error_blocks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cursor_put_del, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cursor_writes_sticky, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
