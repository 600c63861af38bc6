/*  test_ledger_invariants - a seeded random walk of evaluations,
    redemptions, appeals, consent changes and moves over three months;
    afterwards everything derived must agree with the entries themselves:
    index = 1000 + Σ effective points of non-redemptions, card = what the
    entries put in and took out (never below 0), each month's points, the
    honour board (red and grey lists) and the household sums. And batching
    changes nothing: a stream applied item by item and in batches leaves
    identical stores. */
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
            //  Never a net-zero or net-negative household among the honoured.
            assert_true (!rank->rows [r]->honoured || rank->rows [r]->month_points > 0);
        }
        //  Every household of the community is ranked, with points or not.
        size_t nonzero = 0;
        for (int h = 0; h < HOUSEHOLDS; h++)
            nonzero += households [h] != 0;
        assert_true (rank->n_rows >= nonzero && rank->n_rows <= HOUSEHOLDS);
    }
}

//  --------------------------------------------------------------------
//  Batching changes nothing. The same stream of evaluations and medals is
//  applied one per request to one ledger, and in requests of up to 60
//  items to another (whose working set then writes each subject's
//  aggregates once per request); the replies agree item by item, and in
//  the end the two stores hold the same keys and values in every table.

#define EQ_PERSONS 12
#define EQ_ROUNDS 90
#define EQ_ITEMS_MAX 60

static const char *const s_eq_rules [] = {
    "garbage_sorting.good", "garbage_sorting.bad", "parking.good", "civil_conduct.bad",
    "t.big", "t.capped", "t.tiny", "no.such_rule", "school.medal",
};

typedef struct {
    char person [8];
    const char *rule;
    char key [16];
} s_eq_item;

static void
s_eq_each (fx_t *a, fx_t *b, void (*fn) (fx_t *, void *), void *arg)
{
    fn (a, arg);
    fn (b, arg);
}

static void
s_eq_setup (fx_t *f, void *arg)
{
    (void) arg;
    const char *codes [] = { "t.big", "t.capped", "t.tiny" };
    int64_t points [] = { 40, 7, -1 };
    int64_t caps [] = { 0, 30, 4 };
    for (int i = 0; i < 3; i++) {
        Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
        char *roles [] = { "panel" };
        pr.code = (char *) codes [i];
        pr.points = points [i];
        pr.monthly_cap_points = caps [i];
        pr.n_roles = 1;
        pr.roles = roles;
        assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 200);
    }
    char id [8], hh [8], bld [8], pupil [8];
    for (int i = 0; i < EQ_PERSONS; i++) {
        snprintf (id, sizeof id, "p%d", i + 1);
        snprintf (hh, sizeof hh, "h%d", i % 4);
        snprintf (bld, sizeof bld, "%d", i % 2 + 1);
        snprintf (pupil, sizeof pupil, "%d", 100 + i);
        fx_person_full (f, "person.created", id, "测试人", hh, bld, i % 3 ? "" : "S1",
                        i % 3 ? "" : pupil, i != 5, false);
    }
    Tashan__Events__Merchant m = TASHAN__EVENTS__MERCHANT__INIT;
    m.merchant_id = "m1";
    m.name = "小卖部";
    assert_int_equal (fx_event (f, FX_MERCHANTS, "merchant.registered", &m.base), 200);
}

static void
s_eq_set_now (fx_t *f, void *arg)
{
    ts_dispatch_set_now (f->d, *(int64_t *) arg);
}

static void
s_eq_announce (fx_t *f, void *arg)
{
    s_announce (f, arg);
}

//  Every key and value of table in both stores, in order, must agree.
static void
s_eq_table (fx_t *a, fx_t *b, const char *name)
{
    ts_store *sa = ts_dispatch_store (a->d), *sb = ts_dispatch_store (b->d);
    ts_txn *ta = ts_txn_begin (sa, false), *tb = ts_txn_begin (sb, false);
    ts_cursor ca, cb;
    bool more_a = ts_cursor_open (&ca, ta, ts_store_table (sa, name))
               && ts_cursor_seek (&ca, NULL, 0);
    bool more_b = ts_cursor_open (&cb, tb, ts_store_table (sb, name))
               && ts_cursor_seek (&cb, NULL, 0);
    //  The outbox opens with the card-code key's publication, made when
    //  the store was opened: each store's own random key, at the wall
    //  clock's time then. Everything after it must agree.
    if (strcmp (name, "outbox") == 0 && more_a && more_b) {
        more_a = ts_cursor_next (&ca);
        more_b = ts_cursor_next (&cb);
    }
    size_t n = 0;
    while (more_a && more_b && n < 1000000) {
        if (ca.key.size != cb.key.size || memcmp (ca.key.data, cb.key.data, ca.key.size)
        ||  ca.value.size != cb.value.size
        ||  memcmp (ca.value.data, cb.value.data, ca.value.size))
            fail_msg ("table %s differs at key %zu (%.*s / %.*s)", name, n,
                      (int) ca.key.size, (const char *) ca.key.data,
                      (int) cb.key.size, (const char *) cb.key.data);
        n++;
        more_a = ts_cursor_next (&ca);
        more_b = ts_cursor_next (&cb);
    }
    if (more_a != more_b)
        fail_msg ("table %s: one store has more keys after %zu", name, n);
    ts_cursor_close (&ca);
    ts_cursor_close (&cb);
    assert_int_equal (ts_txn_error (ta), 0);
    assert_int_equal (ts_txn_error (tb), 0);
    ts_txn_abort (&ta);
    ts_txn_abort (&tb);
}

