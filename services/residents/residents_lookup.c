/*  residents_lookup - residents.Lookup: who lives in a building (and room),
    names masked, for the evaluation panel 评定小组 and the office's search.
    Declared in residents_core.h. */
#include <string.h>

#include "residents_core.h"
#include "ts_id.h"
#include "ts_page.h"

//  As the ledger's boards print names: the first and the last character
//  kept, one "*" for each between ("王建国" -> "王*国"); two characters:
//  the first and "*"; one: "*".
static char *
s_mask_name (ts_arena *arena, const char *name)
{
    size_t n = strlen (name), chars = 0, last = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char) name [i] & 0xC0) != 0x80) {
            chars++;
            last = i;
        }
    char *out = ts_arena_alloc (arena, n + 2);
    if (chars <= 1)
        return strcpy (out, chars ? "*" : "");
    size_t first = 1;
    while (first < n && ((unsigned char) name [first] & 0xC0) == 0x80)
        first++;
    memcpy (out, name, first);
    size_t o = first;
    for (size_t k = 0; k < (chars == 2 ? 1 : chars - 2); k++)
        out [o++] = '*';
    if (chars > 2) {
        memcpy (out + o, name + last, n - last);
        o += n - last;
    }
    out [o] = 0;
    return out;
}

static bool
s_has_tag (const res_person_rec *p, const char *tag)
{
    for (size_t i = 0; i < p->n_tags; i++)
        if (strcmp (p->tags [i], tag) == 0)
            return true;
    return false;
}

unsigned
residents_lookup (ts_ctx *ctx, const Tashan__Residents__LookupRequest *req,
                  Tashan__Residents__LookupReply *rep)
{
    bool ops = residents_caller_is_ops (ctx);
    if (!ops && (req->name [0] || req->tag [0]))
        return ts_fail (ctx, TS_FORBIDDEN, "only ops may search by name or tag");
    if (!ops && !req->building [0])
        return ts_fail (ctx, TS_BAD_REQUEST, "building is required");
    if (strlen (req->building) > RES_CODE_MAX_CHARS || strlen (req->room) > RES_CODE_MAX_CHARS
    ||  strlen (req->name) > 64 || strlen (req->tag) > 64)
        return ts_fail (ctx, TS_BAD_REQUEST, "building, room, name or tag too long");
    ts_key prefix;
    ts_table table;
    unsigned rc = residents_households_of (ctx, req->building, &table, &prefix);
    if (rc)
        return rc;
    ts_page pg;
    rc = ts_page_open (ctx, &pg, table, prefix.data, prefix.size,
                                req->page_token, req->page_size);
    if (rc)
        return rc;
    size_t cap = 64;
    rep->persons = ts_arena_alloc (ctx->arena, cap * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t rest_size;
        const uint8_t *rest = ts_page_rest (&pg, &rest_size);
        if (rest_size != 8)
            continue;
        res_household_rec *hh = residents_household_load (ctx, ts_be64_get (rest));
        if (!hh || hh->archived)
            continue;
        ts_page_take (&pg);         //  a page is so many households
        if (req->room [0] && strcmp (hh->room, req->room) != 0)
            continue;
        res_building *b = residents_building_load (ctx, hh->building_id);
        for (size_t i = 0; i < hh->n_member_ids; i++) {
            res_person_rec *p = residents_person_load (ctx, hh->member_ids [i]);
            if (!p || p->archived || (req->name [0] && !strstr (p->name, req->name))
            ||  (req->tag [0] && !s_has_tag (p, req->tag)))
                continue;
            if (rep->n_persons == cap) {
                void **grown = ts_arena_alloc (ctx->arena, 2 * cap * sizeof (void *));
                memcpy (grown, rep->persons, cap * sizeof (void *));
                rep->persons = (Tashan__Residents__LookupPerson **) grown;
                cap *= 2;
            }
            Tashan__Residents__LookupPerson *lp = ts_arena_alloc (ctx->arena, sizeof *lp);
            tashan__residents__lookup_person__init (lp);
            lp->person_id = ts_id_text (ctx->arena, 'p', p->id);
            lp->household_id = ts_id_text (ctx->arena, 'h', hh->id);
            lp->building = b ? b->number : "";
            lp->unit = hh->unit;
            lp->room = hh->room;
            lp->masked_name = s_mask_name (ctx->arena, p->name);
            rep->persons [rep->n_persons++] = lp;
        }
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}
