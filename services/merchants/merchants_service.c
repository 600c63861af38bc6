/*  merchants_service - the merchants daemon's declaration: the method
    table (request -> merchants_core, roles, idempotency), the tables, the
    events it follows (residents' persons, the ledger's standings) and
    open/close. No logic lives here: see merchants_core.c for that.

    Persons and tiers are mirrored from events rather than asked for: a
    check-in never waits on the residents or ledger daemons and still
    answers while they are down (the mirror is as fresh as the last event
    delivered, which replaces a TTL cache of ledger calls). */
#include "merchants_service.h"

#include "merchants_core.h"
#include "merchants_verify.h"
#include "merchants_cardcode.h"
#include "merchants_offers.h"

//  Typed core function -> ts_handler_fn, one per method (TS_HANDLER).

TS_HANDLER (h_create, merchants_create, Tashan__Merchants__CreateMerchantRequest,
             Tashan__Merchants__Merchant)
TS_HANDLER (h_update, merchants_update, Tashan__Merchants__UpdateMerchantRequest,
             Tashan__Merchants__Merchant)
TS_HANDLER (h_get, merchants_get, Tashan__Merchants__GetMerchantRequest,
             Tashan__Merchants__Merchant)
TS_HANDLER (h_list, merchants_list, Tashan__Merchants__ListMerchantsRequest,
             Tashan__Merchants__ListMerchantsReply)
TS_HANDLER (h_history, merchants_history, Tashan__Merchants__MerchantHistoryRequest,
             Tashan__Merchants__MerchantHistoryReply)
TS_HANDLER (h_disclose, merchants_disclose, Tashan__Merchants__CodeRequest,
             Tashan__Merchants__Disclosure)
TS_HANDLER (h_code_svg, merchants_code_svg_get, Tashan__Merchants__CodeSvgRequest,
             Tashan__Merchants__RawReply)
TS_HANDLER (h_rules_get, merchants_rules_get, Tashan__Merchants__GetRulesRequest,
             Tashan__Merchants__Rules)
TS_HANDLER (h_rules_set, merchants_rules_set, Tashan__Merchants__Rules,
             Tashan__Merchants__Rules)
TS_HANDLER (h_complaint_add, merchants_complaint_add, Tashan__Merchants__AddComplaintRequest,
             Tashan__Merchants__Complaint)
TS_HANDLER (h_complaint_resolve, merchants_complaint_resolve,
             Tashan__Merchants__ResolveComplaintRequest, Tashan__Merchants__Complaint)
TS_HANDLER (h_complaint_list, merchants_complaint_list,
             Tashan__Merchants__ListComplaintsRequest, Tashan__Merchants__ListComplaintsReply)
TS_HANDLER (h_market_create, merchants_market_create, Tashan__Merchants__CreateMarketRequest,
             Tashan__Merchants__Market)
TS_HANDLER (h_market_get, merchants_market_get, Tashan__Merchants__GetMarketRequest,
             Tashan__Merchants__Market)
TS_HANDLER (h_market_enrol, merchants_market_enrol, Tashan__Merchants__EnrolRequest,
             Tashan__Merchants__Enrolment)
TS_HANDLER (h_market_stats, merchants_market_stats, Tashan__Merchants__GetMarketRequest,
             Tashan__Merchants__MarketStats)
TS_HANDLER (h_market_list, merchants_market_list, Tashan__Merchants__ListMarketsRequest,
             Tashan__Merchants__ListMarketsReply)
TS_HANDLER (h_checkin, merchants_checkin, Tashan__Merchants__CheckinRequest,
             Tashan__Merchants__CheckinReply)
TS_HANDLER (h_notice_post, merchants_notice_post, Tashan__Merchants__PostNoticeRequest,
             Tashan__Merchants__Notice)
TS_HANDLER (h_notice_list, merchants_notice_list, Tashan__Merchants__ListNoticesRequest,
             Tashan__Merchants__ListNoticesReply)

TS_HANDLER (h_offer_create, merchants_offer_create, Tashan__Merchants__CreateOfferRequest,
            Tashan__Merchants__Offer)
TS_HANDLER (h_offer_get, merchants_offer_get, Tashan__Merchants__GetOfferRequest,
            Tashan__Merchants__Offer)
