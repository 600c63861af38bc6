/*  test_ledger_core - evaluations, caps, tiers, the card, reversals and
    appeals, idempotency, month boundaries (Asia/Shanghai), consent, rules
    and settings, credit events from other daemons. */
#include "test_ledger_fixture.h"

//  --------------------------------------------------------------------
static void
test_defaults (void **state)
{
    fx_t *f = *state;
    Tashan__Ledger__ListRulesRequest lr = TASHAN__LEDGER__LIST_RULES_REQUEST__INIT;
    Tashan__Ledger__RuleList *rules = NULL;
    assert_int_equal (fx_call (f, "ledger.ListRules", "panel", "", &lr.base, &rules), 200);
    assert_int_equal (rules->n_rules, 11);
    const char *want [] = { "garbage_sorting.good", "garbage_sorting.bad", "parking.good",
                            "parking.bad", "civil_conduct.good", "civil_conduct.bad",
                            "volunteer.hour", "school.medal", "market.service",
                            "proposal.adopted" };
    for (size_t w = 0; w < 10; w++) {
        bool found = false;
        for (size_t i = 0; i < rules->n_rules; i++)
            found |= strcmp (rules->rules [i]->code, want [w]) == 0;
        assert_true (found);
    }
    Tashan__Ledger__GetSettingsRequest gs = TASHAN__LEDGER__GET_SETTINGS_REQUEST__INIT;
    Tashan__Ledger__Settings *s = NULL;
    assert_int_equal (fx_call (f, "ledger.GetSettings", "ops", "", &gs.base, &s), 200);
    assert_int_equal (s->n_tiers, 6);
    assert_string_equal (s->tiers [0]->tier, "AAA");
    assert_int_equal (s->tiers [0]->min_index, 1050);
    assert_string_equal (s->tiers [3]->tier, "B");
    assert_int_equal (s->tiers [3]->min_index, 850);
    assert_int_equal (s->red_list_size, 10);
}

//  --------------------------------------------------------------------
static void
test_evaluate_and_idempotency (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "王小明", "h1", "12");
    Tashan__Ledger__PersonCredit *c = fx_credit (f, "p1");
    assert_int_equal (c->index, 1000);
    assert_string_equal (c->tier, "A");
    assert_int_equal (c->card, 0);

    Tashan__Ledger__Entry *e = NULL, *again = NULL;
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "k1", &e), 201);
    assert_string_equal (e->kind, "earning");
    assert_string_equal (e->rule, "garbage_sorting.good");
    assert_int_equal (e->points, 2);
    assert_int_equal (e->effective_points, 2);
    assert_string_equal (e->source, "panel");
    assert_string_equal (e->month, "2026-03");
    assert_string_equal (e->created_at, "2026-03-15T12:00:00.000+08:00");
    assert_string_equal (e->person_id, "p1");
    //  A repeat: 200, the same entry, no second effect.
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "k1", &again), 200);
    assert_string_equal (again->id, e->id);
    c = fx_credit (f, "p1");
    assert_int_equal (c->index, 1002);
    assert_int_equal (c->card, 2);
    assert_int_equal (c->month_points, 2);
    //  The same key for another request: 409, nothing changes.
    assert_int_equal (fx_evaluate (f, "p1", "parking.good", "k1", NULL), 409);
    assert_int_equal (fx_credit (f, "p1")->index, 1002);
    //  Keys survive a restart.
    fx_reopen (f);
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "k1", &again), 200);
    assert_string_equal (again->id, e->id);
    assert_int_equal (fx_entries (f, "p1", "", 0, "")->n_entries, 1);
    //  A penalty touches the index only.
    assert_int_equal (fx_evaluate (f, "p1", "parking.bad", "k2", &e), 201);
    assert_string_equal (e->kind, "penalty");
    assert_int_equal (e->effective_points, -5);
    c = fx_credit (f, "p1");
    assert_int_equal (c->index, 997);
    assert_int_equal (c->card, 2);
    assert_int_equal (c->month_points, -3);
}

//  --------------------------------------------------------------------
static void
test_bad_input_changes_nothing (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "李四", "h1", "12");
    assert_int_equal (fx_evaluate (f, "p9", "garbage_sorting.good", "k1", NULL), 422);
    assert_int_equal (fx_evaluate (f, "p1", "no.such_rule", "k2", NULL), 422);
    assert_int_equal (fx_evaluate (f, "", "garbage_sorting.good", "k3", NULL), 400);
    assert_non_null (strstr (f->message, "person_id"));
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "", NULL), 400);
    assert_int_equal (fx_evaluate (f, "p 1", "garbage_sorting.good", "k4", NULL), 400);
    //  A note over 1,000 characters.
    char *note = calloc (1, 1100);
    memset (note, 'x', 1001);
    Tashan__Ledger__EvaluateRequest r = TASHAN__LEDGER__EVALUATE_REQUEST__INIT;
    r.person_id = "p1";
    r.rule = "parking.good";
    r.note = note;
    r.idempotency_key = "k5";
    assert_int_equal (fx_call (f, "ledger.Evaluate", "panel", "", &r.base, NULL), 400);
    assert_non_null (strstr (f->message, "note"));
    r.note = "";
    r.evidence_url = "ftp://example.org/x";
    assert_int_equal (fx_call (f, "ledger.Evaluate", "panel", "", &r.base, NULL), 400);
    free (note);
    //  Roles: a merchant may not evaluate; the panel may not give medals.
    r.evidence_url = "";
    assert_int_equal (fx_call (f, "ledger.Evaluate", "merchant", "m1", &r.base, NULL), 403);
    assert_int_equal (fx_evaluate (f, "p1", "school.medal", "k6", NULL), 403);
    //  Nothing was recorded.
    assert_int_equal (fx_entries (f, "p1", "", 0, "")->n_entries, 0);
    Tashan__Ledger__PersonCredit *c = fx_credit (f, "p1");
    assert_int_equal (c->index, 1000);
    assert_int_equal (c->card, 0);
    //  Unknown person on reads: 404.
    Tashan__Ledger__GetPersonRequest g = TASHAN__LEDGER__GET_PERSON_REQUEST__INIT;
    g.id = "p404";
    assert_int_equal (fx_call (f, "ledger.GetPerson", "ops", "", &g.base, NULL), 404);
    assert_int_equal (fx_call (f, "ledger.GetPerson", "panel", "", &g.base, NULL), 403);
}

