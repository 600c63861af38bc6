/*  test_ts_cardcode - the resident's card code format: signing, decoding,
    offline verification, key derivation, the validity window. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "ts_cardcode.h"

static uint8_t s_master [32];

static ts_cardcode
s_sample (void)
{
    ts_cardcode c = { 0 };
    c.key_id = 3;
    c.serial = 123456789;
    c.issued_ms = 1780000000000LL;
    c.expires_ms = c.issued_ms + 24 * 3600000LL;
    c.flags = TS_CARDCODE_PRINTED | TS_CARDCODE_SPENDABLE;
    strcpy (c.tier, "AAA");
    strcpy (c.person_id, "p2824");
    return c;
}

static void
test_round_trip (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    uint8_t pk [TS_CARDCODE_KEY_BYTES], sk [64];
    ts_cardcode_keypair (s_master, 3, pk, sk);
    ts_cardcode c = s_sample ();
    char *text = ts_cardcode_sign (arena, &c, sk);
    assert_true (strncmp (text, TS_CARDCODE_PREFIX, 4) == 0);
    assert_true (strlen (text) <= TS_CARDCODE_MAX_CHARS);
    //  QR-friendly: base64url, no padding, nothing to escape in a URL.
    for (const char *p = text + 4; *p; p++)
        assert_non_null (strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789-_", *p));
    ts_cardcode d;
    assert_int_equal (ts_cardcode_decode (text, &d), 0);
    assert_int_equal (d.key_id, 3);
    assert_true (d.serial == 123456789);
    assert_true (d.issued_ms == c.issued_ms && d.expires_ms == c.expires_ms);
    assert_int_equal (d.flags, TS_CARDCODE_PRINTED | TS_CARDCODE_SPENDABLE);
    assert_string_equal (d.tier, "AAA");
    assert_string_equal (d.person_id, "p2824");
    assert_true (ts_cardcode_verify (text, pk));
    //  Deterministic: the same code signs to the same text.
    assert_string_equal (ts_cardcode_sign (arena, &c, sk), text);
    ts_arena_destroy (&arena);
}

static void
test_keys_derived_per_id (void **state)
{
    (void) state;
    uint8_t pk1 [32], sk1 [64], pk1b [32], sk1b [64], pk2 [32], sk2 [64], pkm [32], skm [64];
    ts_cardcode_keypair (s_master, 1, pk1, sk1);
    ts_cardcode_keypair (s_master, 1, pk1b, sk1b);
    ts_cardcode_keypair (s_master, 2, pk2, sk2);
    uint8_t other [32];
    memcpy (other, s_master, 32);
    other [0] ^= 1;
    ts_cardcode_keypair (other, 1, pkm, skm);
    assert_memory_equal (pk1, pk1b, 32);
    assert_memory_not_equal (pk1, pk2, 32);
    assert_memory_not_equal (pk1, pkm, 32);
    //  A code signed with key 1 does not verify with key 2.
    ts_arena *arena = ts_arena_new ();
    ts_cardcode c = s_sample ();
    char *text = ts_cardcode_sign (arena, &c, sk1);
    assert_true (ts_cardcode_verify (text, pk1));
    assert_false (ts_cardcode_verify (text, pk2));
    assert_false (ts_cardcode_verify (text, pkm));
    ts_arena_destroy (&arena);
}

//  Flipping any character of the text breaks decoding or the signature.
static void
test_every_change_refused (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    uint8_t pk [32], sk [64];
    ts_cardcode_keypair (s_master, 3, pk, sk);
    ts_cardcode c = s_sample ();
    const char *text = ts_cardcode_sign (arena, &c, sk);
    size_t len = strlen (text);
    char buf [TS_CARDCODE_MAX_CHARS + 8];
    for (size_t i = 0; i < len; i++) {
        strcpy (buf, text);
        buf [i] = buf [i] == 'Q' ? 'R' : 'Q';
        ts_cardcode d;
        bool accepted = ts_cardcode_decode (buf, &d) == 0 && ts_cardcode_verify (buf, pk);
        assert_false (accepted);
    }
    //  Truncated and extended texts.
    for (size_t cut = 0; cut < len; cut += 5) {
        memcpy (buf, text, cut);
        buf [cut] = 0;
        assert_false (ts_cardcode_verify (buf, pk));
    }
    snprintf (buf, sizeof buf, "%sAA", text);
    ts_cardcode d;
    assert_false (ts_cardcode_decode (buf, &d) == 0 && ts_cardcode_verify (buf, pk));
    ts_arena_destroy (&arena);
}

static void
test_malformed (void **state)
{
    (void) state;
    ts_cardcode d;
    const char *bad [] = { NULL, "", "TC1.", "TC1.====", "TC2.AAAA", "tc1.AAAA", "TC1.AAAA",
                           "TC1.!!!!", "TC1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_int_equal (ts_cardcode_decode (bad [i], &d), -1);
    char huge [4096];
    memset (huge, 'A', sizeof huge - 1);
    memcpy (huge, "TC1.", 4);
    huge [sizeof huge - 1] = 0;
    assert_int_equal (ts_cardcode_decode (huge, &d), -1);
    uint8_t pk [32] = { 0 };
    assert_false (ts_cardcode_verify (huge, pk));
}

static void
test_valid_window (void **state)
{
    (void) state;
    ts_cardcode c = s_sample ();
    assert_false (ts_cardcode_valid_at (&c, c.issued_ms - 1));
    assert_true (ts_cardcode_valid_at (&c, c.issued_ms));
    assert_true (ts_cardcode_valid_at (&c, c.expires_ms - 1));
    assert_false (ts_cardcode_valid_at (&c, c.expires_ms));
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    randombytes_buf (s_master, sizeof s_master);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_keys_derived_per_id),
        cmocka_unit_test (test_every_change_refused),
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_valid_window),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
