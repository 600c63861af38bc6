/*  =========================================================================
    proposals_service - the proposals daemon's declaration: its method
    table (thin: each method is one core function), tables, and the
    events it mirrors (persons and households from residents, units from
    merchants). The domain is in proposals_*.c; see proposals_core.h.
    =========================================================================
*/
#include "proposals_service.h"

#include "proposals_core.h"
#include "proposals_verify.h"

#define D(name) &tashan__proposals__##name##__descriptor
#define R TS_METHOD_READ
#define W TS_METHOD_WRITE
#define STAFF (TS_ROLE_OPS | TS_ROLE_SYSTEM)
#define STAFF_MERCHANT (STAFF | TS_ROLE_MERCHANT)

typedef Tashan__Proposals__Proposal Proposal;
#define P(x) Tashan__Proposals__##x

//  Fund and settings
TS_HANDLER (h_deposit, prop_fund_deposit, P (DepositRequest), P (Movement))
TS_HANDLER (h_fund, prop_fund_get, P (GetFundRequest), P (Fund))
TS_HANDLER (h_settings_get, prop_settings_get, P (GetSettingsRequest), P (Settings))
TS_HANDLER (h_settings_put, prop_settings_put, P (Settings), P (Settings))
//  Proposals
TS_HANDLER (h_create, prop_create, P (CreateProposalRequest), Proposal)
TS_HANDLER (h_get, prop_get, P (GetRequest), Proposal)
TS_HANDLER (h_list, prop_list, P (ListProposalsRequest), P (ListProposalsReply))
TS_HANDLER (h_support, prop_support, P (SupportRequest), P (SupportReply))
TS_HANDLER (h_decide, prop_decide, P (DecisionRequest), Proposal)
TS_HANDLER (h_tender, prop_tender, P (TenderRequest), Proposal)
TS_HANDLER (h_bid, prop_bid, P (BidRequest), P (Bid))
TS_HANDLER (h_bids, prop_bids_list, P (ListBidsRequest), P (ListBidsReply))
TS_HANDLER (h_award, prop_award, P (AwardRequest), Proposal)
TS_HANDLER (h_progress, prop_progress, P (ProgressRequest), Proposal)
TS_HANDLER (h_accept, prop_accept, P (AcceptanceRequest), Proposal)
//  Moderation
TS_HANDLER (h_comment, prop_comment, P (CommentRequest), P (Comment))
TS_HANDLER (h_comments, prop_comments_list, P (ListCommentsRequest), P (ListCommentsReply))
TS_HANDLER (h_report, prop_report, P (ReportRequest), P (ModerationItem))
TS_HANDLER (h_queue, prop_moderation_list, P (ListModerationRequest), P (ListModerationReply))
TS_HANDLER (h_review, prop_review, P (ReviewRequest), P (ModerationItem))
//  Problems
TS_HANDLER (h_problem_create, prop_problem_create, P (CreateProblemRequest), P (Problem))
TS_HANDLER (h_problem_get, prop_problem_get, P (GetRequest), P (Problem))
TS_HANDLER (h_problem_list, prop_problem_list, P (ListProblemsRequest), P (ListProblemsReply))
TS_HANDLER (h_claim, prop_problem_claim, P (ClaimRequest), P (Problem))
TS_HANDLER (h_problem_progress, prop_problem_progress, P (ProblemProgressRequest), P (Problem))
TS_HANDLER (h_release, prop_problem_release, P (ReleaseRequest), P (Problem))
TS_HANDLER (h_confirm, prop_problem_confirm, P (ConfirmRequest), P (Problem))
//  Surveys
TS_HANDLER (h_survey_create, prop_survey_create, P (CreateSurveyRequest), P (Survey))
TS_HANDLER (h_survey_get, prop_survey_get, P (GetRequest), P (Survey))
TS_HANDLER (h_survey_list, prop_survey_list, P (ListSurveysRequest), P (ListSurveysReply))
TS_HANDLER (h_survey_close, prop_survey_close, P (GetRequest), P (Survey))
TS_HANDLER (h_respond, prop_survey_respond, P (ResponseRequest), P (SurveyResponse))
TS_HANDLER (h_results, prop_survey_results, P (GetRequest), P (SurveyResults))
//  Mirrors
TS_APPLY (a_person, prop_mirror_person, Tashan__Events__Person)
TS_APPLY (a_merchant, prop_mirror_merchant, Tashan__Events__Merchant)

//  The layout of each table is at the top of proposals_core.h.
static const ts_table_def s_tables [] = {
    { "settings", 0 }, { "fund", 0 }, { "movements", 0 },
    { "proposals", 0 }, { "prop_state", 0 }, { "supports", 0 },
    { "bids", 0 }, { "prop_bids", 0 }, { "bidders", 0 },
    { "comments", 0 }, { "prop_comms", 0 }, { "reports", 0 },
    { "moderation", 0 }, { "mod_state", 0 },
    { "problems", 0 }, { "prob_state", 0 },
    { "surveys", 0 }, { "responses", 0 },
    { "m_persons", 0 }, { "m_households", 0 }, { "m_units", 0 },
};

