/*  test_ledger_invariants - a seeded random walk of evaluations,
    redemptions, appeals, consent changes and moves over three months;
    afterwards everything derived must agree with the entries themselves:
    index = 1000 + Σ effective points of non-redemptions, card = what the
    entries put in and took out (never below 0), each month's points, the
    honour board (red and grey lists) and the household sums. */
#include "test_ledger_fixture.h"

#define PERSONS 24
#define STEPS 1500
#define HOUSEHOLDS 6
#define MONTHS 3

static const int64_t s_times [MONTHS] = { T_MAR15, T_APR15, T_MAY15 };
static const char *const s_months [MONTHS] = { "2026-03", "2026-04", "2026-05" };
static const char *const s_rules [] = {
    "garbage_sorting.good", "garbage_sorting.bad", "parking.good", "parking.bad",
    "civil_conduct.good", "civil_conduct.bad", "t.big",
};

typedef struct {
    char id [8];
    char household [8];
    bool consent;
} s_person;

static uint32_t s_rng = 12345;
static uint32_t
s_rand (uint32_t n)
{
    s_rng = s_rng * 1103515245u + 12345u;
    return (s_rng >> 8) % n;
}

static void
s_announce (fx_t *f, const s_person *p)
{
    fx_person_full (f, "person.updated", p->id, "测试人", p->household, "1", "", "", p->consent,
                    false);
}

//  All entries of a person (every page).
static size_t
s_all_entries (fx_t *f, const char *id, Tashan__Ledger__Entry **out, size_t max)
{
    size_t n = 0;
    char token [64] = "";
    for (int pages = 0; pages < 100; pages++) {
        Tashan__Ledger__EntryPage *p = fx_entries (f, id, "", 7, token);
        for (size_t i = 0; i < p->n_entries; i++) {
            assert_true (n < max);
            out [n++] = p->entries [i];
        }
        if (!p->next_page_token [0])
            break;
        assert_true (strlen (p->next_page_token) < sizeof token);
        snprintf (token, sizeof token, "%s", p->next_page_token);
    }
    return n;
}

