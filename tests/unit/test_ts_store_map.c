/*  test_ts_store_map - the store's map held to a budget: the resident
    bytes counted from pagemap, ts_store_map_drop (reads after it return
    the same bytes, also through a pointer a read transaction took before
    it), and ts_store_map_trim against a budget: down to 7/8 of it, in a
    stretch that goes round the map trim after trim. Each test fills a store
    of about 8 MiB in its own temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_config.h"
#include "ts_memory.h"
#include "ts_store.h"

static const ts_table_def s_tables [] = { { "blobs", 0 } };
#define SCHEMA 1
#define VALUE_BYTES 1000            //  several values a page, no overflow pages
#define VALUE_COUNT 8000            //  about 8 MiB of leaf pages
#define MIB ((size_t) 1024 * 1024)

typedef struct {
    char dir [64];                  //  temp dir of this test
    ts_store *store;
    ts_table blobs;
    size_t hand;                    //  the map trims' clock hand
} fx_t;

//  The value of key i: bytes that differ from key to key and within one.
static void
s_value (uint32_t i, uint8_t *out)
{
    uint32_t x = i * 2654435761u + 1;
    for (size_t b = 0; b < VALUE_BYTES; b++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        out [b] = (uint8_t) x;
    }
}

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "storemap"), 0);
    char err [256] = "";
    f->store = ts_store_new (f->dir, s_tables, 1, SCHEMA, err, sizeof err);
    assert_non_null (f->store);
    f->blobs = ts_store_table (f->store, "blobs");
    ts_txn *txn = ts_txn_begin (f->store, true);
    uint8_t value [VALUE_BYTES];
    for (uint32_t i = 0; i < VALUE_COUNT; i++) {
        uint8_t key [4];
        ts_be32_put (key, i);
        s_value (i, value);
        ts_txn_put (txn, f->blobs, key, 4, value, VALUE_BYTES);
    }
    assert_int_equal (ts_txn_commit (&txn), 0);
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

//  Read every value through the map and check its bytes.
static void
s_read_all (fx_t *f)
{
    ts_txn *txn = ts_txn_begin (f->store, false);
    uint8_t expect [VALUE_BYTES];
    for (uint32_t i = 0; i < VALUE_COUNT; i++) {
        uint8_t key [4];
        ts_be32_put (key, i);
        ts_val v;
        assert_true (ts_txn_get (txn, f->blobs, key, 4, &v));
        assert_int_equal (v.size, VALUE_BYTES);
        s_value (i, expect);
        assert_memory_equal (v.data, expect, VALUE_BYTES);
    }
    assert_int_equal (ts_txn_error (txn), 0);
    ts_txn_abort (&txn);
}

//  --------------------------------------------------------------------

static void
test_drop_unmaps_and_reads_same_data (void **state)
{
    fx_t *f = *state;
    size_t used = ts_store_used_bytes (f->store);
    assert_true (used >= 8 * MIB);
    s_read_all (f);
    size_t before = ts_store_map_resident_bytes (f->store);
    //  Every page was read: all of them are mapped (the count may not
    //  exceed the used part it looks at).
    assert_true (before >= used - used / 8);
    assert_true (before <= used + 4096);
    assert_int_equal (ts_store_map_drop (f->store), 0);
    size_t after = ts_store_map_resident_bytes (f->store);
    //  Only what the count itself touched (the meta pages, and the kernel
    //  maps a fault's neighbours: at most 1 MiB here).
    assert_true (after <= 2 * MIB);
    s_read_all (f);
    assert_true (ts_store_map_resident_bytes (f->store) >= used - used / 8);
}

static void
test_drop_under_a_held_pointer (void **state)
{
    fx_t *f = *state;
    //  A read transaction the store does not know of (as a backup's on
    //  its worker thread) holds a pointer into the map across the drop.
    MDB_txn *raw;
    assert_int_equal (mdb_txn_begin (ts_store_env (f->store), NULL, MDB_RDONLY, &raw), 0);
    uint8_t key [4], expect [VALUE_BYTES];
    ts_be32_put (key, 4321);
    MDB_val k = { 4, key }, v;
    assert_int_equal (mdb_get (raw, f->blobs, &k, &v), 0);
    assert_int_equal (ts_store_map_drop (f->store), 0);
    s_value (4321, expect);
    assert_memory_equal (v.mv_data, expect, VALUE_BYTES);
    mdb_txn_abort (raw);
}

static void
test_drop_refused_while_a_txn_is_open (void **state)
{
    fx_t *f = *state;
    s_read_all (f);
    size_t before = ts_store_map_resident_bytes (f->store);
    ts_txn *txn = ts_txn_begin (f->store, false);
    assert_int_equal (ts_store_map_drop (f->store), EBUSY);
    //  The loop's own read in use: no trim either.
    assert_int_equal (ts_store_map_trim (f->store, MIB, &f->hand), 0);
    ts_txn_abort (&txn);
    txn = ts_txn_begin (f->store, true);
    assert_int_equal (ts_store_map_drop (f->store), EBUSY);
    ts_txn_abort (&txn);
    //  Nothing was dropped.
    assert_true (ts_store_map_resident_bytes (f->store) >= before - before / 8);
}

//  A write transaction open (a tick's, on its worker thread) does not
//  stop a trim: the write copies the pages it changes out of the map,
//  faults back what it reads after the trim, and commits the same bytes.
static void
test_trim_beside_a_write (void **state)
{
    fx_t *f = *state;
    s_read_all (f);
    ts_txn *txn = ts_txn_begin (f->store, true);
    uint8_t key [4], value [VALUE_BYTES];
    ts_be32_put (key, 17);
    s_value (VALUE_COUNT + 17, value);
    ts_txn_put (txn, f->blobs, key, 4, value, VALUE_BYTES);
    assert_true (ts_store_map_trim (f->store, 2 * MIB, &f->hand) > 2 * MIB);
    assert_true (ts_store_map_resident_bytes (f->store) <= 2 * MIB);
    ts_val v;
    assert_true (ts_txn_get (txn, f->blobs, key, 4, &v));
    assert_memory_equal (v.data, value, VALUE_BYTES);
    ts_be32_put (key, 4000);
    assert_true (ts_txn_get (txn, f->blobs, key, 4, &v));
    s_value (4000, value);
    assert_memory_equal (v.data, value, VALUE_BYTES);
    assert_int_equal (ts_txn_commit (&txn), 0);
    //  Every other value as it was, key 17 as written.
    txn = ts_txn_begin (f->store, false);
    ts_be32_put (key, 17);
    assert_true (ts_txn_get (txn, f->blobs, key, 4, &v));
    s_value (VALUE_COUNT + 17, value);
    assert_memory_equal (v.data, value, VALUE_BYTES);
    ts_txn_abort (&txn);
}

//  ts_memory_step trims once this thread's faults since its last trim
//  there map an eighth of the budget, again and again.
static void
test_step_trims_after_faults (void **state)
{
    fx_t *f = *state;
    ts_config cfg;
    char err [128];
    memset (&cfg, 0, sizeof cfg);
    assert_int_equal (ts_config_load_text (&cfg, "store.map_resident_mib = 2\n", err,
                                           sizeof err), 0);
    ts_memory_setup (&cfg);
    ts_memory_step (f->store);          //  this thread's first call: counts from here
    s_read_all (f);
    assert_true (ts_store_map_resident_bytes (f->store) > 6 * MIB);
    ts_memory_step (f->store);
    size_t resident = ts_store_map_resident_bytes (f->store);
    assert_true (resident <= 2 * MIB);
    //  A whole read again: trimmed again.
    s_read_all (f);
    ts_memory_step (f->store);
    assert_true (ts_store_map_resident_bytes (f->store) <= 2 * MIB);
}

static void
test_trim_against_budget (void **state)
{
    fx_t *f = *state;
    size_t used = ts_store_used_bytes (f->store);
    s_read_all (f);
    size_t resident = ts_store_map_resident_bytes (f->store);
    //  A budget above the store: nothing to do, nothing counted.
    assert_int_equal (ts_store_map_trim (f->store, used + MIB, &f->hand), 0);
    assert_true (ts_store_map_resident_bytes (f->store) >= resident - resident / 8);
    //  A budget above what is resident: nothing dropped either.
    assert_int_equal (ts_store_map_trim (f->store, used, &f->hand), 0);
    assert_int_equal (f->hand, 0);
    //  Over a 4 MiB budget: dropped down to 7/8 of it (3.5 MiB), not to
    //  nothing, and the bytes it found returned.
    size_t dropped = ts_store_map_trim (f->store, 4 * MIB, &f->hand);
    assert_true (dropped > 4 * MIB);
    resident = ts_store_map_resident_bytes (f->store);
    assert_true (resident <= 4 * MIB - MIB / 2);
    assert_true (resident >= 3 * MIB);
    //  One stretch from the start of the map.
    assert_true (f->hand > 0 && f->hand < used / 4096);
    //  Now under the budget: no drop.
    assert_int_equal (ts_store_map_trim (f->store, 4 * MIB, &f->hand), 0);
    s_read_all (f);
}

//  Trim after trim, the stretch dropped moves on round the map: the hand
//  advances, wraps within a few turns, and every read still sees the
//  bytes written.
static void
test_trim_goes_round (void **state)
{
    fx_t *f = *state;
    size_t pages = ts_store_used_bytes (f->store) / 4096;
    size_t last = f->hand, wraps = 0;
    for (int round = 0; round < 12; round++) {
        s_read_all (f);
        assert_true (ts_store_map_trim (f->store, 2 * MIB, &f->hand) > 2 * MIB);
        assert_true (ts_store_map_resident_bytes (f->store) <= 2 * MIB - MIB / 4);
        assert_true (f->hand <= pages);
        assert_int_not_equal (f->hand, last);
        wraps += f->hand < last;
        last = f->hand;
    }
    //  Each trim drops about 6 of the 8 MiB: round the map in 2 trims.
    assert_true (wraps >= 3);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_drop_unmaps_and_reads_same_data, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_drop_under_a_held_pointer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_drop_refused_while_a_txn_is_open, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_trim_beside_a_write, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_trim_against_budget, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_step_trims_after_faults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_trim_goes_round, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
