/*  test_ts_keys - the CURVE client keys file: strict parsing (keys, names,
    roles, bindings, duplicates, limits, comments), loading, the daemons'
    own key, and what each kind of key may claim. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "ts_keys.h"

//  Real Z85 public keys (any 40 Z85 characters decode).
#define KEY_A "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define KEY_B "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define KEY_C "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"

static void
test_parse_good (void **state)
{
    (void) state;
    ts_keys *keys = ts_keys_new ();
    char err [256] = "";
    const char *text =
        "# the clients\n"
        "\n"
        KEY_A "  gateway   gateway   # the HTTP gateway\n"
        KEY_B "\tctl ops\r\n"
        KEY_C " school-s1 school S1";
    assert_int_equal (ts_keys_parse (keys, text, err, sizeof err), 0);
    assert_int_equal (ts_keys_count (keys), 3);
    const ts_key_entry *e = ts_keys_find_name (keys, "school-s1");
    assert_non_null (e);
    assert_string_equal (e->public_key, KEY_C);
    assert_string_equal (e->role, "school");
    assert_string_equal (e->binding, "S1");
    assert_ptr_equal (ts_keys_find_key (keys, KEY_B), ts_keys_find_name (keys, "ctl"));
    assert_null (ts_keys_find_name (keys, "nobody"));
    assert_string_equal (ts_keys_at (keys, 0)->name, "gateway");
    ts_keys_destroy (&keys);
    assert_null (keys);
    ts_keys_destroy (&keys);        //  safe twice
}

//  Each bad text is refused whole, with the line and the reason.
static void
s_refused (const char *text, const char *expect)
{
    ts_keys *keys = ts_keys_new ();
    char err [256] = "";
    assert_int_equal (ts_keys_parse (keys, text, err, sizeof err), -1);
    if (!strstr (err, expect))
        fail_msg ("for '%.60s' expected '%s' in '%s'", text, expect, err);
    assert_int_equal (ts_keys_count (keys), 0);
    ts_keys_destroy (&keys);
}

static void
test_parse_bad (void **state)
{
    (void) state;
    s_refused (KEY_A " a", "line 1: expected 'PUBLIC-KEY NAME ROLE [BINDING]'");
    s_refused (KEY_A " a school S1 extra", "line 1: expected");
    s_refused ("short a ops", "not a 40-character Z85 public key");
    s_refused ("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf~ a ops", "Z85");
    s_refused (KEY_A " Upper ops", "name 'Upper'");
    s_refused (KEY_A " -dash ops", "name '-dash'");
    s_refused (KEY_A " a wizard", "role 'wizard'");
    s_refused (KEY_A " a daemon", "role 'daemon'");
    s_refused (KEY_A " a school", "role school needs a binding");
    s_refused (KEY_A " a merchant", "role merchant needs a binding");
    s_refused (KEY_A " a ops X", "role ops takes no binding");
    s_refused (KEY_A " a gateway X", "role gateway takes no binding");
    s_refused (KEY_A " a school S/1", "binding 'S/1'");
    s_refused ("# ok\n" KEY_A " a ops\n" KEY_A " b ops\n", "line 3: key of 'b' listed twice");
    s_refused (KEY_A " a ops\n" KEY_B " a ops\n", "line 2: name 'a' listed twice");
    char name [80];
    memset (name, 'n', 65);
    name [65] = 0;
    char line [200];
    snprintf (line, sizeof line, "%s %s ops", KEY_A, name);
    s_refused (line, "name 'nnnn");
    char *longline = malloc (TS_KEYS_LINE_MAX_BYTES + 10);
    memset (longline, ' ', TS_KEYS_LINE_MAX_BYTES + 1);
    longline [TS_KEYS_LINE_MAX_BYTES + 1] = 0;
    s_refused (longline, "line 1: longer than 512 bytes");
    free (longline);
}

//  More than TS_KEYS_MAX keys are refused (each key distinct).
static void
test_parse_limit (void **state)
{
    (void) state;
    size_t size = (TS_KEYS_MAX + 1) * 80;
    char *text = calloc (1, size);
    size_t used = 0;
    for (int i = 0; i <= TS_KEYS_MAX; i++) {
        uint8_t raw [32] = { 0 };
        raw [0] = (uint8_t) i;
        raw [1] = (uint8_t) (i >> 8);
        char z85 [41];
        zmq_z85_encode (z85, raw, 32);
        used += (size_t) snprintf (text + used, size - used, "%s c%d system\n", z85, i);
    }
    ts_keys *keys = ts_keys_new ();
    char err [256];
    assert_int_equal (ts_keys_parse (keys, text, err, sizeof err), -1);
    assert_non_null (strstr (err, "more than 1000 keys"));
    //  Exactly TS_KEYS_MAX is fine.
    *strrchr (text, '\n') = 0;
    *(strrchr (text, '\n') + 1) = 0;
    assert_int_equal (ts_keys_parse (keys, text, err, sizeof err), 0);
    assert_int_equal (ts_keys_count (keys), TS_KEYS_MAX);
    ts_keys_destroy (&keys);
    free (text);
}

static void
test_load (void **state)
{
    (void) state;
    char path [] = "/tmp/test_ts_keys_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    ts_keys *keys = ts_keys_new ();
    char err [512];
    FILE *f = fopen (path, "w");
    fputs (KEY_A " gw gateway\n", f);
    fclose (f);
    assert_int_equal (ts_keys_load (keys, path, err, sizeof err), 0);
    assert_int_equal (ts_keys_count (keys), 1);
    chmod (path, 0622);
    assert_int_equal (ts_keys_load (keys, path, err, sizeof err), -1);
    assert_non_null (strstr (err, "must not be writable by group or others"));
    assert_int_equal (ts_keys_count (keys), 0);
    chmod (path, 0600);
    f = fopen (path, "w");
    fwrite ("x\0y", 1, 3, f);
    fclose (f);
    assert_int_equal (ts_keys_load (keys, path, err, sizeof err), -1);
    assert_non_null (strstr (err, "NUL byte"));
    unlink (path);
    //  Absent: no clients, not an error.
    assert_int_equal (ts_keys_load (keys, path, err, sizeof err), 0);
    assert_int_equal (ts_keys_count (keys), 0);
    ts_keys_destroy (&keys);
}

static void
test_daemon_key (void **state)
{
    (void) state;
    ts_keys *keys = ts_keys_new ();
    char err [256];
    assert_int_equal (ts_keys_parse (keys, KEY_A " gw gateway\n", err, sizeof err), 0);
    ts_keys_set_daemon_key (keys, KEY_B);
    ts_keys_set_daemon_key (keys, KEY_C);       //  replaces, never adds
    assert_int_equal (ts_keys_count (keys), 2);
    assert_null (ts_keys_find_key (keys, KEY_B));
    assert_string_equal (ts_keys_find_key (keys, KEY_C)->role, TS_KEYS_DAEMON_ROLE);
    ts_keys_destroy (&keys);
}

static unsigned
s_claim (const ts_key_entry *e, const char *method, const char *role, const char *binding,
         char *why)
{
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = (char *) role;
    caller.binding = (char *) binding;
    return ts_keys_check_claim (e, method, &caller, why, 256);
}

static void
test_claims (void **state)
{
    (void) state;
    ts_keys *keys = ts_keys_new ();
    char why [256];
    assert_int_equal (ts_keys_parse (keys, KEY_A " gw gateway\n" KEY_B " ctl ops\n"
                                     KEY_C " s1 school S1\n", why, sizeof why), 0);
    const ts_key_entry *gw = ts_keys_find_name (keys, "gw");
    const ts_key_entry *ctl = ts_keys_find_name (keys, "ctl");
    const ts_key_entry *s1 = ts_keys_find_name (keys, "s1");
    assert_int_equal (s_claim (gw, "ledger.Evaluate", "ops", "", why), 0);
    assert_int_equal (s_claim (gw, "ledger.SubmitMedals", "school", "S2", why), 0);
    assert_int_equal (s_claim (gw, "sys.Fetch", "system", "", why), 403);
    assert_int_equal (s_claim (gw, "sys.Health", "system", "", why), 0);
    assert_int_equal (s_claim (ctl, "sys.Backup", "system", "", why), 0);
    assert_int_equal (s_claim (ctl, "ledger.Evaluate", "ops", "", why), 0);
    assert_int_equal (s_claim (ctl, "ledger.SubmitMedals", "school", "S1", why), 403);
    assert_int_equal (s_claim (s1, "ledger.SubmitMedals", "school", "S1", why), 0);
    assert_int_equal (s_claim (s1, "ledger.SubmitMedals", "school", "S2", why), 403);
    assert_non_null (strstr (why, "client key 's1' is bound to school S1"));
    assert_int_equal (s_claim (s1, "ledger.Evaluate", "ops", "", why), 403);
    assert_int_equal (s_claim (s1, "sys.Fetch", "system", "", why), 403);
    ts_keys_destroy (&keys);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_parse_good),
        cmocka_unit_test (test_parse_bad),
        cmocka_unit_test (test_parse_limit),
        cmocka_unit_test (test_load),
        cmocka_unit_test (test_daemon_key),
        cmocka_unit_test (test_claims),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
