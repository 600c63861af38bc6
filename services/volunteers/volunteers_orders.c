/*  =========================================================================
    volunteers_orders - closed-loop service orders (按需服务、闭环运作)

    States and the only transitions (anything else: 409, no effect):
        open       --dispatch (at once, or by the tick)--> dispatched
        dispatched --accept (the dispatched volunteer)--> accepted
        dispatched --decline--> dispatched (the next volunteer, never one
                                who declined it before) | open
        accepted   --done (minutes 1..1440)--> done
        done       --confirm (rating 1..5, the resident)--> confirmed
    confirmed is final. Only confirm counts the minutes: the volunteer's
    hours, one credit.requested (volunteer.hour, key "order:<id>") and, for
    an order made from a need, one need.served to residents, all in the
    transaction of the transition, so each happens exactly once whichever
    daemon is down (the outbox delivers them when it is back).

    Escalation (timers, volunteers_notify.c): an order not accepted within
    settings.accept_within_ms of its dispatch (or of its creation, when
    nobody could take it) goes to the volunteer's circle leader, then after
    settings.escalate_again_ms to ops; an accepted order not done by its
    due time goes to the leader, then to ops. Every transition and
    escalation is an event of the order (state, at, by, note).
    =========================================================================
*/
#include "volunteers_core.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"
#include "ts_valid.h"

static const char *const s_states [] = {
    "open", "dispatched", "accepted", "done", "confirmed", NULL
};

//  The transition table: action -> the one state it leaves.
static const struct { const char *action, *from; } s_transitions [] = {
    { "accept", "dispatched" },
    { "decline", "dispatched" },
    { "done", "accepted" },
    { "confirm", "done" },
};

bool
vol_order_allowed (const char *state, const char *action)
{
    for (size_t i = 0; i < TS_COUNT (s_transitions); i++)
        if (strcmp (s_transitions [i].action, action) == 0)
            return strcmp (s_transitions [i].from, state) == 0;
    return false;
}

//  --------------------------------------------------------------------
//  Records

vol_order *
vol_order_load (ts_ctx *ctx, uint64_t no)
{
    return vol_load (ctx, "orders", no, &tashan__volunteers__order__descriptor);
}

static void
s_save (ts_ctx *ctx, uint64_t no, const vol_order *o)
{
    assert (o->n_events >= 1 && o->n_events <= VOL_EVENTS_MAX + 1);
    vol_save (ctx, "orders", no, &o->base);
    ts_key k;
    vol_key_u64 (&k, no);
    //  The open index follows the state.
    if (strcmp (o->state, "open") == 0)
        ts_txn_put (ctx->txn, ts_ctx_table (ctx, "open_ord"), k.data, k.size, "", 0);
    else
        ts_txn_del (ctx->txn, ts_ctx_table (ctx, "open_ord"), k.data, k.size);
}

//  Append an event (the state after it) to the order.
static void
s_event (ts_ctx *ctx, vol_order *o, const char *kind, const char *by, const char *note)
{
    if (o->n_events >= VOL_EVENTS_MAX)
        return;                     //  bounded: a pathological order keeps its first 200
    Tashan__Volunteers__OrderEvent *e = ts_arena_alloc (ctx->arena, sizeof *e);
    tashan__volunteers__order_event__init (e);
    e->state = o->state;
    e->kind = (char *) kind;
    e->at = ts_time_text (ctx->arena, ctx->now_ms);
    e->by = (char *) by;
    e->note = ts_arena_strdup (ctx->arena, note ? note : "");
    Tashan__Volunteers__OrderEvent **events =
        ts_arena_alloc (ctx->arena, (o->n_events + 1) * sizeof *events);
    if (o->n_events)
        memcpy (events, o->events, o->n_events * sizeof *events);
    events [o->n_events++] = e;
    o->events = events;
}

//  Who the caller is, for events: the ops principal or the role.
static const char *
s_by (ts_ctx *ctx)
{
    return ctx->caller->principal [0] ? ctx->caller->principal : ctx->caller->role;
}

static char *
s_text (ts_ctx *ctx, const char *fmt, const char *a, const char *b)
{
    char buf [256];
    snprintf (buf, sizeof buf, fmt, a, b);
    return ts_arena_strdup (ctx->arena, buf);
}

