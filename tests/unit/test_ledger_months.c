/*  test_ledger_months - observed_on dates an evaluation into its month;
    closing a month publishes its boards and nothing is dated into it. */
#include "test_ledger_fixture.h"

static unsigned
s_eval_on (fx_t *f, const char *person, const char *key, const char *observed_on,
           Tashan__Ledger__Entry **out)
{
    Tashan__Ledger__EvaluateRequest r = TASHAN__LEDGER__EVALUATE_REQUEST__INIT;
    r.person_id = (char *) person;
    r.rule = "civil_conduct.good";
    r.idempotency_key = (char *) key;
    r.observed_on = (char *) observed_on;
    return fx_call (f, "ledger.Evaluate", "panel", "", &r.base, out);
}

static unsigned
s_close (fx_t *f, const char *month, Tashan__Ledger__MonthClose **out)
{
    Tashan__Ledger__CloseMonthRequest r = TASHAN__LEDGER__CLOSE_MONTH_REQUEST__INIT;
    r.month = (char *) month;
    return fx_call (f, "ledger.CloseMonth", "ops", "", &r.base, out);
}

static Tashan__Ledger__HonorBoard *
s_board (fx_t *f, const char *month)
{
    Tashan__Ledger__BoardRequest r = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    r.month = (char *) month;
    Tashan__Ledger__HonorBoard *b = NULL;
    assert_int_equal (fx_call (f, "ledger.HonorBoard", "ops", "", &r.base, &b), 200);
    return b;
}

static void
test_observed_on (void **state)
{
    fx_t *f = *state;                       //  now: 2026-03-15
    fx_person (f, "p1", "王芳", "h1", "12");
    Tashan__Ledger__Entry *e;
    assert_int_equal (s_eval_on (f, "p1", "k1", "2026-02-27", &e), 201);
    assert_string_equal (e->month, "2026-02");
    assert_int_equal (s_eval_on (f, "p1", "k2", "", &e), 201);
    assert_string_equal (e->month, "2026-03");
    assert_int_equal (s_eval_on (f, "p1", "k3", "2026-03-15", &e), 201);
    assert_string_equal (e->month, "2026-03");
    //  The future, a malformed day, an impossible day.
    assert_int_equal (s_eval_on (f, "p1", "k4", "2026-03-16", &e), 400);
    assert_int_equal (s_eval_on (f, "p1", "k4", "2026-3-01", &e), 400);
    assert_int_equal (s_eval_on (f, "p1", "k4", "2026-02-30", &e), 400);
    //  The same key for another day: a different request.
    assert_int_equal (s_eval_on (f, "p1", "k1", "2026-03-01", &e), 409);
    assert_int_equal (s_eval_on (f, "p1", "k1", "2026-02-27", &e), 200);
    assert_int_equal (s_board (f, "2026-02")->n_red, 1);
}

