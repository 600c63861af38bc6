/*  test_ts_store - the LMDB wrapper: tables, sticky-error transactions,
    protobuf values, counters, sequences, cursors, keys, schema check and
    map growth. Each test opens a store in its own temp dir. */
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

static const ts_table_def s_tables [] = { { "a", 0 }, { "b", 0 } };
#define TABLE_COUNT 2
#define SCHEMA 7

typedef struct {
    bool finished;                  //  the test ran to its end
    char dir [64];                  //  temp dir of this test
    ts_store *store;
    ts_table a, b;
} fx_t;

static void
s_open (fx_t *f)
{
    char err [256] = "";
    f->store = ts_store_new (f->dir, s_tables, TABLE_COUNT, SCHEMA, err, sizeof err);
    if (!f->store)
        fprintf (stderr, "ts_store_new: %s\n", err);
    assert_non_null (f->store);
    f->a = ts_store_table (f->store, "a");
    f->b = ts_store_table (f->store, "b");
}

static void
s_reopen (fx_t *f)
{
    ts_store_destroy (&f->store);
    assert_null (f->store);
    s_open (f);
}

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "store"), 0);
    s_open (f);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    //  A failed assertion may have left a transaction open: then the
    //  store is left alone (closing it would assert and end the run).
    if (f->finished)
        ts_store_destroy (&f->store);
    ts_store_set_initial_map_size ((size_t) 64 * 1024 * 1024);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  Helpers: write or read one string value in its own transaction.
static void
s_put_str (fx_t *f, ts_table t, const char *key, const char *value)
{
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_txn_put (txn, t, key, strlen (key), value, strlen (value));
    assert_int_equal (ts_txn_commit (&txn), 0);
    assert_null (txn);
}

//  Returns true and copies the value (NUL-terminated) when present.
static bool
s_get_str (fx_t *f, ts_table t, const char *key, char *out, size_t out_size)
{
    ts_txn *txn = ts_txn_begin (f->store, false);
    ts_val v;
    bool found = ts_txn_get (txn, t, key, strlen (key), &v);
    if (found) {
        assert_true (v.size < out_size);
        memcpy (out, v.data, v.size);
        out [v.size] = 0;
    }
    assert_int_equal (ts_txn_error (txn), 0);
    ts_txn_abort (&txn);
    return found;
}

static bool
s_has (fx_t *f, ts_table t, const char *key)
{
    char buf [256];
    return s_get_str (f, t, key, buf, sizeof buf);
}

//  --------------------------------------------------------------------
//  Open and tables

static void
test_open_makes_files_and_tables (void **state)
{
    fx_t *f = *state;
    char path [128];
    snprintf (path, sizeof path, "%s/data.mdb", f->dir);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_not_equal (f->a, f->b);
    assert_non_null (ts_store_env (f->store));
    assert_int_equal (ts_store_map_size (f->store), (size_t) 64 * 1024 * 1024);
}

static void
test_tables_are_separate (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "in a");
    char buf [64];
    assert_true (s_get_str (f, f->a, "k", buf, sizeof buf));
    assert_string_equal (buf, "in a");
    assert_false (s_has (f, f->b, "k"));
}

static void
test_open_creates_missing_dirs (void **state)
{
    fx_t *f = *state;
    char dir [128], err [256] = "";
    snprintf (dir, sizeof dir, "%s/x/y/z", f->dir);
    ts_store *other = ts_store_new (dir, s_tables, TABLE_COUNT, SCHEMA, err, sizeof err);
    assert_non_null (other);
    struct stat st;
    assert_int_equal (stat (dir, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0700);
    ts_store_destroy (&other);
    ts_store_destroy (&other);      //  safe twice
}

//  --------------------------------------------------------------------
//  put / get / insert / del

static void
test_put_get_same_txn_and_after_commit (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    assert_true (ts_txn_writable (txn));
    ts_txn_put (txn, f->a, "key", 3, "value", 5);
    ts_val v;
    assert_true (ts_txn_get (txn, f->a, "key", 3, &v));
    assert_int_equal (v.size, 5);
    assert_memory_equal (v.data, "value", 5);
    assert_int_equal (ts_txn_commit (&txn), 0);

    char buf [64];
    assert_true (s_get_str (f, f->a, "key", buf, sizeof buf));
    assert_string_equal (buf, "value");
}

static void
test_put_overwrites (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "first");
    s_put_str (f, f->a, "k", "second");
    char buf [64];
    assert_true (s_get_str (f, f->a, "k", buf, sizeof buf));
    assert_string_equal (buf, "second");
}

static void
test_get_absent_is_false_without_error (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, false);
    assert_false (ts_txn_writable (txn));
    ts_val v = { (void *) 1, 99 };
    assert_false (ts_txn_get (txn, f->a, "nope", 4, &v));
    assert_int_equal (ts_txn_error (txn), 0);
    ts_txn_abort (&txn);
    assert_null (txn);
    ts_txn_abort (&txn);            //  NULL is fine
}

static void
test_aborted_write_leaves_nothing (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_txn_put (txn, f->a, "k", 1, "v", 1);
    ts_txn_abort (&txn);
    assert_false (s_has (f, f->a, "k"));
}

