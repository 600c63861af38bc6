/*  test_ts_tag_index - the index from a key's tag to the records that may
    hold it (ts_tag_index.h): a probe names every value added under its
    tag, and no value of another tag; the index grows by doubling up to
    its bound and then refuses, adding nothing; set_max takes effect on
    the next add; retain keeps exactly what its predicate says; the tag
    is the hash's first 28 bits. Checked against a plain list of the
    pairs, with tags drawn from a small range so that many collide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ts_tag_index.h"

#define PAIRS 3000
#define TAG_RANGE 500               //  tags 0..499: six values a tag on average

typedef struct {
    uint32_t tag;
    uint64_t value;
    bool in;                        //  should be in the index
} pair_t;

static uint64_t s_rng = 0x2545F4914F6CDD1Dull;

static uint64_t
s_next (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

//  Every value the probe of tag names, compared with the pairs that are in.
static void
s_check (const ts_tag_index *index, const pair_t *pairs, size_t count, uint32_t tag)
{
    size_t expected = 0;
    for (size_t i = 0; i < count; i++)
        expected += pairs [i].in && pairs [i].tag == tag;
    size_t named = 0;
    ts_tag_probe probe;
    ts_tag_index_probe (index, tag, &probe);
    uint64_t value;
    while (ts_tag_probe_next (&probe, &value)) {
        bool known = false;
        for (size_t i = 0; i < count && !known; i++)
            known = pairs [i].in && pairs [i].tag == tag && pairs [i].value == value;
        assert_true (known);
        named++;
    }
    assert_int_equal (named, expected);
    assert_false (ts_tag_probe_next (&probe, &value));
}

//  PAIRS values 1.. under random tags of the small range, each added.
static void
s_fill (ts_tag_index *index, pair_t *pairs)
{
    for (size_t i = 0; i < PAIRS; i++) {
        pairs [i].tag = (uint32_t) (s_next () % TAG_RANGE);
        pairs [i].value = i + 1;
        pairs [i].in = true;
        assert_true (ts_tag_index_add (index, pairs [i].tag, pairs [i].value));
    }
}

static void
test_probe_names_every_value_of_its_tag (void **state)
{
    (void) state;
    ts_tag_index *index = ts_tag_index_new ((size_t) 1 << 16);
    assert_non_null (index);
    static pair_t pairs [PAIRS];
    s_fill (index, pairs);
    assert_int_equal (ts_tag_index_used (index), PAIRS);
    //  A quarter free at least: 3000 slots need 4096.
    assert_int_equal (ts_tag_index_slots (index), 4096);
    for (uint32_t tag = 0; tag < TAG_RANGE + 10; tag++)
        s_check (index, pairs, PAIRS, tag);
    //  The largest tag and value fit in a slot.
    uint32_t top_tag = (UINT32_C (1) << TS_TAG_BITS) - 1;
    assert_true (ts_tag_index_add (index, top_tag, TS_TAG_VALUE_MAX));
    ts_tag_probe probe;
    ts_tag_index_probe (index, top_tag, &probe);
    uint64_t value = 0;
    assert_true (ts_tag_probe_next (&probe, &value));
    assert_true (value == TS_TAG_VALUE_MAX);
    assert_false (ts_tag_probe_next (&probe, &value));
    ts_tag_index_destroy (&index);
    assert_null (index);
}

static void
test_bound_refuses_and_adds_nothing (void **state)
{
    (void) state;
    ts_tag_index *index = ts_tag_index_new (TS_TAG_INDEX_SLOTS_MIN * 2);
    assert_non_null (index);
    //  2048 slots hold 1536 values.
    for (uint64_t v = 1; v <= 1536; v++)
        assert_true (ts_tag_index_add (index, (uint32_t) (v * 7919), v));
    assert_false (ts_tag_index_add (index, 5, 1537));
    assert_int_equal (ts_tag_index_used (index), 1536);
    assert_int_equal (ts_tag_index_slots (index), 2048);
    ts_tag_probe probe;
    ts_tag_index_probe (index, 5, &probe);
    uint64_t value;
    while (ts_tag_probe_next (&probe, &value))
        assert_true (value != 1537);
    //  A higher bound takes effect on the next add.
    ts_tag_index_set_max (index, TS_TAG_INDEX_SLOTS_MIN * 4);
    assert_true (ts_tag_index_add (index, 5, 1537));
    assert_int_equal (ts_tag_index_slots (index), 4096);
    //  A lower one than the slots it has: no more adds past 3/4 of them.
    ts_tag_index_set_max (index, TS_TAG_INDEX_SLOTS_MIN);
    for (uint64_t v = 1538; v <= 3072; v++)
        assert_true (ts_tag_index_add (index, (uint32_t) v, v));
    assert_false (ts_tag_index_add (index, 1, 3073));
    assert_int_equal (ts_tag_index_used (index), 3072);
    ts_tag_index_destroy (&index);
}

static bool
s_even (uint64_t value, void *arg)
{
    (*(size_t *) arg)++;
    return value % 2 == 0;
}

static void
test_retain_keeps_what_it_says (void **state)
{
    (void) state;
    ts_tag_index *index = ts_tag_index_new ((size_t) 1 << 16);
    assert_non_null (index);
    static pair_t pairs [PAIRS];
    s_fill (index, pairs);
    size_t asked = 0;
    assert_true (ts_tag_index_retain (index, s_even, &asked));
    assert_int_equal (asked, PAIRS);
    for (size_t i = 0; i < PAIRS; i++)
        pairs [i].in = pairs [i].value % 2 == 0;
    assert_int_equal (ts_tag_index_used (index), PAIRS / 2);
    assert_int_equal (ts_tag_index_slots (index), 4096);
    for (uint32_t tag = 0; tag < TAG_RANGE; tag++)
        s_check (index, pairs, PAIRS, tag);
    ts_tag_index_destroy (&index);
}

static void
test_tag_is_the_first_28_bits (void **state)
{
    (void) state;
    uint8_t hash [16] = { 0xAB, 0xCD, 0xEF, 0x12, 0x34 };
    assert_int_equal (ts_tag_of (hash), 0xABCDEF1);
    memset (hash, 0xFF, sizeof hash);
    assert_int_equal (ts_tag_of (hash), (UINT32_C (1) << TS_TAG_BITS) - 1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_probe_names_every_value_of_its_tag),
        cmocka_unit_test (test_bound_refuses_and_adds_nothing),
        cmocka_unit_test (test_retain_keeps_what_it_says),
        cmocka_unit_test (test_tag_is_the_first_28_bits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
