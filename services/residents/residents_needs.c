/*  =========================================================================
    residents_needs - the needs list and the resource list (需求清单与资源
    清单), the ranking of resources for one need, and booking one

    A need belongs to a household (and optionally one member): category
    from a fixed vocabulary, urgency 1..3, status open -> matched ->
    served -> closed (open and matched may also be closed directly).

    A resource is offered by a resident (a skill), a volunteer, a merchant
    (a free service) or a co-building unit, with a weekly capacity. Weeks
    start on Monday 00:00 Asia/Shanghai; a resource keeps the count of its
    bookings in the week they were made, so a new week starts from zero.

    Ranking (for one need): only active resources of the need's category
    with capacity left this week, not offered by the person in need.
        score = distance points + min(capacity left, 20) x urgency
        distance points: same building 300, same grid 200, community 100
    so distance always wins (the capacity term is at most 60) and an urgent
    need weighs capacity (availability) three times as much as one that can
    wait. Ties go to the older resource (lower id).
    =========================================================================
*/
#include "residents_core.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_valid.h"

static const char *const s_need_status_targets [] = { "served", "closed", NULL };

#define CAPACITY_POINTS_CAP 20

//  --------------------------------------------------------------------
//  Helpers

uint32_t
residents_resource_left (const res_resource *r, uint32_t week)
{
    uint32_t booked = r->booked_week == week ? r->booked : 0;
    return booked >= r->capacity_per_week ? 0 : r->capacity_per_week - booked;
}

static res_resource *
s_resource_out (ts_ctx *ctx, res_resource *r)
{
    uint32_t week = ts_week_of (ctx->now_ms);
    r->capacity_left = residents_resource_left (r, week);
    if (r->booked_week != week) {
        r->booked_week = week;
        r->booked = 0;
    }
    return r;
}

static bool
s_need_active (const res_need *n)
{
    return strcmp (n->status, "open") == 0 || strcmp (n->status, "matched") == 0;
}

static unsigned
s_ref_need (ts_ctx *ctx, const char *id, res_need **out)
{
    uint64_t n;
    res_need *need = NULL;
    if (ts_id_parse (id, 'n', &n))
        need = residents_need_load (ctx, n);
    if (!need)
        return ts_fail (ctx, TS_NOT_FOUND, "id: no need %s", id);
    *out = need;
    return 0;
}

static unsigned
s_ref_resource (ts_ctx *ctx, const char *field, const char *id, unsigned code,
                res_resource **out)
{
    uint64_t n;
    res_resource *r = NULL;
    if (ts_id_parse (id, 'r', &n))
        r = residents_resource_load (ctx, n);
    if (!r)
        return ts_fail (ctx, code, "%s: no resource %s", field, id);
    *out = r;
    return 0;
}

static void
s_index_key (ts_key *k, const char *head, const char *resource_id)
{
    uint64_t id;
    bool ok = ts_id_parse (resource_id, 'r', &id);
    assert (ok);
    ts_key_init (k);
    ts_key_str (k, head);
    ts_key_u64 (k, id);
}

//  --------------------------------------------------------------------
//  Needs