static void
test_insert_only_if_absent (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    assert_true (ts_txn_insert (txn, f->a, "k", 1, "one", 3));
    assert_false (ts_txn_insert (txn, f->a, "k", 1, "two", 3));
    assert_int_equal (ts_txn_error (txn), 0);   //  no sticky error
    assert_int_equal (ts_txn_commit (&txn), 0);
    char buf [16];
    assert_true (s_get_str (f, f->a, "k", buf, sizeof buf));
    assert_string_equal (buf, "one");
}

static void
test_del_reports_whether_deleted (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "v");
    ts_txn *txn = ts_txn_begin (f->store, true);
    assert_true (ts_txn_del (txn, f->a, "k", 1));
    assert_false (ts_txn_del (txn, f->a, "k", 1));
    assert_false (ts_txn_del (txn, f->a, "never", 5));
    assert_int_equal (ts_txn_error (txn), 0);
    assert_int_equal (ts_txn_commit (&txn), 0);
    assert_false (s_has (f, f->a, "k"));
}

//  --------------------------------------------------------------------
//  Protobuf values

static void
test_put_msg_get_msg_roundtrip (void **state)
{
    fx_t *f = *state;
    Tashan__Event ev = TASHAN__EVENT__INIT;
    ev.seq = 42;
    ev.topic = "person.created";
    ev.created_ms = -5;
    uint8_t payload [] = { 0, 1, 2, 0xff };
    ev.payload.data = payload;
    ev.payload.len = sizeof payload;
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_txn_put_msg (txn, f->a, "e", 1, &ev.base);
    assert_int_equal (ts_txn_commit (&txn), 0);

    ts_arena *arena = ts_arena_new ();
    txn = ts_txn_begin (f->store, false);
    Tashan__Event *got = ts_txn_get_msg (txn, f->a, "e", 1, &tashan__event__descriptor, arena);
    assert_non_null (got);
    assert_int_equal (got->seq, 42);
    assert_string_equal (got->topic, "person.created");
    assert_int_equal (got->created_ms, -5);
    assert_int_equal (got->payload.len, sizeof payload);
    assert_memory_equal (got->payload.data, payload, sizeof payload);
    //  Absent: NULL without an error.
    assert_null (ts_txn_get_msg (txn, f->a, "x", 1, &tashan__event__descriptor, arena));
    assert_int_equal (ts_txn_error (txn), 0);
    ts_txn_abort (&txn);
    //  The message lives in the arena, not the map: still readable.
    assert_string_equal (got->topic, "person.created");
    ts_arena_destroy (&arena);
}

static void
test_corrupt_value_sets_sticky_corrupt (void **state)
{
    fx_t *f = *state;
    //  Field 1 as length-delimited with 5 bytes announced, 2 present.
    s_put_str (f, f->a, "bad", "\x0a\x05" "ab");
    s_put_str (f, f->a, "good", "fine");
    ts_arena *arena = ts_arena_new ();
    ts_txn *txn = ts_txn_begin (f->store, false);
    assert_null (ts_txn_get_msg (txn, f->a, "bad", 3, &tashan__event__descriptor, arena));
    assert_int_equal (ts_txn_error (txn), TS_STORE_CORRUPT);
    //  Sticky: a key that exists now reads as absent.
    ts_val v;
    assert_false (ts_txn_get (txn, f->a, "good", 4, &v));
    assert_int_equal (ts_txn_error (txn), TS_STORE_CORRUPT);
    ts_txn_abort (&txn);
    ts_arena_destroy (&arena);
}

static void
test_corrupt_counter_sets_sticky_corrupt (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "n", "abc");    //  3 bytes, not 8
    ts_txn *txn = ts_txn_begin (f->store, false);
    assert_int_equal (ts_txn_get_u64 (txn, f->a, "n", 1, 77), 77);
    assert_int_equal (ts_txn_error (txn), TS_STORE_CORRUPT);
    ts_txn_abort (&txn);
}

//  --------------------------------------------------------------------
//  Sticky errors

static void
test_sticky_error_stops_later_ops_and_commit (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "old", "kept");
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_txn_put (txn, f->a, "before", 6, "x", 1);
    //  A key longer than LMDB's 511-byte limit fails the put.
    char long_key [600];
    memset (long_key, 'k', sizeof long_key);
    ts_txn_put (txn, f->a, long_key, sizeof long_key, "x", 1);
    int err = ts_txn_error (txn);
    assert_int_not_equal (err, 0);
    //  Later operations do nothing and report nothing.
    ts_val v;
    assert_false (ts_txn_get (txn, f->a, "before", 6, &v));
    assert_false (ts_txn_get (txn, f->a, "old", 3, &v));
    assert_false (ts_txn_insert (txn, f->a, "ins", 3, "x", 1));
    assert_false (ts_txn_del (txn, f->a, "old", 3));
    ts_txn_put (txn, f->a, "after", 5, "x", 1);
    assert_int_equal (ts_txn_error (txn), err);     //  the first error stays
    assert_int_equal (ts_txn_commit (&txn), err);
    assert_null (txn);
    //  Nothing of it was written; what was there before is intact.
    assert_false (s_has (f, f->a, "before"));
    assert_false (s_has (f, f->a, "after"));
    assert_false (s_has (f, f->a, "ins"));
    assert_true (s_has (f, f->a, "old"));
    //  The store still works.
    s_put_str (f, f->a, "next", "ok");
    assert_true (s_has (f, f->a, "next"));
}

