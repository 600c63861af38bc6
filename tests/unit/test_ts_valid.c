/*  test_ts_valid - input checks (UTF-8, strings, months, enums, pages),
    the Asia/Shanghai month helpers, and the per-request arena. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_valid.h"
#include "ts_arena.h"
#include "common.pb-c.h"

//  A fresh handler context: ts_fail records code and message in it.
static ts_ctx
s_ctx (void)
{
    ts_ctx ctx;
    memset (&ctx, 0, sizeof ctx);
    return ctx;
}

//  n copies of unit (a UTF-8 sequence) in a malloc'd string.
static char *
s_repeat (const char *unit, size_t n)
{
    size_t len = strlen (unit);
    char *s = malloc (len * n + 1);
    assert_non_null (s);
    for (size_t i = 0; i < n; i++)
        memcpy (s + i * len, unit, len);
    s [len * n] = 0;
    return s;
}

//  --------------------------------------------------------------------
//  ts_utf8_chars

static void
test_utf8_ascii (void **state)
{
    (void) state;
    assert_int_equal (ts_utf8_chars (""), 0);
    assert_int_equal (ts_utf8_chars ("hello"), 5);
    assert_int_equal (ts_utf8_chars ("\x7f"), 1);
}

static void
test_utf8_multibyte (void **state)
{
    (void) state;
    assert_int_equal (ts_utf8_chars ("社区"), 2);                    //  3 bytes each
    assert_int_equal (ts_utf8_chars ("\xf0\x9f\x98\x80"), 1);       //  U+1F600, 4 bytes
    assert_int_equal (ts_utf8_chars ("a社😀é"), 4);
    assert_int_equal (ts_utf8_chars ("\xc2\x80"), 1);               //  smallest 2-byte
    assert_int_equal (ts_utf8_chars ("\xef\xbf\xbf"), 1);           //  U+FFFF
    assert_int_equal (ts_utf8_chars ("\xf4\x8f\xbf\xbf"), 1);       //  U+10FFFF, the last
    assert_int_equal (ts_utf8_chars ("\xed\x9f\xbf"), 1);           //  U+D7FF, below surrogates
    assert_int_equal (ts_utf8_chars ("\xee\x80\x80"), 1);           //  U+E000, above them
}

static void
test_utf8_bad_continuation (void **state)
{
    (void) state;
    assert_int_equal (ts_utf8_chars ("\xe4\x41\x41"), -1);          //  lead then ASCII
    assert_int_equal (ts_utf8_chars ("\x80"), -1);                  //  lone continuation
    assert_int_equal (ts_utf8_chars ("ab\xbf"), -1);
    assert_int_equal (ts_utf8_chars ("\xe7\xa4"), -1);              //  truncated at the end
    assert_int_equal (ts_utf8_chars ("\xf0\x9f\x98"), -1);
    assert_int_equal (ts_utf8_chars ("\xe7\xa4\xbe\xe7"), -1);
    assert_int_equal (ts_utf8_chars ("\xff"), -1);
    assert_int_equal (ts_utf8_chars ("\xf8\x88\x80\x80\x80"), -1);  //  5-byte form
}

static void
test_utf8_overlong (void **state)
{
    (void) state;
    assert_int_equal (ts_utf8_chars ("\xc0\xaf"), -1);              //  '/' in 2 bytes
    assert_int_equal (ts_utf8_chars ("\xc1\xbf"), -1);
    assert_int_equal (ts_utf8_chars ("\xe0\x80\xaf"), -1);          //  '/' in 3 bytes
    assert_int_equal (ts_utf8_chars ("\xe0\x9f\xbf"), -1);          //  U+07FF in 3 bytes
    assert_int_equal (ts_utf8_chars ("\xf0\x80\x80\xaf"), -1);      //  '/' in 4 bytes
    assert_int_equal (ts_utf8_chars ("\xf0\x8f\xbf\xbf"), -1);      //  U+FFFF in 4 bytes
}

static void
test_utf8_surrogates_and_beyond (void **state)
{
    (void) state;
    assert_int_equal (ts_utf8_chars ("\xed\xa0\x80"), -1);          //  U+D800
    assert_int_equal (ts_utf8_chars ("\xed\xbf\xbf"), -1);          //  U+DFFF
    assert_int_equal (ts_utf8_chars ("\xed\xa0\xbd\xed\xb8\x80"), -1);  //  CESU pair
    assert_int_equal (ts_utf8_chars ("\xf4\x90\x80\x80"), -1);      //  U+110000
    assert_int_equal (ts_utf8_chars ("\xf7\xbf\xbf\xbf"), -1);
}

//  The length-bounded forms the gateway's JSON uses: a sequence cut by
//  the end of the buffer is invalid, a NUL byte is a character.
static void
test_utf8_bounded (void **state)
{
    (void) state;
    const unsigned char *euro = (const unsigned char *) "\xe2\x82\xac";
    assert_int_equal (ts_utf8_sequence_len (euro, 3), 3);
    assert_int_equal (ts_utf8_sequence_len (euro, 2), 0);
    assert_int_equal (ts_utf8_sequence_len ((const unsigned char *) "\x80", 1), 0);
    assert_true (ts_utf8_valid ("a\0b", 3));
    assert_true (ts_utf8_valid ("", 0));
    assert_true (ts_utf8_valid ("\xe2\x82\xac", 3));
    assert_false (ts_utf8_valid ("\xe2\x82\xac", 2));
    assert_false (ts_utf8_valid ("\xc0\xaf", 2));             //  overlong '/'
}

//  --------------------------------------------------------------------
//  ts_check_str

static void
test_check_str_required (void **state)
{
    (void) state;
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_str (&ctx, "name", "", 64, true), TS_BAD_REQUEST);
    assert_int_equal (ctx.code, TS_BAD_REQUEST);
    assert_string_equal (ctx.message, "name is required");
    ctx = s_ctx ();
    assert_int_equal (ts_check_str (&ctx, "name", NULL, 64, true), TS_BAD_REQUEST);
    ctx = s_ctx ();
    assert_int_equal (ts_check_str (&ctx, "note", "", 64, false), 0);
    assert_int_equal (ts_check_str (&ctx, "note", NULL, 64, false), 0);
    assert_int_equal (ts_check_str (&ctx, "name", "Li Wei", 64, true), 0);
    assert_int_equal (ctx.code, 0);
    assert_string_equal (ctx.message, "");
}

static void
test_check_str_counts_characters_not_bytes (void **state)
{
    (void) state;
    ts_ctx ctx = s_ctx ();
    char *chinese64 = s_repeat ("社", 64);        //  192 bytes
    char *chinese65 = s_repeat ("社", 65);
    char *emoji64 = s_repeat ("\xf0\x9f\x98\x80", 64);
    char *ascii64 = s_repeat ("a", 64);
    char *ascii65 = s_repeat ("a", 65);
    assert_int_equal (ts_check_str (&ctx, "name", chinese64, 64, true), 0);
    assert_int_equal (ts_check_str (&ctx, "name", emoji64, 64, true), 0);
    assert_int_equal (ts_check_str (&ctx, "name", ascii64, 64, true), 0);
    assert_int_equal (ts_check_str (&ctx, "name", chinese65, 64, true), TS_BAD_REQUEST);
    assert_string_equal (ctx.message, "name is longer than 64 characters");
    ctx = s_ctx ();
    assert_int_equal (ts_check_str (&ctx, "name", ascii65, 64, true), TS_BAD_REQUEST);
    free (chinese64);
    free (chinese65);
    free (emoji64);
    free (ascii64);
    free (ascii65);
}

//  --------------------------------------------------------------------
//  ts_check_name

//  name must be refused with a message holding why.
static void
s_name_refused (const char *name, const char *why)
{
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_name (&ctx, "name", name, 64, true), TS_BAD_REQUEST);
    assert_int_equal (ctx.code, TS_BAD_REQUEST);
    if (!strstr (ctx.message, why))
        fail_msg ("'%s' refused with '%s', expected '%s'", name, ctx.message, why);
}

static void
test_check_name_refuses_blank_and_invisible (void **state)
{
    (void) state;
    s_name_refused ("   ", "no visible character");
    s_name_refused ("\xe2\x80\x8b", "no visible character");                //  U+200B
    s_name_refused ("\xe2\x80\x8b\xe2\x80\x8b\xe3\x80\x80", "no visible character");
    s_name_refused ("\xef\xbb\xbf", "no visible character");                //  BOM
    s_name_refused ("\xe3\x85\xa4", "no visible character");                //  Hangul filler
    s_name_refused ("\xe3\x80\x80", "no visible character");                //  ideographic space
    s_name_refused ("", "is required");
    s_name_refused (NULL, "is required");
}

static void
test_check_name_refuses_controls_bidi_nonchars (void **state)
{
    (void) state;
    s_name_refused ("Li\nWei", "control character");
    s_name_refused ("Li\tWei", "control character");
    s_name_refused ("\n", "control character");
    s_name_refused ("\t", "control character");
    s_name_refused ("Li\x7fWei", "control character");
    s_name_refused ("Li\xc2\x85Wei", "control character");         //  NEL (C1)
    s_name_refused ("Li\xe2\x80\xa8Wei", "control character (U+2028)");
    s_name_refused ("\xe2\x80\xae", "bidirectional control character (U+202E)");
    s_name_refused ("abc\xe2\x80\xaegpj.exe", "bidirectional");             //  RLO spoof
    s_name_refused ("a\xe2\x80\xaa" "b", "(U+202A)");
    s_name_refused ("a\xe2\x81\xa6" "b", "(U+2066)");                       //  LRI
    s_name_refused ("a\xe2\x81\xa9" "b", "(U+2069)");                       //  PDI
    s_name_refused ("a\xe2\x80\x8f" "b", "(U+200F)");                       //  RLM
    s_name_refused ("\xef\xbf\xbf", "noncharacter (U+FFFF)");
    s_name_refused ("a\xef\xbf\xbe", "noncharacter (U+FFFE)");
    s_name_refused ("a\xef\xb7\x90", "noncharacter (U+FDD0)");
    s_name_refused ("a\xef\xb7\xaf", "noncharacter (U+FDEF)");
    s_name_refused ("a\xf0\x9f\xbf\xbf", "noncharacter (U+1FFFF)");
    s_name_refused ("a\xf4\x8f\xbf\xbe", "noncharacter (U+10FFFE)");
    s_name_refused ("a\xc0\xaf" "b", "not valid UTF-8");
}

static void
test_check_name_refuses_edges (void **state)
{
    (void) state;
    //  Refused, not trimmed: what is stored is what the client sent.
    s_name_refused (" 王芳", "begins or ends");
    s_name_refused ("王芳 ", "begins or ends");
    s_name_refused ("王芳\xe3\x80\x80", "begins or ends");                   //  U+3000
    s_name_refused ("\xe2\x80\x8b王芳", "begins or ends");                   //  U+200B
    s_name_refused ("王芳\xc2\xa0", "begins or ends");                        //  NBSP
    char *long_ = s_repeat ("王", 65);
    s_name_refused (long_, "longer than 64");
    free (long_);
}

static void
test_check_name_accepts_real_names (void **state)
{
    (void) state;
    const char *good [] = {
        "王芳", "欧阳娜娜", "王", "李 小明", "Li Wei", "Jean-Luc O'Neil",
        "阿依古丽·买买提", "Zoë Ångström", "塔山社区 1号楼", "📚 读书会",
        "👩\xe2\x80\x8d👧 亲子圈",                //  ZWJ inside an emoji sequence
        "مريم", "עברית", ("Ab\xcc\x81" "c"),           //  right-to-left scripts; a combining accent
    };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++) {
        ts_ctx ctx = s_ctx ();
        if (ts_check_name (&ctx, "name", good [i], 64, true) != 0)
            fail_msg ("'%s' refused: %s", good [i], ctx.message);
        assert_int_equal (ctx.code, 0);
    }
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_name (&ctx, "name", "", 64, false), 0);
    assert_int_equal (ts_check_name (&ctx, "name", NULL, 64, false), 0);
    char *longest = s_repeat ("王", 64);
    assert_int_equal (ts_check_name (&ctx, "name", longest, 64, true), 0);
    free (longest);
}

static void
test_check_str_default_limit (void **state)
{
    (void) state;
    ts_ctx ctx = s_ctx ();
    char *ok = s_repeat ("区", TS_STR_MAX_CHARS);
    char *long_ = s_repeat ("区", TS_STR_MAX_CHARS + 1);
    assert_int_equal (ts_check_str (&ctx, "text", ok, TS_STR_MAX_CHARS, false), 0);
    assert_int_equal (ts_check_str (&ctx, "text", long_, TS_STR_MAX_CHARS, false), TS_BAD_REQUEST);
    free (ok);
    free (long_);
}

static void
test_check_str_rejects_invalid_utf8 (void **state)
{
    (void) state;
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_str (&ctx, "name", "ab\xc0\xaf", 64, true), TS_BAD_REQUEST);
    assert_string_equal (ctx.message, "name is not valid UTF-8");
}

static void
test_check_str_control_characters (void **state)
{
    (void) state;
    static const char *const bad [] = { "a\x01", "\x1b[31m", "a\x7f", "line\r\nnext", "\x1f" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ts_ctx ctx = s_ctx ();
        assert_int_equal (ts_check_str (&ctx, "note", bad [i], 64, false), TS_BAD_REQUEST);
        assert_string_equal (ctx.message, "note contains a control character");
    }
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_str (&ctx, "note", "tab\there\nnewline", 64, false), 0);
}

static void
test_check_str_c1_control_characters (void **state)
{
    (void) state;
    //  U+0080..U+009F are control characters too (Unicode category Cc),
    //  e.g. U+0085 NEXT LINE and U+009B CSI, which terminals obey.
    //  ("\xc2\x9b" then "31m": split so the hex escape ends before '3')
    static const char csi [] = { (char) 0xc2, (char) 0x9b, '3', '1', 'm', 0 };
    static const char *const bad [] = { "a\xc2\x85", csi, "\xc2\x80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ts_ctx ctx = s_ctx ();
        assert_int_equal (ts_check_str (&ctx, "note", bad [i], 64, false), TS_BAD_REQUEST);
    }
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_str (&ctx, "note", "\xc2\xa0", 64, false), 0);     //  NBSP is fine
}

//  --------------------------------------------------------------------
//  Ranges, enums, counts, pages

static void
test_check_range (void **state)
{
    (void) state;
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_range (&ctx, "points", 1, 1, 10), 0);
    assert_int_equal (ts_check_range (&ctx, "points", 10, 1, 10), 0);
    assert_int_equal (ts_check_range (&ctx, "points", 0, 1, 10), TS_BAD_REQUEST);
    assert_string_equal (ctx.message, "points must be between 1 and 10");
    assert_int_equal (ts_check_range (&ctx, "points", 11, 1, 10), TS_BAD_REQUEST);
    assert_int_equal (ts_check_range (&ctx, "x", INT64_MIN, INT64_MIN, INT64_MAX), 0);
}

static void
test_check_enum_lists_options (void **state)
{
    (void) state;
    static const char *const kinds [] = { "food", "repair", "care", NULL };
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_enum (&ctx, "kind", "repair", kinds), 0);
    assert_int_equal (ts_check_enum (&ctx, "kind", "Repair", kinds), TS_BAD_REQUEST);
    assert_string_equal (ctx.message, "kind must be one of: food, repair, care");
    ctx = s_ctx ();
    assert_int_equal (ts_check_enum (&ctx, "kind", "", kinds), TS_BAD_REQUEST);
    ctx = s_ctx ();
    assert_int_equal (ts_check_enum (&ctx, "kind", NULL, kinds), TS_BAD_REQUEST);
}

static void
test_check_enum_long_list_is_bounded (void **state)
{
    (void) state;
    //  More option text than the message holds: truncated, no overflow.
    static char words [40][32];
    const char *list [41];
    for (int i = 0; i < 40; i++) {
        snprintf (words [i], sizeof words [i], "option-number-%02d", i);
        list [i] = words [i];
    }
    list [40] = NULL;
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_enum (&ctx, "kind", "option-number-39", list), 0);
    assert_int_equal (ts_check_enum (&ctx, "kind", "x", list), TS_BAD_REQUEST);
    assert_non_null (strstr (ctx.message, "option-number-00, option-number-01"));
    assert_true (strlen (ctx.message) < sizeof ctx.message);
}

static void
test_check_count (void **state)
{
    (void) state;
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_count (&ctx, "items", TS_BATCH_ITEMS_MAX, TS_BATCH_ITEMS_MAX), 0);
    assert_int_equal (ts_check_count (&ctx, "items", TS_BATCH_ITEMS_MAX + 1, TS_BATCH_ITEMS_MAX),
                      TS_BAD_REQUEST);
    assert_string_equal (ctx.message, "items has more than 1000 items");
}

static void
test_page_size (void **state)
{
    (void) state;
    ts_ctx ctx = s_ctx ();
    uint32_t out = 7;
    assert_int_equal (ts_page_size (&ctx, 0, &out), 0);
    assert_int_equal (out, TS_PAGE_DEFAULT);
    assert_int_equal (ts_page_size (&ctx, 1, &out), 0);
    assert_int_equal (out, 1);
    assert_int_equal (ts_page_size (&ctx, 1000, &out), 0);
    assert_int_equal (out, 1000);
    assert_int_equal (ts_page_size (&ctx, 1001, &out), TS_BAD_REQUEST);
    assert_non_null (strstr (ctx.message, "page_size"));
    assert_int_equal (ts_page_size (&ctx, UINT32_MAX, &out), TS_BAD_REQUEST);
}

static void
test_page_token_roundtrip (void **state)
{
    (void) state;
    ts_arena *a = ts_arena_new ();
    static const uint8_t key [] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff, 'p', 0 };
    char *token = ts_page_token_make (a, key, sizeof key);
    assert_string_equal (token, "00017f80abff7000");
    ts_ctx ctx = s_ctx ();
    uint8_t out [16];
    assert_int_equal (ts_page_token_parse (&ctx, token, out, sizeof out), sizeof key);
    assert_memory_equal (out, key, sizeof key);
    assert_int_equal (ctx.code, 0);
    //  Empty: the first page.
    assert_string_equal (ts_page_token_make (a, key, 0), "");
    assert_int_equal (ts_page_token_parse (&ctx, "", out, sizeof out), 0);
    assert_int_equal (ts_page_token_parse (&ctx, NULL, out, sizeof out), 0);
    assert_int_equal (ctx.code, 0);
    ts_arena_destroy (&a);
}

static void
test_page_token_malformed (void **state)
{
    (void) state;
    static const char *const bad [] = { "abc", "zz", "0G", "ABCD", " 00", "00 ", "0x00",
                                        "000102030405060708" };   //  9 bytes > 8
    uint8_t out [8];
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ts_ctx ctx = s_ctx ();
        assert_int_equal (ts_page_token_parse (&ctx, bad [i], out, sizeof out), -1);
        assert_int_equal (ctx.code, TS_BAD_REQUEST);
        assert_string_equal (ctx.message, "page_token is not a token this list gave");
    }
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_page_token_parse (&ctx, "0001020304050607", out, sizeof out), 8);
}

//  --------------------------------------------------------------------
//  Months

static void
test_check_month_good (void **state)
{
    (void) state;
    static const char *const good [] = { "2026-01", "2026-12", "2000-01", "2100-12" };
    for (size_t i = 0; i < 4; i++) {
        ts_ctx ctx = s_ctx ();
        assert_int_equal (ts_check_month (&ctx, "month", good [i]), 0);
    }
}

static void
test_check_month_bad (void **state)
{
    (void) state;
    static const char *const bad [] = {
        "2026-13", "2026-00", "1999-12", "2101-01", "2026-1", "2026/01", "202a-01",
        "2026-01-01", "", " 2026-01", "2026-0a", "26-01", "２０２６-01", "2026--1", "-2026-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ts_ctx ctx = s_ctx ();
        assert_int_equal (ts_check_month (&ctx, "month", bad [i]), TS_BAD_REQUEST);
        assert_string_equal (ctx.message, "month must be a month YYYY-MM");
        assert_int_equal (ts_month_index (bad [i]), -1);
    }
    ts_ctx ctx = s_ctx ();
    assert_int_equal (ts_check_month (&ctx, "month", NULL), TS_BAD_REQUEST);
    assert_int_equal (ts_month_index (NULL), -1);
}

static void
test_month_index_orders_months (void **state)
{
    (void) state;
    assert_int_equal (ts_month_index ("2026-01"), 2026 * 12);
    assert_int_equal (ts_month_index ("2026-02"), 2026 * 12 + 1);
    assert_int_equal (ts_month_index ("2027-01") - ts_month_index ("2026-12"), 1);
    assert_true (ts_month_index ("2026-10") > ts_month_index ("2026-09"));
    assert_int_equal (ts_month_index ("2000-01"), 2000 * 12);
    assert_int_equal (ts_month_index ("2100-12"), 2100 * 12 + 11);
}

static void
test_month_of_shanghai (void **state)
{
    (void) state;
    char out [8];
    //  2026-01-31T16:00:00Z is 2026-02-01 00:00 in Shanghai.
    ts_month_of (1769875200000LL, out);
    assert_string_equal (out, "2026-02");
    ts_month_of (1769875200000LL - 1, out);     //  15:59:59.999Z: 23:59:59.999 on Jan 31
    assert_string_equal (out, "2026-01");
    //  New year comes 8 hours early.
    ts_month_of (1767196800000LL, out);         //  2025-12-31T16:00:00Z
    assert_string_equal (out, "2026-01");
    ts_month_of (1767196800000LL - 1, out);
    assert_string_equal (out, "2025-12");
    ts_month_of (0, out);                       //  1970-01-01 08:00 in Shanghai
    assert_string_equal (out, "1970-01");
    //  Round trip with ts_month_index.
    ts_month_of (1798732799000LL, out);         //  2026-12-31T15:59:59Z
    assert_int_equal (ts_month_index (out), 2026 * 12 + 11);
}

//  --------------------------------------------------------------------
//  Arena

static void
test_arena_alignment_and_zeroing (void **state)
{
    (void) state;
    ts_arena *a = ts_arena_new ();
    assert_non_null (a);
    for (size_t i = 0; i < 500; i++) {
        size_t size = i % 37 + 1;
        uint8_t *p = ts_arena_alloc (a, size);
        assert_int_equal ((uintptr_t) p % 16, 0);
        for (size_t j = 0; j < size; j++)
            assert_int_equal (p [j], 0);
        memset (p, 0xab, size);
    }
    assert_int_equal ((uintptr_t) ts_arena_alloc (a, 0) % 16, 0);
    ts_arena_destroy (&a);
    assert_null (a);
    ts_arena_destroy (&a);          //  safe twice
}

static void
test_arena_used_counts_rounded_bytes (void **state)
{
    (void) state;
    ts_arena *a = ts_arena_new ();
    assert_int_equal (ts_arena_used (a), 0);
    ts_arena_alloc (a, 1);
    assert_int_equal (ts_arena_used (a), 16);
    ts_arena_alloc (a, 17);
    assert_int_equal (ts_arena_used (a), 48);
    ts_arena_destroy (&a);
}

static void
test_arena_allocations_do_not_overlap (void **state)
{
    (void) state;
    ts_arena *a = ts_arena_new ();
    enum { N = 3000 };
    uint8_t *ptrs [N];
    for (int i = 0; i < N; i++) {
        ptrs [i] = ts_arena_alloc (a, 24);      //  spans several chunks
        memset (ptrs [i], (uint8_t) i, 24);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 24; j++)
            assert_int_equal (ptrs [i][j], (uint8_t) i);
    ts_arena_destroy (&a);
}

static void
test_arena_strdup_strndup_memdup (void **state)
{
    (void) state;
    ts_arena *a = ts_arena_new ();
    char src [] = "社区 tashan";
    char *copy = ts_arena_strdup (a, src);
    assert_ptr_not_equal (copy, src);
    assert_string_equal (copy, src);
    src [0] = 'X';
    assert_string_equal (copy, "社区 tashan");
    assert_string_equal (ts_arena_strdup (a, ""), "");
    assert_string_equal (ts_arena_strndup (a, "abcdef", 3), "abc");
    static const uint8_t bytes [] = { 0, 1, 0, 2 };
    uint8_t *m = ts_arena_memdup (a, bytes, sizeof bytes);
    assert_memory_equal (m, bytes, sizeof bytes);
    assert_non_null (ts_arena_memdup (a, NULL, 0));
    ts_arena_destroy (&a);
}

static void
test_arena_printf (void **state)
{
    (void) state;
    ts_arena *a = ts_arena_new ();
    assert_string_equal (ts_arena_printf (a, "%s-%d-%05.1f", "p", 42, 3.14159), "p-42-003.1");
    assert_string_equal (ts_arena_printf (a, "%s", ""), "");
    //  Longer than a chunk.
    char *big = malloc (40001);
    memset (big, 'z', 40000);
    big [40000] = 0;
    char *out = ts_arena_printf (a, "<%s>", big);
    assert_int_equal (strlen (out), 40002);
    assert_int_equal (out [0], '<');
    assert_int_equal (out [40001], '>');
    free (big);
    ts_arena_destroy (&a);
}

static void
test_arena_reset_keeps_working (void **state)
{
    (void) state;
    ts_arena *a = ts_arena_new ();
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 100; i++) {
            uint8_t *p = ts_arena_alloc (a, 500);
            for (int j = 0; j < 500; j++)
                assert_int_equal (p [j], 0);    //  zeroed though reused
            memset (p, 0xff, 500);
        }
        assert_true (ts_arena_used (a) >= 100 * 500);
        ts_arena_reset (a);
        assert_int_equal (ts_arena_used (a), 0);
    }
    assert_string_equal (ts_arena_strdup (a, "after"), "after");
    ts_arena_destroy (&a);
}

static void
test_arena_big_allocations (void **state)
{
    (void) state;
    ts_arena *a = ts_arena_new ();
    char *small = ts_arena_strdup (a, "before");
    size_t big_size = (size_t) 3 * 1024 * 1024;
    uint8_t *big = ts_arena_alloc (a, big_size);
    assert_int_equal ((uintptr_t) big % 16, 0);
    assert_int_equal (big [0], 0);
    assert_int_equal (big [big_size - 1], 0);
    memset (big, 0x5a, big_size);               //  all of it is ours
    char *after = ts_arena_strdup (a, "after");
    assert_string_equal (small, "before");
    assert_string_equal (after, "after");
    assert_int_equal (big [big_size - 1], 0x5a);
    //  A second big one and a reset after it.
    uint8_t *big2 = ts_arena_alloc (a, big_size + 1);
    memset (big2, 1, big_size + 1);
    ts_arena_reset (a);
    assert_int_equal (ts_arena_used (a), 0);
    uint8_t *p = ts_arena_alloc (a, 64);
    assert_int_equal (p [63], 0);
    ts_arena_destroy (&a);
}

static void
test_arena_protobuf_allocator (void **state)
{
    (void) state;
    Tashan__Event ev = TASHAN__EVENT__INIT;
    ev.seq = 9;
    ev.topic = "need.opened";
    uint8_t payload [300];
    memset (payload, 7, sizeof payload);
    ev.payload.data = payload;
    ev.payload.len = sizeof payload;
    uint8_t buf [512];
    size_t len = tashan__event__pack (&ev, buf);

    ts_arena *a = ts_arena_new ();
    ProtobufCAllocator *pb = ts_arena_pb (a);
    assert_non_null (pb);
    assert_int_equal (ts_arena_used (a), 0);
    Tashan__Event *got = tashan__event__unpack (pb, len, buf);
    assert_non_null (got);
    assert_true (ts_arena_used (a) >= sizeof payload);     //  drawn from the arena
    assert_int_equal (got->seq, 9);
    assert_string_equal (got->topic, "need.opened");
    assert_int_equal (got->payload.len, sizeof payload);
    assert_memory_equal (got->payload.data, payload, sizeof payload);
    //  Free is a no-op; the arena still owns the memory.
    tashan__event__free_unpacked (got, pb);
    //  A failed unpack leaks nothing outside the arena (ASan would say).
    assert_null (tashan__event__unpack (pb, 3, (const uint8_t *) "\x22\x05x"));
    ts_arena_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_utf8_ascii),
        cmocka_unit_test (test_utf8_multibyte),
        cmocka_unit_test (test_utf8_bad_continuation),
        cmocka_unit_test (test_utf8_overlong),
        cmocka_unit_test (test_utf8_surrogates_and_beyond),
        cmocka_unit_test (test_utf8_bounded),
        cmocka_unit_test (test_check_str_required),
        cmocka_unit_test (test_check_str_counts_characters_not_bytes),
        cmocka_unit_test (test_check_str_default_limit),
        cmocka_unit_test (test_check_str_rejects_invalid_utf8),
        cmocka_unit_test (test_check_str_control_characters),
        cmocka_unit_test (test_check_str_c1_control_characters),
        cmocka_unit_test (test_check_name_refuses_blank_and_invisible),
        cmocka_unit_test (test_check_name_refuses_controls_bidi_nonchars),
        cmocka_unit_test (test_check_name_refuses_edges),
        cmocka_unit_test (test_check_name_accepts_real_names),
        cmocka_unit_test (test_check_range),
        cmocka_unit_test (test_check_enum_lists_options),
        cmocka_unit_test (test_check_enum_long_list_is_bounded),
        cmocka_unit_test (test_check_count),
        cmocka_unit_test (test_page_size),
        cmocka_unit_test (test_page_token_roundtrip),
        cmocka_unit_test (test_page_token_malformed),
        cmocka_unit_test (test_check_month_good),
        cmocka_unit_test (test_check_month_bad),
        cmocka_unit_test (test_month_index_orders_months),
        cmocka_unit_test (test_month_of_shanghai),
        cmocka_unit_test (test_arena_alignment_and_zeroing),
        cmocka_unit_test (test_arena_used_counts_rounded_bytes),
        cmocka_unit_test (test_arena_allocations_do_not_overlap),
        cmocka_unit_test (test_arena_strdup_strndup_memdup),
        cmocka_unit_test (test_arena_printf),
        cmocka_unit_test (test_arena_reset_keeps_working),
        cmocka_unit_test (test_arena_big_allocations),
        cmocka_unit_test (test_arena_protobuf_allocator),
    };
    return cmocka_run_group_tests_name ("ts_valid", tests, NULL, NULL);
}
