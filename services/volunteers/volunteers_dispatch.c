/*  =========================================================================
    volunteers_dispatch - the best free volunteer for one service order

    Candidates come from the skill index (vol_skill: skill -> persons), so
    a dispatch reads the volunteers who hold the category only, whatever
    the number of open orders. A candidate is free when they have fewer
    open orders (dispatched or accepted) than their limit (default 3), is
    an active person, is not the requester and never declined this order.
    Among the free ones (SPEC §4): the requester's grid first, then the
    fewest open orders, then one available today (weekly availability),
    then the older volunteer (the index's order: the lower person id
    string, a stable tie-break).
    =========================================================================
*/
#include "volunteers_core.h"

#include <assert.h>
#include <string.h>

#include "ts_time.h"

bool
vol_rank_better (const vol_rank *a, const vol_rank *b)
{
    if (a->grid_miss != b->grid_miss)
        return a->grid_miss < b->grid_miss;
    if (a->open_orders != b->open_orders)
        return a->open_orders < b->open_orders;
    return a->unavailable < b->unavailable;
}

int
vol_weekday (int64_t unix_ms)
{
    //  Day 0 (1970-01-01) was a Thursday (index 3 from Monday).
    int64_t day = ts_day_of (unix_ms);
    int w = (int) ((day + 3) % 7);
    return w < 0 ? w + 7 : w;
}

static bool
s_available (const vol_volunteer *v, int weekday)
{
    assert (weekday >= 0 && weekday < 7);
    if (v->n_availability == 0)
        return true;
    return vol_has (v->availability, v->n_availability, vol_weekdays [weekday]);
}

char *
vol_dispatch_pick (ts_ctx *ctx, const char *category, const char *grid,
                   const char *requester, char **excluded, size_t n_excluded)
{
    ts_key prefix;
    ts_key_text (&prefix, category);
    int weekday = vol_weekday (ctx->now_ms);
    char *best = NULL;
    vol_rank best_rank = { 0 };
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, ts_ctx_table (ctx, "vol_skill"));
    bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
    for (uint32_t scanned = 0; ok && scanned < VOL_CANDIDATES_MAX; scanned++) {
        if (!ts_cursor_has_prefix (&cur, prefix.data, prefix.size))
            break;
        size_t id_size = cur.key.size - prefix.size;
        char id [TS_KEY_MAX];
        memcpy (id, (const uint8_t *) cur.key.data + prefix.size, id_size);
        id [id_size ? id_size - 1 : 0] = 0;
        ok = ts_cursor_next (&cur);
        if (!id [0] || strcmp (id, requester) == 0 || vol_has (excluded, n_excluded, id))
            continue;
        vol_volunteer *v = vol_volunteer_load (ctx, id);
        if (!v || v->open_orders >= v->max_open_orders)
            continue;
        vol_rank rank = {
            .grid_miss = grid [0] && strcmp (v->grid, grid) == 0 ? 0 : 1,
            .open_orders = v->open_orders,
            .unavailable = s_available (v, weekday) ? 0 : 1,
        };
        if (best && !vol_rank_better (&rank, &best_rank))
            continue;
        vol_person *p = vol_person_load (ctx, id);
        if (p && p->archived)
            continue;
        best = v->person_id;
        best_rank = rank;
    }
    ts_cursor_close (&cur);
    assert (!best || strcmp (best, requester) != 0);
    return best;
}