static void
test_fail_by_hand_keeps_first_error (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_txn_put (txn, f->a, "k", 1, "v", 1);
    ts_txn_fail (txn, TS_STORE_CORRUPT);
    ts_txn_fail (txn, MDB_PANIC);
    assert_int_equal (ts_txn_error (txn), TS_STORE_CORRUPT);
    assert_int_equal (ts_txn_commit (&txn), TS_STORE_CORRUPT);
    assert_false (s_has (f, f->a, "k"));
}

//  --------------------------------------------------------------------
//  Nested transactions

static void
test_nested_abort_discards_only_child (void **state)
{
    fx_t *f = *state;
    ts_txn *parent = ts_txn_begin (f->store, true);
    ts_txn_put (parent, f->a, "p1", 2, "x", 1);
    ts_txn *child = ts_txn_begin_nested (parent);
    assert_true (ts_txn_writable (child));
    ts_val v;
    assert_true (ts_txn_get (child, f->a, "p1", 2, &v));   //  sees the parent
    ts_txn_put (child, f->a, "c1", 2, "x", 1);
    ts_txn_del (child, f->a, "p1", 2);
    ts_txn_abort (&child);
    assert_null (child);
    assert_false (ts_txn_get (parent, f->a, "c1", 2, &v));
    assert_true (ts_txn_get (parent, f->a, "p1", 2, &v));
    ts_txn_put (parent, f->a, "p2", 2, "x", 1);
    assert_int_equal (ts_txn_commit (&parent), 0);
    assert_true (s_has (f, f->a, "p1"));
    assert_true (s_has (f, f->a, "p2"));
    assert_false (s_has (f, f->a, "c1"));
}

static void
test_nested_commit_joins_parent (void **state)
{
    fx_t *f = *state;
    ts_txn *parent = ts_txn_begin (f->store, true);
    ts_txn *child = ts_txn_begin_nested (parent);
    ts_txn_put (child, f->a, "c", 1, "x", 1);
    assert_int_equal (ts_txn_commit (&child), 0);
    ts_val v;
    assert_true (ts_txn_get (parent, f->a, "c", 1, &v));
    //  ...but only becomes durable with the parent.
    ts_txn_abort (&parent);
    assert_false (s_has (f, f->a, "c"));
}

static void
test_nested_error_does_not_poison_parent (void **state)
{
    fx_t *f = *state;
    ts_txn *parent = ts_txn_begin (f->store, true);
    ts_txn_put (parent, f->a, "p", 1, "x", 1);
    ts_txn *child = ts_txn_begin_nested (parent);
    ts_txn_put (child, f->a, "c", 1, "x", 1);
    char long_key [600];
    memset (long_key, 'k', sizeof long_key);
    ts_txn_put (child, f->a, long_key, sizeof long_key, "x", 1);
    int err = ts_txn_error (child);
    assert_int_not_equal (err, 0);
    assert_int_equal (ts_txn_commit (&child), err);
    assert_int_equal (ts_txn_error (parent), 0);
    assert_int_equal (ts_txn_commit (&parent), 0);
    assert_true (s_has (f, f->a, "p"));
    assert_false (s_has (f, f->a, "c"));
}

static void
test_nested_of_failed_parent_is_failed (void **state)
{
    fx_t *f = *state;
    ts_txn *parent = ts_txn_begin (f->store, true);
    ts_txn_fail (parent, TS_STORE_CORRUPT);
    ts_txn *child = ts_txn_begin_nested (parent);
    assert_int_equal (ts_txn_error (child), TS_STORE_CORRUPT);
    ts_txn_put (child, f->a, "c", 1, "x", 1);
    ts_txn_abort (&child);
    assert_int_equal (ts_txn_commit (&parent), TS_STORE_CORRUPT);
    assert_false (s_has (f, f->a, "c"));
}

//  --------------------------------------------------------------------
//  Read transactions

static void
test_read_txn_reuse_many (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "v");
    for (int i = 0; i < 2000; i++) {
        ts_txn *txn = ts_txn_begin (f->store, false);
        assert_int_equal (ts_txn_error (txn), 0);
        ts_val v;
        assert_true (ts_txn_get (txn, f->a, "k", 1, &v));
        ts_txn_abort (&txn);
    }
    //  Commit of a read txn is fine too.
    ts_txn *txn = ts_txn_begin (f->store, false);
    assert_int_equal (ts_txn_commit (&txn), 0);
}

static void
test_reused_read_sees_later_commits (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "old");
    char buf [16];
    assert_true (s_get_str (f, f->a, "k", buf, sizeof buf));
    assert_string_equal (buf, "old");
    s_put_str (f, f->a, "k", "new");
    //  The reused handle is renewed: a fresh snapshot, not the old one.
    assert_true (s_get_str (f, f->a, "k", buf, sizeof buf));
    assert_string_equal (buf, "new");
}