//  --------------------------------------------------------------------
static void
test_monthly_cap (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "张三", "h1", "12");
    //  garbage_sorting.good: +2, cap 10 a month.
    Tashan__Ledger__Entry *e = NULL;
    char key [16];
    for (int i = 0; i < 5; i++) {
        snprintf (key, sizeof key, "g%d", i);
        assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", key, &e), 201);
        assert_int_equal (e->effective_points, 2);
        assert_string_equal (e->reason, "");
    }
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "g5", &e), 201);
    assert_int_equal (e->points, 2);
    assert_int_equal (e->effective_points, 0);
    assert_non_null (strstr (e->reason, "monthly cap"));
    assert_int_equal (fx_credit (f, "p1")->index, 1010);
    assert_int_equal (fx_entries (f, "p1", "2026-03", 0, "")->n_entries, 6);
    //  Another rule has its own cap.
    assert_int_equal (fx_evaluate (f, "p1", "parking.good", "q1", &e), 201);
    assert_int_equal (e->effective_points, 2);
    //  A new month, a new cap.
    ts_dispatch_set_now (f->d, T_APR15);
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "g6", &e), 201);
    assert_int_equal (e->effective_points, 2);
    assert_string_equal (e->month, "2026-04");
    //  A cap partly reached applies what is left and says so.
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "panel" };
    pr.code = "civil_conduct.good";
    pr.points = 4;
    pr.monthly_cap_points = 10;
    pr.n_roles = 1;
    pr.roles = roles;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 200);
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", "c1", &e), 201);
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", "c2", &e), 201);
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", "c3", &e), 201);
    assert_int_equal (e->points, 4);
    assert_int_equal (e->effective_points, 2);
    assert_non_null (strstr (e->reason, "2 of 4"));
    //  Penalties have caps too (absolute points).
    for (int i = 0; i < 5; i++) {
        snprintf (key, sizeof key, "b%d", i);
        assert_int_equal (fx_evaluate (f, "p1", "parking.bad", key, &e), 201);
    }
    assert_int_equal (e->effective_points, 0);
    assert_int_equal (fx_credit (f, "p1")->month_points, 2 + 10 - 20);
}

//  --------------------------------------------------------------------
static void
test_tiers_and_standing (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "赵六", "h1", "12");
    char key [16];
    Tashan__Ledger__Entry *e = NULL;
    //  1000 → A; first entry emits a standing event.
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.bad", "x0", &e), 201);
    assert_int_equal (fx_standing_count (f, "p1", "A"), 1);
    //  Down to 960 (A) then 955 (B).
    for (int i = 1; i < 8; i++) {
        snprintf (key, sizeof key, "x%d", i);
        const char *rule = i < 4 ? "garbage_sorting.bad" : i < 8 ? "parking.bad" : "";
        assert_int_equal (fx_evaluate (f, "p1", rule, key, &e), 201);
    }
    Tashan__Ledger__PersonCredit *c = fx_credit (f, "p1");
    assert_int_equal (c->index, 960);
    assert_string_equal (c->tier, "A");
    assert_int_equal (fx_standing_count (f, "p1", NULL), 1);
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.bad", "x9", &e), 201);
    c = fx_credit (f, "p1");
    assert_int_equal (c->index, 955);
    assert_string_equal (c->tier, "B");
    assert_int_equal (fx_standing_count (f, "p1", "B"), 1);

    //  Thresholds are data: raising B to 956 moves p1 to C and says so.
    Tashan__Ledger__Settings s = TASHAN__LEDGER__SETTINGS__INIT;
    Tashan__Ledger__Tier t [3], *tp [3];
    const char *names [] = { "A", "B", "C" };
    int64_t mins [] = { 1100, 956, 0 };
    for (int i = 0; i < 3; i++) {
        tashan__ledger__tier__init (&t [i]);
        t [i].tier = (char *) names [i];
        t [i].min_index = mins [i];
        tp [i] = &t [i];
    }
    s.tiers = tp;
    s.n_tiers = 3;
    s.red_list_size = 5;
    assert_int_equal (fx_call (f, "ledger.PutSettings", "panel", "", &s.base, NULL), 403);
    assert_int_equal (fx_call (f, "ledger.PutSettings", "ops", "", &s.base, NULL), 200);
    assert_string_equal (fx_credit (f, "p1")->tier, "C");
    assert_int_equal (fx_standing_count (f, "p1", "C"), 1);
    //  Bad settings: thresholds not decreasing, or one tier.
    t [1].min_index = 2000;
    assert_int_equal (fx_call (f, "ledger.PutSettings", "ops", "", &s.base, NULL), 400);
    t [1].min_index = 956;
    s.n_tiers = 1;
    assert_int_equal (fx_call (f, "ledger.PutSettings", "ops", "", &s.base, NULL), 400);
    s.n_tiers = 3;
    s.red_list_size = 0;
    assert_int_equal (fx_call (f, "ledger.PutSettings", "ops", "", &s.base, NULL), 400);
    assert_string_equal (fx_credit (f, "p1")->tier, "C");
}

