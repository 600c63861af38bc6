/*  gw_metrics - Prometheus counters. See gw_metrics.h. */
#include "gw_metrics.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_process.h"
#include "gw_text.h"

#ifndef TASHAN_COMMIT
#define TASHAN_COMMIT "unknown"
#endif

#define METRICS_MAGIC 0x4d455452u
#define ROUTE_MAX 96
#define LAG_MAX 32
#define DAEMONS_MAX 8

static const uint64_t s_bounds_us [] = {
    500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000, 2000000, 5000000
};
#define BUCKETS (sizeof s_bounds_us / sizeof s_bounds_us [0])

typedef struct {
    char route [ROUTE_MAX];
    unsigned status;
    uint64_t count;
} series_t;

//  One route's latency histogram (buckets not cumulative until printed).
typedef struct {
    char route [ROUTE_MAX];
    uint64_t buckets [BUCKETS + 1]; //  the last is beyond every bound
    uint64_t count;
    uint64_t sum_us;
} histogram_t;

typedef struct {
    char consumer [32];
    char producer [32];
    uint64_t lag;
} lag_t;

typedef struct {
    char service [32];
    gw_daemon_stats stats;
} daemon_t;

struct gw_metrics {
    uint32_t magic;
    series_t series [GW_METRICS_SERIES_MAX];
    size_t series_count;
    histogram_t histograms [GW_METRICS_ROUTES_MAX];
    size_t histogram_count;
    lag_t lags [LAG_MAX];
    size_t lag_count;
    daemon_t daemons [DAEMONS_MAX];
    size_t daemon_count;
    gw_http_counts http;
};

gw_metrics *
gw_metrics_new (void)
{
    gw_metrics *self = calloc (1, sizeof (gw_metrics));
    assert (self);
    self->magic = METRICS_MAGIC;
    return self;
}

void
gw_metrics_destroy (gw_metrics **self_p)
{
    assert (self_p);
    if (!*self_p)
        return;
    assert ((*self_p)->magic == METRICS_MAGIC);
    (*self_p)->magic = 0;
    free (*self_p);
    *self_p = NULL;
}

static series_t *
s_series_find (gw_metrics *self, const char *route, unsigned status)
{
    for (size_t i = 0; i < self->series_count; i++)
        if (self->series [i].status == status && strcmp (self->series [i].route, route) == 0)
            return &self->series [i];
    return NULL;
}

//  The route's histogram; past the bound, the last slot is "other".
static histogram_t *
s_histogram (gw_metrics *self, const char *route)
{
    for (size_t i = 0; i < self->histogram_count; i++)
        if (strcmp (self->histograms [i].route, route) == 0)
            return &self->histograms [i];
    if (self->histogram_count == GW_METRICS_ROUTES_MAX - 1) {
        histogram_t *other = &self->histograms [self->histogram_count++];
        snprintf (other->route, sizeof other->route, "other");
        return other;
    }
    if (self->histogram_count == GW_METRICS_ROUTES_MAX)
        return &self->histograms [GW_METRICS_ROUTES_MAX - 1];
    histogram_t *h = &self->histograms [self->histogram_count++];
    snprintf (h->route, sizeof h->route, "%s", route);
    return h;
}

void
gw_metrics_request (gw_metrics *self, const char *route_in, unsigned status,
                    uint64_t latency_us)
{
    assert (self && self->magic == METRICS_MAGIC);
    //  Compare what would be stored: a long label is cut, never doubled.
    char route [ROUTE_MAX];
    gw_text_copy (route, sizeof route, route_in);
    series_t *hit = s_series_find (self, route, status);
    //  The last slots are kept for "other", so overflow is still counted.
    if (!hit && self->series_count >= GW_METRICS_SERIES_MAX - GW_METRICS_OTHER_SLOTS) {
        snprintf (route, sizeof route, "other");
        hit = s_series_find (self, route, status);
    }
    if (!hit && self->series_count < GW_METRICS_SERIES_MAX) {
        hit = &self->series [self->series_count++];
        gw_text_copy (hit->route, sizeof hit->route, route);
        hit->status = status;
    }
    assert (hit);
    hit->count++;
    histogram_t *h = s_histogram (self, route);
    size_t b = 0;
    while (b < BUCKETS && latency_us > s_bounds_us [b])
        b++;
    h->buckets [b]++;
    h->count++;
    h->sum_us += latency_us;
}