static void
test_two_reads_at_once (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "v1");
    ts_txn *r1 = ts_txn_begin (f->store, false);
    ts_txn *r2 = ts_txn_begin (f->store, false);
    assert_int_equal (ts_txn_error (r1), 0);
    assert_int_equal (ts_txn_error (r2), 0);
    assert_ptr_not_equal (ts_txn_mdb (r1), ts_txn_mdb (r2));
    ts_val v1, v2;
    assert_true (ts_txn_get (r1, f->a, "k", 1, &v1));
    assert_true (ts_txn_get (r2, f->a, "k", 1, &v2));
    assert_memory_equal (v1.data, "v1", 2);
    assert_memory_equal (v2.data, "v1", 2);
    //  Snapshots: a write committed meanwhile is not seen by r1.
    s_put_str (f, f->a, "k", "v2");
    assert_true (ts_txn_get (r1, f->a, "k", 1, &v1));
    assert_memory_equal (v1.data, "v1", 2);
    //  Close in the other order than opened, then read again.
    ts_txn_abort (&r1);
    ts_txn_abort (&r2);
    char buf [16];
    assert_true (s_get_str (f, f->a, "k", buf, sizeof buf));
    assert_string_equal (buf, "v2");
    ts_txn *r3 = ts_txn_begin (f->store, false);
    ts_txn *r4 = ts_txn_begin (f->store, false);
    ts_txn_abort (&r3);
    ts_txn_abort (&r4);
}

//  --------------------------------------------------------------------
//  Sequences and counters

static void
test_next_id_sequence_persists_across_reopen (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    assert_int_equal (ts_txn_next_id (txn, "person"), 1);
    assert_int_equal (ts_txn_next_id (txn, "person"), 2);
    assert_int_equal (ts_txn_next_id (txn, "household"), 1);
    assert_int_equal (ts_txn_next_id (txn, "person"), 3);
    assert_int_equal (ts_txn_commit (&txn), 0);
    s_reopen (f);
    txn = ts_txn_begin (f->store, true);
    assert_int_equal (ts_txn_next_id (txn, "person"), 4);
    assert_int_equal (ts_txn_next_id (txn, "household"), 2);
    assert_int_equal (ts_txn_commit (&txn), 0);
}

static void
test_next_id_of_aborted_txn_is_reused (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    assert_int_equal (ts_txn_next_id (txn, "s"), 1);
    ts_txn_abort (&txn);
    txn = ts_txn_begin (f->store, true);
    assert_int_equal (ts_txn_next_id (txn, "s"), 1);
    assert_int_equal (ts_txn_commit (&txn), 0);
}

static void
test_next_id_does_not_touch_user_tables (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_txn_next_id (txn, "x");
    assert_int_equal (ts_txn_commit (&txn), 0);
    txn = ts_txn_begin (f->store, false);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->a));
    assert_false (ts_cursor_seek (&cur, NULL, 0));
    ts_cursor_close (&cur);
    ts_txn_abort (&txn);
}

static void
test_u64_counters_big_endian_with_fallback (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    assert_int_equal (ts_txn_get_u64 (txn, f->a, "n", 1, 99), 99);
    ts_txn_put_u64 (txn, f->a, "n", 1, 0x0102030405060708ULL);
    assert_int_equal (ts_txn_get_u64 (txn, f->a, "n", 1, 99), 0x0102030405060708ULL);
    ts_val v;
    assert_true (ts_txn_get (txn, f->a, "n", 1, &v));
    assert_int_equal (v.size, 8);
    static const uint8_t be [8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_memory_equal (v.data, be, 8);
    ts_txn_put_u64 (txn, f->a, "max", 3, UINT64_MAX);
    assert_int_equal (ts_txn_commit (&txn), 0);
    txn = ts_txn_begin (f->store, false);
    assert_true (ts_txn_get_u64 (txn, f->a, "max", 3, 0) == UINT64_MAX);
    ts_txn_abort (&txn);
}

static void
test_add_i64_counts_up_and_down (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, true);
    assert_int_equal (ts_txn_add_i64 (txn, f->a, "c", 1, 5), 5);       //  from 0
    assert_int_equal (ts_txn_add_i64 (txn, f->a, "c", 1, -8), -3);
    assert_int_equal (ts_txn_commit (&txn), 0);
    txn = ts_txn_begin (f->store, true);
    assert_int_equal ((int64_t) ts_txn_get_u64 (txn, f->a, "c", 1, 0), -3);
    assert_int_equal (ts_txn_add_i64 (txn, f->a, "c", 1, 10), 7);
    assert_int_equal (ts_txn_add_i64 (txn, f->a, "c", 1, 0), 7);
    assert_int_equal (ts_txn_commit (&txn), 0);
}

//  --------------------------------------------------------------------
//  Cursors

static void
s_put_u64_keys (fx_t *f, const uint64_t *keys, size_t n)
{
    ts_txn *txn = ts_txn_begin (f->store, true);
    for (size_t i = 0; i < n; i++) {
        uint8_t k [8];
        ts_be64_put (k, keys [i]);
        ts_txn_put_u64 (txn, f->a, k, 8, keys [i] * 2);
    }
    assert_int_equal (ts_txn_commit (&txn), 0);
}

static uint64_t
s_cur_key (ts_cursor *cur)
{
    assert_int_equal (cur->key.size, 8);
    return ts_be64_get (cur->key.data);
}

