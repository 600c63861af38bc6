/*  =========================================================================
    residents_volunteers - needs served by the volunteers' closed loop

    The volunteers daemon emits "need.served" (tashan.events.NeedServed)
    when a service order made from a need is confirmed by the resident.
    The need becomes `served` here, once: the subscription applies each
    event exactly once (its position is saved in the same transaction),
    and a replay or a second order for the same need finds it already
    served (or closed) and changes nothing. An open need may be served
    directly (the volunteer order is its match); the change is versioned
    in the household file like any other ("need.served", by volunteers).
    =========================================================================
*/
#include "residents_core.h"

#include <assert.h>
#include <string.h>

#include "events.pb-c.h"
#include "ts_valid.h"

unsigned
residents_need_served_apply (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    const Tashan__Events__NeedServed *ev = payload;
    assert (ev && event);
    unsigned rc;
    if ((rc = ts_check_str (ctx, "need_id", ev->need_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "order_id", ev->order_id, TS_ID_MAX_CHARS, false)))
        return rc;
    uint64_t need_no;
    res_need *n = ts_id_parse (ev->need_id, 'n', &need_no)
                ? residents_need_load (ctx, need_no) : NULL;
    if (!n)
        return ts_fail (ctx, TS_UNPROCESSABLE, "need.served: no need %s", ev->need_id);
    bool active = strcmp (n->status, "open") == 0 || strcmp (n->status, "matched") == 0;
    if (!active)
        return TS_OK;               //  already served or closed: nothing twice
    uint64_t hh_no;
    res_household_rec *hh = ts_id_parse (n->household_id, 'h', &hh_no)
                          ? residents_household_load (ctx, hh_no) : NULL;
    if (!hh)
        return ts_fail (ctx, TS_INTERNAL, "need %s has no household", n->id);
    n->status = "served";
    n->note = ts_arena_strdup (ctx->arena, ev->order_id [0] ? ev->order_id : "volunteers");
    n->updated_ms = ctx->now_ms;
    residents_need_save (ctx, n);
    residents_household_commit (ctx, hh, "need.served");
    residents_need_emit (ctx, "need.closed", n);
    assert (strcmp (n->status, "served") == 0);
    return TS_OK;
}
