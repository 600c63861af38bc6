/*  =========================================================================
    residents_household - the household handlers: CreateHousehold (with
    its first members), GetHousehold, ListHouseholds, UpdateHousehold,
    MoveOutHousehold, GetHistory (the versions of a file) and ListAudit
    (who read it).

    Calls go down only: to residents_person (members created or leaving),
    residents_needs (needs closed on moving out, resources following
    their providers) and residents_core.
    =========================================================================
*/
#include "residents_core.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "ts_valid.h"

unsigned
residents_household_create (ts_ctx *ctx, const Tashan__Residents__CreateHouseholdRequest *req,
                            res_household *rep)
{
    res_state *st = residents_state (ctx);
    unsigned rc;
    if ((rc = residents_check_code (ctx, "building", req->building, true))
    ||  (rc = residents_check_code (ctx, "unit", req->unit, false))
    ||  (rc = residents_check_code (ctx, "room", req->room, true))
    ||  (rc = residents_check_code (ctx, "grid", req->grid, false))
    ||  (rc = ts_check_count (ctx, "members", req->n_members, RES_MEMBERS_MAX)))
        return rc;
    for (size_t i = 0; i < req->n_members; i++) {
        char f [32];
        snprintf (f, sizeof f, "members[%zu]", i);
        if ((rc = residents_member_check (ctx, f, req->members [i], true)))
            return rc;
    }
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, req->building);
    ts_val v;
    if (!ts_txn_get (ctx->txn, st->building_nos, k.data, k.size, &v) || v.size != 8)
        return ts_fail (ctx, TS_UNPROCESSABLE, "building: no building numbered %s", req->building);
    res_building *b = residents_building_load (ctx, ts_be64_get (v.data));
    if (!b)
        return ts_fail (ctx, TS_INTERNAL, "building %s has no record", req->building);
    if (b->archived)
        return ts_fail (ctx, TS_UNPROCESSABLE, "building: building %s is archived", req->building);
    uint64_t building_id;
    ts_id_parse (b->id, 'b', &building_id);

    res_household_rec *hh = ts_arena_alloc (ctx->arena, sizeof *hh);
    tashan__residents__household_rec__init (hh);
    hh->id = ts_txn_next_id (ctx->txn, "household");
    hh->building_id = building_id;
    hh->unit = req->unit;
    hh->room = req->room;
    hh->grid = req->grid [0] ? req->grid : b->grid;
    res_person_rec **created = ts_arena_alloc (ctx->arena, (req->n_members + 1) * sizeof (void *));
    for (size_t i = 0; i < req->n_members; i++) {
        char f [32];
        snprintf (f, sizeof f, "members[%zu]", i);
        if ((rc = residents_person_create (ctx, f, req->members [i], hh, &created [i])))
            return rc;
    }
    ts_key_init (&k);
    ts_key_u64 (&k, building_id);
    ts_key_u64 (&k, hh->id);
    ts_txn_put (ctx->txn, st->bld_households, k.data, k.size, "", 0);
    residents_household_commit (ctx, hh, "household.created");
    for (size_t i = 0; i < req->n_members; i++)
        residents_person_emit (ctx, "person.created", created [i]);
    *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
    return TS_CREATED;
}

unsigned
residents_household_get (ts_ctx *ctx, const Tashan__Residents__GetRequest *req,
                         res_household *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, false, &hh);
    if (rc)
        return rc;
    if ((rc = residents_audit (ctx, hh->id, "read")))
        return rc;
    *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
    return TS_OK;
}

//  One row of ListHouseholds: where it is, how many live there, open needs.
static Tashan__Residents__HouseholdSummary *
s_household_summary (ts_ctx *ctx, const res_household_rec *hh)
{
    res_building *b = residents_building_load (ctx, hh->building_id);
    Tashan__Residents__HouseholdSummary *s = ts_arena_alloc (ctx->arena, sizeof *s);
    tashan__residents__household_summary__init (s);
    s->id = ts_id_text (ctx->arena, 'h', hh->id);
    s->building = b ? b->number : "";
    s->unit = hh->unit;
    s->room = hh->room;
    s->grid = hh->grid;
    s->members = (uint32_t) hh->n_member_ids;
    for (size_t i = 0; i < hh->n_need_ids; i++) {
        res_need *n = residents_need_load (ctx, hh->need_ids [i]);
        if (n && strcmp (n->status, "open") == 0)
            s->open_needs++;
    }
    s->archived = hh->archived;
    s->version = hh->version;
    return s;
}

unsigned
residents_households_of (ts_ctx *ctx, const char *building, ts_table *table, ts_key *prefix)
{
    res_state *st = residents_state (ctx);
    ts_key_init (prefix);
    *table = st->households;
    if (!building [0])
        return 0;
    ts_key k;
    ts_key_text (&k, building);
    ts_val v;
    if (!ts_txn_get (ctx->txn, st->building_nos, k.data, k.size, &v) || v.size != 8)
        return ts_fail (ctx, TS_UNPROCESSABLE, "building: no building numbered %s", building);
    ts_key_u64 (prefix, ts_be64_get (v.data));
    *table = st->bld_households;
    return 0;
}

