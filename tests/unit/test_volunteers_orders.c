/*  test_volunteers_orders - the service-order state machine (every
    illegal transition refused with 409 and no effect), dispatch ranking,
    escalation timing, reminders and no-shows, all with an injected clock
    and no sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_volunteers_fixture.h"
#include "ts_time.h"
#include "volunteers_core.h"

#define HOUR 3600000LL

static int
s_setup (void **state)
{
    vfx_t *f = vfx_new ();
    //  Grid A: requester ra (household ha), volunteers a1, a2; grid B: b1.
    assert_int_equal (vfx_person (f, "p1", "h1", "A"), 200);    //  requester
    assert_int_equal (vfx_person (f, "p2", "h2", "A"), 200);
    assert_int_equal (vfx_person (f, "p3", "h3", "A"), 200);
    assert_int_equal (vfx_person (f, "p4", "h4", "B"), 200);
    assert_int_equal (vfx_person (f, "p5", "h5", "B"), 200);    //  leader
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    vfx_t *f = *state;
    vfx_destroy (&f);
    return 0;
}

//  The packed bytes of an order (to see "no effect").
static size_t
s_packed (vfx_t *f, const char *id, uint8_t *buf, size_t max)
{
    Tashan__Volunteers__Order *o = vfx_get_order (f, id);
    assert_non_null (o);
    size_t n = protobuf_c_message_get_packed_size (&o->base);
    assert_true (n <= max);
    protobuf_c_message_pack (&o->base, buf);
    return n;
}

//  Try one action on an order; returns the status.
static unsigned
s_act (vfx_t *f, const char *id, const char *action, const char *volunteer)
{
    if (strcmp (action, "accept") == 0) {
        Tashan__Volunteers__AcceptRequest r = TASHAN__VOLUNTEERS__ACCEPT_REQUEST__INIT;
        r.id = (char *) id;
        r.volunteer_person_id = (char *) volunteer;
        return vfx_call (f, "volunteers.Accept", &r.base, NULL);
    }
    if (strcmp (action, "decline") == 0) {
        Tashan__Volunteers__DeclineRequest r = TASHAN__VOLUNTEERS__DECLINE_REQUEST__INIT;
        r.id = (char *) id;
        r.volunteer_person_id = (char *) volunteer;
        r.reason = "busy";
        return vfx_call (f, "volunteers.Decline", &r.base, NULL);
    }
    if (strcmp (action, "done") == 0) {
        Tashan__Volunteers__DoneRequest r = TASHAN__VOLUNTEERS__DONE_REQUEST__INIT;
        r.id = (char *) id;
        r.minutes = 61;
        return vfx_call (f, "volunteers.Done", &r.base, NULL);
    }
    Tashan__Volunteers__ConfirmRequest r = TASHAN__VOLUNTEERS__CONFIRM_REQUEST__INIT;
    r.id = (char *) id;
    r.rating = 4;
    return vfx_call (f, "volunteers.Confirm", &r.base, NULL);
}

//  --------------------------------------------------------------------

static void
test_transition_table (void **state)
{
    (void) state;
    static const char *const states [] = { "open", "dispatched", "accepted", "done", "confirmed" };
    static const char *const actions [] = { "accept", "decline", "done", "confirm", "cancel" };
    int allowed = 0;
    for (size_t s = 0; s < 5; s++)
        for (size_t a = 0; a < 5; a++)
            allowed += vol_order_allowed (states [s], actions [a]);
    assert_int_equal (allowed, 4);
    assert_true (vol_order_allowed ("dispatched", "accept"));
    assert_true (vol_order_allowed ("dispatched", "decline"));
    assert_true (vol_order_allowed ("accepted", "done"));
    assert_true (vol_order_allowed ("done", "confirm"));
    assert_false (vol_order_allowed ("confirmed", "confirm"));
    assert_false (vol_order_allowed ("open", "accept"));
}

//  Walk one order through its life; in every state, every action but the
//  legal one answers 409 and changes neither the order nor the outbox.
static void
test_illegal_transitions_refused (void **state)
{
    vfx_t *f = *state;
    assert_int_equal (vfx_volunteer (f, "p2", "repair", NULL, 0), 201);
    assert_int_equal (vfx_need (f, "n1", "h1", "repair"), 200);
    Tashan__Volunteers__Order *o;
    assert_int_equal (vfx_order (f, "p1", "repair", "k1", "n1", &o), 201);
    assert_string_equal (o->state, "dispatched");
    assert_string_equal (o->volunteer_person_id, "p2");
    char *id = strdup (o->id);
    static const char *const actions [] = { "accept", "decline", "done", "confirm" };
    static const char *const legal [] = { "accept", "done", "confirm", NULL };
    for (size_t step = 0; step < 4; step++) {
        const char *cur = vfx_get_order (f, id)->state;
        for (size_t a = 0; a < 4; a++) {
            if (legal [step] && strcmp (actions [a], legal [step]) == 0)
                continue;
            if (step == 0 && strcmp (actions [a], "decline") == 0)
                continue;           //  legal too in dispatched: tested elsewhere
            uint8_t before [4096], after [4096];
            size_t nb = s_packed (f, id, before, sizeof before);
            uint64_t head = ts_dispatch_outbox_head (f->d);
            assert_int_equal (s_act (f, id, actions [a], "p2"), 409);
            assert_int_equal (s_packed (f, id, after, sizeof after), nb);
            assert_memory_equal (before, after, nb);
            assert_int_equal (ts_dispatch_outbox_head (f->d), head);
            assert_string_equal (vfx_get_order (f, id)->state, cur);
        }
        if (legal [step])
            assert_int_equal (s_act (f, id, legal [step], "p2"), 200);
    }
    o = vfx_get_order (f, id);
    assert_string_equal (o->state, "confirmed");
    assert_int_equal (o->n_events, 5);
    //  Exactly one credit and one need.served, the credit per started hour.
    Tashan__Event **events;
    size_t n = ts_dispatch_events (f->d, 0, 100, f->arena, &events);
    int credits = 0, served = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp (events [i]->topic, "credit.requested") == 0) {
            Tashan__Events__CreditRequest *cr = tashan__events__credit_request__unpack (
                ts_arena_pb (f->arena), events [i]->payload.len, events [i]->payload.data);
            assert_string_equal (cr->rule, "volunteer.hour");
            assert_string_equal (cr->subject_id, "p2");
            assert_int_equal (cr->quantity, 2);         //  61 minutes: 2 started hours
            credits++;
        }
        served += strcmp (events [i]->topic, "need.served") == 0;
    }
    assert_int_equal (credits, 1);
    assert_int_equal (served, 1);
    //  The wrong volunteer cannot accept; a bad rating is 400.
    assert_int_equal (vfx_order (f, "p1", "repair", "k2", NULL, &o), 201);
    assert_int_equal (s_act (f, o->id, "accept", "p3"), 409);
    Tashan__Volunteers__ConfirmRequest bad = TASHAN__VOLUNTEERS__CONFIRM_REQUEST__INIT;
    bad.id = o->id;
    bad.rating = 6;
    assert_int_equal (vfx_call (f, "volunteers.Confirm", &bad.base, NULL), 400);
    free (id);
}

static void
test_dispatch_ranking (void **state)
{
    vfx_t *f = *state;
    //  VFX_T0 is a Monday. p4 (grid B) is free, p2 (grid A) only on
    //  Tuesdays, p3 (grid A) any day.
    assert_int_equal (vfx_volunteer (f, "p4", "cleaning", NULL, 0), 201);
    assert_int_equal (vfx_volunteer (f, "p2", "cleaning", "tue", 2), 201);
    assert_int_equal (vfx_volunteer (f, "p3", "cleaning", NULL, 2), 201);
    Tashan__Volunteers__Order *o;
    //  Same grid first, then fewest open orders, then available today.
    assert_int_equal (vfx_order (f, "p1", "cleaning", "d1", NULL, &o), 201);
    assert_string_equal (o->volunteer_person_id, "p3");    //  A, 0 open, available
    assert_int_equal (vfx_order (f, "p1", "cleaning", "d2", NULL, &o), 201);
    assert_string_equal (o->volunteer_person_id, "p2");    //  A, 0 open beats 1 open
    assert_int_equal (vfx_order (f, "p1", "cleaning", "d3", NULL, &o), 201);
    assert_string_equal (o->volunteer_person_id, "p3");    //  both 1: available today
    assert_int_equal (vfx_order (f, "p1", "cleaning", "d4", NULL, &o), 201);
    assert_string_equal (o->volunteer_person_id, "p2");    //  p3 full (2)
    assert_int_equal (vfx_order (f, "p1", "cleaning", "d5", NULL, &o), 201);
    assert_string_equal (o->volunteer_person_id, "p4");    //  grid A full: other grid
    //  Never the requester: p4 asks, p4 is skipped.
    assert_int_equal (vfx_order (f, "p4", "cleaning", "d6", NULL, &o), 201);
    assert_string_equal (o->state, "open");
    assert_string_equal (o->volunteer_person_id, "");
    char *d6 = strdup (o->id);
    //  A decline goes to the next one and never back.
    assert_int_equal (vfx_order (f, "p5", "cleaning", "d7", NULL, &o), 201);
    assert_string_equal (o->volunteer_person_id, "p4");
    char *id = strdup (o->id);
    assert_int_equal (s_act (f, id, "decline", "p4"), 200);
    o = vfx_get_order (f, id);
    assert_string_equal (o->state, "open");                //  everyone else full
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_string_equal (vfx_get_order (f, id)->state, "open");
    //  Freed capacity: the tick dispatches open orders, not to a decliner.
    Tashan__Volunteers__ListOrdersRequest lr = TASHAN__VOLUNTEERS__LIST_ORDERS_REQUEST__INIT;
    lr.volunteer_person_id = "p3";
    lr.state = "dispatched";
    Tashan__Volunteers__ListOrdersReply *list;
    assert_int_equal (vfx_call (f, "volunteers.ListOrders", &lr.base, &list), 200);
    assert_int_equal (list->n_orders, 2);
    //  p3 declines one: it goes to p4 at once (free, other grid); the
    //  tick gives p3's freed place to the oldest open order, d6 (p4 asked
    //  for it, so p4 never gets it).
    assert_int_equal (s_act (f, list->orders [0]->id, "decline", "p3"), 200);
    assert_string_equal (vfx_get_order (f, list->orders [0]->id)->volunteer_person_id, "p4");
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_string_equal (vfx_get_order (f, d6)->volunteer_person_id, "p3");
    assert_string_equal (vfx_get_order (f, id)->state, "open");     //  p4 declined it
    //  p3 declines d6 (nobody else may take it); its place goes to d7.
    assert_int_equal (s_act (f, d6, "decline", "p3"), 200);
    assert_string_equal (vfx_get_order (f, d6)->state, "open");
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_string_equal (vfx_get_order (f, d6)->state, "open");
    o = vfx_get_order (f, id);
    assert_string_equal (o->state, "dispatched");
    assert_string_equal (o->volunteer_person_id, "p3");
    free (d6);
    //  Rank order, pure.
    vol_rank a = { 0, 2, 1 }, b = { 1, 0, 0 }, c = { 0, 2, 0 };
    assert_true (vol_rank_better (&a, &b));
    assert_true (vol_rank_better (&c, &a));
    assert_false (vol_rank_better (&a, &a));
    assert_int_equal (vol_weekday (VFX_T0), 0);
    free (id);
}

//  An escalation event's count on an order.
static size_t
s_escalations (Tashan__Volunteers__Order *o)
{
    size_t n = 0;
    for (size_t i = 0; i < o->n_events; i++)
        n += strcmp (o->events [i]->kind, "escalated") == 0;
    return n;
}

static void
test_escalation_timing (void **state)
{
    vfx_t *f = *state;
    assert_int_equal (vfx_volunteer (f, "p5", "other", NULL, 0), 201);
    assert_int_equal (vfx_volunteer (f, "p2", "transport", NULL, 0), 201);
    Tashan__Volunteers__CreateCircleRequest cr = TASHAN__VOLUNTEERS__CREATE_CIRCLE_REQUEST__INIT;
    cr.name = "mutual aid";
    cr.kind = "elderly_mutual_aid";
    cr.leader_person_id = "p5";
    Tashan__Volunteers__Circle *circle;
    assert_int_equal (vfx_call (f, "volunteers.CreateCircle", &cr.base, &circle), 201);
    Tashan__Volunteers__AddMemberRequest am = TASHAN__VOLUNTEERS__ADD_MEMBER_REQUEST__INIT;
    am.id = circle->id;
    am.person_id = "p2";
    assert_int_equal (vfx_call (f, "volunteers.AddMember", &am.base, NULL), 201);
    Tashan__Volunteers__Order *o;
    assert_int_equal (vfx_order (f, "p1", "transport", "e1", NULL, &o), 201);
    char *id = strdup (o->id);
    //  Default: 2 h to accept, then 2 h more before ops.
    vfx_now (f, VFX_T0 + 2 * HOUR - 1);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_false (vfx_get_order (f, id)->escalated);
    vfx_now (f, VFX_T0 + 2 * HOUR);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    o = vfx_get_order (f, id);
    assert_true (o->escalated);
    assert_int_equal (o->escalation_level, 1);
    assert_string_equal (o->escalated_to, "p5");
    assert_int_equal (s_escalations (o), 1);
    assert_int_equal (ts_dispatch_tick (f->d), 200);       //  no second time
    assert_int_equal (s_escalations (vfx_get_order (f, id)), 1);
    vfx_now (f, VFX_T0 + 4 * HOUR - 1);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_int_equal (vfx_get_order (f, id)->escalation_level, 1);
    vfx_now (f, VFX_T0 + 4 * HOUR);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    o = vfx_get_order (f, id);
    assert_int_equal (o->escalation_level, 2);
    assert_string_equal (o->escalated_to, "ops");
    assert_int_equal (s_escalations (o), 2);
    //  The leader got a notification.
    Tashan__Volunteers__ListNotificationsRequest nr =
        TASHAN__VOLUNTEERS__LIST_NOTIFICATIONS_REQUEST__INIT;
    nr.person_id = "p5";
    Tashan__Volunteers__ListNotificationsReply *feed;
    assert_int_equal (vfx_call (f, "volunteers.ListNotifications", &nr.base, &feed), 200);
    assert_int_equal (feed->n_notifications, 1);
    assert_string_equal (feed->notifications [0]->kind, "order_escalated");
    //  Accepted late: due after settings.due_after_ms (set to 3 h here),
    //  reminders 2 h before, escalation at the due time.
    Tashan__Volunteers__Settings st = TASHAN__VOLUNTEERS__SETTINGS__INIT;
    st.due_after_ms = 3 * HOUR;
    assert_int_equal (vfx_call (f, "volunteers.SetSettings", &st.base, NULL), 200);
    int64_t t = VFX_T0 + 5 * HOUR;
    vfx_now (f, t);
    assert_int_equal (s_act (f, id, "accept", "p2"), 200);
    vfx_now (f, t + HOUR);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    nr.person_id = "p2";
    assert_int_equal (vfx_call (f, "volunteers.ListNotifications", &nr.base, &feed), 200);
    assert_int_equal (feed->n_notifications, 2);           //  dispatched, reminder 2 h
    assert_string_equal (feed->notifications [1]->kind, "order_reminder");
    vfx_now (f, t + 3 * HOUR - 1);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_int_equal (s_escalations (vfx_get_order (f, id)), 2);
    vfx_now (f, t + 3 * HOUR);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    o = vfx_get_order (f, id);
    assert_int_equal (s_escalations (o), 3);
    assert_int_equal (o->escalation_level, 1);
    assert_non_null (strstr (o->events [o->n_events - 1]->note, "due"));
    //  Done in time stops it: no more escalation.
    assert_int_equal (s_act (f, id, "done", NULL), 200);
    vfx_now (f, t + 10 * HOUR);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_int_equal (s_escalations (vfx_get_order (f, id)), 3);
    //  An order nobody can take goes straight to ops.
    vfx_now (f, t + 11 * HOUR);
    assert_int_equal (vfx_order (f, "p1", "legal", "e2", NULL, &o), 201);
    free (id);
    id = strdup (o->id);
    vfx_now (f, t + 13 * HOUR);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    o = vfx_get_order (f, id);
    assert_int_equal (o->escalation_level, 2);
    assert_string_equal (o->escalated_to, "ops");
    Tashan__Volunteers__ListOrdersRequest lr = TASHAN__VOLUNTEERS__LIST_ORDERS_REQUEST__INIT;
    lr.escalated = true;
    Tashan__Volunteers__ListOrdersReply *list;
    assert_int_equal (vfx_call (f, "volunteers.ListOrders", &lr.base, &list), 200);
    assert_int_equal (list->n_orders, 2);
    free (id);
}

static void
test_reminders_and_no_shows (void **state)
{
    vfx_t *f = *state;
    Tashan__Volunteers__CreateProjectRequest pr = TASHAN__VOLUNTEERS__CREATE_PROJECT_REQUEST__INIT;
    pr.name = "形体礼仪课";
    pr.kind = "programme";
    Tashan__Volunteers__Project *p;
    assert_int_equal (vfx_call (f, "volunteers.CreateProject", &pr.base, &p), 201);
    Tashan__Volunteers__CreateSessionRequest sr = TASHAN__VOLUNTEERS__CREATE_SESSION_REQUEST__INIT;
    sr.id = p->id;
    char starts [40];
    int64_t starts_ms = VFX_T0 + 48 * HOUR;
    ts_time_format (starts_ms, starts, sizeof starts);
    sr.starts_at = starts;
    sr.place = "睦邻空间";
    sr.capacity = 2;
    sr.duration_minutes = 60;
    Tashan__Volunteers__Session *s;
    assert_int_equal (vfx_call (f, "volunteers.CreateSession", &sr.base, &s), 201);
    char *sid = strdup (s->id);
    Tashan__Volunteers__SignUpRequest su = TASHAN__VOLUNTEERS__SIGN_UP_REQUEST__INIT;
    su.id = sid;
    su.person_id = "p1";
    assert_int_equal (vfx_call (f, "volunteers.SignUp", &su.base, NULL), 201);
    su.person_id = "p2";
    assert_int_equal (vfx_call (f, "volunteers.SignUp", &su.base, NULL), 201);
    su.person_id = "p3";
    assert_int_equal (vfx_call (f, "volunteers.SignUp", &su.base, NULL), 409);  //  full
    Tashan__Volunteers__ListNotificationsRequest nr =
        TASHAN__VOLUNTEERS__LIST_NOTIFICATIONS_REQUEST__INIT;
    nr.person_id = "p1";
    Tashan__Volunteers__ListNotificationsReply *feed;
    vfx_now (f, starts_ms - 24 * HOUR);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_int_equal (vfx_call (f, "volunteers.ListNotifications", &nr.base, &feed), 200);
    assert_int_equal (feed->n_notifications, 1);
    assert_non_null (strstr (feed->notifications [0]->text, "24 h"));
    vfx_now (f, starts_ms - 2 * HOUR);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_int_equal (vfx_call (f, "volunteers.ListNotifications", &nr.base, &feed), 200);
    assert_int_equal (feed->n_notifications, 2);
    //  Attended p1; p2 never came: no-show after the end.
    vfx_now (f, starts_ms + 10 * 60000);
    Tashan__Volunteers__AttendRequest ar = TASHAN__VOLUNTEERS__ATTEND_REQUEST__INIT;
    ar.id = sid;
    ar.person_id = "p1";
    ar.minutes = 50;
    assert_int_equal (vfx_call (f, "volunteers.Attend", &ar.base, NULL), 201);
    assert_int_equal (vfx_call (f, "volunteers.Attend", &ar.base, NULL), 409);
    vfx_now (f, starts_ms + HOUR - 1);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    Tashan__Volunteers__GetRequest gr = TASHAN__VOLUNTEERS__GET_REQUEST__INIT;
    gr.id = sid;
    assert_int_equal (vfx_call (f, "volunteers.GetSession", &gr.base, &s), 200);
    assert_string_equal (s->signups [1]->status, "signed_up");
    vfx_now (f, starts_ms + HOUR);
    assert_int_equal (ts_dispatch_tick (f->d), 200);
    assert_int_equal (vfx_call (f, "volunteers.GetSession", &gr.base, &s), 200);
    assert_int_equal (s->n_signups, 2);
    assert_string_equal (s->signups [0]->status, "attended");
    assert_string_equal (s->signups [1]->status, "no_show");
    assert_true (s->closed);
    nr.person_id = "p2";
    assert_int_equal (vfx_call (f, "volunteers.ListNotifications", &nr.base, &feed), 200);
    assert_string_equal (feed->notifications [feed->n_notifications - 1]->kind, "no_show");
    //  The programme credit: programme.attended, once.
    Tashan__Event **events;
    size_t n = ts_dispatch_events (f->d, 0, 100, f->arena, &events);
    int credits = 0;
    for (size_t i = 0; i < n; i++)
        credits += strcmp (events [i]->topic, "credit.requested") == 0;
    assert_int_equal (credits, 1);
    free (sid);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_transition_table),
        cmocka_unit_test_setup_teardown (test_illegal_transitions_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_dispatch_ranking, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_escalation_timing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reminders_and_no_shows, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
