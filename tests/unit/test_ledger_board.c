/*  test_ledger_board - month aggregates, the honour board (red and grey
    lists, paging, masking, minors, roles), household and building
    rankings (every one of the community, the honoured), and how consent,
    moving out and moving house change them. */
#include "test_ledger_fixture.h"
#include "ledger_board.h"
#include "ledger_sums.h"

//  Give person net points this month through batches of ±1 rules.
static void
s_points (fx_t *f, const char *person, int points)
{
    static int serial;
    int n = points < 0 ? -points : points;
    assert_true (n > 0 && n <= 100);
    Tashan__Ledger__EvaluateRequest items [100], *ptrs [100];
    char keys [100][32];
    for (int i = 0; i < n; i++) {
        tashan__ledger__evaluate_request__init (&items [i]);
        snprintf (keys [i], sizeof keys [i], "pt-%d", ++serial);
        items [i].person_id = (char *) person;
        items [i].rule = points > 0 ? "t.plus" : "t.minus";
        items [i].idempotency_key = keys [i];
        ptrs [i] = &items [i];
    }
    Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
    b.evaluations = ptrs;
    b.n_evaluations = (size_t) n;
    Tashan__Ledger__BatchReply *rep = NULL;
    assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "ops", "", &b.base, &rep), 200);
    assert_int_equal (rep->accepted, n);
}

static void
s_rule (fx_t *f, const char *code, int points)
{
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "ops" };
    pr.code = (char *) code;
    pr.points = points;
    pr.n_roles = 1;
    pr.roles = roles;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 200);
}

static const struct { const char *id, *name, *household, *building; int points; } s_people [] = {
    { "p1", "李雷", "h1", "1", 5 },     { "p2", "韩梅梅", "h1", "1", 3 },
    { "p3", "张伟", "h1", "1", -2 },    { "p4", "王小明", "h2", "1", 12 },
    { "p5", "刘洋", "h2", "1", 1 },     { "p6", "陈静", "h3", "2", -7 },
    { "p7", "杨帆", "h3", "2", 8 },     { "p8", "赵磊", "h3", "2", 6 },
    { "p9", "黄丽", "h3", "2", 4 },     { "p10", "周杰", "h3", "2", 2 },
    { "p11", "吴敏", "h3", "2", 9 },    { "p12", "徐静", "h3", "2", -1 },
};
#define PEOPLE (sizeof s_people / sizeof s_people [0])

static void
s_community (fx_t *f)
{
    s_rule (f, "t.plus", 1);
    s_rule (f, "t.minus", -1);
    for (size_t i = 0; i < PEOPLE; i++) {
        fx_person (f, s_people [i].id, s_people [i].name, s_people [i].household,
                   s_people [i].building);
        s_points (f, s_people [i].id, s_people [i].points);
    }
}

static Tashan__Ledger__HonorBoard *
s_board (fx_t *f, const char *role, const char *month, uint32_t page_size, const char *token)
{
    Tashan__Ledger__BoardRequest r = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    r.month = (char *) month;
    r.page_size = page_size;
    r.page_token = (char *) token;
    Tashan__Ledger__HonorBoard *b = NULL;
    assert_int_equal (fx_call (f, "ledger.HonorBoard", role, "", &r.base, &b), 200);
    return b;
}

static Tashan__Ledger__Ranking *
s_rank (fx_t *f, const char *method, const char *month)
{
    Tashan__Ledger__BoardRequest r = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    r.month = (char *) month;
    Tashan__Ledger__Ranking *rank = NULL;
    assert_int_equal (fx_call (f, method, "ops", "", &r.base, &rank), 200);
    return rank;
}

static void
s_expect_ids (Tashan__Ledger__BoardRow **rows, size_t n, const char *const *ids)
{
    size_t want = 0;
    while (ids [want])
        want++;
    assert_int_equal (n, want);
    for (size_t i = 0; i < n; i++)
        assert_string_equal (rows [i]->person_id, ids [i]);
}

//  --------------------------------------------------------------------
static void
test_mask_name (void **state)
{
    ts_arena *a = ts_arena_new ();
    assert_string_equal (ledger_mask_name (a, "王小明"), "王*明");
    assert_string_equal (ledger_mask_name (a, "王明"), "王*");
    assert_string_equal (ledger_mask_name (a, "欧阳小明"), "欧**明");
    assert_string_equal (ledger_mask_name (a, "王"), "*");
    assert_string_equal (ledger_mask_name (a, "Li Lei"), "L****i");
    assert_string_equal (ledger_mask_name (a, ""), "");
    ts_arena_destroy (&a);
}

