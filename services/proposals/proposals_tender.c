/*  =========================================================================
    proposals_tender - public tender 公开招投标 of an accepted proposal:
    a deadline, sealed bids, the award.

    Sealed: until ctx->now_ms reaches the deadline no read path shows a
    bid's amount, plan or rank (ops included): bids are listed with
    sealed true, amount 0, plan "". A merchant sees only its own bids,
    whole. After the deadline bids are ranked: compliant ones (within the
    budget, bidder not suspended) by amount, lowest first. The award takes
    the lowest compliant bid by default; choosing another needs a reason.
    The award commits the amount in the fund, or nothing (409) when the
    fund's free cents are short.
    =========================================================================
*/
#include "proposals_core.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static int64_t
s_deadline_ms (const prop_proposal *p)
{
    int64_t ms = 0;
    bool parsed = ts_time_parse (p->deadline, &ms);
    assert (parsed);
    return ms;
}

static bool
s_sealed (ts_ctx *ctx, const prop_proposal *p)
{
    return ctx->now_ms < s_deadline_ms (p);
}

//  --------------------------------------------------------------------
//  POST /v1/proposals/{id}/tender

unsigned
prop_tender (ts_ctx *ctx, const Tashan__Proposals__TenderRequest *req, prop_proposal *rep)
{
    uint64_t no;
    prop_proposal *p;
    int64_t deadline_ms;
    unsigned rc;
    if ((rc = prop_proposal_step (ctx, req->id, "tender", &no, &p))
    ||  (rc = ts_check_time (ctx, "deadline", req->deadline, true, &deadline_ms)))
        return rc;
    if (deadline_ms <= ctx->now_ms)
        return ts_fail (ctx, TS_BAD_REQUEST, "deadline must be in the future");
    p->deadline = ts_time_text (ctx->arena, deadline_ms);
    char *note = ts_arena_printf (ctx->arena, "bids sealed until %s", p->deadline);
    if ((rc = prop_proposal_move (ctx, no, p, "tendering", note, rep)))
        return rc;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Bid records

static Tashan__Proposals__Bid *
s_bid_load (ts_ctx *ctx, uint64_t no)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    return ts_txn_get_msg (ctx->txn, prop_table (ctx, "bids"), k.data, k.size,
                           &tashan__proposals__bid__descriptor, ctx->arena);
}

//  Compliant: within the proposal's budget, the bidder not suspended.
static bool
s_compliant (ts_ctx *ctx, const prop_proposal *p, const Tashan__Proposals__Bid *b)
{
    Tashan__Proposals__MirrorUnit *u = prop_unit (ctx, b->bidder_merchant_id);
    return b->amount_cents <= p->budget_cents && !(u && u->suspended);
}

//  Every bid of a proposal (at most PROP_BIDS_MAX), in submission order.
static size_t
s_bids_of (ts_ctx *ctx, uint64_t proposal_no, Tashan__Proposals__Bid ***out)
{
    Tashan__Proposals__Bid **bids = ts_arena_alloc (ctx->arena, PROP_BIDS_MAX * sizeof *bids);
    size_t n = 0;
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_u64 (&prefix, proposal_no);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, prop_table (ctx, "prop_bids"));
    for (bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
         ok && n < PROP_BIDS_MAX && ts_cursor_has_prefix (&cur, prefix.data, prefix.size);
         ok = ts_cursor_next (&cur)) {
        if (cur.key.size != 16) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        Tashan__Proposals__Bid *b = s_bid_load (ctx, ts_be64_get ((const uint8_t *) cur.key.data + 8));
        if (!b) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        bids [n++] = b;
    }
    ts_cursor_close (&cur);
    *out = bids;
    return n;
}

//  Order: compliant first, then by amount, then by submission (the bid
//  number: "d<n>" without leading zeros sorts by length, then text).
static int
s_rank_cmp (const void *a_, const void *b_)
{
    const Tashan__Proposals__Bid *a = *(Tashan__Proposals__Bid *const *) a_;
    const Tashan__Proposals__Bid *b = *(Tashan__Proposals__Bid *const *) b_;
    if (a->compliant != b->compliant)
        return a->compliant ? -1 : 1;
    if (a->amount_cents != b->amount_cents)
        return a->amount_cents < b->amount_cents ? -1 : 1;
    size_t a_chars = strlen (a->id), b_chars = strlen (b->id);
    if (a_chars != b_chars)
        return a_chars < b_chars ? -1 : 1;
    return strcmp (a->id, b->id);
}

