/*  test_gw_metrics - the gateway's counters and their Prometheus text:
    requests by route and status, the latency histogram, lag and daemon
    gauges, the series bound, and the text format itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_metrics.h"

//  The fixture owns the last printed text, so a failing test leaks
//  nothing.
typedef struct {
    gw_metrics *m;
    char *text;                     //  from the last s_print
} fx_t;

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    f->m = gw_metrics_new ();
    *state = f;
    return f->m ? 0 : -1;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    gw_metrics_destroy (&f->m);
    assert_null (f->m);
    gw_metrics_destroy (&f->m);     //  safe twice
    free (f->text);
    free (f);
    return 0;
}

static char *
s_print (fx_t *f, const char *extra)
{
    free (f->text);
    f->text = gw_metrics_print (f->m, extra);
    assert_non_null (f->text);
    return f->text;
}

//  The value of the sample line that starts with "series " (name and
//  labels exactly), or -1 when there is none. Fails on two such lines.
static double
s_sample (const char *text, const char *series)
{
    double value = -1;
    int found = 0;
    size_t len = strlen (series);
    for (const char *line = text; line && *line; ) {
        const char *eol = strchr (line, '\n');
        if (strncmp (line, series, len) == 0 && line [len] == ' ') {
            value = strtod (line + len + 1, NULL);
            found++;
        }
        line = eol ? eol + 1 : NULL;
    }
    assert_true (found <= 1);
    return value;
}

//  --------------------------------------------------------------------

static void
test_requests_by_route_and_status (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    gw_metrics_request (m, "GET /v1/households/{id}", 200, 100);
    gw_metrics_request (m, "GET /v1/households/{id}", 200, 100);
    gw_metrics_request (m, "GET /v1/households/{id}", 404, 100);
    gw_metrics_request (m, "POST /v1/households", 201, 100);
    gw_metrics_request (m, "not_found", 404, 100);
    char *text = s_print (f, NULL);
    assert_non_null (text);
    assert_true (s_sample (text, "tashan_http_requests_total{route=\"GET /v1/households/{id}\",status=\"200\"}") == 2);
    assert_true (s_sample (text, "tashan_http_requests_total{route=\"GET /v1/households/{id}\",status=\"404\"}") == 1);
    assert_true (s_sample (text, "tashan_http_requests_total{route=\"POST /v1/households\",status=\"201\"}") == 1);
    assert_true (s_sample (text, "tashan_http_requests_total{route=\"not_found\",status=\"404\"}") == 1);
    assert_true (s_sample (text, "tashan_http_requests_total{route=\"POST /v1/households\",status=\"200\"}") == -1);
}

static void
test_empty_metrics_print (void **state)
{
    fx_t *f = *state;
    char *text = s_print (f, NULL);
    assert_non_null (strstr (text, "# TYPE tashan_http_requests_total counter\n"));
    assert_null (strstr (text, "tashan_http_requests_total{"));
    assert_null (strstr (text, "tashan_http_request_duration_seconds_count"));
    assert_non_null (strstr (text, "# TYPE tashan_http_request_duration_seconds histogram\n"));
}

static void
test_histogram_cumulative_and_inf_is_count (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    static const uint64_t latencies_us [] = { 100, 500, 501, 1500, 7000, 10000000, 30000 };
    for (size_t i = 0; i < 7; i++)
        gw_metrics_request (m, "GET /x", 200, latencies_us [i]);
    char *text = s_print (f, NULL);
#define B(le) "tashan_http_request_duration_seconds_bucket{route=\"GET /x\",le=\"" le "\"}"
    //  le is "less or equal": 500 us falls in the 0.5 ms bucket.
    assert_true (s_sample (text, B ("0.0005")) == 2);
    assert_true (s_sample (text, B ("0.001")) == 3);
    assert_true (s_sample (text, B ("0.002")) == 4);
    assert_true (s_sample (text, B ("0.005")) == 4);
    assert_true (s_sample (text, B ("0.01")) == 5);
    assert_true (s_sample (text, B ("0.05")) == 6);
    assert_true (s_sample (text, B ("5")) == 6);
    assert_true (s_sample (text, B ("+Inf")) == 7);
#undef B
    assert_true (s_sample (text, "tashan_http_request_duration_seconds_count{route=\"GET /x\"}") == 7);
    double sum = s_sample (text, "tashan_http_request_duration_seconds_sum{route=\"GET /x\"}");
    assert_true (sum > 10.0396 && sum < 10.0398);       //  10,039,601 us
    //  Buckets never decrease, in the order printed.
    double last = -1;
    int buckets = 0;
    for (const char *p = strstr (text, "_duration_seconds_bucket{"); p;
         p = strstr (p + 1, "_duration_seconds_bucket{")) {
        //  The value follows the line's last space (routes hold spaces).
        const char *value = strchr (p, '\n');
        while (value > p && value [-1] != ' ')
            value--;
        double v = strtod (value, NULL);
        assert_true (v >= last);
        last = v;
        buckets++;
    }
    assert_true (buckets >= 10);
    assert_true (last == 7);                            //  +Inf comes last
}

//  Each route has its own histogram; their counts add up to the requests.
static void
test_histogram_by_route (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    gw_metrics_request (m, "GET /v1/households/{id}", 200, 300);
    gw_metrics_request (m, "GET /v1/households/{id}", 404, 3000);
    gw_metrics_request (m, "POST /v1/households", 201, 30000);
    char *text = s_print (f, NULL);
    assert_true (s_sample (text, "tashan_http_request_duration_seconds_count{route=\"GET /v1/households/{id}\"}") == 2);
    assert_true (s_sample (text, "tashan_http_request_duration_seconds_bucket{route=\"GET /v1/households/{id}\",le=\"0.001\"}") == 1);
    assert_true (s_sample (text, "tashan_http_request_duration_seconds_count{route=\"POST /v1/households\"}") == 1);
    assert_true (s_sample (text, "tashan_http_request_duration_seconds_bucket{route=\"POST /v1/households\",le=\"0.02\"}") == 0);
    assert_true (s_sample (text, "tashan_http_request_duration_seconds_bucket{route=\"POST /v1/households\",le=\"0.05\"}") == 1);
}

//  More routes than histograms: the rest count under route="other".
static void
test_histogram_routes_bounded (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    char route [32];
    for (int i = 0; i < GW_METRICS_ROUTES_MAX + 20; i++) {
        snprintf (route, sizeof route, "GET /h%d", i);
        gw_metrics_request (m, route, 200, 10);
    }
    char *text = s_print (f, NULL);
    size_t histograms = 0;
    for (const char *p = strstr (text, "tashan_http_request_duration_seconds_count{"); p;
         p = strstr (p + 1, "tashan_http_request_duration_seconds_count{"))
        histograms++;
    assert_int_equal (histograms, GW_METRICS_ROUTES_MAX);
    assert_true (s_sample (text, "tashan_http_request_duration_seconds_count{route=\"other\"}") == 21);
    assert_true (s_sample (text, "tashan_http_request_duration_seconds_count{route=\"GET /h0\"}") == 1);
}

static void
test_lag_gauge_updates_in_place (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    gw_metrics_lag (m, "ledger", "residents", 5);
    gw_metrics_lag (m, "merchants", "residents", 1);
    gw_metrics_lag (m, "ledger", "residents", 2);
    char *text = s_print (f, NULL);
    assert_true (s_sample (text, "tashan_outbox_lag_events{consumer=\"ledger\",producer=\"residents\"}") == 2);
    assert_true (s_sample (text, "tashan_outbox_lag_events{consumer=\"merchants\",producer=\"residents\"}") == 1);
    assert_non_null (strstr (text, "# TYPE tashan_outbox_lag_events gauge\n"));
}

static void
test_daemon_gauges (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    gw_daemon_stats st = { .up = true, .outbox_head_seq = 42, .rpc_errors = 3,
                           .requests_total = 100, .batches_total = 10, .batch_jobs_total = 90,
                           .batch_sizes = { 5, 0, 0, 3, 0, 0, 2 },
                           .map_size_bytes = 1 << 26, .map_used_bytes = 40960,
                           .log_lines_dropped = 4 };
    gw_metrics_daemon (m, "ledger", &st);
    gw_daemon_stats res = { .up = true, .outbox_head_seq = 7 };
    gw_metrics_daemon (m, "residents", &res);
    char *text = s_print (f, NULL);
    assert_true (s_sample (text, "tashan_daemon_up{service=\"ledger\"}") == 1);
    assert_true (s_sample (text, "tashan_outbox_head_seq{service=\"ledger\"}") == 42);
    assert_true (s_sample (text, "tashan_rpc_errors_total{service=\"ledger\"}") == 3);
    assert_true (s_sample (text, "tashan_daemon_requests_total{service=\"ledger\"}") == 100);
    assert_true (s_sample (text, "tashan_daemon_batches_total{service=\"ledger\"}") == 10);
    assert_true (s_sample (text, "tashan_store_map_size_bytes{service=\"ledger\"}") == 1 << 26);
    assert_true (s_sample (text, "tashan_store_used_bytes{service=\"ledger\"}") == 40960);
    assert_true (s_sample (text, "tashan_log_lines_dropped_total{service=\"ledger\"}") == 4);
    assert_true (s_sample (text, "tashan_store_degraded{service=\"ledger\"}") == 0);
    //  Batch sizes: cumulative, the sum is the requests batched.
    assert_true (s_sample (text, "tashan_daemon_batch_size_bucket{service=\"ledger\",le=\"1\"}") == 5);
    assert_true (s_sample (text, "tashan_daemon_batch_size_bucket{service=\"ledger\",le=\"8\"}") == 8);
    assert_true (s_sample (text, "tashan_daemon_batch_size_bucket{service=\"ledger\",le=\"64\"}") == 10);
    assert_true (s_sample (text, "tashan_daemon_batch_size_bucket{service=\"ledger\",le=\"+Inf\"}") == 10);
    assert_true (s_sample (text, "tashan_daemon_batch_size_sum{service=\"ledger\"}") == 90);
    assert_true (s_sample (text, "tashan_daemon_batch_size_count{service=\"ledger\"}") == 10);
    assert_true (s_sample (text, "tashan_outbox_head_seq{service=\"residents\"}") == 7);
    //  Down: up 0, the last known counters kept, errors updated.
    gw_daemon_stats down = { .up = false, .rpc_errors = 9 };
    gw_metrics_daemon (m, "ledger", &down);
    text = s_print (f, NULL);
    assert_true (s_sample (text, "tashan_daemon_up{service=\"ledger\"}") == 0);
    assert_true (s_sample (text, "tashan_outbox_head_seq{service=\"ledger\"}") == 42);
    assert_true (s_sample (text, "tashan_store_used_bytes{service=\"ledger\"}") == 40960);
    assert_true (s_sample (text, "tashan_rpc_errors_total{service=\"ledger\"}") == 9);
    assert_true (s_sample (text, "tashan_daemon_up{service=\"residents\"}") == 1);
}

//  A full disk shows as tashan_store_degraded 1 until a poll says otherwise.
static void
test_store_degraded_gauge (void **state)
{
    fx_t *f = *state;
    gw_daemon_stats st = { .up = true, .store_degraded = true };
    gw_metrics_daemon (f->m, "merchants", &st);
    char *text = s_print (f, NULL);
    assert_true (s_sample (text, "tashan_store_degraded{service=\"merchants\"}") == 1);
    st.store_degraded = false;
    gw_metrics_daemon (f->m, "merchants", &st);
    text = s_print (f, NULL);
    assert_true (s_sample (text, "tashan_store_degraded{service=\"merchants\"}") == 0);
}

//  HTTP counters, process metrics from /proc and the build.
static void
test_http_process_and_build (void **state)
{
    fx_t *f = *state;
    gw_http_counts counts = { .connections_open = 2, .connections_accepted = 30,
                              .parse_errors = 1, .request_timeouts = 4 };
    gw_metrics_http (f->m, &counts);
    char *text = s_print (f, NULL);
    assert_true (s_sample (text, "tashan_http_connections_open") == 2);
    assert_true (s_sample (text, "tashan_http_connections_accepted_total") == 30);
    assert_true (s_sample (text, "tashan_http_parse_errors_total") == 1);
    assert_true (s_sample (text, "tashan_http_timeouts_total") == 4);
    assert_non_null (strstr (text, "# HELP tashan_http_timeouts_total "));
    //  This test process: some memory, a few descriptors, started lately.
    assert_true (s_sample (text, "process_resident_memory_bytes") > 1000000);
    assert_true (s_sample (text, "process_open_fds") >= 3);
    assert_true (s_sample (text, "process_cpu_seconds_total") >= 0);
    double start = s_sample (text, "process_start_time_seconds");
    assert_true (start > 1.7e9 && start < 4.2e9);
    char build [160];
    snprintf (build, sizeof build, "tashan_build_info{version=\"%s\",commit=\"", TASHAN_VERSION);
    assert_non_null (strstr (text, build));
}

static void
test_series_bound_counts_under_other (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    char route [32];
    for (int i = 0; i < GW_METRICS_SERIES_MAX - GW_METRICS_OTHER_SLOTS; i++) {
        snprintf (route, sizeof route, "GET /r%d", i);
        gw_metrics_request (m, route, 200, 10);
    }
    //  Three more new series: beyond the bound, counted under "other".
    gw_metrics_request (m, "GET /new1", 200, 10);
    gw_metrics_request (m, "GET /new2", 200, 10);
    gw_metrics_request (m, "GET /r0", 500, 10);
    //  An existing series still counts in its own line.
    gw_metrics_request (m, "GET /r5", 200, 10);
    char *text = s_print (f, NULL);
    assert_true (s_sample (text, "tashan_http_requests_total{route=\"GET /new1\",status=\"200\"}") == -1);
    assert_true (s_sample (text, "tashan_http_requests_total{route=\"GET /r5\",status=\"200\"}") == 2);
    //  Every request is counted somewhere: the series add up to the total.
    double total = 0;
    for (const char *p = strstr (text, "tashan_http_requests_total{"); p;
         p = strstr (p + 1, "tashan_http_requests_total{"))
        total += strtod (strstr (p, "} ") + 2, NULL);
    double count = 0;
    for (const char *p = strstr (text, "_duration_seconds_count{"); p;
         p = strstr (p + 1, "_duration_seconds_count{"))
        count += strtod (strstr (p, "} ") + 2, NULL);
    assert_true (count == GW_METRICS_SERIES_MAX - GW_METRICS_OTHER_SLOTS + 4);
    double other = s_sample (text, "tashan_http_requests_total{route=\"other\",status=\"200\"}")
                 + s_sample (text, "tashan_http_requests_total{route=\"other\",status=\"500\"}");
    if (total != count || other != 3)
        fail_msg ("series add up to %.0f of %.0f requests; route=\"other\" counts %.0f of 3",
                  total, count, other < 0 ? 0 : other);
}

static void
test_long_route_is_truncated_not_overflowed (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    char route [300];
    memset (route, 'r', sizeof route - 1);
    route [sizeof route - 1] = 0;
    gw_metrics_request (m, route, 200, 10);
    gw_metrics_request (m, route, 200, 10);
    char *text = s_print (f, NULL);
    const char *line = strstr (text, "tashan_http_requests_total{route=\"rrr");
    assert_non_null (line);
    assert_true (strtod (strstr (line, "} ") + 2, NULL) == 2);
}

static void
test_extra_appended_verbatim (void **state)
{
    fx_t *f = *state;
    char *text = s_print (f, "# TYPE http_open gauge\nhttp_open 3\n");
    size_t len = strlen (text);
    const char *tail = "# TYPE http_open gauge\nhttp_open 3\n";
    assert_true (len > strlen (tail));
    assert_string_equal (text + len - strlen (tail), tail);
}

//  Every line is a comment ("# HELP name text" / "# TYPE name kind") or
//  a sample "name{label="value",...} number"; each sample's family has a
//  TYPE line before it; no series appears twice; the text ends in '\n'.
static void
test_output_is_prometheus_text (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    for (int i = 0; i < 300; i++) {
        char route [64];
        snprintf (route, sizeof route, "%s /v1/things/{id}/x%d", i % 2 ? "GET" : "POST", i % 40);
        gw_metrics_request (m, route, 200 + (unsigned) (i % 3) * 100, (uint64_t) i * 997);
    }
    gw_metrics_lag (m, "ledger", "residents", 4);
    gw_daemon_stats up = { .up = true, .outbox_head_seq = 10, .batch_sizes = { 1, 2 } };
    gw_daemon_stats down = { .up = false, .rpc_errors = 2 };
    gw_metrics_daemon (m, "ledger", &up);
    gw_metrics_daemon (m, "merchants", &down);
    char *text = s_print (f, "gw_http_connections 5\n");
    assert_true (strlen (text) > 0);
    assert_int_equal (text [strlen (text) - 1], '\n');

    regex_t sample, help, type;
    assert_int_equal (regcomp (&sample,
        "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
        "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\.)*\""
        "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\.)*\")*\\})? "
        "(-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|\\+Inf|-Inf|NaN)$", REG_EXTENDED), 0);
    assert_int_equal (regcomp (&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$", REG_EXTENDED), 0);
    assert_int_equal (regcomp (&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
                                      "(counter|gauge|histogram|summary|untyped)$",
                               REG_EXTENDED), 0);
    char typed [64][96];
    char helped [64][96];
    size_t helped_count = 0;
    size_t typed_count = 0;
    char *copy = strdup (text);
    char *save = NULL;
    size_t samples = 0;
    char seen [2000][160];
    size_t seen_count = 0;
    for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        regmatch_t g [3];
        if (line [0] == '#') {
            if (regexec (&type, line, 3, g, 0) == 0) {
                assert_true (typed_count < 64);
                snprintf (typed [typed_count++], sizeof typed [0], "%.*s",
                          (int) (g [1].rm_eo - g [1].rm_so), line + g [1].rm_so);
            }
            else
            if (regexec (&help, line, 0, NULL, 0) != 0)
                fail_msg ("bad comment line: %s", line);
            else {
                assert_true (helped_count < 64);
                snprintf (helped [helped_count++], sizeof helped [0], "%.*s",
                          (int) strcspn (line + 7, " "), line + 7);
            }
            continue;
        }
        if (regexec (&sample, line, 2, g, 0) != 0)
            fail_msg ("bad sample line: %s", line);
        samples++;
        //  The family (histogram suffixes stripped) was typed before,
        //  except for the caller's extra text.
        char name [96];
        snprintf (name, sizeof name, "%.*s", (int) (g [1].rm_eo - g [1].rm_so), line + g [1].rm_so);
        if (strncmp (name, "tashan_", 7) == 0) {
            static const char *const suffixes [] = { "_bucket", "_sum", "_count" };
            bool ok = false;
            for (size_t t = 0; t < typed_count && !ok; t++) {
                ok = strcmp (typed [t], name) == 0;
                for (int s = 0; s < 3 && !ok; s++) {
                    size_t tl = strlen (typed [t]);
                    ok = strncmp (name, typed [t], tl) == 0 && strcmp (name + tl, suffixes [s]) == 0;
                }
            }
            if (!ok)
                fail_msg ("sample %s has no TYPE line before it", name);
        }
        //  No duplicate series.
        size_t series_len = (size_t) (strrchr (line, ' ') - line);
        assert_true (seen_count < 2000);
        snprintf (seen [seen_count], sizeof seen [0], "%.*s", (int) series_len, line);
        for (size_t s = 0; s < seen_count; s++)
            if (strcmp (seen [s], seen [seen_count]) == 0)
                fail_msg ("series printed twice: %s", seen [s]);
        seen_count++;
    }
    assert_true (samples > 40);
    //  Every TYPE has its HELP (promtool insists).
    for (size_t t = 0; t < typed_count; t++) {
        bool ok = false;
        for (size_t h = 0; h < helped_count && !ok; h++)
            ok = strcmp (typed [t], helped [h]) == 0;
        if (!ok)
            fail_msg ("%s has TYPE but no HELP", typed [t]);
    }
    free (copy);
    regfree (&sample);
    regfree (&help);
    regfree (&type);
}

static void
test_print_grows_past_initial_buffer (void **state)
{
    fx_t *f = *state;
    gw_metrics *m = f->m;
    //  1,000 series of ~100-byte lines: well past the first 16 KiB buffer.
    for (int i = 0; i < 1000; i++) {
        char route [96];
        snprintf (route, sizeof route, "GET /v1/a-rather-long-route-name/padding-%04d", i);
        gw_metrics_request (m, route, 200, 1);
    }
    char *text = s_print (f, NULL);
    assert_true (strlen (text) > 64 * 1024);
    assert_true (s_sample (text, "tashan_http_requests_total{route=\"GET /v1/a-rather-long-route-name/padding-0000\",status=\"200\"}") == 1);
    assert_true (s_sample (text, "tashan_http_requests_total{route=\"GET /v1/a-rather-long-route-name/padding-0999\",status=\"200\"}") == 1);
    assert_non_null (strstr (text, "# TYPE tashan_outbox_lag_events gauge\n"));
}

#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)

int
main (void)
{
    const struct CMUnitTest tests [] = {
        T (test_requests_by_route_and_status),
        T (test_empty_metrics_print),
        T (test_histogram_cumulative_and_inf_is_count),
        T (test_histogram_by_route),
        T (test_histogram_routes_bounded),
        T (test_lag_gauge_updates_in_place),
        T (test_daemon_gauges),
        T (test_store_degraded_gauge),
        T (test_http_process_and_build),
        T (test_series_bound_counts_under_other),
        T (test_long_route_is_truncated_not_overflowed),
        T (test_extra_appended_verbatim),
        T (test_output_is_prometheus_text),
        T (test_print_grows_past_initial_buffer),
    };
    return cmocka_run_group_tests_name ("gw_metrics", tests, NULL, NULL);
}
