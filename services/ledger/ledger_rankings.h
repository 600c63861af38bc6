/*  =========================================================================
    ledger_rankings - the month's rankings of households (最美家庭) and
    buildings (和谐楼宇): every one of the community, fairly

    The ledger mirrors the community's layout from residents' events
    (known_households: current residents per household, whatever their
    consent; known_buildings: residents' building.* and persons'
    buildings), so a household or building with no entries is ranked at 0
    and a net-negative one can never head the list for want of others.

    Order: average_points (the month's net points per listed member; 0
    with none) descending, then month_points descending, then the id in
    natural order ("2" before "10"). The first N rows (the red list size)
    that are net positive are "honoured"; no other row ever is.
    Closing a month freezes both rankings as published (frozen table);
    reading a closed month reads them back unchanged.

    Performance: a ranking walks the community's households (or
    buildings) once, with two point lookups each, and sorts them (at most
    LEDGER_RANKING_ROWS_MAX); a closed month's is a cursor walk over its
    published rows.
    =========================================================================
*/
#ifndef LEDGER_RANKINGS_H
#define LEDGER_RANKINGS_H

#include "ledger_core.h"

#define LEDGER_RANKING_ROWS_MAX 2000000     //  households or buildings ranked

//  open(): a store from before the layout was mirrored gets it counted
//  from its persons, once.
void ledger_rankings_open (ts_ctx *ctx);
//  A person event moves a resident: out of the household subject was in
//  (NULL: new to the ledger), into the one of p, and records p's building.
void ledger_rankings_person (ts_ctx *ctx, const ledger_subject *subject,
                             const Tashan__Events__Person *p);
//  Residents' building.created / building.archived.
unsigned ledger_rankings_apply_building (ts_ctx *ctx, const Tashan__Events__Building *b,
                                         const Tashan__Event *event);
//  Publish month's rankings as they stand (called as the month closes).
void ledger_rankings_freeze (ts_ctx *ctx, int month_index);

//  Handlers.
unsigned ledger_rankings_households (ts_ctx *ctx, const Tashan__Ledger__BoardRequest *r,
                                     Tashan__Ledger__Ranking *rep);
unsigned ledger_rankings_buildings (ts_ctx *ctx, const Tashan__Ledger__BoardRequest *r,
                                    Tashan__Ledger__Ranking *rep);

#endif
