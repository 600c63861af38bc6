/*  =========================================================================
    volunteers_hours - minutes that count, the ledger credits they earn,
    self-reported hours and the month's top volunteers and circles

    Minutes count only when the loop closes: a confirmed order, attendance
    at a volunteer project's session, or a self-report confirmed by the
    volunteer's circle leader or the resident served. Each such fact adds
    its minutes to the volunteer's total, to the month's counter of the
    volunteer and of every circle they are in, and emits one
    credit.requested (volunteer.hour, quantity = started hours) with a key
    unique to the fact, so the ledger credits it exactly once.
    =========================================================================
*/
#include "volunteers_core.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"
#include "ts_valid.h"

//  --------------------------------------------------------------------
//  Month counters: u32 month, u8 kind, id\0

static void
s_minutes_key (ts_key *k, int month_index, char kind, const char *id)
{
    ts_key_init (k);
    ts_key_u32 (k, (uint32_t) month_index);
    ts_key_bytes (k, &kind, 1);
    ts_key_str (k, id);
}

int64_t
vol_month_minutes (ts_ctx *ctx, char kind, const char *id, int month_index)
{
    ts_key k;
    s_minutes_key (&k, month_index, kind, id);
    return (int64_t) ts_txn_get_u64 (ctx->txn, ts_ctx_table (ctx, "minutes"), k.data, k.size, 0);
}

static void
s_month_add (ts_ctx *ctx, char kind, const char *id, int64_t minutes)
{
    ts_key k;
    s_minutes_key (&k, ts_month_index_of (ctx->now_ms), kind, id);
    ts_txn_add_i64 (ctx->txn, ts_ctx_table (ctx, "minutes"), k.data, k.size, minutes);
}

void
vol_credit (ts_ctx *ctx, const char *person_id, const char *rule, int32_t quantity,
            const char *key, const char *note)
{
    assert (quantity >= 1);
    assert (key && key [0]);
    Tashan__Events__CreditRequest cr = TASHAN__EVENTS__CREDIT_REQUEST__INIT;
    cr.idempotency_key = (char *) key;
    cr.subject_id = (char *) person_id;
    cr.rule = (char *) rule;
    cr.quantity = quantity;
    cr.note = (char *) note;
    char month [8];
    ts_month_of (ctx->now_ms, month);
    cr.month = month;
    ts_emit (ctx, "credit.requested", &cr.base);
}

void
vol_hours_count (ts_ctx *ctx, vol_volunteer *v, uint32_t minutes, const char *key,
                 const char *note, bool order_confirmed)
{
    assert (minutes >= 1 && minutes <= VOL_MINUTES_MAX);
    v->total_minutes += minutes;
    if (order_confirmed)
        v->orders_confirmed++;
    vol_volunteer_save (ctx, v);
    s_month_add (ctx, 'v', v->person_id, minutes);
    for (size_t i = 0; i < v->n_circles && i < VOL_CIRCLES_MAX; i++) {
        uint64_t no;
        vol_circle *c = ts_id_parse (v->circles [i], 'q', &no) ? vol_circle_load (ctx, no) : NULL;
        if (!c)
            continue;
        c->total_minutes += minutes;
        vol_circle_save (ctx, no, c);
        s_month_add (ctx, 'c', c->id, minutes);
    }
    //  Points per started hour.
    vol_credit (ctx, v->person_id, "volunteer.hour", (int32_t) ((minutes + 59) / 60), key, note);
}

//  --------------------------------------------------------------------
//  The month's top volunteers and circles

typedef struct {
    char *id;
    int64_t minutes;
} s_row;

static int
s_row_cmp (const void *a_, const void *b_)
{
    const s_row *a = a_, *b = b_;
    if (a->minutes != b->minutes)
        return a->minutes > b->minutes ? -1 : 1;
    return strcmp (a->id, b->id);
}

