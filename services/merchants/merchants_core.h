/*  =========================================================================
    merchants_core - the merchants domain over one LMDB transaction

    Registry of units, their public code, complaints, standing and the
    rules that decide it, the persons and ledger standings mirrored from
    events, the convenience market with its check-ins and stats, and
    notices to merchants. Every function is a pure function of the
    request, the transaction (ctx->txn) and ctx->now_ms: no other state
    changes. Handlers in merchants_service.c only route to these.

    The data layout (every table, key and value) is written at the top of
    merchants_core.c. Files, each calling only those above it:
        merchants_core.c        records, counters, mirrored events, helpers
        merchants_rules.c       rules, standing, tiers, discounts
        merchants_registry.c    the registry and the merchant's code
        merchants_complaints.c  complaints
        merchants_market.c      markets and check-ins
        merchants_checkin_keys.c  check-ins by (merchant, checkin_id):
                                the record is the idempotency record
        merchants_notice.c      notices
    =========================================================================
*/
#ifndef MERCHANTS_CORE_H
#define MERCHANTS_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include "ts_service.h"
#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"
#include "events.pb-c.h"
#include "merchants.pb-c.h"
#include "merchants_code.h"
#include "merchants_checkin_keys.h"

#define MERCHANTS_STATE_MAGIC 0x4d524348u
#define MERCHANTS_SERVICES_MAX 64           //  per list (services, free_services)
#define MERCHANTS_TIERS_MAX 16              //  rows of a discount table
#define MERCHANTS_TIER_MAX_CHARS 8
#define MERCHANTS_MARKETS_SCAN_MAX 10000    //  markets summed by one list call
#define MERCHANTS_NOTICES_SCAN_MAX 10000    //  notices examined by one list call
#define MERCHANTS_SERVICE_ROWS_MAX 1000     //  service kinds listed per market

//  The daemon's state: the code key and the table handles, set in open()
//  and never changed afterwards.
typedef struct {
    uint32_t magic;                 //  MERCHANTS_STATE_MAGIC
    uint8_t key [MERCHANTS_CODE_KEY_BYTES];  //  code MAC key
    ts_table merchants;             //  see merchants_core.c for each table
    ts_table history;
    ts_table licences;
    ts_table complaints;
    ts_table markets;
    ts_table market_dates;
    ts_table enrolments;
    ts_table attended;
    ts_table served;
    ts_table checkins;
    ts_table counters;
    ts_table persons;
    ts_table standings;
    ts_table settings;
    ts_table notices;
    ts_table checkin_keys;          //  merchants_checkin_keys.c
    merchants_checkin_keys *keys;   //  check-ins by (merchant, checkin_id)
} merchants_state;

//  A person of the community (mirrored from residents' events) who has
//  not moved out: 0, or 422 recorded on ctx.
unsigned merchants_check_resident (ts_ctx *ctx, const char *person_id);

//  open(): load or create the code key next to the store, check its
//  fingerprint against the store's, open the table handles.
unsigned merchants_open (ts_ctx *ctx, void **state);
void merchants_close (void *state);

//  Registry
unsigned merchants_create (ts_ctx *ctx, const Tashan__Merchants__CreateMerchantRequest *req,
                           Tashan__Merchants__Merchant *rep);
unsigned merchants_update (ts_ctx *ctx, const Tashan__Merchants__UpdateMerchantRequest *req,
                           Tashan__Merchants__Merchant *rep);
unsigned merchants_get (ts_ctx *ctx, const Tashan__Merchants__GetMerchantRequest *req,
                        Tashan__Merchants__Merchant *rep);
unsigned merchants_list (ts_ctx *ctx, const Tashan__Merchants__ListMerchantsRequest *req,
                         Tashan__Merchants__ListMerchantsReply *rep);
unsigned merchants_history (ts_ctx *ctx, const Tashan__Merchants__MerchantHistoryRequest *req,
                            Tashan__Merchants__MerchantHistoryReply *rep);

//  The code
unsigned merchants_disclose (ts_ctx *ctx, const Tashan__Merchants__CodeRequest *req,
                             Tashan__Merchants__Disclosure *rep);
unsigned merchants_code_svg_get (ts_ctx *ctx, const Tashan__Merchants__CodeSvgRequest *req,
                                 Tashan__Merchants__RawReply *rep);

//  Standing: rules and complaints
unsigned merchants_rules_get (ts_ctx *ctx, const Tashan__Merchants__GetRulesRequest *req,
                              Tashan__Merchants__Rules *rep);
unsigned merchants_rules_set (ts_ctx *ctx, const Tashan__Merchants__Rules *req,
                              Tashan__Merchants__Rules *rep);
unsigned merchants_complaint_add (ts_ctx *ctx, const Tashan__Merchants__AddComplaintRequest *req,
                                  Tashan__Merchants__Complaint *rep);
