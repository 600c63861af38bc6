/*  =========================================================================
    ledger_school - the school integration (一卡通双重兑换): a school pushes
    credit-medal events for its own pupils in batches and reads a pupil's
    monthly community credit; it can revoke a medal it gave (a reversal
    entry, like revoking an Open Badges assertion).

    A school token is bound to one school (caller binding): it sees and
    credits only pupils recorded with that school id.
    =========================================================================
*/
#ifndef LEDGER_SCHOOL_H
#define LEDGER_SCHOOL_H

#include "ledger_posting.h"

#define LEDGER_MEDAL_RULE "school.medal"

unsigned ledger_school_medals (ts_ctx *ctx, ledger_cache *cache,
                               const Tashan__Ledger__MedalBatchRequest *r,
                               Tashan__Ledger__BatchReply *rep);
unsigned ledger_school_revoke (ts_ctx *ctx, ledger_cache *cache,
                               const Tashan__Ledger__RevokeMedalRequest *r,
                               ledger_entry *rep);
unsigned ledger_school_pupil_credit (ts_ctx *ctx,
                                     const Tashan__Ledger__PupilCreditRequest *r,
                                     Tashan__Ledger__PupilCredit *rep);

#endif