//  --------------------------------------------------------------------
static void
test_card_and_overdraw (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "孙七", "h1", "12");
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", "k1", NULL), 201);
    assert_int_equal (fx_evaluate (f, "p1", "parking.bad", "k2", NULL), 201);
    Tashan__Ledger__PersonCredit *c = fx_credit (f, "p1");
    assert_int_equal (c->card, 3);
    assert_int_equal (c->index, 998);

    Tashan__Ledger__RedeemRequest r = TASHAN__LEDGER__REDEEM_REQUEST__INIT;
    r.person_id = "p1";
    r.points = 4;
    r.item = "holiday course";
    r.idempotency_key = "r1";
    assert_int_equal (fx_call (f, "ledger.Redeem", "ops", "", &r.base, NULL), 409);
    assert_non_null (strstr (f->message, "card"));
    c = fx_credit (f, "p1");
    assert_int_equal (c->card, 3);
    assert_int_equal (fx_entries (f, "p1", "", 0, "")->n_entries, 2);
    r.points = 3;
    r.idempotency_key = "r2";
    Tashan__Ledger__Entry *e = NULL, *again = NULL;
    assert_int_equal (fx_call (f, "ledger.Redeem", "ops", "", &r.base, &e), 201);
    assert_string_equal (e->kind, "redemption");
    assert_int_equal (e->points, 3);
    assert_int_equal (e->card_points, -3);
    assert_int_equal (fx_call (f, "ledger.Redeem", "ops", "", &r.base, &again), 200);
    assert_string_equal (again->id, e->id);
    c = fx_credit (f, "p1");
    assert_int_equal (c->card, 0);
    assert_int_equal (c->index, 998);       //  redemptions never touch the index
    assert_int_equal (c->month_points, -2);
    r.points = 1;
    r.idempotency_key = "r3";
    assert_int_equal (fx_call (f, "ledger.Redeem", "ops", "", &r.base, NULL), 409);
    r.points = 0;
    assert_int_equal (fx_call (f, "ledger.Redeem", "ops", "", &r.base, NULL), 400);
    r.points = 1;
    r.item = "";
    assert_int_equal (fx_call (f, "ledger.Redeem", "ops", "", &r.base, NULL), 400);
    r.item = "x";
    r.person_id = "p2";
    assert_int_equal (fx_call (f, "ledger.Redeem", "ops", "", &r.base, NULL), 422);
    assert_int_equal (fx_call (f, "ledger.Redeem", "panel", "", &r.base, NULL), 403);
}

//  --------------------------------------------------------------------
static void
test_appeals_and_reversal (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "周八", "h1", "12");
    Tashan__Ledger__Entry *pen = NULL, *earn = NULL;
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.bad", "k1", &pen), 201);
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "k2", &earn), 201);
    assert_int_equal (fx_credit (f, "p1")->index, 997);

    Tashan__Ledger__FileAppealRequest fa = TASHAN__LEDGER__FILE_APPEAL_REQUEST__INIT;
    fa.entry_id = pen->id;
    fa.reason = "the bin was the neighbour's";
    Tashan__Ledger__Appeal *a = NULL;
    assert_int_equal (fx_call (f, "ledger.FileAppeal", "ops", "", &fa.base, &a), 201);
    assert_string_equal (a->status, "open");
    assert_string_equal (a->person_id, "p1");
    //  One open appeal per entry.
    assert_int_equal (fx_call (f, "ledger.FileAppeal", "ops", "", &fa.base, NULL), 409);

    Tashan__Ledger__DecideAppealRequest da = TASHAN__LEDGER__DECIDE_APPEAL_REQUEST__INIT;
    da.id = a->id;
    da.accept = true;
    da.reason = "confirmed by the grid worker";
    Tashan__Ledger__Appeal *decided = NULL;
    assert_int_equal (fx_call (f, "ledger.DecideAppeal", "ops", "", &da.base, &decided), 200);
    assert_string_equal (decided->status, "accepted");
    assert_true (decided->reversal_entry_id [0] == 'e');
    assert_int_equal (fx_call (f, "ledger.DecideAppeal", "ops", "", &da.base, NULL), 409);
    Tashan__Ledger__PersonCredit *c = fx_credit (f, "p1");
    assert_int_equal (c->index, 1002);
    assert_int_equal (c->month_points, 2);
    //  The statement shows the penalty and its reversal.
    Tashan__Ledger__EntryPage *page = fx_entries (f, "p1", "2026-03", 0, "");
    assert_int_equal (page->n_entries, 3);
    assert_string_equal (page->entries [2]->kind, "reversal");
    assert_string_equal (page->entries [2]->reverses, pen->id);
    assert_int_equal (page->entries [2]->effective_points, 5);
    assert_string_equal (page->entries [0]->id, pen->id);
    //  A reversed entry cannot be appealed again; reversals neither.
    assert_int_equal (fx_call (f, "ledger.FileAppeal", "ops", "", &fa.base, NULL), 409);
    fa.entry_id = page->entries [2]->id;
    assert_int_equal (fx_call (f, "ledger.FileAppeal", "ops", "", &fa.base, NULL), 409);
    fa.entry_id = "e999";
    assert_int_equal (fx_call (f, "ledger.FileAppeal", "ops", "", &fa.base, NULL), 422);

    //  A rejected appeal needs a reason and keeps the entry.
    fa.entry_id = earn->id;
    fa.reason = "please check";
    assert_int_equal (fx_call (f, "ledger.FileAppeal", "ops", "", &fa.base, &a), 201);
    da.id = a->id;
    da.accept = false;
    da.reason = "";
    assert_int_equal (fx_call (f, "ledger.DecideAppeal", "ops", "", &da.base, NULL), 400);
    da.reason = "the panel saw it";
    assert_int_equal (fx_call (f, "ledger.DecideAppeal", "ops", "", &da.base, &decided), 200);
    assert_string_equal (decided->status, "rejected");
    assert_string_equal (decided->decision_reason, "the panel saw it");
    assert_int_equal (fx_credit (f, "p1")->index, 1002);
    //  The person's appeals: both, with their outcomes.
    Tashan__Ledger__ListAppealsRequest la = TASHAN__LEDGER__LIST_APPEALS_REQUEST__INIT;
    la.id = "p1";
    Tashan__Ledger__AppealPage *ap = NULL;
    assert_int_equal (fx_call (f, "ledger.ListAppeals", "ops", "", &la.base, &ap), 200);
    assert_int_equal (ap->n_appeals, 2);
    assert_string_equal (ap->appeals [0]->status, "accepted");
    assert_string_equal (ap->appeals [1]->status, "rejected");
    la.id = "";
    la.status = "rejected";
    assert_int_equal (fx_call (f, "ledger.ListAppeals", "ops", "", &la.base, &ap), 200);
    assert_int_equal (ap->n_appeals, 1);
    la.status = "maybe";
    assert_int_equal (fx_call (f, "ledger.ListAppeals", "ops", "", &la.base, NULL), 400);
}