unsigned
residents_need_open (ts_ctx *ctx, const Tashan__Residents__OpenNeedRequest *req, res_need *rep)
{
    res_household_rec *hh;
    unsigned rc;
    if ((rc = ts_check_str (ctx, "household_id", req->household_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "person_id", req->person_id, TS_ID_MAX_CHARS, false))
    ||  (rc = ts_check_enum (ctx, "category", req->category, residents_categories))
    ||  (rc = ts_check_str (ctx, "detail", req->detail, TS_STR_MAX_CHARS, false))
    ||  (rc = ts_check_range (ctx, "urgency", req->urgency, 1, 3))
    ||  (rc = residents_ref_household (ctx, "household_id", req->household_id,
                                       TS_UNPROCESSABLE, true, &hh)))
        return rc;
    if (req->person_id [0]) {
        res_person_rec *p;
        if ((rc = residents_ref_person (ctx, "person_id", req->person_id, TS_UNPROCESSABLE,
                                        true, &p)))
            return rc;
        if (p->household_id != hh->id)
            return ts_fail (ctx, TS_UNPROCESSABLE, "person_id: %s is not a member of %s",
                            req->person_id, req->household_id);
    }
    if (hh->n_need_ids >= RES_NEEDS_PER_HOUSEHOLD_MAX)
        return ts_fail (ctx, TS_CONFLICT, "household %s already has %d needs",
                        req->household_id, RES_NEEDS_PER_HOUSEHOLD_MAX);
    res_building *b = residents_building_load (ctx, hh->building_id);
    uint64_t id = ts_txn_next_id (ctx->txn, "need");
    rep->id = ts_id_text (ctx->arena, 'n', id);
    rep->household_id = req->household_id;
    rep->person_id = req->person_id;
    rep->category = req->category;
    rep->detail = req->detail;
    rep->urgency = req->urgency;
    rep->status = "open";
    rep->building = b ? b->number : "";
    rep->grid = hh->grid;
    rep->created_ms = rep->updated_ms = ctx->now_ms;
    residents_need_save (ctx, rep);
    uint64_t *ids = ts_arena_alloc (ctx->arena, (hh->n_need_ids + 1) * sizeof (uint64_t));
    if (hh->n_need_ids)
        memcpy (ids, hh->need_ids, hh->n_need_ids * sizeof (uint64_t));
    ids [hh->n_need_ids++] = id;
    hh->need_ids = ids;
    residents_household_commit (ctx, hh, "need.opened");
    residents_need_emit (ctx, "need.opened", rep);
    return TS_CREATED;
}

unsigned
residents_need_get (ts_ctx *ctx, const Tashan__Residents__GetRequest *req, res_need *rep)
{
    res_need *n;
    unsigned rc = s_ref_need (ctx, req->id, &n);
    if (rc)
        return rc;
    *rep = *n;
    return TS_OK;
}

unsigned
residents_need_list (ts_ctx *ctx, const Tashan__Residents__ListNeedsRequest *req,
                     Tashan__Residents__ListNeedsReply *rep)
{
    static const char *const statuses [] = { "open", "matched", "served", "closed", NULL };
    unsigned rc;
    if ((req->status [0] && (rc = ts_check_enum (ctx, "status", req->status, statuses)))
    ||  (req->category [0] && (rc = ts_check_enum (ctx, "category", req->category,
                                                   residents_categories)))
    ||  (rc = ts_check_str (ctx, "household_id", req->household_id, TS_ID_MAX_CHARS, false)))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, residents_state (ctx)->needs, NULL, 0,
                            req->page_token, req->page_size)))
        return rc;
    rep->needs = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        res_need *n = ts_page_msg (&pg, &tashan__residents__need__descriptor, ctx->arena);
        if (!n)
            break;                  //  corrupt: the txn failed
        if ((req->status [0] && strcmp (req->status, n->status) != 0)
        ||  (req->category [0] && strcmp (req->category, n->category) != 0)
        ||  (req->household_id [0] && strcmp (req->household_id, n->household_id) != 0))
            continue;
        rep->needs [rep->n_needs++] = n;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

//  Load the household of a need for a change of its file.
static unsigned
s_need_household (ts_ctx *ctx, const res_need *n, res_household_rec **out)
{
    uint64_t hid;
    res_household_rec *hh = NULL;
    if (ts_id_parse (n->household_id, 'h', &hid))
        hh = residents_household_load (ctx, hid);
    if (!hh)
        return ts_fail (ctx, TS_INTERNAL, "need %s has no household", n->id);
    *out = hh;
    return 0;
}

