/*  =========================================================================
    residents_layout - the community layout: compounds (小区, open or
    closed) and buildings (楼栋, with a grid and a building head)

    Nothing is deleted: archiving keeps the record, marked archived, and is
    refused while something active still sits inside (409). A building's
    number is unique in the community (households name their building by
    it) and never changes; compound names are unique too.
    =========================================================================
*/
#include "residents_core.h"

#include <assert.h>
#include <string.h>

#include "ts_valid.h"

static const char *const s_compound_kinds [] = { "open", "closed", NULL };

static res_compound *
s_compound_load (ts_ctx *ctx, uint64_t id)
{
    uint8_t key [8];
    ts_be64_put (key, id);
    return ts_txn_get_msg (ctx->txn, residents_state (ctx)->compounds, key, 8,
                           &tashan__residents__compound__descriptor, ctx->arena);
}

static void
s_compound_save (ts_ctx *ctx, uint64_t id, const res_compound *c)
{
    uint8_t key [8];
    ts_be64_put (key, id);
    ts_txn_put_msg (ctx->txn, residents_state (ctx)->compounds, key, 8, &c->base);
}

static void
s_building_save (ts_ctx *ctx, uint64_t id, const res_building *b)
{
    uint8_t key [8];
    ts_be64_put (key, id);
    ts_txn_put_msg (ctx->txn, residents_state (ctx)->buildings, key, 8, &b->base);
}

static unsigned
s_ref_compound (ts_ctx *ctx, const char *field, const char *id, unsigned code,
                uint64_t *out_id, res_compound **out)
{
    uint64_t n;
    res_compound *c = NULL;
    if (ts_id_parse (id, 'c', &n))
        c = s_compound_load (ctx, n);
    if (!c)
        return ts_fail (ctx, code, "%s: no compound %s", field, id);
    *out_id = n;
    *out = c;
    return 0;
}

//  Claim a unique name in an index table (409 when taken).
static unsigned
s_claim_name (ts_ctx *ctx, ts_table table, const char *field, const char *name, uint64_t id)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, name);
    uint8_t v [8];
    ts_be64_put (v, id);
    if (!ts_txn_insert (ctx->txn, table, k.data, k.size, v, 8))
        return ts_fail (ctx, TS_CONFLICT, "%s %s is already taken", field, name);
    return 0;
}

//  --------------------------------------------------------------------
//  Compounds

unsigned
residents_compound_create (ts_ctx *ctx, const Tashan__Residents__CreateCompoundRequest *req,
                           res_compound *rep)
{
    unsigned rc;
    if ((rc = ts_check_name (ctx, "name", req->name, TS_NAME_MAX_CHARS, true))
    ||  (rc = ts_check_enum (ctx, "kind", req->kind, s_compound_kinds)))
        return rc;
    uint64_t id = ts_txn_next_id (ctx->txn, "compound");
    if ((rc = s_claim_name (ctx, residents_state (ctx)->compound_names, "name", req->name, id)))
        return rc;
    rep->id = ts_id_text (ctx->arena, 'c', id);
    rep->name = req->name;
    rep->kind = req->kind;
    rep->created_ms = rep->updated_ms = ctx->now_ms;
    s_compound_save (ctx, id, rep);
    return TS_CREATED;
}

unsigned
residents_compound_get (ts_ctx *ctx, const Tashan__Residents__GetRequest *req, res_compound *rep)
{
    uint64_t id;
    res_compound *c;
    unsigned rc = s_ref_compound (ctx, "id", req->id, TS_NOT_FOUND, &id, &c);
    if (rc)
        return rc;
    *rep = *c;
    return TS_OK;
}

