/*  =========================================================================
    residents_match - the batch match of every open need against every
    resource (tashanctl match --all: residents.MatchAll)

    Needs are served most urgent first (then oldest). For each need the
    best resource of its category with capacity left is taken, looking in
    the need's building first, then its grid, then the whole community;
    within a tier the one with most capacity left among the first
    CANDIDATES_MAX still available wins (the same order as the ranking of
    one need, residents_needs.c, bounded so a batch stays linear).

    How it stays fast (100,000 needs x 50,000 resources in well under 2 s
    on 2 cores, see tests/bench/bench_residents_match.c): every record is
    decoded once into a compact struct; building numbers and grids are
    interned to small integers; resources are sorted three ways (category
    + building, category + grid, category) so a tier is one binary search;
    exhausted resources are skipped with path-compressed "next available"
    links, so each need costs O(log R) plus amortised O(1).

    With assign set, the proposals are booked: needs become matched,
    resources' weekly bookings go up, and each household touched gets one
    new version of its file.
    =========================================================================
*/
#include "residents_core.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ts_valid.h"

#define CANDIDATES_MAX 8
#define SCRATCH_RESET_ROWS 1024
#define SAMPLE_DEFAULT 100

typedef struct {
    uint64_t id;                    //  need id
    uint64_t household;             //  household id
    uint64_t person;                //  person in need (0: the household)
    uint32_t building;              //  interned building number (0: none)
    uint32_t grid;                  //  interned grid (0: none)
    uint8_t category;               //  index in residents_categories
    uint8_t urgency;                //  1..3
} m_need;

typedef struct {
    uint64_t id;                    //  resource id
    uint64_t person;                //  providing person (0: a unit)
    uint32_t building;              //  interned building number (0: none)
    uint32_t grid;                  //  interned grid (0: none)
    uint32_t capacity;              //  per week
    uint32_t left;                  //  capacity left this week (goes down)
    uint8_t category;
} m_res;

//  One way of sorting the resources, with "next available" links.
typedef struct {
    uint32_t *order;                //  resource indices
    uint64_t *keys;                 //  (category << 32) | building-or-grid-or-0
    uint32_t *next;                 //  skip links (n + 1 entries)
    uint32_t n;
} m_index;

typedef struct {
    const char **strings;           //  interned strings (arena)
    uint32_t *ids;                  //  their ids, 0 = empty slot
    uint32_t mask;                  //  capacity - 1 (power of two)
    uint32_t count;                 //  strings interned
} m_intern;

//  --------------------------------------------------------------------
//  Interning

static uint32_t
s_hash (const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t) *s) * 16777619u;
    return h;
}

static uint32_t
s_intern (ts_arena *arena, m_intern *self, const char *s)
{
    if (!s || !*s)
        return 0;
    assert (self->count < self->mask);
    uint32_t slot = s_hash (s) & self->mask;
    for (uint32_t probes = 0; probes <= self->mask; probes++) {
        if (self->ids [slot] == 0) {
            self->strings [slot] = ts_arena_strdup (arena, s);
            self->ids [slot] = ++self->count;
            return self->count;
        }
        if (strcmp (self->strings [slot], s) == 0)
            return self->ids [slot];
        slot = (slot + 1) & self->mask;
    }
    assert (false);                 //  the table is never full (see sizing)
    return 0;
}

static int
s_category (const char *s)
{
    for (int i = 0; residents_categories [i]; i++)
        if (strcmp (s, residents_categories [i]) == 0)
            return i;
    return -1;
}

//  --------------------------------------------------------------------
//  Sorting

typedef struct {
    const m_res *res;               //  the resources
    const uint64_t *keys;           //  sort key of each resource
} m_sort_ctx;

static int
s_index_cmp (const void *a, const void *b, void *arg)
{
    const m_sort_ctx *sc = arg;
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    if (sc->keys [x] != sc->keys [y])
        return sc->keys [x] < sc->keys [y] ? -1 : 1;
    const m_res *rx = &sc->res [x], *ry = &sc->res [y];
    if (rx->left != ry->left)
        return rx->left > ry->left ? -1 : 1;
    return rx->id < ry->id ? -1 : rx->id > ry->id;
}

