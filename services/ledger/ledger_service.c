/*  =========================================================================
    ledger_service - the ledger daemon's declaration: its method table
    (request → core), its LMDB tables, and the events it consumes

    Consumes: residents' person.* (who exists, names, households, pupils,
    consent), merchants' merchant.* (merchant subjects), and
    credit.requested from merchants, volunteers and proposals (applied once
    per (producer, idempotency_key)). Emits standing.changed.
    =========================================================================
*/
#include "ledger_service.h"
#include "ledger_core.h"
#include "ledger_board.h"
#include "ledger_appeal.h"
#include "ledger_school.h"
#include "ledger_cardcode.h"
#include "ledger_redemption.h"

#define M(verb, req, rep, fn, flags, roles, idem) \
    { "ledger." verb, &tashan__ledger__##req##__descriptor, \
      &tashan__ledger__##rep##__descriptor, fn, flags, roles, idem }

#define W TS_METHOD_WRITE
#define R TS_METHOD_READ
#define OPS TS_ROLE_OPS
#define SYS TS_ROLE_SYSTEM
#define BOARD_READERS (TS_ROLE_OPS | TS_ROLE_PANEL | TS_ROLE_SCHOOL | TS_ROLE_MERCHANT | SYS)

//  The tables (key and value formats: the layout at the top of ledger_core.c).
static const ts_table_def s_tables [] = {
    { "subjects", 0 }, { "pupils", 0 }, { "entries", 0 }, { "keys", 0 },
    { "reversals", 0 }, { "rules", 0 }, { "config", 0 }, { "board", 0 },
    { "hh_month", 0 }, { "bld_month", 0 }, { "households", 0 },
    { "buildings", 0 }, { "appeals", 0 }, { "entry_appeal", 0 },
    { "code_keys", 0 }, { "codes", 0 }, { "person_codes", 0 },
};

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

static const ts_method s_methods [] = {
    //  Evaluate keeps its idempotency in the ledger's own keys table (the
    //  entry is the stored reply), not in the runtime's: one record, one
    //  page, per evaluation instead of two.
    M ("Evaluate", evaluate_request, entry, ledger_core_evaluate, W,
       OPS | TS_ROLE_PANEL, NULL),
    M ("EvaluateBatch", evaluate_batch_request, batch_reply, ledger_core_evaluate_batch, W,
       OPS | TS_ROLE_PANEL, NULL),
    M ("Redeem", redeem_request, entry, ledger_core_redeem, W, OPS, "idempotency_key"),
    M ("GetEntry", get_entry_request, entry, ledger_core_get_entry, R, OPS | SYS, NULL),
    M ("ListEntries", list_entries_request, entry_page, ledger_core_list_entries, R,
       OPS | SYS, NULL),
    M ("GetPerson", get_person_request, person_credit, ledger_core_get_person, R,
       OPS | SYS, NULL),
    M ("GetConsent", get_person_request, consent, ledger_core_get_consent, R, OPS | SYS, NULL),
    M ("ListRules", list_rules_request, rule_list, ledger_core_list_rules, R,
       BOARD_READERS, NULL),
    M ("PutRule", put_rule_request, rule, ledger_core_put_rule, W, OPS, NULL),
    M ("GetSettings", get_settings_request, settings, ledger_core_get_settings, R,
       OPS | TS_ROLE_PANEL | SYS, NULL),
    M ("PutSettings", settings, settings, ledger_core_put_settings, W, OPS, NULL),
    M ("FileAppeal", file_appeal_request, appeal, ledger_appeal_file, W, OPS, NULL),
    M ("DecideAppeal", decide_appeal_request, appeal, ledger_appeal_decide, W, OPS, NULL),
    M ("GetAppeal", get_appeal_request, appeal, ledger_appeal_get, R, OPS, NULL),
    M ("ListAppeals", list_appeals_request, appeal_page, ledger_appeal_list, R, OPS, NULL),
    M ("HonorBoard", board_request, honor_board, ledger_board_honor, R, BOARD_READERS, NULL),
    M ("RankHouseholds", board_request, ranking, ledger_board_households, R,
       BOARD_READERS, NULL),
    M ("RankBuildings", board_request, ranking, ledger_board_buildings, R,
       BOARD_READERS, NULL),
    M ("SubmitMedals", medal_batch_request, batch_reply, ledger_school_medals, W,
       TS_ROLE_SCHOOL, NULL),
    M ("RevokeMedal", revoke_medal_request, entry, ledger_school_revoke, W,
       TS_ROLE_SCHOOL, NULL),
    M ("PupilCredit", pupil_credit_request, pupil_credit, ledger_school_pupil_credit, R,
       TS_ROLE_SCHOOL, NULL),
    //  The resident's card code (ledger_cardcode.c)
    M ("IssueCardCode", issue_card_code_request, card_code, h_code_issue, W, OPS, NULL),
    M ("ListCardCodes", list_card_codes_request, card_code_list, h_code_list, R, OPS | SYS,
       NULL),
    M ("RevokeCardCode", revoke_card_code_request, card_code, h_code_revoke, W, OPS, NULL),
    M ("ResidentKeys", resident_keys_request, resident_keys, h_code_keys, R, TS_ROLE_ANY, NULL),
    M ("RotateResidentKey", rotate_resident_key_request, resident_key, h_code_rotate, W, OPS,
       NULL),
};

//  open/close: the core's tables, then the card-code keys.
static unsigned
s_open (ts_ctx *ctx, void **state)
{
    unsigned rc = ledger_core_open (ctx, state);
    return rc >= 400 ? rc : ledger_cardcode_open (ctx);
}

static void
s_close (void *state)
{
    ledger_cardcode_close (state);
    ledger_core_close (state);
}

static const ts_topic_handler s_resident_topics [] = {
    { "person.created", &tashan__events__person__descriptor, ledger_core_apply_person },
    { "person.updated", &tashan__events__person__descriptor, ledger_core_apply_person },
    { "person.moved", &tashan__events__person__descriptor, ledger_core_apply_person },
    { "person.archived", &tashan__events__person__descriptor, ledger_core_apply_person },
};

TS_APPLY (s_apply_redemption, ledger_redemption_apply, Tashan__Events__RedemptionRequest)

static const ts_topic_handler s_merchant_topics [] = {
    { "merchant.registered", &tashan__events__merchant__descriptor, ledger_core_apply_merchant },
    { "merchant.updated", &tashan__events__merchant__descriptor, ledger_core_apply_merchant },
    { "credit.requested", &tashan__events__credit_request__descriptor, ledger_core_apply_credit },
    { "redemption.requested", &tashan__events__redemption_request__descriptor,
      s_apply_redemption },
};

static const ts_topic_handler s_credit_topics [] = {
    { "credit.requested", &tashan__events__credit_request__descriptor, ledger_core_apply_credit },
};

static const ts_subscription s_subscriptions [] = {
    { "residents", s_resident_topics, sizeof s_resident_topics / sizeof s_resident_topics [0] },
    { "merchants", s_merchant_topics, sizeof s_merchant_topics / sizeof s_merchant_topics [0] },
    { "volunteers", s_credit_topics, 1 },
    { "proposals", s_credit_topics, 1 },
};

const ts_service ledger_service = {
    .name = "ledger",
    .summary = "tashan ledger daemon: integrity index, shared card, honour board (SPEC §2 ledger)",
    .schema_version = 2,            //  2: subject clusters re-tagged, month in the record
    .tables = s_tables,
    .table_count = sizeof s_tables / sizeof s_tables [0],
    .methods = s_methods,
    .method_count = sizeof s_methods / sizeof s_methods [0],
    .subscriptions = s_subscriptions,
    .subscription_count = sizeof s_subscriptions / sizeof s_subscriptions [0],
    .open = s_open,
    .close = s_close,
};