unsigned
residents_compound_list (ts_ctx *ctx, const Tashan__Residents__ListCompoundsRequest *req,
                         Tashan__Residents__ListCompoundsReply *rep)
{
    ts_page pg;
    unsigned rc = ts_page_open (ctx, &pg, residents_state (ctx)->compounds, NULL, 0,
                                req->page_token, req->page_size);
    if (rc)
        return rc;
    rep->compounds = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        res_compound *c = ts_page_msg (&pg, &tashan__residents__compound__descriptor, ctx->arena);
        if (!c)
            break;                  //  corrupt: the txn failed
        if (c->archived && !req->include_archived)
            continue;
        rep->compounds [rep->n_compounds++] = c;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

unsigned
residents_compound_update (ts_ctx *ctx, const Tashan__Residents__UpdateCompoundRequest *req,
                           res_compound *rep)
{
    uint64_t id;
    res_compound *c;
    unsigned rc;
    if ((rc = s_ref_compound (ctx, "id", req->id, TS_NOT_FOUND, &id, &c))
    ||  (rc = ts_check_name (ctx, "name", req->name, TS_NAME_MAX_CHARS, false)))
        return rc;
    if (req->kind [0] && (rc = ts_check_enum (ctx, "kind", req->kind, s_compound_kinds)))
        return rc;
    if (c->archived)
        return ts_fail (ctx, TS_CONFLICT, "compound %s is archived", req->id);
    if (req->name [0] && strcmp (req->name, c->name) != 0) {
        res_state *st = residents_state (ctx);
        if ((rc = s_claim_name (ctx, st->compound_names, "name", req->name, id)))
            return rc;
        ts_key k;
        ts_key_init (&k);
        ts_key_str (&k, c->name);
        ts_txn_del (ctx->txn, st->compound_names, k.data, k.size);
        c->name = req->name;
    }
    if (req->kind [0])
        c->kind = req->kind;
    c->updated_ms = ctx->now_ms;
    s_compound_save (ctx, id, c);
    *rep = *c;
    return TS_OK;
}

unsigned
residents_compound_archive (ts_ctx *ctx, const Tashan__Residents__ArchiveRequest *req,
                            res_compound *rep)
{
    uint64_t id;
    res_compound *c;
    unsigned rc;
    if ((rc = s_ref_compound (ctx, "id", req->id, TS_NOT_FOUND, &id, &c))
    ||  (rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, false)))
        return rc;
    if (c->archived)
        return ts_fail (ctx, TS_CONFLICT, "compound %s is already archived", req->id);
    //  Refuse while an active building belongs to it.
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, residents_state (ctx)->buildings);
    size_t scanned = 0;
    for (bool ok = ts_cursor_seek (&cur, NULL, 0); ok && ++scanned <= RES_SCAN_MAX;
         ok = ts_cursor_next (&cur)) {
        res_building *b = ts_cursor_msg (&cur, &tashan__residents__building__descriptor,
                                         ctx->arena);
        if (!b)
            break;                  //  corrupt: the txn failed
        if (!b->archived && strcmp (b->compound, c->id) == 0) {
            ts_cursor_close (&cur);
            return ts_fail (ctx, TS_CONFLICT, "compound %s still has building %s (%s)",
                            req->id, b->id, b->number);
        }
    }
    ts_cursor_close (&cur);
    c->archived = true;
    c->updated_ms = ctx->now_ms;
    s_compound_save (ctx, id, c);
    *rep = *c;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Buildings

//  Check the optional compound and head references of a building.
static unsigned
s_building_refs (ts_ctx *ctx, const char *compound, const char *head)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "compound", compound, TS_ID_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "head_person_id", head, TS_ID_MAX_CHARS, false)))
        return rc;
    if (compound [0]) {
        uint64_t id;
        res_compound *c;
        if ((rc = s_ref_compound (ctx, "compound", compound, TS_UNPROCESSABLE, &id, &c)))
            return rc;
        if (c->archived)
            return ts_fail (ctx, TS_UNPROCESSABLE, "compound: compound %s is archived", compound);
    }
    if (head [0]) {
        res_person_rec *p;
        if ((rc = residents_ref_person (ctx, "head_person_id", head, TS_UNPROCESSABLE, false, &p)))
            return rc;
        if (p->archived)
            return ts_fail (ctx, TS_UNPROCESSABLE, "head_person_id: person %s is archived", head);
    }
    return 0;
}

