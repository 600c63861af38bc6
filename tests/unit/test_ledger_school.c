/*  test_ledger_school - medal batches (accepted, duplicates, rejected with
    reasons), own-pupils-only reads, medal months, revocation. */
#include "test_ledger_fixture.h"

static void
s_pupils (fx_t *f)
{
    fx_person_full (f, "person.created", "p1", "林小雨", "h1", "1", "S1", "1001", true, false);
    fx_person_full (f, "person.created", "p2", "高小山", "h2", "1", "S2", "2001", true, false);
    fx_person_full (f, "person.created", "p3", "何小溪", "h3", "2", "S1", "1003", true, false);
}

static Tashan__Ledger__MedalEvent *
s_medal (const char *event_id, const char *pupil, const char *month, const char *medal,
         const char *url)
{
    Tashan__Ledger__MedalEvent *m = calloc (1, sizeof *m);
    tashan__ledger__medal_event__init (m);
    m->event_id = (char *) event_id;
    m->pupil_no = (char *) pupil;
    m->month = (char *) month;
    m->medal = (char *) medal;
    m->evidence_url = (char *) url;
    return m;
}

static unsigned
s_submit (fx_t *f, const char *school, Tashan__Ledger__MedalEvent **events, size_t n,
          Tashan__Ledger__BatchReply **rep)
{
    Tashan__Ledger__MedalBatchRequest r = TASHAN__LEDGER__MEDAL_BATCH_REQUEST__INIT;
    r.events = events;
    r.n_events = n;
    return fx_call (f, "ledger.SubmitMedals", "school", school, &r.base, rep);
}

static unsigned
s_pupil (fx_t *f, const char *role, const char *school, const char *pupil, const char *month,
         Tashan__Ledger__PupilCredit **rep)
{
    Tashan__Ledger__PupilCreditRequest r = TASHAN__LEDGER__PUPIL_CREDIT_REQUEST__INIT;
    r.pupil_no = (char *) pupil;
    r.month = (char *) month;
    return fx_call (f, "ledger.PupilCredit", role, school, &r.base, rep);
}

static const char *
s_reason (Tashan__Ledger__BatchReply *rep, const char *event_id)
{
    for (size_t i = 0; i < rep->n_rejected; i++)
        if (strcmp (rep->rejected [i]->event_id, event_id) == 0)
            return rep->rejected [i]->reason;
    return NULL;
}