unsigned
residents_need_set_status (ts_ctx *ctx, const Tashan__Residents__SetNeedStatusRequest *req,
                           res_need *rep)
{
    res_need *n;
    unsigned rc;
    if ((rc = s_ref_need (ctx, req->id, &n))
    ||  (rc = ts_check_enum (ctx, "status", req->status, s_need_status_targets))
    ||  (rc = ts_check_str (ctx, "note", req->note, TS_STR_MAX_CHARS, false)))
        return rc;
    bool serve = strcmp (req->status, "served") == 0;
    //  open -> closed; matched -> served | closed; served -> closed.
    bool allowed = serve ? strcmp (n->status, "matched") == 0
                         : strcmp (n->status, "closed") != 0;
    if (!allowed)
        return ts_fail (ctx, TS_CONFLICT, "need %s is %s: it cannot become %s",
                        req->id, n->status, req->status);
    bool was_active = s_need_active (n);
    res_household_rec *hh;
    if ((rc = s_need_household (ctx, n, &hh)))
        return rc;
    //  A matched need closed without being served gives its booking back,
    //  if that week's capacity is still the one it took from (a need is
    //  matched once, so its last change is the booking).
    uint64_t resource_no;
    if (!serve && strcmp (n->status, "matched") == 0
    &&  ts_id_parse (n->resource_id, 'r', &resource_no)) {
        res_resource *r = residents_resource_load (ctx, resource_no);
        if (r && r->booked_week == ts_week_of (n->updated_ms) && r->booked > 0) {
            r->booked--;
            r->updated_ms = ctx->now_ms;
            residents_resource_save (ctx, r);
        }
    }
    n->status = req->status;
    n->note = req->note;
    n->updated_ms = ctx->now_ms;
    residents_need_save (ctx, n);
    residents_household_commit (ctx, hh, serve ? "need.served" : "need.closed");
    if (was_active)
        residents_need_emit (ctx, "need.closed", n);
    *rep = *n;
    return TS_OK;
}

void
residents_needs_close_all (ts_ctx *ctx, res_household_rec *hh, const char *note)
{
    for (size_t i = 0; i < hh->n_need_ids; i++) {
        res_need *n = residents_need_load (ctx, hh->need_ids [i]);
        if (!n || !s_need_active (n))
            continue;
        n->status = "closed";
        n->note = (char *) note;
        n->updated_ms = ctx->now_ms;
        residents_need_save (ctx, n);
        residents_need_emit (ctx, "need.closed", n);
    }
}

//  --------------------------------------------------------------------
//  Ranking

typedef struct {
    res_resource *resource;         //  the candidate
    uint64_t id;                    //  its numeric id (ties)
    uint32_t left;                  //  capacity left this week
    uint32_t score;                 //  see the header
    int tier;                       //  3 same building, 2 same grid, 1 community
} s_candidate;

static const char *
s_tier_name (int tier)
{
    return tier == 3 ? "same_building" : tier == 2 ? "same_grid" : "community";
}

static int
s_candidate_cmp (const void *a, const void *b)
{
    const s_candidate *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

//  Rank every resource for need n; returns the count, *out the sorted
//  candidates (arena memory).
static size_t
s_rank (ts_ctx *ctx, const res_need *n, s_candidate **out)
{
    res_state *st = residents_state (ctx);
    uint32_t week = ts_week_of (ctx->now_ms);
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_str (&prefix, n->category);
    size_t cap = 64, count = 0;
    s_candidate *c = ts_arena_alloc (ctx->arena, cap * sizeof *c);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, st->res_by_cat);
    size_t scanned = 0;
    for (bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
         ok && ++scanned <= RES_SCAN_MAX && ts_cursor_has_prefix (&cur, prefix.data, prefix.size);
         ok = ts_cursor_next (&cur)) {
        uint64_t id = ts_be64_get ((const uint8_t *) cur.key.data + prefix.size);
        res_resource *r = residents_resource_load (ctx, id);
        if (!r || r->archived || strcmp (r->provider_id, n->person_id) == 0)
            continue;
        uint32_t left = residents_resource_left (r, week);
        if (left == 0)
            continue;
        if (count == cap) {
            s_candidate *grown = ts_arena_alloc (ctx->arena, 2 * cap * sizeof *c);
            memcpy (grown, c, cap * sizeof *c);
            c = grown;
            cap *= 2;
        }
        int tier = r->building [0] && strcmp (r->building, n->building) == 0 ? 3
                 : r->grid [0] && strcmp (r->grid, n->grid) == 0 ? 2 : 1;
        uint32_t capped = left < CAPACITY_POINTS_CAP ? left : CAPACITY_POINTS_CAP;
        c [count++] = (s_candidate) {
            .resource = r, .id = id, .left = left, .tier = tier,
            .score = (uint32_t) tier * 100 + capped * (n->urgency ? n->urgency : 1),
        };
    }
    ts_cursor_close (&cur);
    qsort (c, count, sizeof *c, s_candidate_cmp);
    *out = c;
    return count;
}

