/*  ctl_backup_plan - the order tashanctl backup copies the stores in, from
    the subscriptions each daemon reports (sys.Health's consumers, which
    are its TS_SUBSCRIPTIONS table).

    A copy is a consistent cut when no consumer's copy holds a position
    past its producer's copy's head. Copying a consumer before its
    producer guarantees that (heads only grow). The subscriptions have
    cycles, though (the redemption saga: ledger <-> merchants; residents
    <-> merchants and volunteers: people and needs one way, check-ins and
    served needs the other), so no order puts every consumer first. For
    each edge the order cannot honour (the producer copied first), the
    consumer is held (sys.Pause on that producer) from before the
    producer's copy until the consumer's own copy: its position then
    cannot move past the head the producer's copy holds. */
#ifndef CTL_BACKUP_PLAN_H
#define CTL_BACKUP_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"

typedef struct {
    int order [TS_SERVICE_COUNT];   //  service indexes, in copy order
    //  hold [c][p]: consumer c must not apply p's events from before p is
    //  copied until c is copied.
    bool hold [TS_SERVICE_COUNT][TS_SERVICE_COUNT];
    //  consumes [c][p]: c subscribes to p.
    bool consumes [TS_SERVICE_COUNT][TS_SERVICE_COUNT];
} ctl_backup_plan;

//  The plan from every daemon's health (all must be non-NULL).
void ctl_backup_plan_make (ctl_backup_plan *plan,
                           Tashan__HealthReply *const health [TS_SERVICE_COUNT]);

#endif