unsigned
residents_household_list (ts_ctx *ctx, const Tashan__Residents__ListHouseholdsRequest *req,
                          Tashan__Residents__ListHouseholdsReply *rep)
{
    unsigned rc;
    if ((rc = residents_check_code (ctx, "building", req->building, false)))
        return rc;
    ts_key prefix;
    ts_table table;
    if ((rc = residents_households_of (ctx, req->building, &table, &prefix)))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, table, prefix.data, prefix.size,
                            req->page_token, req->page_size)))
        return rc;
    rep->households = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t rest_size;
        const uint8_t *rest = ts_page_rest (&pg, &rest_size);
        if (rest_size != 8)
            continue;
        res_household_rec *hh = residents_household_load (ctx, ts_be64_get (rest));
        if (!hh || (hh->archived && !req->include_archived))
            continue;
        rep->households [rep->n_households++] = s_household_summary (ctx, hh);
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

unsigned
residents_household_update (ts_ctx *ctx, const Tashan__Residents__UpdateHouseholdRequest *req,
                            res_household *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, true, &hh);
    if (rc)
        return rc;
    if ((rc = residents_check_code (ctx, "unit", req->unit, false))
    ||  (rc = residents_check_code (ctx, "room", req->room, false))
    ||  (rc = residents_check_code (ctx, "grid", req->grid, false)))
        return rc;
    bool grid_changed = req->grid [0] && strcmp (req->grid, hh->grid) != 0;
    bool changed = grid_changed
                || (req->unit [0] && strcmp (req->unit, hh->unit) != 0)
                || (req->room [0] && strcmp (req->room, hh->room) != 0);
    if (!changed) {                 //  nothing new: no new version
        *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
        return TS_OK;
    }
    if (req->unit [0])
        hh->unit = req->unit;
    if (req->room [0])
        hh->room = req->room;
    if (req->grid [0])
        hh->grid = req->grid;
    for (size_t i = 0; grid_changed && i < hh->n_need_ids; i++) {
        res_need *n = residents_need_load (ctx, hh->need_ids [i]);
        if (n && (strcmp (n->status, "open") == 0 || strcmp (n->status, "matched") == 0)) {
            n->grid = hh->grid;
            n->updated_ms = ctx->now_ms;
            residents_need_save (ctx, n);
        }
    }
    residents_household_commit (ctx, hh, "household.updated");
    for (size_t i = 0; grid_changed && i < hh->n_member_ids; i++) {
        res_person_rec *p = residents_person_load (ctx, hh->member_ids [i]);
        if (p) {
            residents_person_emit (ctx, "person.updated", p);
            residents_person_resources_follow (ctx, p);
        }
    }
    *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
    return TS_OK;
}

unsigned
residents_household_move_out (ts_ctx *ctx, const Tashan__Residents__ArchiveRequest *req,
                              res_household *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, true, &hh);
    if (rc)
        return rc;
    if ((rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, false)))
        return rc;
    size_t n = hh->n_member_ids;
    res_person_rec **left = ts_arena_alloc (ctx->arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++) {
        left [i] = residents_person_load (ctx, hh->member_ids [i]);
        if (!left [i])
            return ts_fail (ctx, TS_INTERNAL, "household %s has a dangling member", req->id);
        residents_person_leave (ctx, left [i], req->reason);
    }
    residents_needs_close_all (ctx, hh, "household moved out");
    //  The file keeps who lived there: the members list stays as it was,
    //  each member marked archived.
    hh->archived = true;
    hh->archived_reason = req->reason;
    residents_household_commit (ctx, hh, "household.moved_out");
    for (size_t i = 0; i < n; i++) {
        residents_person_emit (ctx, "person.archived", left [i]);
        residents_person_resources_follow (ctx, left [i]);
    }
    *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
    return TS_OK;
}

static void
s_mask_file (ts_ctx *ctx, res_household *h)
{
    for (size_t i = 0; i < h->n_members; i++) {
        res_member *m = h->members [i];
        size_t size = strlen (m->phone) + 1;
        char *masked = ts_arena_alloc (ctx->arena, size);
        residents_phone_mask (m->phone, masked, size);
        m->phone = masked;
    }
}

unsigned
residents_household_history (ts_ctx *ctx, const Tashan__Residents__PageRequest *req,
                             Tashan__Residents__HistoryReply *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, false, &hh);
    if (rc)
        return rc;
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_u64 (&prefix, hh->id);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, residents_state (ctx)->versions, prefix.data,
                            prefix.size, req->page_token, req->page_size)))
        return rc;
    if ((rc = residents_audit (ctx, hh->id, "history")))
        return rc;
    rep->household_id = ts_id_text (ctx->arena, 'h', hh->id);
    rep->versions = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    bool unmasked = residents_caller_is_ops (ctx);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        Tashan__Residents__HouseholdVersion *v =
            ts_page_msg (&pg, &tashan__residents__household_version__descriptor, ctx->arena);
        if (!v)
            break;                  //  corrupt: the txn failed
        if (!unmasked && v->household)
            s_mask_file (ctx, v->household);
        rep->versions [rep->n_versions++] = v;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

unsigned
residents_household_audit (ts_ctx *ctx, const Tashan__Residents__PageRequest *req,
                           Tashan__Residents__AuditReply *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, false, &hh);
    if (rc)
        return rc;
    //  Every read answered so far, folded: the list is complete.
    if ((rc = residents_audit_fold (ctx, RES_AUDIT_FOLD_CHUNKS_MAX)))
        return rc;
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_u64 (&prefix, hh->id);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, residents_state (ctx)->audit, prefix.data,
                            prefix.size, req->page_token, req->page_size)))
        return rc;
    rep->household_id = ts_id_text (ctx->arena, 'h', hh->id);
    rep->entries = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        Tashan__Residents__AuditEntry *e =
            ts_page_msg (&pg, &tashan__residents__audit_entry__descriptor, ctx->arena);
        if (!e)
            break;                  //  corrupt: the txn failed
        rep->entries [rep->n_entries++] = e;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}
