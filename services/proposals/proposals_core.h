/*  =========================================================================
    proposals_core - the proposals domain (SPEC §2 "proposals", §4
    "Proposals"): pure functions over one LMDB transaction, split by
    concept. Calls go one way:

        proposals_service.c   method table (TS_HANDLER / TS_METHODS)
          ├─ proposals_lifecycle.c   create, supports, decision, progress,
          │                          acceptance, get/list, settings
          ├─ proposals_tender.c      tender, sealed bids, award
          ├─ proposals_problems.c    problem list, claims, progress, confirm
          ├─ proposals_moderation.c  comments, reports, review queue
          └─ proposals_surveys.c     surveys, responses, sealed results
                └─ proposals_fund.c    deposits, commit / spend / release
                └─ proposals_mirror.c  persons, households, units (events)
                └─ proposals_core.c    tables, records, timeline, callers

    Data layout (LMDB tables; numbers big-endian so key order is numeric;
    "s\0" a 0-terminated string; ids are "<kind><n>": proposals x, bids d,
    problems y, surveys v, movements w, comments u):

    settings     "settings"                      -> Settings (absent: defaults)
    fund         "totals"                        -> FundTotals
    movements    u64 movement no                 -> Movement (append-only)
    proposals    u64 proposal no                 -> Proposal (timeline inline)
    prop_state   state\0, u64 proposal no        -> "" (list by state)
    supports     u64 proposal no, person_id\0    -> "" (one per person)
    bids         u64 bid no                      -> Bid (amount and plan stored;
                                                   shown only after the deadline)
    prop_bids    u64 proposal no, u64 bid no     -> ""
    bidders      u64 proposal no, merchant_id\0  -> u64 bid no (one bid each)
    comments     u64 comment no                  -> Comment
    prop_comms   u64 proposal no, u64 comment no -> ""
    reports      item_id\0, person_id\0          -> "" (one report per person)
    moderation   item_id\0                       -> ModerationItem (reports, audit)
    mod_state    state\0, item_id\0              -> "" (review queue by state)
    problems     u64 problem no                  -> Problem
    prob_state   state\0, u64 problem no         -> ""
    surveys      u64 survey no                   -> Survey
    responses    u64 survey no, household_id\0   -> SurveyResponse
    m_persons    person_id\0                     -> MirrorPerson
    m_households household_id\0                  -> MirrorHousehold
    m_units      merchant_id\0                   -> MirrorUnit

    Fund invariant, asserted after every movement:
        deposited = committed + spent + free,  free >= 0, all >= 0
    and the movements sum to the totals (tests audit it).
    =========================================================================
*/
#ifndef PROPOSALS_CORE_H
#define PROPOSALS_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "events.pb-c.h"
#include "proposals.pb-c.h"
#include "ts_service.h"
#include "ts_valid.h"

//  Limits
#define PROP_TITLE_MAX_CHARS 200
#define PROP_MONEY_MAX_CENTS 1000000000000LL    //  10^10 yuan
#define PROP_TIMELINE_MAX 200           //  entries per proposal / problem
#define PROP_BIDS_MAX 200               //  bids per tender
#define PROP_QUESTIONS_MAX 50
#define PROP_OPTIONS_MAX 20
#define PROP_RESPONSES_MAX 200000       //  responses one results call reads
#define PROP_TEXTS_MAX 1000             //  text answers listed per question
#define PROP_GROUPS_MAX 2000            //  buildings / grids in results
#define PROP_FUND_PAGE_DEFAULT 1000

//  Defaults of the settings
#define PROP_SUPPORT_THRESHOLD_DEFAULT 0
#define PROP_SUPPORT_WINDOW_DAYS_DEFAULT 90
#define PROP_REPORT_THRESHOLD_DEFAULT 3

//  Id kinds
#define PROP_KIND_PROPOSAL 'x'
#define PROP_KIND_BID 'd'
#define PROP_KIND_PROBLEM 'y'
#define PROP_KIND_SURVEY 'v'
#define PROP_KIND_MOVEMENT 'w'
#define PROP_KIND_COMMENT 'u'

typedef Tashan__Proposals__Proposal prop_proposal;

//  --------------------------------------------------------------------
//  proposals_core.c: tables, records, timeline, callers

ts_table prop_table (ts_ctx *ctx, const char *name);
//  "role:principal" of the caller, for timelines and movements.
char *prop_by (ts_ctx *ctx);
bool prop_caller_staff (const ts_ctx *ctx);
bool prop_caller_merchant (const ts_ctx *ctx);
//  A merchant caller may act only as binding; staff as anyone.
unsigned prop_check_own_merchant (ts_ctx *ctx, const char *merchant_id);
//  The current settings (defaults when none stored).
Tashan__Proposals__Settings *prop_settings (ts_ctx *ctx);