static void
test_close_month (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "王芳", "h1", "12");
    Tashan__Ledger__Entry *e;
    assert_int_equal (s_eval_on (f, "p1", "k1", "2026-02-10", &e), 201);
    assert_string_equal (s_board (f, "2026-02")->published_at, "");
    Tashan__Ledger__MonthClose *c;
    //  Only a past month closes.
    assert_int_equal (s_close (f, "2026-03", &c), 409);
    assert_int_equal (s_close (f, "2026-04", &c), 409);
    assert_int_equal (s_close (f, "2026-13", &c), 400);
    assert_int_equal (s_close (f, "2026-02", &c), 200);
    assert_string_equal (c->month, "2026-02");
    assert_string_equal (c->closed_by, "test");
    assert_int_equal (s_close (f, "2026-02", &c), 409);
    Tashan__Ledger__HonorBoard *b = s_board (f, "2026-02");
    assert_string_not_equal (b->published_at, "");
    assert_int_equal (b->n_red, 1);
    //  Nothing more is dated into it; its repeat still finds its entry.
    assert_int_equal (s_eval_on (f, "p1", "k2", "2026-02-11", &e), 409);
    assert_non_null (strstr (f->message, "closed"));
    assert_int_equal (s_eval_on (f, "p1", "k1", "2026-02-10", &e), 200);
    assert_string_equal (e->month, "2026-02");
    //  A medal for the closed month is rejected, the rest of the batch applies.
    fx_person_full (f, "person.created", "p2", "小明", "h2", "12", "S1", "N1", true, false);
    Tashan__Ledger__MedalEvent m1 = TASHAN__LEDGER__MEDAL_EVENT__INIT, m2 = m1;
    m1.event_id = "ev1";
    m1.pupil_no = "N1";
    m1.month = "2026-02";
    m1.medal = "信用小奖章";
    m2 = m1;
    m2.event_id = "ev2";
    m2.month = "2026-03";
    Tashan__Ledger__MedalEvent *events [] = { &m1, &m2 };
    Tashan__Ledger__MedalBatchRequest mb = TASHAN__LEDGER__MEDAL_BATCH_REQUEST__INIT;
    mb.events = events;
    mb.n_events = 2;
    Tashan__Ledger__BatchReply *rep;
    assert_int_equal (fx_call (f, "ledger.SubmitMedals", "school", "S1", &mb.base, &rep), 200);
    assert_int_equal (rep->accepted, 1);
    assert_int_equal (rep->n_rejected, 1);
    assert_non_null (strstr (rep->rejected [0]->reason, "closed"));
    //  A credit from another daemon for the closed month counts now.
    Tashan__Events__CreditRequest cr = TASHAN__EVENTS__CREDIT_REQUEST__INIT;
    cr.idempotency_key = "o1";
    cr.subject_id = "p1";
    cr.rule = "volunteer.hour";
    cr.quantity = 1;
    cr.month = "2026-02";
    assert_int_equal (fx_event (f, FX_VOLUNTEERS, "credit.requested", &cr.base), 200);
    Tashan__Ledger__EntryPage *page = fx_entries (f, "p1", "2026-03", 100, "");
    assert_int_equal (page->n_entries, 1);
    assert_string_equal (page->entries [0]->rule, "volunteer.hour");
    //  Listed, newest first.
    assert_int_equal (s_close (f, "2026-01", &c), 200);
    Tashan__Ledger__ListMonthsRequest lr = TASHAN__LEDGER__LIST_MONTHS_REQUEST__INIT;
    Tashan__Ledger__MonthList *list;
    assert_int_equal (fx_call (f, "ledger.ListMonths", "ops", "", &lr.base, &list), 200);
    assert_int_equal (list->n_months, 2);
    assert_string_equal (list->months [0]->month, "2026-02");
    assert_string_equal (list->current_month, "2026-03");
    assert_int_equal (fx_call (f, "ledger.CloseMonth", "panel", "", &lr.base, &c), 403);
}

static Tashan__Ledger__Ranking *
s_rank (fx_t *f, const char *method, const char *month, uint32_t page_size,
        const char *token)
{
    Tashan__Ledger__BoardRequest r = TASHAN__LEDGER__BOARD_REQUEST__INIT;
    r.month = (char *) month;
    r.page_size = page_size;
    r.page_token = (char *) token;
    Tashan__Ledger__Ranking *rank = NULL;
    assert_int_equal (fx_call (f, method, "ops", "", &r.base, &rank), 200);
    return rank;
}

