/*  =========================================================================
    merchants_complaints - complaints against a merchant (AddComplaint,
    ResolveComplaint: upheld or dismissed, ListComplaints) and the
    counters of open and upheld ones that its standing reads.
    =========================================================================
*/
#include "merchants_core.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_valid.h"

static const char *const s_complaint_status [] = { "open", "upheld", "dismissed", NULL };
static const char *const s_resolutions [] = { "upheld", "dismissed", NULL };

static void
s_complaint_count (ts_ctx *ctx, uint64_t merchant, const char *status, int64_t delta)
{
    if (strcmp (status, "open") == 0)
        merchants_count_add (ctx, "m.open", merchant, NULL, delta);
    else
    if (strcmp (status, "upheld") == 0)
        merchants_count_add (ctx, "m.upheld", merchant, NULL, delta);
    else
        assert (strcmp (status, "dismissed") == 0);
}

unsigned
merchants_complaint_add (ts_ctx *ctx, const Tashan__Merchants__AddComplaintRequest *req,
                         Tashan__Merchants__Complaint *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    uint64_t merchant;
    Tashan__Merchants__Merchant *m = merchants_find (ctx, req->id, TS_NOT_FOUND, &merchant);
    if (!m)
        return ctx->code;
    unsigned rc;
    const char *status = req->status [0] ? req->status : "open";
    if ((rc = ts_check_str (ctx, "summary", req->summary, TS_STR_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "category", req->category, TS_NAME_MAX_CHARS, false))
    ||  (rc = ts_check_enum (ctx, "status", status, s_complaint_status))
    ||  (rc = ts_check_str (ctx, "resolution_note", req->resolution_note,
                            TS_STR_MAX_CHARS, false)))
        return rc;
    uint64_t no = ts_txn_next_id (ctx->txn, "complaint");
    rep->id = ts_id_text (ctx->arena, 'q', no);
    rep->merchant_id = m->id;
    rep->summary = req->summary;
    rep->category = req->category;
    rep->status = (char *) status;
    rep->resolution_note = req->resolution_note;
    rep->created_at_ms = ctx->now_ms;
    rep->resolved_at_ms = strcmp (status, "open") == 0 ? 0 : ctx->now_ms;
    rep->recorded_by = (char *) ctx->caller->principal;
    ts_key k;
    merchants_key_no (&k, merchant);
    ts_key_u64 (&k, no);
    ts_txn_put_msg (ctx->txn, self->complaints, k.data, k.size, &rep->base);
    s_complaint_count (ctx, merchant, status, 1);
    return TS_CREATED;
}

unsigned
merchants_complaint_resolve (ts_ctx *ctx,
                             const Tashan__Merchants__ResolveComplaintRequest *req,
                             Tashan__Merchants__Complaint *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    uint64_t merchant, no;
    if (!merchants_find (ctx, req->id, TS_NOT_FOUND, &merchant))
        return ctx->code;
    if (!ts_id_parse (req->complaint_id, 'q', &no))
        return ts_fail (ctx, TS_NOT_FOUND, "no complaint %.64s", req->complaint_id);
    unsigned rc;
    if ((rc = ts_check_enum (ctx, "status", req->status, s_resolutions))
    ||  (rc = ts_check_str (ctx, "resolution_note", req->resolution_note,
                            TS_STR_MAX_CHARS, false)))
        return rc;
    ts_key k;
    merchants_key_no (&k, merchant);
    ts_key_u64 (&k, no);
    Tashan__Merchants__Complaint *c = ts_txn_get_msg (ctx->txn, self->complaints,
                                                      k.data, k.size,
                                                      &tashan__merchants__complaint__descriptor,
                                                      ctx->arena);
    if (!c)
        return ts_fail (ctx, TS_NOT_FOUND, "no complaint %s for merchant %s",
                        req->complaint_id, req->id);
    if (strcmp (c->status, req->status) == 0)
        return ts_fail (ctx, TS_CONFLICT, "complaint %s is already %s", c->id, c->status);
    s_complaint_count (ctx, merchant, c->status, -1);
    s_complaint_count (ctx, merchant, req->status, 1);
    c->status = req->status;
    if (req->resolution_note [0])
        c->resolution_note = req->resolution_note;
    c->resolved_at_ms = ctx->now_ms;
    c->recorded_by = (char *) ctx->caller->principal;
    ts_txn_put_msg (ctx->txn, self->complaints, k.data, k.size, &c->base);
    *rep = *c;
    return TS_OK;
}

unsigned
merchants_complaint_list (ts_ctx *ctx, const Tashan__Merchants__ListComplaintsRequest *req,
                          Tashan__Merchants__ListComplaintsReply *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = merchants_check_own (ctx, req->id)))
        return rc;
    uint64_t merchant;
    if (!merchants_find (ctx, req->id, TS_NOT_FOUND, &merchant))
        return ctx->code;
    ts_key prefix;
    merchants_key_no (&prefix, merchant);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, self->complaints, prefix.data, prefix.size,
                            req->page_token, req->page_size)))
        return rc;
    rep->complaints = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->complaints);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        Tashan__Merchants__Complaint *c =
            ts_page_msg (&pg, &tashan__merchants__complaint__descriptor, ctx->arena);
        if (!c)
            break;                  //  corrupt: the txn failed
        rep->complaints [rep->n_complaints++] = c;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing complaints");
    return TS_OK;
}
