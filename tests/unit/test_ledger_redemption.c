/*  test_ledger_redemption - the ledger's side of a card redemption: debit
    once per redemption, refuse with a reason, always answer. */
#include "test_ledger_fixture.h"

static unsigned
s_requested (fx_t *f, const char *id, const char *person, int64_t points)
{
    Tashan__Events__RedemptionRequest r = TASHAN__EVENTS__REDEMPTION_REQUEST__INIT;
    r.redemption_id = (char *) id;
    r.person_id = (char *) person;
    r.points = points;
    r.item = "notebook at 社区小超市";
    r.merchant_id = "m1";
    r.offer_id = "f1";
    return fx_event (f, FX_MERCHANTS, "redemption.requested", &r.base);
}

//  The answers in the outbox, newest last.
static size_t
s_settled (fx_t *f, Tashan__Events__RedemptionSettled **out, size_t max)
{
    Tashan__Event **ev;
    size_t n = ts_dispatch_events (f->d, 0, 1000, f->arena, &ev), k = 0;
    for (size_t i = 0; i < n && k < max; i++)
        if (strcmp (ev [i]->topic, "redemption.settled") == 0)
            out [k++] = tashan__events__redemption_settled__unpack (
                ts_arena_pb (f->arena), ev [i]->payload.len, ev [i]->payload.data);
    return k;
}

static void
s_earn (fx_t *f, const char *person, int times)
{
    static int s_keys;
    for (int i = 0; i < times; i++) {
        char key [32];
        snprintf (key, sizeof key, "%s-%d", person, ++s_keys);
        assert_int_equal (fx_evaluate (f, person, "civil_conduct.good", key, NULL), 201);
    }
}

static void
test_debit_once (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "小明", "h1", "12");
    s_earn (f, "p1", 2);                     //  6 points on the card
    assert_int_equal (fx_credit (f, "p1")->card, 6);
    assert_int_equal (s_requested (f, "i1", "p1", 4), 200);
    assert_int_equal (fx_credit (f, "p1")->card, 2);
    Tashan__Events__RedemptionSettled *s [8];
    assert_int_equal (s_settled (f, s, 8), 1);
    assert_true (s [0]->ok);
    assert_string_equal (s [0]->redemption_id, "i1");
    assert_int_equal (s [0]->card_after, 2);
    assert_true (s [0]->entry_id [0] == 'e');
    //  The statement says what and where.
    Tashan__Ledger__EntryPage *page = fx_entries (f, "p1", "", 100, "");
    Tashan__Ledger__Entry *last = page->entries [page->n_entries - 1];
    assert_string_equal (last->kind, "redemption");
    assert_string_equal (last->note, "notebook at 社区小超市");
    //  The same redemption again (a replay): no second debit, the same answer.
    assert_int_equal (s_requested (f, "i1", "p1", 4), 200);
    assert_int_equal (fx_credit (f, "p1")->card, 2);
    assert_int_equal (s_settled (f, s, 8), 2);
    assert_true (s [1]->ok);
    assert_string_equal (s [1]->entry_id, s [0]->entry_id);
}

static void
test_refusals (void **state)
{
    fx_t *f = *state;
    fx_person (f, "p1", "小明", "h1", "12");
    fx_person_full (f, "person.created", "p2", "小红", "h2", "12", "S1", "7", false, false);
    s_earn (f, "p1", 1);                     //  3 points
    assert_int_equal (s_requested (f, "i1", "p1", 4), 200);     //  card short
    assert_int_equal (s_requested (f, "i2", "p2", 1), 200);     //  no consent
    assert_int_equal (s_requested (f, "i3", "p9", 1), 200);     //  unknown
    Tashan__Events__RedemptionSettled *s [8];
    assert_int_equal (s_settled (f, s, 8), 3);
    for (int i = 0; i < 3; i++)
        assert_false (s [i]->ok);
    assert_non_null (strstr (s [0]->reason, "card balance 3 is less than 4"));
    assert_non_null (strstr (s [1]->reason, "consent"));
    assert_non_null (strstr (s [2]->reason, "no person p9"));
    assert_int_equal (fx_credit (f, "p1")->card, 3);
    //  A refused redemption may be asked again later, when the card holds
    //  enough (the merchants side makes a new redemption for it).
    s_earn (f, "p1", 1);
    assert_int_equal (s_requested (f, "i4", "p1", 4), 200);
    assert_int_equal (s_settled (f, s, 8), 4);
    assert_true (s [3]->ok);
    assert_int_equal (fx_credit (f, "p1")->card, 2);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_debit_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_refusals, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
