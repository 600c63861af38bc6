/*  =========================================================================
    proposals_lifecycle - a resident's proposal from submission to
    acceptance: supports (one per person, within the window), the steward
    team's decision with its reason (adoption credits the proposer once),
    progress notes, acceptance or failure. The tender steps are in
    proposals_tender.c. Every change of state is a timeline entry.

        submitted --decide--> accepted --tender--> tendering --award--> awarded
             \--decide--> rejected                                 |
        awarded/in_progress --progress--> in_progress              |
        awarded/in_progress --accept--> completed | failed  <------/

    Anything else is 409 and changes nothing.
    =========================================================================
*/
#include "proposals_core.h"

#include <assert.h>
#include <string.h>

static const char *const s_states [] = {
    "submitted", "accepted", "rejected", "tendering", "awarded", "in_progress",
    "completed", "failed", NULL,
};

//  The state machine: which step each state allows.
static const struct {
    const char *step;
    const char *from [3];
} s_steps [] = {
    { "support", { "submitted" } },
    { "decide", { "submitted" } },
    { "tender", { "accepted" } },
    { "bid", { "tendering" } },
    { "award", { "tendering" } },
    { "progress", { "awarded", "in_progress" } },
    { "accept", { "awarded", "in_progress" } },
};

bool
prop_transition_ok (const char *from, const char *step)
{
    assert (from && step);
    for (size_t i = 0; i < TS_COUNT (s_steps); i++) {
        if (strcmp (s_steps [i].step, step) != 0)
            continue;
        for (size_t j = 0; j < TS_COUNT (s_steps [i].from) && s_steps [i].from [j]; j++)
            if (strcmp (s_steps [i].from [j], from) == 0)
                return true;
        return false;
    }
    assert (!"unknown step");
    return false;
}

//  --------------------------------------------------------------------
//  POST /v1/proposals