static void
test_honor_board (void **state)
{
    fx_t *f = *state;
    s_community (f);
    Tashan__Ledger__HonorBoard *b = s_board (f, "ops", "2026-03", 0, "");
    assert_string_equal (b->month, "2026-03");
    const char *red [] = { "p4", "p11", "p7", "p8", "p1", "p9", "p2", "p10", "p5", NULL };
    s_expect_ids (b->red, b->n_red, red);
    assert_int_equal (b->red [0]->month_points, 12);
    assert_int_equal (b->red [0]->index, 1012);
    assert_string_equal (b->red [0]->name, "王小明");
    const char *grey [] = { "p6", "p3", "p12", NULL };
    s_expect_ids (b->grey, b->n_grey, grey);
    assert_int_equal (b->grey [0]->month_points, -7);
    assert_string_equal (b->next_page_token, "");
    //  The panel sees masked names; schools and merchants no board.
    b = s_board (f, "panel", "2026-03", 0, "");
    assert_string_equal (b->red [0]->name, "王*明");
    assert_string_equal (b->grey [0]->name, "陈*");
    Tashan__Ledger__BoardRequest br = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    assert_int_equal (fx_call (f, "ledger.HonorBoard", "merchant", "m1", &br.base, NULL), 403);
    assert_int_equal (fx_call (f, "ledger.HonorBoard", "school", "S1", &br.base, NULL), 403);
    //  Another month is empty; no month means this month.
    b = s_board (f, "ops", "2026-02", 0, "");
    assert_int_equal (b->n_red + b->n_grey, 0);
    b = s_board (f, "ops", "", 0, "");
    assert_string_equal (b->month, "2026-03");
    assert_int_equal (b->n_red, 9);
    //  The red list length is a setting.
    Tashan__Ledger__GetSettingsRequest gs = TASHAN__LEDGER__GET_SETTINGS_REQUEST__INIT;
    Tashan__Ledger__Settings *s = NULL;
    assert_int_equal (fx_call (f, "ledger.GetSettings", "ops", "", &gs.base, &s), 200);
    s->red_list_size = 3;
    assert_int_equal (fx_call (f, "ledger.PutSettings", "ops", "", &s->base, NULL), 200);
    b = s_board (f, "ops", "2026-03", 0, "");
    const char *red3 [] = { "p4", "p11", "p7", NULL };
    s_expect_ids (b->red, b->n_red, red3);
    //  The grey list is paged.
    b = s_board (f, "ops", "2026-03", 2, "");
    const char *grey2 [] = { "p6", "p3", NULL };
    s_expect_ids (b->grey, b->n_grey, grey2);
    char *token = strdup (b->next_page_token);
    assert_true (token [0]);
    b = s_board (f, "ops", "2026-03", 2, token);
    const char *grey3 [] = { "p12", NULL };
    s_expect_ids (b->grey, b->n_grey, grey3);
    assert_int_equal (b->n_red, 0);
    assert_string_equal (b->next_page_token, "");
    free (token);
    //  Bad input.
    Tashan__Ledger__BoardRequest r = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    r.month = "2026-3";
    assert_int_equal (fx_call (f, "ledger.HonorBoard", "ops", "", &r.base, NULL), 400);
    r.month = "2026-03";
    r.page_token = "abc";
    assert_int_equal (fx_call (f, "ledger.HonorBoard", "ops", "", &r.base, NULL), 400);
}

