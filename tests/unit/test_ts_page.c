/*  test_ts_page - one page of a list over a real LMDB store: the first
    page, tokens that resume exactly where the last page stopped, the
    prefix boundary, bad tokens (all answered with the one message), the
    scan bound, the hand-paging helpers, and a corrupt value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_fixture.h"
#include "ts_page.h"
#include "common.pb-c.h"
#include "test_fixture.h"

#define BAD_TOKEN "page_token is not a token this list gave"
#define A_ITEMS 250                 //  keys "a" u32 0..249
#define B_ITEMS 10                  //  keys "b" u32 0..9

static const ts_table_def s_tables [] = { { "items", 0 } };

typedef struct {
    char dir [TEST_DIR_MAX];
    ts_store *store;
    ts_table items;
    ts_txn *txn;
    ts_arena *arena;
    ts_ctx ctx;
} fixture;

static void
s_key (ts_key *k, char list, uint32_t n)
{
    ts_key_init (k);
    ts_key_bytes (k, &list, 1);
    ts_key_u32 (k, n);
}

//  A value: a Caller whose principal names the item ("a17").
static void
s_put (fixture *f, char list, uint32_t n)
{
    char name [16];
    snprintf (name, sizeof name, "%c%u", list, n);
    Tashan__Caller c = TASHAN__CALLER__INIT;
    c.role = "item";
    c.principal = name;
    ts_key k;
    s_key (&k, list, n);
    ts_txn_put_msg (f->txn, f->items, k.data, k.size, &c.base);
}

static void
s_reset_ctx (fixture *f)
{
    memset (&f->ctx, 0, sizeof f->ctx);
    f->ctx.txn = f->txn;
    f->ctx.arena = f->arena;
}

static int
s_setup (void **state)
{
    fixture *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "page"), 0);
    char err [256];
    f->store = ts_store_new (f->dir, s_tables, 1, 1, err, sizeof err);
    assert_non_null (f->store);
    f->items = ts_store_table (f->store, "items");
    f->txn = ts_txn_begin (f->store, true);
    assert_non_null (f->txn);
    f->arena = ts_arena_new ();
    for (uint32_t i = 0; i < A_ITEMS; i++)
        s_put (f, 'a', i);
    for (uint32_t i = 0; i < B_ITEMS; i++)
        s_put (f, 'b', i);
    s_put (f, 'c', 0);              //  a neighbour after b
    s_reset_ctx (f);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture *f = *state;
    ts_txn_abort (&f->txn);
    ts_arena_destroy (&f->arena);
    ts_store_destroy (&f->store);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  List one page of list `list` (every item, or only even ones): the items'
//  numbers into out, the next token returned. rc via *rc.
static char *
s_page (fixture *f, char list, const char *token, uint32_t size, bool even_only,
        uint32_t *out, size_t *count, unsigned *rc)
{
    s_reset_ctx (f);
    ts_page pg;
    *count = 0;
    *rc = ts_page_open (&f->ctx, &pg, f->items, &list, 1, token, size);
    if (*rc)
        return NULL;
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t rest_size;
        const uint8_t *rest = ts_page_rest (&pg, &rest_size);
        assert_int_equal (rest_size, 4);
        uint32_t n = ts_be32_get (rest);
        Tashan__Caller *c = ts_page_msg (&pg, &tashan__caller__descriptor, f->arena);
        assert_non_null (c);
        char name [16];
        snprintf (name, sizeof name, "%c%u", list, n);
        assert_string_equal (c->principal, name);
        if (even_only && n % 2)
            continue;
        out [(*count)++] = n;
        ts_page_take (&pg);
    }
    return ts_page_close (&pg, f->arena);
}

static void
test_first_page (void **state)
{
    fixture *f = *state;
    uint32_t got [TS_PAGE_MAX];
    size_t n;
    unsigned rc;
    //  page_size 0: the default of 100.
    char *token = s_page (f, 'a', "", 0, false, got, &n, &rc);
    assert_int_equal (rc, 0);
    assert_int_equal (n, TS_PAGE_DEFAULT);
    for (size_t i = 0; i < n; i++)
        assert_int_equal (got [i], i);
    assert_string_not_equal (token, "");
    //  A NULL token is the first page too.
    token = s_page (f, 'a', NULL, 7, false, got, &n, &rc);
    assert_int_equal (rc, 0);
    assert_int_equal (n, 7);
    assert_int_equal (got [6], 6);
    //  A page larger than the list: all of it, no token.
    token = s_page (f, 'a', "", TS_PAGE_MAX, false, got, &n, &rc);
    assert_int_equal (n, A_ITEMS);
    assert_string_equal (token, "");
    //  Sizes above the maximum are refused.
    token = s_page (f, 'a', "", TS_PAGE_MAX + 1, false, got, &n, &rc);
    assert_int_equal (rc, TS_BAD_REQUEST);
    assert_null (token);
}

static void
test_tokens_resume_exactly (void **state)
{
    fixture *f = *state;
    const uint32_t sizes [] = { 1, 3, 7, 100, 249, 250 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes [0]; s++) {
        for (int even = 0; even <= 1; even++) {
            uint32_t seen [A_ITEMS];
            size_t total = 0, pages = 0;
            const char *token = "";
            do {
                uint32_t got [TS_PAGE_MAX];
                size_t n;
                unsigned rc;
                token = s_page (f, 'a', token, sizes [s], even, got, &n, &rc);
                assert_int_equal (rc, 0);
                assert_true (n <= sizes [s]);
                for (size_t i = 0; i < n; i++)
                    seen [total++] = got [i];
                assert_true (++pages <= A_ITEMS + 1);
            } while (token [0]);
            //  Every item once, in order, nothing from the next list.
            size_t expect = even ? A_ITEMS / 2 : A_ITEMS;
            assert_int_equal (total, expect);
            for (size_t i = 0; i < total; i++)
                assert_int_equal (seen [i], even ? 2 * i : i);
        }
    }
}

static void
test_prefix_boundary (void **state)
{
    fixture *f = *state;
    uint32_t got [TS_PAGE_MAX];
    size_t n;
    unsigned rc;
    //  Exactly the list's size: the page ends at the list's last key and
    //  gives no token, although "c" follows.
    char *token = s_page (f, 'b', "", B_ITEMS, false, got, &n, &rc);
    assert_int_equal (n, B_ITEMS);
    assert_string_equal (token, "");
    token = s_page (f, 'b', "", B_ITEMS - 1, false, got, &n, &rc);
    assert_int_equal (n, B_ITEMS - 1);
    assert_string_not_equal (token, "");
    token = s_page (f, 'b', token, B_ITEMS, false, got, &n, &rc);
    assert_int_equal (n, 1);
    assert_int_equal (got [0], B_ITEMS - 1);
    assert_string_equal (token, "");
    //  A token past the list's last key: an empty page, no token.
    uint8_t past [4];
    ts_be32_put (past, 1000000);
    token = s_page (f, 'b', ts_page_token_make (f->arena, past, 4), 10, false, got, &n, &rc);
    assert_int_equal (rc, 0);
    assert_int_equal (n, 0);
    assert_string_equal (token, "");
    //  A list with no keys at all ("d" sorts after everything).
    token = s_page (f, 'd', "", 10, false, got, &n, &rc);
    assert_int_equal (rc, 0);
    assert_int_equal (n, 0);
    assert_string_equal (token, "");
    //  The whole table (no prefix) pages over every list.
    s_reset_ctx (f);
    ts_page pg;
    assert_int_equal (ts_page_open (&f->ctx, &pg, f->items, NULL, 0, "", TS_PAGE_MAX), 0);
    size_t all = 0;
    for (; ts_page_more (&pg); ts_page_next (&pg), all++)
        ts_page_take (&pg);
    assert_string_equal (ts_page_close (&pg, f->arena), "");
    assert_int_equal (all, A_ITEMS + B_ITEMS + 1);
}

static void
test_bad_tokens (void **state)
{
    fixture *f = *state;
    char too_long [2 * TS_KEY_MAX + 3];
    memset (too_long, '0', sizeof too_long - 1);
    too_long [sizeof too_long - 1] = 0;
    const char *bad [] = {
        "zz", "0", "abc", "0G", "00 ", " 00", "AB", "0x00", "00\n", "-1", "é0", too_long,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        uint32_t got [TS_PAGE_MAX];
        size_t n;
        unsigned rc;
        char *token = s_page (f, 'a', bad [i], 10, false, got, &n, &rc);
        assert_int_equal (rc, TS_BAD_REQUEST);
        assert_null (token);
        assert_int_equal (f->ctx.code, TS_BAD_REQUEST);
        assert_string_equal (f->ctx.message, BAD_TOKEN);
    }
    //  Lists that page by hand give the same message.
    s_reset_ctx (f);
    uint8_t out [8];
    assert_int_equal (ts_page_token_parse (&f->ctx, "xyz", out, sizeof out), -1);
    assert_string_equal (f->ctx.message, BAD_TOKEN);
    s_reset_ctx (f);
    assert_int_equal (ts_page_token_parse (&f->ctx, "000000000000000000", out, sizeof out), -1);
    assert_string_equal (f->ctx.message, BAD_TOKEN);
    s_reset_ctx (f);
    assert_int_equal (ts_page_token_refuse (&f->ctx), TS_BAD_REQUEST);
    assert_string_equal (f->ctx.message, BAD_TOKEN);
}

static void
test_token_helpers (void **state)
{
    fixture *f = *state;
    const uint8_t bytes [5] = { 0x00, 0x01, 0xab, 0xff, 0x10 };
    char *token = ts_page_token_make (f->arena, bytes, sizeof bytes);
    assert_string_equal (token, "0001abff10");
    uint8_t out [8];
    s_reset_ctx (f);
    assert_int_equal (ts_page_token_parse (&f->ctx, token, out, sizeof out), 5);
    assert_memory_equal (out, bytes, 5);
    assert_int_equal (f->ctx.code, 0);
    //  Empty and NULL tokens: zero bytes, the first page.
    assert_int_equal (ts_page_token_parse (&f->ctx, "", out, sizeof out), 0);
    assert_int_equal (ts_page_token_parse (&f->ctx, NULL, out, sizeof out), 0);
    assert_string_equal (ts_page_token_make (f->arena, bytes, 0), "");
    //  Exactly max_bytes fits.
    assert_int_equal (ts_page_token_parse (&f->ctx, "0102030405060708", out, 8), 8);

    //  Tokens of a fixed size: none (the first page), exactly that size,
    //  or the one message for any other size.
    bool resume = true;
    s_reset_ctx (f);
    assert_int_equal (ts_page_token_exact (&f->ctx, "", out, 4, &resume), 0);
    assert_false (resume);
    assert_int_equal (ts_page_token_exact (&f->ctx, "0000002a", out, 4, &resume), 0);
    assert_true (resume);
    assert_int_equal (ts_be32_get (out), 42);
    const char *wrong [] = { "00", "000000", "0000002a00", "zz" };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong [0]; i++) {
        s_reset_ctx (f);
        assert_int_equal (ts_page_token_exact (&f->ctx, wrong [i], out, 4, &resume),
                          TS_BAD_REQUEST);
        assert_string_equal (f->ctx.message, BAD_TOKEN);
    }
}

static void
test_offset_pages (void **state)
{
    fixture *f = *state;
    //  A ranking of 25 items in pages of 10: offsets 0, 10, 20, then done.
    const size_t count = 25;
    const char *token = "";
    uint32_t expect_offset = 0;
    size_t pages = 0;
    do {
        s_reset_ctx (f);
        uint32_t offset, size;
        assert_int_equal (ts_page_offset_open (&f->ctx, token, 10, &offset, &size), 0);
        assert_int_equal (offset, expect_offset);
        assert_int_equal (size, 10);
        uint32_t taken = 0;
        for (size_t i = offset; i < count && taken < size; i++)
            taken++;
        token = ts_page_offset_close (f->arena, offset, taken, count);
        expect_offset += taken;
        assert_true (++pages <= 3);
    } while (token [0]);
    assert_int_equal (pages, 3);
    assert_int_equal (expect_offset, count);
    //  A full last page gives no token either.
    assert_string_equal (ts_page_offset_close (f->arena, 20, 5, 25), "");
    assert_string_equal (ts_page_offset_close (f->arena, 0, 0, 0), "");
    //  Default and refused sizes, refused tokens: the one message.
    uint32_t offset, size;
    s_reset_ctx (f);
    assert_int_equal (ts_page_offset_open (&f->ctx, NULL, 0, &offset, &size), 0);
    assert_int_equal (offset, 0);
    assert_int_equal (size, TS_PAGE_DEFAULT);
    s_reset_ctx (f);
    assert_int_equal (ts_page_offset_open (&f->ctx, "", TS_PAGE_MAX + 1, &offset, &size),
                      TS_BAD_REQUEST);
    s_reset_ctx (f);
    assert_int_equal (ts_page_offset_open (&f->ctx, "0a", 10, &offset, &size), TS_BAD_REQUEST);
    assert_string_equal (f->ctx.message, BAD_TOKEN);
}

static void
test_scan_bound (void **state)
{
    fixture *f = *state;
    //  A list of more keys than one page may look at, none of which the
    //  filter keeps but the last few: the page comes back empty with a
    //  token, and the token resumes where the scan stopped.
    const uint32_t keys = TS_PAGE_SCAN_MAX + 5;
    for (uint32_t i = 0; i < keys; i++)
        s_put (f, 's', i);
    size_t pages = 0, kept = 0, scanned_total = 0;
    const char *token = "";
    do {
        s_reset_ctx (f);
        ts_page pg;
        char list = 's';
        assert_int_equal (ts_page_open (&f->ctx, &pg, f->items, &list, 1, token, 10), 0);
        for (; ts_page_more (&pg); ts_page_next (&pg)) {
            size_t rest_size;
            uint32_t n = ts_be32_get (ts_page_rest (&pg, &rest_size));
            if (n < TS_PAGE_SCAN_MAX + 2)
                continue;
            kept++;
            ts_page_take (&pg);
        }
        assert_true (pg.scanned <= TS_PAGE_SCAN_MAX);
        scanned_total += pg.scanned;
        token = ts_page_close (&pg, f->arena);
        if (pages == 0) {
            assert_int_equal (kept, 0);
            assert_int_equal (pg.scanned, TS_PAGE_SCAN_MAX);
            assert_string_not_equal (token, "");
        }
        assert_true (++pages <= 3);
    } while (token [0]);
    assert_int_equal (pages, 2);
    assert_int_equal (kept, 3);
    assert_int_equal (scanned_total, keys);
}

static void
test_corrupt_value (void **state)
{
    fixture *f = *state;
    ts_key k;
    s_key (&k, 'e', 1);
    ts_txn_put (f->txn, f->items, k.data, k.size, "\xff\xff\xff", 3);
    s_reset_ctx (f);
    ts_page pg;
    char list = 'e';
    assert_int_equal (ts_page_open (&f->ctx, &pg, f->items, &list, 1, "", 10), 0);
    assert_true (ts_page_more (&pg));
    assert_null (ts_page_msg (&pg, &tashan__caller__descriptor, f->arena));
    assert_int_equal (ts_txn_error (f->txn), TS_STORE_CORRUPT);
    ts_page_close (&pg, f->arena);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_first_page, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_tokens_resume_exactly, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_prefix_boundary, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_tokens, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_token_helpers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_offset_pages, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_scan_bound, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_corrupt_value, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