static void
test_cursor_seek (void **state)
{
    fx_t *f = *state;
    static const uint64_t keys [] = { 30, 10, 20 };
    s_put_u64_keys (f, keys, 3);
    ts_txn *txn = ts_txn_begin (f->store, false);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->a));
    uint8_t k [8];
    assert_true (ts_cursor_seek (&cur, NULL, 0));
    assert_int_equal (s_cur_key (&cur), 10);
    assert_int_equal (ts_be64_get (cur.value.data), 20);   //  value follows key
    ts_be64_put (k, 15);
    assert_true (ts_cursor_seek (&cur, k, 8));
    assert_int_equal (s_cur_key (&cur), 20);
    ts_be64_put (k, 20);
    assert_true (ts_cursor_seek (&cur, k, 8));
    assert_int_equal (s_cur_key (&cur), 20);
    ts_be64_put (k, 35);
    assert_false (ts_cursor_seek (&cur, k, 8));
    assert_null (cur.key.data);
    ts_cursor_close (&cur);
    ts_cursor_close (&cur);         //  safe twice
    assert_int_equal (ts_txn_error (txn), 0);
    ts_txn_abort (&txn);
}

static void
test_cursor_seek_last (void **state)
{
    fx_t *f = *state;
    static const uint64_t keys [] = { 10, 20, 30 };
    s_put_u64_keys (f, keys, 3);
    ts_txn *txn = ts_txn_begin (f->store, false);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->a));
    uint8_t k [8];
    assert_true (ts_cursor_seek_last (&cur, NULL, 0));
    assert_int_equal (s_cur_key (&cur), 30);
    ts_be64_put (k, 25);                        //  between keys
    assert_true (ts_cursor_seek_last (&cur, k, 8));
    assert_int_equal (s_cur_key (&cur), 20);
    ts_be64_put (k, 20);                        //  exact
    assert_true (ts_cursor_seek_last (&cur, k, 8));
    assert_int_equal (s_cur_key (&cur), 20);
    ts_be64_put (k, 99);                        //  past the end
    assert_true (ts_cursor_seek_last (&cur, k, 8));
    assert_int_equal (s_cur_key (&cur), 30);
    ts_be64_put (k, 5);                         //  before the first
    assert_false (ts_cursor_seek_last (&cur, k, 8));
    ts_be64_put (k, 10);                        //  exact first
    assert_true (ts_cursor_seek_last (&cur, k, 8));
    assert_int_equal (s_cur_key (&cur), 10);
    ts_cursor_close (&cur);
    ts_txn_abort (&txn);
}

static void
test_cursor_on_empty_table (void **state)
{
    fx_t *f = *state;
    ts_txn *txn = ts_txn_begin (f->store, false);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->b));
    assert_false (ts_cursor_seek (&cur, NULL, 0));
    assert_false (ts_cursor_seek_last (&cur, NULL, 0));
    assert_false (ts_cursor_seek_last (&cur, "k", 1));
    assert_false (ts_cursor_next (&cur));
    assert_int_equal (ts_txn_error (txn), 0);
    ts_cursor_close (&cur);
    ts_txn_abort (&txn);
}

static void
test_cursor_next_prev (void **state)
{
    fx_t *f = *state;
    static const uint64_t keys [] = { 4, 1, 3, 2, 5 };
    s_put_u64_keys (f, keys, 5);
    ts_txn *txn = ts_txn_begin (f->store, false);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->a));
    uint64_t expect = 1;
    for (bool ok = ts_cursor_seek (&cur, NULL, 0); ok && expect < 100; ok = ts_cursor_next (&cur))
        assert_int_equal (s_cur_key (&cur), expect++);
    assert_int_equal (expect, 6);
    assert_true (ts_cursor_seek_last (&cur, NULL, 0));
    for (expect = 5; expect > 1; expect--) {
        assert_int_equal (s_cur_key (&cur), expect);
        assert_true (ts_cursor_prev (&cur));
    }
    assert_int_equal (s_cur_key (&cur), 1);
    assert_false (ts_cursor_prev (&cur));
    ts_cursor_close (&cur);
    assert_false (ts_cursor_next (&cur));       //  closed
    assert_int_equal (ts_txn_error (txn), 0);
    ts_txn_abort (&txn);
}

static void
test_cursor_has_prefix (void **state)
{
    fx_t *f = *state;
    static const char *const names [] = { "p", "pa", "q" };
    ts_txn *txn = ts_txn_begin (f->store, true);
    for (int n = 0; n < 3; n++)
        for (uint64_t i = 1; i <= 3; i++) {
            ts_key k;
            ts_key_init (&k);
            ts_key_str (&k, names [n]);
            ts_key_u64 (&k, i);
            ts_txn_put (txn, f->a, k.data, k.size, "", 0);
        }
    assert_int_equal (ts_txn_commit (&txn), 0);
    txn = ts_txn_begin (f->store, false);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->a));
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_str (&prefix, "p");      //  "p\0": must not match "pa\0..."
    int count = 0;
    uint64_t last = 0;
    for (bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
         ok && ts_cursor_has_prefix (&cur, prefix.data, prefix.size) && count < 100;
         ok = ts_cursor_next (&cur)) {
        last = ts_be64_get ((const uint8_t *) cur.key.data + prefix.size);
        count++;
    }
    assert_int_equal (count, 3);
    assert_int_equal (last, 3);
    //  After the run the cursor sits on "pa..." which lacks the prefix.
    assert_false (ts_cursor_has_prefix (&cur, prefix.data, prefix.size));
    assert_true (ts_cursor_has_prefix (&cur, "pa", 2));
    //  A prefix longer than the key never matches.
    uint8_t longer [64];
    memset (longer, 'p', sizeof longer);
    assert_false (ts_cursor_has_prefix (&cur, longer, sizeof longer));
    ts_cursor_close (&cur);
    ts_txn_abort (&txn);
}

