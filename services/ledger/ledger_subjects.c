/*  =========================================================================
    ledger_subjects - who the ledger scores, kept from other daemons'
    events: persons (residents' person.*: names, birth years, households,
    buildings, pupils, consent; listing on the boards follows consent and
    moves; the community's households for the rankings) and
    merchants (merchants' merchant.*).
    =========================================================================
*/
#include "ledger_subjects.h"
#include "ledger_board.h"
#include "ledger_rankings.h"
#include "ts_valid.h"

#include <assert.h>
#include <string.h>

static bool
s_str_eq (const char *a, const char *b)
{
    return strcmp (a ? a : "", b ? b : "") == 0;
}

static char *
s_dup (ts_ctx *ctx, const char *s)
{
    return ts_arena_strdup (ctx->arena, s ? s : "");
}

static void
s_pupil_key (ts_key *k, const char *pupil_no, const char *school_id)
{
    ts_key_init (k);
    ts_key_str (k, pupil_no);
    ts_key_str (k, school_id);
}

//  Consent follows the residents daemon: when the office recorded it
//  there, who gave it, which account wrote it and when; otherwise the
//  time the ledger heard of a change.
static void
s_consent_follow (ts_ctx *ctx, ledger_subject *s, const Tashan__Events__Person *p,
                  const Tashan__Event *event)
{
    if (p->consent_recorded_ms > 0) {
        //  The person, or a minor's guardian, gave it.
        if (s->consent_recorded_ms != p->consent_recorded_ms
        ||  s->credit_consent != p->credit_consent) {
            s->credit_consent = p->credit_consent;
            s->consent_by = s_dup (ctx, p->consent_by);
            s->consent_recorded_by = ts_arena_printf (ctx->arena, "%.64s (residents)",
                p->consent_recorded_by [0] ? p->consent_recorded_by : "community office");
            s->consent_recorded_ms = p->consent_recorded_ms;
        }
    }
    else
    if (s->credit_consent != p->credit_consent || s->consent_recorded_ms == 0) {
        s->credit_consent = p->credit_consent;
        s->consent_recorded_by = "community office (residents)";
        s->consent_recorded_ms = event && event->created_ms ? event->created_ms : ctx->now_ms;
    }
}

unsigned
ledger_subjects_apply_person (ts_ctx *ctx, const Tashan__Events__Person *payload,
                              const Tashan__Event *event)
{
    ledger_tables *t = ledger_tables_of (ctx);
    const Tashan__Events__Person *p = payload;
    if (!ledger_id_ok (p->person_id) || p->person_id [0] != 'p')
        return ts_fail (ctx, TS_BAD_REQUEST, "person_id '%s' is not a person id",
                        p->person_id);
    if (ts_utf8_chars (p->name) < 0 || ts_utf8_chars (p->name) > TS_NAME_MAX_CHARS
    ||  strlen (p->household_id) > TS_ID_MAX_CHARS
    ||  strlen (p->building_number) > TS_ID_MAX_CHARS
    ||  strlen (p->school_id) > TS_ID_MAX_CHARS
    ||  strlen (p->pupil_no) > TS_ID_MAX_CHARS)
        return ts_fail (ctx, TS_BAD_REQUEST, "person %s has a field over its limit",
                        p->person_id);

    ledger_subject *s = ledger_subject_get (ctx, p->person_id);
    ledger_rankings_person (ctx, s, p);
    bool listed = !p->archived && p->credit_consent;
    bool attached = false;              //  its aggregates stand as they are
    if (s) {
        bool moved = !s_str_eq (s->household_id, p->household_id)
                  || !s_str_eq (s->building_number, p->building_number);
        attached = s->listed && listed && !moved;
        if (s->listed && !attached)
            ledger_board_detach (ctx, s);
        //  The pupil index follows the latest school and number.
        if (s->pupil_no [0] && s->school_id [0]
        &&  (p->archived || !s_str_eq (s->pupil_no, p->pupil_no)
                         || !s_str_eq (s->school_id, p->school_id))) {
            ts_key k;
            s_pupil_key (&k, s->pupil_no, s->school_id);
            ts_val v;
            if (ts_txn_get (ctx->txn, t->pupils, k.data, k.size, &v)
            &&  v.size == strlen (s->id) && memcmp (v.data, s->id, v.size) == 0)
                ts_txn_del (ctx->txn, t->pupils, k.data, k.size);
        }
    }
    else {
        s = ts_arena_alloc (ctx->arena, sizeof *s);
        tashan__ledger__subject__init (s);
        s->id = s_dup (ctx, p->person_id);
    }
    s_consent_follow (ctx, s, p, event);
    s->name = s_dup (ctx, p->name);
    s->household_id = s_dup (ctx, p->household_id);
    s->building_number = s_dup (ctx, p->building_number);
    s->school_id = s_dup (ctx, p->school_id);
    s->pupil_no = s_dup (ctx, p->pupil_no);
    s->archived = p->archived;
    s->birth_year = p->birth_year;
    s->listed = listed;
    if (listed && !attached)
        ledger_board_attach (ctx, s);
    if (!p->archived && p->pupil_no [0] && p->school_id [0]) {
        ts_key k;
        s_pupil_key (&k, p->pupil_no, p->school_id);
        ts_txn_put (ctx->txn, t->pupils, k.data, k.size, s->id, strlen (s->id));
    }
    assert (s->listed == listed);
    ledger_subject_put (ctx, s);
    return TS_OK;
}

unsigned
ledger_subjects_apply_merchant (ts_ctx *ctx, const Tashan__Events__Merchant *payload,
                                const Tashan__Event *event)
{
    const Tashan__Events__Merchant *m = payload;
    if (!ledger_id_ok (m->merchant_id) || m->merchant_id [0] != 'm')
        return ts_fail (ctx, TS_BAD_REQUEST, "merchant_id '%s' is not a merchant id",
                        m->merchant_id);
    if (ts_utf8_chars (m->name) < 0 || ts_utf8_chars (m->name) > TS_STR_MAX_CHARS)
        return ts_fail (ctx, TS_BAD_REQUEST, "merchant %s has a bad name", m->merchant_id);
    ledger_subject *s = ledger_subject_get (ctx, m->merchant_id);
    if (!s) {
        s = ts_arena_alloc (ctx->arena, sizeof *s);
        tashan__ledger__subject__init (s);
        s->id = s_dup (ctx, m->merchant_id);
        //  Units are scored on their conduct as registered; they are
        //  never listed on the residents' boards.
        s->credit_consent = true;
        s->consent_recorded_by = "merchant registration (merchants)";
        s->consent_recorded_ms = event ? event->created_ms : ctx->now_ms;
    }
    s->name = s_dup (ctx, m->name);
    assert (!s->listed);
    ledger_subject_put (ctx, s);
    return TS_OK;
}
