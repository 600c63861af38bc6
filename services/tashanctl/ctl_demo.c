/*  ctl_demo - tashanctl demo and match: drive the residents daemon.

    demo [--seed N] [--months M]
                      residents.SeedDemo once per compound (one transaction
                      each; a repeat changes nothing), reproducible from N
    match --all [--assign] [--sample N]
                      residents.MatchAll: rank every open need against
                      every resource in one batch, optionally booking */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "residents.pb-c.h"

#define DEMO_COMPOUNDS 4

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

int
ctl_demo (ctl_t *ctl, int argc, char **argv)
{
    uint64_t seed = 42, months = 12;
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv [i], "--seed") == 0 && i + 1 < argc
        &&  s_parse_u64 (argv [i + 1], UINT64_MAX, &seed) == 0)
            i++;
        else
        if (strcmp (argv [i], "--months") == 0 && i + 1 < argc
        &&  s_parse_u64 (argv [i + 1], 24, &months) == 0 && months >= 1)
            i++;
        else {
            fprintf (stderr, "tashanctl: demo takes [--seed N] [--months 1..24] "
                     "(N a non-negative integer)\n");
            return 2;
        }
    }
    unsigned households = 0, persons = 0, buildings = 0, needs = 0, resources = 0, pupils = 0;
    bool already = true;
    for (uint32_t c = 0; c < DEMO_COMPOUNDS; c++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Residents__SeedDemoRequest req = TASHAN__RESIDENTS__SEED_DEMO_REQUEST__INIT;
        req.seed = seed;
        req.compound = c;
        Tashan__Residents__SeedDemoReply *rep = NULL;
        unsigned code = ctl_call (ctl, "residents", "residents.SeedDemo", &req.base,
                                  &tashan__residents__seed_demo_reply__descriptor, arena,
                                  (ProtobufCMessage **) &rep, 60000, false);
        if (code >= 400 || !rep) {
            ts_arena_destroy (&arena);
            return 1;
        }
        already = already && rep->already_seeded;
        buildings += rep->buildings;
        households += rep->households;
        persons += rep->persons;
        pupils += rep->pupils;
        needs += rep->needs;
        resources += rep->resources;
        ts_arena_destroy (&arena);
    }
    if (already)
        printf ("demo community already present (seed %llu): nothing changed\n",
                (unsigned long long) seed);
    else
        printf ("demo community (seed %llu): %u compounds, %u buildings, %u households, "
                "%u persons (%u pupils), %u needs, %u resources\n", (unsigned long long) seed,
                DEMO_COMPOUNDS, buildings, households, persons, pupils, needs, resources);
    int rc = ctl_demo_year (ctl, seed, (uint32_t) months);
    rc = rc ? rc : ctl_demo_volunteers (ctl, seed);
    return rc ? rc : ctl_demo_proposals (ctl);
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
