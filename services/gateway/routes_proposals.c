/*  routes_proposals - HTTP routes served by the proposals daemon (SPEC
    section 4 "Proposals"): the fund, proposals through deliberation,
    tender and acceptance, comments and moderation, the problem list,
    surveys. Roles are enforced by the daemon's method table
    (proposals_service.c). */
#include "gw_route.h"
#include "proposals.pb-c.h"

#define RQ(name) &tashan__proposals__##name##__descriptor

const gw_route gw_routes_proposals [] = {
    //  The fund
    { "POST", "/v1/fund/deposits", "proposals", "proposals.Deposit",
      RQ (deposit_request), RQ (movement), GW_BODY },
    { "GET", "/v1/fund", "proposals", "proposals.GetFund",
      RQ (get_fund_request), RQ (fund), 0 },
    { "GET", "/v1/proposal-settings", "proposals", "proposals.GetSettings",
      RQ (get_settings_request), RQ (settings), 0 },
    { "PUT", "/v1/proposal-settings", "proposals", "proposals.PutSettings",
      RQ (settings), RQ (settings), GW_BODY },
    //  Proposals
    { "POST", "/v1/proposals", "proposals", "proposals.Create",
      RQ (create_proposal_request), RQ (proposal), GW_BODY },
    { "GET", "/v1/proposals", "proposals", "proposals.List",
      RQ (list_proposals_request), RQ (list_proposals_reply), 0 },
    { "GET", "/v1/proposals/{id}", "proposals", "proposals.Get",
      RQ (get_request), RQ (proposal), 0 },
    { "POST", "/v1/proposals/{id}/supports", "proposals", "proposals.Support",
      RQ (support_request), RQ (support_reply), GW_BODY },
    { "POST", "/v1/proposals/{id}/decision", "proposals", "proposals.Decide",
      RQ (decision_request), RQ (proposal), GW_BODY },
    { "POST", "/v1/proposals/{id}/tender", "proposals", "proposals.Tender",
      RQ (tender_request), RQ (proposal), GW_BODY },
    { "POST", "/v1/proposals/{id}/bids", "proposals", "proposals.Bid",
      RQ (bid_request), RQ (bid), GW_BODY },
    { "GET", "/v1/proposals/{id}/bids", "proposals", "proposals.ListBids",
      RQ (list_bids_request), RQ (list_bids_reply), 0 },
    { "POST", "/v1/proposals/{id}/award", "proposals", "proposals.Award",
      RQ (award_request), RQ (proposal), GW_BODY },
    { "POST", "/v1/proposals/{id}/progress", "proposals", "proposals.Progress",
      RQ (progress_request), RQ (proposal), GW_BODY },
    { "POST", "/v1/proposals/{id}/acceptance", "proposals", "proposals.Accept",
      RQ (acceptance_request), RQ (proposal), GW_BODY },
    //  Comments and moderation
    { "POST", "/v1/proposals/{id}/comments", "proposals", "proposals.Comment",
      RQ (comment_request), RQ (comment), GW_BODY },
    { "GET", "/v1/proposals/{id}/comments", "proposals", "proposals.ListComments",
      RQ (list_comments_request), RQ (list_comments_reply), 0 },
    { "POST", "/v1/reports", "proposals", "proposals.Report",
      RQ (report_request), RQ (moderation_item), GW_BODY },
    { "GET", "/v1/moderation", "proposals", "proposals.ListModeration",
      RQ (list_moderation_request), RQ (list_moderation_reply), 0 },
    { "POST", "/v1/moderation/{item_id}/review", "proposals", "proposals.Review",
      RQ (review_request), RQ (moderation_item), GW_BODY },
    //  The problem list
    { "POST", "/v1/problems", "proposals", "proposals.CreateProblem",
      RQ (create_problem_request), RQ (problem), GW_BODY },
    { "GET", "/v1/problems", "proposals", "proposals.ListProblems",
      RQ (list_problems_request), RQ (list_problems_reply), 0 },
    { "GET", "/v1/problems/{id}", "proposals", "proposals.GetProblem",
      RQ (get_request), RQ (problem), 0 },
    { "POST", "/v1/problems/{id}/claims", "proposals", "proposals.Claim",
      RQ (claim_request), RQ (problem), GW_BODY },
    { "POST", "/v1/problems/{id}/progress", "proposals", "proposals.ProblemProgress",
      RQ (problem_progress_request), RQ (problem), GW_BODY },
    { "POST", "/v1/problems/{id}/release", "proposals", "proposals.Release",
      RQ (release_request), RQ (problem), GW_BODY },
    { "POST", "/v1/problems/{id}/confirmation", "proposals", "proposals.Confirm",
      RQ (confirm_request), RQ (problem), GW_BODY },
    //  Surveys
    { "POST", "/v1/surveys", "proposals", "proposals.CreateSurvey",
      RQ (create_survey_request), RQ (survey), GW_BODY },
    { "GET", "/v1/surveys", "proposals", "proposals.ListSurveys",
      RQ (list_surveys_request), RQ (list_surveys_reply), 0 },
    { "GET", "/v1/surveys/{id}", "proposals", "proposals.GetSurvey",
      RQ (get_request), RQ (survey), 0 },
    { "POST", "/v1/surveys/{id}/close", "proposals", "proposals.CloseSurvey",
      RQ (get_request), RQ (survey), GW_BODY },
    { "POST", "/v1/surveys/{id}/responses", "proposals", "proposals.Respond",
      RQ (response_request), RQ (survey_response), GW_BODY },
    { "GET", "/v1/surveys/{id}/results", "proposals", "proposals.Results",
      RQ (get_request), RQ (survey_results), 0 },
};
const size_t gw_routes_proposals_count = sizeof gw_routes_proposals / sizeof gw_routes_proposals [0];