//  A reversal of an earning takes back only what the card still holds,
//  and gives back the cap room the entry used.
static void
test_reversal_card_floor (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "吴九", "h1", "12");
    Tashan__Ledger__Entry *earn = NULL, *e = NULL;
    char key [16];
    for (int i = 0; i < 6; i++) {               //  +2 each, cap 10
        snprintf (key, sizeof key, "k%d", i);
        assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", key, &e), 201);
        if (i == 0)
            earn = e;
    }
    assert_int_equal (e->effective_points, 0);
    Tashan__Ledger__RedeemRequest r = TASHAN__LEDGER__REDEEM_REQUEST__INIT;
    r.person_id = "p1";
    r.points = 9;
    r.item = "shop";
    r.idempotency_key = "r1";
    assert_int_equal (fx_call (f, "ledger.Redeem", "ops", "", &r.base, NULL), 201);
    Tashan__Ledger__FileAppealRequest fa = TASHAN__LEDGER__FILE_APPEAL_REQUEST__INIT;
    fa.entry_id = earn->id;
    fa.reason = "recorded for the wrong person";
    Tashan__Ledger__Appeal *a = NULL;
    assert_int_equal (fx_call (f, "ledger.FileAppeal", "ops", "", &fa.base, &a), 201);
    Tashan__Ledger__DecideAppealRequest da = TASHAN__LEDGER__DECIDE_APPEAL_REQUEST__INIT;
    da.id = a->id;
    da.accept = true;
    assert_int_equal (fx_call (f, "ledger.DecideAppeal", "ops", "", &da.base, &a), 200);
    Tashan__Ledger__PersonCredit *c = fx_credit (f, "p1");
    assert_int_equal (c->index, 1008);
    assert_int_equal (c->card, 0);
    Tashan__Ledger__EntryPage *page = fx_entries (f, "p1", "", 0, "");
    assert_int_equal (page->n_entries, 8);
    assert_string_equal (page->entries [7]->kind, "reversal");
    assert_int_equal (page->entries [7]->effective_points, -2);
    assert_int_equal (page->entries [7]->card_points, -1);
    //  The cap room came back: the next one counts in full.
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "k9", &e), 201);
    assert_int_equal (e->effective_points, 2);
    assert_int_equal (fx_evaluate (f, "p1", "garbage_sorting.good", "k10", &e), 201);
    assert_int_equal (e->effective_points, 0);
}

//  --------------------------------------------------------------------
static void
test_month_boundaries (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "郑十", "h1", "12");
    Tashan__Ledger__Entry *e = NULL;
    ts_dispatch_set_now (f->d, T_MAR31_LAST);
    assert_int_equal (fx_evaluate (f, "p1", "parking.good", "k1", &e), 201);
    assert_string_equal (e->month, "2026-03");
    //  07:00 on 1 April in Shanghai is still 31 March in UTC.
    ts_dispatch_set_now (f->d, T_APR1_0700);
    assert_int_equal (fx_evaluate (f, "p1", "parking.good", "k2", &e), 201);
    assert_string_equal (e->month, "2026-04");
    assert_string_equal (e->created_at, "2026-04-01T07:00:00.000+08:00");
    assert_int_equal (fx_credit (f, "p1")->month_points, 2);
    assert_int_equal (fx_entries (f, "p1", "2026-03", 0, "")->n_entries, 1);
    assert_int_equal (fx_entries (f, "p1", "2026-04", 0, "")->n_entries, 1);
    assert_int_equal (fx_entries (f, "p1", "2026-05", 0, "")->n_entries, 0);
    Tashan__Ledger__ListEntriesRequest r = TASHAN__LEDGER__LIST_ENTRIES_REQUEST__INIT;
    r.id = "p1";
    r.month = "2026-13";
    assert_int_equal (fx_call (f, "ledger.ListEntries", "ops", "", &r.base, NULL), 400);
    r.month = "";
    r.id = "p2";
    assert_int_equal (fx_call (f, "ledger.ListEntries", "ops", "", &r.base, NULL), 404);
}

//  --------------------------------------------------------------------
static void
test_statement_paging (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "钱一", "h1", "12");
    char key [16];
    for (int i = 0; i < 5; i++) {
        snprintf (key, sizeof key, "k%d", i);
        ts_dispatch_set_now (f->d, i < 3 ? T_MAR15 : T_APR15);
        assert_int_equal (fx_evaluate (f, "p1", i % 2 ? "parking.good" : "parking.bad", key,
                                       NULL), 201);
    }
    Tashan__Ledger__EntryPage *p = fx_entries (f, "p1", "", 2, "");
    assert_int_equal (p->n_entries, 2);
    assert_true (p->next_page_token [0]);
    char *tok = strdup (p->next_page_token);
    p = fx_entries (f, "p1", "", 2, tok);
    assert_int_equal (p->n_entries, 2);
    assert_string_equal (p->entries [0]->month, "2026-03");
    assert_string_equal (p->entries [1]->month, "2026-04");
    free (tok);
    tok = strdup (p->next_page_token);
    p = fx_entries (f, "p1", "", 2, tok);
    assert_int_equal (p->n_entries, 1);
    assert_string_equal (p->next_page_token, "");
    free (tok);
    Tashan__Ledger__ListEntriesRequest r = TASHAN__LEDGER__LIST_ENTRIES_REQUEST__INIT;
    r.id = "p1";
    r.page_token = "zz";
    assert_int_equal (fx_call (f, "ledger.ListEntries", "ops", "", &r.base, NULL), 400);
    r.page_token = "";
    r.page_size = 1001;
    assert_int_equal (fx_call (f, "ledger.ListEntries", "ops", "", &r.base, NULL), 400);
}