static Tashan__Residents__Match *
s_match_out (ts_ctx *ctx, const res_need *n, const s_candidate *c, uint32_t rank)
{
    Tashan__Residents__Match *m = ts_arena_alloc (ctx->arena, sizeof *m);
    tashan__residents__match__init (m);
    m->rank = rank;
    m->resource_id = c->resource->id;
    m->provider_kind = c->resource->provider_kind;
    m->provider_id = c->resource->provider_id;
    m->title = c->resource->title;
    m->distance = (char *) s_tier_name (c->tier);
    m->capacity_left = c->left;
    m->score = c->score;
    const char *where = c->tier == 3 ? "same building" : c->tier == 2 ? "same grid" : "in the community";
    const char *place = c->tier == 3 ? n->building : c->tier == 2 ? n->grid : "";
    m->reason = ts_arena_printf (ctx->arena,
        "%s %s%s%s; %u of %u left this week; urgency %u weighs capacity x%u",
        n->category, where, place [0] ? " " : "", place, c->left,
        c->resource->capacity_per_week, n->urgency, n->urgency);
    return m;
}

unsigned
residents_need_matches (ts_ctx *ctx, const Tashan__Residents__PageRequest *req,
                        Tashan__Residents__MatchesReply *rep)
{
    res_need *n;
    unsigned rc;
    uint32_t page, offset;
    //  The list is ranked afresh each time: the token is an offset into it.
    if ((rc = s_ref_need (ctx, req->id, &n))
    ||  (rc = ts_page_offset_open (ctx, req->page_token, req->page_size, &offset, &page)))
        return rc;
    s_candidate *c;
    size_t count = s_rank (ctx, n, &c);
    rep->need_id = n->id;
    rep->category = n->category;
    rep->urgency = n->urgency;
    rep->matches = ts_arena_alloc (ctx->arena, page * sizeof (void *));
    for (size_t i = offset; i < count && rep->n_matches < page; i++)
        rep->matches [rep->n_matches++] = s_match_out (ctx, n, &c [i], (uint32_t) i + 1);
    rep->next_page_token = ts_page_offset_close (ctx->arena, offset,
                                                 (uint32_t) rep->n_matches, count);
    return TS_OK;
}

