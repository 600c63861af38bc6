/*  test_gw_memo - the routes' reply memo: what it returns is always what a
    fresh unpack and print of the same bytes gives, it answers from memory
    only for the same route, type and bytes, misses on any changed byte or
    length, keeps nothing over its entry bound, keeps a few views of one
    route, does not let a route whose replies never repeat push out the
    others, and routes sharing a set never mix their replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_json.h"
#include "gw_memo.h"
#include "testmsg.pb-c.h"

typedef Tashan__Test__AllTypes all_types_t;

static const char *s_json =
    "{\"f_int32\":-1,\"f_string\":\"\\\"\xe4\xbd\xa0\\n\",\"f_bytes\":\"AP8=\","
    "\"f_enum\":\"INFRARED\",\"r_string\":[\"\",\"x\"],\"r_double\":[1e+100],"
    "\"members\":[{\"name\":\"A\",\"birth_year\":1990,\"tags\":[\"t\"]}],"
    "\"m_counts\":{\"a\":1}}";

//  Two distinct route keys (the gateway uses its route table's entries).
static char s_routes [2];

//  The packed message of a JSON text (the caller frees it).
static uint8_t *
s_pack (const char *json, size_t *size_p)
{
    char err [256];
    ProtobufCMessage *msg = gw_json_parse (&tashan__test__all_types__descriptor, json,
                                           strlen (json), NULL, err, sizeof err);
    assert_non_null (msg);
    size_t size = protobuf_c_message_get_packed_size (msg);
    uint8_t *wire = malloc (size + 1);
    assert_non_null (wire);
    assert_int_equal (protobuf_c_message_pack (msg, wire), size);
    protobuf_c_message_free_unpacked (msg, NULL);
    *size_p = size;
    return wire;
}

//  What the gateway printed before the memo: unpack, print. NULL when the
//  bytes do not unpack.
static char *
s_fresh (const ProtobufCMessageDescriptor *desc, const uint8_t *wire, size_t size)
{
    ProtobufCMessage *msg = protobuf_c_message_unpack (desc, NULL, size, wire);
    if (!msg)
        return NULL;
    char *json = gw_json_print (msg);
    assert_non_null (json);
    protobuf_c_message_free_unpacked (msg, NULL);
    return json;
}

//  Render through the memo and check the text against a fresh render.
static void
s_render_equals_fresh (gw_memo *memo, const void *key, const ProtobufCMessageDescriptor *desc,
                       const uint8_t *wire, size_t size)
{
    const char *json = NULL;
    long len = gw_memo_render (memo, key, desc, wire, size, NULL, &json);
    char *fresh = s_fresh (desc, wire, size);
    if (!fresh) {
        assert_int_equal (len, GW_MEMO_MALFORMED);
        assert_null (json);
        return;
    }
    assert_true (len > 0);
    assert_non_null (json);
    assert_int_equal ((size_t) len, strlen (fresh));
    assert_memory_equal (json, fresh, (size_t) len);
    free (fresh);
}

static void
test_same_bytes_hit_with_the_same_text (void **state)
{
    (void) state;
    gw_memo *memo = gw_memo_new ();
    assert_non_null (memo);
    size_t size;
    uint8_t *wire = s_pack (s_json, &size);
    s_render_equals_fresh (memo, &s_routes [0], &tashan__test__all_types__descriptor, wire, size);
    assert_int_equal (gw_memo_hits (memo), 0);
    assert_int_equal (gw_memo_misses (memo), 1);
    //  A copy of the bytes (not the same buffer) still hits.
    uint8_t *copy = malloc (size);
    memcpy (copy, wire, size);
    for (int i = 0; i < 3; i++)
        s_render_equals_fresh (memo, &s_routes [0], &tashan__test__all_types__descriptor,
                               copy, size);
    assert_int_equal (gw_memo_hits (memo), 3);
    assert_int_equal (gw_memo_misses (memo), 1);
    free (copy);
    free (wire);
    gw_memo_destroy (&memo);
    assert_null (memo);
    gw_memo_destroy (&memo);            //  safe twice
}

//  Each byte changed in turn: never the remembered text, always what a
//  fresh render of the changed bytes gives (or malformed, as it would be).
static void
test_any_changed_byte_misses (void **state)
{
    (void) state;
    gw_memo *memo = gw_memo_new ();
    size_t size;
    uint8_t *wire = s_pack (s_json, &size);
    const ProtobufCMessageDescriptor *desc = &tashan__test__all_types__descriptor;
    assert_true (size > 20 && size < 4096);
    for (size_t at = 0; at < size; at++) {
        s_render_equals_fresh (memo, &s_routes [0], desc, wire, size);
        uint64_t misses = gw_memo_misses (memo);
        wire [at] ^= 0x01;
        s_render_equals_fresh (memo, &s_routes [0], desc, wire, size);
        assert_int_equal (gw_memo_misses (memo), misses + 1);
        wire [at] ^= 0x01;
    }
    //  Shorter or longer bytes (a prefix is often a valid message too).
    s_render_equals_fresh (memo, &s_routes [0], desc, wire, size);
    uint64_t misses = gw_memo_misses (memo);
    s_render_equals_fresh (memo, &s_routes [0], desc, wire, size - 2);
    wire [size] = 0;
    s_render_equals_fresh (memo, &s_routes [0], desc, wire, size + 1);
    assert_int_equal (gw_memo_misses (memo), misses + 2);
    free (wire);
    gw_memo_destroy (&memo);
}

//  The same bytes for another route, or read as another type, miss.
static void
test_other_route_or_type_misses (void **state)
{
    (void) state;
    gw_memo *memo = gw_memo_new ();
    size_t size;
    uint8_t *wire = s_pack ("{\"f_sint32\":5}", &size);
    s_render_equals_fresh (memo, &s_routes [0], &tashan__test__all_types__descriptor, wire, size);
    s_render_equals_fresh (memo, &s_routes [1], &tashan__test__all_types__descriptor, wire, size);
    assert_int_equal (gw_memo_misses (memo), 2);
    //  Field 2 read as a Member: birth_year, not f_sint32.
    s_render_equals_fresh (memo, &s_routes [0], &tashan__test__member__descriptor, wire, size);
    assert_int_equal (gw_memo_misses (memo), 3);
    s_render_equals_fresh (memo, &s_routes [0], &tashan__test__member__descriptor, wire, size);
    assert_int_equal (gw_memo_hits (memo), 1);
    free (wire);
    gw_memo_destroy (&memo);
}

//  Every route key that lands in one slot takes turns with the others:
//  each render is still its own route's text.
static void
test_routes_sharing_a_slot_do_not_mix (void **state)
{
    (void) state;
    gw_memo *memo = gw_memo_new ();
    enum { KEYS = 4 * GW_MEMO_SLOTS };
    static uint64_t keys [KEYS];     //  8 bytes apart, as routes are
    size_t size_a, size_b;
    uint8_t *a = s_pack ("{\"f_string\":\"a\"}", &size_a);
    uint8_t *b = s_pack ("{\"f_string\":\"b\"}", &size_b);
    //  More keys than slots: some share one.
    for (int round = 0; round < 3; round++)
        for (size_t k = 0; k < KEYS; k++)
            s_render_equals_fresh (memo, &keys [k], &tashan__test__all_types__descriptor,
                                   k % 2? a: b, k % 2? size_a: size_b);
    assert_true (gw_memo_misses (memo) >= KEYS);
    //  A key at a time: the second render hits.
    uint64_t hits = gw_memo_hits (memo);
    s_render_equals_fresh (memo, &keys [7], &tashan__test__all_types__descriptor, a, size_a);
    s_render_equals_fresh (memo, &keys [7], &tashan__test__all_types__descriptor, a, size_a);
    assert_true (gw_memo_hits (memo) >= hits + 1);
    free (a);
    free (b);
    gw_memo_destroy (&memo);
}

//  A reply over the entry bound is rendered every time (right each time)
//  and pushes out nothing.
static void
test_large_reply_not_kept (void **state)
{
    (void) state;
    gw_memo *memo = gw_memo_new ();
    size_t big = GW_MEMO_ENTRY_MAX_BYTES;
    char *json = malloc (big + 64);
    int at = snprintf (json, 64, "{\"f_string\":\"");
    memset (json + at, 'z', big);
    strcpy (json + at + big, "\"}");
    size_t size;
    uint8_t *wire = s_pack (json, &size);
    //  A full set (four keys in one 8-byte word: one set) keeps its
    //  entries while the big reply is rendered again and again.
    static uint64_t word;
    const char *keys = (const char *) &word;
    uint8_t *small [GW_MEMO_WAYS];
    size_t small_size [GW_MEMO_WAYS];
    assert_true (GW_MEMO_WAYS <= sizeof word);
    for (size_t k = 0; k < GW_MEMO_WAYS; k++) {
        char text [64];
        snprintf (text, sizeof text, "{\"f_int32\":%zu}", k);
        small [k] = s_pack (text, &small_size [k]);
        s_render_equals_fresh (memo, keys + k, &tashan__test__all_types__descriptor,
                               small [k], small_size [k]);
    }
    for (int i = 0; i < 3 * GW_MEMO_WAYS; i++)
        s_render_equals_fresh (memo, keys, &tashan__test__all_types__descriptor, wire, size);
    assert_int_equal (gw_memo_hits (memo), 0);
    assert_int_equal (gw_memo_misses (memo), GW_MEMO_WAYS + 3 * GW_MEMO_WAYS);
    for (size_t k = 0; k < GW_MEMO_WAYS; k++) {
        s_render_equals_fresh (memo, keys + k, &tashan__test__all_types__descriptor,
                               small [k], small_size [k]);
        free (small [k]);
    }
    assert_int_equal (gw_memo_hits (memo), GW_MEMO_WAYS);
    //  A small reply of the same route is kept again.
    free (wire);
    wire = s_pack ("{\"f_int32\":3}", &size);
    for (int i = 0; i < 2; i++)
        s_render_equals_fresh (memo, keys, &tashan__test__all_types__descriptor, wire, size);
    assert_int_equal (gw_memo_hits (memo), GW_MEMO_WAYS + 1);
    free (wire);
    free (json);
    gw_memo_destroy (&memo);
}

//  Malformed bytes: an error, nothing kept; empty bytes: the defaults.
static void
test_malformed_and_empty (void **state)
{
    (void) state;
    gw_memo *memo = gw_memo_new ();
    const uint8_t bad [] = { 0x72, 0x10, 'x' };     //  field 14, length 16, 1 byte
    const char *json = "?";
    for (int i = 0; i < 2; i++)
        assert_int_equal (gw_memo_render (memo, &s_routes [0],
                                          &tashan__test__all_types__descriptor, bad,
                                          sizeof bad, NULL, &json), GW_MEMO_MALFORMED);
    assert_null (json);
    assert_int_equal (gw_memo_hits (memo), 0);
    for (int i = 0; i < 2; i++)
        s_render_equals_fresh (memo, &s_routes [0], &tashan__test__all_types__descriptor,
                               NULL, 0);
    assert_int_equal (gw_memo_hits (memo), 1);
    gw_memo_destroy (&memo);
}

//  Two views of one route (the board per role) taking turns both stay.
static void
test_views_of_a_route_both_stay (void **state)
{
    (void) state;
    gw_memo *memo = gw_memo_new ();
    size_t size_a, size_b;
    uint8_t *a = s_pack ("{\"f_string\":\"public view\"}", &size_a);
    uint8_t *b = s_pack ("{\"f_string\":\"ops view\"}", &size_b);
    for (int i = 0; i < 10; i++) {
        s_render_equals_fresh (memo, &s_routes [0], &tashan__test__all_types__descriptor,
                               a, size_a);
        s_render_equals_fresh (memo, &s_routes [0], &tashan__test__all_types__descriptor,
                               b, size_b);
    }
    assert_int_equal (gw_memo_misses (memo), 2);
    assert_int_equal (gw_memo_hits (memo), 18);
    free (a);
    free (b);
    gw_memo_destroy (&memo);
}

//  A route whose replies never repeat (a person's page) does not push
//  out another route's reply, whichever set the two share.
static void
test_unique_replies_do_not_push_out_others (void **state)
{
    (void) state;
    gw_memo *memo = gw_memo_new ();
    enum { KEYS = 2 * GW_MEMO_SLOTS };
    static uint64_t keys [KEYS];     //  8 bytes apart, as routes are
    static char flood;
    size_t size;
    uint8_t *hot = s_pack ("{\"f_string\":\"board\"}", &size);
    for (size_t k = 0; k < KEYS; k++) {
        s_render_equals_fresh (memo, &keys [k], &tashan__test__all_types__descriptor, hot, size);
        for (int i = 0; i < 3 * GW_MEMO_WAYS; i++) {
            char json [64];
            snprintf (json, sizeof json, "{\"f_int64\":%zu}", k * 100 + (size_t) i);
            size_t unique_size;
            uint8_t *unique = s_pack (json, &unique_size);
            s_render_equals_fresh (memo, &flood, &tashan__test__all_types__descriptor,
                                   unique, unique_size);
            free (unique);
        }
        uint64_t hits = gw_memo_hits (memo);
        s_render_equals_fresh (memo, &keys [k], &tashan__test__all_types__descriptor, hot, size);
        assert_int_equal (gw_memo_hits (memo), hits + 1);
    }
    free (hot);
    gw_memo_destroy (&memo);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_same_bytes_hit_with_the_same_text),
        cmocka_unit_test (test_any_changed_byte_misses),
        cmocka_unit_test (test_other_route_or_type_misses),
        cmocka_unit_test (test_routes_sharing_a_slot_do_not_mix),
        cmocka_unit_test (test_views_of_a_route_both_stay),
        cmocka_unit_test (test_unique_replies_do_not_push_out_others),
        cmocka_unit_test (test_large_reply_not_kept),
        cmocka_unit_test (test_malformed_and_empty),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
