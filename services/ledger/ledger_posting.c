/*  =========================================================================
    ledger_posting - the one place where a credit entry is posted (caps,
    consent, balances, month aggregates, standing events, all in the
    caller's transaction through the request's ledger_cache), rules
    applied and entries reversed, and the handlers that post or read
    entries and balances: Evaluate, EvaluateBatch, Redeem, GetEntry,
    ListEntries, GetPerson, GetConsent, and credit.requested events.

    Calls go down only: posting -> cache -> board -> core.
    =========================================================================
*/
#include "ledger_posting.h"
#include "ledger_months.h"
#include "ledger_board.h"
#include "ts_valid.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  --------------------------------------------------------------------
//  Posting, applying a rule, reversing

//  What one entry does: its kind, the points it moves on the index
//  (effective) and on the card, and why it moves less than asked (consent
//  withdrawn, the rule's monthly cap reached). A scored entry uses up cap
//  room in the cache; reversals and redemptions move exactly what they say.
typedef struct {
    const char *kind;               //  earning, penalty, reversal, redemption
    const char *reason;             //  "" when it had its full effect
    int64_t effective_points;       //  on the index
    int64_t card_points;            //  on the card
} s_effect;

static bool
s_effect_of (ts_ctx *ctx, ledger_cache *cache, const ledger_subject *subject,
             const ledger_posting *posting, s_effect *out)
{
    const char *kind;
    const char *reason = "";
    int64_t effective = 0, card = 0;
    switch (posting->kind) {
    case LEDGER_SCORED: {
        assert (posting->points != 0);
        kind = posting->points > 0 ? "earning" : "penalty";
        int64_t magnitude = posting->points > 0 ? posting->points : -posting->points;
        int64_t sign = posting->points > 0 ? 1 : -1;
        if (!subject->credit_consent)
            reason = "credit consent withdrawn: recorded without effect";
        else
        if (posting->cap_points > 0) {
            int64_t used = ledger_cache_cap_used (ctx, cache, subject, posting->month_index,
                                                  posting->rule);
            int64_t room = posting->cap_points > used ? posting->cap_points - used : 0;
            int64_t applied = magnitude < room ? magnitude : room;
            if (applied < magnitude)
                reason = applied == 0
                    ? ts_arena_printf (ctx->arena, "monthly cap of %" PRId64
                                       " points for %s reached", posting->cap_points,
                                       posting->rule)
                    : ts_arena_printf (ctx->arena, "monthly cap of %" PRId64
                                       " points for %s reached: %" PRId64 " of %" PRId64
                                       " applied", posting->cap_points, posting->rule,
                                       applied, magnitude);
            if (applied > 0)
                ledger_cache_cap_set (ctx, cache, subject, posting->month_index,
                                      posting->rule, used + applied);
            effective = sign * applied;
        }
        else
            effective = posting->points;
        card = effective > 0 ? effective : 0;
        break;
    }
    case LEDGER_REVERSAL:
        kind = "reversal";
        effective = posting->effective_points;
        card = posting->card_points;
        assert (posting->points == posting->effective_points);
        break;
    case LEDGER_REDEMPTION:
        kind = "redemption";
        assert (posting->points > 0 && posting->points <= subject->card_points);
        effective = posting->points;
        card = -posting->points;
        break;
    default:
        assert (false);
        return false;
    }
    out->kind = kind;
    out->reason = reason;
    out->effective_points = effective;
    out->card_points = card;
    return true;
}