//  Arm the escalation timer of the order's current phase.
static void
s_arm_escalation (ts_ctx *ctx, uint64_t no, vol_order *o, int64_t fire_ms)
{
    o->timer_version = (uint32_t) o->n_events;
    vol_timer_set (ctx, fire_ms, VOL_TIMER_ESCALATE, no, o->timer_version);
}

//  Give the order to the best free volunteer (state dispatched) or leave
//  it open. Arms the acceptance timer either way.
static void
s_dispatch (ts_ctx *ctx, uint64_t no, vol_order *o, const char *by)
{
    assert (strcmp (o->state, "open") == 0);
    char *pick = vol_dispatch_pick (ctx, o->category, o->grid, o->requester_person_id,
                                    o->declined_by, o->n_declined_by);
    o->escalation_level = 0;
    if (!pick)
        return;
    vol_volunteer *v = vol_volunteer_load (ctx, pick);
    assert (v && v->open_orders < v->max_open_orders);
    v->open_orders++;
    vol_volunteer_save (ctx, v);
    o->state = "dispatched";
    o->volunteer_person_id = pick;
    o->state_ms = ctx->now_ms;
    s_event (ctx, o, "dispatched", by, s_text (ctx, "to %s (%s)", pick, o->category));
    vol_notify (ctx, pick, "order_dispatched", o->id,
                s_text (ctx, "New service order %s: %s", o->id, o->category));
    s_arm_escalation (ctx, no, o, ctx->now_ms + vol_settings_load (ctx)->accept_within_ms);
}

//  Release the order's volunteer (declined, or done).
static void
s_release (ts_ctx *ctx, const char *person_id)
{
    vol_volunteer *v = vol_volunteer_load (ctx, person_id);
    if (v && v->open_orders > 0) {
        v->open_orders--;
        vol_volunteer_save (ctx, v);
    }
}

//  Load the order named by a path id and check the action is allowed
//  and, when volunteer is given (required: it must be), that it is the
//  order's volunteer.
static unsigned
s_ref (ts_ctx *ctx, const char *id, const char *action, const char *volunteer,
       bool required, uint64_t *no, vol_order **out)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "volunteer_person_id", volunteer, TS_ID_MAX_CHARS, required))
    ||  (rc = ts_check_id (ctx, "id", id, 'o', "service order", TS_NOT_FOUND, no)))
        return rc;
    vol_order *o = vol_order_load (ctx, *no);
    if (!o)
        return ts_fail (ctx, TS_NOT_FOUND, "no service order %s", id);
    if (!vol_order_allowed (o->state, action))
        return ts_fail (ctx, TS_CONFLICT, "service order %s is %s: it cannot %s", id,
                        o->state, action);
    if (volunteer [0] && strcmp (o->volunteer_person_id, volunteer) != 0)
        return ts_fail (ctx, TS_CONFLICT, "service order %s is %s by %s, not %s", o->id,
                        o->state, o->volunteer_person_id, volunteer);
    *out = o;
    return 0;
}

//  --------------------------------------------------------------------
//  Transitions