//  Opened bids ranked (after the deadline only): compliant, rank.
static void
s_rank (ts_ctx *ctx, const prop_proposal *p, Tashan__Proposals__Bid **bids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bids [i]->compliant = s_compliant (ctx, p, bids [i]);
        bids [i]->sealed = false;
    }
    qsort (bids, n, sizeof *bids, s_rank_cmp);
    for (size_t i = 0; i < n; i++)
        bids [i]->rank = (uint32_t) (i + 1);
}

//  A bid as a sealed tender shows it.
static void
s_seal (Tashan__Proposals__Bid *b)
{
    b->sealed = true;
    b->amount_cents = 0;
    b->plan = "";
    b->compliant = false;
    b->rank = 0;
}

//  --------------------------------------------------------------------
//  POST /v1/proposals/{id}/bids (ops, or a merchant as itself)

unsigned
prop_bid (ts_ctx *ctx, const Tashan__Proposals__BidRequest *req, Tashan__Proposals__Bid *rep)
{
    uint64_t no, merchant_no;
    prop_proposal *p;
    unsigned rc;
    if ((rc = prop_check_own_merchant (ctx, req->bidder_merchant_id))
    ||  (rc = prop_proposal_step (ctx, req->id, "bid", &no, &p))
    ||  (rc = ts_check_id (ctx, "bidder_merchant_id", req->bidder_merchant_id, 'm',
                           "merchant", TS_UNPROCESSABLE, &merchant_no))
    ||  (rc = ts_check_range (ctx, "amount_cents", req->amount_cents, 1, PROP_MONEY_MAX_CENTS))
    ||  (rc = ts_check_str (ctx, "plan", req->plan, TS_STR_MAX_CHARS, true)))
        return rc;
    if (!s_sealed (ctx, p))
        return ts_fail (ctx, TS_CONFLICT, "the tender of %s closed at %s", p->id, p->deadline);
    Tashan__Proposals__MirrorUnit *u = prop_unit (ctx, req->bidder_merchant_id);
    if (u && u->suspended)
        return ts_fail (ctx, TS_UNPROCESSABLE, "merchant %s is suspended", req->bidder_merchant_id);
    if (p->bids >= PROP_BIDS_MAX)
        return ts_fail (ctx, TS_CONFLICT, "%s has %d bids, the most a tender takes", p->id,
                        PROP_BIDS_MAX);
    uint64_t bid_no = ts_txn_next_id (ctx->txn, "bid");
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_key_str (&k, req->bidder_merchant_id);
    uint8_t bid_be [8];
    ts_be64_put (bid_be, bid_no);
    if (!ts_txn_insert (ctx->txn, prop_table (ctx, "bidders"), k.data, k.size, bid_be, 8))
        return ts_fail (ctx, TS_CONFLICT, "merchant %s already bid for %s",
                        req->bidder_merchant_id, p->id);
    rep->id = ts_id_text (ctx->arena, PROP_KIND_BID, bid_no);
    rep->proposal_id = p->id;
    rep->bidder_merchant_id = req->bidder_merchant_id;
    rep->amount_cents = req->amount_cents;
    rep->plan = req->plan;
    rep->submitted_at = ts_time_text (ctx->arena, ctx->now_ms);
    ts_key_init (&k);
    ts_key_u64 (&k, bid_no);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "bids"), k.data, k.size, &rep->base);
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_key_u64 (&k, bid_no);
    ts_txn_put (ctx->txn, prop_table (ctx, "prop_bids"), k.data, k.size, "", 0);
    p->bids++;
    prop_proposal_save (ctx, no, p->state, p);
    //  The bidder sees its own bid; staff entering a paper bid see it sealed.
    if (!prop_caller_merchant (ctx))
        s_seal (rep);
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  GET /v1/proposals/{id}/bids (ops: all, sealed until the deadline;
//  a merchant: its own bids only)

unsigned
prop_bids_list (ts_ctx *ctx, const Tashan__Proposals__ListBidsRequest *req,
                Tashan__Proposals__ListBidsReply *rep)
{
    uint64_t no;
    prop_proposal *p;
    unsigned rc = prop_proposal_find (ctx, req->id, &no, &p);
    if (rc)
        return rc;
    Tashan__Proposals__Bid **bids;
    size_t n = s_bids_of (ctx, no, &bids);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error");
    bool tendered = p->deadline [0] != 0;
    rep->sealed = tendered && s_sealed (ctx, p);
    rep->deadline = p->deadline;
    if (prop_caller_merchant (ctx)) {
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp (bids [i]->bidder_merchant_id, ctx->caller->binding) == 0)
                bids [kept++] = bids [i];
        n = kept;
    }
    else
    if (rep->sealed)
        for (size_t i = 0; i < n; i++)
            s_seal (bids [i]);
    else
        s_rank (ctx, p, bids, n);
    rep->bids = bids;
    rep->n_bids = n;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  POST /v1/proposals/{id}/award

unsigned
prop_award (ts_ctx *ctx, const Tashan__Proposals__AwardRequest *req, prop_proposal *rep)
{
    uint64_t no, bid_no = 0;
    prop_proposal *p;
    unsigned rc;
    if ((rc = prop_proposal_step (ctx, req->id, "award", &no, &p))
    ||  (rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, false))
    ||  (req->bid_id [0] && (rc = ts_check_id (ctx, "bid_id", req->bid_id, PROP_KIND_BID,
                                               "bid", TS_UNPROCESSABLE, &bid_no))))
        return rc;
    if (s_sealed (ctx, p))
        return ts_fail (ctx, TS_CONFLICT, "bids for %s stay sealed until %s", p->id, p->deadline);
    Tashan__Proposals__Bid **bids;
    size_t n = s_bids_of (ctx, no, &bids);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error");
    if (n == 0)
        return ts_fail (ctx, TS_CONFLICT, "proposal %s has no bids", p->id);
    s_rank (ctx, p, bids, n);
    Tashan__Proposals__Bid *chosen = NULL;
    for (size_t i = 0; i < n && bid_no; i++)
        if (strcmp (bids [i]->id, req->bid_id) == 0)
            chosen = bids [i];
    if (bid_no && !chosen)
        return ts_fail (ctx, TS_UNPROCESSABLE, "bid_id: %s is not a bid for %s", req->bid_id, p->id);
    bool lowest = bids [0]->compliant && (!chosen || chosen == bids [0]);
    if (!chosen && !bids [0]->compliant)
        return ts_fail (ctx, TS_CONFLICT, "no compliant bid for %s: choose one with a reason",
                        p->id);
    if (!chosen)
        chosen = bids [0];
    //  The fund first: an award it cannot pay is 409 whatever the reason.
    const char *note = req->reason [0] ? req->reason : "the lowest compliant bid";
    if ((rc = prop_fund_commit (ctx, p->id, chosen->id, chosen->amount_cents, note)))
        return rc;
    if (!lowest && !req->reason [0])
        return ts_fail (ctx, TS_BAD_REQUEST, "reason: required when the award is not the "
                        "lowest compliant bid (%s)", bids [0]->compliant ? bids [0]->id : "none");
    p->awarded_bid_id = chosen->id;
    p->awarded_merchant_id = chosen->bidder_merchant_id;
    p->awarded_cents = chosen->amount_cents;
    //  The note is the reason itself; the bid is in awarded_bid_id.
    if ((rc = prop_proposal_move (ctx, no, p, "awarded", note, rep)))
        return rc;
    chosen->awarded = true;
    chosen->rank = 0;
    chosen->compliant = false;
    ts_key k;
    ts_key_init (&k);
    uint64_t chosen_no = 0;
    bool parsed = ts_id_parse (chosen->id, PROP_KIND_BID, &chosen_no);
    assert (parsed);
    ts_key_u64 (&k, chosen_no);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "bids"), k.data, k.size, &chosen->base);
    return TS_OK;
}
