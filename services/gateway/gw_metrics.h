/*  =========================================================================
    gw_metrics - the gateway's counters, printed in Prometheus text format

    Requests by route pattern and status, a latency histogram by route,
    the HTTP layer's counters, every daemon's own counters (from the last
    health poll: requests, batches and their sizes, LMDB map use, outbox
    head, consumer lag, a full disk), the gateway's process metrics (from
    /proc) and its build. Every family has HELP and TYPE lines.

    Bounded: at most GW_METRICS_SERIES_MAX (route, status) series: once
    GW_METRICS_SERIES_MAX - GW_METRICS_OTHER_SLOTS exist, new ones count
    under route="other"; likewise at most GW_METRICS_ROUTES_MAX latency
    histograms, the last one being route="other".
    =========================================================================
*/
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_METRICS_SERIES_MAX 1024
//  Slots kept for route="other" (one per status seen beyond the bound).
#define GW_METRICS_OTHER_SLOTS 8
//  Latency histograms (one per route); the last is route="other".
#define GW_METRICS_ROUTES_MAX 256
//  Batch size buckets a daemon reports (HealthReply.batch_sizes): [i]
//  counts batches of at most 2^i requests (and more than 2^(i-1)).
#define GW_METRICS_BATCH_BUCKETS 10

typedef struct gw_metrics gw_metrics;

//  What the last health poll said about one daemon (HealthReply).
typedef struct {
    bool up;                        //  answered the poll
    uint64_t rpc_errors;            //  the gateway's failed calls to it
    //  The rest is kept from the last poll that answered.
    uint64_t outbox_head_seq;
    uint64_t requests_total;
    uint64_t batches_total;
    uint64_t batch_jobs_total;
    uint64_t batch_sizes [GW_METRICS_BATCH_BUCKETS];
    uint64_t map_size_bytes;
    uint64_t map_used_bytes;
    bool store_degraded;            //  its last write found the disk full
    uint64_t log_lines_dropped;
} gw_daemon_stats;

//  The HTTP layer's counters.
typedef struct {
    uint64_t connections_open;
    uint64_t connections_accepted;
    uint64_t parse_errors;
    uint64_t request_timeouts;
    uint64_t connections_rejected;
    uint64_t connections_evicted;
} gw_http_counts;

gw_metrics *gw_metrics_new (void);
void gw_metrics_destroy (gw_metrics **self_p);

//  One answered request: route is the pattern ("POST /v1/households") or
//  a fixed name ("not_found"); latency from first byte to response.
void gw_metrics_request (gw_metrics *self, const char *route, unsigned status,
                         uint64_t latency_us);

//  Outbox lag of consumer behind producer, from a health poll.
void gw_metrics_lag (gw_metrics *self, const char *consumer, const char *producer,
                     uint64_t lag_events);
//  One daemon's health poll. When it is down (stats->up false) only up
//  and rpc_errors change: the last known counters stay.
void gw_metrics_daemon (gw_metrics *self, const char *service,
                        const gw_daemon_stats *stats);
void gw_metrics_http (gw_metrics *self, const gw_http_counts *counts);

//  Print everything; returns a malloc'd string (caller frees). extra is
//  appended verbatim (it must carry its own HELP and TYPE lines).
char *gw_metrics_print (gw_metrics *self, const char *extra);

#endif
