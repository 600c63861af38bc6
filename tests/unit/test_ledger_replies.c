/*  test_ledger_replies - the board replies kept per snapshot
    (ledger_replies): served again only while the store is unchanged, so a
    read after a write sees it (also inside one batch); ops' full names and
    the panel's masked view without minors never mixed; a closed month's
    published ranking kept for good; the cache bounded. */
#include "test_ledger_fixture.h"
#include "ledger_core.h"
#include "ledger_replies.h"

static ledger_replies *
s_replies (fx_t *f)
{
    ledger_tables *t = ts_dispatch_state (f->d);
    return t->replies;
}

static void
s_rule (fx_t *f, const char *code, int points)
{
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "ops", "panel" };
    pr.code = (char *) code;
    pr.points = points;
    pr.n_roles = 2;
    pr.roles = roles;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 200);
}

static void
s_plus (fx_t *f, const char *person, const char *key)
{
    assert_int_equal (fx_evaluate (f, person, "t.plus", key, NULL), 201);
}

static Tashan__Ledger__HonorBoard *
s_board (fx_t *f, const char *role, uint32_t page_size)
{
    Tashan__Ledger__BoardRequest r = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    r.month = "2026-03";
    r.page_size = page_size;
    Tashan__Ledger__HonorBoard *b = NULL;
    assert_int_equal (fx_call (f, "ledger.HonorBoard", role, "", &r.base, &b), 200);
    return b;
}

static Tashan__Ledger__Ranking *
s_rank (fx_t *f, const char *month)
{
    Tashan__Ledger__BoardRequest r = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    r.month = (char *) month;
    Tashan__Ledger__Ranking *rank = NULL;
    assert_int_equal (fx_call (f, "ledger.RankHouseholds", "panel", "", &r.base, &rank), 200);
    return rank;
}

//  Two adults (p1 3 points, p2 -1) and a pupil (p3, 5 points: a minor).
static void
s_community (fx_t *f)
{
    s_rule (f, "t.plus", 1);
    s_rule (f, "t.minus", -1);
    fx_person (f, "p1", "王小明", "h1", "1");
    fx_person (f, "p2", "李雷", "h2", "1");
    fx_person_full (f, "person.created", "p3", "张小红", "h1", "1", "S1", "P001", true, false);
    for (int i = 0; i < 3; i++) {
        char key [16];
        snprintf (key, sizeof key, "c1-%d", i);
        s_plus (f, "p1", key);
    }
    for (int i = 0; i < 5; i++) {
        char key [16];
        snprintf (key, sizeof key, "c3-%d", i);
        s_plus (f, "p3", key);
    }
    assert_int_equal (fx_evaluate (f, "p2", "t.minus", "c2", NULL), 201);
}

static void
test_fresh_after_write (void **state)
{
    fx_t *f = *state;
    s_community (f);
    ledger_replies *replies = s_replies (f);
    Tashan__Ledger__HonorBoard *b = s_board (f, "ops", 0);
    assert_int_equal (b->n_red, 2);
    assert_string_equal (b->red [0]->person_id, "p3");
    assert_string_equal (b->red [1]->person_id, "p1");
    assert_int_equal (b->red [1]->month_points, 3);
    assert_int_equal (ledger_replies_count (replies), 1);
    uint64_t hits = ledger_replies_hits (replies);
    //  Nothing changed: the same reply, from the cache.
    b = s_board (f, "ops", 0);
    assert_int_equal (ledger_replies_hits (replies), hits + 1);
    assert_int_equal (b->n_red, 2);
    assert_int_equal (b->red [1]->month_points, 3);
    assert_int_equal (b->n_grey, 1);
    //  A write, then a read: the read sees it (and is not a hit).
    for (int i = 0; i < 4; i++) {
        char key [16];
        snprintf (key, sizeof key, "w-%d", i);
        s_plus (f, "p1", key);
    }
    b = s_board (f, "ops", 0);
    assert_int_equal (ledger_replies_hits (replies), hits + 1);
    assert_string_equal (b->red [0]->person_id, "p1");
    assert_int_equal (b->red [0]->month_points, 7);
    assert_int_equal (b->red [0]->index, 1007);
    //  A setting the board reads (the red list's length) is a write too.
    Tashan__Ledger__GetSettingsRequest gs = TASHAN__LEDGER__GET_SETTINGS_REQUEST__INIT;
    Tashan__Ledger__Settings *s = NULL;
    assert_int_equal (fx_call (f, "ledger.GetSettings", "ops", "", &gs.base, &s), 200);
    s->red_list_size = 1;
    assert_int_equal (fx_call (f, "ledger.PutSettings", "ops", "", &s->base, NULL), 200);
    b = s_board (f, "ops", 0);
    assert_int_equal (b->n_red, 1);
    //  A person leaving the board (consent withdrawn, an event) too.
    fx_person_full (f, "person.updated", "p1", "王小明", "h1", "1", "", "", false, false);
    b = s_board (f, "ops", 0);
    assert_int_equal (b->n_red, 1);
    assert_string_equal (b->red [0]->person_id, "p3");
}