TS_HANDLER (h_offer_update, merchants_offer_update, Tashan__Merchants__UpdateOfferRequest,
            Tashan__Merchants__Offer)
TS_HANDLER (h_offer_list, merchants_offer_list, Tashan__Merchants__ListOffersRequest,
            Tashan__Merchants__ListOffersReply)
TS_HANDLER (h_offer_redeem, merchants_offer_redeem, Tashan__Merchants__RedeemOfferRequest,
            Tashan__Merchants__RedeemOfferReply)
TS_HANDLER (h_red_get, merchants_redemption_get, Tashan__Merchants__GetRedemptionRequest,
            Tashan__Merchants__Redemption)
TS_HANDLER (h_red_list, merchants_redemption_list, Tashan__Merchants__ListRedemptionsRequest,
            Tashan__Merchants__ListRedemptionsReply)
TS_APPLY (s_apply_settled, merchants_apply_settled, Tashan__Events__RedemptionSettled)

//  The tables (layout at the top of merchants_core.c).
static const ts_table_def s_tables [] = {
    { "merchants", 0 }, { "history", 0 }, { "licences", 0 },
    { "complaints", 0 }, { "markets", 0 }, { "market_dates", 0 },
    { "enrolments", 0 }, { "attended", 0 }, { "served", 0 },
    { "checkins", 0 }, { "counters", 0 }, { "persons", 0 },
    { "standings", 0 }, { "settings", TS_TABLE_NOT_DATA }, { "notices", 0 },
    { "code_keys", TS_TABLE_NOT_DATA }, { "revoked_codes", 0 },     //  merchants_cardcode.c
    { "offers", 0 }, { "offers_by_merch", 0 }, { "redemptions", 0 },  //  merchants_offers.c
    { "red_keys", 0 }, { "red_by_merch", 0 }, { "red_month", 0 },
    { "checkin_keys", 0 },                                          //  merchants_checkin_keys.c
};

#define D(x) &tashan__merchants__##x##__descriptor
#define W TS_METHOD_WRITE
#define R TS_METHOD_READ
#define STAFF (TS_ROLE_OPS | TS_ROLE_SYSTEM)
#define STAFF_OR_MERCHANT (STAFF | TS_ROLE_MERCHANT)