static void
test_batch_equivalence (void **state)
{
    fx_t *one = *state;
    fx_t *many = NULL;
    fx_setup ((void **) &many);
    s_eq_each (one, many, s_eq_setup, NULL);
    s_person people [EQ_PERSONS];
    for (int i = 0; i < EQ_PERSONS; i++) {
        snprintf (people [i].id, sizeof people [i].id, "p%d", i + 1);
        snprintf (people [i].household, sizeof people [i].household, "h%d", i % 4);
        people [i].consent = i != 5;
    }
    static s_eq_item items [EQ_ITEMS_MAX];
    static s_eq_item used [EQ_ROUNDS * EQ_ITEMS_MAX];
    size_t used_count = 0;
    int key_seq = 0, event_seq = 0;
    for (int round = 0; round < EQ_ROUNDS; round++) {
        int64_t now = s_times [round * MONTHS / EQ_ROUNDS] + round * 1000;
        s_eq_each (one, many, s_eq_set_now, &now);
        //  Evaluations: one request each / one batch.
        size_t n = 1 + s_rand (EQ_ITEMS_MAX);
        Tashan__Ledger__EvaluateRequest reqs [EQ_ITEMS_MAX], *ptrs [EQ_ITEMS_MAX];
        unsigned accepted = 0, duplicates = 0, rejected = 0;
        for (size_t i = 0; i < n; i++) {
            s_eq_item *it = &items [i];
            uint32_t what = s_rand (100);
            if (what < 8 && used_count > 0)
                *it = used [s_rand ((uint32_t) used_count)];    //  a repeat
            else {
                uint32_t who = s_rand (EQ_PERSONS + 2);
                if (who < EQ_PERSONS)
                    snprintf (it->person, sizeof it->person, "p%u", who + 1);
                else
                    snprintf (it->person, sizeof it->person, who == EQ_PERSONS ? "m1" : "p404");
                it->rule = s_eq_rules [s_rand (sizeof s_eq_rules / sizeof s_eq_rules [0])];
                snprintf (it->key, sizeof it->key, "q%d", ++key_seq);
                used [used_count++] = *it;
            }
            tashan__ledger__evaluate_request__init (&reqs [i]);
            reqs [i].person_id = it->person;
            reqs [i].rule = (char *) it->rule;
            reqs [i].note = "equivalence";
            reqs [i].idempotency_key = it->key;
            ptrs [i] = &reqs [i];
            unsigned rc = fx_call (one, "ledger.Evaluate", "panel", "", &reqs [i].base, NULL);
            if (rc == 201)
                accepted++;
            else
            if (rc == 200)
                duplicates++;
            else {
                assert_true (rc == 403 || rc == 422);
                rejected++;
            }
        }
        Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
        b.evaluations = ptrs;
        b.n_evaluations = n;
        Tashan__Ledger__BatchReply *rep = NULL;
        assert_int_equal (fx_call (many, "ledger.EvaluateBatch", "panel", "", &b.base, &rep),
                          200);
        assert_int_equal (rep->accepted, accepted);
        assert_int_equal (rep->duplicates, duplicates);
        assert_int_equal (rep->n_rejected, rejected);

        //  Medals, some for earlier months: one event per request / one batch.
        if (s_rand (3) == 0) {
            size_t m = 1 + s_rand (20);
            Tashan__Ledger__MedalEvent evs [20], *evp [20];
            char ids [20][16], pupils [20][8];
            Tashan__Ledger__BatchReply *r1 = NULL;
            unsigned ok = 0;
            for (size_t i = 0; i < m; i++) {
                tashan__ledger__medal_event__init (&evs [i]);
                snprintf (ids [i], sizeof ids [i], "ev%d", ++event_seq);
                snprintf (pupils [i], sizeof pupils [i], "%u", 100 + 3 * s_rand (EQ_PERSONS / 3));
                evs [i].event_id = ids [i];
                evs [i].pupil_no = pupils [i];
                evs [i].month = (char *) s_months [s_rand (round * MONTHS / EQ_ROUNDS + 1)];
                evs [i].medal = "star";
                evp [i] = &evs [i];
                Tashan__Ledger__MedalBatchRequest mr = TASHAN__LEDGER__MEDAL_BATCH_REQUEST__INIT;
                mr.events = &evp [i];
                mr.n_events = 1;
                assert_int_equal (fx_call (one, "ledger.SubmitMedals", "school", "S1", &mr.base,
                                           &r1), 200);
                ok += r1->accepted;
            }
            Tashan__Ledger__MedalBatchRequest mr = TASHAN__LEDGER__MEDAL_BATCH_REQUEST__INIT;
            mr.events = evp;
            mr.n_events = m;
            assert_int_equal (fx_call (many, "ledger.SubmitMedals", "school", "S1", &mr.base,
                                       &r1), 200);
            assert_int_equal (r1->accepted, ok);
        }
        //  Between requests: an appeal accepted, a consent flip, a move.
        uint32_t what = s_rand (10);
        if (what == 0) {
            Tashan__Ledger__EntryPage *page = fx_entries (one, people [s_rand (EQ_PERSONS)].id,
                                                          "", 1000, "");
            if (page->n_entries > 0) {
                Tashan__Ledger__FileAppealRequest fa = TASHAN__LEDGER__FILE_APPEAL_REQUEST__INIT;
                fa.entry_id = page->entries [s_rand ((uint32_t) page->n_entries)]->id;
                fa.reason = "equivalence";
                unsigned r1 = fx_call (one, "ledger.FileAppeal", "ops", "", &fa.base, NULL);
                assert_int_equal (fx_call (many, "ledger.FileAppeal", "ops", "", &fa.base, NULL),
                                  r1);
                if (r1 == 201) {
                    Tashan__Ledger__DecideAppealRequest da =
                        TASHAN__LEDGER__DECIDE_APPEAL_REQUEST__INIT;
                    char appeal_id [24];
                    Tashan__Ledger__ListAppealsRequest la =
                        TASHAN__LEDGER__LIST_APPEALS_REQUEST__INIT;
                    la.status = "open";
                    Tashan__Ledger__AppealPage *open = NULL;
                    assert_int_equal (fx_call (one, "ledger.ListAppeals", "ops", "", &la.base,
                                               &open), 200);
                    assert_true (open->n_appeals >= 1);
                    snprintf (appeal_id, sizeof appeal_id, "%s", open->appeals [0]->id);
                    da.id = appeal_id;
                    da.accept = true;
                    da.reason = "ok";
                    assert_int_equal (fx_call (one, "ledger.DecideAppeal", "ops", "", &da.base,
                                               NULL), 200);
                    assert_int_equal (fx_call (many, "ledger.DecideAppeal", "ops", "", &da.base,
                                               NULL), 200);
                }
            }
        }
        else
        if (what == 1) {
            s_person *p = &people [s_rand (EQ_PERSONS)];
            p->consent = !p->consent;
            s_eq_each (one, many, s_eq_announce, p);
        }
        else
        if (what == 2) {
            s_person *p = &people [s_rand (EQ_PERSONS)];
            snprintf (p->household, sizeof p->household, "h%u", s_rand (4));
            s_eq_each (one, many, s_eq_announce, p);
        }
        ts_arena_reset (one->arena);
        ts_arena_reset (many->arena);
    }
    //  The month sums as the tick leaves them: singles logged a record
    //  per request, batches fewer, the folded sums agree (and both logs
    //  are empty then).
    for (int i = 0; i < 4; i++) {
        assert_int_equal (ts_dispatch_tick (one->d), TS_OK);
        assert_int_equal (ts_dispatch_tick (many->d), TS_OK);
    }
    const char *tables [] = {
        "subjects", "pupils", "entries", "keys", "reversals", "rules", "config", "board",
        "hh_month", "bld_month", "sum_log", "households", "buildings", "appeals", "entry_appeal",
        "outbox", "inbox",
    };
    for (size_t i = 0; i < sizeof tables / sizeof tables [0]; i++)
        s_eq_table (one, many, tables [i]);
    //  And the derived figures agree with the entries (the walk's checks).
    for (int i = 0; i < EQ_PERSONS; i++) {
        Tashan__Ledger__PersonCredit *c = fx_credit (many, people [i].id);
        Tashan__Ledger__EntryPage *page = fx_entries (many, people [i].id, "", 1000, "");
        int64_t index = 1000, month = 0;
        for (size_t e = 0; e < page->n_entries; e++) {
            if (strcmp (page->entries [e]->kind, "redemption") == 0)
                continue;
            index += page->entries [e]->effective_points;
            if (strcmp (page->entries [e]->month, s_months [MONTHS - 1]) == 0)
                month += page->entries [e]->effective_points;
        }
        assert_int_equal (c->index, index);
        assert_int_equal (c->month_points, month);
    }
    fx_teardown ((void **) &many);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_random_walk, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_batch_equivalence, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
