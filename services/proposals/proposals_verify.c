/*  =========================================================================
    proposals_verify - sys.Verify for proposals: the fund's totals
    recomputed from its append-only movements (proposals_fund.c):
        deposit     deposited += amount
        commitment  committed += amount
        spending    committed -= amount, spent += amount
        release     committed -= amount
    and the number of movements. One bounded pass over "movements".
    =========================================================================
*/
#include "proposals_core.h"
#include "proposals_verify.h"
#include "ts_verify.h"

#include <inttypes.h>
#include <string.h>

#define VERIFY_MOVEMENTS_MAX 50000000u

typedef struct {
    int64_t deposited_cents;
    int64_t committed_cents;
    int64_t spent_cents;
    uint64_t movements;
} s_sums;

//  Add one movement; false for a kind the fund does not know.
static bool
s_add (s_sums *sums, const Tashan__Proposals__Movement *m)
{
    sums->movements++;
    if (strcmp (m->kind, "deposit") == 0)
        sums->deposited_cents += m->amount_cents;
    else
    if (strcmp (m->kind, "commitment") == 0)
        sums->committed_cents += m->amount_cents;
    else
    if (strcmp (m->kind, "spending") == 0) {
        sums->committed_cents -= m->amount_cents;
        sums->spent_cents += m->amount_cents;
    }
    else
    if (strcmp (m->kind, "release") == 0)
        sums->committed_cents -= m->amount_cents;
    else
        return false;
    return true;
}

void
proposals_verify (ts_ctx *ctx, ts_verify *v)
{
    s_sums sums = { 0 };
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, prop_table (ctx, "movements"))
             && ts_cursor_seek (&cur, NULL, 0);
    for (; more && sums.movements < VERIFY_MOVEMENTS_MAX; more = ts_cursor_next (&cur)) {
        Tashan__Proposals__Movement *m = ts_cursor_msg (
            &cur, &tashan__proposals__movement__descriptor, ctx->arena);
        if (!m)
            break;                  //  sticky TS_STORE_CORRUPT: the run reports it
        if (!s_add (&sums, m))
            ts_verify_finding (v, "fund movement %s has an unknown kind '%s'", m->id, m->kind);
    }
    ts_cursor_close (&cur);
    ts_verify_checked (v, sums.movements);
    Tashan__Proposals__FundTotals *t = prop_fund_totals (ctx);
    if (t->deposited_cents != sums.deposited_cents || t->committed_cents != sums.committed_cents
    ||  t->spent_cents != sums.spent_cents || t->movements != sums.movements)
        ts_verify_finding (v, "fund totals say deposited %" PRId64 ", committed %" PRId64
                           ", spent %" PRId64 " (cents) over %" PRIu64 " movements; the "
                           "movements give %" PRId64 ", %" PRId64 ", %" PRId64 " over %" PRIu64,
                           t->deposited_cents, t->committed_cents, t->spent_cents,
                           (uint64_t) t->movements, sums.deposited_cents,
                           sums.committed_cents, sums.spent_cents, sums.movements);
}