static const ts_method s_methods [] = {
    { "merchants.Create", D (create_merchant_request), D (merchant), h_create, W, STAFF, NULL },
    { "merchants.Update", D (update_merchant_request), D (merchant), h_update, W, STAFF, NULL },
    { "merchants.Get", D (get_merchant_request), D (merchant), h_get, R,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.List", D (list_merchants_request), D (list_merchants_reply), h_list, R,
      STAFF, NULL },
    { "merchants.History", D (merchant_history_request), D (merchant_history_reply),
      h_history, R, STAFF_OR_MERCHANT, NULL },
    { "merchants.Disclose", D (code_request), D (disclosure), h_disclose, R,
      TS_ROLE_ANY, NULL },
    { "merchants.CodeSvg", D (code_svg_request), D (raw_reply), h_code_svg, R,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.GetRules", D (get_rules_request), D (rules), h_rules_get, R, STAFF, NULL },
    { "merchants.SetRules", D (rules), D (rules), h_rules_set, W, STAFF, NULL },
    { "merchants.AddComplaint", D (add_complaint_request), D (complaint), h_complaint_add,
      W, STAFF, NULL },
    { "merchants.ResolveComplaint", D (resolve_complaint_request), D (complaint),
      h_complaint_resolve, W, STAFF, NULL },
    { "merchants.ListComplaints", D (list_complaints_request), D (list_complaints_reply),
      h_complaint_list, R, STAFF_OR_MERCHANT, NULL },
    { "merchants.CreateMarket", D (create_market_request), D (market), h_market_create, W,
      STAFF, NULL },
    { "merchants.GetMarket", D (get_market_request), D (market), h_market_get, R,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.Enrol", D (enrol_request), D (enrolment), h_market_enrol, W,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.MarketStats", D (get_market_request), D (market_stats), h_market_stats, R,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.ListMarkets", D (list_markets_request), D (list_markets_reply),
      h_market_list, R, STAFF, NULL },
    //  Checkin keeps its idempotency in its own record (checkin_id,
    //  merchants_checkin_keys.c), not in the runtime's: the record is
    //  appended, the runtime's landed on a random leaf per check-in.
    //  Flat (TS_METHOD_FLAT): refusals are decided before anything is
    //  written, and the brake on refused codes counts in the nested re-run.
    { "merchants.Checkin", D (checkin_request), D (checkin_reply), h_checkin,
      W | TS_METHOD_FLAT,
      TS_ROLE_MERCHANT | TS_ROLE_OPS, NULL },
    //  Card offers and their redemptions (merchants_offers.c)
    { "merchants.CreateOffer", D (create_offer_request), D (offer), h_offer_create, W,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.GetOffer", D (get_offer_request), D (offer), h_offer_get, R,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.UpdateOffer", D (update_offer_request), D (offer), h_offer_update, W,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.ListOffers", D (list_offers_request), D (list_offers_reply), h_offer_list, R,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.RedeemOffer", D (redeem_offer_request), D (redeem_offer_reply),
      h_offer_redeem, W, STAFF_OR_MERCHANT, "idempotency_key" },
    { "merchants.GetRedemption", D (get_redemption_request), D (redemption), h_red_get, R,
      STAFF_OR_MERCHANT, NULL },
    { "merchants.ListRedemptions", D (list_redemptions_request), D (list_redemptions_reply),
      h_red_list, R, STAFF_OR_MERCHANT, NULL },
    { "merchants.PostNotice", D (post_notice_request), D (notice), h_notice_post, W,
      STAFF, NULL },
    { "merchants.ListNotices", D (list_notices_request), D (list_notices_reply),
      h_notice_list, R, STAFF_OR_MERCHANT, NULL },
};

//  --------------------------------------------------------------------
//  Events followed

static unsigned
s_apply_person (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    (void) event;
    return merchants_apply_person (ctx, (const Tashan__Events__Person *) payload);
}

static unsigned
s_apply_standing (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    (void) event;
    return merchants_apply_standing (ctx, (const Tashan__Events__Standing *) payload);
}

static const ts_topic_handler s_residents_topics [] = {
    { "person.created", &tashan__events__person__descriptor, s_apply_person },
    { "person.updated", &tashan__events__person__descriptor, s_apply_person },
    { "person.moved", &tashan__events__person__descriptor, s_apply_person },
    { "person.archived", &tashan__events__person__descriptor, s_apply_person },
};

TS_APPLY (s_apply_resident_key, merchants_apply_resident_key, Tashan__Events__ResidentKey)
TS_APPLY (s_apply_code_revoked, merchants_apply_code_revoked, Tashan__Events__CardCodeRevoked)

static const ts_topic_handler s_ledger_topics [] = {
    { "standing.changed", &tashan__events__standing__descriptor, s_apply_standing },
    { "resident_key.published", &tashan__events__resident_key__descriptor,
      s_apply_resident_key },
    { "card_code.revoked", &tashan__events__card_code_revoked__descriptor,
      s_apply_code_revoked },
    { "redemption.settled", &tashan__events__redemption_settled__descriptor, s_apply_settled },
};

static const ts_subscription s_subscriptions [] = {
    TS_SUBSCRIPTION ("residents", s_residents_topics),
    TS_SUBSCRIPTION ("ledger", s_ledger_topics),
};

//  open: the core's state; a fresh process forgives refused card codes.
static unsigned
s_open (ts_ctx *ctx, void **state)
{
    merchants_cardcode_reset ();
    return merchants_open (ctx, state);
}

const ts_service merchants_service = {
    .name = "merchants",
    .summary = "tashan merchants daemon: registry, merchant codes, market, check-ins",
    //  2: a check-in's record is its idempotency record (request_hash,
    //  checkin_keys); records of 1 have no hash and are compared by field.
    .schema_version = 2,
    .schema_migrates_from = 1,
    TS_TABLES (s_tables),
    TS_METHODS (s_methods),
    TS_SUBSCRIPTIONS (s_subscriptions),
    .open = s_open,
    .close = merchants_close,
    .verify = merchants_verify,
};
