/*  test_proposals_core - the proposals domain driven through ts_dispatch
    (no sockets) with a fixed clock: the state machine, sealed bids
    around the deadline, fund arithmetic when many awards race in one
    group commit, adoption credit once, problems, surveys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "events.pb-c.h"
#include "proposals.pb-c.h"
#include "proposals_core.h"
#include "proposals_service.h"
#include "ts_dispatch.h"
#include "ts_verify.h"
#include "test_fixture.h"

#define T0 1773547200000LL              //  2026-03-15 12:00 +08:00
#define HOUR_MS 3600000LL
#define AWARDS_RACING 64

typedef struct {
    char dir [TEST_DIR_MAX];
    ts_dispatch *d;
    ts_arena *arena;
    uint64_t seq [2];               //  residents, merchants
    char message [256];
} fx_t;

static int
fx_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "proposals"), 0);
    char err [256] = "";
    f->d = ts_dispatch_new (&proposals_service, f->dir, err, sizeof err);
    if (!f->d)
        fprintf (stderr, "ts_dispatch_new: %s\n", err);
    assert_non_null (f->d);
    ts_dispatch_set_now (f->d, T0);
    f->arena = ts_arena_new ();
    *state = f;
    return 0;
}

static int
fx_teardown (void **state)
{
    fx_t *f = *state;
    ts_dispatch_destroy (&f->d);
    ts_arena_destroy (&f->arena);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

static unsigned
fx_call (fx_t *f, const char *method, const char *role, const char *binding,
         const ProtobufCMessage *req, void *reply_p)
{
    return test_call (f->d, f->arena, method, role, binding, req, reply_p, f->message,
                      sizeof f->message);
}

static unsigned
fx_event (fx_t *f, int producer, const char *topic, const ProtobufCMessage *payload)
{
    static const char *const producers [] = { "residents", "merchants" };
    return test_event (f->d, f->arena, producers [producer], ++f->seq [producer], topic,
                       payload);
}

static void
fx_unit (fx_t *f, const char *id, bool co_building, bool suspended)
{
    Tashan__Events__Merchant m = TASHAN__EVENTS__MERCHANT__INIT;
    m.merchant_id = (char *) id;
    m.name = "unit";
    m.co_building = co_building;
    m.suspended = suspended;
    assert_int_equal (fx_event (f, 1, "merchant.registered", &m.base), 200);
}

static void
fx_person (fx_t *f, const char *id, const char *household, const char *building,
           const char *grid, const char *topic)
{
    Tashan__Events__Person p = TASHAN__EVENTS__PERSON__INIT;
    p.person_id = (char *) id;
    p.household_id = (char *) household;
    p.building_number = (char *) building;
    p.grid = (char *) grid;
    assert_int_equal (fx_event (f, 0, topic, &p.base), 200);
}

static Tashan__Proposals__Fund *
fx_fund (fx_t *f)
{
    Tashan__Proposals__GetFundRequest r = TASHAN__PROPOSALS__GET_FUND_REQUEST__INIT;
    Tashan__Proposals__Fund *fund = NULL;
    assert_int_equal (fx_call (f, "proposals.GetFund", "ops", "", &r.base, &fund), 200);
    //  The movements sum to the totals.
    int64_t dep = 0, com = 0, spent = 0;
    for (size_t i = 0; i < fund->n_movements; i++) {
        Tashan__Proposals__Movement *m = fund->movements [i];
        assert_true (m->amount_cents > 0);
        if (strcmp (m->kind, "deposit") == 0)
            dep += m->amount_cents;
        else if (strcmp (m->kind, "commitment") == 0)
            com += m->amount_cents;
        else if (strcmp (m->kind, "spending") == 0) {
            com -= m->amount_cents;
            spent += m->amount_cents;
        }
        else if (strcmp (m->kind, "release") == 0)
            com -= m->amount_cents;
        else
            fail_msg ("movement kind %s", m->kind);
    }
    assert_int_equal (fund->deposited_cents, dep);
    assert_int_equal (fund->committed_cents, com);
    assert_int_equal (fund->spent_cents, spent);
    assert_int_equal (fund->free_cents, dep - com - spent);
    assert_true (fund->free_cents >= 0);
    return fund;
}

static void
fx_deposit (fx_t *f, int64_t cents, const char *key)
{
    Tashan__Proposals__DepositRequest r = TASHAN__PROPOSALS__DEPOSIT_REQUEST__INIT;
    r.source = "district";
    r.amount_cents = cents;
    r.idempotency_key = (char *) key;
    assert_int_equal (fx_call (f, "proposals.Deposit", "ops", "", &r.base, NULL), 201);
}

static Tashan__Proposals__Proposal *
fx_proposal (fx_t *f, int64_t budget_cents)
{
    Tashan__Proposals__CreateProposalRequest r = TASHAN__PROPOSALS__CREATE_PROPOSAL_REQUEST__INIT;
    r.proposer_person_id = "p1";
    r.title = "Pocket park";
    r.budget_cents = budget_cents;
    Tashan__Proposals__Proposal *p = NULL;
    assert_int_equal (fx_call (f, "proposals.Create", "ops", "", &r.base, &p), 201);
    return p;
}

static unsigned
fx_decide (fx_t *f, const char *id, bool accept)
{
    Tashan__Proposals__DecisionRequest r = TASHAN__PROPOSALS__DECISION_REQUEST__INIT;
    r.id = (char *) id;
    r.accept = accept;
    r.reason = "deliberated";
    return fx_call (f, "proposals.Decide", "ops", "", &r.base, NULL);
}

static unsigned
fx_tender (fx_t *f, const char *id, int64_t deadline_ms)
{
    Tashan__Proposals__TenderRequest r = TASHAN__PROPOSALS__TENDER_REQUEST__INIT;
    r.id = (char *) id;
    r.deadline = ts_time_text (f->arena, deadline_ms);
    return fx_call (f, "proposals.Tender", "ops", "", &r.base, NULL);
}

static unsigned
fx_bid (fx_t *f, const char *id, const char *merchant, int64_t cents, const char *role,
        Tashan__Proposals__Bid **bid)
{
    Tashan__Proposals__BidRequest r = TASHAN__PROPOSALS__BID_REQUEST__INIT;
    r.id = (char *) id;
    r.bidder_merchant_id = (char *) merchant;
    r.amount_cents = cents;
    r.plan = "a plan";
    return fx_call (f, "proposals.Bid", role, strcmp (role, "merchant") == 0 ? merchant : "",
                    &r.base, bid);
}

static Tashan__Proposals__ListBidsReply *
fx_bids (fx_t *f, const char *id, const char *role, const char *binding)
{
    Tashan__Proposals__ListBidsRequest r = TASHAN__PROPOSALS__LIST_BIDS_REQUEST__INIT;
    r.id = (char *) id;
    Tashan__Proposals__ListBidsReply *rep = NULL;
    assert_int_equal (fx_call (f, "proposals.ListBids", role, binding, &r.base, &rep), 200);
    return rep;
}

static unsigned
fx_award (fx_t *f, const char *id, const char *bid_id, const char *reason)
{
    Tashan__Proposals__AwardRequest r = TASHAN__PROPOSALS__AWARD_REQUEST__INIT;
    r.id = (char *) id;
    r.bid_id = (char *) bid_id;
    r.reason = (char *) reason;
    return fx_call (f, "proposals.Award", "ops", "", &r.base, NULL);
}

static unsigned
fx_accept (fx_t *f, const char *id, bool passed, int64_t spent_cents)
{
    Tashan__Proposals__AcceptanceRequest r = TASHAN__PROPOSALS__ACCEPTANCE_REQUEST__INIT;
    r.id = (char *) id;
    r.passed = passed;
    r.spent_cents = spent_cents;
    r.note = "checked";
    return fx_call (f, "proposals.Accept", "ops", "", &r.base, NULL);
}

static Tashan__Proposals__Proposal *
fx_get (fx_t *f, const char *id)
{
    Tashan__Proposals__GetRequest r = TASHAN__PROPOSALS__GET_REQUEST__INIT;
    r.id = (char *) id;
    Tashan__Proposals__Proposal *p = NULL;
    assert_int_equal (fx_call (f, "proposals.Get", "ops", "", &r.base, &p), 200);
    return p;
}

//  --------------------------------------------------------------------
//  The state machine table itself.

static void
test_transition_table (void **state)
{
    (void) state;
    assert_true (prop_transition_ok ("submitted", "support"));
    assert_true (prop_transition_ok ("submitted", "decide"));
    assert_false (prop_transition_ok ("accepted", "decide"));
    assert_false (prop_transition_ok ("rejected", "tender"));
    assert_true (prop_transition_ok ("accepted", "tender"));
    assert_false (prop_transition_ok ("submitted", "tender"));
    assert_true (prop_transition_ok ("tendering", "award"));
    assert_false (prop_transition_ok ("awarded", "award"));
    assert_true (prop_transition_ok ("awarded", "progress"));
    assert_true (prop_transition_ok ("in_progress", "accept"));
    assert_false (prop_transition_ok ("tendering", "accept"));
    assert_false (prop_transition_ok ("completed", "accept"));
    assert_false (prop_transition_ok ("failed", "progress"));
}

//  Every step out of order is 409 and changes nothing.
static void
test_out_of_order_409 (void **state)
{
    fx_t *f = *state;
    fx_deposit (f, 1000000, "d1");
    Tashan__Proposals__Proposal *p = fx_proposal (f, 50000);
    assert_int_equal (fx_tender (f, p->id, T0 + HOUR_MS), 409);
    assert_int_equal (fx_award (f, p->id, "d1", "x"), 409);
    assert_int_equal (fx_accept (f, p->id, true, 1), 409);
    assert_int_equal (fx_decide (f, p->id, false), 200);
    assert_int_equal (fx_decide (f, p->id, true), 409);
    assert_int_equal (fx_tender (f, p->id, T0 + HOUR_MS), 409);
    Tashan__Proposals__Proposal *got = fx_get (f, p->id);
    assert_string_equal (got->state, "rejected");
    assert_int_equal (got->n_timeline, 2);
    //  The support window: closed after the configured days.
    Tashan__Proposals__Proposal *q = fx_proposal (f, 50000);
    Tashan__Proposals__SupportRequest s = TASHAN__PROPOSALS__SUPPORT_REQUEST__INIT;
    s.id = q->id;
    s.person_id = "p7";
    ts_dispatch_set_now (f->d, T0 + 91 * 24 * HOUR_MS);
    assert_int_equal (fx_call (f, "proposals.Support", "ops", "", &s.base, NULL), 409);
    ts_dispatch_set_now (f->d, T0 + 89 * 24 * HOUR_MS);
    assert_int_equal (fx_call (f, "proposals.Support", "ops", "", &s.base, NULL), 201);
    assert_int_equal (fx_call (f, "proposals.Support", "ops", "", &s.base, NULL), 409);
    //  A threshold: acceptance needs that many supports.
    Tashan__Proposals__Settings set = TASHAN__PROPOSALS__SETTINGS__INIT;
    set.support_threshold = 2;
    set.report_threshold = 3;
    assert_int_equal (fx_call (f, "proposals.PutSettings", "ops", "", &set.base, NULL), 200);
    assert_int_equal (fx_decide (f, q->id, true), 409);
    s.person_id = "p8";
    assert_int_equal (fx_call (f, "proposals.Support", "ops", "", &s.base, NULL), 201);
    assert_int_equal (fx_decide (f, q->id, true), 200);
    //  An archived person cannot support.
    fx_person (f, "p9", "h9", "9", "G9", "person.archived");
    Tashan__Proposals__Proposal *r = fx_proposal (f, 1);
    s.id = r->id;
    s.person_id = "p9";
    assert_int_equal (fx_call (f, "proposals.Support", "ops", "", &s.base, NULL), 422);
}

//  Sealed until the deadline, for ops too; a merchant sees its own bid.
static void
test_sealed_bids_injected_clock (void **state)
{
    fx_t *f = *state;
    fx_deposit (f, 1000000, "d1");
    Tashan__Proposals__Proposal *p = fx_proposal (f, 50000);
    assert_int_equal (fx_decide (f, p->id, true), 200);
    int64_t deadline = T0 + HOUR_MS;
    assert_int_equal (fx_tender (f, p->id, T0 - 1), 400);
    assert_int_equal (fx_tender (f, p->id, deadline), 200);
    Tashan__Proposals__Bid *own = NULL, *other = NULL;
    assert_int_equal (fx_bid (f, p->id, "m1", 45000, "merchant", &own), 201);
    assert_int_equal (own->amount_cents, 45000);
    assert_int_equal (fx_bid (f, p->id, "m2", 40000, "ops", &other), 201);
    assert_true (other->sealed);
    assert_int_equal (other->amount_cents, 0);
    assert_int_equal (fx_bid (f, p->id, "m2", 1, "merchant", NULL), 409);
    //  A merchant token bids only as itself.
    Tashan__Proposals__BidRequest r = TASHAN__PROPOSALS__BID_REQUEST__INIT;
    r.id = p->id;
    r.bidder_merchant_id = "m3";
    r.amount_cents = 1;
    r.plan = "x";
    assert_int_equal (fx_call (f, "proposals.Bid", "merchant", "m1", &r.base, NULL), 403);
    //  One millisecond before the deadline: still sealed everywhere.
    ts_dispatch_set_now (f->d, deadline - 1);
    Tashan__Proposals__ListBidsReply *l = fx_bids (f, p->id, "ops", "");
    assert_true (l->sealed);
    assert_int_equal (l->n_bids, 2);
    for (size_t i = 0; i < l->n_bids; i++) {
        assert_true (l->bids [i]->sealed);
        assert_int_equal (l->bids [i]->amount_cents, 0);
        assert_string_equal (l->bids [i]->plan, "");
        assert_int_equal (l->bids [i]->rank, 0);
    }
    l = fx_bids (f, p->id, "merchant", "m1");
    assert_int_equal (l->n_bids, 1);
    assert_string_equal (l->bids [0]->bidder_merchant_id, "m1");
    assert_int_equal (l->bids [0]->amount_cents, 45000);
    assert_int_equal (fx_award (f, p->id, "", ""), 409);
    //  At the deadline: no more bids; bids open, ranked; award allowed.
    ts_dispatch_set_now (f->d, deadline);
    assert_int_equal (fx_bid (f, p->id, "m4", 1, "ops", NULL), 409);
    l = fx_bids (f, p->id, "ops", "");
    assert_false (l->sealed);
    assert_string_equal (l->bids [0]->bidder_merchant_id, "m2");
    assert_int_equal (l->bids [0]->amount_cents, 40000);
    assert_int_equal (l->bids [0]->rank, 1);
    assert_int_equal (l->bids [1]->amount_cents, 45000);
    //  Not the lowest compliant: a reason is needed.
    assert_int_equal (fx_award (f, p->id, own->id, ""), 400);
    assert_int_equal (fx_award (f, p->id, "", ""), 200);
    Tashan__Proposals__Proposal *got = fx_get (f, p->id);
    assert_string_equal (got->state, "awarded");
    assert_string_equal (got->awarded_bid_id, other->id);
    assert_int_equal (fx_fund (f)->committed_cents, 40000);
}

//  AWARDS_RACING awards in one group commit, the fund holding enough for
//  only some: they are applied one after another; exactly those that fit
//  commit, the rest get 409 and commit nothing.
static void
test_fund_racing_awards_one_batch (void **state)
{
    fx_t *f = *state;
    const int64_t amount = 10000;
    const int fit = 23;
    fx_deposit (f, amount * fit + amount / 2, "d1");
    char ids [AWARDS_RACING][TS_ID_TEXT_MAX];
    for (int i = 0; i < AWARDS_RACING; i++) {
        Tashan__Proposals__Proposal *p = fx_proposal (f, amount);
        snprintf (ids [i], sizeof ids [i], "%s", p->id);
        assert_int_equal (fx_decide (f, p->id, true), 200);
        assert_int_equal (fx_tender (f, p->id, T0 + HOUR_MS), 200);
        char merchant [16];
        snprintf (merchant, sizeof merchant, "m%d", i + 1);
        assert_int_equal (fx_bid (f, p->id, merchant, amount, "ops", NULL), 201);
    }
    ts_dispatch_set_now (f->d, T0 + HOUR_MS);
    ts_job jobs [AWARDS_RACING];
    Tashan__Caller caller = ts_caller ("ops", "", "test");
    memset (jobs, 0, sizeof jobs);
    for (int i = 0; i < AWARDS_RACING; i++) {
        Tashan__Proposals__AwardRequest r = TASHAN__PROPOSALS__AWARD_REQUEST__INIT;
        r.id = ids [i];
        r.bid_id = "";
        r.reason = "";
        jobs [i].method = "proposals.Award";
        jobs [i].caller = &caller;
        jobs [i].body_size = protobuf_c_message_get_packed_size (&r.base);
        uint8_t *body = ts_arena_alloc (f->arena, jobs [i].body_size + 1);
        protobuf_c_message_pack (&r.base, body);
        jobs [i].body = body;
    }
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, AWARDS_RACING, f->arena), 1);
    int ok = 0, refused = 0;
    for (int i = 0; i < AWARDS_RACING; i++) {
        if (jobs [i].code == 200)
            ok++;
        else {
            assert_int_equal (jobs [i].code, 409);
            refused++;
        }
    }
    assert_int_equal (ok, fit);
    assert_int_equal (refused, AWARDS_RACING - fit);
    Tashan__Proposals__Fund *fund = fx_fund (f);
    assert_int_equal (fund->committed_cents, amount * fit);
    assert_int_equal (fund->free_cents, amount / 2);
    assert_int_equal (fund->n_movements, 1 + fit);
    //  Settle them: spent, released, failed; the sums still hold.
    int settled = 0;
    for (int i = 0; i < AWARDS_RACING; i++) {
        Tashan__Proposals__Proposal *p = fx_get (f, ids [i]);
        if (strcmp (p->state, "awarded") != 0) {
            assert_string_equal (p->state, "tendering");
            continue;
        }
        assert_int_equal (fx_accept (f, p->id, true, amount + 1), 409);
        assert_int_equal (fx_accept (f, p->id, settled % 2 == 0, amount - 100 * settled), 200);
        assert_int_equal (fx_accept (f, p->id, true, 0), 409);
        settled++;
    }
    fund = fx_fund (f);
    assert_int_equal (fund->committed_cents, 0);
    assert_true (fund->spent_cents > 0);
    assert_int_equal (fund->deposited_cents, fund->spent_cents + fund->free_cents);
}

//  The decision emits one credit.requested for the proposer, keyed by
//  the proposal; a rejection emits none.
static void
test_adoption_credit_once (void **state)
{
    fx_t *f = *state;
    Tashan__Proposals__Proposal *p = fx_proposal (f, 100);
    Tashan__Proposals__Proposal *q = fx_proposal (f, 100);
    assert_int_equal (fx_decide (f, p->id, true), 200);
    assert_int_equal (fx_decide (f, p->id, true), 409);
    assert_int_equal (fx_decide (f, q->id, false), 200);
    Tashan__Event **events = NULL;
    size_t n = ts_dispatch_events (f->d, 0, 100, f->arena, &events);
    int credits = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp (events [i]->topic, "credit.requested") != 0)
            continue;
        Tashan__Events__CreditRequest *c = tashan__events__credit_request__unpack (
            ts_arena_pb (f->arena), events [i]->payload.len, events [i]->payload.data);
        assert_non_null (c);
        assert_string_equal (c->rule, "proposal.adopted");
        assert_string_equal (c->subject_id, "p1");
        char key [64];
        snprintf (key, sizeof key, "proposal.adopted:%s", p->id);
        assert_string_equal (c->idempotency_key, key);
        credits++;
    }
    assert_int_equal (credits, 1);
}

//  Problems: co-building units only, one claimer, the claimer reports.
static void
test_problem_claims (void **state)
{
    fx_t *f = *state;
    fx_unit (f, "m1", true, false);
    fx_unit (f, "m2", false, false);
    fx_unit (f, "m3", true, true);
    fx_unit (f, "m4", true, false);
    Tashan__Proposals__CreateProblemRequest c = TASHAN__PROPOSALS__CREATE_PROBLEM_REQUEST__INIT;
    c.title = "Parking";
    c.place = "Building 12";
    c.source = "visit";
    Tashan__Proposals__Problem *pr = NULL;
    assert_int_equal (fx_call (f, "proposals.CreateProblem", "ops", "", &c.base, &pr), 201);
    Tashan__Proposals__ClaimRequest cl = TASHAN__PROPOSALS__CLAIM_REQUEST__INIT;
    cl.id = pr->id;
    cl.unit_merchant_id = "m2";
    assert_int_equal (fx_call (f, "proposals.Claim", "ops", "", &cl.base, NULL), 422);
    cl.unit_merchant_id = "m3";
    assert_int_equal (fx_call (f, "proposals.Claim", "ops", "", &cl.base, NULL), 422);
    cl.unit_merchant_id = "m9";
    assert_int_equal (fx_call (f, "proposals.Claim", "ops", "", &cl.base, NULL), 422);
    cl.unit_merchant_id = "m1";
    assert_int_equal (fx_call (f, "proposals.Claim", "merchant", "m4", &cl.base, NULL), 403);
    assert_int_equal (fx_call (f, "proposals.Claim", "merchant", "m1", &cl.base, NULL), 201);
    cl.unit_merchant_id = "m4";
    assert_int_equal (fx_call (f, "proposals.Claim", "merchant", "m4", &cl.base, NULL), 409);
    Tashan__Proposals__ProblemProgressRequest g =
        TASHAN__PROPOSALS__PROBLEM_PROGRESS_REQUEST__INIT;
    g.id = pr->id;
    g.note = "done";
    g.done = true;
    assert_int_equal (fx_call (f, "proposals.ProblemProgress", "merchant", "m4", &g.base, NULL), 403);
    assert_int_equal (fx_call (f, "proposals.ProblemProgress", "merchant", "m1", &g.base, &pr), 201);
    assert_string_equal (pr->state, "done");
    Tashan__Proposals__ConfirmRequest k = TASHAN__PROPOSALS__CONFIRM_REQUEST__INIT;
    k.id = pr->id;
    k.satisfied = true;
    assert_int_equal (fx_call (f, "proposals.Confirm", "ops", "", &k.base, &pr), 200);
    assert_string_equal (pr->state, "closed");
    assert_int_equal (fx_call (f, "proposals.Confirm", "ops", "", &k.base, NULL), 409);
}

//  Surveys: sealed while open, counts / means / satisfaction after, per
//  building and grid from the mirrored households.
static void
test_survey_results (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "h1", "12", "G1", "person.created");
    fx_person (f, "p2", "h2", "12", "G1", "person.created");
    fx_person (f, "p3", "h3", "14", "G2", "person.created");
    Tashan__Proposals__Question q1 = TASHAN__PROPOSALS__QUESTION__INIT;
    q1.text = "satisfied?";
    q1.kind = "scale";
    Tashan__Proposals__Question *qs [] = { &q1 };
    Tashan__Proposals__CreateSurveyRequest c = TASHAN__PROPOSALS__CREATE_SURVEY_REQUEST__INIT;
    c.title = "visit";
    c.closes_at = ts_time_text (f->arena, T0 + HOUR_MS);
    c.questions = qs;
    c.n_questions = 1;
    Tashan__Proposals__Survey *s = NULL;
    assert_int_equal (fx_call (f, "proposals.CreateSurvey", "ops", "", &c.base, &s), 201);
    const char *households [] = { "h1", "h2", "h3", "h4" };
    uint32_t scales [] = { 5, 3, 4, 1 };
    for (int i = 0; i < 4; i++) {
        Tashan__Proposals__Answer a = TASHAN__PROPOSALS__ANSWER__INIT;
        a.scale = scales [i];
        Tashan__Proposals__Answer *as [] = { &a };
        Tashan__Proposals__ResponseRequest r = TASHAN__PROPOSALS__RESPONSE_REQUEST__INIT;
        r.id = s->id;
        r.household_id = (char *) households [i];
        r.answers = as;
        r.n_answers = 1;
        assert_int_equal (fx_call (f, "proposals.Respond", "ops", "", &r.base, NULL), 201);
        assert_int_equal (fx_call (f, "proposals.Respond", "ops", "", &r.base, NULL), 409);
    }
    Tashan__Proposals__GetRequest g = TASHAN__PROPOSALS__GET_REQUEST__INIT;
    g.id = s->id;
    assert_int_equal (fx_call (f, "proposals.Results", "ops", "", &g.base, NULL), 409);
    ts_dispatch_set_now (f->d, T0 + HOUR_MS);
    Tashan__Proposals__SurveyResults *res = NULL;
    assert_int_equal (fx_call (f, "proposals.Results", "ops", "", &g.base, &res), 200);
    assert_int_equal (res->responses, 4);
    assert_true (res->questions [0]->mean > 3.24 && res->questions [0]->mean < 3.26);
    assert_true (res->satisfaction_percent > 49.99 && res->satisfaction_percent < 50.01);
    assert_int_equal (res->n_grids, 3);                 //  G1, G2, unknown
    assert_string_equal (res->grids [0]->key, "G1");
    assert_int_equal (res->grids [0]->responses, 2);
    assert_true (res->grids [0]->satisfaction_percent > 49.99
                 && res->grids [0]->satisfaction_percent < 50.01);
    assert_string_equal (res->buildings [1]->key, "14");
    assert_true (res->buildings [1]->satisfaction_percent > 99.99);
}

//  Reports hide an item at the configured threshold; the review is
//  audited and nothing is deleted.
static void
test_moderation_threshold (void **state)
{
    fx_t *f = *state;
    Tashan__Proposals__Settings set = TASHAN__PROPOSALS__SETTINGS__INIT;
    set.report_threshold = 2;
    set.support_window_days = 90;
    assert_int_equal (fx_call (f, "proposals.PutSettings", "ops", "", &set.base, NULL), 200);
    Tashan__Proposals__Proposal *p = fx_proposal (f, 100);
    Tashan__Proposals__ReportRequest r = TASHAN__PROPOSALS__REPORT_REQUEST__INIT;
    r.item_id = p->id;
    r.reason = "spam";
    Tashan__Proposals__ModerationItem *it = NULL;
    r.person_id = "p2";
    assert_int_equal (fx_call (f, "proposals.Report", "ops", "", &r.base, &it), 201);
    assert_false (it->hidden);
    assert_int_equal (fx_call (f, "proposals.Report", "ops", "", &r.base, NULL), 409);
    r.person_id = "p3";
    assert_int_equal (fx_call (f, "proposals.Report", "ops", "", &r.base, &it), 201);
    assert_true (it->hidden);
    assert_string_equal (it->state, "pending");
    Tashan__Proposals__Proposal *got = fx_get (f, p->id);
    assert_true (got->hidden);
    assert_string_equal (got->title, "");
    assert_string_equal (got->state, "submitted");
    Tashan__Proposals__ReviewRequest v = TASHAN__PROPOSALS__REVIEW_REQUEST__INIT;
    v.item_id = p->id;
    v.restore = false;
    v.note = "advertising";
    assert_int_equal (fx_call (f, "proposals.Review", "ops", "", &v.base, &it), 200);
    assert_string_equal (it->state, "removed");
    assert_int_equal (it->n_reviews, 2);
    assert_string_equal (it->reviews [1]->note, "advertising");
    assert_int_equal (fx_call (f, "proposals.Review", "ops", "", &v.base, NULL), 409);
    got = fx_get (f, p->id);
    assert_true (got->hidden);
    assert_string_equal (got->timeline [got->n_timeline - 1]->state, "removed");
}

//  sys.Verify: the fund's totals against its movements; a total that
//  drifts from them is found.
static void
test_fund_verify (void **state)
{
    fx_t *f = *state;
    fx_deposit (f, 1000000, "d1");
    fx_deposit (f, 2500, "d2");
    Tashan__VerifyReply r = TASHAN__VERIFY_REPLY__INIT;
    assert_int_equal (ts_verify_run (f->d, f->arena, &r), 200);
    assert_int_equal (r.n_findings, 0);
    assert_int_equal (r.checked, 2);
    ts_ctx ctx = { 0 };
    ctx.txn = ts_txn_begin (ts_dispatch_store (f->d), true);
    ctx.arena = f->arena;
    ctx.state = ts_dispatch_state (f->d);
    ctx.dispatch = f->d;
    Tashan__Proposals__FundTotals *t = prop_fund_totals (&ctx);
    t->deposited_cents += 1;
    ts_txn_put_msg (ctx.txn, prop_table (&ctx, "fund"), "totals", 7, &t->base);
    assert_int_equal (ts_txn_commit (&ctx.txn), 0);
    Tashan__VerifyReply again = TASHAN__VERIFY_REPLY__INIT;
    assert_int_equal (ts_verify_run (f->d, f->arena, &again), 200);
    assert_int_equal (again.n_findings, 1);
    assert_non_null (strstr (again.findings [0], "deposited 1002501"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_transition_table),
        cmocka_unit_test_setup_teardown (test_out_of_order_409, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_fund_verify, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_sealed_bids_injected_clock, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_fund_racing_awards_one_batch, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_adoption_credit_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_problem_claims, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_survey_results, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_moderation_threshold, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