static const ts_method s_methods [] = {
    { "proposals.Deposit", D (deposit_request), D (movement), h_deposit, W, STAFF,
      "idempotency_key" },
    { "proposals.GetFund", D (get_fund_request), D (fund), h_fund, R, STAFF, NULL },
    { "proposals.GetSettings", D (get_settings_request), D (settings), h_settings_get, R,
      STAFF, NULL },
    { "proposals.PutSettings", D (settings), D (settings), h_settings_put, W, STAFF, NULL },
    { "proposals.Create", D (create_proposal_request), D (proposal), h_create, W, STAFF, NULL },
    { "proposals.Get", D (get_request), D (proposal), h_get, R, STAFF, NULL },
    { "proposals.List", D (list_proposals_request), D (list_proposals_reply), h_list, R,
      STAFF, NULL },
    { "proposals.Support", D (support_request), D (support_reply), h_support, W, STAFF, NULL },
    { "proposals.Decide", D (decision_request), D (proposal), h_decide, W, STAFF, NULL },
    { "proposals.Tender", D (tender_request), D (proposal), h_tender, W, STAFF, NULL },
    { "proposals.Bid", D (bid_request), D (bid), h_bid, W, STAFF_MERCHANT, NULL },
    { "proposals.ListBids", D (list_bids_request), D (list_bids_reply), h_bids, R,
      STAFF_MERCHANT, NULL },
    { "proposals.Award", D (award_request), D (proposal), h_award, W, STAFF, NULL },
    { "proposals.Progress", D (progress_request), D (proposal), h_progress, W, STAFF, NULL },
    { "proposals.Accept", D (acceptance_request), D (proposal), h_accept, W, STAFF, NULL },
    { "proposals.Comment", D (comment_request), D (comment), h_comment, W, STAFF, NULL },
    { "proposals.ListComments", D (list_comments_request), D (list_comments_reply), h_comments,
      R, STAFF, NULL },
    { "proposals.Report", D (report_request), D (moderation_item), h_report, W, STAFF, NULL },
    { "proposals.ListModeration", D (list_moderation_request), D (list_moderation_reply),
      h_queue, R, STAFF, NULL },
    { "proposals.Review", D (review_request), D (moderation_item), h_review, W, STAFF, NULL },
    { "proposals.CreateProblem", D (create_problem_request), D (problem), h_problem_create, W,
      STAFF, NULL },
    { "proposals.GetProblem", D (get_request), D (problem), h_problem_get, R, STAFF_MERCHANT,
      NULL },
    { "proposals.ListProblems", D (list_problems_request), D (list_problems_reply),
      h_problem_list, R, STAFF_MERCHANT, NULL },
    { "proposals.Claim", D (claim_request), D (problem), h_claim, W, STAFF_MERCHANT, NULL },
    { "proposals.ProblemProgress", D (problem_progress_request), D (problem),
      h_problem_progress, W, STAFF_MERCHANT, NULL },
    { "proposals.Release", D (release_request), D (problem), h_release, W, STAFF_MERCHANT,
      NULL },
    { "proposals.Confirm", D (confirm_request), D (problem), h_confirm, W, STAFF, NULL },
    { "proposals.CreateSurvey", D (create_survey_request), D (survey), h_survey_create, W,
      STAFF, NULL },
    { "proposals.GetSurvey", D (get_request), D (survey), h_survey_get, R, STAFF, NULL },
    { "proposals.ListSurveys", D (list_surveys_request), D (list_surveys_reply),
      h_survey_list, R, STAFF, NULL },
    { "proposals.CloseSurvey", D (get_request), D (survey), h_survey_close, W, STAFF, NULL },
    { "proposals.Respond", D (response_request), D (survey_response), h_respond, W, STAFF,
      NULL },
    { "proposals.Results", D (get_request), D (survey_results), h_results, R, STAFF, NULL },
};

static const ts_topic_handler s_residents_topics [] = {
    { "person.created", &tashan__events__person__descriptor, a_person },
    { "person.updated", &tashan__events__person__descriptor, a_person },
    { "person.moved", &tashan__events__person__descriptor, a_person },
    { "person.archived", &tashan__events__person__descriptor, a_person },
};
static const ts_topic_handler s_merchants_topics [] = {
    { "merchant.registered", &tashan__events__merchant__descriptor, a_merchant },
    { "merchant.updated", &tashan__events__merchant__descriptor, a_merchant },
};
static const ts_subscription s_subscriptions [] = {
    TS_SUBSCRIPTION ("residents", s_residents_topics),
    TS_SUBSCRIPTION ("merchants", s_merchants_topics),
};

const ts_service proposals_service = {
    .name = "proposals",
    .summary = "tashan proposals daemon (SPEC §2 proposals): the fund, proposals and "
               "tenders, the problem list, moderation, surveys",
    .schema_version = 1,
    TS_TABLES (s_tables),
    TS_METHODS (s_methods),
    TS_SUBSCRIPTIONS (s_subscriptions),
    .verify = proposals_verify,
};