//  kind: 0 category only, 1 + building, 2 + grid.
static void
s_index_build (ts_arena *arena, m_index *ix, const m_res *res, uint32_t n, int kind)
{
    ix->n = n;
    ix->order = ts_arena_alloc (arena, (n + 1) * sizeof (uint32_t));
    ix->keys = ts_arena_alloc (arena, (n + 1) * sizeof (uint64_t));
    ix->next = ts_arena_alloc (arena, (n + 1) * sizeof (uint32_t));
    uint64_t *by_res = ts_arena_alloc (arena, (n + 1) * sizeof (uint64_t));
    for (uint32_t i = 0; i < n; i++) {
        uint32_t sub = kind == 1 ? res [i].building : kind == 2 ? res [i].grid : 0;
        by_res [i] = ((uint64_t) res [i].category << 32) | sub;
        ix->order [i] = i;
    }
    m_sort_ctx sc = { res, by_res };
    qsort_r (ix->order, n, sizeof (uint32_t), s_index_cmp, &sc);
    for (uint32_t i = 0; i <= n; i++) {
        ix->keys [i] = i < n ? by_res [ix->order [i]] : UINT64_MAX;
        ix->next [i] = i;
    }
}

//  First position with key >= key.
static uint32_t
s_lower_bound (const m_index *ix, uint64_t key)
{
    uint32_t lo = 0, hi = ix->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->keys [mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  First position >= i whose resource has capacity left (n if none),
//  compressing the links it walked.
static uint32_t
s_next_available (m_index *ix, const m_res *res, uint32_t i)
{
    uint32_t j = i;
    for (uint32_t steps = 0; j < ix->n; steps++) {
        assert (steps <= ix->n);
        if (ix->next [j] == j) {
            if (res [ix->order [j]].left > 0)
                break;
            ix->next [j] = j + 1;
        }
        j = ix->next [j];
    }
    for (uint32_t k = i, steps = 0; k < j && ix->next [k] != k; steps++) {
        assert (steps <= ix->n);
        uint32_t t = ix->next [k];
        ix->next [k] = j;
        k = t;
    }
    return j;
}

//  The best available resource for need in the range of key, or -1.
static int64_t
s_pick (m_index *ix, const m_res *res, const m_need *need, uint64_t key)
{
    uint32_t start = s_lower_bound (ix, key);
    int64_t best = -1;
    uint32_t seen = 0;
    for (uint32_t j = s_next_available (ix, res, start);
         j < ix->n && ix->keys [j] == key && seen < CANDIDATES_MAX;
         j = s_next_available (ix, res, j + 1)) {
        const m_res *r = &res [ix->order [j]];
        if (need->person && r->person == need->person)
            continue;               //  nobody serves their own need
        seen++;
        if (best < 0 || r->left > res [best].left)
            best = ix->order [j];
    }
    return best;
}

static int
s_need_cmp (const void *a, const void *b)
{
    const m_need *x = a, *y = b;
    if (x->urgency != y->urgency)
        return x->urgency > y->urgency ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int
s_u64_cmp (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static size_t
s_entries (ts_ctx *ctx, ts_table table)
{
    MDB_stat stat;
    if (mdb_stat (ts_txn_mdb (ctx->txn), table, &stat) != 0)
        return 0;
    return stat.ms_entries;
}

//  --------------------------------------------------------------------
//  Load the open needs and the available resources.

static uint32_t
s_load_needs (ts_ctx *ctx, ts_arena *scratch, m_intern *in, m_need *out, size_t max)
{
    uint32_t n = 0;
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, residents_state (ctx)->needs);
    size_t rows = 0;
    for (bool ok = ts_cursor_seek (&cur, NULL, 0); ok && rows < max; ok = ts_cursor_next (&cur)) {
        if (++rows % SCRATCH_RESET_ROWS == 0)
            ts_arena_reset (scratch);
        res_need *need = ts_cursor_msg (&cur, &tashan__residents__need__descriptor, scratch);
        if (!need)
            break;                  //  corrupt: the txn failed
        int cat = s_category (need->category);
        if (strcmp (need->status, "open") != 0 || cat < 0)
            continue;
        m_need *m = &out [n++];
        m->id = ts_be64_get (cur.key.data);
        ts_id_parse (need->household_id, 'h', &m->household);
        m->person = 0;
        ts_id_parse (need->person_id, 'p', &m->person);
        m->building = s_intern (ctx->arena, in, need->building);
        m->grid = s_intern (ctx->arena, in, need->grid);
        m->category = (uint8_t) cat;
        m->urgency = (uint8_t) need->urgency;
    }
    ts_cursor_close (&cur);
    return n;
}

static uint32_t
s_load_resources (ts_ctx *ctx, ts_arena *scratch, m_intern *in, m_res *out, size_t max)
{
    uint32_t week = ts_week_of (ctx->now_ms);
    uint32_t n = 0;
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, residents_state (ctx)->resources);
    size_t rows = 0;
    for (bool ok = ts_cursor_seek (&cur, NULL, 0); ok && rows < max; ok = ts_cursor_next (&cur)) {
        if (++rows % SCRATCH_RESET_ROWS == 0)
            ts_arena_reset (scratch);
        res_resource *r = ts_cursor_msg (&cur, &tashan__residents__resource__descriptor, scratch);
        if (!r)
            break;                  //  corrupt: the txn failed
        int cat = s_category (r->category);
        uint32_t left = residents_resource_left (r, week);
        if (r->archived || cat < 0 || left == 0)
            continue;
        m_res *m = &out [n++];
        m->id = ts_be64_get (cur.key.data);
        m->person = 0;
        ts_id_parse (r->provider_id, 'p', &m->person);
        m->building = s_intern (ctx->arena, in, r->building);
        m->grid = s_intern (ctx->arena, in, r->grid);
        m->capacity = r->capacity_per_week;
        m->left = left;
        m->category = (uint8_t) cat;
    }
    ts_cursor_close (&cur);
    return n;
}

//  --------------------------------------------------------------------
//  Book the proposals.

static void
s_assign (ts_ctx *ctx, const m_need *needs, const int64_t *chosen, uint32_t need_count,
          const m_res *res, uint32_t res_count, const uint32_t *initial_left)
{
    uint32_t week = ts_week_of (ctx->now_ms);
    uint64_t *households = ts_arena_alloc (ctx->arena, (need_count + 1) * sizeof (uint64_t));
    size_t hh_count = 0;
    ts_arena *scratch = ts_arena_new ();
    for (uint32_t i = 0; i < need_count; i++) {
        if (chosen [i] < 0)
            continue;
        if (i % SCRATCH_RESET_ROWS == 0)
            ts_arena_reset (scratch);
        ts_arena *keep = ctx->arena;
        ctx->arena = scratch;
        res_need *n = residents_need_load (ctx, needs [i].id);
        if (n) {
            n->status = "matched";
            n->resource_id = ts_id_text (scratch, 'r', res [chosen [i]].id);
            n->updated_ms = ctx->now_ms;
            residents_need_save (ctx, n);
        }
        ctx->arena = keep;
        households [hh_count++] = needs [i].household;
    }
    for (uint32_t i = 0; i < res_count; i++) {
        if (res [i].left == initial_left [i])
            continue;
        if (i % SCRATCH_RESET_ROWS == 0)
            ts_arena_reset (scratch);
        ts_arena *keep = ctx->arena;
        ctx->arena = scratch;
        res_resource *r = residents_resource_load (ctx, res [i].id);
        if (r) {
            r->booked_week = week;
            r->booked = r->capacity_per_week - res [i].left;
            r->updated_ms = ctx->now_ms;
            residents_resource_save (ctx, r);
        }
        ctx->arena = keep;
    }
    //  One new version per household touched.
    qsort (households, hh_count, sizeof (uint64_t), s_u64_cmp);
    for (size_t i = 0; i < hh_count; i++) {
        if (i > 0 && households [i] == households [i - 1])
            continue;
        ts_arena_reset (scratch);
        ts_arena *keep = ctx->arena;
        ctx->arena = scratch;
        res_household_rec *hh = residents_household_load (ctx, households [i]);
        if (hh)
            residents_household_commit (ctx, hh, "need.matched");
        ctx->arena = keep;
    }
    ts_arena_destroy (&scratch);
}

//  Give each need, in the order given (most urgent first), the nearest
//  resource with capacity left: in its building (tier 3), else its grid
//  (2), else anywhere in the community (1). chosen [i] is the index of the
//  resource in res, or -1; the counts go to rep.
static void
s_match_greedy (const m_need *needs, uint32_t need_count, m_res *res,
                m_index *by_building, m_index *by_grid, m_index *by_cat,
                int64_t *chosen, uint8_t *tier, Tashan__Residents__MatchAllReply *rep)
{
    for (uint32_t i = 0; i < need_count; i++) {
        const m_need *n = &needs [i];
        uint64_t cat = (uint64_t) n->category << 32;
        int64_t pick = -1;
        tier [i] = 3;
        if (n->building)
            pick = s_pick (by_building, res, n, cat | n->building);
        if (pick < 0 && n->grid) {
            tier [i] = 2;
            pick = s_pick (by_grid, res, n, cat | n->grid);
        }
        if (pick < 0) {
            tier [i] = 1;
            pick = s_pick (by_cat, res, n, cat);
        }
        chosen [i] = pick;
        if (pick < 0) {
            rep->unmatched++;
            continue;
        }
        assert (res [pick].left > 0);
        res [pick].left--;
        rep->matched++;
        if (tier [i] == 3)
            rep->same_building++;
        else
        if (tier [i] == 2)
            rep->same_grid++;
        else
            rep->community++;
    }
}

//  --------------------------------------------------------------------

unsigned
residents_match_all (ts_ctx *ctx, const Tashan__Residents__MatchAllRequest *req,
                     Tashan__Residents__MatchAllReply *rep)
{
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    unsigned rc;
    if ((rc = ts_check_range (ctx, "sample_size", req->sample_size, 0, TS_PAGE_MAX)))
        return rc;
    uint32_t sample = req->sample_size ? req->sample_size : SAMPLE_DEFAULT;
    res_state *st = residents_state (ctx);
    size_t need_rows = s_entries (ctx, st->needs);
    size_t res_rows = s_entries (ctx, st->resources);
    if (need_rows > RES_SCAN_MAX || res_rows > RES_SCAN_MAX)
        return ts_fail (ctx, TS_TOO_LARGE, "more than %d needs or resources: match in parts",
                        RES_SCAN_MAX);

    m_intern in = { 0 };
    uint32_t slots = 64;
    while (slots < 2 * (need_rows + res_rows) * 2 + 64)
        slots *= 2;
    in.mask = slots - 1;
    in.strings = ts_arena_alloc (ctx->arena, slots * sizeof (char *));
    in.ids = ts_arena_alloc (ctx->arena, slots * sizeof (uint32_t));

    m_need *needs = ts_arena_alloc (ctx->arena, (need_rows + 1) * sizeof (m_need));
    m_res *res = ts_arena_alloc (ctx->arena, (res_rows + 1) * sizeof (m_res));
    ts_arena *scratch = ts_arena_new ();
    uint32_t need_count = s_load_needs (ctx, scratch, &in, needs, need_rows);
    uint32_t res_count = s_load_resources (ctx, scratch, &in, res, res_rows);
    ts_arena_destroy (&scratch);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "storage error while loading");

    uint32_t *initial_left = ts_arena_alloc (ctx->arena, (res_count + 1) * sizeof (uint32_t));
    for (uint32_t i = 0; i < res_count; i++)
        initial_left [i] = res [i].left;
    m_index by_building, by_grid, by_cat;
    s_index_build (ctx->arena, &by_building, res, res_count, 1);
    s_index_build (ctx->arena, &by_grid, res, res_count, 2);
    s_index_build (ctx->arena, &by_cat, res, res_count, 0);
    qsort (needs, need_count, sizeof (m_need), s_need_cmp);

    int64_t *chosen = ts_arena_alloc (ctx->arena, (need_count + 1) * sizeof (int64_t));
    uint8_t *tier = ts_arena_alloc (ctx->arena, need_count + 1);
    s_match_greedy (needs, need_count, res, &by_building, &by_grid, &by_cat,
                    chosen, tier, rep);
    assert (rep->matched + rep->unmatched == need_count);
    rep->open_needs = need_count;
    rep->resources = res_count;

    uint32_t shown = rep->matched < sample ? rep->matched : sample;
    rep->proposals = ts_arena_alloc (ctx->arena, (shown + 1) * sizeof (void *));
    for (uint32_t i = 0; i < need_count && rep->n_proposals < shown; i++) {
        if (chosen [i] < 0)
            continue;
        Tashan__Residents__Proposal *p = ts_arena_alloc (ctx->arena, sizeof *p);
        tashan__residents__proposal__init (p);
        p->need_id = ts_id_text (ctx->arena, 'n', needs [i].id);
        p->resource_id = ts_id_text (ctx->arena, 'r', res [chosen [i]].id);
        p->distance = tier [i] == 3 ? "same_building" : tier [i] == 2 ? "same_grid" : "community";
        p->urgency = needs [i].urgency;
        rep->proposals [rep->n_proposals++] = p;
    }
    if (req->assign) {
        s_assign (ctx, needs, chosen, need_count, res, res_count, initial_left);
        rep->assigned = true;
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    rep->elapsed_ms = (uint32_t) ((t1.tv_sec - t0.tv_sec) * 1000
                                  + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    return TS_OK;
}
