/*  =========================================================================
    ledger_months - closing a month: the office publishes the month's
    honour board and rankings, and nothing is dated into it afterwards

    The panel meets monthly and records what it saw (an evaluation's
    observed_on dates it into that day's month, never the future). Ops
    closes a month once its boards are final; from then on an evaluation
    or a medal dated into it is refused (409 / rejected), and a correction
    (a reversal after an appeal, a credit from another daemon) counts in
    the current month instead. Because nothing can be added to a closed
    month, its boards as computed from its month sums are its published
    boards; `published_at` says when they were published.

    Tables:  months  u32 month index BE -> ledger.MonthClose
    =========================================================================
*/
#ifndef LEDGER_MONTHS_H
#define LEDGER_MONTHS_H

#include <stdbool.h>
#include "ledger_core.h"

#define LEDGER_MONTHS_LISTED_MAX 1300  //  2000-01 .. 2100-12

//  The close record of month_index, or NULL while it is open.
Tashan__Ledger__MonthClose *ledger_month_closed (ts_ctx *ctx, int month_index);
//  month_index, or the current month when month_index is closed (where a
//  correction that cannot be refused is dated).
int ledger_month_open_or_now (ts_ctx *ctx, int month_index);
//  The month an evaluation counts in, from its observed_on ("" = today):
//  0 with *month_index, or 400 (malformed, future) / 409 (closed).
unsigned ledger_month_observed (ts_ctx *ctx, const char *observed_on, int *month_index);

unsigned ledger_months_close (ts_ctx *ctx, const Tashan__Ledger__CloseMonthRequest *req,
                              Tashan__Ledger__MonthClose *rep);
unsigned ledger_months_list (ts_ctx *ctx, const Tashan__Ledger__ListMonthsRequest *req,
                             Tashan__Ledger__MonthList *rep);

#endif