static void
test_rankings (void **state)
{
    fx_t *f = *state;
    s_community (f);
    Tashan__Ledger__Ranking *r = s_rank (f, "ledger.RankHouseholds", "2026-03");
    assert_int_equal (r->n_rows, 3);
    assert_string_equal (r->rows [0]->id, "h2");
    assert_int_equal (r->rows [0]->rank, 1);
    assert_int_equal (r->rows [0]->month_points, 13);
    assert_int_equal (r->rows [0]->members, 2);
    assert_true (r->rows [0]->average_points == 6.5);
    assert_string_equal (r->rows [0]->building_number, "1");
    assert_string_equal (r->rows [1]->id, "h3");
    assert_true (r->rows [1]->average_points == 3.0);
    assert_string_equal (r->rows [2]->id, "h1");
    assert_true (r->rows [2]->average_points == 2.0);
    r = s_rank (f, "ledger.RankBuildings", "2026-03");
    assert_int_equal (r->n_rows, 2);
    assert_string_equal (r->rows [0]->id, "1");
    assert_int_equal (r->rows [0]->members, 5);
    assert_true (r->rows [0]->average_points == 19.0 / 5);
    assert_string_equal (r->rows [1]->id, "2");
    assert_true (r->rows [0]->honoured && r->rows [1]->honoured);
    //  A month with no entries still ranks every building, at 0, and
    //  honours none.
    r = s_rank (f, "ledger.RankBuildings", "2026-01");
    assert_int_equal (r->n_rows, 2);
    for (size_t i = 0; i < r->n_rows; i++) {
        assert_int_equal (r->rows [i]->month_points, 0);
        assert_false (r->rows [i]->honoured);
    }
    assert_string_equal (r->rows [0]->id, "1");
    //  Schools and merchants read the rankings (no person in them).
    Tashan__Ledger__BoardRequest br = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    assert_int_equal (fx_call (f, "ledger.RankBuildings", "school", "S1", &br.base, NULL), 200);
    assert_int_equal (fx_call (f, "ledger.RankHouseholds", "merchant", "m1", &br.base, NULL),
                      200);
}

static void
s_expect_same_ranking (const Tashan__Ledger__Ranking *a, const Tashan__Ledger__Ranking *b)
{
    assert_int_equal (a->n_rows, b->n_rows);
    for (size_t i = 0; i < a->n_rows; i++) {
        assert_string_equal (a->rows [i]->id, b->rows [i]->id);
        assert_int_equal (a->rows [i]->month_points, b->rows [i]->month_points);
        assert_int_equal (a->rows [i]->rank, b->rows [i]->rank);
    }
}

//  Month sums go through a log the tick folds (ledger_sums.h): rankings
//  are the same before the fold, after it, and with part of the deltas
//  folded and part logged; consent withdrawn while deltas are logged
//  takes the person's points out exactly once.
static void
test_rankings_through_the_sums_log (void **state)
{
    fx_t *f = *state;
    s_community (f);
    assert_true (fx_records (f, "sum_log") > 0);
    assert_int_equal (fx_records (f, "hh_month"), 0);
    Tashan__Ledger__Ranking *hh = s_rank (f, "ledger.RankHouseholds", "2026-03");
    Tashan__Ledger__Ranking *bld = s_rank (f, "ledger.RankBuildings", "2026-03");
    assert_int_equal (hh->rows [0]->month_points, 13);
    assert_int_equal (ts_dispatch_tick (f->d), TS_OK);
    assert_int_equal (fx_records (f, "sum_log"), 0);
    assert_int_equal (fx_records (f, "hh_month"), 3);
    assert_int_equal (fx_records (f, "bld_month"), 2);
    s_expect_same_ranking (hh, s_rank (f, "ledger.RankHouseholds", "2026-03"));
    s_expect_same_ranking (bld, s_rank (f, "ledger.RankBuildings", "2026-03"));
    //  Half folded, half logged: h1 (+5 -2 +3 = 6) gains 20 and leads.
    s_points (f, "p3", 20);
    assert_true (fx_records (f, "sum_log") > 0);
    hh = s_rank (f, "ledger.RankHouseholds", "2026-03");
    assert_string_equal (hh->rows [0]->id, "h1");
    assert_int_equal (hh->rows [0]->month_points, 26);
    //  p3 withdraws consent with its +20 still in the log: h1 loses its
    //  18 (-2 + 20), the log's delta and the stored sum together.
    fx_person_full (f, "person.updated", "p3", "张伟", "h1", "1", "", "", false, false);
    hh = s_rank (f, "ledger.RankHouseholds", "2026-03");
    assert_string_equal (hh->rows [0]->id, "h2");
    for (size_t i = 0; i < hh->n_rows; i++)
        if (strcmp (hh->rows [i]->id, "h1") == 0)
            assert_int_equal (hh->rows [i]->month_points, 8);
    assert_int_equal (ts_dispatch_tick (f->d), TS_OK);
    assert_int_equal (fx_records (f, "sum_log"), 0);
    s_expect_same_ranking (hh, s_rank (f, "ledger.RankHouseholds", "2026-03"));
}