unsigned
vol_order_create (ts_ctx *ctx, const Tashan__Volunteers__CreateOrderRequest *req, vol_order *rep)
{
    unsigned rc;
    vol_person *requester;
    int64_t due_ms = 0;
    if ((rc = ts_check_enum (ctx, "category", req->category, vol_skills))
    ||  (rc = ts_check_str (ctx, "detail", req->detail, TS_STR_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "need_id", req->need_id, TS_ID_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "idempotency_key", req->idempotency_key, TS_STR_MAX_CHARS, true))
    ||  (rc = ts_check_time (ctx, "due_at", req->due_at, false, &due_ms))
    ||  (rc = vol_ref_person (ctx, "requester_person_id", req->requester_person_id, &requester)))
        return rc;
    if (due_ms && due_ms <= ctx->now_ms)
        return ts_fail (ctx, TS_BAD_REQUEST, "due_at must be in the future");
    char *household = NULL;
    if (req->need_id [0]) {
        if (!vol_need_open (ctx, req->need_id, &household))
            return ts_fail (ctx, TS_UNPROCESSABLE, "need_id: no open need %s", req->need_id);
        if (strcmp (household, requester->household_id) != 0)
            return ts_fail (ctx, TS_UNPROCESSABLE, "need %s is not of %s's household",
                            req->need_id, req->requester_person_id);
    }
    uint64_t no = ts_txn_next_id (ctx->txn, "order");
    vol_order o = TASHAN__VOLUNTEERS__ORDER__INIT;
    o.id = ts_id_text (ctx->arena, 'o', no);
    o.state = "open";
    o.requester_person_id = req->requester_person_id;
    o.category = req->category;
    o.detail = req->detail;
    o.need_id = req->need_id;
    o.grid = requester->grid;
    o.created_at = ts_time_text (ctx->arena, ctx->now_ms);
    o.state_ms = ctx->now_ms;
    o.due_asked_ms = due_ms;
    s_event (ctx, &o, "created", s_by (ctx), req->need_id [0] ? req->need_id : "");
    s_dispatch (ctx, no, &o, "system");
    if (strcmp (o.state, "open") == 0)
        s_arm_escalation (ctx, no, &o, ctx->now_ms + vol_settings_load (ctx)->accept_within_ms);
    s_save (ctx, no, &o);
    *rep = o;
    return TS_CREATED;
}

unsigned
vol_order_accept (ts_ctx *ctx, const Tashan__Volunteers__AcceptRequest *req, vol_order *rep)
{
    unsigned rc;
    uint64_t no;
    vol_order *o;
    if ((rc = s_ref (ctx, req->id, "accept", req->volunteer_person_id, true, &no, &o)))
        return rc;
    vol_settings *s = vol_settings_load (ctx);
    o->state = "accepted";
    o->state_ms = ctx->now_ms;
    o->escalation_level = 0;
    o->due_ms = o->due_asked_ms > ctx->now_ms ? o->due_asked_ms : ctx->now_ms + s->due_after_ms;
    o->due_at = ts_time_text (ctx->arena, o->due_ms);
    s_event (ctx, o, "accepted", req->volunteer_person_id, "");
    s_arm_escalation (ctx, no, o, o->due_ms);
    vol_remind_before (ctx, o->due_ms, VOL_TIMER_ORDER_REMIND, no);
    s_save (ctx, no, o);
    *rep = *o;
    return TS_OK;
}

unsigned
vol_order_decline (ts_ctx *ctx, const Tashan__Volunteers__DeclineRequest *req, vol_order *rep)
{
    unsigned rc;
    uint64_t no;
    vol_order *o;
    if ((rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, false))
    ||  (rc = s_ref (ctx, req->id, "decline", req->volunteer_person_id, true, &no, &o)))
        return rc;
    if (o->n_declined_by >= VOL_EVENTS_MAX / 2)
        return ts_fail (ctx, TS_CONFLICT, "service order %s was declined too often", o->id);
    s_release (ctx, o->volunteer_person_id);
    char **declined = ts_arena_alloc (ctx->arena, (o->n_declined_by + 1) * sizeof (char *));
    if (o->n_declined_by)
        memcpy (declined, o->declined_by, o->n_declined_by * sizeof (char *));
    declined [o->n_declined_by++] = o->volunteer_person_id;
    o->declined_by = declined;
    o->state = "open";
    o->volunteer_person_id = "";
    o->state_ms = ctx->now_ms;
    s_event (ctx, o, "declined", req->volunteer_person_id, req->reason);
    s_dispatch (ctx, no, o, "system");
    if (strcmp (o->state, "open") == 0)
        s_arm_escalation (ctx, no, o, ctx->now_ms + vol_settings_load (ctx)->accept_within_ms);
    s_save (ctx, no, o);
    assert (!vol_has (o->declined_by, o->n_declined_by, o->volunteer_person_id));
    *rep = *o;
    return TS_OK;
}