//  --------------------------------------------------------------------
//  Keys

static void
test_key_u64_orders_numerically (void **state)
{
    fx_t *f = *state;
    static const uint64_t keys [] = {
        65536, 1, UINT64_MAX, 256, 0, 255, 1ULL << 63, 4294967296ULL, 4294967295ULL, 257
    };
    static const uint64_t sorted [] = {
        0, 1, 255, 256, 257, 65536, 4294967295ULL, 4294967296ULL, 1ULL << 63, UINT64_MAX
    };
    ts_txn *txn = ts_txn_begin (f->store, true);
    for (size_t i = 0; i < 10; i++) {
        ts_key k;
        ts_key_init (&k);
        ts_key_u64 (&k, keys [i]);
        assert_int_equal (k.size, 8);
        ts_txn_put (txn, f->a, k.data, k.size, "", 0);
    }
    assert_int_equal (ts_txn_commit (&txn), 0);
    txn = ts_txn_begin (f->store, false);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->a));
    size_t i = 0;
    for (bool ok = ts_cursor_seek (&cur, NULL, 0); ok && i < 20; ok = ts_cursor_next (&cur))
        assert_true (s_cur_key (&cur) == sorted [i++]);
    assert_int_equal (i, 10);
    ts_cursor_close (&cur);
    ts_txn_abort (&txn);
}

static void
test_key_u32_and_composite_order (void **state)
{
    fx_t *f = *state;
    //  (name, number) pairs inserted out of order.
    static const char *const names [] = { "b", "a", "a", "a", "ab" };
    static const uint32_t nums [] = { 1, 10, 2, 256, 0 };
    ts_txn *txn = ts_txn_begin (f->store, true);
    for (int i = 0; i < 5; i++) {
        ts_key k;
        ts_key_init (&k);
        ts_key_str (&k, names [i]);
        ts_key_u32 (&k, nums [i]);
        ts_txn_put (txn, f->a, k.data, k.size, &i, sizeof i);
    }
    assert_int_equal (ts_txn_commit (&txn), 0);
    //  Expected order: a/2, a/10, a/256, ab/0, b/1 (the terminator sorts
    //  "a" before "ab").
    static const int order [] = { 2, 1, 3, 4, 0 };
    txn = ts_txn_begin (f->store, false);
    ts_cursor cur;
    assert_true (ts_cursor_open (&cur, txn, f->a));
    int n = 0;
    for (bool ok = ts_cursor_seek (&cur, NULL, 0); ok && n < 10; ok = ts_cursor_next (&cur)) {
        int idx;
        memcpy (&idx, cur.value.data, sizeof idx);
        assert_int_equal (idx, order [n]);
        n++;
    }
    assert_int_equal (n, 5);
    ts_cursor_close (&cur);
    ts_txn_abort (&txn);
}

static void
test_key_strings_are_terminated (void **state)
{
    (void) state;
    ts_key k1, k2;
    ts_key_init (&k1);
    ts_key_str (&k1, "ab");
    ts_key_str (&k1, "c");
    ts_key_init (&k2);
    ts_key_str (&k2, "a");
    ts_key_str (&k2, "bc");
    assert_int_equal (k1.size, 5);
    assert_int_equal (k2.size, 5);
    assert_memory_not_equal (k1.data, k2.data, 5);
    ts_key_init (&k1);
    ts_key_bytes (&k1, "xy", 2);
    ts_key_u32 (&k1, 0x01020304);
    static const uint8_t expect [] = { 'x', 'y', 1, 2, 3, 4 };
    assert_int_equal (k1.size, 6);
    assert_memory_equal (k1.data, expect, 6);
    uint8_t buf [4];
    ts_be32_put (buf, 0xdeadbeef);
    assert_int_equal (ts_be32_get (buf), 0xdeadbeef);
    assert_int_equal (buf [0], 0xde);
}

//  --------------------------------------------------------------------
//  Schema version

static void
test_schema_mismatch_refused (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "v");
    ts_store_destroy (&f->store);
    char err [512] = "";
    ts_store *other = ts_store_new (f->dir, s_tables, TABLE_COUNT, SCHEMA + 1, err, sizeof err);
    assert_null (other);
    assert_non_null (strstr (err, "schema version 7"));
    assert_non_null (strstr (err, "needs 8"));
    assert_non_null (strstr (err, f->dir));
    //  The right version still opens, with the data.
    s_open (f);
    assert_true (s_has (f, f->a, "k"));
}