ledger_entry *
ledger_post (ts_ctx *ctx, ledger_cache *cache, ledger_subject *subject,
             const ledger_posting *posting, uint64_t *seq_out)
{
    ledger_tables *t = ledger_tables_of (ctx);
    assert (cache && subject && posting && posting->rule && posting->source);
    assert (posting->month_index > 0 && posting->month_index < 2101 * 12);
    if (!cache->settings)
        cache->settings = ledger_settings_get (ctx);
    if (!cache->created_at)
        cache->created_at = ts_time_text (ctx->arena, ctx->now_ms);
    if (!cache->month_text || cache->month_index != posting->month_index) {
        cache->month_index = posting->month_index;
        cache->month_text = ts_month_text (ctx->arena, posting->month_index);
    }
    const ledger_settings *settings = cache->settings;
    const char *old_tier = ledger_tier_of (settings, ledger_index (subject));
    bool first = subject->entry_count == 0;

    s_effect eff;
    if (!s_effect_of (ctx, cache, subject, posting, &eff))
        return NULL;

    uint64_t seq = ledger_cache_seq_next (ctx, cache);
    ledger_entry *e = cache->entries_transient ? &cache->entry
                                               : ts_arena_alloc (ctx->arena, sizeof *e);
    tashan__ledger__entry__init (e);
    if (cache->entries_transient) {
        ts_id_format ('e', seq, cache->entry_id);
        e->id = cache->entry_id;
    }
    else
        e->id = ts_id_text (ctx->arena, 'e', seq);
    e->kind = (char *) eff.kind;
    e->rule = (char *) posting->rule;
    e->points = posting->points;
    e->effective_points = eff.effective_points;
    e->note = (char *) (posting->note ? posting->note : "");
    e->source = (char *) posting->source;
    e->month = (char *) cache->month_text;
    e->created_at = (char *) cache->created_at;
    e->person_id = subject->id;
    e->card_points = eff.card_points;
    e->reason = (char *) eff.reason;
    e->evidence_url = (char *) (posting->evidence_url ? posting->evidence_url : "");
    e->reverses = (char *) (posting->reverses ? posting->reverses : "");
    e->evaluator = (char *) "";
    if (posting->kind == LEDGER_SCORED && ctx->caller && ctx->caller->principal
    &&  (strcmp (posting->source, "panel") == 0 || strcmp (posting->source, "ops") == 0)) {
        //  One copy per request: the principal is the same for every entry.
        if (!cache->evaluator)
            cache->evaluator = ts_arena_strdup (ctx->arena, ctx->caller->principal);
        e->evaluator = (char *) cache->evaluator;
    }
    uint8_t seq_key [8];
    ts_be64_put (seq_key, seq);
    ts_txn_append_msg (ctx->txn, t->entries, seq_key, 8, &e->base);

    bool touches_index = posting->kind != LEDGER_REDEMPTION;
    if (touches_index)
        subject->index_sum_points += eff.effective_points;
    subject->card_points += eff.card_points;
    assert (subject->card_points >= 0);
    subject->entry_count++;
    if (touches_index && eff.effective_points != 0)
        ledger_cache_month_add (ctx, cache, subject, posting->month_index,
                                eff.effective_points);
    ledger_cache_posted (ctx, cache, subject, posting->month_index, seq);

    const char *new_tier = ledger_tier_of (settings, ledger_index (subject));
    if (first || strcmp (old_tier, new_tier) != 0)
        ledger_emit_standing (ctx, subject, new_tier);
    if (seq_out)
        *seq_out = seq;
    return e;
}

