/*  test_merchants_code - the merchant code: key file, MAC, text form, QR.
    Pure functions of merchants_code.c; no store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "test_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "merchants_code.h"

static char s_dir [64];

static int
s_setup (void **state)
{
    (void) state;
    return test_dir_make (s_dir, sizeof s_dir, "merchants-code");
}

static int
s_teardown (void **state)
{
    (void) state;
    test_dir_remove (s_dir);
    return 0;
}

//  A fresh key is created 0600 and the same key loads again.
static void
test_key_created_and_reloaded (void **state)
{
    (void) state;
    uint8_t a [MERCHANTS_CODE_KEY_BYTES], b [MERCHANTS_CODE_KEY_BYTES];
    char err [256] = "";
    assert_int_equal (merchants_code_key_load (s_dir, a, err, sizeof err), 0);
    char path [128];
    snprintf (path, sizeof path, "%s/code.key", s_dir);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (st.st_size, MERCHANTS_CODE_KEY_BYTES);
    assert_int_equal (merchants_code_key_load (s_dir, b, err, sizeof err), 0);
    assert_memory_equal (a, b, sizeof a);

    //  A key readable by others, or of the wrong size, is refused.
    chmod (path, 0644);
    assert_int_equal (merchants_code_key_load (s_dir, b, err, sizeof err), -1);
    assert_non_null (strstr (err, "chmod 600"));
    chmod (path, 0600);
    FILE *f = fopen (path, "ab");
    assert_non_null (f);
    fputc ('x', f);
    fclose (f);
    assert_int_equal (merchants_code_key_load (s_dir, b, err, sizeof err), -1);
    assert_non_null (strstr (err, "exactly"));
    unlink (path);
}

static void
s_key (uint8_t key [MERCHANTS_CODE_KEY_BYTES], uint8_t fill)
{
    for (size_t i = 0; i < MERCHANTS_CODE_KEY_BYTES; i++)
        key [i] = (uint8_t) (fill + i);
}

//  Codes round-trip, are 26 upper-case base32 characters and differ per
//  merchant and per key.
static void
test_code_round_trip (void **state)
{
    (void) state;
    uint8_t key [MERCHANTS_CODE_KEY_BYTES], other [MERCHANTS_CODE_KEY_BYTES];
    s_key (key, 1);
    s_key (other, 2);
    const uint64_t ids [] = { 1, 2, 447, 65536, UINT32_MAX };
    char prev [MERCHANTS_CODE_CHARS + 1] = "";
    for (size_t i = 0; i < sizeof ids / sizeof ids [0]; i++) {
        char code [MERCHANTS_CODE_CHARS + 1];
        merchants_code_make (key, ids [i], code);
        assert_int_equal (strlen (code), MERCHANTS_CODE_CHARS);
        assert_int_equal (strspn (code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                          MERCHANTS_CODE_CHARS);
        assert_string_not_equal (code, prev);
        uint64_t id = 0;
        assert_true (merchants_code_check (key, code, &id));
        assert_int_equal (id, ids [i]);
        //  Another key does not accept it.
        assert_false (merchants_code_check (other, code, &id));
        strcpy (prev, code);
    }
}

//  Every altered character, in every position, to every other character
//  (case changes included) fails; so do truncation and extension.
static void
test_code_any_change_fails (void **state)
{
    (void) state;
    uint8_t key [MERCHANTS_CODE_KEY_BYTES];
    s_key (key, 7);
    char code [MERCHANTS_CODE_CHARS + 1];
    merchants_code_make (key, 12, code);
    uint64_t id;
    size_t tried = 0;
    for (size_t pos = 0; pos < MERCHANTS_CODE_CHARS; pos++)
        for (int c = 1; c < 256; c++) {
            if (c == (unsigned char) code [pos])
                continue;
            char bad [MERCHANTS_CODE_CHARS + 1];
            memcpy (bad, code, sizeof bad);
            bad [pos] = (char) c;
            assert_false (merchants_code_check (key, bad, &id));
            tried++;
        }
    assert_int_equal (tried, MERCHANTS_CODE_CHARS * 254);
    //  Every single bit flipped in the text.
    for (size_t pos = 0; pos < MERCHANTS_CODE_CHARS; pos++)
        for (int bit = 0; bit < 8; bit++) {
            char bad [MERCHANTS_CODE_CHARS + 1];
            memcpy (bad, code, sizeof bad);
            bad [pos] = (char) (bad [pos] ^ (1 << bit));
            assert_false (merchants_code_check (key, bad, &id));
        }
    char shorter [MERCHANTS_CODE_CHARS + 1];
    for (size_t len = 0; len < MERCHANTS_CODE_CHARS; len++) {
        memcpy (shorter, code, len);
        shorter [len] = 0;
        assert_false (merchants_code_check (key, shorter, &id));
    }
    char longer [MERCHANTS_CODE_CHARS + 2];
    snprintf (longer, sizeof longer, "%sA", code);
    assert_false (merchants_code_check (key, longer, &id));
    assert_false (merchants_code_check (key, NULL, &id));
    assert_false (merchants_code_check (key, "", &id));
    //  Lower case of a genuine code is not the code.
    char lower [MERCHANTS_CODE_CHARS + 1];
    for (size_t i = 0; i <= MERCHANTS_CODE_CHARS; i++)
        lower [i] = (char) ((code [i] >= 'A' && code [i] <= 'Z') ? code [i] + 32 : code [i]);
    assert_false (merchants_code_check (key, lower, &id));
    //  The original still verifies.
    assert_true (merchants_code_check (key, code, &id));
    assert_int_equal (id, 12);
}

//  Guessing: random codes never verify (2^-96 each).
static void
test_code_guess_fails (void **state)
{
    (void) state;
    uint8_t key [MERCHANTS_CODE_KEY_BYTES];
    s_key (key, 9);
    srand (42);
    uint64_t id;
    for (int i = 0; i < 100000; i++) {
        char guess [MERCHANTS_CODE_CHARS + 1];
        for (size_t j = 0; j < MERCHANTS_CODE_CHARS; j++)
            guess [j] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" [rand () % 32];
        guess [MERCHANTS_CODE_CHARS - 1] = 'A';     //  canonical last char
        guess [MERCHANTS_CODE_CHARS] = 0;
        assert_false (merchants_code_check (key, guess, &id));
    }
}

//  The fingerprint depends on the key and is not the key.
static void
test_fingerprint (void **state)
{
    (void) state;
    uint8_t a [MERCHANTS_CODE_KEY_BYTES], b [MERCHANTS_CODE_KEY_BYTES];
    s_key (a, 1);
    s_key (b, 2);
    uint8_t fa [MERCHANTS_CODE_FINGERPRINT_BYTES], fa2 [MERCHANTS_CODE_FINGERPRINT_BYTES],
            fb [MERCHANTS_CODE_FINGERPRINT_BYTES];
    merchants_code_fingerprint (a, fa);
    merchants_code_fingerprint (a, fa2);
    merchants_code_fingerprint (b, fb);
    assert_memory_equal (fa, fa2, sizeof fa);
    assert_memory_not_equal (fa, fb, sizeof fa);
    assert_memory_not_equal (fa, a, sizeof fa);
}

//  The SVG is a well-formed document with dark modules, and a small
//  symbol for a code (version 2: 25 modules + 8 quiet = 33).
static void
test_svg (void **state)
{
    (void) state;
    ts_arena *arena = ts_arena_new ();
    uint8_t key [MERCHANTS_CODE_KEY_BYTES];
    s_key (key, 3);
    char code [MERCHANTS_CODE_CHARS + 1];
    merchants_code_make (key, 5, code);
    size_t size = 0;
    char *svg = merchants_code_svg (arena, code, &size);
    assert_non_null (svg);
    assert_int_equal (strlen (svg), size);
    assert_non_null (strstr (svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null (strstr (svg, "viewBox=\"0 0 33 33\""));
    assert_non_null (strstr (svg, "</svg>"));
    //  The finder pattern's top row: 7 dark modules at the quiet zone.
    assert_non_null (strstr (svg, "M4 4h7v1h-7z"));
    //  A longer payload gives a bigger symbol.
    char *url = ts_arena_printf (arena, "HTTPS://TASHAN.EXAMPLE.ORG/C/%s", code);
    char *big = merchants_code_svg (arena, url, &size);
    assert_non_null (big);
    assert_null (strstr (big, "viewBox=\"0 0 33 33\""));
    ts_arena_destroy (&arena);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_key_created_and_reloaded),
        cmocka_unit_test (test_code_round_trip),
        cmocka_unit_test (test_code_any_change_fails),
        cmocka_unit_test (test_code_guess_fails),
        cmocka_unit_test (test_fingerprint),
        cmocka_unit_test (test_svg),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