unsigned
residents_building_create (ts_ctx *ctx, const Tashan__Residents__CreateBuildingRequest *req,
                           res_building *rep)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "number", req->number, RES_CODE_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "grid", req->grid, RES_CODE_MAX_CHARS, true))
    ||  (rc = s_building_refs (ctx, req->compound, req->head_person_id)))
        return rc;
    res_state *st = residents_state (ctx);
    uint64_t id = ts_txn_next_id (ctx->txn, "building");
    if ((rc = s_claim_name (ctx, st->building_nos, "number", req->number, id)))
        return rc;
    rep->id = ts_id_text (ctx->arena, 'b', id);
    rep->number = req->number;
    rep->grid = req->grid;
    rep->compound = req->compound;
    rep->head_person_id = req->head_person_id;
    rep->created_ms = rep->updated_ms = ctx->now_ms;
    s_building_save (ctx, id, rep);
    residents_building_emit (ctx, "building.created", rep);
    return TS_CREATED;
}

unsigned
residents_building_get (ts_ctx *ctx, const Tashan__Residents__GetRequest *req, res_building *rep)
{
    res_building *b;
    unsigned rc = residents_ref_building (ctx, "id", req->id, TS_NOT_FOUND, &b);
    if (rc)
        return rc;
    *rep = *b;
    return TS_OK;
}

unsigned
residents_building_list (ts_ctx *ctx, const Tashan__Residents__ListBuildingsRequest *req,
                         Tashan__Residents__ListBuildingsReply *rep)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "compound", req->compound, TS_ID_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "grid", req->grid, RES_CODE_MAX_CHARS, false)))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, residents_state (ctx)->buildings, NULL, 0,
                            req->page_token, req->page_size)))
        return rc;
    rep->buildings = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        res_building *b = ts_page_msg (&pg, &tashan__residents__building__descriptor, ctx->arena);
        if (!b)
            break;                  //  corrupt: the txn failed
        if ((b->archived && !req->include_archived)
        ||  (req->compound [0] && strcmp (req->compound, b->compound) != 0)
        ||  (req->grid [0] && strcmp (req->grid, b->grid) != 0))
            continue;
        rep->buildings [rep->n_buildings++] = b;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

unsigned
residents_building_update (ts_ctx *ctx, const Tashan__Residents__UpdateBuildingRequest *req,
                           res_building *rep)
{
    res_building *b;
    unsigned rc;
    if ((rc = residents_ref_building (ctx, "id", req->id, TS_NOT_FOUND, &b))
    ||  (rc = ts_check_str (ctx, "grid", req->grid, RES_CODE_MAX_CHARS, false))
    ||  (rc = s_building_refs (ctx, req->compound, req->head_person_id)))
        return rc;
    if (b->archived)
        return ts_fail (ctx, TS_CONFLICT, "building %s is archived", req->id);
    if (req->grid [0])
        b->grid = req->grid;
    if (req->compound [0])
        b->compound = req->compound;
    if (req->head_person_id [0])
        b->head_person_id = req->head_person_id;
    b->updated_ms = ctx->now_ms;
    uint64_t id;
    ts_id_parse (b->id, 'b', &id);
    s_building_save (ctx, id, b);
    *rep = *b;
    return TS_OK;
}

unsigned
residents_building_archive (ts_ctx *ctx, const Tashan__Residents__ArchiveRequest *req,
                            res_building *rep)
{
    res_building *b;
    unsigned rc;
    if ((rc = residents_ref_building (ctx, "id", req->id, TS_NOT_FOUND, &b))
    ||  (rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, false)))
        return rc;
    if (b->archived)
        return ts_fail (ctx, TS_CONFLICT, "building %s is already archived", req->id);
    uint64_t id;
    ts_id_parse (b->id, 'b', &id);
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_u64 (&prefix, id);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, residents_state (ctx)->bld_households);
    size_t scanned = 0;
    for (bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
         ok && ++scanned <= RES_SCAN_MAX && ts_cursor_has_prefix (&cur, prefix.data, prefix.size);
         ok = ts_cursor_next (&cur)) {
        uint64_t hid = ts_be64_get ((const uint8_t *) cur.key.data + 8);
        res_household_rec *hh = residents_household_load (ctx, hid);
        if (hh && !hh->archived) {
            ts_cursor_close (&cur);
            return ts_fail (ctx, TS_CONFLICT, "building %s still has household h%llu",
                            req->id, (unsigned long long) hid);
        }
    }
    ts_cursor_close (&cur);
    b->archived = true;
    b->updated_ms = ctx->now_ms;
    s_building_save (ctx, id, b);
    residents_building_emit (ctx, "building.archived", b);
    *rep = *b;
    return TS_OK;
}