unsigned
ledger_apply_rule (ts_ctx *ctx, ledger_cache *cache, const char *subject_id,
                   const char *rule_code, int64_t quantity, const char *note,
                   const char *evidence_url, const char *source, int month_index,
                   const char *scope, const char *key, ledger_entry **entry_out)
{
    assert (cache);
    assert ((scope == NULL) == (key == NULL));
    assert (quantity >= 1 && quantity <= LEDGER_QUANTITY_MAX);
    *entry_out = NULL;
    //  The key is claimed first, for the seq the entry will get (where a
    //  lookup and a later put took two searches); a refusal below gives
    //  it back, so a refused request leaves nothing behind.
    ts_key scope_key;
    uint64_t seq_claimed = 0;
    if (scope) {
        ledger_scope_key (&scope_key, scope, key);
        seq_claimed = ledger_cache_seq_peek (ctx, cache);
        uint64_t seq = ledger_cache_key_claim (ctx, cache, &scope_key, seq_claimed);
        if (ts_txn_error (ctx->txn))
            return ts_fail (ctx, TS_INTERNAL, "storage error");
        if (seq) {
            *entry_out = ledger_entry_get (ctx, seq);
            if (!*entry_out)
                return ts_fail (ctx, TS_INTERNAL, "entry e%" PRIu64 " is missing", seq);
            return TS_OK;
        }
    }
    const ledger_rule *rule = ledger_cache_rule (ctx, cache, rule_code);
    ledger_subject *subject = NULL;
    unsigned rc = 0;
    if (!rule)
        rc = ts_fail (ctx, TS_UNPROCESSABLE, "rule '%s' does not exist", rule_code);
    else {
        if (!ledger_rule_allows (rule, source))
            rc = ts_fail (ctx, TS_FORBIDDEN, "rule %s cannot be applied by %s",
                          rule_code, source);
        else
        if (!(subject = ledger_cache_subject (ctx, cache, subject_id)))
            rc = ts_fail (ctx, TS_UNPROCESSABLE,
                          "no person or merchant %s is known to the ledger", subject_id);
        else
        if (subject->archived)
            rc = ts_fail (ctx, TS_CONFLICT, "%s has moved out of the community", subject_id);
    }
    if (rc) {
        if (scope)
            ledger_cache_key_release (ctx, cache, &scope_key, seq_claimed);
        return rc;
    }
    ledger_posting posting = {
        .kind = LEDGER_SCORED,
        .rule = rule->code,
        .points = rule->points * quantity,
        .cap_points = rule->monthly_cap_points,
        .note = note,
        .evidence_url = evidence_url,
        .source = source,
        .month_index = month_index,
    };
    uint64_t seq = 0;
    *entry_out = ledger_post (ctx, cache, subject, &posting, &seq);
    assert (!scope || seq == seq_claimed);
    return TS_CREATED;
}