//  A closed month's rankings are the ones published: later moves,
//  withdrawn consent and new buildings change the open months only.
static void
test_closed_rankings_stay_as_published (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "王芳", "h1", "12");
    fx_person (f, "p2", "李娜", "h2", "12");
    fx_person (f, "p3", "张伟", "h3", "7");
    Tashan__Ledger__Entry *e;
    assert_int_equal (s_eval_on (f, "p1", "k1", "2026-02-10", &e), 201);
    assert_int_equal (s_eval_on (f, "p3", "k2", "2026-02-11", &e), 201);
    assert_int_equal (s_eval_on (f, "p3", "k3", "2026-02-12", &e), 201);
    Tashan__Ledger__MonthClose *c;
    assert_int_equal (s_close (f, "2026-02", &c), 200);
    Tashan__Ledger__Ranking *before = s_rank (f, "ledger.RankHouseholds", "2026-02", 0, "");
    assert_int_equal (before->n_rows, 3);
    assert_string_equal (before->rows [0]->id, "h3");
    assert_string_equal (before->published_at, c->published_at);
    //  After the close: p3 withdraws consent, p1 moves to a new household.
    fx_person_full (f, "person.updated", "p3", "张伟", "h3", "7", "", "", false, false);
    fx_person_full (f, "person.moved", "p1", "王芳", "h9", "12", "", "", true, false);
    //  The open view would have changed...
    Tashan__Ledger__Ranking *now = s_rank (f, "ledger.RankHouseholds", "2026-03", 0, "");
    assert_int_equal (now->n_rows, 3);
    //  ...the published one has not, page by page, and across a restart.
    fx_reopen (f);
    Tashan__Ledger__Ranking *after = s_rank (f, "ledger.RankHouseholds", "2026-02", 0, "");
    assert_int_equal (after->n_rows, before->n_rows);
    for (size_t i = 0; i < after->n_rows; i++) {
        assert_string_equal (after->rows [i]->id, before->rows [i]->id);
        assert_int_equal (after->rows [i]->month_points, before->rows [i]->month_points);
        assert_int_equal (after->rows [i]->members, before->rows [i]->members);
        assert_int_equal (after->rows [i]->rank, i + 1);
        assert_int_equal (after->rows [i]->honoured, before->rows [i]->honoured);
    }
    Tashan__Ledger__Ranking *page = s_rank (f, "ledger.RankHouseholds", "2026-02", 2, "");
    assert_int_equal (page->n_rows, 2);
    char *token = strdup (page->next_page_token);
    assert_true (token [0]);
    page = s_rank (f, "ledger.RankHouseholds", "2026-02", 2, token);
    assert_int_equal (page->n_rows, 1);
    assert_string_equal (page->rows [0]->id, before->rows [2]->id);
    assert_string_equal (page->next_page_token, "");
    free (token);
    Tashan__Ledger__Ranking *blds = s_rank (f, "ledger.RankBuildings", "2026-02", 0, "");
    assert_int_equal (blds->n_rows, 2);
    assert_string_equal (blds->rows [0]->id, "7");
    assert_int_equal (blds->rows [0]->month_points, 6);
}

static void
test_reversal_of_closed_month_counts_now (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "王芳", "h1", "12");
    Tashan__Ledger__Entry *e;
    assert_int_equal (s_eval_on (f, "p1", "k1", "2026-02-10", &e), 201);
    char entry_id [24];
    snprintf (entry_id, sizeof entry_id, "%s", e->id);
    Tashan__Ledger__MonthClose *c;
    assert_int_equal (s_close (f, "2026-02", &c), 200);
    int64_t feb = s_board (f, "2026-02")->red [0]->month_points;
    //  An appeal upheld after the close: the reversal is this month's.
    Tashan__Ledger__FileAppealRequest fa = TASHAN__LEDGER__FILE_APPEAL_REQUEST__INIT;
    fa.entry_id = entry_id;
    fa.reason = "not me";
    Tashan__Ledger__Appeal *a;
    assert_int_equal (fx_call (f, "ledger.FileAppeal", "ops", "", &fa.base, &a), 201);
    Tashan__Ledger__DecideAppealRequest da = TASHAN__LEDGER__DECIDE_APPEAL_REQUEST__INIT;
    da.id = a->id;
    da.accept = true;
    da.reason = "another resident";
    assert_int_equal (fx_call (f, "ledger.DecideAppeal", "ops", "", &da.base, &a), 200);
    assert_int_equal (s_board (f, "2026-02")->red [0]->month_points, feb);
    Tashan__Ledger__EntryPage *page = fx_entries (f, "p1", "2026-03", 100, "");
    assert_int_equal (page->n_entries, 1);
    assert_string_equal (page->entries [0]->kind, "reversal");
    assert_int_equal (fx_credit (f, "p1")->index, 1000);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_observed_on, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_close_month, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_closed_rankings_stay_as_published, fx_setup,
                                         fx_teardown),
        cmocka_unit_test_setup_teardown (test_reversal_of_closed_month_counts_now, fx_setup,
                                         fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
