/*  test_ts_log - a log line is written whole or dropped whole (and
    counted): to a file, to a full device, to a closed descriptor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_log.h"

//  Point stderr at path (opened with flags) for one test; put it back.
static int s_saved_fd = -1;

static void
s_redirect (const char *path, int flags)
{
    s_saved_fd = dup (STDERR_FILENO);
    assert_true (s_saved_fd >= 0);
    int fd = open (path, flags, 0600);
    assert_true (fd >= 0);
    assert_int_equal (dup2 (fd, STDERR_FILENO), STDERR_FILENO);
    close (fd);
}

static void
s_restore (void)
{
    assert_int_equal (dup2 (s_saved_fd, STDERR_FILENO), STDERR_FILENO);
    close (s_saved_fd);
}

static void
test_lines_written_whole (void **state)
{
    (void) state;
    char path [] = "/tmp/test_ts_log_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    uint64_t dropped = ts_log_dropped ();
    s_redirect (path, O_WRONLY | O_APPEND);
    ts_log_info ("one", "n=%d", 1);
    ts_log_warn ("two", "text=\"%s\"", "x y");
    s_restore ();
    assert_int_equal (ts_log_dropped (), dropped);
    FILE *f = fopen (path, "r");
    char line [512];
    assert_non_null (fgets (line, sizeof line, f));
    assert_non_null (strstr (line, " level=info svc=test event=one n=1\n"));
    assert_non_null (fgets (line, sizeof line, f));
    assert_non_null (strstr (line, " event=two text=\"x y\"\n"));
    assert_null (fgets (line, sizeof line, f));
    fclose (f);
    unlink (path);
}

//  /dev/full answers every write with ENOSPC: each line is counted.
static void
test_full_device_drops_and_counts (void **state)
{
    (void) state;
    uint64_t dropped = ts_log_dropped ();
    s_redirect ("/dev/full", O_WRONLY);
    for (int i = 0; i < 3; i++)
        ts_log_error ("disk_full", "i=%d", i);
    s_restore ();
    assert_int_equal (ts_log_dropped (), dropped + 3);
}

//  Below the level: neither written nor counted as dropped.
static void
test_below_level_is_not_a_drop (void **state)
{
    (void) state;
    uint64_t dropped = ts_log_dropped ();
    s_redirect ("/dev/full", O_WRONLY);
    ts_log_debug ("quiet", "n=%d", 1);
    s_restore ();
    assert_int_equal (ts_log_dropped (), dropped);
}

int
main (void)
{
    ts_log_init ("test", TS_LOG_INFO);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_lines_written_whole),
        cmocka_unit_test (test_full_device_drops_and_counts),
        cmocka_unit_test (test_below_level_is_not_a_drop),
    };
    return cmocka_run_group_tests_name ("ts_log", tests, NULL, NULL);
}
