/*  ledger_redemption - the ledger's side of a card redemption. See the header. */
#include "ledger_redemption.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "ts_valid.h"

#define SCOPE "redemption"

//  Answer the merchants daemon: debited (entry) or refused (reason).
static void
s_settle (ts_ctx *ctx, const char *redemption_id, const ledger_entry *entry, int64_t card_after,
          const char *reason)
{
    Tashan__Events__RedemptionSettled ev = TASHAN__EVENTS__REDEMPTION_SETTLED__INIT;
    ev.redemption_id = (char *) redemption_id;
    ev.ok = entry != NULL;
    ev.reason = (char *) (reason ? reason : "");
    ev.card_after = card_after;
    ev.entry_id = entry ? entry->id : "";
    ts_emit (ctx, "redemption.settled", &ev.base);
}

//  Why subject may not spend points now, or NULL.
static const char *
s_refusal (ts_ctx *ctx, const ledger_subject *subject, const char *person_id, int64_t points)
{
    if (!subject)
        return ts_arena_printf (ctx->arena, "no person %s is known to the ledger", person_id);
    if (subject->archived)
        return ts_arena_printf (ctx->arena, "person %s has moved out of the community",
                                person_id);
    //  Spending a (pupil's) card needs the consent the ledger keeps: the
    //  person's own, or their guardian's for a minor.
    if (!subject->credit_consent)
        return ts_arena_printf (ctx->arena, "person %s has no consent on record to use the card",
                                person_id);
    if (subject->card_points < points)
        return ts_arena_printf (ctx->arena, "card balance %" PRId64 " is less than %" PRId64
                                " points", subject->card_points, points);
    return NULL;
}

unsigned
ledger_redemption_apply (ts_ctx *ctx, ledger_cache *cache,
                         const Tashan__Events__RedemptionRequest *req,
                         const Tashan__Event *event)
{
    (void) event;
    unsigned rc;
    if ((rc = ledger_check_id (ctx, "redemption_id", req->redemption_id))
    ||  (rc = ledger_check_id (ctx, "person_id", req->person_id))
    ||  (rc = ts_check_range (ctx, "points", req->points, 1, LEDGER_REDEEM_MAX_POINTS))
    ||  (rc = ts_check_str (ctx, "item", req->item, TS_STR_MAX_CHARS, true)))
        return rc;
    //  A redemption already debited (a replay after a restore) is not
    //  debited again; its answer is given again.
    uint64_t seq = ledger_key_get (ctx, SCOPE, req->redemption_id);
    if (seq) {
        ledger_entry *e = ledger_entry_get (ctx, seq);
        ledger_subject *s = ledger_subject_get (ctx, req->person_id);
        s_settle (ctx, req->redemption_id, e, s ? s->card_points : 0, NULL);
        return TS_OK;
    }
    ledger_subject *subject = ledger_cache_subject (ctx, cache, req->person_id);
    const char *refusal = s_refusal (ctx, subject, req->person_id, req->points);
    if (refusal) {
        ledger_cache_flush (ctx, cache);
        s_settle (ctx, req->redemption_id, NULL, subject ? subject->card_points : 0, refusal);
        return TS_OK;
    }
    ts_key k;
    ledger_scope_key (&k, SCOPE, req->redemption_id);
    uint64_t seq_next = ledger_cache_seq_peek (ctx, cache);
    uint64_t claimed = ledger_cache_key_claim (ctx, cache, &k, seq_next);
    assert (claimed == 0);
    ledger_posting posting = {
        .kind = LEDGER_REDEMPTION,
        .rule = "redemption",
        .points = req->points,
        .note = req->item,
        .source = "merchants",
        .month_index = ts_month_index_of (ctx->now_ms),
    };
    uint64_t posted = 0;
    ledger_entry *e = ledger_post (ctx, cache, subject, &posting, &posted);
    assert (posted == seq_next);
    int64_t card_after = subject->card_points;
    assert (card_after >= 0);
    ledger_cache_flush (ctx, cache);
    s_settle (ctx, req->redemption_id, e, card_after, NULL);
    return TS_OK;
}
