/*  test_volunteers_fixture - a volunteers daemon on a temp dir driven
    through ts_dispatch (no sockets) with an injected clock: persons and
    needs fed as residents' events, methods called as ops, the tick run by
    hand. Shared by the unit tests and the dispatch benchmark (no cmocka
    here: helpers return status codes). */
#ifndef TEST_VOLUNTEERS_FIXTURE_H
#define TEST_VOLUNTEERS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.pb-c.h"
#include "test_fixture.h"
#include "ts_dispatch.h"
#include "volunteers.pb-c.h"
#include "volunteers_service.h"

//  2026-03-16 10:00 +08:00, a Monday.
#define VFX_T0 1773626400000LL

typedef struct {
    char dir [TEST_DIR_MAX];        //  temp data dir
    ts_dispatch *d;
    ts_arena *arena;                //  replies (reset by the caller)
    uint64_t seq;                   //  next residents event seq
    char message [256];             //  status message of the last call
} vfx_t;

static inline vfx_t *
vfx_new (void)
{
    vfx_t *f = calloc (1, sizeof *f);
    if (test_dir_make (f->dir, sizeof f->dir, "volunteers"))
        abort ();
    char err [256] = "";
    f->d = ts_dispatch_new (&volunteers_service, f->dir, err, sizeof err);
    if (!f->d) {
        fprintf (stderr, "ts_dispatch_new: %s\n", err);
        abort ();
    }
    ts_dispatch_set_now (f->d, VFX_T0);
    f->arena = ts_arena_new ();
    return f;
}

static inline void
vfx_destroy (vfx_t **f_p)
{
    vfx_t *f = *f_p;
    ts_dispatch_destroy (&f->d);
    ts_arena_destroy (&f->arena);
    test_dir_remove (f->dir);
    free (f);
    *f_p = NULL;
}

static inline void
vfx_now (vfx_t *f, int64_t now_ms)
{
    ts_dispatch_set_now (f->d, now_ms);
}

static inline unsigned
vfx_event (vfx_t *f, const char *topic, const ProtobufCMessage *payload)
{
    return test_event (f->d, f->arena, "residents", ++f->seq, topic, payload);
}

static inline unsigned
vfx_person (vfx_t *f, const char *id, const char *household, const char *grid)
{
    Tashan__Events__Person p = TASHAN__EVENTS__PERSON__INIT;
    p.person_id = (char *) id;
    p.household_id = (char *) household;
    p.grid = (char *) grid;
    p.name = (char *) id;
    return vfx_event (f, "person.created", &p.base);
}

static inline unsigned
vfx_need (vfx_t *f, const char *id, const char *household, const char *category)
{
    Tashan__Events__Need n = TASHAN__EVENTS__NEED__INIT;
    n.need_id = (char *) id;
    n.household_id = (char *) household;
    n.category = (char *) category;
    n.status = "open";
    return vfx_event (f, "need.opened", &n.base);
}

static inline unsigned
vfx_call (vfx_t *f, const char *method, const ProtobufCMessage *req, void *reply_p)
{
    Tashan__Caller caller = ts_caller ("ops", "", "ops1");
    ProtobufCMessage *reply = NULL;
    unsigned code = ts_dispatch_call (f->d, method, &caller, req, f->arena, &reply,
                                      f->message, sizeof f->message);
    if (reply_p)
        *(ProtobufCMessage **) reply_p = reply;
    return code;
}

//  A volunteer with one skill (and optionally one available weekday).
static inline unsigned
vfx_volunteer (vfx_t *f, const char *id, const char *skill, const char *weekday,
               uint32_t max_open)
{
    Tashan__Volunteers__RegisterRequest r = TASHAN__VOLUNTEERS__REGISTER_REQUEST__INIT;
    char *skills [] = { (char *) skill };
    char *days [] = { (char *) weekday };
    r.person_id = (char *) id;
    r.n_skills = 1;
    r.skills = skills;
    r.n_availability = weekday ? 1 : 0;
    r.availability = days;
    r.max_open_orders = max_open;
    return vfx_call (f, "volunteers.Register", &r.base, NULL);
}

static inline unsigned
vfx_order (vfx_t *f, const char *requester, const char *category, const char *key,
           const char *need_id, Tashan__Volunteers__Order **out)
{
    Tashan__Volunteers__CreateOrderRequest r = TASHAN__VOLUNTEERS__CREATE_ORDER_REQUEST__INIT;
    r.requester_person_id = (char *) requester;
    r.category = (char *) category;
    r.detail = "help";
    r.idempotency_key = (char *) key;
    r.need_id = (char *) (need_id ? need_id : "");
    return vfx_call (f, "volunteers.CreateOrder", &r.base, out);
}

static inline Tashan__Volunteers__Order *
vfx_get_order (vfx_t *f, const char *id)
{
    Tashan__Volunteers__GetRequest r = TASHAN__VOLUNTEERS__GET_REQUEST__INIT;
    r.id = (char *) id;
    Tashan__Volunteers__Order *o = NULL;
    if (vfx_call (f, "volunteers.GetOrder", &r.base, &o) != 200)
        return NULL;
    return o;
}

#endif