unsigned
ledger_reverse (ts_ctx *ctx, ledger_cache *cache, uint64_t seq, const char *source,
                const char *note, ledger_entry **reversal_out)
{
    ledger_tables *t = ledger_tables_of (ctx);
    assert (cache);
    *reversal_out = NULL;
    ledger_entry *orig = ledger_entry_get (ctx, seq);
    if (!orig)
        return ts_fail (ctx, TS_NOT_FOUND, "no entry e%" PRIu64, seq);
    if (strcmp (orig->kind, "earning") != 0 && strcmp (orig->kind, "penalty") != 0)
        return ts_fail (ctx, TS_CONFLICT, "entry %s is a %s and cannot be reversed",
                        orig->id, orig->kind);
    uint8_t k [8];
    ts_be64_put (k, seq);
    uint64_t done = ts_txn_get_u64 (ctx->txn, t->reversals, k, 8, 0);
    if (done)
        return ts_fail (ctx, TS_CONFLICT, "entry %s was already reversed by e%" PRIu64,
                        orig->id, done);
    ledger_subject *subject = ledger_cache_subject (ctx, cache, orig->person_id);
    if (!subject)
        return ts_fail (ctx, TS_INTERNAL, "subject %s of %s is missing", orig->person_id, orig->id);
    int month_index = ts_month_index (orig->month);
    assert (month_index > 0);
    //  The cap room the entry used is given back (in its month, closed or
    //  not: caps are not part of the published boards).
    int64_t used_points = orig->effective_points < 0 ? -orig->effective_points
                                                     : orig->effective_points;
    if (used_points > 0) {
        int64_t used = ledger_cache_cap_used (ctx, cache, subject, month_index, orig->rule);
        if (used > 0)
            ledger_cache_cap_set (ctx, cache, subject, month_index, orig->rule,
                                  used > used_points ? used - used_points : 0);
    }
    //  The card gives back what the entry put there, as far as it still
    //  holds it (it never goes below zero).
    int64_t card = 0;
    if (orig->card_points > 0)
        card = -(orig->card_points < subject->card_points ? orig->card_points
                                                          : subject->card_points);
    ledger_posting posting = {
        .kind = LEDGER_REVERSAL,
        .rule = orig->rule,
        .points = -orig->effective_points,
        .effective_points = -orig->effective_points,
        .card_points = card,
        .note = note,
        .reverses = orig->id,
        .source = source,
        //  A correction of a closed month counts in the current month.
        .month_index = ledger_month_open_or_now (ctx, month_index),
    };
    uint64_t rev_seq = 0;
    *reversal_out = ledger_post (ctx, cache, subject, &posting, &rev_seq);
    ts_txn_put_u64 (ctx->txn, t->reversals, k, 8, rev_seq);
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  Handlers: evaluations, redemptions, statements, balances

//  The month an evaluation counts in (its observed_on's). A repeat of one
//  already recorded is let through to find it, even if its month closed
//  since: it answers 200 with the first entry, not 409.
static unsigned
s_evaluation_month (ts_ctx *ctx, const Tashan__Ledger__EvaluateRequest *r, const char *source,
                    int *month_index)
{
    unsigned rc = ledger_month_observed (ctx, r->observed_on, month_index);
    if (rc == TS_CONFLICT && ledger_key_get (ctx, source, r->idempotency_key)) {
        ctx->code = 0;
        ctx->message [0] = 0;
        return 0;
    }
    return rc;
}

//  The checks of one evaluation's fields (shared by single and batch).
static unsigned
s_check_evaluation (ts_ctx *ctx, const Tashan__Ledger__EvaluateRequest *r)
{
    unsigned rc;
    if ((rc = ledger_check_id (ctx, "person_id", r->person_id))
    ||  (rc = ledger_check_id (ctx, "rule", r->rule))
    ||  (rc = ts_check_str (ctx, "note", r->note, TS_STR_MAX_CHARS, false))
    ||  (rc = ledger_check_url (ctx, "evidence_url", r->evidence_url))
    ||  (rc = ts_check_str (ctx, "idempotency_key", r->idempotency_key, TS_STR_MAX_CHARS, true)))
        return rc;
    return 0;
}

unsigned
ledger_posting_evaluate (ts_ctx *ctx, ledger_cache *cache,
                         const Tashan__Ledger__EvaluateRequest *r, ledger_entry *rep)
{
    const char *source = ctx->caller->role;
    int month_index = 0;
    unsigned rc = s_check_evaluation (ctx, r);
    if (rc || (rc = s_evaluation_month (ctx, r, source, &month_index)))
        return rc;
    ledger_entry *e = NULL;
    rc = ledger_apply_rule (ctx, cache, r->person_id, r->rule, 1, r->note, r->evidence_url,
                            source, month_index, source, r->idempotency_key, &e);
    if (rc >= 400)
        return rc;
    assert (e);
    //  A repeat answers 200 and the first entry, which records every field
    //  of the request: the same key for another request is a conflict.
    if (rc == TS_OK
    &&  (strcmp (e->person_id, r->person_id) != 0 || strcmp (e->rule, r->rule) != 0
    ||   strcmp (e->note, r->note) != 0 || strcmp (e->evidence_url, r->evidence_url) != 0
    ||   (r->observed_on [0] && ts_month_index (e->month) != month_index)))
        return ts_fail (ctx, TS_CONFLICT, "idempotency_key '%s' was already used for a "
                        "different request", r->idempotency_key);
    ledger_cache_flush (ctx, cache);
    *rep = *e;
    return rc;
}

unsigned
ledger_posting_evaluate_batch (ts_ctx *ctx, ledger_cache *cache,
                               const Tashan__Ledger__EvaluateBatchRequest *r,
                               Tashan__Ledger__BatchReply *rep)
{
    unsigned rc;
    if ((rc = ts_check_count (ctx, "evaluations", r->n_evaluations, TS_BATCH_ITEMS_MAX)))
        return rc;
    if (r->n_evaluations == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "evaluations is required");
    const char *source = ctx->caller->role;
    rep->rejected = ts_arena_alloc (ctx->arena, r->n_evaluations * sizeof *rep->rejected);
    //  The batch only counts its entries: each is built in the cache.
    cache->entries_transient = true;
    for (size_t i = 0; i < r->n_evaluations; i++) {
        const Tashan__Ledger__EvaluateRequest *item = r->evaluations [i];
        ledger_entry *e = NULL;
        int month_index = 0;
        //  Every check comes before any write, so a refused item leaves
        //  nothing behind and the rest of the batch still applies.
        rc = s_check_evaluation (ctx, item);
        if (rc == 0)
            rc = s_evaluation_month (ctx, item, source, &month_index);
        if (rc == 0)
            rc = ledger_apply_rule (ctx, cache, item->person_id, item->rule, 1, item->note,
                                    item->evidence_url, source, month_index, source,
                                    item->idempotency_key, &e);
        if (rc == TS_CREATED)
            rep->accepted++;
        else
        if (rc == TS_OK)
            rep->duplicates++;
        else {
            Tashan__Ledger__Rejected *rej = ts_arena_alloc (ctx->arena, sizeof *rej);
            tashan__ledger__rejected__init (rej);
            rej->event_id = ts_arena_strndup (ctx->arena, item->idempotency_key,
                                              strnlen (item->idempotency_key, TS_STR_MAX_CHARS * 4));
            rej->reason = ts_arena_strdup (ctx->arena, ctx->message);
            rep->rejected [rep->n_rejected++] = rej;
        }
    }
    assert (rep->accepted + rep->duplicates + rep->n_rejected == r->n_evaluations);
    ledger_cache_flush (ctx, cache);
    ctx->code = 0;
    ctx->message [0] = 0;
    return TS_OK;
}

unsigned
ledger_posting_redeem (ts_ctx *ctx, ledger_cache *cache,
                       const Tashan__Ledger__RedeemRequest *r, ledger_entry *rep)
{
    unsigned rc;
    if ((rc = ledger_check_id (ctx, "person_id", r->person_id))
    ||  (rc = ts_check_range (ctx, "points", r->points, 1, LEDGER_REDEEM_MAX_POINTS))
    ||  (rc = ts_check_str (ctx, "item", r->item, TS_STR_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "idempotency_key", r->idempotency_key, TS_STR_MAX_CHARS, true)))
        return rc;
    ledger_subject *subject = ledger_cache_subject (ctx, cache, r->person_id);
    if (!subject)
        return ts_fail (ctx, TS_UNPROCESSABLE, "no person %s is known to the ledger", r->person_id);
    if (subject->card_points < r->points)
        return ts_fail (ctx, TS_CONFLICT, "card balance %" PRId64 " is less than %" PRId64
                        " points", subject->card_points, r->points);
    ledger_posting posting = {
        .kind = LEDGER_REDEMPTION,
        .rule = "redemption",
        .points = r->points,
        .note = r->item,
        .source = "ops",
        .month_index = ts_month_index_of (ctx->now_ms),
    };
    *rep = *ledger_post (ctx, cache, subject, &posting, NULL);
    ledger_cache_flush (ctx, cache);
    return TS_CREATED;
}

unsigned
ledger_posting_get_entry (ts_ctx *ctx, const Tashan__Ledger__GetEntryRequest *r,
                          ledger_entry *rep)
{
    uint64_t seq;
    unsigned rc = ts_check_id (ctx, "id", r->id, 'e', "entry", TS_NOT_FOUND, &seq);
    if (rc)
        return rc;
    ledger_entry *e = ledger_entry_get (ctx, seq);
    if (!e)
        return ts_fail (ctx, TS_NOT_FOUND, "no entry %s", r->id);
    *rep = *e;
    return TS_OK;
}

//  The token of ListEntries is the (month, seq) of the next entry to list
//  (u32, u64); one for another month than the one asked for is refused.
static unsigned
s_entries_token (ts_ctx *ctx, const Tashan__Ledger__ListEntriesRequest *r,
                 uint32_t *tok_month, uint64_t *tok_seq)
{
    uint8_t tok [12];
    bool resume;
    unsigned rc = ts_page_token_exact (ctx, r->page_token, tok, sizeof tok, &resume);
    if (rc || !resume)
        return rc;
    if (r->month [0] && ts_be32_get (tok) != (uint32_t) ts_month_index (r->month))
        return ts_page_token_refuse (ctx);
    *tok_month = ts_be32_get (tok);
    *tok_seq = ts_be64_get (tok + 4);
    return 0;
}

//  Place cur on the statement chunk a page of a subject's entries starts
//  in: the first chunk under prefix, or, resuming at a token's (month,
//  seq), the chunk that holds that seq (the last chunk of its month that
//  starts at or before it). False when there is none.
static bool
s_entries_seek (ts_cursor *cur, const char *id, const ts_key *prefix, bool resume,
                uint32_t tok_month, uint64_t tok_seq)
{
    if (!resume)
        return ts_cursor_seek (cur, prefix->data, prefix->size);
    ts_key start, month_prefix;
    ledger_subject_key (&month_prefix, id, LEDGER_TAG_ENTRY);
    ts_key_u32 (&month_prefix, tok_month);
    start = month_prefix;
    ts_key_u64 (&start, tok_seq);
    bool found = ts_cursor_seek_last (cur, start.data, start.size);
    if (!found || !ts_cursor_has_prefix (cur, month_prefix.data, month_prefix.size))
        found = ts_cursor_seek (cur, start.data, start.size);
    return found;
}

unsigned
ledger_posting_list_entries (ts_ctx *ctx, const Tashan__Ledger__ListEntriesRequest *r,
                             Tashan__Ledger__EntryPage *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    unsigned rc;
    uint32_t page_size;
    if ((rc = ledger_check_id (ctx, "id", r->id))
    ||  (r->month [0] && (rc = ts_check_month (ctx, "month", r->month)))
    ||  (rc = ts_page_size (ctx, r->page_size, &page_size)))
        return rc;
    if (!ledger_subject_get (ctx, r->id))
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s is known to the ledger", r->id);
    ts_key prefix;
    ledger_subject_key (&prefix, r->id, LEDGER_TAG_ENTRY);
    if (r->month [0])
        ts_key_u32 (&prefix, (uint32_t) ts_month_index (r->month));
    uint32_t tok_month = 0;
    uint64_t tok_seq = 0;
    if ((rc = s_entries_token (ctx, r, &tok_month, &tok_seq)))
        return rc;
    rep->entries = ts_arena_alloc (ctx->arena, page_size * sizeof *rep->entries);
    size_t id_bytes = strlen (r->id) + 2;     //  id\0 tag
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->subjects)
             && s_entries_seek (&cur, r->id, &prefix, r->page_token [0] != 0,
                                tok_month, tok_seq);
    uint64_t seqs [LEDGER_CHUNK_SEQS_MAX];
    bool done = false;
    for (uint32_t chunks = 0; more && !done && chunks <= page_size + 1; chunks++) {
        if (!ts_cursor_has_prefix (&cur, prefix.data, prefix.size)
        ||  cur.key.size != id_bytes + 12)
            break;
        const uint8_t *suffix = (const uint8_t *) cur.key.data + id_bytes;
        uint32_t month = ts_be32_get (suffix);
        size_t n = ledger_statement_decode (ts_be64_get (suffix + 4), cur.value.data,
                                            cur.value.size, seqs, LEDGER_CHUNK_SEQS_MAX);
        if (n == 0) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (month == tok_month && seqs [i] < tok_seq)
                continue;           //  listed on an earlier page
            if (rep->n_entries == page_size) {
                uint8_t tok [12];
                ts_be32_put (tok, month);
                ts_be64_put (tok + 4, seqs [i]);
                rep->next_page_token = ts_page_token_make (ctx->arena, tok, 12);
                done = true;
                break;
            }
            ledger_entry *e = ledger_entry_get (ctx, seqs [i]);
            if (!e) {
                done = true;        //  sticky store error: the request fails
                break;
            }
            rep->entries [rep->n_entries++] = e;
        }
        if (!done)
            more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    return TS_OK;
}