//  --------------------------------------------------------------------
static void
test_consent (void **state)
{
    fx_t *f = *state;
    fx_person_full (f, "person.created", "p1", "冯二", "h1", "12", "", "", false, false);
    Tashan__Ledger__Entry *e = NULL;
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", "k1", &e), 201);
    assert_int_equal (e->effective_points, 0);
    assert_non_null (strstr (e->reason, "consent"));
    Tashan__Ledger__PersonCredit *c = fx_credit (f, "p1");
    assert_int_equal (c->index, 1000);
    assert_int_equal (c->card, 0);
    Tashan__Ledger__GetPersonRequest g = TASHAN__LEDGER__GET_PERSON_REQUEST__INIT;
    g.id = "p1";
    Tashan__Ledger__Consent *consent = NULL;
    assert_int_equal (fx_call (f, "ledger.GetConsent", "ops", "", &g.base, &consent), 200);
    assert_false (consent->credit_consent);
    assert_string_equal (consent->recorded_at, "2026-03-15T12:00:00.000+08:00");
    assert_true (consent->recorded_by [0]);
    //  Given later: scoring resumes.
    ts_dispatch_set_now (f->d, T_MAR15 + 3600 * 1000);
    fx_person_full (f, "person.updated", "p1", "冯二", "h1", "12", "", "", true, false);
    assert_int_equal (fx_evaluate (f, "p1", "civil_conduct.good", "k2", &e), 201);
    assert_int_equal (e->effective_points, 3);
    assert_int_equal (fx_call (f, "ledger.GetConsent", "ops", "", &g.base, &consent), 200);
    assert_true (consent->credit_consent);
    assert_string_equal (consent->recorded_at, "2026-03-15T13:00:00.000+08:00");
    //  A low index never blocks: a D-tier person still redeems the card.
    assert_int_equal (fx_credit (f, "p1")->card, 3);
}

//  --------------------------------------------------------------------
static void
test_credit_events (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "陈三", "h1", "12");
    Tashan__Events__CreditRequest cr = TASHAN__EVENTS__CREDIT_REQUEST__INIT;
    cr.idempotency_key = "order-17";
    cr.subject_id = "p1";
    cr.rule = "volunteer.hour";
    cr.quantity = 3;
    cr.note = "3 hours, happiness knocks";
    assert_int_equal (fx_event (f, FX_VOLUNTEERS, "credit.requested", &cr.base), 200);
    assert_int_equal (fx_credit (f, "p1")->index, 1003);
    //  The same key again (a new event): no second effect.
    assert_int_equal (fx_event (f, FX_VOLUNTEERS, "credit.requested", &cr.base), 200);
    assert_int_equal (fx_credit (f, "p1")->index, 1003);
    //  The same key from another producer is another fact, but the rule
    //  must allow that producer: proposals may not apply volunteer.hour.
    assert_int_equal (fx_event (f, FX_PROPOSALS, "credit.requested", &cr.base), 200);
    assert_int_equal (fx_credit (f, "p1")->index, 1003);
    cr.rule = "proposal.adopted";
    cr.quantity = 1;
    cr.month = "2026-02";
    assert_int_equal (fx_event (f, FX_PROPOSALS, "credit.requested", &cr.base), 200);
    Tashan__Ledger__PersonCredit *c = fx_credit (f, "p1");
    assert_int_equal (c->index, 1013);
    assert_int_equal (c->month_points, 3);      //  counted in February
    Tashan__Ledger__EntryPage *page = fx_entries (f, "p1", "2026-02", 0, "");
    assert_int_equal (page->n_entries, 1);
    assert_string_equal (page->entries [0]->source, "proposals");
    //  A future month or a bad quantity is skipped.
    cr.idempotency_key = "p-2";
    cr.month = "2026-09";
    assert_int_equal (fx_event (f, FX_PROPOSALS, "credit.requested", &cr.base), 200);
    cr.month = "";
    cr.quantity = 0;
    assert_int_equal (fx_event (f, FX_PROPOSALS, "credit.requested", &cr.base), 200);
    assert_int_equal (fx_credit (f, "p1")->index, 1013);

    //  Merchants: a unit known from merchant.registered earns standing.
    Tashan__Events__Merchant m = TASHAN__EVENTS__MERCHANT__INIT;
    m.merchant_id = "m7";
    m.name = "老王理发";
    assert_int_equal (fx_event (f, FX_MERCHANTS, "merchant.registered", &m.base), 200);
    cr.idempotency_key = "checkin-1";
    cr.subject_id = "m7";
    cr.rule = "market.service";
    cr.quantity = 1;
    assert_int_equal (fx_event (f, FX_MERCHANTS, "credit.requested", &cr.base), 200);
    assert_int_equal (fx_credit (f, "m7")->index, 1002);
    assert_int_equal (fx_standing_count (f, "m7", "A"), 1);
    //  An unknown subject is skipped.
    cr.idempotency_key = "checkin-2";
    cr.subject_id = "m8";
    assert_int_equal (fx_event (f, FX_MERCHANTS, "credit.requested", &cr.base), 200);
    Tashan__Ledger__GetPersonRequest g = TASHAN__LEDGER__GET_PERSON_REQUEST__INIT;
    g.id = "m8";
    assert_int_equal (fx_call (f, "ledger.GetPerson", "ops", "", &g.base, NULL), 404);
}

