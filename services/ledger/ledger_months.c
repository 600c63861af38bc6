/*  ledger_months - closing a month. See ledger_months.h. */
#include "ledger_months.h"

#include <assert.h>
#include <string.h>

#include "ts_valid.h"

Tashan__Ledger__MonthClose *
ledger_month_closed (ts_ctx *ctx, int month_index)
{
    assert (month_index >= 0);
    uint8_t k [4];
    ts_be32_put (k, (uint32_t) month_index);
    return ts_txn_get_msg (ctx->txn, ts_ctx_table (ctx, "months"), k, 4,
                           &tashan__ledger__month_close__descriptor, ctx->arena);
}

int
ledger_month_open_or_now (ts_ctx *ctx, int month_index)
{
    return ledger_month_closed (ctx, month_index) ? ts_month_index_of (ctx->now_ms)
                                                  : month_index;
}

unsigned
ledger_month_observed (ts_ctx *ctx, const char *observed_on, int *month_index)
{
    if (!observed_on || !observed_on [0]) {
        *month_index = ts_month_index_of (ctx->now_ms);
        return 0;
    }
    int64_t day_ms;
    unsigned rc = ts_check_day (ctx, "observed_on", observed_on, &day_ms);
    if (rc)
        return rc;
    if (ts_day_of (day_ms) > ts_day_of (ctx->now_ms))
        return ts_fail (ctx, TS_BAD_REQUEST, "observed_on %s is in the future", observed_on);
    *month_index = ts_month_index_of (day_ms);
    Tashan__Ledger__MonthClose *closed = ledger_month_closed (ctx, *month_index);
    if (closed)
        return ts_fail (ctx, TS_CONFLICT, "month %s was closed at %s: a correction is made "
                        "in the current month", closed->month, closed->published_at);
    return 0;
}

unsigned
ledger_months_close (ts_ctx *ctx, const Tashan__Ledger__CloseMonthRequest *req,
                     Tashan__Ledger__MonthClose *rep)
{
    unsigned rc = ts_check_month (ctx, "month", req->month);
    if (rc)
        return rc;
    int month_index = ts_month_index (req->month);
    if (month_index >= ts_month_index_of (ctx->now_ms))
        return ts_fail (ctx, TS_CONFLICT, "month %s is not over yet: only past months close",
                        req->month);
    Tashan__Ledger__MonthClose *closed = ledger_month_closed (ctx, month_index);
    if (closed)
        return ts_fail (ctx, TS_CONFLICT, "month %s was already closed at %s by %s",
                        closed->month, closed->published_at, closed->closed_by);
    rep->month = ts_month_text (ctx->arena, month_index);
    rep->published_ms = ctx->now_ms;
    rep->published_at = ts_time_text (ctx->arena, ctx->now_ms);
    rep->closed_by = (char *) ctx->caller->principal;
    uint8_t k [4];
    ts_be32_put (k, (uint32_t) month_index);
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, "months"), k, 4, &rep->base);
    return TS_OK;
}

unsigned
ledger_months_list (ts_ctx *ctx, const Tashan__Ledger__ListMonthsRequest *req,
                    Tashan__Ledger__MonthList *rep)
{
    (void) req;
    rep->current_month = ts_month_text (ctx->arena, ts_month_index_of (ctx->now_ms));
    rep->months = ts_arena_alloc (ctx->arena, LEDGER_MONTHS_LISTED_MAX * sizeof *rep->months);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, ts_ctx_table (ctx, "months"))
             && ts_cursor_seek_last (&cur, NULL, 0);
    while (more && rep->n_months < LEDGER_MONTHS_LISTED_MAX) {
        Tashan__Ledger__MonthClose *m = ts_cursor_msg (&cur,
            &tashan__ledger__month_close__descriptor, ctx->arena);
        if (!m)
            break;
        rep->months [rep->n_months++] = m;
        more = ts_cursor_prev (&cur);
    }
    ts_cursor_close (&cur);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing months");
    return TS_OK;
}