//  Load proposal no (NULL when absent; ctx untouched).
prop_proposal *prop_proposal_load (ts_ctx *ctx, uint64_t no);
//  A path id naming an existing proposal (404 otherwise).
unsigned prop_proposal_find (ts_ctx *ctx, const char *id, uint64_t *no,
                             prop_proposal **out);
//  The proposal a step names, in a state that allows the step: 404 when
//  there is none, 409 when the step is out of order. Checked before the
//  request's other fields, so a step out of order is 409 whatever it says.
unsigned prop_proposal_step (ts_ctx *ctx, const char *id, const char *step, uint64_t *no,
                             prop_proposal **out);
//  Store p (number no) whose stored state was old_state ("" when new):
//  keeps the by-state index in step.
void prop_proposal_save (ts_ctx *ctx, uint64_t no, const char *old_state,
                         prop_proposal *p);
//  Move p to state with a timeline note, store it, and fill rep as
//  readers see it (0, or the 409 of a full timeline).
unsigned prop_proposal_move (ts_ctx *ctx, uint64_t no, prop_proposal *p, const char *state,
                             const char *note, prop_proposal *rep);
//  Blank a hidden proposal's title and detail (every read path but the
//  moderation queue).
void prop_public (prop_proposal *p);
//  Append a timeline entry (409 when the timeline is full).
unsigned prop_timeline_add (ts_ctx *ctx, Tashan__Proposals__TimelineEntry ***list,
                            size_t *n, const char *state, const char *note);
//  Key of a state index entry: state\0, u64 no.
void prop_state_key (ts_key *k, const char *state, uint64_t no);
//  One page of records of main_table ("proposals", "problems" or
//  "surveys", keyed u64 no) in number order, or of those in one state
//  through index_table (state\0, u64 no) when state is not "".
unsigned prop_page_by_state (ts_ctx *ctx, const char *main_table,
                             const char *index_table, const char *state,
                             uint32_t page_size, const char *page_token,
                             void ***items, size_t *n_items, char **next_token);

//  --------------------------------------------------------------------
//  proposals_mirror.c: what other daemons announced

unsigned prop_mirror_person (ts_ctx *ctx, const Tashan__Events__Person *p,
                             const Tashan__Event *event);
unsigned prop_mirror_merchant (ts_ctx *ctx, const Tashan__Events__Merchant *m,
                               const Tashan__Event *event);
//  A person reference in a body: well formed ("p<n>"), and not archived
//  when residents announced it (a person not announced yet is taken on
//  its id: events may trail the request that created it). 422 otherwise.
unsigned prop_check_person (ts_ctx *ctx, const char *field, const char *person_id);
//  A household reference ("h<n>"); same rule.
unsigned prop_check_household (ts_ctx *ctx, const char *field, const char *household_id);
//  The unit merchants announced (NULL when unknown).
Tashan__Proposals__MirrorUnit *prop_unit (ts_ctx *ctx, const char *merchant_id);
Tashan__Proposals__MirrorHousehold *prop_household (ts_ctx *ctx, const char *household_id);

//  --------------------------------------------------------------------
//  proposals_fund.c: the fund

unsigned prop_fund_deposit (ts_ctx *ctx, const Tashan__Proposals__DepositRequest *req,
                            Tashan__Proposals__Movement *rep);
unsigned prop_fund_get (ts_ctx *ctx, const Tashan__Proposals__GetFundRequest *req,
                        Tashan__Proposals__Fund *rep);
Tashan__Proposals__FundTotals *prop_fund_totals (ts_ctx *ctx);
int64_t prop_fund_free_cents (const Tashan__Proposals__FundTotals *t);
//  Commit amount for an award: 409 (nothing written) when over free.
unsigned prop_fund_commit (ts_ctx *ctx, const char *proposal_id, const char *bid_id,
                           int64_t amount_cents, const char *note);
//  Move spent from committed to spent, release the rest of committed.
void prop_fund_settle (ts_ctx *ctx, const char *proposal_id, int64_t committed_cents,
                       int64_t spent_cents, const char *note);

//  --------------------------------------------------------------------
//  proposals_lifecycle.c

unsigned prop_create (ts_ctx *ctx, const Tashan__Proposals__CreateProposalRequest *req,
                      prop_proposal *rep);
unsigned prop_get (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req, prop_proposal *rep);
unsigned prop_list (ts_ctx *ctx, const Tashan__Proposals__ListProposalsRequest *req,
                    Tashan__Proposals__ListProposalsReply *rep);