//  --------------------------------------------------------------------
static void
test_evaluate_batch (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "褚四", "h1", "12");
    fx_person (f, "p2", "卫五", "h2", "12");
    Tashan__Ledger__EvaluateRequest items [4], *ptrs [4];
    const char *persons [] = { "p1", "p2", "p404", "p1" };
    const char *keys [] = { "b1", "b2", "b3", "b1" };
    for (int i = 0; i < 4; i++) {
        tashan__ledger__evaluate_request__init (&items [i]);
        items [i].person_id = (char *) persons [i];
        items [i].rule = "parking.good";
        items [i].idempotency_key = (char *) keys [i];
        ptrs [i] = &items [i];
    }
    Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
    b.evaluations = ptrs;
    b.n_evaluations = 4;
    Tashan__Ledger__BatchReply *rep = NULL;
    assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &b.base, &rep), 200);
    assert_int_equal (rep->accepted, 2);
    assert_int_equal (rep->duplicates, 1);
    assert_int_equal (rep->n_rejected, 1);
    assert_string_equal (rep->rejected [0]->event_id, "b3");
    assert_non_null (strstr (rep->rejected [0]->reason, "p404"));
    assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &b.base, &rep), 200);
    assert_int_equal (rep->accepted, 0);
    assert_int_equal (rep->duplicates, 3);
    assert_int_equal (fx_credit (f, "p1")->index, 1002);
    //  A single evaluation with a key a batch used is a repeat (the same
    //  evaluation: 200 and its entry) or a conflict (another one: 409).
    Tashan__Ledger__Entry *e = NULL;
    assert_int_equal (fx_call (f, "ledger.Evaluate", "panel", "", &items [1].base, &e), 200);
    assert_string_equal (e->person_id, "p2");
    assert_int_equal (fx_evaluate (f, "p2", "parking.good", "b2", &e), 409);
    assert_non_null (strstr (f->message, "b2"));
    assert_int_equal (fx_evaluate (f, "p1", "parking.good", "b2", &e), 409);
    assert_int_equal (fx_credit (f, "p2")->index, 1002);
    assert_int_equal (fx_credit (f, "p1")->index, 1002);
    //  Keys are per role: the same key from ops is a new evaluation.
    assert_int_equal (fx_call (f, "ledger.Evaluate", "ops", "", &items [1].base, &e), 201);
    assert_int_equal (fx_credit (f, "p2")->index, 1004);
    //  Over 1,000 items: 400.
    b.n_evaluations = 1001;
    Tashan__Ledger__EvaluateRequest **many = calloc (1001, sizeof *many);
    for (int i = 0; i < 1001; i++)
        many [i] = &items [0];
    b.evaluations = many;
    assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &b.base, NULL), 400);
    free (many);
    b.n_evaluations = 0;
    assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &b.base, NULL), 400);
    assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "school", "S1", &b.base, NULL), 403);
}

//  --------------------------------------------------------------------
//  A statement of many entries spans chunks (a chunk holds the seqs of
//  at most LEDGER_CHUNK_MAX_BYTES of deltas): every page size, with and
//  without a month, lists each entry once, in order.

static size_t
s_list_all (fx_t *f, const char *person, const char *month, uint32_t page_size,
            char (*ids) [16], size_t max)
{
    size_t n = 0;
    char token [64] = "";
    for (int pages = 0; pages < 5000; pages++) {
        Tashan__Ledger__EntryPage *p = fx_entries (f, person, month, page_size, token);
        assert_true (p->n_entries <= (page_size ? page_size : 100));
        for (size_t i = 0; i < p->n_entries; i++) {
            assert_true (n < max);
            assert_string_equal (p->entries [i]->person_id, person);
            if (month [0])
                assert_string_equal (p->entries [i]->month, month);
            snprintf (ids [n++], 16, "%s", p->entries [i]->id);
        }
        if (!p->next_page_token [0])
            break;
        assert_true (p->n_entries > 0);
        snprintf (token, sizeof token, "%s", p->next_page_token);
        ts_arena_reset (f->arena);
    }
    return n;
}

//  A batch posts as single evaluations do (its entries are built in the
//  cache, its rules kept for the request, more than it keeps at once):
//  500 evaluations of one person in one batch, cycling through the 9
//  rules ops may apply (caps reached, a key repeated), leave the same
//  credit and the same entries, byte for byte but the id and person, as
//  the same 500 given one by one to another person.
#define AS_SINGLES_N 500

static const char *
s_ops_rule (int i)
{
    static const char *const rules [] = {
        "garbage_sorting.good", "garbage_sorting.bad", "parking.good", "parking.bad",
        "civil_conduct.good", "civil_conduct.bad", "volunteer.hour", "proposal.adopted",
        "programme.attended" };
    return rules [i % 9];
}

static Tashan__Ledger__Entry *
s_entry_packed_as (fx_t *f, const char *id, uint8_t *buf, size_t *size)
{
    Tashan__Ledger__GetEntryRequest g = TASHAN__LEDGER__GET_ENTRY_REQUEST__INIT;
    g.id = (char *) id;
    Tashan__Ledger__Entry *e = NULL;
    assert_int_equal (fx_call (f, "ledger.GetEntry", "ops", "", &g.base, &e), 200);
    e->id = "";
    e->person_id = "";
    *size = protobuf_c_message_pack (&e->base, buf);
    return e;
}