static void
test_random_walk (void **state)
{
    fx_t *f = *state;
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "panel" };
    pr.code = "t.big";
    pr.points = 40;
    pr.n_roles = 1;
    pr.roles = roles;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 200);
    s_person people [PERSONS];
    for (int i = 0; i < PERSONS; i++) {
        snprintf (people [i].id, sizeof people [i].id, "p%d", i + 1);
        snprintf (people [i].household, sizeof people [i].household, "h%d", i % HOUSEHOLDS);
        people [i].consent = true;
        fx_person_full (f, "person.created", people [i].id, "测试人", people [i].household,
                        "1", "", "", true, false);
    }
    char key [32];
    for (int step = 0; step < STEPS; step++) {
        ts_dispatch_set_now (f->d, s_times [step * MONTHS / STEPS] + step * 1000);
        s_person *p = &people [s_rand (PERSONS)];
        uint32_t what = s_rand (100);
        snprintf (key, sizeof key, "s%d", step);
        if (what < 70) {
            unsigned rc = fx_evaluate (f, p->id, s_rules [s_rand (7)], key, NULL);
            assert_int_equal (rc, 201);
        }
        else
        if (what < 80) {
            Tashan__Ledger__RedeemRequest r = TASHAN__LEDGER__REDEEM_REQUEST__INIT;
            r.person_id = p->id;
            r.points = 1 + s_rand (30);
            r.item = "shop";
            r.idempotency_key = key;
            unsigned rc = fx_call (f, "ledger.Redeem", "ops", "", &r.base, NULL);
            assert_true (rc == 201 || rc == 409);
        }
        else
        if (what < 90) {
            //  Appeal a random entry of p and decide it.
            Tashan__Ledger__EntryPage *page = fx_entries (f, p->id, "", 1000, "");
            if (page->n_entries == 0)
                continue;
            Tashan__Ledger__FileAppealRequest fa = TASHAN__LEDGER__FILE_APPEAL_REQUEST__INIT;
            fa.entry_id = page->entries [s_rand ((uint32_t) page->n_entries)]->id;
            fa.reason = "random";
            Tashan__Ledger__Appeal *a = NULL;
            unsigned rc = fx_call (f, "ledger.FileAppeal", "ops", "", &fa.base, &a);
            assert_true (rc == 201 || rc == 409);
            if (rc != 201)
                continue;
            Tashan__Ledger__DecideAppealRequest da = TASHAN__LEDGER__DECIDE_APPEAL_REQUEST__INIT;
            da.id = a->id;
            da.accept = s_rand (2);
            da.reason = "decided";
            assert_int_equal (fx_call (f, "ledger.DecideAppeal", "ops", "", &da.base, NULL), 200);
        }
        else
        if (what < 95) {
            p->consent = !p->consent;
            s_announce (f, p);
        }
        else {
            snprintf (p->household, sizeof p->household, "h%u", s_rand (HOUSEHOLDS));
            s_announce (f, p);
        }
    }

    //  Recompute everything from the entries.
    int64_t month_points [PERSONS][MONTHS] = { { 0 } };
    Tashan__Ledger__Entry **entries = calloc (STEPS * 2, sizeof *entries);
    for (int i = 0; i < PERSONS; i++) {
        size_t n = s_all_entries (f, people [i].id, entries, STEPS * 2);
        int64_t index = 1000, card = 0;
        for (size_t e = 0; e < n; e++) {
            Tashan__Ledger__Entry *en = entries [e];
            assert_true (en->effective_points == 0 || en->reason [0] == 0
                         || strstr (en->reason, "applied"));
            if (strcmp (en->kind, "redemption") == 0) {
                assert_int_equal (en->card_points, -en->points);
            }
            else {
                index += en->effective_points;
                int m = -1;
                for (int k = 0; k < MONTHS; k++)
                    if (strcmp (en->month, s_months [k]) == 0)
                        m = k;
                assert_true (m >= 0);
                month_points [i][m] += en->effective_points;
            }
            if (strcmp (en->kind, "earning") == 0)
                assert_int_equal (en->card_points, en->effective_points);
            if (strcmp (en->kind, "penalty") == 0)
                assert_int_equal (en->card_points, 0);
            card += en->card_points;
            assert_true (card >= 0);
        }
        Tashan__Ledger__PersonCredit *c = fx_credit (f, people [i].id);
        assert_int_equal (c->index, index);
        assert_int_equal (c->card, card);
        assert_int_equal (c->month_points, month_points [i][MONTHS - 1]);
    }
    free (entries);

    //  Boards of each month: red = top positives, grey = every negative,
    //  listed (consenting) persons only.
    for (int m = 0; m < MONTHS; m++) {
        Tashan__Ledger__BoardRequest br = TASHAN__LEDGER__BOARD_REQUEST__INIT;
        br.month = (char *) s_months [m];
        br.page_size = 1000;
        Tashan__Ledger__HonorBoard *b = NULL;
        assert_int_equal (fx_call (f, "ledger.HonorBoard", "ops", "", &br.base, &b), 200);
        size_t positives = 0, negatives = 0;
        int64_t households [HOUSEHOLDS] = { 0 };
        for (int i = 0; i < PERSONS; i++) {
            if (!people [i].consent)
                continue;
            positives += month_points [i][m] > 0;
            negatives += month_points [i][m] < 0;
            households [people [i].household [1] - '0'] += month_points [i][m];
        }
        assert_int_equal (b->n_red, positives < 10 ? positives : 10);
        assert_int_equal (b->n_grey, negatives);
        for (size_t r = 0; r < b->n_red; r++) {
            int i = atoi (b->red [r]->person_id + 1) - 1;
            assert_true (people [i].consent);
            assert_int_equal (b->red [r]->month_points, month_points [i][m]);
            if (r > 0)
                assert_true (b->red [r - 1]->month_points >= b->red [r]->month_points);
        }
        //  Nobody left off the red list beats its last row.
        if (b->n_red == 10)
            for (int i = 0; i < PERSONS; i++) {
                bool shown = false;
                for (size_t r = 0; r < b->n_red; r++)
                    shown |= atoi (b->red [r]->person_id + 1) - 1 == i;
                if (!shown && people [i].consent)
                    assert_true (month_points [i][m] <= b->red [9]->month_points);
            }
        for (size_t g = 0; g < b->n_grey; g++) {
            int i = atoi (b->grey [g]->person_id + 1) - 1;
            assert_int_equal (b->grey [g]->month_points, month_points [i][m]);
            if (g > 0)
                assert_true (b->grey [g - 1]->month_points <= b->grey [g]->month_points);
        }
        Tashan__Ledger__Ranking *rank = NULL;
        assert_int_equal (fx_call (f, "ledger.RankHouseholds", "ops", "", &br.base, &rank), 200);
        for (size_t r = 0; r < rank->n_rows; r++) {
            int h = rank->rows [r]->id [1] - '0';
            assert_int_equal (rank->rows [r]->month_points, households [h]);
        }
        size_t nonzero = 0;
        for (int h = 0; h < HOUSEHOLDS; h++)
            nonzero += households [h] != 0;
        assert_true (rank->n_rows <= nonzero);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_random_walk, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
