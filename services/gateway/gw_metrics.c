/*  gw_metrics - Prometheus counters. See gw_metrics.h. */
#include "gw_metrics.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct {
    char consumer [32];
    char producer [32];
    uint64_t lag;
} lag_t;

typedef struct {
    char service [32];
    int up;
    uint64_t head;
    uint64_t rpc_errors;
} daemon_t;

struct gw_metrics {
    uint32_t magic;
    series_t series [GW_METRICS_SERIES_MAX];
    size_t series_count;
    uint64_t buckets [BUCKETS];     //  cumulative at print time
    uint64_t latency_count;
    uint64_t latency_sum_us;
    lag_t lags [LAG_MAX];
    size_t lag_count;
    daemon_t daemons [DAEMONS_MAX];
    size_t daemon_count;
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

void
gw_metrics_request (gw_metrics *self, const char *route_in, unsigned status,
                    uint64_t latency_us)
{
    assert (self && self->magic == METRICS_MAGIC);
    //  Compare what would be stored: a long label is cut, never doubled.
    char route [ROUTE_MAX];
    snprintf (route, sizeof route, "%s", route_in);
    series_t *hit = s_series_find (self, route, status);
    //  The last slots are kept for "other", so overflow is still counted.
    if (!hit && self->series_count >= GW_METRICS_SERIES_MAX - GW_METRICS_OTHER_SLOTS) {
        snprintf (route, sizeof route, "other");
        hit = s_series_find (self, route, status);
    }
    if (!hit && self->series_count < GW_METRICS_SERIES_MAX) {
        hit = &self->series [self->series_count++];
        snprintf (hit->route, sizeof hit->route, "%s", route);
        hit->status = status;
    }
    assert (hit);
    hit->count++;
    for (size_t b = 0; b < BUCKETS; b++)
        if (latency_us <= s_bounds_us [b]) {
            self->buckets [b]++;
            break;
        }
    self->latency_count++;
    self->latency_sum_us += latency_us;
}

void
gw_metrics_lag (gw_metrics *self, const char *consumer, const char *producer,
                uint64_t lag_events)
{
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
gw_metrics_daemon (gw_metrics *self, const char *service, int up,
                   uint64_t outbox_head_seq, uint64_t rpc_errors)
{
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
    d->up = up;
    if (up)
        d->head = outbox_head_seq;
    d->rpc_errors = rpc_errors;
}

typedef struct {
    char *data;
    size_t used, size;
} buf_t;

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

char *
gw_metrics_print (gw_metrics *self, const char *extra)
{
    assert (self && self->magic == METRICS_MAGIC);
    buf_t b = { malloc (16384), 0, 16384 };
    assert (b.data);
    b.data [0] = 0;
    s_put (&b, "# HELP tashan_http_requests_total HTTP requests answered, by route and status.\n"
               "# TYPE tashan_http_requests_total counter\n");
    for (size_t i = 0; i < self->series_count; i++)
        s_put (&b, "tashan_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
               self->series [i].route, self->series [i].status,
               (unsigned long long) self->series [i].count);
    s_put (&b, "# HELP tashan_http_request_duration_seconds Time from first byte to response.\n"
               "# TYPE tashan_http_request_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < BUCKETS; i++) {
        cumulative += self->buckets [i];
        s_put (&b, "tashan_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
               (double) s_bounds_us [i] / 1e6, (unsigned long long) cumulative);
    }
    s_put (&b, "tashan_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
               "tashan_http_request_duration_seconds_sum %.6f\n"
               "tashan_http_request_duration_seconds_count %llu\n",
           (unsigned long long) self->latency_count, (double) self->latency_sum_us / 1e6,
           (unsigned long long) self->latency_count);
    s_put (&b, "# HELP tashan_daemon_up Whether the daemon answered the last health poll.\n"
               "# TYPE tashan_daemon_up gauge\n");
    for (size_t i = 0; i < self->daemon_count; i++)
        s_put (&b, "tashan_daemon_up{service=\"%s\"} %d\n", self->daemons [i].service,
               self->daemons [i].up);
    s_put (&b, "# HELP tashan_rpc_errors_total Gateway calls to a daemon that failed (unreachable or late).\n"
               "# TYPE tashan_rpc_errors_total counter\n");
    for (size_t i = 0; i < self->daemon_count; i++)
        s_put (&b, "tashan_rpc_errors_total{service=\"%s\"} %llu\n", self->daemons [i].service,
               (unsigned long long) self->daemons [i].rpc_errors);
    s_put (&b, "# HELP tashan_outbox_head_seq Newest event in the daemon's outbox.\n"
               "# TYPE tashan_outbox_head_seq gauge\n");
    for (size_t i = 0; i < self->daemon_count; i++)
        s_put (&b, "tashan_outbox_head_seq{service=\"%s\"} %llu\n", self->daemons [i].service,
               (unsigned long long) self->daemons [i].head);
    s_put (&b, "# HELP tashan_outbox_lag_events Events a consumer has not applied yet.\n"
               "# TYPE tashan_outbox_lag_events gauge\n");
    for (size_t i = 0; i < self->lag_count; i++)
        s_put (&b, "tashan_outbox_lag_events{consumer=\"%s\",producer=\"%s\"} %llu\n",
               self->lags [i].consumer, self->lags [i].producer,
               (unsigned long long) self->lags [i].lag);
    if (extra)
        s_put (&b, "%s", extra);
    return b.data;
}
