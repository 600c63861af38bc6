/*  test_ts_config - settings from defaults, a config file and flags.
    Each test runs in its own temp dir as the current directory; what
    ts_config_parse prints is captured to a file and checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_config.h"
#include "ts_log.h"

#define ARGS_MAX 16

typedef struct {
    char dir [64];                  //  temp dir, the cwd during the test
    char old_cwd [512];
    char *argv [ARGS_MAX + 1];      //  argv of the last parse
    char output [8192];             //  stdout + stderr of the last parse
    ts_config cfg;
} fx_t;

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_non_null (getcwd (f->old_cwd, sizeof f->old_cwd));
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "config"), 0);
    assert_int_equal (chdir (f->dir), 0);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    assert_int_equal (chdir (f->old_cwd), 0);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  Parse "prog" + the NULL-terminated arguments, capturing what it prints.
static ts_config_result
s_parse (fx_t *f, int positional, ...)
{
    va_list args;
    va_start (args, positional);
    int argc = 0;
    f->argv [argc++] = "tashan-test";
    const char *arg;
    while ((arg = va_arg (args, const char *)) && argc < ARGS_MAX)
        f->argv [argc++] = (char *) arg;
    va_end (args);
    f->argv [argc] = NULL;

    char path [96];
    snprintf (path, sizeof path, "%s/output", f->dir);
    fflush (stdout);
    fflush (stderr);
    int saved_out = dup (1), saved_err = dup (2);
    FILE *out = fopen (path, "w+");
    assert_non_null (out);
    dup2 (fileno (out), 1);
    dup2 (fileno (out), 2);
    ts_config_result rc = ts_config_parse (&f->cfg, argc, f->argv, "tashan-test",
                                           "A test program.", positional ? "Commands: x" : NULL,
                                           positional);
    fflush (stdout);
    fflush (stderr);
    dup2 (saved_out, 1);
    dup2 (saved_err, 2);
    close (saved_out);
    close (saved_err);
    rewind (out);
    size_t n = fread (f->output, 1, sizeof f->output - 1, out);
    f->output [n] = 0;
    fclose (out);
    unlink (path);
    return rc;
}

static void
s_write_file (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

//  load_text on a zeroed config; returns rc, err in err.
static int
s_load (ts_config *cfg, const char *text, char *err, size_t err_size)
{
    memset (cfg, 0, sizeof *cfg);
    err [0] = 0;
    return ts_config_load_text (cfg, text, err, err_size);
}

//  --------------------------------------------------------------------
//  Defaults and flags

static void
test_defaults (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, NULL), TS_CONFIG_RUN);
    char expect [256];
    snprintf (expect, sizeof expect, "%s/var", f->dir);
    assert_string_equal (f->cfg.data_dir, expect);
    assert_int_equal (f->cfg.log_level, TS_LOG_INFO);
    assert_string_equal (f->cfg.listen, "127.0.0.1:8080");
    assert_string_equal (f->cfg.config_file, "");
    assert_string_equal (f->cfg.curve_secret, "");
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        snprintf (expect, sizeof expect, "ipc://%s/var/run/%s.sock", f->dir, ts_service_names [i]);
        assert_string_equal (f->cfg.endpoints [i], expect);
        assert_string_equal (ts_config_endpoint (&f->cfg, ts_service_names [i]), expect);
    }
    assert_int_equal (f->cfg.argc, 0);
    assert_string_equal (f->output, "");
    assert_int_equal (f->cfg.rate_token_per_s, 20000);
    assert_int_equal (f->cfg.rate_public_per_s, 2000);
}

static void
test_rate_limits (void **state)
{
    (void) state;
    ts_config cfg;
    char err [256];
    assert_int_equal (s_load (&cfg, "rate_limit.token_per_s = 5\nrate_limit.public_per_s = 0\n",
                              err, sizeof err), 0);
    assert_int_equal (cfg.rate_token_per_s, 5);
    assert_int_equal (cfg.rate_public_per_s, 0);
    static const char *const bad [] = {
        "rate_limit.token_per_s = -1", "rate_limit.token_per_s = ten",
        "rate_limit.public_per_s = 10000001", "rate_limit.public_per_s =",
        "rate_limit.token_per_s = 5x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_load (&cfg, bad [i], err, sizeof err), -1);
        assert_non_null (strstr (err, "requests per second"));
    }
}

//  store.map_resident_mib: whole MiB from 0 (no bound) up; a bad value is
//  refused with its key named and leaves the setting as it was.
static void
test_map_resident_budget (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, NULL), TS_CONFIG_RUN);
    assert_int_equal (f->cfg.store_map_resident_mib, TS_CONFIG_MAP_RESIDENT_MIB);
    ts_config cfg;
    char err [256];
    assert_int_equal (s_load (&cfg, "store.map_resident_mib = 0\n", err, sizeof err), 0);
    assert_int_equal (cfg.store_map_resident_mib, 0);
    assert_int_equal (s_load (&cfg, "store.map_resident_mib = 1048576", err, sizeof err), 0);
    assert_int_equal (cfg.store_map_resident_mib, TS_CONFIG_MAP_RESIDENT_MIB_MAX);
    static const char *const bad [] = {
        "store.map_resident_mib = 12\nstore.map_resident_mib = -1",
        "store.map_resident_mib = 12\nstore.map_resident_mib = 8M",
        "store.map_resident_mib = 12\nstore.map_resident_mib = 1048577",
        "store.map_resident_mib = 12\nstore.map_resident_mib =",
        "store.map_resident_mib = 12\nstore.map_resident_mib = 99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_load (&cfg, bad [i], err, sizeof err), -1);
        assert_non_null (strstr (err, "store.map_resident_mib must be a number of MiB"));
        assert_int_equal (cfg.store_map_resident_mib, 12);
    }
}

static void
test_service_names_and_unknown_endpoint (void **state)
{
    fx_t *f = *state;
    //  The names are those of services/services.list, in its order; the
    //  first ones are fixed.
    assert_true (TS_SERVICE_COUNT >= 5);
    assert_string_equal (ts_service_names [0], "residents");
    assert_string_equal (ts_service_names [1], "ledger");
    assert_int_equal (s_parse (f, false, NULL), TS_CONFIG_RUN);
    //  Every listed daemon has its default endpoint.
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        char tail [64];
        snprintf (tail, sizeof tail, "/run/%s.sock", ts_service_names [i]);
        const char *ep = ts_config_endpoint (&f->cfg, ts_service_names [i]);
        assert_non_null (ep);
        assert_non_null (strstr (ep, tail));
    }
    assert_null (ts_config_endpoint (&f->cfg, "gateway"));
    assert_null (ts_config_endpoint (&f->cfg, ""));
}

static void
test_relative_data_dir_made_absolute (void **state)
{
    fx_t *f = *state;
    char expect [256];
    assert_int_equal (s_parse (f, false, "--data-dir", "./a/b", NULL), TS_CONFIG_RUN);
    snprintf (expect, sizeof expect, "%s/a/b", f->dir);
    assert_string_equal (f->cfg.data_dir, expect);
    assert_int_equal (s_parse (f, false, "--data-dir", "c", NULL), TS_CONFIG_RUN);
    snprintf (expect, sizeof expect, "%s/c", f->dir);
    assert_string_equal (f->cfg.data_dir, expect);
    snprintf (expect, sizeof expect, "ipc://%s/c/run/ledger.sock", f->dir);
    assert_string_equal (ts_config_endpoint (&f->cfg, "ledger"), expect);
}

static void
test_absolute_data_dir_kept (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--data-dir", "/srv/tashan", NULL), TS_CONFIG_RUN);
    assert_string_equal (f->cfg.data_dir, "/srv/tashan");
    assert_string_equal (ts_config_endpoint (&f->cfg, "merchants"),
                         "ipc:///srv/tashan/run/merchants.sock");
}

static void
test_log_level_flag (void **state)
{
    fx_t *f = *state;
    static const char *const names [] = { "debug", "info", "warn", "error" };
    static const int levels [] = { TS_LOG_DEBUG, TS_LOG_INFO, TS_LOG_WARN, TS_LOG_ERROR };
    for (int i = 0; i < 4; i++) {
        assert_int_equal (s_parse (f, false, "--log-level", names [i], NULL), TS_CONFIG_RUN);
        assert_int_equal (f->cfg.log_level, levels [i]);
    }
}

static void
test_listen_flag (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--listen", "0.0.0.0:9000", NULL), TS_CONFIG_RUN);
    assert_string_equal (f->cfg.listen, "0.0.0.0:9000");
    assert_int_equal (s_parse (f, false, "--listen", "[::1]:80", NULL), TS_CONFIG_RUN);
    assert_string_equal (f->cfg.listen, "[::1]:80");
}

static void
test_endpoint_flag_sets_one_service (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--endpoint", "ledger=tcp://10.0.0.2:7102",
                               "--endpoint", "merchants=ipc:///run/m.sock", NULL), TS_CONFIG_RUN);
    assert_string_equal (ts_config_endpoint (&f->cfg, "ledger"), "tcp://10.0.0.2:7102");
    assert_string_equal (ts_config_endpoint (&f->cfg, "merchants"), "ipc:///run/m.sock");
    char expect [256];
    snprintf (expect, sizeof expect, "ipc://%s/var/run/residents.sock", f->dir);
    assert_string_equal (ts_config_endpoint (&f->cfg, "residents"), expect);
}

static void
test_flag_equals_value_form (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--data-dir=/d", "--log-level=warn",
                               "--listen=h:1", "--endpoint=proposals=tcp://p:5", NULL),
                      TS_CONFIG_RUN);
    assert_string_equal (f->cfg.data_dir, "/d");
    assert_int_equal (f->cfg.log_level, TS_LOG_WARN);
    assert_string_equal (f->cfg.listen, "h:1");
    assert_string_equal (ts_config_endpoint (&f->cfg, "proposals"), "tcp://p:5");
}

static void
test_last_flag_wins (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--log-level", "debug", "--log-level", "error", NULL),
                      TS_CONFIG_RUN);
    assert_int_equal (f->cfg.log_level, TS_LOG_ERROR);
}

//  --------------------------------------------------------------------
//  Config file

static void
test_load_text_applies_settings (void **state)
{
    (void) state;
    ts_config cfg;
    char err [256];
    const char *text =
        "# tashan settings\n"
        "\n"
        "data_dir = /var/lib/tashan   # where data lives\n"
        "  log_level=warn\r\n"
        "\tlisten = 0.0.0.0:8443\n"
        "endpoint.ledger = tcp://10.1.1.1:7102\n"
        "curve.secret_key = 0123456789012345678901234567890123456789\n"
        "curve.public_key = abcdefghijabcdefghijabcdefghijabcdefghij\n"
        "curve.server_key = ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ";    //  no final newline
    assert_int_equal (s_load (&cfg, text, err, sizeof err), 0);
    assert_string_equal (cfg.data_dir, "/var/lib/tashan");
    assert_int_equal (cfg.log_level, TS_LOG_WARN);
    assert_string_equal (cfg.listen, "0.0.0.0:8443");
    assert_string_equal (ts_config_endpoint (&cfg, "ledger"), "tcp://10.1.1.1:7102");
    assert_string_equal (cfg.curve_secret, "0123456789012345678901234567890123456789");
    assert_string_equal (cfg.curve_public, "abcdefghijabcdefghijabcdefghijabcdefghij");
    assert_string_equal (cfg.curve_server, "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ");
}

static void
test_load_text_empty_and_comments_only (void **state)
{
    (void) state;
    ts_config cfg;
    char err [256];
    assert_int_equal (s_load (&cfg, "", err, sizeof err), 0);
    assert_int_equal (s_load (&cfg, "# nothing\n\n   \n#data_dir = /x\n", err, sizeof err), 0);
    assert_string_equal (cfg.data_dir, "");
}

static void
test_config_file_flag (void **state)
{
    fx_t *f = *state;
    s_write_file ("tashan.conf", "data_dir = /from/file\nlog_level = error\n"
                                 "endpoint.volunteers = tcp://v:7104\n");
    assert_int_equal (s_parse (f, false, "--config", "tashan.conf", NULL), TS_CONFIG_RUN);
    assert_string_equal (f->cfg.config_file, "tashan.conf");
    assert_string_equal (f->cfg.data_dir, "/from/file");
    assert_int_equal (f->cfg.log_level, TS_LOG_ERROR);
    assert_string_equal (ts_config_endpoint (&f->cfg, "volunteers"), "tcp://v:7104");
    //  Defaults follow the file's data dir.
    assert_string_equal (ts_config_endpoint (&f->cfg, "ledger"), "ipc:///from/file/run/ledger.sock");
}

static void
test_flags_beat_file_whatever_the_order (void **state)
{
    fx_t *f = *state;
    s_write_file ("tashan.conf", "log_level = error\nlisten = 1.2.3.4:1\ndata_dir = /file\n");
    assert_int_equal (s_parse (f, false, "--log-level", "debug", "--config", "tashan.conf",
                               "--data-dir", "/flag", NULL), TS_CONFIG_RUN);
    assert_int_equal (f->cfg.log_level, TS_LOG_DEBUG);
    assert_string_equal (f->cfg.data_dir, "/flag");
    assert_string_equal (f->cfg.listen, "1.2.3.4:1");      //  from the file
}

static void
test_config_file_missing_is_usage_error (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--config", "nope.conf", NULL), TS_CONFIG_EXIT_USAGE);
    assert_non_null (strstr (f->output, "nope.conf"));
}

static void
test_config_file_error_names_file_and_line (void **state)
{
    fx_t *f = *state;
    s_write_file ("bad.conf", "data_dir = /x\n\ncolour = blue\n");
    assert_int_equal (s_parse (f, false, "--config", "bad.conf", NULL), TS_CONFIG_EXIT_USAGE);
    assert_non_null (strstr (f->output, "bad.conf"));
    assert_non_null (strstr (f->output, "line 3"));
    assert_non_null (strstr (f->output, "colour"));
}

//  --------------------------------------------------------------------
//  Errors in the file's text

static void
test_unknown_key_with_line_number (void **state)
{
    (void) state;
    ts_config cfg;
    char err [256];
    assert_int_equal (s_load (&cfg, "data_dir = /x\n# c\nfoo = bar\n", err, sizeof err), -1);
    assert_string_equal (err, "line 3: unknown key 'foo'");
}

static void
test_line_without_equals (void **state)
{
    (void) state;
    ts_config cfg;
    char err [256];
    assert_int_equal (s_load (&cfg, "log_level info\n", err, sizeof err), -1);
    assert_non_null (strstr (err, "line 1"));
}

static void
test_bad_log_level (void **state)
{
    fx_t *f = *state;
    ts_config cfg;
    char err [256];
    assert_int_equal (s_load (&cfg, "log_level = loud\n", err, sizeof err), -1);
    assert_non_null (strstr (err, "loud"));
    assert_int_equal (s_load (&cfg, "log_level = INFO\n", err, sizeof err), -1);
    assert_int_equal (s_parse (f, false, "--log-level", "verbose", NULL), TS_CONFIG_EXIT_USAGE);
    assert_non_null (strstr (f->output, "verbose"));
}

static void
test_listen_needs_host_and_port (void **state)
{
    fx_t *f = *state;
    static const char *const bad [] = {
        "127.0.0.1", "127.0.0.1:", ":8080", "host:99999", "host:http", "host:-1", "host:80x",
    };
    ts_config cfg;
    char err [256], line [128];
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        snprintf (line, sizeof line, "listen = %s\n", bad [i]);
        assert_int_equal (s_load (&cfg, line, err, sizeof err), -1);
        assert_non_null (strstr (err, "HOST:PORT"));
    }
    assert_int_equal (s_parse (f, false, "--listen", "localhost", NULL), TS_CONFIG_EXIT_USAGE);
    assert_int_equal (s_load (&cfg, "listen = host:0\n", err, sizeof err), 0);
    assert_int_equal (s_load (&cfg, "listen = host:65535\n", err, sizeof err), 0);
}

static void
test_endpoint_bad_scheme (void **state)
{
    fx_t *f = *state;
    ts_config cfg;
    char err [256];
    assert_int_equal (s_load (&cfg, "endpoint.ledger = http://x:1\n", err, sizeof err), -1);
    assert_non_null (strstr (err, "tcp://"));
    assert_int_equal (s_load (&cfg, "endpoint.ledger = x:1\n", err, sizeof err), -1);
    assert_int_equal (s_parse (f, false, "--endpoint", "ledger=udp://x:1", NULL), TS_CONFIG_EXIT_USAGE);
    assert_int_equal (s_parse (f, false, "--endpoint", "ledger", NULL), TS_CONFIG_EXIT_USAGE);
    assert_non_null (strstr (f->output, "SERVICE=ENDPOINT"));
}

static void
test_endpoint_unknown_service (void **state)
{
    fx_t *f = *state;
    ts_config cfg;
    char err [256];
    assert_int_equal (s_load (&cfg, "endpoint.billing = tcp://x:1\n", err, sizeof err), -1);
    assert_non_null (strstr (err, "billing"));
    assert_int_equal (s_parse (f, false, "--endpoint", "gateway=tcp://x:1", NULL), TS_CONFIG_EXIT_USAGE);
    assert_non_null (strstr (f->output, "gateway"));
}

static void
test_ipc_path_too_long (void **state)
{
    fx_t *f = *state;
    char ep [200] = "ipc:///";
    memset (ep + 7, 'p', 120);
    ep [127] = 0;
    ts_config cfg;
    char err [256], line [256];
    snprintf (line, sizeof line, "endpoint.ledger = %s\n", ep);
    assert_int_equal (s_load (&cfg, line, err, sizeof err), -1);
    assert_non_null (strstr (err, "longer than 100"));
    //  A long data dir makes the default endpoints too long.
    char dir [128] = "/";
    memset (dir + 1, 'd', 100);
    dir [101] = 0;
    assert_int_equal (s_parse (f, false, "--data-dir", dir, NULL), TS_CONFIG_EXIT_USAGE);
    assert_non_null (strstr (f->output, "longer than 100"));
    //  ...unless every endpoint is tcp.
    assert_int_equal (s_parse (f, false, "--data-dir", dir,
                               "--endpoint", "residents=tcp://h:1", "--endpoint", "ledger=tcp://h:2",
                               "--endpoint", "merchants=tcp://h:3", "--endpoint", "volunteers=tcp://h:4",
                               "--endpoint", "proposals=tcp://h:5", NULL), TS_CONFIG_RUN);
}

static void
test_curve_key_must_be_40_chars (void **state)
{
    (void) state;
    ts_config cfg;
    char err [256];
    assert_int_equal (s_load (&cfg, "curve.secret_key = short\n", err, sizeof err), -1);
    assert_non_null (strstr (err, "40"));
}

//  The keys file and the backup root default under the data dir; relative
//  settings are taken from it too, absolute ones kept.
static void
test_clients_file_and_backup_root (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, NULL), TS_CONFIG_RUN);
    char expect [256];
    snprintf (expect, sizeof expect, "%s/var/keys/clients", f->dir);
    assert_string_equal (f->cfg.clients_file, expect);
    snprintf (expect, sizeof expect, "%s/var/backups", f->dir);
    assert_string_equal (f->cfg.backup_root, expect);
    char path [256];
    snprintf (path, sizeof path, "%s/c.conf", f->dir);
    s_write_file (path, "curve.clients_file = etc/clients\nbackup.root = /srv/backups\n");
    assert_int_equal (s_parse (f, false, "--config", path, NULL), TS_CONFIG_RUN);
    snprintf (expect, sizeof expect, "%s/var/etc/clients", f->dir);
    assert_string_equal (f->cfg.clients_file, expect);
    assert_string_equal (f->cfg.backup_root, "/srv/backups");
}

static void
test_endpoint_loopback (void **state)
{
    (void) state;
    const char *yes [] = { "ipc:///tmp/x.sock", "tcp://127.0.0.1:7101", "tcp://127.1.2.3:1",
                           "tcp://localhost:7101", "tcp://[::1]:7101" };
    const char *no [] = { "tcp://0.0.0.0:7101", "tcp://*:7101", "tcp://10.0.0.1:7101",
                          "tcp://eth0:7101", "tcp://127.0.0.1.evil:1", "tcp://128.0.0.1:1",
                          "tcp://127.0.0.256:1", "tcp://localhost.example:1", "inproc://x" };
    for (size_t i = 0; i < sizeof yes / sizeof yes [0]; i++)
        if (!ts_config_endpoint_loopback (yes [i]))
            fail_msg ("%s should be loopback", yes [i]);
    for (size_t i = 0; i < sizeof no / sizeof no [0]; i++)
        if (ts_config_endpoint_loopback (no [i]))
            fail_msg ("%s should not be loopback", no [i]);
}

static void
test_value_too_long (void **state)
{
    (void) state;
    ts_config cfg;
    char err [256], line [800];
    char dir [TS_PATH_MAX + 10];
    memset (dir, 'x', sizeof dir - 1);
    dir [0] = '/';
    dir [sizeof dir - 1] = 0;
    snprintf (line, sizeof line, "data_dir = %s\n", dir);
    assert_int_equal (s_load (&cfg, line, err, sizeof err), -1);
    assert_non_null (strstr (err, "data_dir"));
}

//  --------------------------------------------------------------------
//  Flag errors

static void
test_missing_value (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--data-dir", NULL), TS_CONFIG_EXIT_USAGE);
    assert_non_null (strstr (f->output, "--data-dir needs a value"));
    assert_int_equal (s_parse (f, false, "--log-level", NULL), TS_CONFIG_EXIT_USAGE);
    assert_int_equal (s_parse (f, false, "--config", NULL), TS_CONFIG_EXIT_USAGE);
}

static void
test_unknown_flag (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--bogus", NULL), TS_CONFIG_EXIT_USAGE);
    assert_non_null (strstr (f->output, "--bogus"));
    assert_int_equal (s_parse (f, false, "--bogus=1", NULL), TS_CONFIG_EXIT_USAGE);
    assert_int_equal (s_parse (f, true, "--data-dirs", "/x", NULL), TS_CONFIG_EXIT_USAGE);
}

static void
test_positional_refused_without_allow (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "person", NULL), TS_CONFIG_EXIT_USAGE);
    assert_non_null (strstr (f->output, "person"));
    assert_int_equal (s_parse (f, false, "-x", NULL), TS_CONFIG_EXIT_USAGE);
}

//  --------------------------------------------------------------------
//  --help, --version, positional arguments

static void
test_help_exits_ok (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--help", NULL), TS_CONFIG_EXIT_OK);
    assert_non_null (strstr (f->output, "Usage: tashan-test"));
    assert_non_null (strstr (f->output, "A test program."));
    assert_non_null (strstr (f->output, "--data-dir"));
    assert_int_equal (s_parse (f, false, "-h", NULL), TS_CONFIG_EXIT_OK);
    assert_non_null (strstr (f->output, "Usage:"));
    //  --help wins over a bad flag after it.
    assert_int_equal (s_parse (f, false, "--help", "--bogus", NULL), TS_CONFIG_EXIT_OK);
    assert_int_equal (s_parse (f, true, "--help", NULL), TS_CONFIG_EXIT_OK);
    assert_non_null (strstr (f->output, "Commands: x"));
}

static void
test_version_exits_ok (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, false, "--version", NULL), TS_CONFIG_EXIT_OK);
    char expect [64];
    snprintf (expect, sizeof expect, "tashan-test %s\n", TASHAN_VERSION);
    assert_string_equal (f->output, expect);
}

static void
test_positional_args_for_tools (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_parse (f, true, "--data-dir", "/x", "person", "get", "p1", NULL),
                      TS_CONFIG_RUN);
    assert_string_equal (f->cfg.data_dir, "/x");
    assert_int_equal (f->cfg.argc, 3);
    assert_string_equal (f->cfg.argv [0], "person");
    assert_string_equal (f->cfg.argv [2], "p1");
    //  Flags after the command belong to the command.
    assert_int_equal (s_parse (f, true, "health", "--data-dir", "/y", NULL), TS_CONFIG_RUN);
    assert_int_equal (f->cfg.argc, 3);
    assert_string_equal (f->cfg.argv [1], "--data-dir");
    assert_string_not_equal (f->cfg.data_dir, "/y");
    //  None at all.
    assert_int_equal (s_parse (f, true, "--data-dir", "/x", NULL), TS_CONFIG_RUN);
    assert_int_equal (f->cfg.argc, 0);
}

//  --------------------------------------------------------------------
//  mkdir -p

static void
test_mkdir_p (void **state)
{
    fx_t *f = *state;
    char path [128];
    snprintf (path, sizeof path, "%s/m/n/o", f->dir);
    assert_int_equal (ts_mkdir_p (path), 0);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_true (S_ISDIR (st.st_mode));
    assert_int_equal (st.st_mode & 0777, 0700);
    assert_int_equal (ts_mkdir_p (path), 0);            //  exists: fine
    s_write_file ("file", "x");
    snprintf (path, sizeof path, "%s/file/sub", f->dir);
    assert_int_equal (ts_mkdir_p (path), -1);           //  a file in the way
}

#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)

int
main (void)
{
    const struct CMUnitTest tests [] = {
        T (test_defaults),
        T (test_rate_limits),
        T (test_map_resident_budget),
        T (test_service_names_and_unknown_endpoint),
        T (test_relative_data_dir_made_absolute),
        T (test_absolute_data_dir_kept),
        T (test_log_level_flag),
        T (test_listen_flag),
        T (test_endpoint_flag_sets_one_service),
        T (test_flag_equals_value_form),
        T (test_last_flag_wins),
        T (test_load_text_applies_settings),
        T (test_load_text_empty_and_comments_only),
        T (test_config_file_flag),
        T (test_flags_beat_file_whatever_the_order),
        T (test_config_file_missing_is_usage_error),
        T (test_config_file_error_names_file_and_line),
        T (test_unknown_key_with_line_number),
        T (test_line_without_equals),
        T (test_bad_log_level),
        T (test_listen_needs_host_and_port),
        T (test_endpoint_bad_scheme),
        T (test_endpoint_unknown_service),
        T (test_ipc_path_too_long),
        T (test_curve_key_must_be_40_chars),
        T (test_clients_file_and_backup_root),
        T (test_endpoint_loopback),
        T (test_value_too_long),
        T (test_missing_value),
        T (test_unknown_flag),
        T (test_positional_refused_without_allow),
        T (test_help_exits_ok),
        T (test_version_exits_ok),
        T (test_positional_args_for_tools),
        T (test_mkdir_p),
    };
    return cmocka_run_group_tests_name ("ts_config", tests, NULL, NULL);
}