unsigned
ledger_posting_get_person (ts_ctx *ctx, const Tashan__Ledger__GetPersonRequest *r,
                           Tashan__Ledger__PersonCredit *rep)
{
    unsigned rc = ledger_check_id (ctx, "id", r->id);
    if (rc)
        return rc;
    ledger_subject *s = ledger_subject_get (ctx, r->id);
    if (!s)
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s is known to the ledger", r->id);
    rep->person_id = s->id;
    rep->index = ledger_index (s);
    rep->tier = (char *) ledger_tier_of (ledger_settings_get (ctx), rep->index);
    rep->card = s->card_points;
    rep->month_points = ledger_board_month_points (ctx, s, ts_month_index_of (ctx->now_ms));
    return TS_OK;
}

unsigned
ledger_posting_get_consent (ts_ctx *ctx, const Tashan__Ledger__GetPersonRequest *r,
                            Tashan__Ledger__Consent *rep)
{
    unsigned rc = ledger_check_id (ctx, "id", r->id);
    if (rc)
        return rc;
    ledger_subject *s = ledger_subject_get (ctx, r->id);
    if (!s)
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s is known to the ledger", r->id);
    rep->person_id = s->id;
    rep->credit_consent = s->credit_consent;
    rep->recorded_by = s->consent_recorded_by;
    rep->recorded_at = ts_time_text (ctx->arena, s->consent_recorded_ms);
    rep->consent_by = s->consent_by;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Event: credit.requested from merchants, volunteers and proposals.

unsigned
ledger_posting_apply_credit (ts_ctx *ctx, ledger_cache *cache, const Tashan__Events__CreditRequest *r,
                          const Tashan__Event *event)
{
    static const char *const producers [] = { "merchants", "volunteers", "proposals", NULL };
    const char *source = ctx->caller->principal;
    unsigned rc;
    if ((rc = ts_check_enum (ctx, "producer", source, producers))
    ||  (rc = ts_check_str (ctx, "idempotency_key", r->idempotency_key, TS_STR_MAX_CHARS, true))
    ||  (rc = ledger_check_id (ctx, "subject_id", r->subject_id))
    ||  (rc = ledger_check_id (ctx, "rule", r->rule))
    ||  (rc = ts_check_range (ctx, "quantity", r->quantity, 1, LEDGER_QUANTITY_MAX))
    ||  (rc = ts_check_str (ctx, "note", r->note, TS_STR_MAX_CHARS, false))
    ||  (r->month [0] && (rc = ts_check_month (ctx, "month", r->month))))
        return rc;
    int month_index = ts_month_index_of (ctx->now_ms);
    if (r->month [0]) {
        int asked = ts_month_index (r->month);
        if (asked > month_index)
            return ts_fail (ctx, TS_BAD_REQUEST, "month %s is in the future", r->month);
        //  An event cannot be refused: one for a closed month counts now.
        month_index = ledger_month_open_or_now (ctx, asked);
    }
    ledger_entry *e = NULL;
    rc = ledger_apply_rule (ctx, cache, r->subject_id, r->rule, r->quantity, r->note, "",
                            source, month_index, source, r->idempotency_key, &e);
    if (rc < 400)
        ledger_cache_flush (ctx, cache);
    return rc;
}