//  The top rows of one kind in one month (at most top), sorted.
static size_t
s_top (ts_ctx *ctx, int month_index, char kind, uint32_t top, s_row **out)
{
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_u32 (&prefix, (uint32_t) month_index);
    ts_key_bytes (&prefix, &kind, 1);
    size_t cap = 64, n = 0;
    s_row *rows = ts_arena_alloc (ctx->arena, cap * sizeof *rows);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, ts_ctx_table (ctx, "minutes"));
    bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
    for (uint32_t scanned = 0; ok && scanned < TS_PAGE_SCAN_MAX; scanned++) {
        if (!ts_cursor_has_prefix (&cur, prefix.data, prefix.size))
            break;
        if (cur.value.size == 8 && cur.key.size > prefix.size) {
            if (n == cap) {
                s_row *more = ts_arena_alloc (ctx->arena, 2 * cap * sizeof *rows);
                memcpy (more, rows, n * sizeof *rows);
                rows = more;
                cap *= 2;
            }
            size_t id_size = cur.key.size - prefix.size;
            rows [n].id = ts_arena_alloc (ctx->arena, id_size + 1);
            memcpy (rows [n].id, (const uint8_t *) cur.key.data + prefix.size, id_size);
            rows [n].id [id_size] = 0;
            rows [n].minutes = (int64_t) ts_be64_get (cur.value.data);
            if (rows [n].minutes > 0)
                n++;
        }
        ok = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    qsort (rows, n, sizeof *rows, s_row_cmp);
    *out = rows;
    return n < top ? n : top;
}

