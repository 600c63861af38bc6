/*  =========================================================================
    proposals_fund - the 小提案·大治理 fund: deposits, commitments at
    award, spending at acceptance, releases of what was not spent.

    The daemon is the fund's single writer: requests run one after another
    inside its group-commit transaction, so two awards racing for the last
    free cents are decided in order and the second sees the first's
    commitment. Every movement is appended (never edited) and the totals
    move in the same transaction; the invariant
        deposited = committed + spent + free, free >= 0
    is asserted after each one.
    =========================================================================
*/
#include "proposals_core.h"

#include <assert.h>
#include <string.h>

#include "ts_page.h"

#define TOTALS_KEY "totals"

Tashan__Proposals__FundTotals *
prop_fund_totals (ts_ctx *ctx)
{
    Tashan__Proposals__FundTotals *t = ts_txn_get_msg (ctx->txn, prop_table (ctx, "fund"),
        TOTALS_KEY, sizeof TOTALS_KEY, &tashan__proposals__fund_totals__descriptor, ctx->arena);
    if (!t) {
        t = ts_arena_alloc (ctx->arena, sizeof *t);
        tashan__proposals__fund_totals__init (t);
    }
    return t;
}

int64_t
prop_fund_free_cents (const Tashan__Proposals__FundTotals *t)
{
    return t->deposited_cents - t->committed_cents - t->spent_cents;
}

static void
s_assert_invariant (const Tashan__Proposals__FundTotals *t)
{
    assert (t->deposited_cents >= 0);
    assert (t->committed_cents >= 0);
    assert (t->spent_cents >= 0);
    assert (t->committed_cents <= t->deposited_cents - t->spent_cents);
    assert (prop_fund_free_cents (t) >= 0);
    assert (t->deposited_cents == t->committed_cents + t->spent_cents
                                  + prop_fund_free_cents (t));
}

//  Append one movement and store the totals it produced.
static Tashan__Proposals__Movement *
s_move (ts_ctx *ctx, Tashan__Proposals__FundTotals *t, const char *kind,
        int64_t amount_cents, const char *source, const char *proposal_id,
        const char *bid_id, const char *note)
{
    assert (amount_cents > 0 && amount_cents <= PROP_MONEY_MAX_CENTS);
    s_assert_invariant (t);
    uint64_t no = ts_txn_next_id (ctx->txn, "movement");
    Tashan__Proposals__Movement *m = ts_arena_alloc (ctx->arena, sizeof *m);
    tashan__proposals__movement__init (m);
    m->id = ts_id_text (ctx->arena, PROP_KIND_MOVEMENT, no);
    m->kind = (char *) kind;
    m->amount_cents = amount_cents;
    m->source = (char *) (source ? source : "");
    m->proposal_id = (char *) (proposal_id ? proposal_id : "");
    m->bid_id = (char *) (bid_id ? bid_id : "");
    m->at = ts_time_text (ctx->arena, ctx->now_ms);
    m->by = prop_by (ctx);
    m->note = (char *) (note ? note : "");
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "movements"), k.data, k.size, &m->base);
    t->movements++;
    s_assert_invariant (t);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "fund"), TOTALS_KEY, sizeof TOTALS_KEY, &t->base);
    return m;
}

//  --------------------------------------------------------------------
//  POST /v1/fund/deposits (idempotent by the runtime on idempotency_key).

unsigned
prop_fund_deposit (ts_ctx *ctx, const Tashan__Proposals__DepositRequest *req,
                   Tashan__Proposals__Movement *rep)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "source", req->source, PROP_TITLE_MAX_CHARS, true))
    ||  (rc = ts_check_range (ctx, "amount_cents", req->amount_cents, 1, PROP_MONEY_MAX_CENTS)))
        return rc;
    Tashan__Proposals__FundTotals *t = prop_fund_totals (ctx);
    if (t->deposited_cents > PROP_MONEY_MAX_CENTS * 1000 - req->amount_cents)
        return ts_fail (ctx, TS_CONFLICT, "the fund cannot hold more");
    t->deposited_cents += req->amount_cents;
    *rep = *s_move (ctx, t, "deposit", req->amount_cents, req->source, "", "", "");
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  GET /v1/fund: totals and the movements, oldest first.

unsigned
prop_fund_get (ts_ctx *ctx, const Tashan__Proposals__GetFundRequest *req,
               Tashan__Proposals__Fund *rep)
{
    Tashan__Proposals__FundTotals *t = prop_fund_totals (ctx);
    s_assert_invariant (t);
    rep->deposited_cents = t->deposited_cents;
    rep->committed_cents = t->committed_cents;
    rep->spent_cents = t->spent_cents;
    rep->free_cents = prop_fund_free_cents (t);
    ts_page pg;
    uint32_t size = req->page_size ? req->page_size : PROP_FUND_PAGE_DEFAULT;
    unsigned rc = ts_page_open (ctx, &pg, prop_table (ctx, "movements"), NULL, 0,
                                req->page_token, size);
    if (rc)
        return rc;
    rep->movements = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->movements);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        Tashan__Proposals__Movement *m =
            ts_page_msg (&pg, &tashan__proposals__movement__descriptor, ctx->arena);
        if (!m)
            break;
        rep->movements [rep->n_movements++] = m;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error");
    return TS_OK;
}

//  --------------------------------------------------------------------
//  An award commits its amount, or nothing when the fund is short.

unsigned
prop_fund_commit (ts_ctx *ctx, const char *proposal_id, const char *bid_id,
                  int64_t amount_cents, const char *note)
{
    assert (amount_cents > 0);
    Tashan__Proposals__FundTotals *t = prop_fund_totals (ctx);
    int64_t free_cents = prop_fund_free_cents (t);
    if (amount_cents > free_cents)
        return ts_fail (ctx, TS_CONFLICT,
                        "the fund has %lld cents free, the award needs %lld",
                        (long long) free_cents, (long long) amount_cents);
    t->committed_cents += amount_cents;
    s_move (ctx, t, "commitment", amount_cents, "", proposal_id, bid_id, note);
    return 0;
}

//  --------------------------------------------------------------------
//  Acceptance or failure: spent moves from committed to spent, the rest
//  of the commitment is released.

void
prop_fund_settle (ts_ctx *ctx, const char *proposal_id, int64_t committed_cents,
                  int64_t spent_cents, const char *note)
{
    assert (spent_cents >= 0 && spent_cents <= committed_cents);
    Tashan__Proposals__FundTotals *t = prop_fund_totals (ctx);
    assert (t->committed_cents >= committed_cents);
    if (spent_cents > 0) {
        t->committed_cents -= spent_cents;
        t->spent_cents += spent_cents;
        s_move (ctx, t, "spending", spent_cents, "", proposal_id, "", note);
    }
    int64_t rest_cents = committed_cents - spent_cents;
    if (rest_cents > 0) {
        t->committed_cents -= rest_cents;
        s_move (ctx, t, "release", rest_cents, "", proposal_id, "", note);
    }
}