unsigned
residents_need_assign (ts_ctx *ctx, const Tashan__Residents__AssignRequest *req,
                       Tashan__Residents__AssignReply *rep)
{
    res_need *n;
    unsigned rc;
    if ((rc = s_ref_need (ctx, req->id, &n))
    ||  (rc = ts_check_str (ctx, "resource_id", req->resource_id, TS_ID_MAX_CHARS, false)))
        return rc;
    if (strcmp (n->status, "open") != 0)
        return ts_fail (ctx, TS_CONFLICT, "need %s is %s, not open", req->id, n->status);
    uint32_t week = ts_week_of (ctx->now_ms);
    res_resource *r;
    int tier;
    if (req->resource_id [0]) {
        if ((rc = s_ref_resource (ctx, "resource_id", req->resource_id, TS_UNPROCESSABLE, &r)))
            return rc;
        if (r->archived)
            return ts_fail (ctx, TS_CONFLICT, "resource %s is archived", req->resource_id);
        if (strcmp (r->category, n->category) != 0)
            return ts_fail (ctx, TS_UNPROCESSABLE, "resource_id: %s offers %s, the need is %s",
                            req->resource_id, r->category, n->category);
        if (residents_resource_left (r, week) == 0)
            return ts_fail (ctx, TS_CONFLICT, "resource %s has no capacity left this week",
                            req->resource_id);
        tier = r->building [0] && strcmp (r->building, n->building) == 0 ? 3
             : r->grid [0] && strcmp (r->grid, n->grid) == 0 ? 2 : 1;
    }
    else {
        s_candidate *c;
        if (s_rank (ctx, n, &c) == 0)
            return ts_fail (ctx, TS_CONFLICT, "no %s resource has capacity left this week",
                            n->category);
        r = c [0].resource;
        tier = c [0].tier;
    }
    res_household_rec *hh;
    if ((rc = s_need_household (ctx, n, &hh)))
        return rc;
    if (r->booked_week != week) {
        r->booked_week = week;
        r->booked = 0;
    }
    r->booked++;
    assert (r->booked <= r->capacity_per_week);
    r->updated_ms = ctx->now_ms;
    residents_resource_save (ctx, r);
    n->status = "matched";
    n->resource_id = r->id;
    n->updated_ms = ctx->now_ms;
    residents_need_save (ctx, n);
    residents_household_commit (ctx, hh, "need.matched");
    rep->need = n;
    rep->resource = s_resource_out (ctx, r);
    rep->distance = (char *) s_tier_name (tier);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Resources

//  A resident's or volunteer's resource sits where they live.
static unsigned
s_resource_place_person (ts_ctx *ctx, const Tashan__Residents__AddResourceRequest *req,
                         res_resource *rep)
{
    res_person_rec *p;
    unsigned rc = residents_ref_person (ctx, "provider_id", req->provider_id,
                                        TS_UNPROCESSABLE, false, &p);
    if (rc)
        return rc;
    if (p->archived)
        return ts_fail (ctx, TS_UNPROCESSABLE, "provider_id: person %s is archived",
                        req->provider_id);
    if (req->building [0] || req->grid [0])
        return ts_fail (ctx, TS_BAD_REQUEST,
                        "building and grid come from the provider's household: leave them out");
    res_household_rec *hh = residents_household_load (ctx, p->household_id);
    res_building *b = hh ? residents_building_load (ctx, hh->building_id) : NULL;
    rep->building = b ? b->number : "";
    rep->grid = hh ? hh->grid : "";
    return 0;
}

//  A merchant's or co-building unit's resource: known through the
//  merchants daemon's events; its place is optional.
static unsigned
s_resource_place_unit (ts_ctx *ctx, const Tashan__Residents__AddResourceRequest *req,
                       res_resource *rep)
{
    res_state *st = residents_state (ctx);
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, req->provider_id);
    Tashan__Events__Merchant *m = ts_txn_get_msg (ctx->txn, st->merchants, k.data, k.size,
                                                  &tashan__events__merchant__descriptor,
                                                  ctx->arena);
    if (!m)
        return ts_fail (ctx, TS_UNPROCESSABLE, "provider_id: no merchant %s", req->provider_id);
    if (strcmp (req->provider_kind, "co_building") == 0 && !m->co_building)
        return ts_fail (ctx, TS_UNPROCESSABLE, "provider_id: %s is not a co-building unit",
                        req->provider_id);
    if (m->suspended)
        return ts_fail (ctx, TS_CONFLICT, "merchant %s is suspended", req->provider_id);
    rep->grid = req->grid;
    if (req->building [0]) {
        ts_key_init (&k);
        ts_key_str (&k, req->building);
        ts_val v;
        if (!ts_txn_get (ctx->txn, st->building_nos, k.data, k.size, &v) || v.size != 8)
            return ts_fail (ctx, TS_UNPROCESSABLE, "building: no building numbered %s",
                            req->building);
        rep->building = req->building;
        if (!req->grid [0]) {
            res_building *b = residents_building_load (ctx, ts_be64_get (v.data));
            rep->grid = b ? b->grid : "";
        }
    }
    return 0;
}

