/*  =========================================================================
    ledger_school - medals in, pupil credit out

    Tables used (layout in ledger_core.c): pupils (pupil_no\0 school_id\0 →
    person id), keys under the scope "school/<school_id>" (event_id → the
    medal's entry), reversals (a revoked medal → its reversal entry).
    =========================================================================
*/
#include "ledger_school.h"
#include "ledger_months.h"
#include "ledger_board.h"
#include "ts_valid.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

//  The school of a school caller; 0 or a 403.
static unsigned
s_school_of (ts_ctx *ctx, const char **school_id, char *scope, size_t scope_size)
{
    const char *school = ctx->caller->binding;
    if (!ledger_id_ok (school))
        return ts_fail (ctx, TS_FORBIDDEN, "this school token is not bound to a school");
    *school_id = school;
    snprintf (scope, scope_size, "school/%s", school);
    return 0;
}

//  A school learns nothing about other schools' pupils: an unknown pupil
//  and another school's pupil get the same answer, byte for byte, from
//  every school call (the medal's rejection, the credit read). So the
//  lookup is by (pupil_no, school) only, and its one failure is this.
#define NO_SUCH_PUPIL_CODE TS_NOT_FOUND
//  The message names no pupil number: the same text for any pupil.
#define NO_SUCH_PUPIL "no pupil with this pupil_no at this school"

//  The person of the caller's pupil (pupil_no, school) in *person_id
//  (arena memory), or false.
static bool
s_pupil_find (ts_ctx *ctx, const char *pupil_no, const char *school_id,
              const char **person_id)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, pupil_no);
    ts_key_str (&k, school_id);
    ts_val v;
    if (!ts_txn_get (ctx->txn, t->pupils, k.data, k.size, &v))
        return false;
    *person_id = ts_arena_strndup (ctx->arena, v.data, v.size);
    return true;
}

//  --------------------------------------------------------------------
//  One medal event: 201 applied, 200 a duplicate, else a 4xx whose
//  message is the reason it is rejected. Checks come before any write.

static unsigned
s_medal (ts_ctx *ctx, const Tashan__Ledger__MedalEvent *ev, const char *school_id,
         const char *scope, int month_now, ledger_cache *cache)
{
    unsigned rc;
    if ((rc = ledger_check_id (ctx, "event_id", ev->event_id))
    ||  (rc = ledger_check_id (ctx, "pupil_no", ev->pupil_no))
    ||  (rc = ts_check_month (ctx, "month", ev->month))
    ||  (rc = ts_check_name (ctx, "medal", ev->medal, TS_NAME_MAX_CHARS, true))
    ||  (rc = ledger_check_url (ctx, "evidence_url", ev->evidence_url)))
        return rc;
    if (ledger_key_get (ctx, scope, ev->event_id))
        return TS_OK;
    int month_index = ts_month_index (ev->month);
    if (month_index > month_now)
        return ts_fail (ctx, TS_BAD_REQUEST, "month %s is in the future", ev->month);
    if (ledger_month_closed (ctx, month_index))
        return ts_fail (ctx, TS_CONFLICT, "month %s is closed: its boards are published",
                        ev->month);
    const char *person_id = NULL;
    if (!s_pupil_find (ctx, ev->pupil_no, school_id, &person_id))
        return ts_fail (ctx, NO_SUCH_PUPIL_CODE, NO_SUCH_PUPIL);
    ledger_entry *e = NULL;
    return ledger_apply_rule (ctx, cache, person_id, LEDGER_MEDAL_RULE, 1, ev->medal,
                              ev->evidence_url, "school", month_index, scope,
                              ev->event_id, &e);
}