//  A store of an older version opens where the caller migrates from it,
//  and is marked with the new version; one older than that is refused.
static void
test_schema_migrated (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "v");
    ts_store_destroy (&f->store);
    char err [512] = "";
    ts_store *other = ts_store_new_migrating (f->dir, s_tables, TABLE_COUNT, SCHEMA + 2,
                                              SCHEMA + 1, err, sizeof err);
    assert_null (other);
    assert_non_null (strstr (err, "needs 9"));
    other = ts_store_new_migrating (f->dir, s_tables, TABLE_COUNT, SCHEMA + 1, SCHEMA, err,
                                    sizeof err);
    assert_non_null (other);
    ts_store_destroy (&other);
    //  Marked: the old version no longer opens it.
    other = ts_store_new (f->dir, s_tables, TABLE_COUNT, SCHEMA, err, sizeof err);
    assert_null (other);
    other = ts_store_new (f->dir, s_tables, TABLE_COUNT, SCHEMA + 1, err, sizeof err);
    assert_non_null (other);
    f->store = other;
    assert_true (s_has (f, f->a, "k"));
}

static void
test_new_table_added_on_reopen (void **state)
{
    fx_t *f = *state;
    ts_store_destroy (&f->store);
    static const ts_table_def more [] = { { "a", 0 }, { "b", 0 }, { "c", 0 } };
    char err [256] = "";
    f->store = ts_store_new (f->dir, more, 3, SCHEMA, err, sizeof err);
    assert_non_null (f->store);
    ts_table c = ts_store_table (f->store, "c");
    ts_txn *txn = ts_txn_begin (f->store, true);
    ts_txn_put (txn, c, "k", 1, "v", 1);
    assert_int_equal (ts_txn_commit (&txn), 0);
}

//  --------------------------------------------------------------------
//  Map growth

static void
test_map_grows_and_nothing_is_lost (void **state)
{
    fx_t *f = *state;
    ts_store_destroy (&f->store);
    test_dir_remove (f->dir);
    assert_int_equal (mkdir (f->dir, 0700), 0);
    ts_store_set_initial_map_size (256 * 1024);
    s_open (f);
    size_t initial = ts_store_map_size (f->store);
    assert_int_equal (initial, 256 * 1024);

    enum { VALUES = 96, PER_TXN = 8, VALUE_BYTES = 64 * 1024 };     //  6 MiB
    static uint8_t value [VALUE_BYTES];
    int grows = 0, map_full = 0;
    for (int first = 0; first < VALUES; first += PER_TXN) {
        int rc = -1;
        for (int attempt = 0; attempt < 20 && rc != 0; attempt++) {
            ts_txn *txn = ts_txn_begin (f->store, true);
            for (int i = first; i < first + PER_TXN; i++) {
                memset (value, i, sizeof value);
                uint8_t k [4];
                ts_be32_put (k, (uint32_t) i);
                ts_txn_put (txn, f->a, k, 4, value, sizeof value);
            }
            rc = ts_txn_commit (&txn);
            if (rc == TS_STORE_MAP_FULL) {
                map_full++;
                assert_int_equal (ts_store_grow (f->store), 0);
                grows++;
            }
            else
                assert_int_equal (rc, 0);
        }
        assert_int_equal (rc, 0);
    }
    assert_true (map_full > 0);
    assert_true (ts_store_map_size (f->store) >= (size_t) 6 * 1024 * 1024);
    assert_int_equal (ts_store_map_size (f->store), initial << grows);

    //  Everything is there, also after a reopen.
    for (int pass = 0; pass < 2; pass++) {
        ts_txn *txn = ts_txn_begin (f->store, false);
        for (int i = 0; i < VALUES; i++) {
            uint8_t k [4];
            ts_be32_put (k, (uint32_t) i);
            ts_val v;
            assert_true (ts_txn_get (txn, f->a, k, 4, &v));
            assert_int_equal (v.size, VALUE_BYTES);
            const uint8_t *p = v.data;
            assert_int_equal (p [0], (uint8_t) i);
            assert_int_equal (p [VALUE_BYTES - 1], (uint8_t) i);
        }
        ts_txn_abort (&txn);
        if (pass == 0)
            s_reopen (f);
    }
    //  The file keeps its bigger size on reopen.
    assert_true (ts_store_map_size (f->store) > initial);
}

static void
test_nested_map_full_poisons_parent (void **state)
{
    fx_t *f = *state;
    ts_store_destroy (&f->store);
    test_dir_remove (f->dir);
    assert_int_equal (mkdir (f->dir, 0700), 0);
    ts_store_set_initial_map_size (256 * 1024);
    s_open (f);
    static uint8_t big [512 * 1024];
    ts_txn *parent = ts_txn_begin (f->store, true);
    ts_txn_put (parent, f->a, "p", 1, "x", 1);
    ts_txn *child = ts_txn_begin_nested (parent);
    ts_txn_put (child, f->a, "big", 3, big, sizeof big);
    assert_int_equal (ts_txn_error (child), TS_STORE_MAP_FULL);
    ts_txn_abort (&child);
    //  The parent's pages may be inconsistent: it must not commit.
    assert_int_equal (ts_txn_error (parent), TS_STORE_MAP_FULL);
    assert_int_equal (ts_txn_commit (&parent), TS_STORE_MAP_FULL);
    assert_false (s_has (f, f->a, "p"));
}

