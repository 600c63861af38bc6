/*  routes_ledger - HTTP routes served by the ledger daemon (SPEC §4 credit and
    school calls, and the rest of the ledger API). Roles are enforced by the
    ledger's method table; path and query parameters fill the request
    fields of the same name. */
#include "gw_route.h"
#include "ledger.pb-c.h"

#define ROUTE(method, pattern, rpc, req, rep, flags) \
    { method, pattern, "ledger", "ledger." rpc, &tashan__ledger__##req##__descriptor, \
      &tashan__ledger__##rep##__descriptor, flags }

const gw_route gw_routes_ledger [] = {
    //  Entries: evaluations, redemptions, statements.
    ROUTE ("POST", "/v1/credit/evaluations", "Evaluate", evaluate_request, entry, GW_BODY),
    ROUTE ("POST", "/v1/credit/evaluations/batch", "EvaluateBatch", evaluate_batch_request,
           batch_reply, GW_BODY),
    ROUTE ("POST", "/v1/credit/redemptions", "Redeem", redeem_request, entry, GW_BODY),
    ROUTE ("GET", "/v1/credit/entries/{id}", "GetEntry", get_entry_request, entry, 0),
    //  Persons.
    ROUTE ("GET", "/v1/credit/persons/{id}", "GetPerson", get_person_request, person_credit, 0),
    ROUTE ("GET", "/v1/credit/persons/{id}/entries", "ListEntries", list_entries_request,
           entry_page, 0),
    ROUTE ("GET", "/v1/credit/persons/{id}/consent", "GetConsent", get_person_request,
           consent, 0),
    ROUTE ("GET", "/v1/credit/persons/{id}/appeals", "ListAppeals", list_appeals_request,
           appeal_page, 0),
    //  Rules and settings.
    ROUTE ("GET", "/v1/credit/rules", "ListRules", list_rules_request, rule_list, 0),
    ROUTE ("PUT", "/v1/credit/rules/{code}", "PutRule", put_rule_request, rule, GW_BODY),
    ROUTE ("GET", "/v1/credit/settings", "GetSettings", get_settings_request, settings, 0),
    ROUTE ("PUT", "/v1/credit/settings", "PutSettings", settings, settings, GW_BODY),
    //  Appeals.
    ROUTE ("POST", "/v1/credit/appeals", "FileAppeal", file_appeal_request, appeal, GW_BODY),
    ROUTE ("GET", "/v1/credit/appeals", "ListAppeals", list_appeals_request, appeal_page, 0),
    ROUTE ("GET", "/v1/credit/appeals/{id}", "GetAppeal", get_appeal_request, appeal, 0),
    ROUTE ("POST", "/v1/credit/appeals/{id}/decision", "DecideAppeal", decide_appeal_request,
           appeal, GW_BODY),
    //  Boards.
    ROUTE ("GET", "/v1/credit/honor-board", "HonorBoard", board_request, honor_board, 0),
    ROUTE ("GET", "/v1/credit/rankings/households", "RankHouseholds", board_request,
           ranking, 0),
    ROUTE ("GET", "/v1/credit/rankings/buildings", "RankBuildings", board_request, ranking, 0),
    //  School.
    ROUTE ("POST", "/v1/school/medals", "SubmitMedals", medal_batch_request, batch_reply,
           GW_BODY),
    ROUTE ("DELETE", "/v1/school/medals/{event_id}", "RevokeMedal", revoke_medal_request,
           entry, 0),
    ROUTE ("GET", "/v1/school/pupils/{pupil_no}/credit", "PupilCredit", pupil_credit_request,
           pupil_credit, 0),
    //  The resident's card code (SPEC section 4): issued by ops, verified
    //  offline by merchant apps with the published keys.
    ROUTE ("POST", "/v1/persons/{id}/card-code", "IssueCardCode", issue_card_code_request,
           card_code, GW_BODY),
    ROUTE ("GET", "/v1/persons/{id}/card-codes", "ListCardCodes", list_card_codes_request,
           card_code_list, 0),
    ROUTE ("POST", "/v1/card-codes/{id}/revoke", "RevokeCardCode", revoke_card_code_request,
           card_code, GW_BODY),
    ROUTE ("GET", "/v1/keys/resident-codes", "ResidentKeys", resident_keys_request,
           resident_keys, GW_PUBLIC),
    ROUTE ("POST", "/v1/keys/resident-codes/rotate", "RotateResidentKey",
           rotate_resident_key_request, resident_key, GW_BODY),
    //  Months: ops closes a past month; its boards are then published.
    ROUTE ("POST", "/v1/credit/months/{month}/close", "CloseMonth", close_month_request,
           month_close, GW_BODY),
    ROUTE ("GET", "/v1/credit/months", "ListMonths", list_months_request, month_list, 0),
};
const size_t gw_routes_ledger_count = sizeof gw_routes_ledger / sizeof gw_routes_ledger [0];

//  Who sees which board, how the rankings rank (ledger_board.c,
//  ledger_rankings.h), what a school learns of pupils (ledger_school.c).
#define RANKING_DOC(what) \
    "Every " what " of the community is ranked, those with no entries at 0 (roles: ops, " \
    "panel, school, merchant; no person is named). Order: average_points (the month's " \
    "net points per listed member, i.e. consenting current resident; 0 with none) " \
    "descending, then month_points descending, then id in natural order (2 before 10). " \
    "honoured marks the month's list: among the first N (red list size, default 10) and " \
    "net positive; a net-zero or net-negative one is never honoured. A closed month " \
    "answers its rankings as published when it closed (published_at)."
#define PUPIL_DOC \
    "A school learns nothing about other schools' pupils: a pupil_no that is not one of " \
    "the caller's school's pupils gets the same answer, byte for byte, whether it is " \
    "unknown or another school's pupil"

const gw_route_doc gw_route_docs_ledger [] = {
    { "GET", "/v1/credit/honor-board",
      "Roles: ops and panel (schools and merchants: 403). ops sees every listed person by "
      "full name, minors included. The panel sees names masked (王*明) and no minor at all: "
      "a person under 18 in the board's year by birth year, or a pupil with no birth year, "
      "is left out of both lists. red: the top N (red list size, default 10) by net "
      "month_points, positive only; grey: every net-negative month, most negative first, "
      "paged. A person who withdrew credit consent is on no board." },
    { "GET", "/v1/credit/rankings/households",
      "最美家庭. " RANKING_DOC ("household (with a current resident)") },
    { "GET", "/v1/credit/rankings/buildings",
      "和谐楼宇. " RANKING_DOC ("building (not archived)") },
    { "POST", "/v1/school/medals",
      PUPIL_DOC ": such an event is rejected with the same reason. medal is a name: no "
      "control, bidi or noncharacter, a visible character, no space at either end, at most "
      "64 characters." },
    { "DELETE", "/v1/school/medals/{event_id}",
      "Event ids are per school: another school's event id answers as an unknown one (404)." },
    { "GET", "/v1/school/pupils/{pupil_no}/credit", PUPIL_DOC " (404)." },
};
const size_t gw_route_docs_ledger_count = sizeof gw_route_docs_ledger /
                                          sizeof gw_route_docs_ledger [0];