unsigned
vol_order_done (ts_ctx *ctx, const Tashan__Volunteers__DoneRequest *req, vol_order *rep)
{
    unsigned rc;
    uint64_t no;
    vol_order *o;
    if ((rc = ts_check_range (ctx, "minutes", req->minutes, 1, VOL_MINUTES_MAX))
    ||  (rc = s_ref (ctx, req->id, "done", req->volunteer_person_id, false, &no, &o)))
        return rc;
    s_release (ctx, o->volunteer_person_id);
    o->state = "done";
    o->state_ms = ctx->now_ms;
    o->minutes = req->minutes;
    char note [32];
    snprintf (note, sizeof note, "%u minutes", req->minutes);
    s_event (ctx, o, "done", req->volunteer_person_id [0] ? req->volunteer_person_id
                                                          : s_by (ctx), note);
    s_save (ctx, no, o);
    *rep = *o;
    return TS_OK;
}

unsigned
vol_order_confirm (ts_ctx *ctx, const Tashan__Volunteers__ConfirmRequest *req, vol_order *rep)
{
    unsigned rc;
    uint64_t no;
    vol_order *o;
    if ((rc = ts_check_range (ctx, "rating", req->rating, 1, 5))
    ||  (rc = ts_check_str (ctx, "comment", req->comment, TS_STR_MAX_CHARS, false))
    ||  (rc = s_ref (ctx, req->id, "confirm", "", false, &no, &o)))
        return rc;
    vol_volunteer *v = vol_volunteer_load (ctx, o->volunteer_person_id);
    if (!v)
        return ts_fail (ctx, TS_INTERNAL, "service order %s: no volunteer %s", o->id,
                        o->volunteer_person_id);
    assert (o->minutes >= 1 && o->minutes <= VOL_MINUTES_MAX);
    o->state = "confirmed";
    o->state_ms = ctx->now_ms;
    o->rating = req->rating;
    o->comment = req->comment;
    char note [32];
    snprintf (note, sizeof note, "rating %u", req->rating);
    s_event (ctx, o, "confirmed", o->requester_person_id, note);
    s_save (ctx, no, o);
    //  The closed loop: hours, the ledger's credit, the need served.
    char key [TS_ID_TEXT_MAX + 8];
    snprintf (key, sizeof key, "order:%s", o->id);
    vol_hours_count (ctx, v, o->minutes, key, s_text (ctx, "service order %s (%s)", o->id,
                                                      o->category), true);
    if (o->need_id [0]) {
        Tashan__Events__NeedServed ns = TASHAN__EVENTS__NEED_SERVED__INIT;
        ns.need_id = o->need_id;
        ns.order_id = o->id;
        ns.volunteer_person_id = o->volunteer_person_id;
        ts_emit (ctx, "need.served", &ns.base);
    }
    *rep = *o;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Reads

unsigned
vol_order_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req, vol_order *rep)
{
    uint64_t no;
    unsigned rc = ts_check_id (ctx, "id", req->id, 'o', "service order", TS_NOT_FOUND, &no);
    if (rc)
        return rc;
    vol_order *o = vol_order_load (ctx, no);
    if (!o)
        return ts_fail (ctx, TS_NOT_FOUND, "no service order %s", req->id);
    *rep = *o;
    return TS_OK;
}

unsigned
vol_order_list (ts_ctx *ctx, const Tashan__Volunteers__ListOrdersRequest *req,
                Tashan__Volunteers__ListOrdersReply *rep)
{
    unsigned rc;
    if ((req->state [0] && (rc = ts_check_enum (ctx, "state", req->state, s_states)))
    ||  (rc = ts_check_str (ctx, "volunteer_person_id", req->volunteer_person_id,
                            TS_ID_MAX_CHARS, false)))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ts_ctx_table (ctx, "orders"), NULL, 0,
                            req->page_token, req->page_size)))
        return rc;
    rep->orders = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        vol_order *o = ts_page_msg (&pg, &tashan__volunteers__order__descriptor, ctx->arena);
        if (!o)
            break;
        if ((req->state [0] && strcmp (o->state, req->state) != 0)
        ||  (req->volunteer_person_id [0]
             && strcmp (o->volunteer_person_id, req->volunteer_person_id) != 0)
        ||  (req->escalated && !o->escalated))
            continue;
        rep->orders [rep->n_orders++] = o;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Timers: escalation and reminders