//  --------------------------------------------------------------------
static void
test_medal_batch (void **state)
{
    fx_t *f = *state;
    s_pupils (f);
    char long_medal [80];
    memset (long_medal, 'm', 65);
    long_medal [65] = 0;
    Tashan__Ledger__MedalEvent *ev [] = {
        s_medal ("ev1", "1001", "2026-03", "阅读之星", "https://school.example/b/ev1"),
        s_medal ("ev2", "2001", "2026-03", "阅读之星", ""),
        s_medal ("ev3", "9999", "2026-03", "阅读之星", ""),
        s_medal ("ev4", "1001", "2026-05", "阅读之星", ""),
        s_medal ("ev5", "1001", "2026-02", "劳动之星", ""),
        s_medal ("ev1", "1001", "2026-03", "阅读之星", "https://school.example/b/ev1"),
        s_medal ("ev6", "1001", "2026-03", long_medal, ""),
        s_medal ("ev7", "1001", "2026-03", "礼仪之星", "javascript:alert(1)"),
    };
    size_t n = sizeof ev / sizeof ev [0];
    Tashan__Ledger__BatchReply *rep = NULL;
    assert_int_equal (s_submit (f, "S1", ev, n, &rep), 200);
    assert_int_equal (rep->accepted, 2);
    assert_int_equal (rep->duplicates, 1);
    assert_int_equal (rep->n_rejected, 5);
    //  Another school's pupil and an unknown one: the same reason, byte
    //  for byte (a school learns nothing about other schools' pupils).
    assert_string_equal (s_reason (rep, "ev2"), "no pupil with this pupil_no at this school");
    assert_string_equal (s_reason (rep, "ev3"), s_reason (rep, "ev2"));
    assert_non_null (strstr (s_reason (rep, "ev4"), "future"));
    assert_non_null (strstr (s_reason (rep, "ev6"), "medal"));
    assert_non_null (strstr (s_reason (rep, "ev7"), "evidence_url"));
    //  The whole batch again: nothing new.
    assert_int_equal (s_submit (f, "S1", ev, n, &rep), 200);
    assert_int_equal (rep->accepted, 0);
    assert_int_equal (rep->duplicates, 3);
    assert_int_equal (rep->n_rejected, 5);
    //  Each medal counts in its own month.
    Tashan__Ledger__PupilCredit *pc = NULL;
    assert_int_equal (s_pupil (f, "school", "S1", "1001", "2026-03", &pc), 200);
    assert_string_equal (pc->pupil_no, "1001");
    assert_string_equal (pc->month, "2026-03");
    assert_int_equal (pc->month_points, 5);
    assert_int_equal (pc->index, 1010);
    assert_string_equal (pc->tier, "A");
    assert_int_equal (s_pupil (f, "school", "S1", "1001", "2026-02", &pc), 200);
    assert_int_equal (pc->month_points, 5);
    assert_int_equal (s_pupil (f, "school", "S1", "1001", "", &pc), 200);
    assert_string_equal (pc->month, "2026-03");
    Tashan__Ledger__EntryPage *page = fx_entries (f, "p1", "2026-02", 0, "");
    assert_int_equal (page->n_entries, 1);
    assert_string_equal (page->entries [0]->rule, "school.medal");
    assert_string_equal (page->entries [0]->source, "school");
    assert_string_equal (page->entries [0]->note, "劳动之星");
    page = fx_entries (f, "p1", "2026-03", 0, "");
    assert_string_equal (page->entries [0]->evidence_url, "https://school.example/b/ev1");
    //  Event ids are per school: S2 may use "ev1" for its own pupil.
    Tashan__Ledger__MedalEvent *ev_s2 [] = { s_medal ("ev1", "2001", "2026-03", "星", "") };
    assert_int_equal (s_submit (f, "S2", ev_s2, 1, &rep), 200);
    assert_int_equal (rep->accepted, 1);
    //  Limits and roles.
    assert_int_equal (s_submit (f, "S1", ev, 0, NULL), 400);
    Tashan__Ledger__MedalEvent **many = calloc (1001, sizeof *many);
    for (int i = 0; i < 1001; i++)
        many [i] = ev [0];
    assert_int_equal (s_submit (f, "S1", many, 1001, NULL), 400);
    free (many);
    assert_int_equal (s_submit (f, "", ev, 1, NULL), 403);
    Tashan__Ledger__MedalBatchRequest r = TASHAN__LEDGER__MEDAL_BATCH_REQUEST__INIT;
    r.events = ev;
    r.n_events = 1;
    assert_int_equal (fx_call (f, "ledger.SubmitMedals", "ops", "", &r.base, NULL), 403);
    for (size_t i = 0; i < n; i++)
        free (ev [i]);
    free (ev_s2 [0]);
}

static void
test_own_pupils_only (void **state)
{
    fx_t *f = *state;
    s_pupils (f);
    Tashan__Ledger__PupilCredit *pc = NULL;
    //  Another school's pupil reads as an unknown one: 404, same message.
    assert_int_equal (s_pupil (f, "school", "S1", "2001", "2026-03", &pc), 404);
    char other [256];
    snprintf (other, sizeof other, "%s", f->message);
    assert_int_equal (s_pupil (f, "school", "S2", "1001", "2026-03", &pc), 404);
    assert_string_equal (f->message, other);
    assert_int_equal (s_pupil (f, "school", "S1", "9999", "2026-03", &pc), 404);
    assert_string_equal (f->message, other);
    assert_int_equal (s_pupil (f, "school", "", "1001", "2026-03", &pc), 403);
    assert_int_equal (s_pupil (f, "ops", "", "1001", "2026-03", &pc), 403);
    assert_int_equal (s_pupil (f, "merchant", "m1", "1001", "2026-03", &pc), 403);
    assert_int_equal (s_pupil (f, "school", "S1", "1001", "2026-3", &pc), 400);
    assert_int_equal (s_pupil (f, "school", "S2", "2001", "2026-03", &pc), 200);
    assert_int_equal (pc->index, 1000);
    //  A pupil who changes school is the new school's pupil only.
    fx_person_full (f, "person.updated", "p1", "林小雨", "h1", "1", "S2", "2002", true, false);
    assert_int_equal (s_pupil (f, "school", "S1", "1001", "", &pc), 404);
    assert_int_equal (s_pupil (f, "school", "S2", "2002", "", &pc), 200);
    //  A pupil who moves out is nobody's.
    fx_person_full (f, "person.archived", "p2", "高小山", "h2", "1", "S2", "2001", true, true);
    assert_int_equal (s_pupil (f, "school", "S2", "2001", "", &pc), 404);
}

