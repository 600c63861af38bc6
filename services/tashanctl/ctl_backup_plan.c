/*  ctl_backup_plan - consumers before producers, holds for the cycles.
    See ctl_backup_plan.h. */
#include "ctl_backup_plan.h"

#include <assert.h>
#include <string.h>

static int
s_index (const char *name)
{
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        if (strcmp (ts_service_names [i], name) == 0)
            return i;
    return -1;
}

//  How many consumers of p are not copied yet (p itself aside).
static int
s_waiting_consumers (const ctl_backup_plan *plan, const bool *copied, int p)
{
    int count = 0;
    for (int c = 0; c < TS_SERVICE_COUNT; c++)
        count += !copied [c] && c != p && plan->consumes [c][p];
    return count;
}

void
ctl_backup_plan_make (ctl_backup_plan *plan, Tashan__HealthReply *const health [TS_SERVICE_COUNT])
{
    memset (plan, 0, sizeof *plan);
    for (int c = 0; c < TS_SERVICE_COUNT; c++) {
        assert (health [c]);
        for (size_t k = 0; k < health [c]->n_consumers; k++) {
            int p = s_index (health [c]->consumers [k]->producer);
            if (p >= 0)
                plan->consumes [c][p] = true;
        }
    }
    bool copied [TS_SERVICE_COUNT] = { false };
    //  Each round copies one store: the first whose consumers are all
    //  copied, or (a cycle) the one with the fewest waiting, holding them.
    for (int round = 0; round < TS_SERVICE_COUNT; round++) {
        int best = -1, best_waiting = TS_SERVICE_COUNT + 1;
        for (int s = 0; s < TS_SERVICE_COUNT; s++) {
            int waiting = copied [s] ? TS_SERVICE_COUNT + 1 : s_waiting_consumers (plan, copied, s);
            if (waiting < best_waiting) {
                best = s;
                best_waiting = waiting;
            }
        }
        assert (best >= 0 && !copied [best]);
        for (int c = 0; c < TS_SERVICE_COUNT; c++)
            if (!copied [c] && c != best && plan->consumes [c][best])
                plan->hold [c][best] = true;
        plan->order [round] = best;
        copied [best] = true;
    }
}