static void
test_batch_as_singles (void **state)
{
    static Tashan__Ledger__EvaluateRequest items [AS_SINGLES_N];
    static Tashan__Ledger__EvaluateRequest *ptrs [AS_SINGLES_N];
    static char keys [AS_SINGLES_N][16];
    fx_t *f = *state;
    fx_person (f, "p1", "褚四", "h1", "12");
    fx_person (f, "p2", "卫五", "h2", "12");
    for (int i = 0; i < AS_SINGLES_N; i++) {
        tashan__ledger__evaluate_request__init (&items [i]);
        items [i].person_id = "p1";
        items [i].rule = (char *) s_ops_rule (i * 7 / 3);
        items [i].note = "seen";
        snprintf (keys [i], sizeof keys [i], "k%d", i == 250 ? 3 : i);
        items [i].idempotency_key = keys [i];
        ptrs [i] = &items [i];
    }
    items [250] = items [3];
    Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
    b.evaluations = ptrs;
    b.n_evaluations = AS_SINGLES_N;
    Tashan__Ledger__BatchReply *rep = NULL;
    assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "ops", "", &b.base, &rep), 200);
    assert_int_equal (rep->accepted, AS_SINGLES_N - 1);
    assert_int_equal (rep->duplicates, 1);
    for (int i = 0; i < AS_SINGLES_N; i++) {
        Tashan__Ledger__EvaluateRequest one = items [i];
        char key [16];
        snprintf (key, sizeof key, "s%d", i == 250 ? 3 : i);
        one.person_id = "p2";
        one.idempotency_key = key;
        assert_int_equal (fx_call (f, "ledger.Evaluate", "ops", "", &one.base, NULL),
                          i == 250 ? 200 : 201);
        ts_arena_reset (f->arena);
    }
    Tashan__Ledger__PersonCredit *c1 = fx_credit (f, "p1"), *c2 = fx_credit (f, "p2");
    assert_int_equal (c1->index, c2->index);
    assert_int_equal (c1->card, c2->card);
    assert_int_equal (c1->month_points, c2->month_points);
    assert_string_equal (c1->tier, c2->tier);
    static char ids1 [AS_SINGLES_N][16], ids2 [AS_SINGLES_N][16];
    assert_int_equal (s_list_all (f, "p1", "", 100, ids1, AS_SINGLES_N), AS_SINGLES_N - 1);
    assert_int_equal (s_list_all (f, "p2", "", 100, ids2, AS_SINGLES_N), AS_SINGLES_N - 1);
    int capped = 0;
    for (int i = 0; i < AS_SINGLES_N - 1; i++) {
        uint8_t buf1 [1024], buf2 [1024];
        size_t n1, n2;
        Tashan__Ledger__Entry *e = s_entry_packed_as (f, ids1 [i], buf1, &n1);
        capped += e->reason [0] != 0;
        s_entry_packed_as (f, ids2 [i], buf2, &n2);
        assert_int_equal (n1, n2);
        assert_memory_equal (buf1, buf2, n1);
        ts_arena_reset (f->arena);
    }
    assert_true (capped > 0);
}

static void
test_statement_chunks (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "冯一", "h1", "12");
    fx_person (f, "p2", "陈二", "h1", "12");
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "panel" };
    pr.code = "t.one";
    pr.points = 1;
    pr.n_roles = 1;
    pr.roles = roles;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 200);
    //  March: 300 single evaluations for p1, p2 in between now and then
    //  (deltas of 1 and 2 bytes); April: two batches of 500 for p1.
    char key [16];
    int expected_march = 0;
    for (int i = 0; i < 300; i++) {
        snprintf (key, sizeof key, "m%d", i);
        assert_int_equal (fx_evaluate (f, "p1", "t.one", key, NULL), 201);
        expected_march++;
        for (int j = 0; j < (i % 50 == 0 ? 200 : i % 3); j++) {
            snprintf (key, sizeof key, "o%d.%d", i, j);
            assert_int_equal (fx_evaluate (f, "p2", "t.one", key, NULL), 201);
        }
        ts_arena_reset (f->arena);
    }
    ts_dispatch_set_now (f->d, T_APR15);
    static Tashan__Ledger__EvaluateRequest items [500];
    static Tashan__Ledger__EvaluateRequest *ptrs [500];
    static char keys [500][16];
    for (int batch = 0; batch < 2; batch++) {
        for (int i = 0; i < 500; i++) {
            tashan__ledger__evaluate_request__init (&items [i]);
            snprintf (keys [i], sizeof keys [i], "a%d.%d", batch, i);
            items [i].person_id = i % 7 == 3 ? "p2" : "p1";
            items [i].rule = "t.one";
            items [i].idempotency_key = keys [i];
            ptrs [i] = &items [i];
        }
        Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
        b.evaluations = ptrs;
        b.n_evaluations = 500;
        Tashan__Ledger__BatchReply *rep = NULL;
        assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &b.base, &rep), 200);
        assert_int_equal (rep->accepted, 500);
    }
    int expected_april = 2 * (500 - 71);
    assert_int_equal (fx_credit (f, "p1")->index, 1000 + expected_march + expected_april);
    assert_int_equal (fx_credit (f, "p1")->month_points, expected_april);

    static char all [2000][16], part [2000][16];
    size_t total = s_list_all (f, "p1", "", 1000, all, 2000);
    assert_int_equal (total, expected_march + expected_april);
    for (size_t i = 1; i < total; i++)
        assert_true (atoll (all [i] + 1) > atoll (all [i - 1] + 1));
    const uint32_t sizes [] = { 1, 7, 240, 241, 0 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes [0]; s++) {
        size_t n = s_list_all (f, "p1", "", sizes [s], part, 2000);
        assert_int_equal (n, total);
        for (size_t i = 0; i < n; i++)
            assert_string_equal (part [i], all [i]);
        n = s_list_all (f, "p1", "2026-04", sizes [s], part, 2000);
        assert_int_equal (n, expected_april);
        for (size_t i = 0; i < n; i++)
            assert_string_equal (part [i], all [expected_march + i]);
        n = s_list_all (f, "p1", "2026-03", sizes [s], part, 2000);
        assert_int_equal (n, expected_march);
        n = s_list_all (f, "p1", "2026-05", sizes [s], part, 2000);
        assert_int_equal (n, 0);
    }
    //  A token of one month is refused for another.
    Tashan__Ledger__EntryPage *p = fx_entries (f, "p1", "2026-03", 10, "");
    Tashan__Ledger__ListEntriesRequest r = TASHAN__LEDGER__LIST_ENTRIES_REQUEST__INIT;
    r.id = "p1";
    r.month = "2026-04";
    r.page_token = p->next_page_token;
    assert_int_equal (fx_call (f, "ledger.ListEntries", "ops", "", &r.base, NULL), 400);
}