static void
test_grow_drops_idle_read_handle (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "v");
    assert_true (s_has (f, f->a, "k"));     //  the read handle now exists
    size_t before = ts_store_map_size (f->store);
    assert_int_equal (ts_store_grow (f->store), 0);
    assert_int_equal (ts_store_map_size (f->store), before * 2);
    assert_true (s_has (f, f->a, "k"));     //  and reads still work
}

//  --------------------------------------------------------------------
//  Backup copy

static void
test_copy_is_a_working_store (void **state)
{
    fx_t *f = *state;
    s_put_str (f, f->a, "k", "copied");
    char dir [128], err [256] = "";
    snprintf (dir, sizeof dir, "%s/backup", f->dir);
    assert_int_equal (mkdir (dir, 0700), 0);
    assert_int_equal (ts_store_copy (f->store, dir), 0);
    ts_store *copy = ts_store_new (dir, s_tables, TABLE_COUNT, SCHEMA, err, sizeof err);
    assert_non_null (copy);
    ts_txn *txn = ts_txn_begin (copy, false);
    ts_val v;
    assert_true (ts_txn_get (txn, ts_store_table (copy, "a"), "k", 1, &v));
    assert_memory_equal (v.data, "copied", 6);
    ts_txn_abort (&txn);
    ts_store_destroy (&copy);
}

//  Each test runs through a wrapper that marks the fixture finished when
//  the test returns (a failed assertion jumps past it).
#define TESTS(X) \
    X (test_open_makes_files_and_tables) \
    X (test_tables_are_separate) \
    X (test_open_creates_missing_dirs) \
    X (test_put_get_same_txn_and_after_commit) \
    X (test_put_overwrites) \
    X (test_get_absent_is_false_without_error) \
    X (test_aborted_write_leaves_nothing) \
    X (test_insert_only_if_absent) \
    X (test_del_reports_whether_deleted) \
    X (test_put_msg_get_msg_roundtrip) \
    X (test_corrupt_value_sets_sticky_corrupt) \
    X (test_corrupt_counter_sets_sticky_corrupt) \
    X (test_sticky_error_stops_later_ops_and_commit) \
    X (test_fail_by_hand_keeps_first_error) \
    X (test_nested_abort_discards_only_child) \
    X (test_nested_commit_joins_parent) \
    X (test_nested_error_does_not_poison_parent) \
    X (test_nested_of_failed_parent_is_failed) \
    X (test_read_txn_reuse_many) \
    X (test_reused_read_sees_later_commits) \
    X (test_two_reads_at_once) \
    X (test_next_id_sequence_persists_across_reopen) \
    X (test_next_id_of_aborted_txn_is_reused) \
    X (test_next_id_does_not_touch_user_tables) \
    X (test_u64_counters_big_endian_with_fallback) \
    X (test_add_i64_counts_up_and_down) \
    X (test_cursor_seek) \
    X (test_cursor_seek_last) \
    X (test_cursor_on_empty_table) \
    X (test_cursor_next_prev) \
    X (test_cursor_has_prefix) \
    X (test_key_u64_orders_numerically) \
    X (test_key_u32_and_composite_order) \
    X (test_key_strings_are_terminated) \
    X (test_schema_mismatch_refused) \
    X (test_schema_migrated) \
    X (test_new_table_added_on_reopen) \
    X (test_map_grows_and_nothing_is_lost) \
    X (test_nested_map_full_poisons_parent) \
    X (test_grow_drops_idle_read_handle) \
    X (test_copy_is_a_working_store) \
    X (test_holds_data_skips_not_data_tables)

//  holds_data looks only at the tables not flagged TS_TABLE_NOT_DATA, and
//  the flag is the store's own: LMDB opens the table as usual.
static void
test_holds_data_skips_not_data_tables (void **state)
{
    fx_t *f = *state;
    static const ts_table_def tables [] = { { "data", 0 }, { "keys", TS_TABLE_NOT_DATA } };
    char dir [128], err [256] = "";
    snprintf (dir, sizeof dir, "%s/flagged", f->dir);
    ts_store *store = ts_store_new (dir, tables, 2, SCHEMA, err, sizeof err);
    assert_non_null (store);
    assert_false (ts_store_holds_data (store));
    ts_txn *txn = ts_txn_begin (store, true);
    ts_txn_put (txn, ts_store_table (store, "keys"), "k", 1, "v", 1);
    assert_int_equal (ts_txn_commit (&txn), 0);
    assert_false (ts_store_holds_data (store));
    txn = ts_txn_begin (store, true);
    ts_txn_put (txn, ts_store_table (store, "data"), "d", 1, "v", 1);
    assert_int_equal (ts_txn_commit (&txn), 0);
    assert_true (ts_store_holds_data (store));
    txn = ts_txn_begin (store, true);
    assert_true (ts_txn_del (txn, ts_store_table (store, "data"), "d", 1));
    assert_int_equal (ts_txn_commit (&txn), 0);
    assert_false (ts_store_holds_data (store));
    ts_store_destroy (&store);
}

#define WRAP(name) \
    static void name##_run (void **state) { name (state); ((fx_t *) *state)->finished = true; }
TESTS (WRAP)
#define ENTRY(name) { #name, name##_run, s_setup, s_teardown, NULL },

int
main (void)
{
    const struct CMUnitTest tests [] = {
        TESTS (ENTRY)
    };
    return cmocka_run_group_tests_name ("ts_store", tests, NULL, NULL);
}
