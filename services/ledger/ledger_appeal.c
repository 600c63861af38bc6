/*  =========================================================================
    ledger_appeal - appeals against entries

    Tables (layout in ledger_core.c): appeals (u64 seq → Appeal),
    entry_appeal (entry seq → the open appeal's seq: one open appeal per
    entry), subjects id\0 'p' u64 seq → "" (a person's appeals).
    =========================================================================
*/
#include "ledger_appeal.h"
#include "ts_valid.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>



static ledger_appeal *
s_appeal_get (ts_ctx *ctx, uint64_t seq)
{
    ledger_tables *t = ledger_tables_of (ctx);
    if (seq == 0)
        return NULL;
    uint8_t k [8];
    ts_be64_put (k, seq);
    return ts_txn_get_msg (ctx->txn, t->appeals, k, 8, &tashan__ledger__appeal__descriptor,
                           ctx->arena);
}

static void
s_appeal_put (ts_ctx *ctx, uint64_t seq, const ledger_appeal *appeal)
{
    ledger_tables *t = ledger_tables_of (ctx);
    uint64_t id_seq = 0;
    bool parsed = ts_id_parse (appeal->id, 'a', &id_seq);
    assert (parsed && id_seq == seq);
    (void) parsed;
    uint8_t k [8];
    ts_be64_put (k, seq);
    ts_txn_put_msg (ctx->txn, t->appeals, k, 8, &appeal->base);
}

//  --------------------------------------------------------------------
//  File an appeal against an earning or a penalty not yet reversed.

