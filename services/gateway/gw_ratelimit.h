/*  =========================================================================
    gw_ratelimit - token buckets per caller (a token id, or the client
    address for calls without a token), so one runaway app cannot starve
    the others: over its rate a caller gets 429 with Retry-After.

    A fixed table of GW_RATELIMIT_SLOTS buckets, open addressing with a
    bounded probe; a bucket idle for a minute is reused. When every probed
    bucket is busy the call is let through and counted (fail open: the
    limiter must never refuse service by itself being full).
    =========================================================================
*/
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define GW_RATELIMIT_SLOTS 8192
#define GW_RATELIMIT_PROBES 8
#define GW_RATELIMIT_KEY_MAX 64

typedef struct gw_ratelimit gw_ratelimit;

//  rate_per_s 0 means no limit. Burst: one second's worth.
gw_ratelimit *gw_ratelimit_new (uint32_t rate_per_s);
void gw_ratelimit_destroy (gw_ratelimit **self_p);

//  May the caller named key make one more call at now_ms (monotonic)?
bool gw_ratelimit_allow (gw_ratelimit *self, const char *key, uint64_t now_ms);

//  Calls let through because the table was full near the key.
uint64_t gw_ratelimit_overflows (gw_ratelimit *self);

#endif