//  A fold bounded by deltas takes whole records, at least one, oldest
//  first; the rest stays logged and the rankings do not move.
static void
test_sums_fold_is_bounded (void **state)
{
    fx_t *f = *state;
    s_community (f);
    size_t records = fx_records (f, "sum_log");
    assert_true (records >= 3);
    Tashan__Ledger__Ranking *hh = s_rank (f, "ledger.RankHouseholds", "2026-03");
    for (size_t i = 1; i <= 2; i++) {
        ts_ctx ctx = { 0 };
        ctx.txn = ts_txn_begin (ts_dispatch_store (f->d), true);
        ctx.state = ts_dispatch_state (f->d);
        ctx.arena = f->arena;
        assert_int_equal (ledger_sums_fold (&ctx, 1), 1);
        assert_int_equal (ts_txn_commit (&ctx.txn), 0);
        assert_int_equal (fx_records (f, "sum_log"), records - i);
        s_expect_same_ranking (hh, s_rank (f, "ledger.RankHouseholds", "2026-03"));
    }
    ts_ctx ctx = { 0 };
    ctx.txn = ts_txn_begin (ts_dispatch_store (f->d), true);
    ctx.state = ts_dispatch_state (f->d);
    ctx.arena = f->arena;
    assert_int_equal (ledger_sums_fold (&ctx, LEDGER_SUMS_FOLD_MAX), records - 2);
    assert_int_equal (ts_txn_commit (&ctx.txn), 0);
    assert_int_equal (fx_records (f, "sum_log"), 0);
    s_expect_same_ranking (hh, s_rank (f, "ledger.RankHouseholds", "2026-03"));
}

static void
s_building_event (fx_t *f, const char *topic, const char *number, bool archived)
{
    Tashan__Events__Building b = TASHAN__EVENTS__BUILDING__INIT;
    b.building_id = "b1";
    b.number = (char *) number;
    b.archived = archived;
    assert_int_equal (fx_event (f, FX_RESIDENTS, topic, &b.base), 200);
}

//  Issue 17: a building at -3 with most others at no entries was ranked
//  first as the only one listed. Every building is ranked now: the -3
//  one last, never honoured; buildings with nobody in them too.
static void
test_rankings_every_building (void **state)
{
    fx_t *f = *state;
    s_rule (f, "t.plus", 1);
    s_rule (f, "t.minus", -1);
    char number [16], household [16], person [16];
    for (int i = 1; i <= 30; i++) {
        snprintf (number, sizeof number, "%d", i);
        s_building_event (f, "building.created", number, false);
        snprintf (household, sizeof household, "h%d", i);
        snprintf (person, sizeof person, "p%d", i);
        if (i <= 20)                    //  10 buildings with nobody yet
            fx_person (f, person, "王芳", household, number);
    }
    s_points (f, "p7", -3);
    s_points (f, "p12", 2);
    Tashan__Ledger__Ranking *r = s_rank (f, "ledger.RankBuildings", "2026-03");
    assert_int_equal (r->n_rows, 30);
    assert_string_equal (r->rows [0]->id, "12");
    assert_true (r->rows [0]->honoured);
    assert_string_equal (r->rows [29]->id, "7");
    assert_int_equal (r->rows [29]->month_points, -3);
    assert_false (r->rows [29]->honoured);
    //  The rest at 0, none honoured, in natural order ("2" before "10").
    assert_string_equal (r->rows [1]->id, "1");
    assert_string_equal (r->rows [2]->id, "2");
    assert_string_equal (r->rows [9]->id, "10");            //  7 and 12 are elsewhere
    for (size_t i = 1; i < 29; i++) {
        assert_int_equal (r->rows [i]->month_points, 0);
        assert_false (r->rows [i]->honoured);
        assert_int_equal (r->rows [i]->rank, i + 1);
    }
    //  Households: every one with a resident, h7 last.
    r = s_rank (f, "ledger.RankHouseholds", "2026-03");
    assert_int_equal (r->n_rows, 20);
    assert_string_equal (r->rows [0]->id, "h12");
    assert_string_equal (r->rows [19]->id, "h7");
    assert_false (r->rows [19]->honoured);
    assert_string_equal (r->rows [19]->building_number, "7");
    //  Alone at -3, it is still not honoured.
    s_points (f, "p12", -2);
    r = s_rank (f, "ledger.RankBuildings", "2026-03");
    for (size_t i = 0; i < r->n_rows; i++)
        assert_false (r->rows [i]->honoured);
    assert_string_equal (r->rows [29]->id, "7");
    //  An archived building leaves; a household whose people moved out too.
    s_building_event (f, "building.archived", "30", true);
    fx_person_full (f, "person.archived", "p20", "王芳", "h20", "20", "", "", true, true);
    assert_int_equal (s_rank (f, "ledger.RankBuildings", "2026-03")->n_rows, 29);
    assert_int_equal (s_rank (f, "ledger.RankHouseholds", "2026-03")->n_rows, 19);
    //  A consent withdrawn keeps the household ranked, with no listed member.
    fx_person_full (f, "person.updated", "p19", "王芳", "h19", "19", "", "", false, false);
    r = s_rank (f, "ledger.RankHouseholds", "2026-03");
    assert_int_equal (r->n_rows, 19);
    bool found = false;
    for (size_t i = 0; i < r->n_rows; i++)
        if (strcmp (r->rows [i]->id, "h19") == 0) {
            found = true;
            assert_int_equal (r->rows [i]->members, 0);
            assert_true (r->rows [i]->average_points == 0.0);
        }
    assert_true (found);
    //  A bad building event is refused and changes nothing.
    Tashan__Events__Building b = TASHAN__EVENTS__BUILDING__INIT;
    b.building_id = "b9";
    b.number = "";
    fx_event (f, FX_RESIDENTS, "building.created", &b.base);
    assert_int_equal (s_rank (f, "ledger.RankBuildings", "2026-03")->n_rows, 29);
}

