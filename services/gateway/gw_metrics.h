/*  =========================================================================
    gw_metrics - the gateway's counters, printed in Prometheus text format

    Requests by route pattern and status, a latency histogram, RPC errors
    per daemon (fed by the caller when printing), outbox lag per consumer
    (from the last health poll). Bounded: at most GW_METRICS_SERIES_MAX
    (route, status) series: once GW_METRICS_SERIES_MAX - GW_METRICS_OTHER_SLOTS
    exist, new ones count under route="other".
    =========================================================================
*/
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define GW_METRICS_SERIES_MAX 1024
//  Slots kept for route="other" (one per status seen beyond the bound).
#define GW_METRICS_OTHER_SLOTS 8

typedef struct gw_metrics gw_metrics;

gw_metrics *gw_metrics_new (void);
void gw_metrics_destroy (gw_metrics **self_p);

//  One answered request: route is the pattern ("POST /v1/households") or
//  a fixed name ("not_found"); latency from first byte to response.
void gw_metrics_request (gw_metrics *self, const char *route, unsigned status,
                         uint64_t latency_us);

//  Outbox lag of consumer behind producer, from a health poll.
void gw_metrics_lag (gw_metrics *self, const char *consumer, const char *producer,
                     uint64_t lag_events);
void gw_metrics_daemon (gw_metrics *self, const char *service, int up,
                        uint64_t outbox_head_seq, uint64_t rpc_errors);

//  Print everything; returns a malloc'd string (caller frees). extra is
//  appended verbatim (e.g. HTTP server stats).
char *gw_metrics_print (gw_metrics *self, const char *extra);

#endif
