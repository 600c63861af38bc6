/*  test_residents_volunteers - residents applies need.served from the
    volunteers' closed loop: an open (or matched) need becomes served once;
    a replay, a second order's event or a closed need change nothing; an
    unknown need is refused without blocking the stream. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "events.pb-c.h"
#include "residents_core.h"
#include "residents_service.h"
#include "ts_dispatch.h"

typedef struct {
    char dir [64];
    ts_dispatch *d;
    ts_arena *arena;
    uint64_t seq;                   //  volunteers' next event seq
} fixture;

static int
s_setup (void **state)
{
    fixture *f = calloc (1, sizeof *f);
    snprintf (f->dir, sizeof f->dir, "/tmp/test_res_vol_XXXXXX");
    assert_non_null (mkdtemp (f->dir));
    char err [256];
    f->d = ts_dispatch_new (&residents_service, f->dir, err, sizeof err);
    assert_non_null (f->d);
    ts_dispatch_set_now (f->d, 1773626400000LL);
    f->arena = ts_arena_new ();
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture *f = *state;
    ts_dispatch_destroy (&f->d);
    ts_arena_destroy (&f->arena);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal (system (cmd), 0);
    free (f);
    return 0;
}

static unsigned
s_call (fixture *f, const char *method, const void *req, void *reply)
{
    Tashan__Caller ops = ts_caller ("ops", "", "tok-ops");
    ProtobufCMessage *rep = NULL;
    char message [256];
    unsigned code = ts_dispatch_call (f->d, method, &ops, (const ProtobufCMessage *) req,
                                      f->arena, &rep, message, sizeof message);
    if (reply)
        *(ProtobufCMessage **) reply = rep;
    return code;
}

static unsigned
s_served (fixture *f, const char *need_id, const char *order_id)
{
    Tashan__Events__NeedServed ns = TASHAN__EVENTS__NEED_SERVED__INIT;
    ns.need_id = (char *) need_id;
    ns.order_id = (char *) order_id;
    ns.volunteer_person_id = "p9";
    Tashan__Event ev = TASHAN__EVENT__INIT;
    ev.seq = ++f->seq;
    ev.topic = "need.served";
    ev.payload.len = protobuf_c_message_get_packed_size (&ns.base);
    ev.payload.data = ts_arena_alloc (f->arena, ev.payload.len + 1);
    protobuf_c_message_pack (&ns.base, ev.payload.data);
    return ts_dispatch_apply (f->d, "volunteers", &ev);
}

static res_need *
s_need (fixture *f, const char *id)
{
    Tashan__Residents__GetRequest g = TASHAN__RESIDENTS__GET_REQUEST__INIT;
    g.id = (char *) id;
    res_need *n = NULL;
    assert_int_equal (s_call (f, "residents.GetNeed", &g, &n), 200);
    return n;
}

//  "need.served" versions in a household's history.
static size_t
s_served_versions (fixture *f, const char *household)
{
    Tashan__Residents__PageRequest p = TASHAN__RESIDENTS__PAGE_REQUEST__INIT;
    p.id = (char *) household;
    p.page_size = 1000;
    Tashan__Residents__HistoryReply *h = NULL;
    assert_int_equal (s_call (f, "residents.GetHistory", &p, &h), 200);
    size_t n = 0;
    for (size_t i = 0; i < h->n_versions; i++)
        n += strcmp (h->versions [i]->action, "need.served") == 0;
    return n;
}

static void
test_need_served_once (void **state)
{
    fixture *f = *state;
    Tashan__Residents__CreateBuildingRequest b = TASHAN__RESIDENTS__CREATE_BUILDING_REQUEST__INIT;
    b.number = "7";
    b.grid = "G1";
    assert_int_equal (s_call (f, "residents.CreateBuilding", &b, NULL), 201);
    res_member_input m = TASHAN__RESIDENTS__MEMBER_INPUT__INIT;
    m.name = "Zhao";
    m.birth_year = 1945;
    res_member_input *members [1] = { &m };
    Tashan__Residents__CreateHouseholdRequest hr =
        TASHAN__RESIDENTS__CREATE_HOUSEHOLD_REQUEST__INIT;
    hr.building = "7";
    hr.room = "101";
    hr.members = members;
    hr.n_members = 1;
    res_household *hh = NULL;
    assert_int_equal (s_call (f, "residents.CreateHousehold", &hr, &hh), 201);
    char *household = strdup (hh->id);
    char *need_ids [2];
    for (int i = 0; i < 2; i++) {
        Tashan__Residents__OpenNeedRequest nr = TASHAN__RESIDENTS__OPEN_NEED_REQUEST__INIT;
        nr.household_id = household;
        nr.category = "repair";
        nr.detail = "tap";
        nr.urgency = 2;
        res_need *n = NULL;
        assert_int_equal (s_call (f, "residents.OpenNeed", &nr, &n), 201);
        need_ids [i] = strdup (n->id);
    }
    uint64_t head = ts_dispatch_outbox_head (f->d);
    //  An open need served by the loop: once.
    assert_int_equal (s_served (f, need_ids [0], "o1"), 200);
    assert_string_equal (s_need (f, need_ids [0])->status, "served");
    assert_int_equal (s_served_versions (f, household), 1);
    assert_int_equal (ts_dispatch_outbox_head (f->d), head + 1);     //  need.closed
    //  A replay of the same event (same seq) and another order's event.
    f->seq--;
    assert_int_equal (s_served (f, need_ids [0], "o1"), 200);
    assert_int_equal (s_served (f, need_ids [0], "o2"), 200);
    assert_int_equal (s_served_versions (f, household), 1);
    assert_int_equal (ts_dispatch_outbox_head (f->d), head + 1);
    //  A closed need stays closed.
    Tashan__Residents__SetNeedStatusRequest sr = TASHAN__RESIDENTS__SET_NEED_STATUS_REQUEST__INIT;
    sr.id = need_ids [1];
    sr.status = "closed";
    assert_int_equal (s_call (f, "residents.SetNeedStatus", &sr, NULL), 200);
    assert_int_equal (s_served (f, need_ids [1], "o3"), 200);
    assert_string_equal (s_need (f, need_ids [1])->status, "closed");
    //  An unknown need is refused (logged, skipped) and the stream goes on.
    uint64_t before = ts_dispatch_position (f->d, "volunteers");
    assert_true (s_served (f, "n999999", "o4") >= 200);
    assert_int_equal (ts_dispatch_position (f->d, "volunteers"), before + 1);
    assert_int_equal (s_served_versions (f, household), 1);
    free (household);
    free (need_ids [0]);
    free (need_ids [1]);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_need_served_once, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
