/*  test_ts_reqlog - the request-log switch (all, errors, off, sampling),
    request ids (the daemon's and the gateway's rules, made ones) and
    idempotency keys; and the config keys that set the switch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ts_config.h"
#include "ts_reqlog.h"

static void
test_modes (void **state)
{
    (void) state;
    assert_int_equal (ts_reqlog_mode_parse ("all"), TS_REQLOG_ALL);
    assert_int_equal (ts_reqlog_mode_parse ("errors"), TS_REQLOG_ERRORS);
    assert_int_equal (ts_reqlog_mode_parse ("off"), TS_REQLOG_OFF);
    assert_int_equal (ts_reqlog_mode_parse ("ALL"), -1);
    assert_int_equal (ts_reqlog_mode_parse (""), -1);
    ts_reqlog_set (TS_REQLOG_ALL, 1);
    assert_true (ts_reqlog_wanted (200));
    assert_true (ts_reqlog_wanted (201));
    assert_true (ts_reqlog_wanted (404));
    ts_reqlog_set (TS_REQLOG_ERRORS, 1);
    assert_false (ts_reqlog_wanted (200));
    assert_false (ts_reqlog_wanted (399));
    assert_true (ts_reqlog_wanted (400));
    assert_true (ts_reqlog_wanted (503));
    ts_reqlog_set (TS_REQLOG_OFF, 1);
    assert_false (ts_reqlog_wanted (200));
    assert_false (ts_reqlog_wanted (500));
    ts_reqlog_set (TS_REQLOG_ALL, 1);
}

static void
test_sampling_keeps_every_error (void **state)
{
    (void) state;
    ts_reqlog_set (TS_REQLOG_ALL, 10);
    int successes = 0, errors = 0;
    for (int i = 0; i < 1000; i++) {
        successes += ts_reqlog_wanted (200);
        errors += ts_reqlog_wanted (500);
    }
    assert_int_equal (successes, 100);
    assert_int_equal (errors, 1000);
    ts_reqlog_set (TS_REQLOG_ALL, 1);
}

static void
test_request_ids (void **state)
{
    (void) state;
    char longest [65];
    memset (longest, 'a', 64);
    longest [64] = 0;
    assert_true (ts_request_id_ok ("abc-123"));
    assert_true (ts_request_id_ok ("tashanctl:demo/1"));
    assert_true (ts_request_id_ok (longest));
    assert_true (ts_request_id_header_ok (longest));
    assert_true (ts_request_id_header_ok ("A-z.0_9"));
    char too_long [66];
    memset (too_long, 'a', 65);
    too_long [65] = 0;
    const char *bad [] = { "", "a b", "a\tb", "a\"b", "a\\b", "a\nb", "é", too_long, NULL };
    for (int i = 0; bad [i]; i++) {
        assert_false (ts_request_id_ok (bad [i]));
        assert_false (ts_request_id_header_ok (bad [i]));
    }
    assert_false (ts_request_id_ok (NULL));
    //  The gateway is stricter than the envelope.
    assert_false (ts_request_id_header_ok ("a:b"));
    assert_false (ts_request_id_header_ok ("a/b"));
    char made [17], other [17];
    ts_request_id_make (made, sizeof made);
    ts_request_id_make (other, sizeof other);
    assert_int_equal (strlen (made), 16);
    assert_int_equal (strspn (made, "0123456789abcdef"), 16);
    assert_true (ts_request_id_header_ok (made));
    assert_string_not_equal (made, other);
}

static void
test_idempotency_keys (void **state)
{
    (void) state;
    char longest [256], too_long [257];
    memset (longest, 'k', 255);
    longest [255] = 0;
    memset (too_long, 'k', 256);
    too_long [256] = 0;
    assert_true (ts_idempotency_key_ok ("hh-12-301"));
    assert_true (ts_idempotency_key_ok ("a\"b:c/d"));
    assert_true (ts_idempotency_key_ok (longest));
    assert_false (ts_idempotency_key_ok (too_long));
    assert_false (ts_idempotency_key_ok (""));
    assert_false (ts_idempotency_key_ok ("a b"));
    assert_false (ts_idempotency_key_ok ("a\x7f"));
    assert_false (ts_idempotency_key_ok (NULL));
}

static void
test_config_keys (void **state)
{
    (void) state;
    ts_config cfg;
    memset (&cfg, 0, sizeof cfg);
    char err [256];
    assert_int_equal (ts_config_load_text (&cfg, "log.requests = errors\n"
                                                  "log.requests_sample = 50\n", err, sizeof err), 0);
    assert_int_equal (cfg.log_requests, TS_REQLOG_ERRORS);
    assert_int_equal (cfg.log_requests_sample, 50);
    assert_int_equal (ts_config_load_text (&cfg, "log.requests = loud\n", err, sizeof err), -1);
    assert_non_null (strstr (err, "log.requests must be all, errors or off"));
    const char *bad_samples [] = { "0", "-1", "x", "", "1000001", NULL };
    for (int i = 0; bad_samples [i]; i++) {
        char text [64];
        snprintf (text, sizeof text, "log.requests_sample = %s\n", bad_samples [i]);
        assert_int_equal (ts_config_load_text (&cfg, text, err, sizeof err), -1);
    }
    assert_int_equal (cfg.log_requests_sample, 50);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_modes),
        cmocka_unit_test (test_sampling_keeps_every_error),
        cmocka_unit_test (test_request_ids),
        cmocka_unit_test (test_idempotency_keys),
        cmocka_unit_test (test_config_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
