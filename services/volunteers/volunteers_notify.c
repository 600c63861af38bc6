/*  =========================================================================
    volunteers_notify - the per-person feed apps poll, the timers table the
    tick runs, and the settings of escalation and reminders

    Feed: notes person_id\0 u64 seq -> Notification (id "z<seq>"). Apps
    poll GET /v1/notifications?person_id=&since= (RFC 3339: those after).

    Timers: timers u64 fire_ms, u8 kind, u64 ref -> u64 check. A timer is
    never cancelled: when it fires its handler compares check with the
    record it names (the order's timer_version, its due_ms, the session's
    starts_ms) and does nothing when the record moved on. So a change of
    state needs no timer bookkeeping, and a fired timer is deleted in the
    same transaction as its effect (exactly once).
    =========================================================================
*/
#include "volunteers_core.h"

#include <assert.h>
#include <string.h>

#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"
#include "ts_valid.h"

#define TIMER_KEY_BYTES 17

//  --------------------------------------------------------------------
//  The feed

void
vol_notify (ts_ctx *ctx, const char *person_id, const char *kind, const char *ref,
            const char *text)
{
    assert (person_id && person_id [0]);
    uint64_t seq = ts_txn_next_id (ctx->txn, "notification");
    Tashan__Volunteers__Notification n = TASHAN__VOLUNTEERS__NOTIFICATION__INIT;
    n.id = ts_id_text (ctx->arena, 'z', seq);
    n.person_id = (char *) person_id;
    n.kind = (char *) kind;
    n.text = (char *) text;
    n.ref = (char *) ref;
    n.at = ts_time_text (ctx->arena, ctx->now_ms);
    n.at_ms = ctx->now_ms;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, person_id);
    ts_key_u64 (&k, seq);
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, "notes"), k.data, k.size, &n.base);
}

unsigned
vol_notifications (ts_ctx *ctx, const Tashan__Volunteers__ListNotificationsRequest *req,
                   Tashan__Volunteers__ListNotificationsReply *rep)
{
    unsigned rc;
    int64_t since_ms = 0;
    if ((rc = ts_check_str (ctx, "person_id", req->person_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_time (ctx, "since", req->since, false, &since_ms)))
        return rc;
    ts_key prefix;
    ts_key_text (&prefix, req->person_id);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ts_ctx_table (ctx, "notes"), prefix.data, prefix.size,
                            req->page_token, req->page_size)))
        return rc;
    rep->notifications = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        Tashan__Volunteers__Notification *n =
            ts_page_msg (&pg, &tashan__volunteers__notification__descriptor, ctx->arena);
        if (!n)
            break;
        if (req->since [0] && n->at_ms <= since_ms)
            continue;
        rep->notifications [rep->n_notifications++] = n;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Timers

void
vol_timer_set (ts_ctx *ctx, int64_t fire_ms, char kind, uint64_t ref, uint64_t check)
{
    assert (fire_ms > 0);
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, (uint64_t) fire_ms);
    ts_key_bytes (&k, &kind, 1);
    ts_key_u64 (&k, ref);
    assert (k.size == TIMER_KEY_BYTES);
    uint8_t v [8];
    ts_be64_put (v, check);
    ts_txn_put (ctx->txn, ts_ctx_table (ctx, "timers"), k.data, k.size, v, sizeof v);
}

void
vol_remind_before (ts_ctx *ctx, int64_t at_ms, char kind, uint64_t ref)
{
    static const int64_t before_ms [] = { 24 * TS_HOUR_MS, 2 * TS_HOUR_MS };
    for (size_t i = 0; i < TS_COUNT (before_ms); i++)
        if (at_ms - before_ms [i] > ctx->now_ms)
            vol_timer_set (ctx, at_ms - before_ms [i], kind, ref, (uint64_t) at_ms);
}