unsigned prop_support (ts_ctx *ctx, const Tashan__Proposals__SupportRequest *req,
                       Tashan__Proposals__SupportReply *rep);
unsigned prop_decide (ts_ctx *ctx, const Tashan__Proposals__DecisionRequest *req,
                      prop_proposal *rep);
unsigned prop_progress (ts_ctx *ctx, const Tashan__Proposals__ProgressRequest *req,
                        prop_proposal *rep);
unsigned prop_accept (ts_ctx *ctx, const Tashan__Proposals__AcceptanceRequest *req,
                      prop_proposal *rep);
unsigned prop_settings_get (ts_ctx *ctx, const Tashan__Proposals__GetSettingsRequest *req,
                            Tashan__Proposals__Settings *rep);
unsigned prop_settings_put (ts_ctx *ctx, const Tashan__Proposals__Settings *req,
                            Tashan__Proposals__Settings *rep);
//  Is the transition from state `from` by `step` legal? (state machine)
bool prop_transition_ok (const char *from, const char *step);

//  --------------------------------------------------------------------
//  proposals_tender.c

unsigned prop_tender (ts_ctx *ctx, const Tashan__Proposals__TenderRequest *req,
                      prop_proposal *rep);
unsigned prop_bid (ts_ctx *ctx, const Tashan__Proposals__BidRequest *req,
                   Tashan__Proposals__Bid *rep);
unsigned prop_bids_list (ts_ctx *ctx, const Tashan__Proposals__ListBidsRequest *req,
                         Tashan__Proposals__ListBidsReply *rep);
unsigned prop_award (ts_ctx *ctx, const Tashan__Proposals__AwardRequest *req,
                     prop_proposal *rep);

//  --------------------------------------------------------------------
//  proposals_problems.c

unsigned prop_problem_create (ts_ctx *ctx, const Tashan__Proposals__CreateProblemRequest *req,
                              Tashan__Proposals__Problem *rep);
unsigned prop_problem_get (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req,
                           Tashan__Proposals__Problem *rep);
unsigned prop_problem_list (ts_ctx *ctx, const Tashan__Proposals__ListProblemsRequest *req,
                            Tashan__Proposals__ListProblemsReply *rep);
unsigned prop_problem_claim (ts_ctx *ctx, const Tashan__Proposals__ClaimRequest *req,
                             Tashan__Proposals__Problem *rep);
unsigned prop_problem_progress (ts_ctx *ctx,
                                const Tashan__Proposals__ProblemProgressRequest *req,
                                Tashan__Proposals__Problem *rep);
unsigned prop_problem_release (ts_ctx *ctx, const Tashan__Proposals__ReleaseRequest *req,
                               Tashan__Proposals__Problem *rep);
unsigned prop_problem_confirm (ts_ctx *ctx, const Tashan__Proposals__ConfirmRequest *req,
                               Tashan__Proposals__Problem *rep);

//  --------------------------------------------------------------------
//  proposals_moderation.c

unsigned prop_comment (ts_ctx *ctx, const Tashan__Proposals__CommentRequest *req,
                       Tashan__Proposals__Comment *rep);
unsigned prop_comments_list (ts_ctx *ctx, const Tashan__Proposals__ListCommentsRequest *req,
                             Tashan__Proposals__ListCommentsReply *rep);
unsigned prop_report (ts_ctx *ctx, const Tashan__Proposals__ReportRequest *req,
                      Tashan__Proposals__ModerationItem *rep);
unsigned prop_moderation_list (ts_ctx *ctx,
                               const Tashan__Proposals__ListModerationRequest *req,
                               Tashan__Proposals__ListModerationReply *rep);
unsigned prop_review (ts_ctx *ctx, const Tashan__Proposals__ReviewRequest *req,
                      Tashan__Proposals__ModerationItem *rep);

//  --------------------------------------------------------------------
//  proposals_surveys.c

unsigned prop_survey_create (ts_ctx *ctx, const Tashan__Proposals__CreateSurveyRequest *req,
                             Tashan__Proposals__Survey *rep);
unsigned prop_survey_get (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req,
                          Tashan__Proposals__Survey *rep);
unsigned prop_survey_list (ts_ctx *ctx, const Tashan__Proposals__ListSurveysRequest *req,
                           Tashan__Proposals__ListSurveysReply *rep);
unsigned prop_survey_close (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req,
                            Tashan__Proposals__Survey *rep);
unsigned prop_survey_respond (ts_ctx *ctx, const Tashan__Proposals__ResponseRequest *req,
                              Tashan__Proposals__SurveyResponse *rep);
unsigned prop_survey_results (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req,
                              Tashan__Proposals__SurveyResults *rep);

#endif