static void
test_views_not_mixed (void **state)
{
    fx_t *f = *state;
    s_community (f);
    ledger_replies *replies = s_replies (f);
    for (int round = 0; round < 2; round++) {
        //  ops: every listed person by full name, the pupil first.
        Tashan__Ledger__HonorBoard *b = s_board (f, "ops", 0);
        assert_int_equal (b->n_red, 2);
        assert_string_equal (b->red [0]->name, "张小红");
        assert_string_equal (b->red [1]->name, "王小明");
        assert_string_equal (b->grey [0]->name, "李雷");
        //  the panel: masked names, no minor.
        b = s_board (f, "panel", 0);
        assert_int_equal (b->n_red, 1);
        assert_string_equal (b->red [0]->person_id, "p1");
        assert_string_equal (b->red [0]->name, "王*明");
        assert_string_equal (b->grey [0]->name, "李*");
        //  system (a daemon, a tool): the masked view as well.
        b = s_board (f, "system", 0);
        assert_int_equal (b->n_red, 1);
        assert_string_equal (b->red [0]->name, "王*明");
    }
    //  Two views kept, the second round served from them.
    assert_int_equal (ledger_replies_count (replies), 2);
    //  (system shares the panel's view: a hit already in the first round)
    assert_int_equal (ledger_replies_hits (replies), 4);
}

//  A batch holding a write and a board read (one write transaction): the
//  read sees the batch's earlier write, though a reply of the store
//  before it is kept.
static void
test_fresh_in_write_batch (void **state)
{
    fx_t *f = *state;
    s_community (f);
    Tashan__Ledger__HonorBoard *b = s_board (f, "ops", 0);
    assert_int_equal (b->red [1]->month_points, 3);
    Tashan__Ledger__EvaluateBatchRequest eb = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
    Tashan__Ledger__EvaluateRequest items [5], *ptrs [5];
    char keys [5][16];
    for (int i = 0; i < 5; i++) {
        tashan__ledger__evaluate_request__init (&items [i]);
        snprintf (keys [i], sizeof keys [i], "b-%d", i);
        items [i].person_id = "p1";
        items [i].rule = "t.plus";
        items [i].idempotency_key = keys [i];
        ptrs [i] = &items [i];
    }
    eb.evaluations = ptrs;
    eb.n_evaluations = 5;
    Tashan__Ledger__BoardRequest br = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    br.month = "2026-03";
    Tashan__Caller ops = ts_caller ("ops", "", "test");
    ts_job jobs [2] = { { 0 } };
    const ProtobufCMessage *bodies [2] = { &eb.base, &br.base };
    const char *methods [2] = { "ledger.EvaluateBatch", "ledger.HonorBoard" };
    for (int i = 0; i < 2; i++) {
        jobs [i].method = methods [i];
        jobs [i].caller = &ops;
        jobs [i].body_size = protobuf_c_message_get_packed_size (bodies [i]);
        uint8_t *body = ts_arena_alloc (f->arena, jobs [i].body_size + 1);
        protobuf_c_message_pack (bodies [i], body);
        jobs [i].body = body;
    }
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, 2, f->arena), 1);
    assert_int_equal (jobs [0].code, 200);
    assert_int_equal (jobs [1].code, 200);
    b = tashan__ledger__honor_board__unpack (ts_arena_pb (f->arena), jobs [1].reply_size,
                                             jobs [1].reply);
    assert_non_null (b);
    assert_string_equal (b->red [0]->person_id, "p1");
    assert_int_equal (b->red [0]->month_points, 8);
    //  And the next read, after the commit, too.
    b = s_board (f, "ops", 0);
    assert_int_equal (b->red [0]->month_points, 8);
}

