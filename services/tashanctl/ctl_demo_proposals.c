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
    the office closes it when the last door is knocked. */
#include <stdio.h>
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

#define P(x) Tashan__Proposals__##x

typedef struct {
    ctl_t *ctl;
    ts_arena *arena;
    int64_t now_ms;
    char units [UNITS][32];
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
    int found = 0;
    for (int pass = 0; pass < 2 && found < UNITS; pass++) {
        token [0] = 0;
        for (int page = 0; page < LIST_PAGES_MAX && found < UNITS; page++) {
            Tashan__Merchants__ListMerchantsRequest r =
                TASHAN__MERCHANTS__LIST_MERCHANTS_REQUEST__INIT;
            r.page_size = 1000;
            r.page_token = token;
            Tashan__Merchants__ListMerchantsReply *rep = NULL;
            if (ctl_call (d->ctl, "merchants", "merchants.List", &r.base,
                          &tashan__merchants__list_merchants_reply__descriptor, d->arena,
                          (ProtobufCMessage **) &rep, CALL_TIMEOUT_MS, false) != 200 || !rep)
                return -1;
            for (size_t i = 0; i < rep->n_merchants && found < UNITS; i++) {
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
    if (found < UNITS)
        fprintf (stderr, "tashanctl: demo: the registry has %d co-building units, the "
                 "proposals need %d\n", found, UNITS);
    return found < UNITS ? -1 : 0;
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
    char id [32];
} demo_proposal;

static demo_proposal s_proposals [PROPOSALS] = {
    { "口袋公园 Pocket park at the corner of Building 3",
      "Turn the waste lot by Building 3 into a pocket park with trees and benches",
      18000000, GO_COMPLETED, "" },
    { "立体彩绘 Wall murals along Tashan Lane",
      "3D murals of the sea and the old town on the lane walls", 6000000, GO_IN_PROGRESS, "" },
    { "儿童游乐区 Children's play area", "Soft ground, slides and swings by the square",
      9500000, GO_AWARDED, "" },
    { "停车难 More parking spaces", "Re-line the north yard and add 40 spaces",
      12000000, GO_TENDERING, "" },
    { "楼道照明 Stairwell lights", "Motion-sensor lights in the old stairwells",
      2400000, GO_FAILED, "" },
    { "健身器材 Fitness corner", "Outdoor fitness equipment for the elderly",
      3500000, GO_ACCEPTED, "" },
    { "自行车棚 Bike shelter", "A roofed shelter for 60 bikes", 4000000, GO_REJECTED, "" },
    { "垃圾分类亭 Sorting kiosk", "A staffed garbage-sorting kiosk by Gate 2",
      2000000, GO_SUBMITTED, "" },
    { "休闲座椅 Benches on the green", "Ten benches along the green walk",
      800000, GO_COMPLETED, "" },
    { "电动车充电桩 E-bike charging", "Safe charging posts to stop indoor charging",
      5000000, GO_SUBMITTED, "" },
    { "老年食堂 Elders' canteen", "A canteen corner in the neighbourhood space",
      7000000, GO_TENDERING, "" },
    { "文化墙 Culture wall", "The covenant and honour board on a culture wall",
      1500000, GO_ACCEPTED, "" },
    { "无障碍坡道 Ramps", "Ramps at the entrances of Buildings 5-8",
      3000000, GO_IN_PROGRESS, "" },
    { "雨水花园 Rain garden", "A rain garden where the yard floods", 6500000, GO_REJECTED, "" },
};

static void
s_person (char out [16], unsigned n)
{
    snprintf (out, 16, "p%u", n);
}

//  Create, support, decide and tender each proposal; bids from the units.
//  Returns the last deadline of a tender that is to close in the demo.
static int64_t
s_proposals_open (demo_t *d)
{
    int64_t last_close_ms = 0;
    for (unsigned i = 0; i < PROPOSALS; i++) {
        demo_proposal *dp = &s_proposals [i];
        char proposer [16];
        s_person (proposer, 1 + i * 3);
        P (CreateProposalRequest) c = TASHAN__PROPOSALS__CREATE_PROPOSAL_REQUEST__INIT;
        c.proposer_person_id = proposer;
        c.title = (char *) dp->title;
        c.detail = (char *) dp->detail;
        c.budget_cents = dp->budget_cents;
        P (Proposal) *p = NULL;
        if (s_call (d, "proposals.Create", &c.base, &tashan__proposals__proposal__descriptor,
                    &p, false) != 201 || !p)
            continue;
        snprintf (dp->id, sizeof dp->id, "%s", p->id);
        for (unsigned s = 0; s < 3 + (i * 7) % 11; s++) {
            char supporter [16];
            s_person (supporter, 60 + i * 13 + s);
            P (SupportRequest) r = TASHAN__PROPOSALS__SUPPORT_REQUEST__INIT;
            r.id = dp->id;
            r.person_id = supporter;
            s_call (d, "proposals.Support", &r.base,
                    &tashan__proposals__support_reply__descriptor, NULL, true);
        }
        if (dp->go == GO_SUBMITTED)
            continue;
        P (DecisionRequest) dr = TASHAN__PROPOSALS__DECISION_REQUEST__INIT;
        dr.id = dp->id;
        dr.accept = dp->go != GO_REJECTED;
        dr.reason = dr.accept
            ? "管家团队议定: many residents asked for it and the budget fits the fund"
            : "管家团队议定: the district is already building this next spring";
        s_call (d, "proposals.Decide", &dr.base, &tashan__proposals__proposal__descriptor,
                NULL, false);
        if (dp->go == GO_REJECTED || dp->go == GO_ACCEPTED)
            continue;
        P (TenderRequest) t = TASHAN__PROPOSALS__TENDER_REQUEST__INIT;
        t.id = dp->id;
        int64_t close_ms = s_now_ms () + CLOSE_AFTER_MS;
        if (dp->go != GO_TENDERING && close_ms > last_close_ms)
            last_close_ms = close_ms;
        t.deadline = ts_time_text (d->arena, dp->go == GO_TENDERING ? d->now_ms + OPEN_FOR_MS
                                                                    : close_ms);
        s_call (d, "proposals.Tender", &t.base, &tashan__proposals__proposal__descriptor,
                NULL, false);
        for (unsigned u = 0; u < 3; u++) {
            P (BidRequest) b = TASHAN__PROPOSALS__BID_REQUEST__INIT;
            b.id = dp->id;
            b.bidder_merchant_id = d->units [(i + u) % UNITS];
            //  90%, 84%, 97% of the budget: the second unit is the lowest.
            static const int64_t percent [3] = { 90, 84, 97 };
            b.amount_cents = dp->budget_cents * percent [u] / 100;
            b.plan = u == 1 ? "Local crew, 6 weeks, two-year warranty"
                            : "Own crew, 5 weeks, one-year warranty";
            s_call (d, "proposals.Bid", &b.base, &tashan__proposals__bid__descriptor, NULL,
                    false);
        }
    }
    return last_close_ms;
}

//  After the deadline: award, progress, acceptance.
static void
s_proposals_close (demo_t *d)
{
    for (unsigned i = 0; i < PROPOSALS; i++) {
        demo_proposal *dp = &s_proposals [i];
        if (!dp->id [0] || dp->go < GO_AWARDED)
            continue;
        P (AwardRequest) a = TASHAN__PROPOSALS__AWARD_REQUEST__INIT;
        a.id = dp->id;
        a.bid_id = "";
        a.reason = "公开招投标: the lowest compliant bid";
        P (Proposal) *p = NULL;
        if (s_call (d, "proposals.Award", &a.base, &tashan__proposals__proposal__descriptor,
                    &p, false) != 200 || !p)
            continue;
        if (dp->go == GO_IN_PROGRESS || dp->go == GO_COMPLETED) {
            P (ProgressRequest) g = TASHAN__PROPOSALS__PROGRESS_REQUEST__INIT;
            g.id = dp->id;
            g.note = "Work started; residents' representatives visit weekly";
            s_call (d, "proposals.Progress", &g.base, &tashan__proposals__proposal__descriptor,
                    NULL, false);
        }
        if (dp->go == GO_COMPLETED || dp->go == GO_FAILED) {
            P (AcceptanceRequest) r = TASHAN__PROPOSALS__ACCEPTANCE_REQUEST__INIT;
            r.id = dp->id;
            r.passed = dp->go == GO_COMPLETED;
            r.spent_cents = r.passed ? p->awarded_cents - p->awarded_cents / 20 : 0;
            r.note = r.passed ? "验收通过: accepted by the steward team and residents"
                              : "The contractor could not source the fittings; to re-tender";
            s_call (d, "proposals.Accept", &r.base, &tashan__proposals__proposal__descriptor,
                    NULL, false);
        }
    }
}

//  The problem list 问题清单 from opinion collection, claimed by units.
static void
s_problems (demo_t *d)
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
        c.title = (char *) rows [i].title;
        c.place = (char *) rows [i].place;
        c.source = (char *) rows [i].source;
        P (Problem) *pr = NULL;
        if (s_call (d, "proposals.CreateProblem", &c.base, &tashan__proposals__problem__descriptor,
                    &pr, false) != 201 || !pr || rows [i].unit < 0)
            continue;
        P (ClaimRequest) cl = TASHAN__PROPOSALS__CLAIM_REQUEST__INIT;
        cl.id = pr->id;
        cl.unit_merchant_id = d->units [rows [i].unit];
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

//  The 大走访 home-visit survey: grid workers record households' answers.
static char s_survey_id [32];

static void
s_survey (demo_t *d)
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
    c.title = "2026年大走访入户满意度调查";
    c.closes_at = ts_time_text (d->arena, d->now_ms + 30 * TS_DAY_MS);
    c.questions = qs;
    c.n_questions = 4;
    c.kind = "home_visit";
    P (Survey) *s = NULL;
    if (s_call (d, "proposals.CreateSurvey", &c.base, &tashan__proposals__survey__descriptor,
                &s, false) != 201 || !s)
        return;
    snprintf (s_survey_id, sizeof s_survey_id, "%s", s->id);
    static const char *const remarks [] = {
        "", "3号门口的路灯再多装几盏", "", "谢谢社区建了口袋公园", "",
        "小巷里的立体彩绘很漂亮",
    };
    for (unsigned h = 1; h <= SURVEY_HOUSEHOLDS; h++) {
        char household [16];
        //  Spread over the community: buildings and grids of every compound.
        snprintf (household, sizeof household, "h%u", 1 + (h - 1) * 29);
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
        r.id = s_survey_id;
        r.household_id = household;
        r.answers = as;
        r.n_answers = 4;
        static const char *const workers [] = { "网格员王丽", "网格员赵敏", "网格员孙杰" };
        r.recorded_by = (char *) workers [h % 3];
        s_call (d, "proposals.Respond", &r.base,
                &tashan__proposals__survey_response__descriptor, NULL, false);
    }
    P (GetRequest) g = TASHAN__PROPOSALS__GET_REQUEST__INIT;
    g.id = s_survey_id;
    s_call (d, "proposals.CloseSurvey", &g.base, &tashan__proposals__survey__descriptor, NULL,
            false);
}

static double
s_survey_results (demo_t *d)
{
    if (!s_survey_id [0])
        return -1;
    P (GetRequest) g = TASHAN__PROPOSALS__GET_REQUEST__INIT;
    g.id = s_survey_id;
    P (SurveyResults) *res = NULL;
    if (s_call (d, "proposals.Results", &g.base, &tashan__proposals__survey_results__descriptor,
                &res, false) != 200 || !res)
        return -1;
    return res->satisfaction_percent;
}

int
ctl_demo_proposals (ctl_t *ctl, const ctl_demo_opts *opts)
{
    demo_t d = { .ctl = ctl, .arena = ts_arena_new (), .now_ms = s_now_ms () };
    unsigned code = 0;
    ctl_progress_add (opts->progress, "proposals", 0);
    s_deposit (&d, "环翠区 小提案·大治理 fund, 2026 grant", 50000000, "demo:fund:2026:district",
               &code);
    if (code == 200) {
        printf ("demo proposals year already present: nothing changed\n");
        ts_arena_destroy (&d.arena);
        return 0;
    }
    if (code != 201 || s_units (&d) != 0) {
        ts_arena_destroy (&d.arena);
        return 1;
    }
    s_deposit (&d, "Tashan co-building units' contribution", 15000000,
               "demo:fund:2026:units", &code);
    s_deposit (&d, "Residents' charity sale", 1200000, "demo:fund:2026:sale", &code);
    int64_t close_ms = s_proposals_open (&d);
    s_survey (&d);
    s_problems (&d);
    int64_t wait_ms = close_ms - s_now_ms () + 100;
    if (wait_ms > 0)
        s_sleep_ms (wait_ms);
    s_proposals_close (&d);
    double satisfaction = s_survey_results (&d);
    ctl_progress_add (opts->progress, "proposals", (uint64_t) opts->scale * CTL_DEMO_UNITS_REST / 8);
    printf ("demo proposals year: 3 deposits, %d co-building units bidding, %d proposals, "
            "7 problems, survey %s closed (satisfaction %.1f%%)%s\n", UNITS, PROPOSALS,
            s_survey_id, satisfaction, d.failures ? " with errors" : "");
    ts_arena_destroy (&d.arena);
    return d.failures ? 1 : 0;
}