void
gw_metrics_lag (gw_metrics *self, const char *consumer, const char *producer,
                uint64_t lag_events)
{
    assert (self && self->magic == METRICS_MAGIC);
    for (size_t i = 0; i < self->lag_count; i++)
        if (strcmp (self->lags [i].consumer, consumer) == 0
        &&  strcmp (self->lags [i].producer, producer) == 0) {
            self->lags [i].lag = lag_events;
            return;
        }
    if (self->lag_count == LAG_MAX)
        return;
    lag_t *l = &self->lags [self->lag_count++];
    snprintf (l->consumer, sizeof l->consumer, "%s", consumer);
    snprintf (l->producer, sizeof l->producer, "%s", producer);
    l->lag = lag_events;
}

void
gw_metrics_daemon (gw_metrics *self, const char *service, const gw_daemon_stats *stats)
{
    assert (self && self->magic == METRICS_MAGIC);
    assert (stats);
    daemon_t *d = NULL;
    for (size_t i = 0; i < self->daemon_count && !d; i++)
        if (strcmp (self->daemons [i].service, service) == 0)
            d = &self->daemons [i];
    if (!d) {
        if (self->daemon_count == DAEMONS_MAX)
            return;
        d = &self->daemons [self->daemon_count++];
        snprintf (d->service, sizeof d->service, "%s", service);
    }
    if (stats->up)
        d->stats = *stats;
    d->stats.up = stats->up;
    d->stats.rpc_errors = stats->rpc_errors;
}

void
gw_metrics_http (gw_metrics *self, const gw_http_counts *counts)
{
    assert (self && self->magic == METRICS_MAGIC);
    assert (counts);
    self->http = *counts;
}

//  --------------------------------------------------------------------
//  Printing

typedef struct {
    char *data;
    size_t used, size;
} buf_t;

static void
s_put (buf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_put (buf_t *b, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        va_list args;
        va_start (args, fmt);
        int n = vsnprintf (b->data + b->used, b->size - b->used, fmt, args);
        va_end (args);
        assert (n >= 0);
        if ((size_t) n < b->size - b->used) {
            b->used += (size_t) n;
            return;
        }
        b->size = (b->size + (size_t) n) * 2;
        b->data = realloc (b->data, b->size);
        assert (b->data);
    }
}