unsigned merchants_complaint_resolve (ts_ctx *ctx,
                                      const Tashan__Merchants__ResolveComplaintRequest *req,
                                      Tashan__Merchants__Complaint *rep);
unsigned merchants_complaint_list (ts_ctx *ctx, const Tashan__Merchants__ListComplaintsRequest *req,
                                   Tashan__Merchants__ListComplaintsReply *rep);

//  Events from other daemons
unsigned merchants_apply_person (ts_ctx *ctx, const Tashan__Events__Person *person);
unsigned merchants_apply_standing (ts_ctx *ctx, const Tashan__Events__Standing *standing);

//  Market and check-ins (merchants_market.c)
unsigned merchants_market_create (ts_ctx *ctx, const Tashan__Merchants__CreateMarketRequest *req,
                                  Tashan__Merchants__Market *rep);
unsigned merchants_market_get (ts_ctx *ctx, const Tashan__Merchants__GetMarketRequest *req,
                               Tashan__Merchants__Market *rep);
unsigned merchants_market_enrol (ts_ctx *ctx, const Tashan__Merchants__EnrolRequest *req,
                                 Tashan__Merchants__Enrolment *rep);
unsigned merchants_market_stats (ts_ctx *ctx, const Tashan__Merchants__GetMarketRequest *req,
                                 Tashan__Merchants__MarketStats *rep);
unsigned merchants_market_list (ts_ctx *ctx, const Tashan__Merchants__ListMarketsRequest *req,
                                Tashan__Merchants__ListMarketsReply *rep);
unsigned merchants_checkin (ts_ctx *ctx, const Tashan__Merchants__CheckinRequest *req,
                            Tashan__Merchants__CheckinReply *rep);

//  Notices (merchants_notice.c)
unsigned merchants_notice_post (ts_ctx *ctx, const Tashan__Merchants__PostNoticeRequest *req,
                                Tashan__Merchants__Notice *rep);
unsigned merchants_notice_list (ts_ctx *ctx, const Tashan__Merchants__ListNoticesRequest *req,
                                Tashan__Merchants__ListNoticesReply *rep);

//  --------------------------------------------------------------------
//  Helpers shared by the core files

//  The state of the request's daemon (asserts its magic).
merchants_state *merchants_state_of (ts_ctx *ctx);
//  A merchant-role caller may act only for its own merchant (403).
unsigned merchants_check_own (ts_ctx *ctx, const char *merchant_id);
//  The key of a merchant number (u64 big-endian).
void merchants_key_no (ts_key *k, uint64_t no);
//  Load a merchant by id text; NULL with code (404 or 422) recorded on
//  ctx, naming the id, when it is malformed or absent.
Tashan__Merchants__Merchant *merchants_find (ts_ctx *ctx, const char *id_text,
                                             unsigned code, uint64_t *id);
//  A discount table (merchants_rules.c): at most MERCHANTS_TIERS_MAX rows,
//  tiers 1..8 letters or +/-, unique, percent 0..100 (400 naming field).
unsigned merchants_check_discounts (ts_ctx *ctx, const char *field,
                                    Tashan__Merchants__TierDiscount **rows, size_t n);

//  Load merchant number id (NULL when absent).
Tashan__Merchants__Merchant *merchants_load (ts_ctx *ctx, uint64_t id);

//  The rules record (defaults if never set).
Tashan__Merchants__Rules *merchants_rules_load (ts_ctx *ctx);

//  The standing of a merchant: "good", "watch" or "suspended".
const char *merchants_standing (ts_ctx *ctx, const Tashan__Merchants__Rules *rules,
                                const Tashan__Merchants__Merchant *m, uint64_t id);

//  Discount a tier earns at merchant m: its own table first, then the
//  community's, then 0.
uint32_t merchants_discount (const Tashan__Merchants__Rules *rules,
                             const Tashan__Merchants__Merchant *m, const char *tier);

//  The tier of a person: the ledger's last word, else the default tier.
const char *merchants_person_tier (ts_ctx *ctx, const Tashan__Merchants__Rules *rules,
                                   const char *person_id);

//  Counters: ("name", id [, sub]) -> u64.
void merchants_count_add (ts_ctx *ctx, const char *name, uint64_t id,
                          const char *sub, int64_t delta);
uint32_t merchants_count_get (ts_ctx *ctx, const char *name, uint64_t id,
                              const char *sub);

//  Validate a string list: at most max items, each 1..max_chars, no
//  duplicates. Returns 0 or a 400 recorded on ctx.
unsigned merchants_check_list (ts_ctx *ctx, const char *field, char **items,
                               size_t n, size_t max, size_t max_chars);

//  Caller is ops or system (sees personal data, all notices...)?
bool merchants_caller_is_staff (const ts_ctx *ctx);

#endif
