/*  bench_volunteers_dispatch - dispatching one service order with the
    seed's team (160 volunteers, 2 skills each from the needs vocabulary,
    10 grids, up to 20 open orders each) and 10,000 open orders, driven
    through ts_dispatch (the daemon's request path without the socket).

    The fixture goes through the real methods (Register, CreateOrder), so
    the 10,000 orders are dispatched as they come until every volunteer is
    full; the rest stay open. Each sample then frees one place (the
    volunteer of a dispatched order accepts it and marks it done, untimed)
    and times:
        pick    the ranking alone (vol_dispatch_pick in a read txn)
        create  volunteers.CreateOrder: validate, rank, write the order,
                the volunteer, the timer and the notification, commit
    Prints median and p99 of each. Not a timed test: figures only.

    Usage: bench_volunteers_dispatch [samples]  */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../unit/test_volunteers_fixture.h"
#include "volunteers_core.h"

#define VOLUNTEERS 160
#define REQUESTERS 500
#define GRIDS 10
#define OPEN_ORDERS 10000

static double
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static void
s_print (const char *what, double *us, size_t n)
{
    qsort (us, n, sizeof *us, s_cmp);
    printf ("%-8s median %8.1f us   p99 %8.1f us   max %8.1f us   (%zu samples)\n", what,
            us [n / 2], us [(n * 99) / 100], us [n - 1], n);
}

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;
static uint32_t
s_below (uint32_t n)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t) (s_rng % n);
}

int
main (int argc, char **argv)
{
    size_t samples = argc > 1 ? (size_t) atol (argv [1]) : 1000;
    if (samples < 10)
        samples = 10;
    size_t skill_count = 0;
    while (vol_skills [skill_count])
        skill_count++;
    vfx_t *f = vfx_new ();
    double t0 = s_now_us ();
    char id [32], hh [32], grid [16], key [32];
    for (int i = 1; i <= VOLUNTEERS + REQUESTERS; i++) {
        snprintf (id, sizeof id, "p%d", i);
        snprintf (hh, sizeof hh, "h%d", i);
        snprintf (grid, sizeof grid, "G%d", i % GRIDS);
        if (vfx_person (f, id, hh, grid) != 200)
            return 1;
    }
    for (int i = 1; i <= VOLUNTEERS; i++) {
        Tashan__Volunteers__RegisterRequest r = TASHAN__VOLUNTEERS__REGISTER_REQUEST__INIT;
        uint32_t a = s_below ((uint32_t) skill_count), b = (a + 1 + s_below (3)) % skill_count;
        char *skills [] = { (char *) vol_skills [a], (char *) vol_skills [b] };
        snprintf (id, sizeof id, "p%d", i);
        r.person_id = id;
        r.n_skills = 2;
        r.skills = skills;
        r.max_open_orders = 20;
        if (vfx_call (f, "volunteers.Register", &r.base, NULL) != 201)
            return 1;
    }
    size_t dispatched = 0;
    for (int i = 0; i < OPEN_ORDERS; i++) {
        Tashan__Volunteers__Order *o;
        snprintf (id, sizeof id, "p%d", VOLUNTEERS + 1 + (int) s_below (REQUESTERS));
        snprintf (key, sizeof key, "fx%d", i);
        if (vfx_order (f, id, vol_skills [s_below ((uint32_t) skill_count)], key, NULL, &o) != 201)
            return 1;
        dispatched += strcmp (o->state, "dispatched") == 0;
        if (i % 256 == 0)
            ts_arena_reset (f->arena);
    }
    printf ("setup: %d volunteers, %d orders (%zu dispatched, %zu open) in %.1f s\n",
            VOLUNTEERS, OPEN_ORDERS, dispatched, OPEN_ORDERS - dispatched,
            (s_now_us () - t0) / 1e6);
    double *pick_us = calloc (samples, sizeof (double));
    double *create_us = calloc (samples, sizeof (double));
    uint64_t next_order = 1;
    size_t n = 0;
    for (; n < samples && next_order <= OPEN_ORDERS + samples; ) {
        ts_arena_reset (f->arena);
        //  Free one place: the next dispatched order is accepted and done.
        snprintf (id, sizeof id, "o%llu", (unsigned long long) next_order++);
        Tashan__Volunteers__Order *o = vfx_get_order (f, id);
        if (!o || strcmp (o->state, "dispatched") != 0)
            continue;
        const char *category = ts_arena_strdup (f->arena, o->category);
        Tashan__Volunteers__AcceptRequest ar = TASHAN__VOLUNTEERS__ACCEPT_REQUEST__INIT;
        ar.id = id;
        ar.volunteer_person_id = o->volunteer_person_id;
        Tashan__Volunteers__DoneRequest dr = TASHAN__VOLUNTEERS__DONE_REQUEST__INIT;
        dr.id = id;
        dr.minutes = 30;
        if (vfx_call (f, "volunteers.Accept", &ar.base, NULL) != 200
        ||  vfx_call (f, "volunteers.Done", &dr.base, NULL) != 200)
            return 1;
        snprintf (hh, sizeof hh, "p%d", VOLUNTEERS + 1 + (int) s_below (REQUESTERS));
        //  The ranking alone, in a read transaction.
        ts_txn *txn = ts_txn_begin (ts_dispatch_store (f->d), false);
        ts_ctx ctx = { .txn = txn, .arena = f->arena, .now_ms = VFX_T0 };
        double t = s_now_us ();
        char *pick = vol_dispatch_pick (&ctx, category, "G1", hh, NULL, 0);
        pick_us [n] = s_now_us () - t;
        ts_txn_abort (&txn);
        if (!pick)
            return 1;
        //  The whole request, commit included.
        snprintf (key, sizeof key, "bench%zu", n);
        t = s_now_us ();
        unsigned code = vfx_order (f, hh, category, key, NULL, &o);
        create_us [n] = s_now_us () - t;
        if (code != 201 || strcmp (o->state, "dispatched") != 0)
            return 1;
        n++;
    }
    s_print ("pick", pick_us, n);
    s_print ("create", create_us, n);
    free (pick_us);
    free (create_us);
    vfx_destroy (&f);
    return 0;
}
