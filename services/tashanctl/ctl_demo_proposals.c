/*  ctl_demo_proposals - tashanctl demo, part two: a funded year of
    小提案·大治理, driven through the daemons' real methods as a client
    would (role system): deposits into the fund, a dozen proposals in every state (the seed's
    pocket park 口袋公园, wall murals 立体彩绘, children's play area,
    parking...), tenders with bids from co-building units 共建单位 of the
    merchants registry (the year part registers the seed's 27), the
    problem list with claims by them and progress, and the 大走访 home-visit survey, closed, with its
    results. Uses the persons and households of the residents demo.

    A repeat changes nothing: the first deposit is idempotent and its
    200 (not 201) says the year is already there. Tenders to be awarded
    close a few seconds after they open (their bids come at once), so the
    demo waits for the last deadline once; the survey runs for a month and
    the office closes it when the last door is knocked.
    --scale K: K copies of it all, each with four co-building units of its
    own, named with the copy's area as the compounds are, "(2区)", its
    deposits keyed apart; copy r's survey asks copy r's households, its
    proposers and supporters are persons from p(1000r+1) on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_demo.h"
#include "merchants.pb-c.h"
#include "proposals.pb-c.h"
#include "ts_time.h"

#define CALL_TIMEOUT_MS 60000            //  as the residents demo: a loaded machine is slow
#define CLOSE_AFTER_MS 4000             //  after its tender call, a demo tender closes
#define OPEN_FOR_MS (14 * TS_DAY_MS)    //  tenders left open
#define UNITS 4
#define PROPOSALS 14
#define SURVEY_HOUSEHOLDS 36
#define UNIT_WAIT_TRIES 600             //  × 100 ms for merchants' events to arrive
#define LIST_PAGES_MAX 100
//  Copy r's proposers and supporters are persons from p(1000r+1) on (every
//  copy has more than 1,000 persons, so they exist, each picked once);
//  copy r's households are h(1075r+1).. (the residents part seeds the
//  copies in order, 1,075 households each).
#define PERSONS_PER_COPY 1000
#define HOUSEHOLDS_PER_COPY 1075

#define P(x) Tashan__Proposals__##x

typedef struct {
    ctl_t *ctl;
    ts_arena *arena;
    int64_t now_ms;
    uint32_t scale;
    char (*units) [32];             //  UNITS per copy
    char (*ids) [32];               //  PROPOSALS per copy: the proposals made (or "")
    char (*survey_ids) [32];        //  one per copy
    unsigned failures;
} demo_t;

static unsigned
s_call (demo_t *d, const char *method, const ProtobufCMessage *req,
        const ProtobufCMessageDescriptor *reply_desc, void *reply, bool quiet)
{
    unsigned code = ctl_call (d->ctl, "proposals", method, req, reply_desc, d->arena,
                              (ProtobufCMessage **) reply, CALL_TIMEOUT_MS, quiet);
    if (code >= 400 && !quiet)
        d->failures++;
    return code;
}

static void
s_sleep_ms (int64_t ms)
{
    struct timespec ts = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  The co-building units 共建单位 that bid and claim: the first UNITS
//  enterprises among the registry's co-building units (builders and
//  property firms among them), else any co-building units.
static int
s_units (demo_t *d)
{
    char token [256] = "";
    int found = 0, wanted_n = UNITS * (int) d->scale;
    for (int pass = 0; pass < 2 && found < wanted_n; pass++) {
        token [0] = 0;
        for (int page = 0; page < LIST_PAGES_MAX && found < wanted_n; page++) {
            Tashan__Merchants__ListMerchantsRequest r =
                TASHAN__MERCHANTS__LIST_MERCHANTS_REQUEST__INIT;
            r.page_size = 1000;
            r.page_token = token;
            Tashan__Merchants__ListMerchantsReply *rep = NULL;
            if (ctl_call (d->ctl, "merchants", "merchants.List", &r.base,
                          &tashan__merchants__list_merchants_reply__descriptor, d->arena,
                          (ProtobufCMessage **) &rep, CALL_TIMEOUT_MS, false) != 200 || !rep)
                return -1;
            for (size_t i = 0; i < rep->n_merchants && found < wanted_n; i++) {
                Tashan__Merchants__Merchant *m = rep->merchants [i];
                bool wanted = m->co_building
                           && (pass == 1 || strcmp (m->kind, "enterprise") == 0);
                for (int u = 0; u < found && wanted; u++)
                    wanted = strcmp (d->units [u], m->id) != 0;
                if (wanted && strlen (m->id) < sizeof d->units [0])
                    snprintf (d->units [found++], sizeof d->units [0], "%s", m->id);
            }
            snprintf (token, sizeof token, "%s", rep->next_page_token);
            if (!token [0])
                break;
        }
    }
    if (found < wanted_n)
        fprintf (stderr, "tashanctl: demo: the registry has %d co-building units, the "
                 "proposals need %d\n", found, wanted_n);
    return found < wanted_n ? -1 : 0;
}

static void
s_deposit (demo_t *d, const char *source, int64_t cents, const char *key, unsigned *code)
{
    P (DepositRequest) r = TASHAN__PROPOSALS__DEPOSIT_REQUEST__INIT;
    r.source = (char *) source;
    r.amount_cents = cents;
    r.idempotency_key = (char *) key;
    *code = s_call (d, "proposals.Deposit", &r.base, &tashan__proposals__movement__descriptor,
                    NULL, false);
}

//  How far each demo proposal goes.
typedef enum {
    GO_SUBMITTED, GO_REJECTED, GO_ACCEPTED, GO_TENDERING, GO_AWARDED, GO_IN_PROGRESS,
    GO_COMPLETED, GO_FAILED,
} go_t;

typedef struct {
    const char *title;
    const char *detail;
    int64_t budget_cents;
    go_t go;
} demo_proposal;

static const demo_proposal s_proposals [PROPOSALS] = {
    { "口袋公园 Pocket park at the corner of Building 3",
      "Turn the waste lot by Building 3 into a pocket park with trees and benches",
      18000000, GO_COMPLETED },
    { "立体彩绘 Wall murals along Tashan Lane",
      "3D murals of the sea and the old town on the lane walls", 6000000, GO_IN_PROGRESS },
    { "儿童游乐区 Children's play area", "Soft ground, slides and swings by the square",
      9500000, GO_AWARDED },
    { "停车难 More parking spaces", "Re-line the north yard and add 40 spaces",
      12000000, GO_TENDERING },
    { "楼道照明 Stairwell lights", "Motion-sensor lights in the old stairwells",
      2400000, GO_FAILED },
    { "健身器材 Fitness corner", "Outdoor fitness equipment for the elderly",
      3500000, GO_ACCEPTED },
    { "自行车棚 Bike shelter", "A roofed shelter for 60 bikes", 4000000, GO_REJECTED },
    { "垃圾分类亭 Sorting kiosk", "A staffed garbage-sorting kiosk by Gate 2",
      2000000, GO_SUBMITTED },
    { "休闲座椅 Benches on the green", "Ten benches along the green walk",
      800000, GO_COMPLETED },
    { "电动车充电桩 E-bike charging", "Safe charging posts to stop indoor charging",
      5000000, GO_SUBMITTED },
    { "老年食堂 Elders' canteen", "A canteen corner in the neighbourhood space",
      7000000, GO_TENDERING },
    { "文化墙 Culture wall", "The covenant and honour board on a culture wall",
      1500000, GO_ACCEPTED },
    { "无障碍坡道 Ramps", "Ramps at the entrances of Buildings 5-8",
      3000000, GO_IN_PROGRESS },
    { "雨水花园 Rain garden", "A rain garden where the yard floods", 6500000, GO_REJECTED },
};

static void
s_person (char out [16], unsigned n)
{
    snprintf (out, 16, "p%u", n);
}

//  Create, support, decide and tender each proposal of a copy; bids from
//  its units. Raises *last_close_ms to the last deadline of a tender that
//  is to close in the demo.
static void
s_proposals_open (demo_t *d, uint32_t copy, int64_t *last_close_ms)
{
    unsigned persons = copy * PERSONS_PER_COPY;
    char (*units) [32] = d->units + (size_t) copy * UNITS;
    for (unsigned i = 0; i < PROPOSALS; i++) {
        const demo_proposal *dp = &s_proposals [i];
        char *id = d->ids [copy * PROPOSALS + i];
        char proposer [16];
        s_person (proposer, persons + 1 + i * 3);
        P (CreateProposalRequest) c = TASHAN__PROPOSALS__CREATE_PROPOSAL_REQUEST__INIT;
        c.proposer_person_id = proposer;
        c.title = (char *) ctl_demo_copy_name (d->arena, dp->title, copy);
        c.detail = (char *) dp->detail;
        c.budget_cents = dp->budget_cents;
        P (Proposal) *p = NULL;
        if (s_call (d, "proposals.Create", &c.base, &tashan__proposals__proposal__descriptor,
                    &p, false) != 201 || !p)
            continue;
        snprintf (id, 32, "%s", p->id);
        for (unsigned s = 0; s < 3 + (i * 7) % 11; s++) {
            char supporter [16];
            s_person (supporter, persons + 60 + i * 13 + s);
            P (SupportRequest) r = TASHAN__PROPOSALS__SUPPORT_REQUEST__INIT;
            r.id = id;
            r.person_id = supporter;
            s_call (d, "proposals.Support", &r.base,
                    &tashan__proposals__support_reply__descriptor, NULL, true);
        }
        if (dp->go == GO_SUBMITTED)
            continue;
        P (DecisionRequest) dr = TASHAN__PROPOSALS__DECISION_REQUEST__INIT;
        dr.id = id;
        dr.accept = dp->go != GO_REJECTED;
        dr.reason = dr.accept
            ? "管家团队议定: many residents asked for it and the budget fits the fund"
            : "管家团队议定: the district is already building this next spring";
        s_call (d, "proposals.Decide", &dr.base, &tashan__proposals__proposal__descriptor,
                NULL, false);
        if (dp->go == GO_REJECTED || dp->go == GO_ACCEPTED)
            continue;
        P (TenderRequest) t = TASHAN__PROPOSALS__TENDER_REQUEST__INIT;
        t.id = id;
        int64_t close_ms = s_now_ms () + CLOSE_AFTER_MS;
        if (dp->go != GO_TENDERING && close_ms > *last_close_ms)
            *last_close_ms = close_ms;
        t.deadline = ts_time_text (d->arena, dp->go == GO_TENDERING ? d->now_ms + OPEN_FOR_MS
                                                                    : close_ms);
        s_call (d, "proposals.Tender", &t.base, &tashan__proposals__proposal__descriptor,
                NULL, false);
        for (unsigned u = 0; u < 3; u++) {
            P (BidRequest) b = TASHAN__PROPOSALS__BID_REQUEST__INIT;
            b.id = id;
            b.bidder_merchant_id = units [(i + u) % UNITS];
            //  90%, 84%, 97% of the budget: the second unit is the lowest.
            static const int64_t percent [3] = { 90, 84, 97 };
            b.amount_cents = dp->budget_cents * percent [u] / 100;
            b.plan = u == 1 ? "Local crew, 6 weeks, two-year warranty"
                            : "Own crew, 5 weeks, one-year warranty";
            s_call (d, "proposals.Bid", &b.base, &tashan__proposals__bid__descriptor, NULL,
                    false);
        }
    }
}

//  After the deadline: award, progress, acceptance, for every copy.
static void
s_proposals_close (demo_t *d)
{
    for (size_t j = 0; j < (size_t) d->scale * PROPOSALS; j++) {
        const demo_proposal *dp = &s_proposals [j % PROPOSALS];
        char *id = d->ids [j];
        if (!id [0] || dp->go < GO_AWARDED)
            continue;
        P (AwardRequest) a = TASHAN__PROPOSALS__AWARD_REQUEST__INIT;
        a.id = id;
        a.bid_id = "";
        a.reason = "公开招投标: the lowest compliant bid";
        P (Proposal) *p = NULL;
        if (s_call (d, "proposals.Award", &a.base, &tashan__proposals__proposal__descriptor,
                    &p, false) != 200 || !p)
            continue;
        if (dp->go == GO_IN_PROGRESS || dp->go == GO_COMPLETED) {
            P (ProgressRequest) g = TASHAN__PROPOSALS__PROGRESS_REQUEST__INIT;
            g.id = id;
            g.note = "Work started; residents' representatives visit weekly";
            s_call (d, "proposals.Progress", &g.base, &tashan__proposals__proposal__descriptor,
                    NULL, false);
        }
        if (dp->go == GO_COMPLETED || dp->go == GO_FAILED) {
            P (AcceptanceRequest) r = TASHAN__PROPOSALS__ACCEPTANCE_REQUEST__INIT;
            r.id = id;
            r.passed = dp->go == GO_COMPLETED;
            r.spent_cents = r.passed ? p->awarded_cents - p->awarded_cents / 20 : 0;
            r.note = r.passed ? "验收通过: accepted by the steward team and residents"
                              : "The contractor could not source the fittings; to re-tender";
            s_call (d, "proposals.Accept", &r.base, &tashan__proposals__proposal__descriptor,
                    NULL, false);
        }
    }
}

//  A copy's problem list 问题清单 from opinion collection, claimed by its
//  units.
static void
s_problems (demo_t *d, uint32_t copy)
{
    static const struct { const char *title, *place, *source; int unit, steps; } rows [] = {
        { "North yard parking chaos", "North yard", "visit", 0, 3 },
        { "Peeling paint on the lane walls", "Tashan Lane", "hotline", 3, 2 },
        { "No shade at the children's corner", "Central square", "meeting", 1, 4 },
        { "Blocked drain after rain", "Building 7", "hotline", 1, 1 },
        { "Loose railings on the stairs", "Building 2", "visit", 2, 0 },
        { "Not enough benches for the elderly", "Green walk", "survey", -1, 0 },
        { "Dark corner by Gate 3", "Gate 3", "visit", -1, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows [0]; i++) {
        P (CreateProblemRequest) c = TASHAN__PROPOSALS__CREATE_PROBLEM_REQUEST__INIT;
        c.title = (char *) ctl_demo_copy_name (d->arena, rows [i].title, copy);
        c.place = (char *) rows [i].place;
        c.source = (char *) rows [i].source;
        P (Problem) *pr = NULL;
        if (s_call (d, "proposals.CreateProblem", &c.base, &tashan__proposals__problem__descriptor,
                    &pr, false) != 201 || !pr || rows [i].unit < 0)
            continue;
        P (ClaimRequest) cl = TASHAN__PROPOSALS__CLAIM_REQUEST__INIT;
        cl.id = pr->id;
        cl.unit_merchant_id = d->units [copy * UNITS + (unsigned) rows [i].unit];
        //  The unit is known here once merchants' event has arrived.
        unsigned code = 422;
        for (int t = 0; t < UNIT_WAIT_TRIES && code == 422; t++) {
            code = s_call (d, "proposals.Claim", &cl.base, &tashan__proposals__problem__descriptor,
                           NULL, true);
            if (code == 422)
                s_sleep_ms (100);
        }
        if (code != 201) {
            fprintf (stderr, "tashanctl: demo: claim of %s: %u\n", pr->id, code);
            d->failures++;
            continue;
        }
        static const char *const notes [] = {
            "Surveyed the site with the grid worker", "Materials ordered", "Work done",
        };
        for (int s = 0; s < rows [i].steps && s < 3; s++) {
            P (ProblemProgressRequest) g = TASHAN__PROPOSALS__PROBLEM_PROGRESS_REQUEST__INIT;
            g.id = pr->id;
            g.note = (char *) notes [s];
            g.done = s == 2;
            s_call (d, "proposals.ProblemProgress", &g.base,
                    &tashan__proposals__problem__descriptor, NULL, false);
        }
        if (rows [i].steps == 4) {
            P (ConfirmRequest) k = TASHAN__PROPOSALS__CONFIRM_REQUEST__INIT;
            k.id = pr->id;
            k.satisfied = true;
            k.note = "Residents of the square confirmed at the monthly meeting";
            s_call (d, "proposals.Confirm", &k.base, &tashan__proposals__problem__descriptor,
                    NULL, false);
        }
    }
}

//  A copy's 大走访 home-visit survey: grid workers record its households'
//  answers.
static void
s_survey (demo_t *d, uint32_t copy)
{
    char *priorities [] = { "口袋公园", "停车位", "儿童游乐区", "立体彩绘" };
    P (Question) q1 = TASHAN__PROPOSALS__QUESTION__INIT;
    q1.text = "您对今年社区工作的满意程度（1–5分）";
    q1.kind = "scale";
    P (Question) q2 = TASHAN__PROPOSALS__QUESTION__INIT;
    q2.text = "您对物业服务的满意程度（1–5分）";
    q2.kind = "scale";
    P (Question) q3 = TASHAN__PROPOSALS__QUESTION__INIT;
    q3.text = "明年您最希望先办哪件事？";
    q3.kind = "choice";
    q3.options = priorities;
    q3.n_options = 4;
    P (Question) q4 = TASHAN__PROPOSALS__QUESTION__INIT;
    q4.text = "还有什么想对管家团队说的？";
    q4.kind = "text";
    P (Question) *qs [] = { &q1, &q2, &q3, &q4 };
    P (CreateSurveyRequest) c = TASHAN__PROPOSALS__CREATE_SURVEY_REQUEST__INIT;
    c.title = (char *) ctl_demo_copy_name (d->arena, "2026年大走访入户满意度调查", copy);
    c.closes_at = ts_time_text (d->arena, d->now_ms + 30 * TS_DAY_MS);
    c.questions = qs;
    c.n_questions = 4;
    c.kind = "home_visit";
    P (Survey) *s = NULL;
    if (s_call (d, "proposals.CreateSurvey", &c.base, &tashan__proposals__survey__descriptor,
                &s, false) != 201 || !s)
        return;
    char *survey_id = d->survey_ids [copy];
    snprintf (survey_id, 32, "%s", s->id);
    static const char *const remarks [] = {
        "", "3号门口的路灯再多装几盏", "", "谢谢社区建了口袋公园", "",
        "小巷里的立体彩绘很漂亮",
    };
    for (unsigned h = 1; h <= SURVEY_HOUSEHOLDS; h++) {
        char household [16];
        //  Spread over the community: buildings and grids of every compound.
        snprintf (household, sizeof household, "h%u",
                  copy * HOUSEHOLDS_PER_COPY + 1 + (h - 1) * 29);
        P (Answer) a1 = TASHAN__PROPOSALS__ANSWER__INIT;
        P (Answer) a2 = TASHAN__PROPOSALS__ANSWER__INIT;
        P (Answer) a3 = TASHAN__PROPOSALS__ANSWER__INIT;
        P (Answer) a4 = TASHAN__PROPOSALS__ANSWER__INIT;
        //  The seed's 大走访: every household satisfied (4 or 5).
        a1.scale = 4 + (h * 7) % 2;
        a2.scale = 4 + (h * 5) % 2;
        a3.choice = priorities [(h * 3) % 4];
        a4.text = (char *) remarks [h % 6];
        P (Answer) *as [] = { &a1, &a2, &a3, &a4 };
        P (ResponseRequest) r = TASHAN__PROPOSALS__RESPONSE_REQUEST__INIT;
        r.id = survey_id;
        r.household_id = household;
        r.answers = as;
        r.n_answers = 4;
        static const char *const workers [] = { "网格员王丽", "网格员赵敏", "网格员孙杰" };
        r.recorded_by = (char *) workers [h % 3];
        s_call (d, "proposals.Respond", &r.base,
                &tashan__proposals__survey_response__descriptor, NULL, false);
    }
    P (GetRequest) g = TASHAN__PROPOSALS__GET_REQUEST__INIT;
    g.id = survey_id;
    s_call (d, "proposals.CloseSurvey", &g.base, &tashan__proposals__survey__descriptor, NULL,
            false);
}

//  The copies' surveys' mean satisfaction (percent), -1 when one has none.
static double
s_survey_results (demo_t *d)
{
    double sum = 0;
    for (uint32_t copy = 0; copy < d->scale; copy++) {
        P (GetRequest) g = TASHAN__PROPOSALS__GET_REQUEST__INIT;
        g.id = d->survey_ids [copy];
        P (SurveyResults) *res = NULL;
        if (!g.id [0]
        ||  s_call (d, "proposals.Results", &g.base,
                    &tashan__proposals__survey_results__descriptor, &res, false) != 200 || !res)
            return -1;
        sum += res->satisfaction_percent;
    }
    return sum / d->scale;
}

//  Copy `copy` of the fund's three deposits; the first copy's first
//  deposit's code in *code (200: the year is already there).
static void
s_deposits (demo_t *d, uint32_t copy, unsigned *code)
{
    static const struct { const char *source, *key; int64_t cents; } rows [] = {
        { "环翠区 小提案·大治理 fund, 2026 grant", "demo:fund:2026:district", 50000000 },
        { "Tashan co-building units' contribution", "demo:fund:2026:units", 15000000 },
        { "Residents' charity sale", "demo:fund:2026:sale", 1200000 },
    };
    for (size_t i = 0; i < 3; i++) {
        unsigned c = 0;
        const char *key = copy ? ts_arena_printf (d->arena, "%s:%u", rows [i].key, copy + 1)
                               : rows [i].key;
        s_deposit (d, ctl_demo_copy_name (d->arena, rows [i].source, copy), rows [i].cents,
                   key, &c);
        if (copy == 0 && i == 0)
            *code = c;
        if (c != 201)
            return;                 //  200: made before, the year is there; else failed
    }
}

//  The year of every copy once the fund's first deposit was new.
static void
s_year (demo_t *d)
{
    unsigned code = 0;
    for (uint32_t copy = 1; copy < d->scale; copy++)
        s_deposits (d, copy, &code);
    int64_t close_ms = 0;
    for (uint32_t copy = 0; copy < d->scale; copy++)
        s_proposals_open (d, copy, &close_ms);
    for (uint32_t copy = 0; copy < d->scale; copy++) {
        s_survey (d, copy);
        s_problems (d, copy);
    }
    int64_t wait_ms = close_ms - s_now_ms () + 100;
    if (wait_ms > 0)
        s_sleep_ms (wait_ms);
    s_proposals_close (d);
}

int
ctl_demo_proposals (ctl_t *ctl, const ctl_demo_opts *opts)
{
    uint32_t k = opts->scale;
    demo_t d = {
        .ctl = ctl, .arena = ts_arena_new (), .now_ms = s_now_ms (), .scale = k,
        .units = calloc ((size_t) k * UNITS, sizeof *d.units),
        .ids = calloc ((size_t) k * PROPOSALS, sizeof *d.ids),
        .survey_ids = calloc (k, sizeof *d.survey_ids)
    };
    unsigned code = 0;
    int rc = 0;
    ctl_progress_add (opts->progress, "proposals", 0);
    s_deposits (&d, 0, &code);
    if (code == 200)
        printf ("demo proposals year already present: nothing changed\n");
    else
    if (code != 201 || s_units (&d) != 0)
        rc = 1;
    else {
        s_year (&d);
        double satisfaction = s_survey_results (&d);
        ctl_progress_add (opts->progress, "proposals", (uint64_t) k * CTL_DEMO_UNITS_REST / 8);
        printf ("demo proposals year: %u deposits, %u co-building units bidding, %u proposals, "
                "%u problems, %u survey%s closed, the first %s (satisfaction %.1f%%)%s\n",
                3 * k, UNITS * k, PROPOSALS * k, 7 * k, k, k > 1 ? "s" : "", d.survey_ids [0],
                satisfaction, d.failures ? " with errors" : "");
        rc = d.failures ? 1 : 0;
    }
    free (d.units);
    free (d.ids);
    free (d.survey_ids);
    ts_arena_destroy (&d.arena);
    return rc;
}
