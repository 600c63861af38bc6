/*  =========================================================================
    ledger_sums - households' and buildings' month sums (hh_month,
    bld_month): what requests add is logged, the tick folds the log in

    Why: an evaluation moves its household's and its building's month sum,
    keys scattered over the month's sums, so a group commit of a few dozen
    evaluations dirtied a leaf page of hh_month per household it touched
    (a sixth of a commit's pages). Now a request's deltas are one record
    appended to sum_log (a batch shares its last leaf); the ledger's tick,
    on a worker thread (ts_ticker), adds the logged deltas to the sums and
    deletes them, in one transaction: a sum is always the stored value
    plus the deltas still in the log, which is what every reader asks for
    (ledger_sums_pending). The fold aggregates: a household met a thousand
    times since the last tick is written once.

    Table sum_log: u64 id -> records, each: u8 kind ('h' hh_month, 'b'
    bld_month), u32 month, i64 delta points, u8 name length, the name;
    ids follow the last one (appended).
    =========================================================================
*/
#ifndef LEDGER_SUMS_H
#define LEDGER_SUMS_H

#include "ledger_core.h"

//  One month sum's change.
typedef struct {
    ts_table table;                 //  hh_month or bld_month
    int month_index;
    const char *name;               //  household id / building number
    int64_t delta_points;
} ledger_sum_delta;

//  Log a request's changes (deltas of 0 are skipped; names longer than
//  255 bytes cannot be households' or buildings' and are refused with
//  the sticky error TS_STORE_CORRUPT).
void ledger_sums_log (ts_ctx *ctx, const ledger_sum_delta *deltas, size_t count);

//  The logged deltas of one table and month, summed per name, for a read
//  that adds them to the stored sums (arena memory).
typedef struct ledger_sums_pending ledger_sums_pending;
ledger_sums_pending *ledger_sums_pending_of (ts_ctx *ctx, ts_table table, int month_index);
int64_t ledger_sums_pending_points (const ledger_sums_pending *self, const char *name);

//  Fold at most max_deltas logged deltas (whole records; at least one
//  record) into the sums, deleting their records. Returns the records
//  folded. For the tick: it touches only its transaction.
size_t ledger_sums_fold (ts_ctx *ctx, size_t max_deltas);

//  Deltas a tick folds at most (its arena: some 40 bytes each).
#define LEDGER_SUMS_FOLD_MAX 65536
#define LEDGER_SUMS_TICK_MS 250

#endif
