/*  ledger_redemption - the ledger's side of a card redemption saga: a
    merchant reserved a unit of an offer (redemption.requested); debit the
    card, or refuse, and answer (redemption.settled). See
    services/merchants/merchants_offers.h for the whole saga.

    Applied once per event (the consumer position moves in the same
    transaction) and keyed by the redemption id in the idempotency
    records (ledger_keys.c), so the card is debited at most once per
    redemption whatever is replayed. */
#ifndef LEDGER_REDEMPTION_H
#define LEDGER_REDEMPTION_H

#include "ledger_posting.h"

//  cache: the request's working set, owned (and checked) by the caller.
unsigned ledger_redemption_apply (ts_ctx *ctx, ledger_cache *cache,
                                  const Tashan__Events__RedemptionRequest *req,
                                  const Tashan__Event *event);

#endif