static void
s_escalate (ts_ctx *ctx, uint64_t no, vol_order *o)
{
    vol_settings *s = vol_settings_load (ctx);
    bool accepted = strcmp (o->state, "accepted") == 0;
    const char *why = accepted ? "not done by its due time" : "not accepted in time";
    const char *leader = NULL;
    if (o->escalation_level == 0 && o->volunteer_person_id [0]) {
        vol_volunteer *v = vol_volunteer_load (ctx, o->volunteer_person_id);
        leader = v ? vol_leader_of (ctx, v) : NULL;
    }
    o->escalated = true;
    if (leader) {
        o->escalation_level = 1;
        o->escalated_to = (char *) leader;
        s_event (ctx, o, "escalated", "system",
                 s_text (ctx, "to circle leader %s: %s", leader, why));
        vol_notify (ctx, leader, "order_escalated", o->id,
                    s_text (ctx, "Service order %s escalated to you: %s", o->id, why));
        s_arm_escalation (ctx, no, o, ctx->now_ms + s->escalate_again_ms);
    }
    else {
        o->escalation_level = 2;
        o->escalated_to = "ops";
        s_event (ctx, o, "escalated", "system", s_text (ctx, "to ops: %s%s", why, ""));
    }
}

void
vol_order_timer (ts_ctx *ctx, char kind, uint64_t ref, uint64_t check, int64_t fire_ms)
{
    vol_order *o = vol_order_load (ctx, ref);
    if (!o)
        return;
    if (kind == VOL_TIMER_ESCALATE) {
        bool waiting = strcmp (o->state, "open") == 0 || strcmp (o->state, "dispatched") == 0
                    || strcmp (o->state, "accepted") == 0;
        if (!waiting || check != o->timer_version || o->escalation_level >= 2)
            return;                 //  the order moved on since the timer was set
        s_escalate (ctx, ref, o);
        s_save (ctx, ref, o);
    }
    else
    if (kind == VOL_TIMER_ORDER_REMIND) {
        if (strcmp (o->state, "accepted") != 0 || (int64_t) check != o->due_ms)
            return;
        int64_t hours = (o->due_ms - fire_ms + TS_HOUR_MS / 2) / TS_HOUR_MS;
        char text [160];
        snprintf (text, sizeof text, "Reminder: service order %s (%s) is due in %lld h",
                  o->id, o->category, (long long) hours);
        vol_notify (ctx, o->volunteer_person_id, "order_reminder", o->id, text);
    }
}

uint32_t
vol_orders_redispatch (ts_ctx *ctx)
{
    //  Round robin over the open orders from where the last tick stopped,
    //  so orders nobody can take do not starve the others.
    static const char pos_key [] = "redispatch_pos";
    ts_table settings = ts_ctx_table (ctx, "settings");
    uint64_t from = ts_txn_get_u64 (ctx->txn, settings, pos_key, sizeof pos_key - 1, 0);
    uint64_t nos [VOL_OPEN_PER_TICK];
    uint32_t n = 0, dispatched = 0;
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, ts_ctx_table (ctx, "open_ord"));
    ts_key start;
    vol_key_u64 (&start, from + 1);
    bool ok = ts_cursor_seek (&cur, start.data, start.size);
    if (!ok)
        ok = ts_cursor_seek (&cur, NULL, 0);
    for (; ok && n < VOL_OPEN_PER_TICK; ok = ts_cursor_next (&cur))
        if (cur.key.size == 8)
            nos [n++] = ts_be64_get (cur.key.data);
    ts_cursor_close (&cur);
    if (n || from)
        ts_txn_put_u64 (ctx->txn, settings, pos_key, sizeof pos_key - 1, n ? nos [n - 1] : 0);
    for (uint32_t i = 0; i < n; i++) {
        vol_order *o = vol_order_load (ctx, nos [i]);
        if (!o || strcmp (o->state, "open") != 0)
            continue;
        uint32_t level = o->escalation_level;
        s_dispatch (ctx, nos [i], o, "system");
        if (strcmp (o->state, "dispatched") == 0) {
            dispatched++;
            s_save (ctx, nos [i], o);
        }
        else
            o->escalation_level = level;
    }
    return dispatched;
}