//  Minors: by name on ops' board only; the panel's board leaves them out.
static void
test_minors_on_board (void **state)
{
    fx_t *f = *state;                   //  now: 2026-03
    s_rule (f, "t.plus", 1);
    s_rule (f, "t.minus", -1);
    Tashan__Events__Person p = TASHAN__EVENTS__PERSON__INIT;
    p.household_id = "h1";
    p.building_number = "1";
    p.credit_consent = true;
    p.person_id = "p1", p.name = "王小雨", p.birth_year = 2015;         //  11
    assert_int_equal (fx_event (f, FX_RESIDENTS, "person.created", &p.base), 200);
    p.person_id = "p2", p.name = "王大山", p.birth_year = 1980;
    assert_int_equal (fx_event (f, FX_RESIDENTS, "person.created", &p.base), 200);
    p.person_id = "p3", p.name = "王十七", p.birth_year = 2009;         //  17
    assert_int_equal (fx_event (f, FX_RESIDENTS, "person.created", &p.base), 200);
    p.person_id = "p4", p.name = "王学生", p.birth_year = 0;            //  a pupil, no year
    p.school_id = "S1", p.pupil_no = "1001";
    assert_int_equal (fx_event (f, FX_RESIDENTS, "person.created", &p.base), 200);
    s_points (f, "p1", 9);
    s_points (f, "p2", 5);
    s_points (f, "p3", -4);
    s_points (f, "p4", 3);
    Tashan__Ledger__HonorBoard *b = s_board (f, "ops", "2026-03", 0, "");
    const char *red_ops [] = { "p1", "p2", "p4", NULL };
    s_expect_ids (b->red, b->n_red, red_ops);
    assert_string_equal (b->red [0]->name, "王小雨");
    const char *grey_ops [] = { "p3", NULL };
    s_expect_ids (b->grey, b->n_grey, grey_ops);
    b = s_board (f, "panel", "2026-03", 0, "");
    const char *red_panel [] = { "p2", NULL };
    s_expect_ids (b->red, b->n_red, red_panel);
    assert_string_equal (b->red [0]->name, "王*山");
    assert_int_equal (b->n_grey, 0);
    //  Paged, the grey list still leaves them out and ends.
    b = s_board (f, "panel", "2026-03", 1, "");
    assert_int_equal (b->n_grey, 0);
    assert_string_equal (b->next_page_token, "");
    //  Who is a minor depends on the board's year: p3 (2009) is 17 in 2026.
    ledger_subject s = TASHAN__LEDGER__SUBJECT__INIT;
    s.birth_year = 2009;
    assert_true (ledger_board_minor (&s, 2026));
    assert_false (ledger_board_minor (&s, 2027));
    s.birth_year = 0;
    assert_false (ledger_board_minor (&s, 2026));
    s.pupil_no = "1001";
    assert_true (ledger_board_minor (&s, 2026));
    //  The rankings name no person: the minor's points count there.
    Tashan__Ledger__Ranking *r = s_rank (f, "ledger.RankHouseholds", "2026-03");
    assert_int_equal (r->rows [0]->month_points, 13);
}