unsigned
vol_month_hours (ts_ctx *ctx, const Tashan__Volunteers__MonthHoursRequest *req,
                 Tashan__Volunteers__MonthHoursReply *rep)
{
    unsigned rc;
    int month_index = ts_month_index_of (ctx->now_ms);
    if (req->month [0]) {
        if ((rc = ts_check_month (ctx, "month", req->month)))
            return rc;
        month_index = ts_month_index (req->month);
    }
    if (req->top && (rc = ts_check_range (ctx, "top", req->top, 1, VOL_TOP_MAX)))
        return rc;
    uint32_t top = req->top ? req->top : VOL_TOP_DEFAULT;
    rep->month = ts_month_text (ctx->arena, month_index);
    s_row *rows;
    size_t n = s_top (ctx, month_index, 'v', top, &rows);
    rep->volunteers = ts_arena_alloc (ctx->arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++) {
        Tashan__Volunteers__VolunteerMinutes *m = ts_arena_alloc (ctx->arena, sizeof *m);
        tashan__volunteers__volunteer_minutes__init (m);
        m->person_id = rows [i].id;
        m->minutes = rows [i].minutes;
        rep->volunteers [rep->n_volunteers++] = m;
    }
    n = s_top (ctx, month_index, 'c', top, &rows);
    rep->circles = ts_arena_alloc (ctx->arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++) {
        Tashan__Volunteers__CircleMinutes *m = ts_arena_alloc (ctx->arena, sizeof *m);
        tashan__volunteers__circle_minutes__init (m);
        m->circle_id = rows [i].id;
        m->minutes = rows [i].minutes;
        uint64_t no;
        vol_circle *c = ts_id_parse (m->circle_id, 'q', &no) ? vol_circle_load (ctx, no) : NULL;
        m->name = c ? c->name : "";
        rep->circles [rep->n_circles++] = m;
    }
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Self-reported hours: pending until the circle leader or the resident
//  served confirms

typedef Tashan__Volunteers__HourReport vol_report;

static vol_report *
s_report_load (ts_ctx *ctx, uint64_t no)
{
    return vol_load (ctx, "reports", no, &tashan__volunteers__hour_report__descriptor);
}

static void
s_report_save (ts_ctx *ctx, uint64_t no, const vol_report *r)
{
    assert (r->minutes >= 1 && r->minutes <= VOL_MINUTES_MAX);
    vol_save (ctx, "reports", no, &r->base);
}

unsigned
vol_report_hours (ts_ctx *ctx, const Tashan__Volunteers__ReportHoursRequest *req, vol_report *rep)
{
    unsigned rc;
    vol_volunteer *v;
    if ((rc = vol_ref_volunteer (ctx, "person_id", req->person_id, TS_UNPROCESSABLE, &v))
    ||  (rc = ts_check_range (ctx, "minutes", req->minutes, 1, VOL_MINUTES_MAX))
    ||  (rc = ts_check_str (ctx, "note", req->note, TS_STR_MAX_CHARS, false)))
        return rc;
    if (req->order_id [0]) {
        uint64_t order_no;
        if ((rc = ts_check_id (ctx, "order_id", req->order_id, 'o', "service order",
                               TS_UNPROCESSABLE, &order_no)))
            return rc;
        vol_order *o = vol_order_load (ctx, order_no);
        if (!o)
            return ts_fail (ctx, TS_UNPROCESSABLE, "order_id: no service order %s", req->order_id);
        if (strcmp (o->volunteer_person_id, req->person_id) != 0)
            return ts_fail (ctx, TS_UNPROCESSABLE, "order %s is not served by %s",
                            req->order_id, req->person_id);
    }
    uint64_t no = ts_txn_next_id (ctx->txn, "report");
    vol_report r = TASHAN__VOLUNTEERS__HOUR_REPORT__INIT;
    r.id = ts_id_text (ctx->arena, 'w', no);
    r.person_id = req->person_id;
    r.minutes = req->minutes;
    r.note = req->note;
    r.order_id = req->order_id;
    r.status = "pending";
    r.created_at = ts_time_text (ctx->arena, ctx->now_ms);
    s_report_save (ctx, no, &r);
    *rep = r;
    return TS_CREATED;
}

unsigned
vol_confirm_hours (ts_ctx *ctx, const Tashan__Volunteers__ConfirmHoursRequest *req,
                   vol_report *rep)
{
    unsigned rc;
    uint64_t no;
    if ((rc = ts_check_id (ctx, "id", req->id, 'w', "hour report", TS_NOT_FOUND, &no))
    ||  (rc = ts_check_str (ctx, "confirmer_person_id", req->confirmer_person_id,
                            TS_ID_MAX_CHARS, true)))
        return rc;
    vol_report *r = s_report_load (ctx, no);
    if (!r)
        return ts_fail (ctx, TS_NOT_FOUND, "no hour report %s", req->id);
    if (strcmp (r->status, "pending") != 0)
        return ts_fail (ctx, TS_CONFLICT, "hour report %s is already %s", req->id, r->status);
    vol_volunteer *v = vol_volunteer_load (ctx, r->person_id);
    if (!v)
        return ts_fail (ctx, TS_INTERNAL, "hour report %s: no volunteer %s", r->id, r->person_id);
    //  The resident served (the order's requester) or a leader of a
    //  circle the volunteer is in; never the volunteer themself.
    bool resident = false;
    uint64_t order_no;
    if (r->order_id [0] && ts_id_parse (r->order_id, 'o', &order_no)) {
        vol_order *o = vol_order_load (ctx, order_no);
        resident = o && strcmp (o->requester_person_id, req->confirmer_person_id) == 0;
    }
    bool leader = vol_leads (ctx, req->confirmer_person_id, v);
    if (strcmp (req->confirmer_person_id, r->person_id) == 0 || !(resident || leader))
        return ts_fail (ctx, TS_UNPROCESSABLE, "confirmer_person_id: %s is neither a leader "
                        "of a circle of %s nor the resident served", req->confirmer_person_id,
                        r->person_id);
    r->status = "confirmed";
    r->confirmed_by = req->confirmer_person_id;
    r->confirmed_at = ts_time_text (ctx->arena, ctx->now_ms);
    s_report_save (ctx, no, r);
    char key [TS_ID_TEXT_MAX + 8];
    snprintf (key, sizeof key, "report:%s", r->id);
    vol_hours_count (ctx, v, r->minutes, key, r->note, false);
    vol_notify (ctx, r->person_id, "hours_confirmed", r->id, "Your reported hours were confirmed");
    *rep = *r;
    return TS_OK;
}

unsigned
vol_list_reports (ts_ctx *ctx, const Tashan__Volunteers__ListHourReportsRequest *req,
                  Tashan__Volunteers__ListHourReportsReply *rep)
{
    static const char *const statuses [] = { "pending", "confirmed", NULL };
    unsigned rc;
    if ((rc = ts_check_str (ctx, "person_id", req->person_id, TS_ID_MAX_CHARS, false))
    ||  (req->status [0] && (rc = ts_check_enum (ctx, "status", req->status, statuses))))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ts_ctx_table (ctx, "reports"), NULL, 0,
                            req->page_token, req->page_size)))
        return rc;
    rep->reports = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        vol_report *r = ts_page_msg (&pg, &tashan__volunteers__hour_report__descriptor,
                                     ctx->arena);
        if (!r)
            break;
        if ((req->person_id [0] && strcmp (r->person_id, req->person_id) != 0)
        ||  (req->status [0] && strcmp (r->status, req->status) != 0))
            continue;
        rep->reports [rep->n_reports++] = r;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}
