/*  =========================================================================
    ledger_appeal - appeals (申诉) against one entry: filed by the office for
    a resident, then accepted (a reversal entry corrects the entry) or
    rejected with a reason. The appeal and the reversal both stay on record.
    =========================================================================
*/
#ifndef LEDGER_APPEAL_H
#define LEDGER_APPEAL_H

#include "ledger_posting.h"

typedef Tashan__Ledger__Appeal ledger_appeal;

#define LEDGER_APPEAL_OPEN "open"
#define LEDGER_APPEAL_ACCEPTED "accepted"
#define LEDGER_APPEAL_REJECTED "rejected"

unsigned ledger_appeal_file (ts_ctx *ctx, const Tashan__Ledger__FileAppealRequest *r,
                             ledger_appeal *rep);
unsigned ledger_appeal_decide (ts_ctx *ctx, ledger_cache *cache,
                               const Tashan__Ledger__DecideAppealRequest *r,
                               ledger_appeal *rep);
unsigned ledger_appeal_get (ts_ctx *ctx, const Tashan__Ledger__GetAppealRequest *r,
                            ledger_appeal *rep);
unsigned ledger_appeal_list (ts_ctx *ctx, const Tashan__Ledger__ListAppealsRequest *r,
                             Tashan__Ledger__AppealPage *rep);

#endif