static void
test_revoke_and_caps (void **state)
{
    fx_t *f = *state;
    s_pupils (f);
    //  school.medal: +5, cap 20 a month: the fifth medal has no effect.
    Tashan__Ledger__MedalEvent *ev [5];
    char ids [5][8];
    for (int i = 0; i < 5; i++) {
        snprintf (ids [i], sizeof ids [i], "m%d", i);
        ev [i] = s_medal (ids [i], "1003", "2026-03", "星", "");
    }
    Tashan__Ledger__BatchReply *rep = NULL;
    assert_int_equal (s_submit (f, "S1", ev, 5, &rep), 200);
    assert_int_equal (rep->accepted, 5);
    Tashan__Ledger__PupilCredit *pc = NULL;
    assert_int_equal (s_pupil (f, "school", "S1", "1003", "2026-03", &pc), 200);
    assert_int_equal (pc->month_points, 20);
    //  Revoke m0: a reversal; a repeat answers the same reversal.
    Tashan__Ledger__RevokeMedalRequest rr = TASHAN__LEDGER__REVOKE_MEDAL_REQUEST__INIT;
    rr.event_id = "m0";
    Tashan__Ledger__Entry *rev = NULL, *again = NULL;
    assert_int_equal (fx_call (f, "ledger.RevokeMedal", "school", "S2", &rr.base, NULL), 404);
    assert_int_equal (fx_call (f, "ledger.RevokeMedal", "school", "S1", &rr.base, &rev), 201);
    assert_string_equal (rev->kind, "reversal");
    assert_int_equal (rev->effective_points, -5);
    assert_string_equal (rev->month, "2026-03");
    assert_int_equal (fx_call (f, "ledger.RevokeMedal", "school", "S1", &rr.base, &again), 200);
    assert_string_equal (again->id, rev->id);
    assert_int_equal (s_pupil (f, "school", "S1", "1003", "2026-03", &pc), 200);
    assert_int_equal (pc->month_points, 15);
    assert_int_equal (pc->index, 1015);
    //  The revoked medal's event id stays used.
    assert_int_equal (s_submit (f, "S1", ev, 1, &rep), 200);
    assert_int_equal (rep->duplicates, 1);
    rr.event_id = "nope";
    assert_int_equal (fx_call (f, "ledger.RevokeMedal", "school", "S1", &rr.base, NULL), 404);
    //  Revoking the medal that had no effect changes nothing but records it.
    rr.event_id = "m4";
    assert_int_equal (fx_call (f, "ledger.RevokeMedal", "school", "S1", &rr.base, &rev), 201);
    assert_int_equal (rev->effective_points, 0);
    assert_int_equal (fx_credit (f, "p3")->index, 1015);
    for (int i = 0; i < 5; i++)
        free (ev [i]);
}

//  Consent withdrawn: medals are recorded with no effect.
static void
test_medal_without_consent (void **state)
{
    fx_t *f = *state;
    s_pupils (f);
    fx_person_full (f, "person.updated", "p3", "何小溪", "h3", "2", "S1", "1003", false, false);
    Tashan__Ledger__MedalEvent *ev [] = { s_medal ("c1", "1003", "2026-03", "星", "") };
    Tashan__Ledger__BatchReply *rep = NULL;
    assert_int_equal (s_submit (f, "S1", ev, 1, &rep), 200);
    assert_int_equal (rep->accepted, 1);
    Tashan__Ledger__EntryPage *page = fx_entries (f, "p3", "", 0, "");
    assert_int_equal (page->n_entries, 1);
    assert_int_equal (page->entries [0]->effective_points, 0);
    assert_non_null (strstr (page->entries [0]->reason, "consent"));
    free (ev [0]);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_medal_batch, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_own_pupils_only, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_revoke_and_caps, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown (test_medal_without_consent, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