unsigned
ledger_school_medals (ts_ctx *ctx, ledger_cache *cache,
                      const Tashan__Ledger__MedalBatchRequest *r,
                      Tashan__Ledger__BatchReply *rep)
{
    unsigned rc;
    const char *school_id = NULL;
    char scope [TS_ID_MAX_CHARS + 16];
    if ((rc = s_school_of (ctx, &school_id, scope, sizeof scope))
    ||  (rc = ts_check_count (ctx, "events", r->n_events, TS_BATCH_ITEMS_MAX)))
        return rc;
    if (r->n_events == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "events is required");
    int month_now = ts_month_index_of (ctx->now_ms);
    rep->rejected = ts_arena_alloc (ctx->arena, r->n_events * sizeof *rep->rejected);
    for (size_t i = 0; i < r->n_events; i++) {
        const Tashan__Ledger__MedalEvent *ev = r->events [i];
        rc = s_medal (ctx, ev, school_id, scope, month_now, cache);
        if (rc == TS_CREATED)
            rep->accepted++;
        else
        if (rc == TS_OK)
            rep->duplicates++;
        else {
            Tashan__Ledger__Rejected *rej = ts_arena_alloc (ctx->arena, sizeof *rej);
            tashan__ledger__rejected__init (rej);
            rej->event_id = ts_arena_strndup (ctx->arena, ev->event_id,
                                              strnlen (ev->event_id, 4 * TS_STR_MAX_CHARS));
            rej->reason = ts_arena_strdup (ctx->arena, ctx->message);
            rep->rejected [rep->n_rejected++] = rej;
        }
    }
    assert (rep->accepted + rep->duplicates + rep->n_rejected == r->n_events);
    ledger_cache_flush (ctx, cache);
    ctx->code = 0;
    ctx->message [0] = 0;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Revoke a medal: 201 and the reversal; a repeat answers 200 and it.

unsigned
ledger_school_revoke (ts_ctx *ctx, ledger_cache *cache,
                      const Tashan__Ledger__RevokeMedalRequest *r, ledger_entry *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    unsigned rc;
    const char *school_id = NULL;
    char scope [TS_ID_MAX_CHARS + 16];
    if ((rc = s_school_of (ctx, &school_id, scope, sizeof scope))
    ||  (rc = ledger_check_id (ctx, "event_id", r->event_id)))
        return rc;
    uint64_t seq = ledger_key_get (ctx, scope, r->event_id);
    if (!seq)
        return ts_fail (ctx, TS_NOT_FOUND, "no medal event %s from this school",
                        r->event_id);
    uint8_t k [8];
    ts_be64_put (k, seq);
    uint64_t done = ts_txn_get_u64 (ctx->txn, t->reversals, k, 8, 0);
    if (done) {
        ledger_entry *e = ledger_entry_get (ctx, done);
        if (!e)
            return ts_fail (ctx, TS_INTERNAL, "entry e%" PRIu64 " is missing", done);
        *rep = *e;
        return TS_OK;
    }
    ledger_entry *reversal = NULL;
    char *note = ts_arena_printf (ctx->arena, "medal %s revoked by school %s",
                                  r->event_id, school_id);
    rc = ledger_reverse (ctx, cache, seq, "school", note, &reversal);
    if (rc >= 400)
        return rc;
    ledger_cache_flush (ctx, cache);
    *rep = *reversal;
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  A pupil's month: points, index, tier. Own pupils only: any other
//  pupil_no is "no pupil" (404), whether or not another school has it.

unsigned
ledger_school_pupil_credit (ts_ctx *ctx, const Tashan__Ledger__PupilCreditRequest *r,
                            Tashan__Ledger__PupilCredit *rep)
{
    unsigned rc;
    const char *school_id = NULL;
    char scope [TS_ID_MAX_CHARS + 16];
    if ((rc = s_school_of (ctx, &school_id, scope, sizeof scope))
    ||  (rc = ledger_check_id (ctx, "pupil_no", r->pupil_no))
    ||  (r->month [0] && (rc = ts_check_month (ctx, "month", r->month))))
        return rc;
    int month_index = r->month [0] ? ts_month_index (r->month) : ts_month_index_of (ctx->now_ms);
    const char *person_id = NULL;
    if (!s_pupil_find (ctx, r->pupil_no, school_id, &person_id))
        return ts_fail (ctx, NO_SUCH_PUPIL_CODE, NO_SUCH_PUPIL);
    ledger_subject *s = ledger_subject_get (ctx, person_id);
    if (!s)
        return ts_fail (ctx, TS_INTERNAL, "pupil %s maps to a missing person", r->pupil_no);
    rep->pupil_no = r->pupil_no;
    rep->month = ts_month_text (ctx->arena, month_index);
    rep->month_points = ledger_board_month_points (ctx, s, month_index);
    rep->index = ledger_index (s);
    rep->tier = (char *) ledger_tier_of (ledger_settings_get (ctx), rep->index);
    return TS_OK;
}
