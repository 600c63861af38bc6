/*  =========================================================================
    merchants_checkin_keys - find a check-in by (merchant, checkin_id)

    A check-in's record is its own idempotency record (the runtime's idem
    table is not used for merchants.Checkin): see merchants_checkin_keys.c
    for why and how.
    =========================================================================
*/
#ifndef MERCHANTS_CHECKIN_KEYS_H
#define MERCHANTS_CHECKIN_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include "ts_service.h"
#include "merchants.pb-c.h"

#define MERCHANTS_CHECKIN_HASH_BYTES 16

typedef struct merchants_checkin_keys merchants_checkin_keys;

//  The key of (merchant_id, checkin_id): BLAKE2b-128 of both.
void merchants_checkin_keys_hash (uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES],
                                  const char *merchant_id, const char *checkin_id);

//  open(): build the index from the checkins table (and make sure a record
//  the index cannot hold is in checkin_keys). NULL on out of memory.
merchants_checkin_keys *merchants_checkin_keys_new (ts_ctx *ctx, ts_table checkins,
                                                    ts_table spill);
void merchants_checkin_keys_destroy (merchants_checkin_keys **self_p);

//  The check-in of (merchant_id, checkin_id) as stored in ctx's
//  transaction, unpacked in ctx->arena, or NULL.
Tashan__Merchants__Checkin *merchants_checkin_keys_find (merchants_checkin_keys *self,
                                                         ts_ctx *ctx,
                                                         const char *merchant_id,
                                                         const char *checkin_id);

//  Check-in number no was just written under hash (in ctx's transaction).
void merchants_checkin_keys_put (merchants_checkin_keys *self, ts_ctx *ctx,
                                 const uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES],
                                 uint64_t no);

//  Tests: the most slots the index may have (a power of two, >= 1024);
//  later check-ins go to the checkin_keys table. Takes effect at new().
void merchants_checkin_keys_set_max (size_t slots);

#endif