unsigned
ledger_appeal_file (ts_ctx *ctx, const Tashan__Ledger__FileAppealRequest *r,
                    ledger_appeal *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    unsigned rc;
    uint64_t entry_seq;
    if ((rc = ts_check_id (ctx, "entry_id", r->entry_id, 'e', "entry", TS_UNPROCESSABLE,
                           &entry_seq))
    ||  (rc = ts_check_str (ctx, "reason", r->reason, TS_STR_MAX_CHARS, true)))
        return rc;
    ledger_entry *e = ledger_entry_get (ctx, entry_seq);
    if (!e)
        return ts_fail (ctx, TS_UNPROCESSABLE, "no entry %s", r->entry_id);
    if (strcmp (e->kind, "earning") != 0 && strcmp (e->kind, "penalty") != 0)
        return ts_fail (ctx, TS_CONFLICT, "entry %s is a %s and cannot be appealed",
                        e->id, e->kind);
    uint8_t ek [8];
    ts_be64_put (ek, entry_seq);
    if (ts_txn_get_u64 (ctx->txn, t->reversals, ek, 8, 0))
        return ts_fail (ctx, TS_CONFLICT, "entry %s was already reversed", e->id);
    uint64_t open = ts_txn_get_u64 (ctx->txn, t->entry_appeal, ek, 8, 0);
    if (open)
        return ts_fail (ctx, TS_CONFLICT, "entry %s already has the open appeal a%" PRIu64,
                        e->id, open);
    uint64_t seq = ts_txn_next_id (ctx->txn, "appeal");
    rep->id = ts_id_text (ctx->arena, 'a', seq);
    rep->entry_id = e->id;
    rep->person_id = e->person_id;
    rep->reason = r->reason;
    rep->status = LEDGER_APPEAL_OPEN;
    rep->created_at = ts_time_text (ctx->arena, ctx->now_ms);
    s_appeal_put (ctx, seq, rep);
    ts_txn_put_u64 (ctx->txn, t->entry_appeal, ek, 8, seq);
    ts_key k;
    ledger_subject_key (&k, e->person_id, LEDGER_TAG_APPEAL);
    ts_key_u64 (&k, seq);
    ts_txn_put (ctx->txn, t->subjects, k.data, k.size, "", 0);
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  Accept (reversal entry) or reject (with a reason) an open appeal.

unsigned
ledger_appeal_decide (ts_ctx *ctx, ledger_cache *cache,
                      const Tashan__Ledger__DecideAppealRequest *r, ledger_appeal *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    unsigned rc;
    uint64_t seq;
    if ((rc = ts_check_id (ctx, "id", r->id, 'a', "appeal", TS_NOT_FOUND, &seq))
    ||  (rc = ts_check_str (ctx, "reason", r->reason, TS_STR_MAX_CHARS, !r->accept)))
        return rc;
    ledger_appeal *a = s_appeal_get (ctx, seq);
    if (!a)
        return ts_fail (ctx, TS_NOT_FOUND, "no appeal %s", r->id);
    if (strcmp (a->status, LEDGER_APPEAL_OPEN) != 0)
        return ts_fail (ctx, TS_CONFLICT, "appeal %s was already %s", a->id, a->status);
    uint64_t entry_seq = 0;
    bool parsed = ts_id_parse (a->entry_id, 'e', &entry_seq);
    assert (parsed && entry_seq > 0);
    (void) parsed;
    if (r->accept) {
        ledger_entry *reversal = NULL;
        const char *note = ts_arena_printf (ctx->arena, "appeal %s accepted%s%s", a->id,
                                            r->reason [0] ? ": " : "", r->reason);
        rc = ledger_reverse (ctx, cache, entry_seq, "ops", note, &reversal);
        if (rc >= 400)
            return rc;
        ledger_cache_flush (ctx, cache);
        a->status = LEDGER_APPEAL_ACCEPTED;
        a->reversal_entry_id = reversal->id;
    }
    else
        a->status = LEDGER_APPEAL_REJECTED;
    a->decision_reason = r->reason;
    a->decided_at = ts_time_text (ctx->arena, ctx->now_ms);
    a->decided_by = (char *) (ctx->caller->principal [0] ? ctx->caller->principal
                                                         : ctx->caller->role);
    s_appeal_put (ctx, seq, a);
    uint8_t ek [8];
    ts_be64_put (ek, entry_seq);
    bool was_open = ts_txn_del (ctx->txn, t->entry_appeal, ek, 8);
    assert (was_open || ts_txn_error (ctx->txn));
    *rep = *a;
    return TS_OK;
}

unsigned
ledger_appeal_get (ts_ctx *ctx, const Tashan__Ledger__GetAppealRequest *r,
                   ledger_appeal *rep)
{
    uint64_t seq;
    unsigned rc = ts_check_id (ctx, "id", r->id, 'a', "appeal", TS_NOT_FOUND, &seq);
    if (rc)
        return rc;
    ledger_appeal *a = s_appeal_get (ctx, seq);
    if (!a)
        return ts_fail (ctx, TS_NOT_FOUND, "no appeal %s", r->id);
    *rep = *a;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  List appeals, of one person or of everyone, optionally by status.

unsigned
ledger_appeal_list (ts_ctx *ctx, const Tashan__Ledger__ListAppealsRequest *r,
                    Tashan__Ledger__AppealPage *rep)
{
    static const char *const statuses [] = { LEDGER_APPEAL_OPEN, LEDGER_APPEAL_ACCEPTED,
                                             LEDGER_APPEAL_REJECTED, NULL };
    ledger_tables *t = ledger_tables_of (ctx);
    unsigned rc;
    if ((r->id [0] && (rc = ledger_check_id (ctx, "id", r->id)))
    ||  (r->status [0] && (rc = ts_check_enum (ctx, "status", r->status, statuses))))
        return rc;
    if (r->id [0] && !ledger_subject_get (ctx, r->id))
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s is known to the ledger", r->id);
    //  A person's appeals: keys id\0 'p' seq of the subjects table; all
    //  appeals: the appeals table. Either way the page token is the hex of
    //  the next appeal's seq.
    bool by_person = r->id [0] != 0;
    ts_key prefix;
    ts_key_init (&prefix);
    if (by_person)
        ledger_subject_key (&prefix, r->id, LEDGER_TAG_APPEAL);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, by_person ? t->subjects : t->appeals, prefix.data,
                            prefix.size, r->page_token, r->page_size)))
        return rc;
    rep->appeals = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->appeals);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t seq_size;
        const uint8_t *seq_bytes = ts_page_rest (&pg, &seq_size);
        if (seq_size != 8)
            break;
        ledger_appeal *a = s_appeal_get (ctx, ts_be64_get (seq_bytes));
        if (!a)
            break;
        if (r->status [0] && strcmp (a->status, r->status) != 0)
            continue;
        rep->appeals [rep->n_appeals++] = a;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}
