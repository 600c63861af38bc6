/*  =========================================================================
    merchants_offers - what the shared card buys (shop items, holiday
    course seats) and the redemption saga's merchant side

    A redemption is one act across two daemons: this one owns the stock,
    the ledger owns the card. Redeem reserves one unit and emits
    redemption.requested in the same transaction, answering 202 (the
    runtime parks the request, ts_park.h); the ledger debits the card or
    refuses and emits redemption.settled; applying it here takes or
    releases the unit. Both events are in outboxes, so the saga finishes
    whichever daemon is killed when: no lock, no lost or double unit.

    Tables:  offers           u64 offer BE                  -> merchants.Offer
             offers_by_merch  u64 merchant BE, u64 offer BE -> ""
             redemptions      u64 redemption BE             -> merchants.Redemption
             red_keys         role\0binding\0key\0          -> u64 redemption BE
             red_by_merch     u64 merchant BE, u32 month BE, u64 redemption BE -> ""
             red_month        u64 merchant BE, u32 month BE -> u64 completed, i64 points
    =========================================================================
*/
#ifndef MERCHANTS_OFFERS_H
#define MERCHANTS_OFFERS_H

#include "ts_service.h"
#include "events.pb-c.h"
#include "merchants.pb-c.h"

#define MERCHANTS_OFFER_POINTS_MAX 1000000
#define MERCHANTS_OFFER_STOCK_MAX 1000000
#define MERCHANTS_OFFER_SESSIONS_MAX 100

unsigned merchants_offer_create (ts_ctx *ctx, const Tashan__Merchants__CreateOfferRequest *req,
                                 Tashan__Merchants__Offer *rep);
unsigned merchants_offer_get (ts_ctx *ctx, const Tashan__Merchants__GetOfferRequest *req,
                              Tashan__Merchants__Offer *rep);
unsigned merchants_offer_update (ts_ctx *ctx, const Tashan__Merchants__UpdateOfferRequest *req,
                                 Tashan__Merchants__Offer *rep);
unsigned merchants_offer_list (ts_ctx *ctx, const Tashan__Merchants__ListOffersRequest *req,
                               Tashan__Merchants__ListOffersReply *rep);
//  202 while the ledger has not answered; then 201 (the card debited) or
//  409 (stock 0, card short...).
unsigned merchants_offer_redeem (ts_ctx *ctx, const Tashan__Merchants__RedeemOfferRequest *req,
                                 Tashan__Merchants__RedeemOfferReply *rep);
unsigned merchants_redemption_get (ts_ctx *ctx,
                                   const Tashan__Merchants__GetRedemptionRequest *req,
                                   Tashan__Merchants__Redemption *rep);
unsigned merchants_redemption_list (ts_ctx *ctx,
                                    const Tashan__Merchants__ListRedemptionsRequest *req,
                                    Tashan__Merchants__ListRedemptionsReply *rep);
//  The ledger's answer (topic redemption.settled).
unsigned merchants_apply_settled (ts_ctx *ctx, const Tashan__Events__RedemptionSettled *ev,
                                  const Tashan__Event *event);

#endif
