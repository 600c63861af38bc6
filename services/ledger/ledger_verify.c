/*  =========================================================================
    ledger_verify - sys.Verify for the ledger: every subject's derived
    balances recomputed from the entries (ledger_core.c's invariants):
        index sum  = Σ effective points of its entries but redemptions
        card       = Σ card points of its entries
        entries    = how many entries name it
    One pass over the entries table (bounded), sorted by subject, then
    each subject's record compared. Then the idempotency records
    (ledger_keys_verify): each names an entry, each sealed generation's
    filter holds its keys.
    =========================================================================
*/
#include "ledger_verify.h"
#include "ledger_core.h"
#include "ledger_keys.h"
#include "ts_verify.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_ENTRIES_MAX 50000000u    //  far above any community's count

typedef struct {
    const char *id;                 //  subject id (arena memory)
    int64_t index_points;           //  what it adds to the index sum
    int64_t card_points;            //  what it does to the card
} s_part;

static int
s_by_id (const void *a, const void *b)
{
    return strcmp (((const s_part *) a)->id, ((const s_part *) b)->id);
}

//  Every entry's part, in a malloc'd array (*count of them).
static s_part *
s_collect (ts_ctx *ctx, size_t *count)
{
    ledger_tables *t = ledger_tables_of (ctx);
    size_t size = 1024, n = 0;
    s_part *parts = malloc (size * sizeof *parts);
    assert (parts);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->entries) && ts_cursor_seek (&cur, NULL, 0);
    for (; more && n < VERIFY_ENTRIES_MAX; more = ts_cursor_next (&cur)) {
        ledger_entry *e = ts_cursor_msg (&cur, &tashan__ledger__entry__descriptor, ctx->arena);
        if (!e)
            break;                  //  sticky TS_STORE_CORRUPT: the run reports it
        if (n == size) {
            size *= 2;
            parts = realloc (parts, size * sizeof *parts);
            assert (parts);
        }
        bool redemption = strcmp (e->kind, "redemption") == 0;
        parts [n++] = (s_part) { e->person_id, redemption ? 0 : e->effective_points,
                                 e->card_points };
    }
    ts_cursor_close (&cur);
    *count = n;
    return parts;
}

//  One subject's sums against its record.
static void
s_compare (ts_ctx *ctx, ts_verify *v, const char *id, int64_t index_points,
           int64_t card_points, uint64_t entries)
{
    ledger_subject *s = ledger_subject_get (ctx, id);
    if (!s) {
        ts_verify_finding (v, "%" PRIu64 " entries name %s, which has no record", entries, id);
        return;
    }
    if (s->index_sum_points != index_points || s->card_points != card_points
    ||  s->entry_count != entries)
        ts_verify_finding (v, "%s: record says index sum %" PRId64 ", card %" PRId64 ", %"
                           PRIu64 " entries; its entries give %" PRId64 ", %" PRId64 ", %"
                           PRIu64, id, s->index_sum_points, s->card_points, s->entry_count,
                           index_points, card_points, entries);
}

void
ledger_verify (ts_ctx *ctx, ts_verify *v)
{
    size_t n;
    s_part *parts = s_collect (ctx, &n);
    qsort (parts, n, sizeof *parts, s_by_id);
    ts_verify_checked (v, n);
    for (size_t i = 0; i < n && ts_txn_error (ctx->txn) == 0; ) {
        int64_t index_points = 0, card_points = 0;
        size_t j = i;
        for (; j < n && strcmp (parts [j].id, parts [i].id) == 0; j++) {
            index_points += parts [j].index_points;
            card_points += parts [j].card_points;
        }
        s_compare (ctx, v, parts [i].id, index_points, card_points, (uint64_t) (j - i));
        i = j;
    }
    free (parts);
    if (ts_txn_error (ctx->txn) == 0)
        ledger_keys_verify (ctx, v);
}
