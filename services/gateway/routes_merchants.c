/*  routes_merchants - HTTP routes served by the merchants daemon (SPEC §4
    merchants, codes and check-ins, and the rest of the merchants API:
    complaints, standing rules, markets, notices). Roles are enforced by
    the merchants daemon's method table; path and query parameters fill the
    request fields of the same name. */
#include "gw_route.h"
#include "ts_valid.h"
#include "merchants.pb-c.h"

#define ROUTE(method, pattern, rpc, req, rep, flags) \
    { method, pattern, "merchants", "merchants." rpc, \
      &tashan__merchants__##req##__descriptor, \
      &tashan__merchants__##rep##__descriptor, flags }

const gw_route gw_routes_merchants [] = {
    //  Registry.
    ROUTE ("POST", "/v1/merchants", "Create", create_merchant_request, merchant, GW_BODY),
    ROUTE ("GET", "/v1/merchants", "List", list_merchants_request, list_merchants_reply, 0),
    ROUTE ("GET", "/v1/merchants/{id}", "Get", get_merchant_request, merchant, 0),
    ROUTE ("PATCH", "/v1/merchants/{id}", "Update", update_merchant_request, merchant,
           GW_BODY),
    ROUTE ("GET", "/v1/merchants/{id}/history", "History", merchant_history_request,
           merchant_history_reply, 0),
    //  The code: public disclosure, QR symbol.
    ROUTE ("GET", "/v1/codes/{code}", "Disclose", code_request, disclosure, GW_PUBLIC),
    ROUTE ("GET", "/v1/merchants/{id}/code.svg", "CodeSvg", code_svg_request, raw_reply,
           GW_RAW),
    //  Complaints and the standing rules.
    ROUTE ("POST", "/v1/merchants/{id}/complaints", "AddComplaint", add_complaint_request,
           complaint, GW_BODY),
    ROUTE ("GET", "/v1/merchants/{id}/complaints", "ListComplaints", list_complaints_request,
           list_complaints_reply, 0),
    ROUTE ("PATCH", "/v1/merchants/{id}/complaints/{complaint_id}", "ResolveComplaint",
           resolve_complaint_request, complaint, GW_BODY),
    ROUTE ("GET", "/v1/merchant-rules", "GetRules", get_rules_request, rules, 0),
    ROUTE ("PUT", "/v1/merchant-rules", "SetRules", rules, rules, GW_BODY),
    //  The convenience market.
    ROUTE ("POST", "/v1/markets", "CreateMarket", create_market_request, market, GW_BODY),
    ROUTE ("GET", "/v1/markets", "ListMarkets", list_markets_request, list_markets_reply, 0),
    ROUTE ("GET", "/v1/markets/{id}", "GetMarket", get_market_request, market, 0),
    ROUTE ("POST", "/v1/markets/{id}/merchants", "Enrol", enrol_request, enrolment, GW_BODY),
    ROUTE ("GET", "/v1/markets/{id}/stats", "MarketStats", get_market_request, market_stats,
           0),
    //  Check-ins.
    ROUTE ("POST", "/v1/checkins", "Checkin", checkin_request, checkin_reply, GW_BODY),
    //  Notices.
    ROUTE ("POST", "/v1/notices", "PostNotice", post_notice_request, notice, GW_BODY),
    ROUTE ("GET", "/v1/notices", "ListNotices", list_notices_request, list_notices_reply, 0),
    //  Card offers: the shop's items and the holiday course seats the shared
    //  card buys; a redemption moves stock here and points in the ledger.
    ROUTE ("POST", "/v1/offers", "CreateOffer", create_offer_request, offer, GW_BODY),
    ROUTE ("GET", "/v1/offers", "ListOffers", list_offers_request, list_offers_reply, 0),
    ROUTE ("GET", "/v1/offers/{id}", "GetOffer", get_offer_request, offer, 0),
    ROUTE ("PATCH", "/v1/offers/{id}", "UpdateOffer", update_offer_request, offer, GW_BODY),
    ROUTE ("POST", "/v1/offers/{id}/redemptions", "RedeemOffer", redeem_offer_request,
           redeem_offer_reply, GW_BODY),
    ROUTE ("GET", "/v1/redemptions/{id}", "GetRedemption", get_redemption_request, redemption,
           0),
    ROUTE ("GET", "/v1/merchants/{id}/redemptions", "ListRedemptions",
           list_redemptions_request, list_redemptions_reply, 0),
};
const size_t gw_routes_merchants_count =
    sizeof gw_routes_merchants / sizeof gw_routes_merchants [0];

//  The rule for names and titles (common/ts_valid.h: ts_check_name).
#define NAME_RULE(fields) \
    "Names (" fields ") follow one rule (ts_check_name): " TS_NAME_RULE_TEXT "."

const gw_route_doc gw_route_docs_merchants [] = {
    { "POST", "/v1/merchants", NAME_RULE ("name, at most 64 characters") },
    { "PATCH", "/v1/merchants/{id}", NAME_RULE ("name, at most 64 characters") },
    { "POST", "/v1/markets", NAME_RULE ("title") },
    { "POST", "/v1/notices", NAME_RULE ("title") },
    { "POST", "/v1/offers", NAME_RULE ("title, course") },
    { "PATCH", "/v1/offers/{id}", NAME_RULE ("title") },
};
const size_t gw_route_docs_merchants_count = sizeof gw_route_docs_merchants /
                                             sizeof gw_route_docs_merchants [0];