unsigned
prop_create (ts_ctx *ctx, const Tashan__Proposals__CreateProposalRequest *req,
             prop_proposal *rep)
{
    unsigned rc;
    if ((rc = prop_check_person (ctx, "proposer_person_id", req->proposer_person_id))
    ||  (rc = ts_check_name (ctx, "title", req->title, PROP_TITLE_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "detail", req->detail, TS_STR_MAX_CHARS, false))
    ||  (rc = ts_check_range (ctx, "budget_cents", req->budget_cents, 0, PROP_MONEY_MAX_CENTS)))
        return rc;
    uint64_t no = ts_txn_next_id (ctx->txn, "proposal");
    rep->id = ts_id_text (ctx->arena, PROP_KIND_PROPOSAL, no);
    rep->proposer_person_id = req->proposer_person_id;
    rep->title = req->title;
    rep->detail = req->detail;
    rep->budget_cents = req->budget_cents;
    rep->state = "submitted";
    rep->created_at = ts_time_text (ctx->arena, ctx->now_ms);
    if ((rc = prop_timeline_add (ctx, &rep->timeline, &rep->n_timeline, "submitted", "")))
        return rc;
    prop_proposal_save (ctx, no, "", rep);
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  GET /v1/proposals/{id}

unsigned
prop_get (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req, prop_proposal *rep)
{
    uint64_t no;
    prop_proposal *p;
    unsigned rc = prop_proposal_find (ctx, req->id, &no, &p);
    if (rc)
        return rc;
    prop_public (p);
    *rep = *p;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  GET /v1/proposals?state=

unsigned
prop_list (ts_ctx *ctx, const Tashan__Proposals__ListProposalsRequest *req,
           Tashan__Proposals__ListProposalsReply *rep)
{
    unsigned rc;
    if (req->state [0] && (rc = ts_check_enum (ctx, "state", req->state, s_states)))
        return rc;
    void **items;
    size_t n;
    if ((rc = prop_page_by_state (ctx, "proposals", "prop_state", req->state, req->page_size,
                                  req->page_token, &items, &n, &rep->next_page_token)))
        return rc;
    rep->proposals = (prop_proposal **) items;
    rep->n_proposals = n;
    for (size_t i = 0; i < n; i++)
        prop_public (rep->proposals [i]);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  POST /v1/proposals/{id}/supports

unsigned
prop_support (ts_ctx *ctx, const Tashan__Proposals__SupportRequest *req,
              Tashan__Proposals__SupportReply *rep)
{
    uint64_t no;
    prop_proposal *p;
    unsigned rc;
    if ((rc = prop_proposal_step (ctx, req->id, "support", &no, &p))
    ||  (rc = prop_check_person (ctx, "person_id", req->person_id)))
        return rc;
    Tashan__Proposals__Settings *s = prop_settings (ctx);
    int64_t created_ms = 0;
    bool parsed = ts_time_parse (p->created_at, &created_ms);
    assert (parsed);
    if (s->support_window_days
    &&  ctx->now_ms >= created_ms + (int64_t) s->support_window_days * TS_DAY_MS)
        return ts_fail (ctx, TS_CONFLICT, "supports for %s closed %u days after submission",
                        p->id, s->support_window_days);
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_key_str (&k, req->person_id);
    if (!ts_txn_insert (ctx->txn, prop_table (ctx, "supports"), k.data, k.size, "", 0))
        return ts_fail (ctx, TS_CONFLICT, "%s already supports %s", req->person_id, p->id);
    p->supports++;
    prop_proposal_save (ctx, no, p->state, p);
    rep->supports = p->supports;
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  POST /v1/proposals/{id}/decision: the steward team accepts (with a
//  budget) or rejects, always with a reason. Adoption credits the
//  proposer `proposal.adopted` once: the decision itself happens once,
//  and the ledger keys the credit by the proposal.

unsigned
prop_decide (ts_ctx *ctx, const Tashan__Proposals__DecisionRequest *req, prop_proposal *rep)
{
    uint64_t no;
    prop_proposal *p;
    unsigned rc;
    if ((rc = prop_proposal_step (ctx, req->id, "decide", &no, &p))
    ||  (rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, true))
    ||  (rc = ts_check_range (ctx, "budget_cents", req->budget_cents, 0, PROP_MONEY_MAX_CENTS)))
        return rc;
    if (req->accept) {
        if (req->budget_cents)
            p->budget_cents = req->budget_cents;
        if (p->budget_cents <= 0)
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "budget_cents: an accepted proposal needs a budget");
        Tashan__Proposals__Settings *s = prop_settings (ctx);
        if (p->supports < s->support_threshold)
            return ts_fail (ctx, TS_CONFLICT, "%s has %u supports, %u needed", p->id,
                            p->supports, s->support_threshold);
    }
    p->decision_reason = req->reason;
    if ((rc = prop_proposal_move (ctx, no, p, req->accept ? "accepted" : "rejected",
                                  req->reason, rep)))
        return rc;
    if (req->accept) {
        Tashan__Events__CreditRequest cr = TASHAN__EVENTS__CREDIT_REQUEST__INIT;
        cr.idempotency_key = ts_arena_printf (ctx->arena, "proposal.adopted:%s", p->id);
        cr.subject_id = p->proposer_person_id;
        cr.rule = "proposal.adopted";
        cr.quantity = 1;
        cr.note = ts_arena_printf (ctx->arena, "proposal %s adopted", p->id);
        cr.month = "";
        ts_emit (ctx, "credit.requested", &cr.base);
    }
    return TS_OK;
}

//  --------------------------------------------------------------------
//  POST /v1/proposals/{id}/progress: a note while the work goes on.

unsigned
prop_progress (ts_ctx *ctx, const Tashan__Proposals__ProgressRequest *req, prop_proposal *rep)
{
    uint64_t no;
    prop_proposal *p;
    unsigned rc;
    if ((rc = prop_proposal_step (ctx, req->id, "progress", &no, &p))
    ||  (rc = ts_check_str (ctx, "note", req->note, TS_STR_MAX_CHARS, true)))
        return rc;
    if ((rc = prop_proposal_move (ctx, no, p, "in_progress", req->note, rep)))
        return rc;
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  POST /v1/proposals/{id}/acceptance: completed (spent moves from
//  committed to spent, the rest is freed) or failed (all freed).

unsigned
prop_accept (ts_ctx *ctx, const Tashan__Proposals__AcceptanceRequest *req, prop_proposal *rep)
{
    uint64_t no;
    prop_proposal *p;
    unsigned rc;
    if ((rc = prop_proposal_step (ctx, req->id, "accept", &no, &p))
    ||  (rc = ts_check_str (ctx, "note", req->note, TS_STR_MAX_CHARS, false))
    ||  (rc = ts_check_range (ctx, "spent_cents", req->spent_cents, 0, PROP_MONEY_MAX_CENTS)))
        return rc;
    int64_t spent_cents = req->passed ? req->spent_cents : 0;
    if (spent_cents > p->awarded_cents)
        return ts_fail (ctx, TS_CONFLICT, "spent_cents %lld is over the %lld cents awarded",
                        (long long) spent_cents, (long long) p->awarded_cents);
    p->spent_cents = spent_cents;
    prop_fund_settle (ctx, p->id, p->awarded_cents, spent_cents, req->note);
    if ((rc = prop_proposal_move (ctx, no, p, req->passed ? "completed" : "failed",
                                  req->note, rep)))
        return rc;
    return TS_OK;
}
