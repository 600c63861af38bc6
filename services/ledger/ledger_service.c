/*  =========================================================================
    ledger_service - the ledger daemon's declaration: its method table
    (request → core), its LMDB tables, and the events it consumes

    Consumes: residents' person.* (who exists, names, households, pupils,
    consent) and building.* (every building, for the rankings), merchants'
    merchant.* (merchant subjects), and
    credit.requested from merchants, volunteers and proposals (applied once
    per (producer, idempotency_key)). Emits standing.changed.
    =========================================================================
*/
#include "ledger_service.h"
#include "ledger_verify.h"

#include <assert.h>

#include "ledger_posting.h"
#include "ledger_rules.h"
#include "ledger_subjects.h"
#include "ledger_sums.h"
#include "ledger_board.h"
#include "ledger_rankings.h"
#include "ledger_appeal.h"
#include "ledger_school.h"
#include "ledger_cardcode.h"
#include "ledger_redemption.h"
#include "ledger_months.h"
#include "ledger_replies.h"
#include "ledger_keys.h"

#define M(verb, req, rep, fn, flags, roles, idem) \
    { "ledger." verb, &tashan__ledger__##req##__descriptor, \
      &tashan__ledger__##rep##__descriptor, fn, flags, roles, idem }

#define W TS_METHOD_WRITE
#define R TS_METHOD_READ
#define OPS TS_ROLE_OPS
#define SYS TS_ROLE_SYSTEM
//  The honour board names persons: ops (full names), the panel (masked,
//  no minors). The rankings name households and buildings only, and the
//  rules nobody: every role that works with the ledger reads them.
#define HONOUR_READERS (TS_ROLE_OPS | TS_ROLE_PANEL | SYS)
#define BOARD_READERS (TS_ROLE_OPS | TS_ROLE_PANEL | TS_ROLE_SCHOOL | TS_ROLE_MERCHANT | SYS)

//  The tables (key and value formats: the layout at the top of ledger_core.c).
static const ts_table_def s_tables [] = {
    { "subjects", 0 }, { "pupils", 0 }, { "entries", 0 }, { "keys", 0 },
    { "key_gens", 0 }, { "key_blooms", 0 }, { "key_log", 0 },
    { "reversals", 0 }, { "rules", TS_TABLE_NOT_DATA }, { "config", TS_TABLE_NOT_DATA },
    { "board", 0 },
    { "hh_month", 0 }, { "bld_month", 0 }, { "sum_log", 0 }, { "households", 0 },
    { "buildings", 0 }, { "appeals", 0 }, { "entry_appeal", 0 },
    { "code_keys", TS_TABLE_NOT_DATA }, { "codes", 0 }, { "person_codes", 0 }, { "months", 0 },
    { "known_households", 0 }, { "known_buildings", 0 }, { "frozen", 0 },
};

//  Handlers that post entries get the request's working set (ledger_cache)
//  from their wrapper, which owns it: the rule "flush before success" is
//  asserted here on every return below 400, not left to each handler.
#define POSTING(wrapper, fn, Req, Rep) \
    static unsigned wrapper (ts_ctx *ctx, const void *req, void *rep) \
    { \
        ledger_cache cache = { 0 }; \
        unsigned rc = fn (ctx, &cache, (const Req *) req, (Rep *) rep); \
        assert (rc >= 400 || ledger_cache_clean (&cache)); \
        return rc; \
    }
#define POSTING_APPLY(wrapper, fn, Payload) \
    static unsigned wrapper (ts_ctx *ctx, const void *payload, const Tashan__Event *event) \
    { \
        ledger_cache cache = { 0 }; \
        unsigned rc = fn (ctx, &cache, (const Payload *) payload, event); \
        assert (rc >= 400 || ledger_cache_clean (&cache)); \
        return rc; \
    }

#define L(name) Tashan__Ledger__##name
POSTING (h_evaluate, ledger_posting_evaluate, L (EvaluateRequest), L (Entry))
POSTING (h_evaluate_batch, ledger_posting_evaluate_batch, L (EvaluateBatchRequest), L (BatchReply))
POSTING (h_redeem, ledger_posting_redeem, L (RedeemRequest), L (Entry))
TS_HANDLER (h_get_entry, ledger_posting_get_entry, L (GetEntryRequest), L (Entry))
TS_HANDLER (h_list_entries, ledger_posting_list_entries, L (ListEntriesRequest), L (EntryPage))
TS_HANDLER (h_get_person, ledger_posting_get_person, L (GetPersonRequest), L (PersonCredit))
TS_HANDLER (h_get_consent, ledger_posting_get_consent, L (GetPersonRequest), L (Consent))
TS_HANDLER (h_list_rules, ledger_rules_list, L (ListRulesRequest), L (RuleList))
TS_HANDLER (h_put_rule, ledger_rules_put, L (PutRuleRequest), L (Rule))
TS_HANDLER (h_get_settings, ledger_rules_get_settings, L (GetSettingsRequest), L (Settings))
TS_HANDLER (h_put_settings, ledger_rules_put_settings, L (Settings), L (Settings))
TS_HANDLER (h_file_appeal, ledger_appeal_file, L (FileAppealRequest), L (Appeal))
POSTING (h_decide_appeal, ledger_appeal_decide, L (DecideAppealRequest), L (Appeal))
TS_HANDLER (h_get_appeal, ledger_appeal_get, L (GetAppealRequest), L (Appeal))
TS_HANDLER (h_list_appeals, ledger_appeal_list, L (ListAppealsRequest), L (AppealPage))
TS_HANDLER (h_honor, ledger_board_honor, L (BoardRequest), L (HonorBoard))
TS_HANDLER (h_rank_households, ledger_rankings_households, L (BoardRequest), L (Ranking))
TS_HANDLER (h_rank_buildings, ledger_rankings_buildings, L (BoardRequest), L (Ranking))
POSTING (h_medals, ledger_school_medals, L (MedalBatchRequest), L (BatchReply))
POSTING (h_revoke_medal, ledger_school_revoke, L (RevokeMedalRequest), L (Entry))
TS_HANDLER (h_pupil_credit, ledger_school_pupil_credit, L (PupilCreditRequest), L (PupilCredit))
TS_APPLY (a_person, ledger_subjects_apply_person, Tashan__Events__Person)
TS_APPLY (a_building, ledger_rankings_apply_building, Tashan__Events__Building)
TS_APPLY (a_merchant, ledger_subjects_apply_merchant, Tashan__Events__Merchant)
POSTING_APPLY (a_credit, ledger_posting_apply_credit, Tashan__Events__CreditRequest)

TS_HANDLER (h_code_issue, ledger_cardcode_issue, Tashan__Ledger__IssueCardCodeRequest,
            Tashan__Ledger__CardCode)
TS_HANDLER (h_code_list, ledger_cardcode_list, Tashan__Ledger__ListCardCodesRequest,
            Tashan__Ledger__CardCodeList)
TS_HANDLER (h_code_revoke, ledger_cardcode_revoke, Tashan__Ledger__RevokeCardCodeRequest,
            Tashan__Ledger__CardCode)
TS_HANDLER (h_code_keys, ledger_cardcode_keys, Tashan__Ledger__ResidentKeysRequest,
            Tashan__Ledger__ResidentKeys)
TS_HANDLER (h_code_rotate, ledger_cardcode_rotate, Tashan__Ledger__RotateResidentKeyRequest,
            Tashan__Ledger__ResidentKey)
//  Closing a month publishes its rankings as they stand (frozen), in the
//  same transaction (months sit below the boards, so the freeze is here).
static unsigned
s_month_close (ts_ctx *ctx, const L (CloseMonthRequest) *req, L (MonthClose) *rep)
{
    unsigned rc = ledger_months_close (ctx, req, rep);
    if (rc < 400)
        ledger_rankings_freeze (ctx, ts_month_index (rep->month));
    return rc;
}
TS_HANDLER (h_month_close, s_month_close, L (CloseMonthRequest), L (MonthClose))
TS_HANDLER (h_months, ledger_months_list, L (ListMonthsRequest), L (MonthList))
POSTING_APPLY (a_redemption, ledger_redemption_apply, Tashan__Events__RedemptionRequest)

static const ts_method s_methods [] = {
    //  Evaluate keeps its idempotency in the ledger's own records
    //  (ledger_keys.c; the entry is the stored reply), not in the
    //  runtime's: one record, one page, per evaluation instead of two.
    //  Flat (TS_METHOD_FLAT): an evaluation checks everything before it
    //  writes, so it nearly always succeeds.
    M ("Evaluate", evaluate_request, entry, h_evaluate, W | TS_METHOD_FLAT,
       OPS | TS_ROLE_PANEL, NULL),
    M ("EvaluateBatch", evaluate_batch_request, batch_reply, h_evaluate_batch, W | TS_METHOD_FLAT,
       OPS | TS_ROLE_PANEL, NULL),
    M ("Redeem", redeem_request, entry, h_redeem, W, OPS, "idempotency_key"),
    M ("GetEntry", get_entry_request, entry, h_get_entry, R, OPS | SYS, NULL),
    M ("ListEntries", list_entries_request, entry_page, h_list_entries, R, OPS | SYS, NULL),
    M ("GetPerson", get_person_request, person_credit, h_get_person, R, OPS | SYS, NULL),
    M ("GetConsent", get_person_request, consent, h_get_consent, R, OPS | SYS, NULL),
    M ("ListRules", list_rules_request, rule_list, h_list_rules, R, BOARD_READERS, NULL),
    M ("PutRule", put_rule_request, rule, h_put_rule, W, OPS, NULL),
    M ("GetSettings", get_settings_request, settings, h_get_settings, R,
       OPS | TS_ROLE_PANEL | SYS, NULL),
    M ("PutSettings", settings, settings, h_put_settings, W, OPS, NULL),
    M ("FileAppeal", file_appeal_request, appeal, h_file_appeal, W, OPS, NULL),
    M ("DecideAppeal", decide_appeal_request, appeal, h_decide_appeal, W, OPS, NULL),
    M ("GetAppeal", get_appeal_request, appeal, h_get_appeal, R, OPS, NULL),
    M ("ListAppeals", list_appeals_request, appeal_page, h_list_appeals, R, OPS, NULL),
    M ("HonorBoard", board_request, honor_board, h_honor, R, HONOUR_READERS, NULL),
    M ("RankHouseholds", board_request, ranking, h_rank_households, R, BOARD_READERS, NULL),
    M ("RankBuildings", board_request, ranking, h_rank_buildings, R, BOARD_READERS, NULL),
    M ("SubmitMedals", medal_batch_request, batch_reply, h_medals, W, TS_ROLE_SCHOOL, NULL),
    M ("RevokeMedal", revoke_medal_request, entry, h_revoke_medal, W, TS_ROLE_SCHOOL, NULL),
    M ("PupilCredit", pupil_credit_request, pupil_credit, h_pupil_credit, R,
       TS_ROLE_SCHOOL, NULL),
    //  The resident's card code (ledger_cardcode.c)
    M ("IssueCardCode", issue_card_code_request, card_code, h_code_issue, W, OPS, NULL),
    M ("ListCardCodes", list_card_codes_request, card_code_list, h_code_list, R, OPS | SYS,
       NULL),
    M ("RevokeCardCode", revoke_card_code_request, card_code, h_code_revoke, W, OPS, NULL),
    M ("ResidentKeys", resident_keys_request, resident_keys, h_code_keys, R, TS_ROLE_ANY, NULL),
    M ("CloseMonth", close_month_request, month_close, h_month_close, W, OPS, NULL),
    M ("ListMonths", list_months_request, month_list, h_months, R, OPS | SYS, NULL),
    M ("RotateResidentKey", rotate_resident_key_request, resident_key, h_code_rotate, W, OPS,
       NULL),
};

//  open/close: the core's tables, the idempotency records moved into
//  generations (ledger_keys.c), the layout the rankings need, the board
//  replies' cache, then the card-code keys.
static unsigned
s_open (ts_ctx *ctx, void **state)
{
    unsigned rc = ledger_core_open (ctx, state);
    if (rc >= 400)
        return rc;
    ledger_keys_migrate (ctx, ledger_keys_last_seq (ctx) + 1);
    ledger_keys_open (ctx);
    ledger_rankings_open (ctx);
    ledger_tables_of (ctx)->replies = ledger_replies_new ();
    return ledger_cardcode_open (ctx);
}

static void
s_close (void *state)
{
    ledger_tables *t = state;
    if (t)
        ledger_replies_destroy (&t->replies);
    if (t)
        ledger_keys_close (t);
    ledger_cardcode_close (state);
    ledger_core_close (state);
}

static const ts_topic_handler s_resident_topics [] = {
    { "person.created", &tashan__events__person__descriptor, a_person },
    { "person.updated", &tashan__events__person__descriptor, a_person },
    { "person.moved", &tashan__events__person__descriptor, a_person },
    { "person.archived", &tashan__events__person__descriptor, a_person },
    { "building.created", &tashan__events__building__descriptor, a_building },
    { "building.archived", &tashan__events__building__descriptor, a_building },
};

static const ts_topic_handler s_merchant_topics [] = {
    { "merchant.registered", &tashan__events__merchant__descriptor, a_merchant },
    { "merchant.updated", &tashan__events__merchant__descriptor, a_merchant },
    { "credit.requested", &tashan__events__credit_request__descriptor, a_credit },
    { "redemption.requested", &tashan__events__redemption_request__descriptor, a_redemption },
};

static const ts_topic_handler s_credit_topics [] = {
    { "credit.requested", &tashan__events__credit_request__descriptor, a_credit },
};

static const ts_subscription s_subscriptions [] = {
    TS_SUBSCRIPTION ("residents", s_resident_topics),
    TS_SUBSCRIPTION ("merchants", s_merchant_topics),
    TS_SUBSCRIPTION ("volunteers", s_credit_topics),
    TS_SUBSCRIPTION ("proposals", s_credit_topics),
};

//  The tick, on a worker thread: it touches only its transaction.
static unsigned
s_tick (ts_ctx *ctx)
{
    ledger_sums_fold (ctx, LEDGER_SUMS_FOLD_MAX);
    return TS_OK;
}

const ts_service ledger_service = {
    .name = "ledger",
    .summary = "tashan ledger daemon: integrity index, shared card, honour board (SPEC §2 ledger)",
    //  2: subject clusters re-tagged, month in the record; 3: idempotency
    //  records in generations (ledger_keys.c, which migrates a store of 2);
    //  4: the unsealed generations' records in key_log (a build of 3 would
    //  not look there: it must not open a store of 4); 5: month sums'
    //  deltas in sum_log (a build of 4 would not add them)
    .schema_version = 5,
    .schema_migrates_from = 2,
    TS_TABLES (s_tables),
    TS_METHODS (s_methods),
    TS_SUBSCRIPTIONS (s_subscriptions),
    .open = s_open,
    .close = s_close,
    .verify = ledger_verify,
    //  Folds the month sums' log (ledger_sums.h) off the loop.
    .tick = s_tick,
    .tick_ms = LEDGER_SUMS_TICK_MS,
    .tick_off_loop = true,
};