//  Withdrawn consent, moving house and moving out change the boards.
static void
test_listing_changes (void **state)
{
    fx_t *f = *state;
    s_community (f);
    //  p4 withdraws consent: off the board, out of h2's sum and count.
    fx_person_full (f, "person.updated", "p4", "王小明", "h2", "1", "", "", false, false);
    Tashan__Ledger__HonorBoard *b = s_board (f, "ops", "2026-03", 0, "");
    assert_string_equal (b->red [0]->person_id, "p11");
    assert_int_equal (b->n_red, 8);
    Tashan__Ledger__Ranking *r = s_rank (f, "ledger.RankHouseholds", "2026-03");
    assert_string_equal (r->rows [2]->id, "h2");
    assert_int_equal (r->rows [2]->members, 1);
    assert_int_equal (r->rows [2]->month_points, 1);
    //  Its own statement still has everything.
    assert_int_equal (fx_credit (f, "p4")->month_points, 12);
    //  Consent given again: back.
    fx_person_full (f, "person.updated", "p4", "王小明", "h2", "1", "", "", true, false);
    b = s_board (f, "ops", "2026-03", 0, "");
    assert_string_equal (b->red [0]->person_id, "p4");
    assert_string_equal (s_rank (f, "ledger.RankHouseholds", "2026-03")->rows [0]->id, "h2");
    //  p11 moves from h3 (building 2) to h1 (building 1).
    fx_person_full (f, "person.moved", "p11", "吴敏", "h1", "1", "", "", true, false);
    r = s_rank (f, "ledger.RankHouseholds", "2026-03");
    assert_string_equal (r->rows [0]->id, "h2");
    assert_string_equal (r->rows [1]->id, "h1");
    assert_int_equal (r->rows [1]->month_points, 15);
    assert_int_equal (r->rows [1]->members, 4);
    assert_string_equal (r->rows [2]->id, "h3");
    assert_int_equal (r->rows [2]->month_points, 12);
    assert_int_equal (r->rows [2]->members, 6);
    r = s_rank (f, "ledger.RankBuildings", "2026-03");
    assert_string_equal (r->rows [0]->id, "1");
    assert_int_equal (r->rows [0]->month_points, 28);
    assert_int_equal (r->rows [0]->members, 6);
    //  p6 moves out of the community: off the grey list; no more scoring.
    fx_person_full (f, "person.archived", "p6", "陈静", "h3", "2", "", "", true, true);
    b = s_board (f, "ops", "2026-03", 0, "");
    const char *grey [] = { "p3", "p12", NULL };
    s_expect_ids (b->grey, b->n_grey, grey);
    assert_int_equal (fx_evaluate (f, "p6", "parking.good", "late", NULL), 409);
    //  Scoring after the move lands in the new household.
    s_points (f, "p11", 1);
    assert_int_equal (s_rank (f, "ledger.RankHouseholds", "2026-03")->rows [1]->month_points, 16);
    //  Everything survives a restart.
    fx_reopen (f);
    b = s_board (f, "ops", "2026-03", 0, "");
    assert_string_equal (b->red [1]->person_id, "p11");
    assert_int_equal (b->red [1]->month_points, 10);
}

//  A point won and lost again leaves no row; month totals follow reversals.
static void
test_zero_rows (void **state)
{
    fx_t *f = *state;
    s_rule (f, "t.plus", 1);
    s_rule (f, "t.minus", -1);
    fx_person (f, "p1", "孙悟空", "h1", "1");
    s_points (f, "p1", 2);
    s_points (f, "p1", -2);
    Tashan__Ledger__HonorBoard *b = s_board (f, "ops", "2026-03", 0, "");
    assert_int_equal (b->n_red + b->n_grey, 0);
    Tashan__Ledger__Ranking *r = s_rank (f, "ledger.RankHouseholds", "2026-03");
    assert_int_equal (r->n_rows, 1);            //  still a household of the community
    assert_int_equal (r->rows [0]->month_points, 0);
    assert_false (r->rows [0]->honoured);
    assert_int_equal (fx_credit (f, "p1")->month_points, 0);
    assert_int_equal (fx_credit (f, "p1")->index, 1000);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_mask_name),
        cmocka_unit_test_setup_teardown (test_honor_board, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_rankings, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_rankings_every_building, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_rankings_through_the_sums_log, fx_setup,
                                         fx_teardown),
        cmocka_unit_test_setup_teardown (test_sums_fold_is_bounded, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_minors_on_board, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_listing_changes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_zero_rows, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