uint32_t
vol_timers_run (ts_ctx *ctx, vol_timer_fn fn)
{
    //  Collect first, then fire: handlers write to the timers table.
    typedef struct { int64_t fire_ms; char kind; uint64_t ref, check; } due_t;
    due_t *due = ts_arena_alloc (ctx->arena, VOL_TIMERS_PER_TICK * sizeof *due);
    uint32_t n = 0;
    ts_table timers = ts_ctx_table (ctx, "timers");
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, timers);
    for (bool ok = ts_cursor_seek (&cur, NULL, 0); ok && n < VOL_TIMERS_PER_TICK;
         ok = ts_cursor_next (&cur)) {
        if (cur.key.size != TIMER_KEY_BYTES || cur.value.size != 8)
            continue;
        const uint8_t *key = cur.key.data;
        int64_t fire_ms = (int64_t) ts_be64_get (key);
        if (fire_ms > ctx->now_ms)
            break;
        due [n].fire_ms = fire_ms;
        due [n].kind = (char) key [8];
        due [n].ref = ts_be64_get (key + 9);
        due [n].check = ts_be64_get (cur.value.data);
        n++;
    }
    ts_cursor_close (&cur);
    for (uint32_t i = 0; i < n; i++) {
        ts_key k;
        ts_key_init (&k);
        ts_key_u64 (&k, (uint64_t) due [i].fire_ms);
        ts_key_bytes (&k, &due [i].kind, 1);
        ts_key_u64 (&k, due [i].ref);
        ts_txn_del (ctx->txn, timers, k.data, k.size);
        fn (ctx, due [i].kind, due [i].ref, due [i].check, due [i].fire_ms);
    }
    return n;
}

//  --------------------------------------------------------------------
//  Settings

#define SETTINGS_KEY "settings"
#define PERIOD_MIN_MS 1000LL
#define PERIOD_MAX_MS (90 * TS_DAY_MS)

vol_settings *
vol_settings_load (ts_ctx *ctx)
{
    vol_settings *s = ts_txn_get_msg (ctx->txn, ts_ctx_table (ctx, "settings"), SETTINGS_KEY,
                                      sizeof SETTINGS_KEY - 1,
                                      &tashan__volunteers__settings__descriptor, ctx->arena);
    if (!s) {
        s = ts_arena_alloc (ctx->arena, sizeof *s);
        tashan__volunteers__settings__init (s);
    }
    if (!s->accept_within_ms)
        s->accept_within_ms = 2 * TS_HOUR_MS;
    if (!s->escalate_again_ms)
        s->escalate_again_ms = 2 * TS_HOUR_MS;
    if (!s->due_after_ms)
        s->due_after_ms = 48 * TS_HOUR_MS;
    if (!s->session_minutes)
        s->session_minutes = 120;
    return s;
}

unsigned
vol_settings_get (ts_ctx *ctx, const Tashan__Volunteers__GetSettingsRequest *req,
                  vol_settings *rep)
{
    assert (req);
    *rep = *vol_settings_load (ctx);
    return TS_OK;
}

unsigned
vol_settings_set (ts_ctx *ctx, const vol_settings *req, vol_settings *rep)
{
    unsigned rc;
    if ((req->accept_within_ms && (rc = ts_check_range (ctx, "accept_within_ms",
                                   req->accept_within_ms, PERIOD_MIN_MS, PERIOD_MAX_MS)))
    ||  (req->escalate_again_ms && (rc = ts_check_range (ctx, "escalate_again_ms",
                                    req->escalate_again_ms, PERIOD_MIN_MS, PERIOD_MAX_MS)))
    ||  (req->due_after_ms && (rc = ts_check_range (ctx, "due_after_ms",
                               req->due_after_ms, PERIOD_MIN_MS, PERIOD_MAX_MS)))
    ||  (req->session_minutes && (rc = ts_check_range (ctx, "session_minutes",
                                  req->session_minutes, 1, VOL_MINUTES_MAX))))
        return rc;
    vol_settings *s = vol_settings_load (ctx);
    if (req->accept_within_ms)
        s->accept_within_ms = req->accept_within_ms;
    if (req->escalate_again_ms)
        s->escalate_again_ms = req->escalate_again_ms;
    if (req->due_after_ms)
        s->due_after_ms = req->due_after_ms;
    if (req->session_minutes)
        s->session_minutes = req->session_minutes;
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, "settings"), SETTINGS_KEY,
                    sizeof SETTINGS_KEY - 1, &s->base);
    *rep = *s;
    return TS_OK;
}
