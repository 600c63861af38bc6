/*  test_ts_keyfile - secret key files: created once (0600), reloaded the
    same, refused when of the wrong size or readable by others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_keyfile.h"

typedef struct {
    char dir [64];
    char path [128];
    char err [256];
} fx_t;

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "keyfile"), 0);
    snprintf (f->path, sizeof f->path, "%s/k.key", f->dir);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

static void
test_created_once_private_and_reloaded (void **state)
{
    fx_t *f = *state;
    uint8_t a [32], b [32], zero [32] = { 0 };
    assert_int_equal (ts_keyfile_load (f->dir, "k.key", a, sizeof a, f->err, sizeof f->err), 0);
    assert_memory_not_equal (a, zero, sizeof a);
    struct stat st;
    assert_int_equal (stat (f->path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (st.st_size, 32);
    assert_int_equal (ts_keyfile_load (f->dir, "k.key", b, sizeof b, f->err, sizeof f->err), 0);
    assert_memory_equal (a, b, sizeof a);
}

static void
test_wrong_size_refused (void **state)
{
    fx_t *f = *state;
    uint8_t a [32], b [16];
    assert_int_equal (ts_keyfile_load (f->dir, "k.key", a, sizeof a, f->err, sizeof f->err), 0);
    assert_int_equal (ts_keyfile_load (f->dir, "k.key", b, sizeof b, f->err, sizeof f->err), -1);
    assert_non_null (strstr (f->err, "exactly 16 bytes"));
}

static void
test_readable_by_others_refused (void **state)
{
    fx_t *f = *state;
    uint8_t a [32];
    assert_int_equal (ts_keyfile_load (f->dir, "k.key", a, sizeof a, f->err, sizeof f->err), 0);
    assert_int_equal (chmod (f->path, 0644), 0);
    assert_int_equal (ts_keyfile_load (f->dir, "k.key", a, sizeof a, f->err, sizeof f->err), -1);
    assert_non_null (strstr (f->err, "chmod 600"));
}

static void
test_missing_dir_is_an_error (void **state)
{
    fx_t *f = *state;
    uint8_t a [32];
    assert_int_equal (ts_keyfile_load ("/nonexistent/dir", "k.key", a, sizeof a, f->err,
                                       sizeof f->err), -1);
    assert_non_null (strstr (f->err, "cannot create"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_created_once_private_and_reloaded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wrong_size_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_readable_by_others_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_missing_dir_is_an_error, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