//  --------------------------------------------------------------------
//  A batch that outgrows the map is run again on a bigger one (its
//  working set's cursors die with the aborted transaction): the store
//  ends exactly as if the map had been big enough.
static void
test_map_growth_mid_batch (void **state)
{
    (void) state;
    ts_store_set_initial_map_size (256 * 1024);
    fx_t *f = NULL;
    fx_setup ((void **) &f);
    char id [16], hh [16];
    for (int i = 0; i < 50; i++) {
        snprintf (id, sizeof id, "p%d", i + 1);
        snprintf (hh, sizeof hh, "h%d", i / 3);
        fx_person (f, id, "测试人", hh, i % 2 ? "1" : "2");
    }
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "panel" };
    pr.code = "t.one";
    pr.points = 1;
    pr.n_roles = 1;
    pr.roles = roles;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 200);
    static Tashan__Ledger__EvaluateRequest items [1000];
    static Tashan__Ledger__EvaluateRequest *ptrs [1000];
    static char ids [1000][16], keys [1000][32];
    for (int batch = 0; batch < 6; batch++) {
        for (int i = 0; i < 1000; i++) {
            tashan__ledger__evaluate_request__init (&items [i]);
            snprintf (ids [i], sizeof ids [i], "p%d", 1 + (i * 7 + batch) % 50);
            snprintf (keys [i], sizeof keys [i], "growth-%d-%d-with-a-longer-key", batch, i);
            items [i].person_id = ids [i];
            items [i].rule = i % 5 ? "t.one" : "parking.good";
            items [i].note = "the map grows under this batch";
            items [i].idempotency_key = keys [i];
            ptrs [i] = &items [i];
        }
        Tashan__Ledger__EvaluateBatchRequest b = TASHAN__LEDGER__EVALUATE_BATCH_REQUEST__INIT;
        b.evaluations = ptrs;
        b.n_evaluations = 1000;
        Tashan__Ledger__BatchReply *rep = NULL;
        assert_int_equal (fx_call (f, "ledger.EvaluateBatch", "panel", "", &b.base, &rep), 200);
        assert_int_equal (rep->accepted, 1000);
        ts_arena_reset (f->arena);
    }
    assert_true (ts_store_map_size (ts_dispatch_store (f->d)) > 256 * 1024);
    //  Each person: 120 evaluations, 24 of them parking.good (+2, cap 10).
    int64_t total = 0;
    for (int i = 0; i < 50; i++) {
        snprintf (id, sizeof id, "p%d", i + 1);
        Tashan__Ledger__PersonCredit *c = fx_credit (f, id);
        assert_int_equal (c->index - 1000, c->month_points);
        total += c->month_points;
        Tashan__Ledger__EntryPage *page = fx_entries (f, id, "2026-03", 1000, "");
        assert_int_equal (page->n_entries, 120);
    }
    assert_int_equal (total, 50 * (96 + 10));
    //  The keys hold: a repeat is a repeat, another request a conflict.
    Tashan__Ledger__Entry *e = NULL;
    assert_int_equal (fx_call (f, "ledger.Evaluate", "panel", "", &items [0].base, &e), 200);
    items [0].note = "another note";
    assert_int_equal (fx_call (f, "ledger.Evaluate", "panel", "", &items [0].base, &e), 409);
    fx_teardown ((void **) &f);
    ts_store_set_initial_map_size (64 * 1024 * 1024);
}

//  --------------------------------------------------------------------
static void
test_rules_as_data (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "蒋六", "h1", "12");
    Tashan__Ledger__PutRuleRequest pr = TASHAN__LEDGER__PUT_RULE_REQUEST__INIT;
    char *roles [] = { "panel", "ops" };
    pr.code = "stairwell.clean";
    pr.points = 1;
    pr.monthly_cap_points = 0;
    pr.n_roles = 2;
    pr.roles = roles;
    pr.description = "keeps the stairwell clean";
    Tashan__Ledger__Rule *rule = NULL;
    assert_int_equal (fx_call (f, "ledger.PutRule", "panel", "", &pr.base, NULL), 403);
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, &rule), 200);
    assert_string_equal (rule->code, "stairwell.clean");
    char key [16];
    for (int i = 0; i < 30; i++) {              //  no cap
        snprintf (key, sizeof key, "s%d", i);
        assert_int_equal (fx_evaluate (f, "p1", "stairwell.clean", key, NULL), 201);
    }
    assert_int_equal (fx_credit (f, "p1")->index, 1030);
    pr.points = 0;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 400);
    pr.points = 1001;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 400);
    pr.points = 1;
    char *bad_roles [] = { "panel", "janitor" };
    pr.roles = bad_roles;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 400);
    char *twice [] = { "ops", "ops" };
    pr.roles = twice;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 400);
    pr.roles = roles;
    pr.code = "bad code";
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 400);
    pr.code = "x";
    pr.monthly_cap_points = -1;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 400);
    //  Only the applying source named in roles may use a rule.
    char *school_only [] = { "school" };
    pr.code = "stairwell.clean";
    pr.monthly_cap_points = 0;
    pr.roles = school_only;
    pr.n_roles = 1;
    assert_int_equal (fx_call (f, "ledger.PutRule", "ops", "", &pr.base, NULL), 200);
    assert_int_equal (fx_evaluate (f, "p1", "stairwell.clean", "s99", NULL), 403);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_defaults, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_evaluate_and_idempotency, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_bad_input_changes_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_monthly_cap, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_tiers_and_standing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_card_and_overdraw, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_appeals_and_reversal, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_reversal_card_floor, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_month_boundaries, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_statement_paging, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_statement_chunks, fx_setup, fx_teardown),
        cmocka_unit_test (test_map_growth_mid_batch),
        cmocka_unit_test_setup_teardown (test_consent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_credit_events, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_evaluate_batch, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_batch_as_singles, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_rules_as_data, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
