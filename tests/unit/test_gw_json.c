/*  =========================================================================
    test_gw_json - the gateway's JSON <-> protobuf transcoder

    One behaviour per test, over tashan.test.AllTypes (proto/testmsg.proto)
    and a small proto2 message for has_ flags. Every parse runs through a
    counting allocator, so each test also proves it frees what it allocates
    (ASan builds catch the rest).
    =========================================================================
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_json.h"
#include "testmsg.pb-c.h"

typedef Tashan__Test__AllTypes all_types_t;
typedef Tashan__Test__Member member_t;


//  --------------------------------------------------------------------------
//  A counting allocator: every block alive is counted, and it can be told
//  to fail the n-th allocation from now.

static long s_live_blocks;              //  allocated and not yet freed
static long s_fail_countdown = -1;      //  -1: never fail

static void *
s_count_alloc (void *data, size_t size_bytes)
{
    (void) data;
    if (s_fail_countdown == 0)
        return NULL;
    if (s_fail_countdown > 0)
        s_fail_countdown--;
    void *block = malloc (size_bytes);
    if (block)
        s_live_blocks++;
    return block;
}

static void
s_count_free (void *data, void *block)
{
    (void) data;
    assert_non_null (block);
    s_live_blocks--;
    free (block);
}

static ProtobufCAllocator s_counting = {
    .alloc = s_count_alloc, .free = s_count_free, .allocator_data = NULL
};

//  A bump arena whose free does nothing, like ts_arena_pb
typedef struct {
    char buffer [1 << 16];
    size_t used;
} arena_t;

static void *
s_arena_alloc (void *data, size_t size_bytes)
{
    arena_t *arena = data;
    size_t aligned = (size_bytes + 15) & ~(size_t) 15;
    if (arena->used + aligned > sizeof (arena->buffer))
        return NULL;
    void *block = arena->buffer + arena->used;
    arena->used += aligned;
    return block;
}

static void
s_arena_free (void *data, void *block)
{
    (void) data;
    (void) block;
}

static char s_err [GW_JSON_ERR_SIZE];

static int
s_setup (void **state)
{
    (void) state;
    s_live_blocks = 0;
    s_fail_countdown = -1;
    s_err [0] = 0;
    return 0;
}

//  Every test ends with nothing left allocated
static int
s_teardown (void **state)
{
    (void) state;
    assert_int_equal (s_live_blocks, 0);
    return 0;
}

static all_types_t *
s_parse (const char *json)
{
    return (all_types_t *) gw_json_parse (&tashan__test__all_types__descriptor,
                                          json, strlen (json), &s_counting,
                                          s_err, sizeof (s_err));
}

static void
s_free_msg (all_types_t *msg)
{
    protobuf_c_message_free_unpacked (&msg->base, &s_counting);
}

//  Parse must fail with exactly this message
static void
s_expect_error (const char *json, const char *message)
{
    all_types_t *msg = s_parse (json);
    if (msg) {
        s_free_msg (msg);
        fail_msg ("parsed, expected error \"%s\" for %s", message, json);
    }
    assert_string_equal (s_err, message);
    assert_int_equal (s_live_blocks, 0);
}

//  Parse must fail with a message that starts with prefix
static void
s_expect_error_prefix (const char *json, const char *prefix)
{
    all_types_t *msg = s_parse (json);
    if (msg) {
        s_free_msg (msg);
        fail_msg ("parsed, expected error \"%s...\" for %s", prefix, json);
    }
    if (strncmp (s_err, prefix, strlen (prefix)) != 0)
        fail_msg ("error \"%s\" does not start with \"%s\"", s_err, prefix);
    assert_int_equal (s_live_blocks, 0);
}

static all_types_t *
s_parse_ok (const char *json)
{
    all_types_t *msg = s_parse (json);
    if (!msg)
        fail_msg ("parse failed: %s (for %s)", s_err, json);
    return msg;
}

//  The printed value of one field of a message: the text between
//  "name": and the next top-level ',' or '}'.
static char *
s_printed_field (const ProtobufCMessage *msg, const char *name)
{
    char *json = gw_json_print (msg);
    assert_non_null (json);
    char pattern [64];
    snprintf (pattern, sizeof (pattern), "\"%s\":", name);
    char *start = strstr (json, pattern);
    if (!start)
        fail_msg ("%s not printed in %s", name, json);
    start += strlen (pattern);
    int depth = 0;
    bool in_string = false;
    char *end = start;
    for (; *end; end++) {
        if (in_string) {
            if (*end == '\\')
                end++;
            else
            if (*end == '"')
                in_string = false;
        }
        else
        if (*end == '"')
            in_string = true;
        else
        if (*end == '{' || *end == '[')
            depth++;
        else
        if ((*end == '}' || *end == ']') && depth-- == 0)
            break;
        else
        if (*end == ',' && depth == 0)
            break;
    }
    char *value = strndup (start, (size_t) (end - start));
    free (json);
    return value;
}

static void
s_assert_printed (const ProtobufCMessage *msg, const char *name,
                  const char *expected)
{
    char *value = s_printed_field (msg, name);
    if (strcmp (value, expected)) {
        char copy [256];
        snprintf (copy, sizeof (copy), "%s", value);
        free (value);
        fail_msg ("field %s printed %s, expected %s", name, copy, expected);
    }
    free (value);
}


//  --------------------------------------------------------------------------
//  Scalars

static void
test_int32_family_accepts_range_and_rejects_beyond (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"f_int32\":2147483647,\"f_sint32\":-2147483648,"
        "\"f_sfixed32\":-1}");
    assert_int_equal (msg->f_int32, INT32_MAX);
    assert_int_equal (msg->f_sint32, INT32_MIN);
    assert_int_equal (msg->f_sfixed32, -1);
    s_free_msg (msg);

    s_expect_error ("{\"f_int32\":2147483648}",
                    "field 'f_int32': value out of range for int32");
    s_expect_error ("{\"f_sint32\":-2147483649}",
                    "field 'f_sint32': value out of range for sint32");
    s_expect_error ("{\"f_sfixed32\":\"2147483648\"}",
                    "field 'f_sfixed32': value out of range for sfixed32");
}

static void
test_uint32_family_accepts_range_and_rejects_negative (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"f_uint32\":4294967295,\"f_fixed32\":\"4294967295\"}");
    assert_true (msg->f_uint32 == UINT32_MAX);
    assert_true (msg->f_fixed32 == UINT32_MAX);
    s_free_msg (msg);

    s_expect_error ("{\"f_uint32\":-1}",
                    "field 'f_uint32': value out of range for uint32");
    s_expect_error ("{\"f_fixed32\":4294967296}",
                    "field 'f_fixed32': value out of range for fixed32");
}

static void
test_int64_family_holds_extremes_exactly (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"f_int64\":9223372036854775807,"
        "\"f_sint64\":-9223372036854775808,"
        "\"f_sfixed64\":\"-9223372036854775808\","
        "\"r_int64\":[\"9223372036854775807\",-1,9007199254740993]}");
    assert_true (msg->f_int64 == INT64_MAX);
    assert_true (msg->f_sint64 == INT64_MIN);
    assert_true (msg->f_sfixed64 == INT64_MIN);
    assert_int_equal (msg->n_r_int64, 3);
    assert_true (msg->r_int64 [0] == INT64_MAX);
    assert_true (msg->r_int64 [1] == -1);
    assert_true (msg->r_int64 [2] == 9007199254740993LL);   //  not rounded
    //  Printed as JSON numbers, exactly
    s_assert_printed (&msg->base, "f_int64", "9223372036854775807");
    s_assert_printed (&msg->base, "f_sint64", "-9223372036854775808");
    s_assert_printed (&msg->base, "r_int64",
                      "[9223372036854775807,-1,9007199254740993]");
    s_free_msg (msg);

    s_expect_error ("{\"f_int64\":\"9223372036854775808\"}",
                    "field 'f_int64': value out of range for int64");
    s_expect_error ("{\"f_sint64\":\"-9223372036854775809\"}",
                    "field 'f_sint64': value out of range for sint64");
    s_expect_error ("{\"f_sfixed64\":\"99999999999999999999999\"}",
                    "field 'f_sfixed64': value out of range for sfixed64");
}

static void
test_uint64_above_int64_is_a_string_both_ways (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"f_uint64\":\"18446744073709551615\","
        "\"f_fixed64\":9223372036854775807,"
        "\"r_uint64\":[\"9223372036854775808\",0]}");
    assert_true (msg->f_uint64 == UINT64_MAX);
    assert_true (msg->f_fixed64 == (uint64_t) INT64_MAX);
    assert_true (msg->r_uint64 [0] == (uint64_t) INT64_MAX + 1);
    s_assert_printed (&msg->base, "f_uint64", "\"18446744073709551615\"");
    s_assert_printed (&msg->base, "f_fixed64", "9223372036854775807");
    s_assert_printed (&msg->base, "r_uint64", "[\"9223372036854775808\",0]");
    s_free_msg (msg);

    s_expect_error ("{\"f_uint64\":\"18446744073709551616\"}",
                    "field 'f_uint64': value out of range for uint64");
    s_expect_error ("{\"f_fixed64\":-1}",
                    "field 'f_fixed64': value out of range for fixed64");
    //  As a number it is beyond what the JSON reader holds
    s_expect_error_prefix ("{\"f_uint64\":18446744073709551615}",
                           "malformed JSON (line 1, column ");
}

static void
test_integers_from_strings_and_integral_reals (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"f_int32\":\"42\",\"f_sint32\":\"-7\",\"f_uint32\":1e3,"
        "\"f_int64\":-5.0,\"f_fixed32\":\"0\"}");
    assert_int_equal (msg->f_int32, 42);
    assert_int_equal (msg->f_sint32, -7);
    assert_int_equal (msg->f_uint32, 1000);
    assert_true (msg->f_int64 == -5);
    s_free_msg (msg);

    //  Only canonical decimal in strings, only exact integers in reals
    s_expect_error ("{\"f_int32\":\"042\"}", "field 'f_int32': expected an integer");
    s_expect_error ("{\"f_int32\":\"+1\"}", "field 'f_int32': expected an integer");
    s_expect_error ("{\"f_int32\":\"-0\"}", "field 'f_int32': expected an integer");
    s_expect_error ("{\"f_int32\":\" 1\"}", "field 'f_int32': expected an integer");
    s_expect_error ("{\"f_int32\":\"1.5\"}", "field 'f_int32': expected an integer");
    s_expect_error ("{\"f_int32\":\"\"}", "field 'f_int32': expected an integer");
    s_expect_error ("{\"f_int32\":1.5}", "field 'f_int32': expected an integer");
    s_expect_error ("{\"f_int64\":1e300}", "field 'f_int64': expected an integer");
    s_expect_error ("{\"f_int64\":1e17}", "field 'f_int64': expected an integer");
}

static void
test_float_and_double_numbers_and_special_strings (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"f_float\":0.1,\"f_double\":\"2.5e-3\","
        "\"r_double\":[\"NaN\",\"Infinity\",\"-Infinity\",7,-0.0],"
        "\"r_float\":[3.4028235e38,1e-45,\"-1.5\"]}");
    assert_true (msg->f_float == 0.1f);
    assert_true (msg->f_double == 2.5e-3);
    assert_int_equal (msg->n_r_double, 5);
    assert_true (isnan (msg->r_double [0]));
    assert_true (isinf (msg->r_double [1]) && msg->r_double [1] > 0);
    assert_true (isinf (msg->r_double [2]) && msg->r_double [2] < 0);
    assert_true (msg->r_double [3] == 7.0);
    assert_true (msg->r_double [4] == 0 && signbit (msg->r_double [4]));
    assert_true (msg->r_float [0] == FLT_MAX);
    assert_true (msg->r_float [1] > 0);    //  the smallest denormal
    assert_true (msg->r_float [2] == -1.5f);
    //  Shortest text that reads back
    s_assert_printed (&msg->base, "f_float", "0.1");
    s_assert_printed (&msg->base, "f_double", "0.0025");
    s_assert_printed (&msg->base, "r_double",
                      "[\"NaN\",\"Infinity\",\"-Infinity\",7,-0.0]");
    s_assert_printed (&msg->base, "r_float", "[3.4028235e+38,1e-45,-1.5]");
    s_free_msg (msg);

    s_expect_error ("{\"f_float\":1e39}",
                    "field 'f_float': value out of range for float");
    s_expect_error ("{\"f_double\":\"1e999\"}",
                    "field 'f_double': value out of range for double");
    s_expect_error ("{\"f_double\":\"nan\"}", "field 'f_double': expected a number");
    s_expect_error ("{\"f_double\":\"0x10\"}", "field 'f_double': expected a number");
    s_expect_error ("{\"f_double\":\"1.\"}", "field 'f_double': expected a number");
    s_expect_error ("{\"f_float\":true}", "field 'f_float': expected a number");
}

static void
test_double_prints_shortest_round_trip (void **state)
{
    all_types_t msg = TASHAN__TEST__ALL_TYPES__INIT;
    msg.f_double = 1.0 / 3.0;
    s_assert_printed (&msg.base, "f_double", "0.3333333333333333");
    msg.f_double = 0.1 + 0.2;
    s_assert_printed (&msg.base, "f_double", "0.30000000000000004");
    msg.f_double = 1e300;
    s_assert_printed (&msg.base, "f_double", "1e+300");
    msg.f_double = DBL_MAX;
    s_assert_printed (&msg.base, "f_double", "1.7976931348623157e+308");
    msg.f_float = 16777216.0f;
    s_assert_printed (&msg.base, "f_float", "16777216");
}

static void
test_bool_only_true_and_false (void **state)
{
    all_types_t *msg = s_parse_ok ("{\"f_bool\":true,\"r_bool\":[false,true]}");
    assert_true (msg->f_bool);
    assert_int_equal (msg->n_r_bool, 2);
    assert_false (msg->r_bool [0]);
    assert_true (msg->r_bool [1]);
    s_assert_printed (&msg->base, "r_bool", "[false,true]");
    s_free_msg (msg);

    s_expect_error ("{\"f_bool\":1}", "field 'f_bool': expected true or false");
    s_expect_error ("{\"f_bool\":\"true\"}", "field 'f_bool': expected true or false");
}

static void
test_string_must_be_utf8_without_nul (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"f_string\":\"h\\u00e9llo \xe4\xbd\xa0\xe5\xa5\xbd \\ud83d\\ude00\"}");
    assert_string_equal (msg->f_string,
                         "h\xc3\xa9llo \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80");
    s_free_msg (msg);

    s_expect_error_prefix ("{\"f_string\":\"\xff\"}", "malformed JSON");
    s_expect_error_prefix ("{\"f_string\":\"\xc0\xaf\"}", "malformed JSON");
    s_expect_error_prefix ("{\"f_string\":\"\\ud800\"}", "malformed JSON");
    s_expect_error_prefix ("{\"f_string\":\"a\\u0000b\"}", "malformed JSON");
    s_expect_error ("{\"f_string\":5}", "field 'f_string': expected a string");
}

static void
test_string_printing_escapes_and_repairs (void **state)
{
    all_types_t msg = TASHAN__TEST__ALL_TYPES__INIT;
    msg.f_string = "q\"b\\n\n\t\x01\x7f/\xc3\xa9";
    s_assert_printed (&msg.base, "f_string",
                      "\"q\\\"b\\\\n\\n\\t\\u0001\\u007f/\xc3\xa9\"");
    //  Not from our parser: bad bytes print as U+FFFD
    msg.f_string = "a\xff" "b\xe4\xbd";
    s_assert_printed (&msg.base, "f_string",
                      "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void
test_bytes_base64_standard_and_urlsafe (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"f_bytes\":\"aGVsbG8=\",\"r_bytes\":[\"aGVsbG8\",\"-_8\",\"+/8=\",\"\"]}");
    assert_int_equal (msg->f_bytes.len, 5);
    assert_memory_equal (msg->f_bytes.data, "hello", 5);
    assert_int_equal (msg->n_r_bytes, 4);
    assert_memory_equal (msg->r_bytes [0].data, "hello", 5);
    assert_int_equal (msg->r_bytes [1].len, 2);
    assert_memory_equal (msg->r_bytes [1].data, "\xfb\xff", 2);
    assert_memory_equal (msg->r_bytes [2].data, "\xfb\xff", 2);
    assert_int_equal (msg->r_bytes [3].len, 0);
    //  Printed standard, padded
    s_assert_printed (&msg->base, "f_bytes", "\"aGVsbG8=\"");
    s_assert_printed (&msg->base, "r_bytes",
                      "[\"aGVsbG8=\",\"+/8=\",\"+/8=\",\"\"]");
    s_free_msg (msg);

    s_expect_error ("{\"f_bytes\":\"a\"}", "field 'f_bytes': expected base64");
    s_expect_error ("{\"f_bytes\":\"ab!d\"}", "field 'f_bytes': expected base64");
    s_expect_error ("{\"f_bytes\":\"aGVsbG8==\"}", "field 'f_bytes': expected base64");
    s_expect_error ("{\"f_bytes\":\"aG=\"}", "field 'f_bytes': expected base64");
    s_expect_error ("{\"f_bytes\":[1]}", "field 'f_bytes': expected a base64 string");
}

static void
test_enum_by_name_and_number (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"f_enum\":\"GREEN\",\"r_enum\":[\"RED\",3,-1,\"INFRARED\",0]}");
    assert_int_equal (msg->f_enum, TASHAN__TEST__COLOR__GREEN);
    assert_int_equal (msg->n_r_enum, 5);
    assert_int_equal (msg->r_enum [0], TASHAN__TEST__COLOR__RED);
    assert_int_equal (msg->r_enum [1], TASHAN__TEST__COLOR__BLUE);
    assert_int_equal (msg->r_enum [2], TASHAN__TEST__COLOR__INFRARED);
    s_assert_printed (&msg->base, "f_enum", "\"GREEN\"");
    s_assert_printed (&msg->base, "r_enum",
                      "[\"RED\",\"BLUE\",\"INFRARED\",\"INFRARED\",\"COLOR_UNSPECIFIED\"]");
    s_free_msg (msg);

    s_expect_error ("{\"f_enum\":\"red\"}",
                    "field 'f_enum': not a value of enum tashan.test.Color");
    s_expect_error ("{\"f_enum\":\"PURPLE\"}",
                    "field 'f_enum': not a value of enum tashan.test.Color");
    s_expect_error ("{\"f_enum\":7}",
                    "field 'f_enum': not a value of enum tashan.test.Color");
    s_expect_error ("{\"f_enum\":4294967297}",
                    "field 'f_enum': not a value of enum tashan.test.Color");
    s_expect_error ("{\"f_enum\":1.0}",
                    "field 'f_enum': expected an enum name or number");

    //  A number the enum lacks can come off the wire: prints as a number
    all_types_t wire = TASHAN__TEST__ALL_TYPES__INIT;
    wire.f_enum = 9;
    s_assert_printed (&wire.base, "f_enum", "9");
}


//  --------------------------------------------------------------------------
//  Repeated, nested, oneof, maps

static void
test_repeated_scalars_and_null (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"r_int32\":[1,-2,3],\"r_sint32\":[-1],\"r_sfixed32\":[5],"
        "\"r_uint32\":[7],\"r_fixed32\":[8],\"r_sint64\":[-9],"
        "\"r_sfixed64\":[10],\"r_fixed64\":[\"11\"],"
        "\"r_string\":[\"a\",\"\"],\"r_enum\":null,\"r_double\":[]}");
    assert_int_equal (msg->n_r_int32, 3);
    assert_int_equal (msg->r_int32 [1], -2);
    assert_int_equal (msg->r_sint32 [0], -1);
    assert_int_equal (msg->r_sfixed32 [0], 5);
    assert_int_equal (msg->r_uint32 [0], 7);
    assert_int_equal (msg->r_fixed32 [0], 8);
    assert_true (msg->r_sint64 [0] == -9);
    assert_true (msg->r_sfixed64 [0] == 10);
    assert_true (msg->r_fixed64 [0] == 11);
    assert_int_equal (msg->n_r_string, 2);
    assert_string_equal (msg->r_string [1], "");
    assert_int_equal (msg->n_r_enum, 0);
    assert_int_equal (msg->n_r_double, 0);
    s_assert_printed (&msg->base, "r_string", "[\"a\",\"\"]");
    s_assert_printed (&msg->base, "r_enum", "[]");
    s_free_msg (msg);

    s_expect_error ("{\"r_int32\":5}", "field 'r_int32': expected an array");
    s_expect_error ("{\"r_int32\":[1,null]}",
                    "field 'r_int32[1]': null is not allowed in an array");
    s_expect_error ("{\"r_string\":[\"a\",\"b\",3]}",
                    "field 'r_string[2]': expected a string");
}

static void
test_repeated_and_nested_messages (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"members\":[{\"name\":\"Li\",\"birth_year\":1950,\"tags\":[\"elder\"]},"
        "{\"name\":\"Wang\",\"guardian\":{\"name\":\"Li\",\"guardian\":{}}}],"
        "\"f_leaf\":{\"n\":3}}");
    assert_int_equal (msg->n_members, 2);
    assert_string_equal (msg->members [0]->name, "Li");
    assert_int_equal (msg->members [0]->birth_year, 1950);
    assert_int_equal (msg->members [0]->n_tags, 1);
    assert_string_equal (msg->members [0]->tags [0], "elder");
    assert_null (msg->members [0]->guardian);
    assert_non_null (msg->members [1]->guardian);
    assert_string_equal (msg->members [1]->guardian->name, "Li");
    assert_non_null (msg->members [1]->guardian->guardian);
    assert_int_equal (msg->f_leaf->n, 3);
    s_free_msg (msg);

    s_expect_error ("{\"members\":[{},{},{\"birth_year\":\"x\"}]}",
                    "field 'members[2].birth_year': expected an integer");
    s_expect_error ("{\"members\":[{\"guardian\":{\"guardian\":{\"tags\":[\"a\",1]}}}]}",
                    "field 'members[0].guardian.guardian.tags[1]': expected a string");
    s_expect_error ("{\"members\":[[]]}", "field 'members[0]': expected an object");
    s_expect_error ("{\"f_leaf\":\"x\"}", "field 'f_leaf': expected an object");
}

static void
test_absent_messages_print_defaults_or_null_when_recursive (void **state)
{
    all_types_t *msg = s_parse_ok ("{\"members\":[{\"name\":\"A\"}]}");
    //  Leaf is not recursive: its defaults
    s_assert_printed (&msg->base, "f_leaf", "{\"n\":0}");
    //  Member.guardian is a Member inside a Member: null
    s_assert_printed (&msg->base, "members",
                      "[{\"name\":\"A\",\"birth_year\":0,\"tags\":[],\"guardian\":null}]");
    s_free_msg (msg);

    //  Explicit null means absent
    msg = s_parse_ok ("{\"f_leaf\":null,\"members\":[{\"guardian\":null}]}");
    assert_null (msg->f_leaf);
    assert_null (msg->members [0]->guardian);
    s_free_msg (msg);
}

static void
test_oneof_sets_one_member_and_prints_only_it (void **state)
{
    all_types_t *msg = s_parse_ok ("{\"c_member\":{\"name\":\"X\"}}");
    assert_int_equal (msg->choice_case, TASHAN__TEST__ALL_TYPES__CHOICE_C_MEMBER);
    assert_string_equal (msg->c_member->name, "X");
    char *json = gw_json_print (&msg->base);
    assert_non_null (strstr (json, "\"c_member\":{\"name\":\"X\""));
    assert_null (strstr (json, "c_text"));
    assert_null (strstr (json, "c_number"));
    free (json);
    s_free_msg (msg);

    msg = s_parse_ok ("{\"c_number\":\"-12\",\"c_text\":null}");
    assert_int_equal (msg->choice_case, TASHAN__TEST__ALL_TYPES__CHOICE_C_NUMBER);
    assert_true (msg->c_number == -12);
    s_free_msg (msg);

    //  Unset: no member printed at all
    msg = s_parse_ok ("{}");
    assert_int_equal (msg->choice_case, TASHAN__TEST__ALL_TYPES__CHOICE__NOT_SET);
    json = gw_json_print (&msg->base);
    assert_null (strstr (json, "\"c_"));
    free (json);
    s_free_msg (msg);

    s_expect_error ("{\"c_text\":\"a\",\"c_number\":2}",
                    "field 'c_number': its oneof is already set by 'c_text'");
    s_expect_error ("{\"c_bytes\":\"AA==\",\"cMember\":{}}",
                    "field 'c_member': its oneof is already set by 'c_bytes'");
}

static void
test_maps_are_json_objects (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"m_counts\":{\"b\":1,\"a\":\"-9223372036854775808\"},"
        "\"m_names\":{\"1\":\"one\",\"-5\":\"minus five\"},"
        "\"m_members\":{\"k\":{\"name\":\"M\"}},"
        "\"m_flags\":{\"true\":\"RED\",\"false\":2},"
        "\"m_blobs\":{\"18446744073709551615\":\"AQI=\"},"
        "\"m_weights\":{\"-3\":0.5}}");
    assert_int_equal (msg->n_m_counts, 2);
    assert_string_equal (msg->m_counts [0]->key, "b");
    assert_true (msg->m_counts [1]->value == INT64_MIN);
    assert_int_equal (msg->m_names [1]->key, -5);
    assert_string_equal (msg->m_names [1]->value, "minus five");
    assert_string_equal (msg->m_members [0]->value->name, "M");
    assert_true (msg->m_flags [0]->key);
    assert_int_equal (msg->m_flags [1]->value, TASHAN__TEST__COLOR__GREEN);
    assert_true (msg->m_blobs [0]->key == UINT64_MAX);
    assert_int_equal (msg->m_weights [0]->key, -3);
    //  Keys print as strings, in the order given
    s_assert_printed (&msg->base, "m_counts",
                      "{\"b\":1,\"a\":-9223372036854775808}");
    s_assert_printed (&msg->base, "m_names",
                      "{\"1\":\"one\",\"-5\":\"minus five\"}");
    s_assert_printed (&msg->base, "m_flags",
                      "{\"true\":\"RED\",\"false\":\"GREEN\"}");
    s_assert_printed (&msg->base, "m_blobs",
                      "{\"18446744073709551615\":\"AQI=\"}");
    s_assert_printed (&msg->base, "m_weights", "{\"-3\":0.5}");
    s_free_msg (msg);

    s_expect_error ("{\"m_names\":{\"01\":\"a\"}}",
                    "field 'm_names[\"01\"]': expected an integer");
    s_expect_error ("{\"m_names\":{\"x\":\"a\"}}",
                    "field 'm_names[\"x\"]': expected an integer");
    s_expect_error ("{\"m_flags\":{\"yes\":1}}",
                    "field 'm_flags[\"yes\"]': expected true or false");
    s_expect_error ("{\"m_counts\":{\"a\":null}}",
                    "field 'm_counts[\"a\"]': null is not allowed as a map value");
    s_expect_error ("{\"m_counts\":{\"a\":\"b\"}}",
                    "field 'm_counts[\"a\"]': expected an integer");
    s_expect_error ("{\"m_counts\":[]}", "field 'm_counts': expected an object");
    s_expect_error ("{\"m_members\":{\"k\":{\"nope\":1}}}",
                    "unknown field 'm_members[\"k\"].nope'");
}


//  --------------------------------------------------------------------------
//  Names, unknown fields, wrong types, duplicates, limits, bad JSON

static void
test_camel_case_names_accepted (void **state)
{
    all_types_t *msg = s_parse_ok (
        "{\"fInt32\":1,\"rString\":[\"x\"],\"cText\":\"t\",\"mCounts\":{\"a\":1},"
        "\"members\":[{\"birthYear\":1990}],\"fLeaf\":{}}");
    assert_int_equal (msg->f_int32, 1);
    assert_int_equal (msg->n_r_string, 1);
    assert_string_equal (msg->c_text, "t");
    assert_int_equal (msg->n_m_counts, 1);
    assert_int_equal (msg->members [0]->birth_year, 1990);
    assert_non_null (msg->f_leaf);
    //  Printing uses the declared names
    s_assert_printed (&msg->base, "f_int32", "1");
    s_free_msg (msg);

    s_expect_error ("{\"FInt32\":1}", "unknown field 'FInt32'");
    s_expect_error ("{\"fint32\":1}", "unknown field 'fint32'");
    s_expect_error ("{\"fInt32x\":1}", "unknown field 'fInt32x'");
    s_expect_error ("{\"fInt\":1}", "unknown field 'fInt'");
    s_expect_error ("{\"members\":[{\"birth_year\":1,\"birthYear\":2}]}",
                    "field 'members[0].birth_year': given twice "
                    "(as 'birth_year' and as 'birthYear')");
}

static void
test_unknown_field_is_named (void **state)
{
    s_expect_error ("{\"nope\":1}", "unknown field 'nope'");
    s_expect_error ("{\"f_int32\":1,\"members\":[{},{\"nickname\":\"x\"}]}",
                    "unknown field 'members[1].nickname'");
    //  Even with a null value, or an empty name
    s_expect_error ("{\"nope\":null}", "unknown field 'nope'");
    s_expect_error ("{\"\":1}", "unknown field ''");
    s_expect_error ("{\"members\":[{\"\":1}]}", "unknown field 'members[0].'");
}

static void
test_wrong_types_name_the_path (void **state)
{
    s_expect_error ("{\"f_int32\":\"abc\"}", "field 'f_int32': expected an integer");
    s_expect_error ("{\"f_int32\":{}}", "field 'f_int32': expected an integer");
    s_expect_error ("{\"f_string\":{}}", "field 'f_string': expected a string");
    s_expect_error ("{\"f_string\":[\"a\"]}", "field 'f_string': expected a string");
    s_expect_error ("{\"f_string\":true}", "field 'f_string': expected a string");
    s_expect_error ("{\"f_leaf\":[]}", "field 'f_leaf': expected an object");
    s_expect_error ("{\"f_leaf\":{\"n\":[1]}}", "field 'f_leaf.n': expected an integer");
    s_expect_error ("{\"members\":{}}", "field 'members': expected an array");
    s_expect_error ("{\"r_double\":[1,\"x\"]}", "field 'r_double[1]': expected a number");
}

static void
test_duplicate_keys_rejected (void **state)
{
    s_expect_error_prefix ("{\"f_int32\":1,\"f_int32\":2}", "malformed JSON");
    assert_non_null (strstr (s_err, "duplicate object key"));
    s_expect_error_prefix ("{\"members\":[{\"name\":\"a\",\"name\":\"b\"}]}",
                           "malformed JSON");
}

//  Members nested through guardian, as deep as `levels` JSON containers
static char *
s_nested_members (int levels)
{
    //  {"members":[ {"guardian": ... {} ... }]}: top object and array are
    //  2 levels, every member object one more
    char *json = malloc (64 + (size_t) levels * 16);
    strcpy (json, "{\"members\":[");
    int members = levels - 2;
    for (int index = 0; index < members; index++)
        strcat (json, index + 1 < members? "{\"guardian\":": "{}");
    for (int index = 0; index + 1 < members; index++)
        strcat (json, "}");
    strcat (json, "]}");
    return json;
}

static void
test_depth_limit (void **state)
{
    char *json = s_nested_members (GW_JSON_MAX_DEPTH);
    all_types_t *msg = s_parse_ok (json);
    s_free_msg (msg);
    free (json);

    json = s_nested_members (GW_JSON_MAX_DEPTH + 1);
    s_expect_error (json, "JSON nested deeper than 32 levels");
    free (json);

    //  Deep garbage is refused before anything reads it
    size_t len = 100000;
    json = malloc (len + 1);
    memset (json, '[', len);
    json [len] = 0;
    s_expect_error (json, "JSON nested deeper than 32 levels");
    free (json);

    //  Brackets in strings do not count, escaped quotes do not end them
    all_types_t *flat = s_parse_ok (
        "{\"f_string\":\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}");
    assert_int_equal (strlen (flat->f_string), 41);
    s_free_msg (flat);
}

static void
test_array_element_limit (void **state)
{
    size_t len = 16 + (GW_JSON_MAX_ELEMENTS + 1) * 2;
    char *json = malloc (len);
    strcpy (json, "{\"r_int32\":[");
    char *end = json + strlen (json);
    for (int index = 0; index < GW_JSON_MAX_ELEMENTS; index++) {
        *end++ = '1';
        *end++ = ',';
    }
    end [-1] = ']';
    strcpy (end, "}");
    all_types_t *msg = s_parse_ok (json);
    assert_int_equal (msg->n_r_int32, GW_JSON_MAX_ELEMENTS);
    s_free_msg (msg);

    end [-1] = ',';
    strcpy (end, "1]}");
    s_expect_error (json, "field 'r_int32': more than 10000 elements");
    free (json);
}

static void
test_malformed_json (void **state)
{
    s_expect_error_prefix ("{", "malformed JSON (line 1, column 1)");
    s_expect_error_prefix ("{\"f_int32\":}", "malformed JSON");
    s_expect_error_prefix ("{} x", "malformed JSON");
    s_expect_error_prefix ("{\"a\":1,}", "malformed JSON");
    s_expect_error_prefix ("{'a':1}", "malformed JSON");
    s_expect_error ("[]", "the body must be a JSON object");
    s_expect_error ("1", "the body must be a JSON object");
    s_expect_error ("\"x\"", "the body must be a JSON object");
    s_expect_error ("null", "the body must be a JSON object");

    //  len is honoured: text past it is not read
    all_types_t *msg = (all_types_t *) gw_json_parse (
        &tashan__test__all_types__descriptor, "{}garbage", 2, &s_counting,
        s_err, sizeof (s_err));
    assert_non_null (msg);
    s_free_msg (msg);
}

static void
test_empty_body_is_empty_object (void **state)
{
    const char *bodies [] = { "", "  \r\n\t ", "{}", " { } " };
    for (size_t index = 0; index < 4; index++) {
        all_types_t *msg = s_parse_ok (bodies [index]);
        assert_int_equal (msg->f_int32, 0);
        assert_null (msg->f_leaf);
        s_free_msg (msg);
    }
    ProtobufCMessage *msg = gw_json_parse (&tashan__test__all_types__descriptor,
                                           NULL, 0, NULL, NULL, 0);
    assert_non_null (msg);
    protobuf_c_message_free_unpacked (msg, NULL);
}

static void
test_error_messages_one_line_and_bounded (void **state)
{
    //  A key with a newline and a very long one
    s_expect_error ("{\"a\\nb\":1}", "unknown field 'a?b'");
    char json [600];
    snprintf (json, sizeof (json), "{\"%0500d\":1}", 7);
    all_types_t *msg = s_parse (json);
    assert_null (msg);
    assert_true (strlen (s_err) < sizeof (s_err));
    assert_non_null (strstr (s_err, "...'"));
    assert_null (strchr (s_err, '\n'));

    //  A small buffer is filled, terminated, never overrun
    char small [12];
    memset (small, 'x', sizeof (small));
    msg = (all_types_t *) gw_json_parse (&tashan__test__all_types__descriptor,
                                         "{\"nope\":1}", 10, NULL, small, 8);
    assert_null (msg);
    assert_string_equal (small, "unknown");
    assert_int_equal (small [8], 'x');
    //  And no buffer at all is fine
    msg = (all_types_t *) gw_json_parse (&tashan__test__all_types__descriptor,
                                         "{\"nope\":1}", 10, NULL, NULL, 0);
    assert_null (msg);
}


//  --------------------------------------------------------------------------
//  Printing and round trips

static const char *s_defaults_json =
    "{\"f_int32\":0,\"f_sint32\":0,\"f_sfixed32\":0,\"f_uint32\":0,"
    "\"f_fixed32\":0,\"f_int64\":0,\"f_sint64\":0,\"f_sfixed64\":0,"
    "\"f_uint64\":0,\"f_fixed64\":0,\"f_float\":0,\"f_double\":0,"
    "\"f_bool\":false,\"f_string\":\"\",\"f_bytes\":\"\","
    "\"f_enum\":\"COLOR_UNSPECIFIED\",\"f_leaf\":{\"n\":0},"
    "\"r_int32\":[],\"r_sint32\":[],\"r_sfixed32\":[],\"r_uint32\":[],"
    "\"r_fixed32\":[],\"r_int64\":[],\"r_sint64\":[],\"r_sfixed64\":[],"
    "\"r_uint64\":[],\"r_fixed64\":[],\"r_float\":[],\"r_double\":[],"
    "\"r_bool\":[],\"r_string\":[],\"r_bytes\":[],\"r_enum\":[],"
    "\"members\":[],\"m_counts\":{},\"m_names\":{},\"m_members\":{},"
    "\"m_flags\":{},\"m_blobs\":{},\"m_weights\":{}}";

static void
test_print_includes_every_zero_value (void **state)
{
    all_types_t msg = TASHAN__TEST__ALL_TYPES__INIT;
    char *json = gw_json_print (&msg.base);
    assert_non_null (json);
    assert_string_equal (json, s_defaults_json);
    free (json);

    //  And a parsed empty body prints the same
    all_types_t *parsed = s_parse_ok ("");
    json = gw_json_print (&parsed->base);
    assert_string_equal (json, s_defaults_json);
    free (json);
    s_free_msg (parsed);
}

//  Everything set, in the canonical form the printer writes
static const char *s_full_json =
    "{\"f_int32\":-1,\"f_sint32\":-2147483648,\"f_sfixed32\":2147483647,"
    "\"f_uint32\":4294967295,\"f_fixed32\":1,\"f_int64\":-9223372036854775808,"
    "\"f_sint64\":9223372036854775807,\"f_sfixed64\":-2,"
    "\"f_uint64\":\"18446744073709551615\",\"f_fixed64\":9223372036854775807,"
    "\"f_float\":1.5,\"f_double\":-0.1,\"f_bool\":true,"
    "\"f_string\":\"\\\"\xe4\xbd\xa0\\n\",\"f_bytes\":\"AP8=\","
    "\"f_enum\":\"INFRARED\",\"f_leaf\":{\"n\":7},"
    "\"r_int32\":[1,2],\"r_sint32\":[-3],\"r_sfixed32\":[4],\"r_uint32\":[5],"
    "\"r_fixed32\":[6],\"r_int64\":[7],\"r_sint64\":[-8],\"r_sfixed64\":[9],"
    "\"r_uint64\":[10],\"r_fixed64\":[\"18446744073709551614\"],"
    "\"r_float\":[\"NaN\",0.25],\"r_double\":[\"-Infinity\",1e+100],"
    "\"r_bool\":[true,false],\"r_string\":[\"\",\"x\"],\"r_bytes\":[\"\",\"YQ==\"],"
    "\"r_enum\":[\"RED\",\"BLUE\"],"
    "\"members\":[{\"name\":\"A\",\"birth_year\":1990,\"tags\":[\"t\"],"
    "\"guardian\":{\"name\":\"B\",\"birth_year\":0,\"tags\":[],\"guardian\":null}}],"
    "\"c_member\":{\"name\":\"C\",\"birth_year\":0,\"tags\":[],\"guardian\":null},"
    "\"m_counts\":{\"a\":1},\"m_names\":{\"-1\":\"m\"},"
    "\"m_members\":{\"k\":{\"name\":\"\",\"birth_year\":0,\"tags\":[],\"guardian\":null}},"
    "\"m_flags\":{\"false\":\"BLUE\"},\"m_blobs\":{\"0\":\"\"},"
    "\"m_weights\":{\"2\":\"Infinity\"}}";

static void
test_round_trip_through_protobuf (void **state)
{
    all_types_t *msg = s_parse_ok (s_full_json);
    char *printed = gw_json_print (&msg->base);
    assert_string_equal (printed, s_full_json);

    size_t size = protobuf_c_message_get_packed_size (&msg->base);
    uint8_t *wire = malloc (size);
    assert_int_equal (protobuf_c_message_pack (&msg->base, wire), size);
    ProtobufCMessage *back = protobuf_c_message_unpack (
        &tashan__test__all_types__descriptor, NULL, size, wire);
    assert_non_null (back);
    char *reprinted = gw_json_print (back);
    assert_string_equal (reprinted, s_full_json);

    protobuf_c_message_free_unpacked (back, NULL);
    free (reprinted);
    free (wire);
    free (printed);
    s_free_msg (msg);
}

//  One buffer serves message after message: the long one grows it, the
//  short one after it prints into it whole (no stale tail), and the
//  text is what gw_json_print gives.
static void
test_print_to_reuses_the_buffer (void **state)
{
    all_types_t *full = s_parse_ok (s_full_json);
    all_types_t empty = TASHAN__TEST__ALL_TYPES__INIT;
    char *buf = NULL;
    size_t cap = 0;
    long len = gw_json_print_to (&full->base, &buf, &cap);
    assert_int_equal (len, strlen (s_full_json));
    assert_string_equal (buf, s_full_json);
    char *grown = buf;
    size_t grown_cap = cap;
    len = gw_json_print_to (&empty.base, &buf, &cap);
    assert_int_equal (len, strlen (s_defaults_json));
    assert_string_equal (buf, s_defaults_json);
    assert_ptr_equal (buf, grown);          //  fitted: not reallocated
    assert_int_equal (cap, grown_cap);
    free (buf);
    s_free_msg (full);
}

static void
test_print_nests_at_most_max_depth (void **state)
{
    member_t members [GW_JSON_MAX_PRINT_DEPTH + 1];
    for (int index = 0; index <= GW_JSON_MAX_PRINT_DEPTH; index++) {
        member_t init = TASHAN__TEST__MEMBER__INIT;
        members [index] = init;
        if (index > 0)
            members [index - 1].guardian = &members [index];
    }
    assert_null (gw_json_print (&members [0].base));
    members [GW_JSON_MAX_PRINT_DEPTH - 1].guardian = NULL;
    char *json = gw_json_print (&members [0].base);
    assert_non_null (json);
    free (json);
}


//  --------------------------------------------------------------------------
//  Setting fields from path and query strings

static all_types_t *
s_new_message (void)
{
    all_types_t *msg = s_count_alloc (NULL, sizeof (all_types_t));
    tashan__test__all_types__init (msg);
    return msg;
}

static int
s_set (all_types_t *msg, const char *name, const char *value)
{
    return gw_json_set_field_from_string (&msg->base, name, value,
                                          &s_counting, s_err, sizeof (s_err));
}

static void
test_set_field_each_scalar_type (void **state)
{
    all_types_t *msg = s_new_message ();
    assert_int_equal (s_set (msg, "f_int32", "-2147483648"), 0);
    assert_int_equal (s_set (msg, "f_sint32", "5"), 0);
    assert_int_equal (s_set (msg, "f_sfixed32", "-6"), 0);
    assert_int_equal (s_set (msg, "f_uint32", "4294967295"), 0);
    assert_int_equal (s_set (msg, "f_fixed32", "8"), 0);
    assert_int_equal (s_set (msg, "f_int64", "-9223372036854775808"), 0);
    assert_int_equal (s_set (msg, "f_sint64", "9"), 0);
    assert_int_equal (s_set (msg, "f_sfixed64", "-10"), 0);
    assert_int_equal (s_set (msg, "f_uint64", "18446744073709551615"), 0);
    assert_int_equal (s_set (msg, "f_fixed64", "11"), 0);
    assert_int_equal (s_set (msg, "f_float", "0.5"), 0);
    assert_int_equal (s_set (msg, "f_double", "-Infinity"), 0);
    assert_int_equal (s_set (msg, "f_bool", "true"), 0);
    assert_int_equal (s_set (msg, "f_string", "\xe4\xbd\xa0 hi"), 0);
    assert_int_equal (s_set (msg, "f_bytes", "aGk"), 0);
    assert_int_equal (s_set (msg, "f_enum", "BLUE"), 0);

    assert_int_equal (msg->f_int32, INT32_MIN);
    assert_int_equal (msg->f_sint32, 5);
    assert_int_equal (msg->f_sfixed32, -6);
    assert_true (msg->f_uint32 == UINT32_MAX);
    assert_int_equal (msg->f_fixed32, 8);
    assert_true (msg->f_int64 == INT64_MIN);
    assert_true (msg->f_sint64 == 9);
    assert_true (msg->f_sfixed64 == -10);
    assert_true (msg->f_uint64 == UINT64_MAX);
    assert_true (msg->f_fixed64 == 11);
    assert_true (msg->f_float == 0.5f);
    assert_true (isinf (msg->f_double) && msg->f_double < 0);
    assert_true (msg->f_bool);
    assert_string_equal (msg->f_string, "\xe4\xbd\xa0 hi");
    assert_int_equal (msg->f_bytes.len, 2);
    assert_memory_equal (msg->f_bytes.data, "hi", 2);
    assert_int_equal (msg->f_enum, TASHAN__TEST__COLOR__BLUE);

    //  By number too, and camelCase names; replacing frees the old value
    assert_int_equal (s_set (msg, "fEnum", "-1"), 0);
    assert_int_equal (msg->f_enum, TASHAN__TEST__COLOR__INFRARED);
    assert_int_equal (s_set (msg, "fString", "second"), 0);
    assert_string_equal (msg->f_string, "second");
    assert_int_equal (s_set (msg, "f_bytes", ""), 0);
    assert_int_equal (msg->f_bytes.len, 0);
    assert_int_equal (s_set (msg, "f_bool", "false"), 0);
    assert_false (msg->f_bool);
    s_free_msg (msg);
}

static void
test_set_field_appends_to_repeated (void **state)
{
    all_types_t *msg = s_new_message ();
    assert_int_equal (s_set (msg, "r_string", "a"), 0);
    assert_int_equal (s_set (msg, "rString", "b"), 0);
    assert_int_equal (s_set (msg, "r_string", ""), 0);
    assert_int_equal (s_set (msg, "r_int64", "-3"), 0);
    assert_int_equal (s_set (msg, "r_enum", "GREEN"), 0);
    assert_int_equal (s_set (msg, "r_bytes", "AA=="), 0);
    assert_int_equal (msg->n_r_string, 3);
    assert_string_equal (msg->r_string [0], "a");
    assert_string_equal (msg->r_string [1], "b");
    assert_string_equal (msg->r_string [2], "");
    assert_true (msg->r_int64 [0] == -3);
    assert_int_equal (msg->r_enum [0], TASHAN__TEST__COLOR__GREEN);
    assert_int_equal (msg->r_bytes [0].len, 1);
    //  A failed append leaves the array as it was
    assert_int_equal (s_set (msg, "r_int64", "x"), -1);
    assert_int_equal (msg->n_r_int64, 1);
    s_free_msg (msg);
}

static void
test_set_field_oneof_switches_member (void **state)
{
    all_types_t *msg = s_parse_ok ("{\"c_member\":{\"name\":\"X\",\"tags\":[\"a\"]}}");
    assert_int_equal (s_set (msg, "c_text", "hello"), 0);
    assert_int_equal (msg->choice_case, TASHAN__TEST__ALL_TYPES__CHOICE_C_TEXT);
    assert_string_equal (msg->c_text, "hello");
    assert_int_equal (s_set (msg, "c_color", "RED"), 0);
    assert_int_equal (msg->choice_case, TASHAN__TEST__ALL_TYPES__CHOICE_C_COLOR);
    assert_int_equal (s_set (msg, "c_bytes", "AQID"), 0);
    assert_int_equal (s_set (msg, "c_number", "7"), 0);
    assert_true (msg->c_number == 7);
    char *json = gw_json_print (&msg->base);
    assert_non_null (strstr (json, "\"c_number\":7"));
    assert_null (strstr (json, "c_text"));
    free (json);
    s_free_msg (msg);                   //  teardown checks nothing leaked
}

static void
test_set_field_errors (void **state)
{
    all_types_t *msg = s_new_message ();
    assert_int_equal (s_set (msg, "nope", "1"), -1);
    assert_string_equal (s_err, "unknown field 'nope'");
    assert_int_equal (s_set (msg, "", "1"), -1);
    assert_string_equal (s_err, "unknown field ''");
    assert_int_equal (s_set (msg, "f_int32", "12abc"), -1);
    assert_string_equal (s_err, "field 'f_int32': expected an integer");
    assert_int_equal (s_set (msg, "f_uint32", "-1"), -1);
    assert_string_equal (s_err, "field 'f_uint32': value out of range for uint32");
    assert_int_equal (s_set (msg, "f_int64", "9223372036854775808"), -1);
    assert_string_equal (s_err, "field 'f_int64': value out of range for int64");
    assert_int_equal (s_set (msg, "f_bool", "1"), -1);
    assert_string_equal (s_err, "field 'f_bool': expected true or false");
    assert_int_equal (s_set (msg, "f_enum", "Blue"), -1);
    assert_string_equal (s_err, "field 'f_enum': not a value of enum tashan.test.Color");
    assert_int_equal (s_set (msg, "f_float", "1e40"), -1);
    assert_string_equal (s_err, "field 'f_float': value out of range for float");
    assert_int_equal (s_set (msg, "f_double", "abc"), -1);
    assert_string_equal (s_err, "field 'f_double': expected a number");
    assert_int_equal (s_set (msg, "f_string", "bad \xff utf8"), -1);
    assert_string_equal (s_err, "field 'f_string': expected a UTF-8 string without NUL");
    assert_int_equal (s_set (msg, "f_bytes", "!"), -1);
    assert_string_equal (s_err, "field 'f_bytes': expected base64");
    assert_int_equal (s_set (msg, "f_leaf", "{}"), -1);
    assert_string_equal (s_err, "field 'f_leaf': cannot be set from a string");
    assert_int_equal (s_set (msg, "m_counts", "a"), -1);
    assert_string_equal (s_err, "field 'm_counts': cannot be set from a string");
    //  Nothing was changed by the failures
    char *json = gw_json_print (&msg->base);
    assert_string_equal (json, s_defaults_json);
    free (json);
    s_free_msg (msg);
}


//  --------------------------------------------------------------------------
//  Memory: allocators, failures, proto2 presence

static void
test_failed_parse_frees_everything (void **state)
{
    //  Errors late in the body, after strings, arrays, maps and
    //  sub-messages were built: teardown and s_expect_error count blocks
    s_expect_error ("{\"f_string\":\"x\",\"r_string\":[\"a\",\"b\"],"
                    "\"members\":[{\"name\":\"n\",\"tags\":[\"t\"]}],"
                    "\"m_members\":{\"k\":{\"name\":\"v\"}},\"c_text\":\"c\","
                    "\"f_bytes\":\"AAAA\",\"r_bytes\":[\"AA==\"],"
                    "\"m_names\":{\"1\":\"x\",\"2\":5}}",
                    "field 'm_names[\"2\"]': expected a string");
}

static void
test_allocation_failure_at_every_step (void **state)
{
    int steps = 0;
    for (long countdown = 0; ; countdown++) {
        s_fail_countdown = countdown;
        all_types_t *msg = s_parse (s_full_json);
        s_fail_countdown = -1;
        if (msg) {
            s_free_msg (msg);
            break;
        }
        assert_string_equal (s_err, "out of memory");
        assert_int_equal (s_live_blocks, 0);
        steps++;
        assert_true (steps < 10000);
    }
    assert_true (steps > 40);           //  the body takes many blocks
}

static void
test_arena_allocator_needs_no_free (void **state)
{
    arena_t *arena = calloc (1, sizeof (arena_t));
    ProtobufCAllocator allocator = {
        .alloc = s_arena_alloc, .free = s_arena_free, .allocator_data = arena
    };
    ProtobufCMessage *msg = gw_json_parse (
        &tashan__test__all_types__descriptor, s_full_json,
        strlen (s_full_json), &allocator, s_err, sizeof (s_err));
    assert_non_null (msg);
    assert_true ((char *) msg >= arena->buffer
              && (char *) msg < arena->buffer + sizeof (arena->buffer));
    assert_int_equal (gw_json_set_field_from_string (
        msg, "r_string", "more", &allocator, s_err, sizeof (s_err)), 0);
    char *json = gw_json_print (msg);
    assert_non_null (strstr (json, "\"r_string\":[\"\",\"x\",\"more\"]"));
    free (json);
    //  The whole message dies with the arena
    free (arena);
}

//  A proto2 message, generated by protoc-c 1.4.1 from (protoc-c cannot do
//  proto3 `optional`, and one .proto cannot mix syntaxes):
//      syntax = "proto2"; package tashan.legacy;
//      message Legacy { required int64 id = 1; optional int32 count = 2;
//          optional string label = 3 [default = "none"];
//          optional bytes blob = 4; optional bool flag = 5 [default = true]; }
typedef struct {
    ProtobufCMessage base;
    int64_t id;
    protobuf_c_boolean has_count;
    int32_t count;
    char *label;
    protobuf_c_boolean has_blob;
    ProtobufCBinaryData blob;
    protobuf_c_boolean has_flag;
    protobuf_c_boolean flag;
} legacy_t;

static char s_legacy_label_default [] = "none";
static const protobuf_c_boolean s_legacy_flag_default = 1;
extern const ProtobufCMessageDescriptor legacy_descriptor;
#define LEGACY_INIT { PROTOBUF_C_MESSAGE_INIT (&legacy_descriptor), \
                      0, 0, 0, s_legacy_label_default, 0, {0, NULL}, 0, 1 }

static void
s_legacy_init (legacy_t *message)
{
    static const legacy_t init_value = LEGACY_INIT;
    *message = init_value;
}

static const ProtobufCFieldDescriptor s_legacy_fields [5] = {
    { "id", 1, PROTOBUF_C_LABEL_REQUIRED, PROTOBUF_C_TYPE_INT64, 0,
      offsetof (legacy_t, id), NULL, NULL, 0, 0, NULL, NULL },
    { "count", 2, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_INT32,
      offsetof (legacy_t, has_count), offsetof (legacy_t, count), NULL, NULL,
      0, 0, NULL, NULL },
    { "label", 3, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_STRING, 0,
      offsetof (legacy_t, label), NULL, &s_legacy_label_default, 0, 0, NULL,
      NULL },
    { "blob", 4, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_BYTES,
      offsetof (legacy_t, has_blob), offsetof (legacy_t, blob), NULL, NULL,
      0, 0, NULL, NULL },
    { "flag", 5, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_BOOL,
      offsetof (legacy_t, has_flag), offsetof (legacy_t, flag), NULL,
      &s_legacy_flag_default, 0, 0, NULL, NULL },
};
static const unsigned s_legacy_fields_by_name [] = { 3, 1, 4, 0, 2 };
static const ProtobufCIntRange s_legacy_ranges [1 + 1] = { { 1, 0 }, { 0, 5 } };
const ProtobufCMessageDescriptor legacy_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "tashan.legacy.Legacy", "Legacy",
    "Tashan__Legacy__Legacy", "tashan.legacy", sizeof (legacy_t), 5,
    s_legacy_fields, s_legacy_fields_by_name, 1, s_legacy_ranges,
    (ProtobufCMessageInit) s_legacy_init, NULL, NULL, NULL
};

static void
test_proto2_optional_sets_has_flags (void **state)
{
    //  Unset: defaults print, has_ flags stay clear
    legacy_t *msg = (legacy_t *) gw_json_parse (&legacy_descriptor, "{}", 2,
                                                &s_counting, s_err,
                                                sizeof (s_err));
    assert_non_null (msg);
    assert_false (msg->has_count);
    assert_false (msg->has_flag);
    assert_ptr_equal (msg->label, s_legacy_label_default);
    char *json = gw_json_print (&msg->base);
    assert_string_equal (json,
        "{\"id\":0,\"count\":0,\"label\":\"none\",\"blob\":\"\",\"flag\":true}");
    free (json);
    protobuf_c_message_free_unpacked (&msg->base, &s_counting);

    const char *body = "{\"id\":5,\"count\":0,\"label\":\"x\",\"blob\":\"AQ==\",\"flag\":false}";
    msg = (legacy_t *) gw_json_parse (&legacy_descriptor, body, strlen (body),
                                      &s_counting, s_err, sizeof (s_err));
    assert_non_null (msg);
    assert_true (msg->id == 5);
    assert_true (msg->has_count);
    assert_int_equal (msg->count, 0);
    assert_string_equal (msg->label, "x");
    assert_true (msg->has_blob);
    assert_true (msg->has_flag);
    assert_false (msg->flag);
    //  Packs with the has_ flags honoured, and unpacks the same
    size_t size = protobuf_c_message_get_packed_size (&msg->base);
    uint8_t wire [64];
    assert_true (size <= sizeof (wire));
    protobuf_c_message_pack (&msg->base, wire);
    legacy_t *back = (legacy_t *) protobuf_c_message_unpack (
        &legacy_descriptor, NULL, size, wire);
    assert_non_null (back);
    assert_true (back->has_count && back->has_flag && !back->flag);
    protobuf_c_message_free_unpacked (&back->base, NULL);

    //  Setting from a string sets has_ too, and frees the old label
    assert_int_equal (gw_json_set_field_from_string (
        &msg->base, "label", "y", &s_counting, s_err, sizeof (s_err)), 0);
    protobuf_c_message_free_unpacked (&msg->base, &s_counting);

    legacy_t fresh = LEGACY_INIT;
    assert_int_equal (gw_json_set_field_from_string (
        &fresh.base, "count", "3", &s_counting, s_err, sizeof (s_err)), 0);
    assert_true (fresh.has_count);
    assert_int_equal (fresh.count, 3);
    //  The default label is not ours to free: replacing it must not try
    assert_int_equal (gw_json_set_field_from_string (
        &fresh.base, "label", "z", &s_counting, s_err, sizeof (s_err)), 0);
    assert_string_equal (fresh.label, "z");
    s_count_free (NULL, fresh.label);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (test_int32_family_accepts_range_and_rejects_beyond),
        T (test_uint32_family_accepts_range_and_rejects_negative),
        T (test_int64_family_holds_extremes_exactly),
        T (test_uint64_above_int64_is_a_string_both_ways),
        T (test_integers_from_strings_and_integral_reals),
        T (test_float_and_double_numbers_and_special_strings),
        T (test_double_prints_shortest_round_trip),
        T (test_bool_only_true_and_false),
        T (test_string_must_be_utf8_without_nul),
        T (test_string_printing_escapes_and_repairs),
        T (test_bytes_base64_standard_and_urlsafe),
        T (test_enum_by_name_and_number),
        T (test_repeated_scalars_and_null),
        T (test_repeated_and_nested_messages),
        T (test_absent_messages_print_defaults_or_null_when_recursive),
        T (test_oneof_sets_one_member_and_prints_only_it),
        T (test_maps_are_json_objects),
        T (test_camel_case_names_accepted),
        T (test_unknown_field_is_named),
        T (test_wrong_types_name_the_path),
        T (test_duplicate_keys_rejected),
        T (test_depth_limit),
        T (test_array_element_limit),
        T (test_malformed_json),
        T (test_empty_body_is_empty_object),
        T (test_error_messages_one_line_and_bounded),
        T (test_print_includes_every_zero_value),
        T (test_round_trip_through_protobuf),
        T (test_print_to_reuses_the_buffer),
        T (test_print_nests_at_most_max_depth),
        T (test_set_field_each_scalar_type),
        T (test_set_field_appends_to_repeated),
        T (test_set_field_oneof_switches_member),
        T (test_set_field_errors),
        T (test_failed_parse_frees_everything),
        T (test_allocation_failure_at_every_step),
        T (test_arena_allocator_needs_no_free),
        T (test_proto2_optional_sets_has_flags),
#undef T
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