unsigned
residents_resource_add (ts_ctx *ctx, const Tashan__Residents__AddResourceRequest *req,
                        res_resource *rep)
{
    res_state *st = residents_state (ctx);
    unsigned rc;
    if ((rc = ts_check_enum (ctx, "provider_kind", req->provider_kind, residents_provider_kinds))
    ||  (rc = ts_check_str (ctx, "provider_id", req->provider_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_name (ctx, "title", req->title, TS_NAME_MAX_CHARS, true))
    ||  (rc = ts_check_enum (ctx, "category", req->category, residents_categories))
    ||  (rc = ts_check_range (ctx, "capacity_per_week", req->capacity_per_week, 1,
                              RES_CAPACITY_MAX))
    ||  (rc = ts_check_str (ctx, "building", req->building, RES_CODE_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "grid", req->grid, RES_CODE_MAX_CHARS, false)))
        return rc;
    bool person = strcmp (req->provider_kind, "resident") == 0
               || strcmp (req->provider_kind, "volunteer") == 0;
    if ((rc = person ? s_resource_place_person (ctx, req, rep)
                     : s_resource_place_unit (ctx, req, rep)))
        return rc;
    //  One active resource per provider and category.
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_str (&prefix, req->provider_id);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, st->res_by_provider);
    size_t scanned = 0;
    for (bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
         ok && ++scanned <= RES_SCAN_MAX && ts_cursor_has_prefix (&cur, prefix.data, prefix.size);
         ok = ts_cursor_next (&cur)) {
        uint64_t id = ts_be64_get ((const uint8_t *) cur.key.data + prefix.size);
        res_resource *other = residents_resource_load (ctx, id);
        if (other && strcmp (other->category, req->category) == 0) {
            ts_cursor_close (&cur);
            return ts_fail (ctx, TS_CONFLICT, "%s already offers %s as resource %s",
                            req->provider_id, req->category, other->id);
        }
    }
    ts_cursor_close (&cur);
    uint64_t id = ts_txn_next_id (ctx->txn, "resource");
    rep->id = ts_id_text (ctx->arena, 'r', id);
    rep->provider_kind = req->provider_kind;
    rep->provider_id = req->provider_id;
    rep->title = req->title;
    rep->category = req->category;
    rep->capacity_per_week = req->capacity_per_week;
    rep->booked_week = ts_week_of (ctx->now_ms);
    rep->created_ms = rep->updated_ms = ctx->now_ms;
    residents_resource_save (ctx, rep);
    ts_key k;
    s_index_key (&k, rep->category, rep->id);
    ts_txn_put (ctx->txn, st->res_by_cat, k.data, k.size, "", 0);
    s_index_key (&k, rep->provider_id, rep->id);
    ts_txn_put (ctx->txn, st->res_by_provider, k.data, k.size, "", 0);
    s_resource_out (ctx, rep);
    return TS_CREATED;
}

unsigned
residents_resource_get (ts_ctx *ctx, const Tashan__Residents__GetRequest *req, res_resource *rep)
{
    res_resource *r;
    unsigned rc = s_ref_resource (ctx, "id", req->id, TS_NOT_FOUND, &r);
    if (rc)
        return rc;
    *rep = *s_resource_out (ctx, r);
    return TS_OK;
}