static void
s_family (buf_t *b, const char *name, const char *type, const char *help)
{
    s_put (b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
s_print_requests (gw_metrics *self, buf_t *b)
{
    s_family (b, "tashan_http_requests_total", "counter",
              "HTTP requests answered, by route and status.");
    for (size_t i = 0; i < self->series_count; i++)
        s_put (b, "tashan_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
               self->series [i].route, self->series [i].status,
               (unsigned long long) self->series [i].count);
    s_family (b, "tashan_http_request_duration_seconds", "histogram",
              "Time from first byte to response, by route.");
    for (size_t i = 0; i < self->histogram_count; i++) {
        const histogram_t *h = &self->histograms [i];
        uint64_t cumulative = 0;
        for (size_t k = 0; k < BUCKETS; k++) {
            cumulative += h->buckets [k];
            s_put (b, "tashan_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                   h->route, (double) s_bounds_us [k] / 1e6, (unsigned long long) cumulative);
        }
        s_put (b, "tashan_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                  "tashan_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                  "tashan_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
               h->route, (unsigned long long) h->count, h->route, (double) h->sum_us / 1e6,
               h->route, (unsigned long long) h->count);
    }
}

static void
s_print_http (gw_metrics *self, buf_t *b)
{
    s_family (b, "tashan_http_connections_open", "gauge", "HTTP connections open now.");
    s_put (b, "tashan_http_connections_open %llu\n",
           (unsigned long long) self->http.connections_open);
    s_family (b, "tashan_http_connections_accepted_total", "counter",
              "HTTP connections accepted.");
    s_put (b, "tashan_http_connections_accepted_total %llu\n",
           (unsigned long long) self->http.connections_accepted);
    s_family (b, "tashan_http_parse_errors_total", "counter",
              "HTTP requests that did not parse (answered 400 and closed).");
    s_put (b, "tashan_http_parse_errors_total %llu\n",
           (unsigned long long) self->http.parse_errors);
    s_family (b, "tashan_http_timeouts_total", "counter",
              "HTTP connections closed because a request took too long to arrive.");
    s_put (b, "tashan_http_timeouts_total %llu\n",
           (unsigned long long) self->http.request_timeouts);
    s_family (b, "tashan_http_connections_rejected_total", "counter",
              "HTTP connections closed at once: over the per-address cap, or the table "
              "full of busy connections.");
    s_put (b, "tashan_http_connections_rejected_total %llu\n",
           (unsigned long long) self->http.connections_rejected);
    s_family (b, "tashan_http_connections_evicted_total", "counter",
              "Idle keep-alive connections closed to admit a new one (table full).");
    s_put (b, "tashan_http_connections_evicted_total %llu\n",
           (unsigned long long) self->http.connections_evicted);
}

//  One gauge or counter per daemon: the value is a field of its stats.
typedef struct {
    const char *name, *type, *help;
    size_t offset;                  //  of a uint64_t in gw_daemon_stats
} daemon_family_t;

static const daemon_family_t s_daemon_families [] = {
    { "tashan_daemon_requests_total", "counter", "Requests the daemon received.",
      offsetof (gw_daemon_stats, requests_total) },
    { "tashan_daemon_batches_total", "counter", "Group commits the daemon made.",
      offsetof (gw_daemon_stats, batches_total) },
    { "tashan_rpc_errors_total", "counter",
      "Gateway calls to a daemon that failed (unreachable or late).",
      offsetof (gw_daemon_stats, rpc_errors) },
    { "tashan_outbox_head_seq", "gauge", "Newest event in the daemon's outbox.",
      offsetof (gw_daemon_stats, outbox_head_seq) },
    { "tashan_store_map_size_bytes", "gauge", "Size of the daemon's LMDB map (it grows as it fills).",
      offsetof (gw_daemon_stats, map_size_bytes) },
    { "tashan_store_used_bytes", "gauge", "Bytes of the daemon's LMDB map in use.",
      offsetof (gw_daemon_stats, map_used_bytes) },
    { "tashan_log_lines_dropped_total", "counter",
      "Log lines the daemon dropped whole because its log would not take them.",
      offsetof (gw_daemon_stats, log_lines_dropped) },
};

static void
s_print_daemons (gw_metrics *self, buf_t *b)
{
    s_family (b, "tashan_daemon_up", "gauge", "Whether the daemon answered the last health poll.");
    for (size_t i = 0; i < self->daemon_count; i++)
        s_put (b, "tashan_daemon_up{service=\"%s\"} %d\n", self->daemons [i].service,
               self->daemons [i].stats.up);
    s_family (b, "tashan_store_degraded", "gauge",
              "1 when the daemon's last write found the disk full (writes answer 507).");
    for (size_t i = 0; i < self->daemon_count; i++)
        s_put (b, "tashan_store_degraded{service=\"%s\"} %d\n", self->daemons [i].service,
               self->daemons [i].stats.store_degraded);
    size_t families = sizeof s_daemon_families / sizeof s_daemon_families [0];
    for (size_t f = 0; f < families; f++) {
        const daemon_family_t *fam = &s_daemon_families [f];
        s_family (b, fam->name, fam->type, fam->help);
        for (size_t i = 0; i < self->daemon_count; i++) {
            const uint64_t *value = (const uint64_t *)
                ((const char *) &self->daemons [i].stats + fam->offset);
            s_put (b, "%s{service=\"%s\"} %llu\n", fam->name, self->daemons [i].service,
                   (unsigned long long) *value);
        }
    }
}

static void
s_print_batch_sizes (gw_metrics *self, buf_t *b)
{
    s_family (b, "tashan_daemon_batch_size", "histogram",
              "Requests per batch the daemon ran (reads included; a batch with writes "
              "is one group commit).");
    for (size_t i = 0; i < self->daemon_count; i++) {
        const gw_daemon_stats *st = &self->daemons [i].stats;
        const char *service = self->daemons [i].service;
        uint64_t cumulative = 0;
        for (size_t k = 0; k < GW_METRICS_BATCH_BUCKETS; k++) {
            cumulative += st->batch_sizes [k];
            s_put (b, "tashan_daemon_batch_size_bucket{service=\"%s\",le=\"%llu\"} %llu\n",
                   service, 1ull << k, (unsigned long long) cumulative);
        }
        s_put (b, "tashan_daemon_batch_size_bucket{service=\"%s\",le=\"+Inf\"} %llu\n"
                  "tashan_daemon_batch_size_sum{service=\"%s\"} %llu\n"
                  "tashan_daemon_batch_size_count{service=\"%s\"} %llu\n",
               service, (unsigned long long) cumulative,
               service, (unsigned long long) st->batch_jobs_total,
               service, (unsigned long long) cumulative);
    }
}

static void
s_print_lags (gw_metrics *self, buf_t *b)
{
    s_family (b, "tashan_outbox_lag_events", "gauge", "Events a consumer has not applied yet.");
    for (size_t i = 0; i < self->lag_count; i++)
        s_put (b, "tashan_outbox_lag_events{consumer=\"%s\",producer=\"%s\"} %llu\n",
               self->lags [i].consumer, self->lags [i].producer,
               (unsigned long long) self->lags [i].lag);
}

//  The standard process_* names, so stock dashboards work unchanged.
static void
s_print_process (buf_t *b)
{
    gw_process_stats st;
    if (gw_process_read (&st)) {
        s_family (b, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
        s_put (b, "process_cpu_seconds_total %.2f\n", st.cpu_seconds);
        s_family (b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        s_put (b, "process_resident_memory_bytes %llu\n", (unsigned long long) st.resident_bytes);
        s_family (b, "process_open_fds", "gauge", "Number of open file descriptors.");
        s_put (b, "process_open_fds %llu\n", (unsigned long long) st.open_fds);
        s_family (b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        s_put (b, "process_max_fds %llu\n", (unsigned long long) st.max_fds);
        s_family (b, "process_start_time_seconds", "gauge",
                  "Start time of the process since unix epoch in seconds.");
        s_put (b, "process_start_time_seconds %.2f\n", st.start_time_seconds);
    }
    s_family (b, "tashan_build_info", "gauge", "The gateway's build: always 1.");
    s_put (b, "tashan_build_info{version=\"%s\",commit=\"%s\"} 1\n", TASHAN_VERSION, TASHAN_COMMIT);
}

char *
gw_metrics_print (gw_metrics *self, const char *extra)
{
    assert (self && self->magic == METRICS_MAGIC);
    buf_t b = { malloc (16384), 0, 16384 };
    assert (b.data);
    b.data [0] = 0;
    s_print_requests (self, &b);
    s_print_http (self, &b);
    s_print_daemons (self, &b);
    s_print_batch_sizes (self, &b);
    s_print_lags (self, &b);
    s_print_process (&b);
    if (extra)
        s_put (&b, "%s", extra);
    return b.data;
}