static void
test_closed_month_kept (void **state)
{
    fx_t *f = *state;
    s_community (f);
    ledger_replies *replies = s_replies (f);
    Tashan__Ledger__Ranking *r = s_rank (f, "2026-03");
    assert_string_equal (r->published_at, "");
    assert_string_equal (r->rows [0]->id, "h1");
    assert_int_equal (r->rows [0]->month_points, 8);    //  p1 and p3
    assert_int_equal (r->rows [1]->month_points, -1);
    //  Open: a write ranks it again.
    s_plus (f, "p2", "r-1");
    s_plus (f, "p2", "r-2");
    r = s_rank (f, "2026-03");
    assert_int_equal (r->rows [1]->month_points, 1);
    uint64_t hits = ledger_replies_hits (replies);
    //  Closed in April: the published ranking is served whatever is written
    //  after it (into April).
    ts_dispatch_set_now (f->d, T_APR15);
    Tashan__Ledger__CloseMonthRequest cr = TASHAN__LEDGER__CLOSE_MONTH_REQUEST__INIT;
    cr.month = "2026-03";
    assert_int_equal (fx_call (f, "ledger.CloseMonth", "ops", "", &cr.base, NULL), 200);
    r = s_rank (f, "2026-03");
    assert_string_not_equal (r->published_at, "");
    assert_int_equal (ledger_replies_hits (replies), hits);
    s_plus (f, "p2", "r-3");
    r = s_rank (f, "2026-03");
    assert_int_equal (ledger_replies_hits (replies), hits + 1);
    assert_string_not_equal (r->published_at, "");
    assert_int_equal (r->rows [0]->month_points, 8);
    assert_int_equal (r->rows [1]->month_points, 1);
    //  April's is ranked as it stands.
    r = s_rank (f, "2026-04");
    assert_string_equal (r->rows [0]->id, "h2");
    assert_int_equal (r->rows [0]->month_points, 1);
}

static void
test_bounded (void **state)
{
    fx_t *f = *state;
    s_community (f);
    ledger_replies *replies = s_replies (f);
    for (uint32_t page_size = 1; page_size <= 3 * LEDGER_REPLIES_MAX; page_size++) {
        Tashan__Ledger__HonorBoard *b = s_board (f, page_size % 2 ? "ops" : "panel", page_size);
        assert_int_equal (b->n_grey, 1);
        assert_true (ledger_replies_count (replies) <= LEDGER_REPLIES_MAX);
        assert_true (ledger_replies_bytes (replies) <= LEDGER_REPLIES_MAX_BYTES);
    }
    assert_int_equal (ledger_replies_count (replies), LEDGER_REPLIES_MAX);
    assert_true (ledger_replies_bytes (replies) > 0);
    //  The newest are kept: page size 3 * MAX is a hit, 1 is not.
    uint64_t hits = ledger_replies_hits (replies);
    s_board (f, "panel", 3 * LEDGER_REPLIES_MAX);
    assert_int_equal (ledger_replies_hits (replies), hits + 1);
    s_board (f, "ops", 1);
    assert_int_equal (ledger_replies_hits (replies), hits + 1);
    //  A write: the next read drops the stale reply it meets.
    s_plus (f, "p1", "bound-1");
    s_board (f, "ops", 2);
    assert_true (ledger_replies_count (replies) <= LEDGER_REPLIES_MAX);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_fresh_after_write, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_views_not_mixed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_fresh_in_write_batch, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_closed_month_kept, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_bounded, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