unsigned
residents_resource_list (ts_ctx *ctx, const Tashan__Residents__ListResourcesRequest *req,
                         Tashan__Residents__ListResourcesReply *rep)
{
    unsigned rc;
    if ((req->category [0] && (rc = ts_check_enum (ctx, "category", req->category,
                                                   residents_categories)))
    ||  (rc = ts_check_str (ctx, "provider_id", req->provider_id, TS_ID_MAX_CHARS, false)))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, residents_state (ctx)->resources, NULL, 0,
                            req->page_token, req->page_size)))
        return rc;
    rep->resources = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        res_resource *r = ts_page_msg (&pg, &tashan__residents__resource__descriptor, ctx->arena);
        if (!r)
            break;                  //  corrupt: the txn failed
        if ((r->archived && !req->include_archived)
        ||  (req->category [0] && strcmp (req->category, r->category) != 0)
        ||  (req->provider_id [0] && strcmp (req->provider_id, r->provider_id) != 0))
            continue;
        rep->resources [rep->n_resources++] = s_resource_out (ctx, r);
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

unsigned
residents_resource_archive (ts_ctx *ctx, const Tashan__Residents__ArchiveRequest *req,
                            res_resource *rep)
{
    res_resource *r;
    unsigned rc;
    if ((rc = s_ref_resource (ctx, "id", req->id, TS_NOT_FOUND, &r))
    ||  (rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, false)))
        return rc;
    if (r->archived)
        return ts_fail (ctx, TS_CONFLICT, "resource %s is already archived", req->id);
    res_state *st = residents_state (ctx);
    ts_key k;
    s_index_key (&k, r->category, r->id);
    ts_txn_del (ctx->txn, st->res_by_cat, k.data, k.size);
    s_index_key (&k, r->provider_id, r->id);
    ts_txn_del (ctx->txn, st->res_by_provider, k.data, k.size);
    r->archived = true;
    r->updated_ms = ctx->now_ms;
    residents_resource_save (ctx, r);
    *rep = *s_resource_out (ctx, r);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Resources follow their providers

void
residents_person_resources_follow (ts_ctx *ctx, const res_person_rec *p)
{
    res_state *st = residents_state (ctx);
    res_household_rec *hh = residents_household_load (ctx, p->household_id);
    res_building *b = hh ? residents_building_load (ctx, hh->building_id) : NULL;
    char *pid = ts_id_text (ctx->arena, 'p', p->id);
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_str (&prefix, pid);
    //  Collect first: archiving deletes index rows under the cursor.
    uint64_t ids [64];
    size_t n = 0;
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, st->res_by_provider);
    for (bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
         ok && n < 64 && ts_cursor_has_prefix (&cur, prefix.data, prefix.size);
         ok = ts_cursor_next (&cur))
        ids [n++] = ts_be64_get ((const uint8_t *) cur.key.data + prefix.size);
    ts_cursor_close (&cur);
    for (size_t i = 0; i < n; i++) {
        res_resource *r = residents_resource_load (ctx, ids [i]);
        if (!r || r->archived)
            continue;
        if (p->archived) {
            r->archived = true;
            ts_key k;
            ts_key_init (&k);
            ts_key_str (&k, r->category);
            ts_key_u64 (&k, ids [i]);
            ts_txn_del (ctx->txn, st->res_by_cat, k.data, k.size);
            ts_key_init (&k);
            ts_key_str (&k, pid);
            ts_key_u64 (&k, ids [i]);
            ts_txn_del (ctx->txn, st->res_by_provider, k.data, k.size);
        }
        else {
            r->building = b ? b->number : "";
            r->grid = hh ? hh->grid : "";
        }
        r->updated_ms = ctx->now_ms;
        residents_resource_save (ctx, r);
    }
}

//  --------------------------------------------------------------------
//  merchant.registered / merchant.updated: keep who may offer resources.

unsigned
residents_merchant_apply (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    const Tashan__Events__Merchant *m = payload;
    if (!m->merchant_id || !m->merchant_id [0] || strlen (m->merchant_id) > 64)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s without a valid merchant_id", event->topic);
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, m->merchant_id);
    ts_txn_put_msg (ctx->txn, residents_state (ctx)->merchants, k.data, k.size, &m->base);
    return TS_OK;
}
