/*  ctl_demo - tashanctl demo and match: drive the residents daemon.

    demo [--seed N] [--months M] [--scale K] [--quiet] [--check]
                      first asks every daemon whether its store holds
                      data, and refuses (exit 1) when one does: the demo
                      seeds only an empty system, never restored or real
                      data (--check only asks: exit 0 empty, 1 not);
                      then residents.SeedDemo once per compound (one
                      transaction each; 4 × K compounds), reproducible
                      from N, and the other parts (ctl_demo.h); progress
                      on stderr unless --quiet
    match --all [--assign] [--sample N]
                      residents.MatchAll: rank every open need against
                      every resource in one batch, optionally booking */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_demo.h"
#include "residents.pb-c.h"

#define DEMO_COMPOUNDS 4
#define SEED_TIMEOUT_MS 120000      //  one compound's transaction on a loaded machine

static int
s_parse_u64 (const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno || *end || end == text || text [0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

typedef struct {
    ctl_demo_opts opts;
    bool quiet, check;
} s_args;

static int
s_parse (int argc, char **argv, s_args *a)
{
    uint64_t seed = 42, months = 12, scale = 1;
    for (int i = 0; i < argc; i++) {
        bool value = i + 1 < argc;
        if (strcmp (argv [i], "--seed") == 0 && value
        &&  s_parse_u64 (argv [i + 1], UINT64_MAX, &seed) == 0)
            i++;
        else
        if (strcmp (argv [i], "--months") == 0 && value
        &&  s_parse_u64 (argv [i + 1], CTL_DEMO_MONTHS_MAX, &months) == 0 && months >= 1)
            i++;
        else
        if (strcmp (argv [i], "--scale") == 0 && value
        &&  s_parse_u64 (argv [i + 1], CTL_DEMO_SCALE_MAX, &scale) == 0 && scale >= 1)
            i++;
        else
        if (strcmp (argv [i], "--quiet") == 0)
            a->quiet = true;
        else
        if (strcmp (argv [i], "--check") == 0)
            a->check = true;
        else {
            fprintf (stderr, "tashanctl: demo takes [--seed N] [--months 1..%d] "
                     "[--scale 1..%d] [--quiet] [--check] (N a non-negative integer)\n",
                     CTL_DEMO_MONTHS_MAX, CTL_DEMO_SCALE_MAX);
            return -1;
        }
    }
    a->opts.seed = seed;
    a->opts.months = (uint32_t) months;
    a->opts.scale = (uint32_t) scale;
    return 0;
}

const char *
ctl_demo_copy_name (ts_arena *arena, const char *name, uint32_t copy)
{
    assert (name);
    return copy ? ts_arena_printf (arena, "%s (%u区)", name, copy + 1) : name;
}

//  The residents part: 4 × scale compounds, one SeedDemo each.
static int
s_residents (ctl_t *ctl, const ctl_demo_opts *o)
{
    unsigned households = 0, persons = 0, buildings = 0, needs = 0, resources = 0, pupils = 0;
    uint32_t compounds = DEMO_COMPOUNDS * o->scale;
    for (uint32_t c = 0; c < compounds; c++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Residents__SeedDemoRequest req = TASHAN__RESIDENTS__SEED_DEMO_REQUEST__INIT;
        req.seed = o->seed;
        req.compound = c;
        Tashan__Residents__SeedDemoReply *rep = NULL;
        unsigned code = ctl_call (ctl, "residents", "residents.SeedDemo", &req.base,
                                  &tashan__residents__seed_demo_reply__descriptor, arena,
                                  (ProtobufCMessage **) &rep, SEED_TIMEOUT_MS, false);
        if (code >= 400 || !rep) {
            ts_arena_destroy (&arena);
            return 1;
        }
        buildings += rep->buildings;
        households += rep->households;
        persons += rep->persons;
        pupils += rep->pupils;
        needs += rep->needs;
        resources += rep->resources;
        ts_arena_destroy (&arena);
        ctl_progress_add (o->progress, "residents: compounds", CTL_DEMO_UNITS_COMPOUND);
    }
    printf ("demo community (seed %llu, scale %u): %u compounds, %u buildings, "
            "%u households, %u persons (%u pupils), %u needs, %u resources\n",
            (unsigned long long) o->seed, o->scale, compounds, buildings, households, persons,
            pupils, needs, resources);
    return 0;
}

//  Whether the demo may run: every daemon answers and no store holds data.
static int
s_stores_empty (ctl_t *ctl, bool check)
{
    bool holds;
    if (ctl_demo_stores_hold_data (ctl, &holds) != 0) {
        fprintf (stderr, "tashanctl: demo: not every daemon answered: nothing seeded\n");
        return 1;
    }
    if (holds && check)
        fprintf (stderr, "tashanctl: demo --check: the system holds data: a demo would be "
                 "refused\n");
    else
    if (holds)
        fprintf (stderr, "tashanctl: demo: refused: the system already holds data (a demo "
                 "seeds only an empty system, never real or restored data): nothing changed\n");
    if (holds)
        return 1;
    if (check)
        printf ("every store is empty: tashanctl demo would seed the demo community\n");
    return 0;
}

int
ctl_demo (ctl_t *ctl, int argc, char **argv)
{
    s_args a = { .quiet = false };
    if (s_parse (argc, argv, &a) != 0)
        return 2;
    int rc = s_stores_empty (ctl, a.check);
    if (rc || a.check)
        return rc;
    ctl_progress progress;
    uint32_t k = a.opts.scale;
    ctl_progress_init (&progress, a.quiet,
                       (uint64_t) k * (DEMO_COMPOUNDS * CTL_DEMO_UNITS_COMPOUND
                                       + a.opts.months * CTL_DEMO_UNITS_MONTH
                                       + 27 * CTL_DEMO_UNITS_MARKET + CTL_DEMO_UNITS_REST
                                       + CTL_DEMO_UNITS_ORDERS));
    a.opts.progress = &progress;
    rc = s_residents (ctl, &a.opts);
    rc = rc ? rc : ctl_demo_year (ctl, &a.opts);
    rc = rc ? rc : ctl_demo_volunteers (ctl, &a.opts);
    rc = rc ? rc : ctl_demo_proposals (ctl, &a.opts);
    ctl_progress_end (&progress);
    printf ("demo: %s in %.1f s (seed %llu, %u months, scale %u)\n",
            rc ? "FAILED" : "done", ctl_progress_seconds (&progress),
            (unsigned long long) a.opts.seed, a.opts.months, k);
    return rc;
}

int
ctl_match (ctl_t *ctl, int argc, char **argv)
{
    bool all = false, assign = false;
    uint64_t sample = 10;
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv [i], "--all") == 0)
            all = true;
        else
        if (strcmp (argv [i], "--assign") == 0)
            assign = true;
        else
        if (strcmp (argv [i], "--sample") == 0 && i + 1 < argc
        &&  s_parse_u64 (argv [i + 1], 1000, &sample) == 0)
            i++;
        else {
            fprintf (stderr, "tashanctl: match takes --all [--assign] [--sample N<=1000]\n");
            return 2;
        }
    }
    if (!all) {
        fprintf (stderr, "tashanctl: match needs --all (single needs: GET /v1/needs/{id}/matches)\n");
        return 2;
    }
    ts_arena *arena = ts_arena_new ();
    Tashan__Residents__MatchAllRequest req = TASHAN__RESIDENTS__MATCH_ALL_REQUEST__INIT;
    req.assign = assign;
    req.sample_size = (uint32_t) sample;
    Tashan__Residents__MatchAllReply *rep = NULL;
    unsigned code = ctl_call (ctl, "residents", "residents.MatchAll", &req.base,
                              &tashan__residents__match_all_reply__descriptor, arena,
                              (ProtobufCMessage **) &rep, 120000, false);
    if (code >= 400 || !rep) {
        ts_arena_destroy (&arena);
        return 1;
    }
    printf ("open needs %u, resources %u: matched %u (same building %u, same grid %u, "
            "community %u), unmatched %u, %s in %u ms\n", rep->open_needs, rep->resources,
            rep->matched, rep->same_building, rep->same_grid, rep->community, rep->unmatched,
            rep->assigned ? "booked" : "dry run", rep->elapsed_ms);
    for (size_t i = 0; i < rep->n_proposals; i++)
        printf ("  need %s -> resource %s (%s, urgency %u)\n", rep->proposals [i]->need_id,
                rep->proposals [i]->resource_id, rep->proposals [i]->distance,
                rep->proposals [i]->urgency);
    ts_arena_destroy (&arena);
    return 0;
}
