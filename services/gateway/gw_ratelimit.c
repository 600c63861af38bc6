/*  gw_ratelimit - token buckets per caller. See gw_ratelimit.h. */
#include "gw_ratelimit.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_text.h"
#include "ts_hash.h"

#define RATELIMIT_MAGIC 0x524c494du
#define IDLE_REUSE_MS 60000

typedef struct {
    char key [GW_RATELIMIT_KEY_MAX];//  caller; "" when the slot is free
    double tokens;                  //  calls it may still make now
    uint64_t last_ms;               //  when tokens was computed
} bucket_t;

struct gw_ratelimit {
    uint32_t magic;
    uint32_t rate_per_s;            //  refill rate and burst
    uint64_t overflows;
    bucket_t buckets [GW_RATELIMIT_SLOTS];
};

gw_ratelimit *
gw_ratelimit_new (uint32_t rate_per_s)
{
    gw_ratelimit *self = calloc (1, sizeof (gw_ratelimit));
    assert (self);
    self->magic = RATELIMIT_MAGIC;
    self->rate_per_s = rate_per_s;
    return self;
}

void
gw_ratelimit_destroy (gw_ratelimit **self_p)
{
    assert (self_p);
    if (!*self_p)
        return;
    assert ((*self_p)->magic == RATELIMIT_MAGIC);
    (*self_p)->magic = 0;
    free (*self_p);
    *self_p = NULL;
}

bool
gw_ratelimit_allow (gw_ratelimit *self, const char *key_in, uint64_t now_ms)
{
    assert (self && self->magic == RATELIMIT_MAGIC);
    if (self->rate_per_s == 0)
        return true;
    char key [GW_RATELIMIT_KEY_MAX];
    gw_text_copy (key, sizeof key, key_in);
    //  FNV-1a: the keys are token ids and addresses, not adversarial inputs
    //  an attacker can choose freely (a token needs ops to create it).
    uint32_t start = ts_hash_text (key, sizeof key) % GW_RATELIMIT_SLOTS;
    bucket_t *hit = NULL, *reusable = NULL;
    for (uint32_t i = 0; i < GW_RATELIMIT_PROBES && !hit; i++) {
        bucket_t *b = &self->buckets [(start + i) % GW_RATELIMIT_SLOTS];
        if (b->key [0] && strcmp (b->key, key) == 0)
            hit = b;
        else
        if (!reusable && (!b->key [0] || now_ms - b->last_ms > IDLE_REUSE_MS))
            reusable = b;
    }
    if (!hit) {
        if (!reusable) {
            self->overflows++;
            return true;
        }
        hit = reusable;
        memcpy (hit->key, key, sizeof key);
        hit->tokens = self->rate_per_s;
        hit->last_ms = now_ms;
    }
    double burst = self->rate_per_s;
    if (now_ms > hit->last_ms) {
        hit->tokens += (double) (now_ms - hit->last_ms) * self->rate_per_s / 1000.0;
        if (hit->tokens > burst)
            hit->tokens = burst;
        hit->last_ms = now_ms;
    }
    if (hit->tokens < 1.0)
        return false;
    hit->tokens -= 1.0;
    assert (hit->tokens >= 0.0 && hit->tokens <= burst);
    return true;
}

uint64_t
gw_ratelimit_overflows (gw_ratelimit *self)
{
    return self->overflows;
}
