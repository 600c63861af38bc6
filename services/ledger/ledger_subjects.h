/*  =========================================================================
    ledger_subjects - persons and merchants kept from residents' and
    merchants' events
    =========================================================================
*/
#ifndef LEDGER_SUBJECTS_H
#define LEDGER_SUBJECTS_H

#include "ledger_core.h"

//  Upsert from residents' person.* events / merchants' merchant.* events.
unsigned ledger_subjects_apply_person (ts_ctx *ctx, const Tashan__Events__Person *payload,
                                       const Tashan__Event *event);
unsigned ledger_subjects_apply_merchant (ts_ctx *ctx,
                                         const Tashan__Events__Merchant *payload,
                                         const Tashan__Event *event);

#endif
