/*  =========================================================================
    ledger_posting - posting entries (the one place: caps, consent,
    balances, month aggregates, standing events), applying rules,
    reversing, and the handlers over entries and balances
    =========================================================================
*/
#ifndef LEDGER_POSTING_H
#define LEDGER_POSTING_H

#include "ledger_cache.h"

typedef enum {
    LEDGER_SCORED = 0,              //  a rule applied: caps and consent count
    LEDGER_REVERSAL,                //  undoes another entry exactly
    LEDGER_REDEMPTION,              //  spends the card; the index is untouched
} ledger_post_kind;

typedef struct {
    ledger_post_kind kind;
    const char *rule;               //  rule code ("redemption" for those)
    int64_t points;                 //  asked for (redemption: amount > 0)
    int64_t cap_points;             //  monthly cap of the rule, 0 = none
    int64_t effective_points;       //  reversal only: the exact index effect
    int64_t card_points;            //  reversal only: the exact card effect
    const char *note;
    const char *evidence_url;
    const char *reverses;           //  reversal only: the entry id
    const char *source;             //  panel | school | ops | volunteers…
    int month_index;                //  the month it counts in
} ledger_posting;

//  Record one entry for subject (held by cache: updated there, written by
//  ledger_cache_flush), with every derived effect in the same transaction.
//  Returns the entry (arena memory); *seq_out (may be NULL) its sequence
//  number.
ledger_entry *ledger_post (ts_ctx *ctx, ledger_cache *cache, ledger_subject *subject,
                           const ledger_posting *posting, uint64_t *seq_out);

//  Apply a rule to a subject for source (the checks an evaluation, a
//  medal and a credit request share). Fails with 4xx via ts_fail (and
//  then leaves nothing behind); on success returns TS_CREATED and the
//  entry. An idempotency scope and key (both or neither) make it a no-op
//  repeat answering TS_OK and the first entry.
unsigned ledger_apply_rule (ts_ctx *ctx, ledger_cache *cache, const char *subject_id,
                            const char *rule_code, int64_t quantity,
                            const char *note, const char *evidence_url,
                            const char *source, int month_index,
                            const char *scope, const char *key,
                            ledger_entry **entry_out);

//  Reverse entry seq (earning or penalty, not yet reversed). Returns
//  TS_CREATED and the reversal, or a 4xx via ts_fail.
unsigned ledger_reverse (ts_ctx *ctx, ledger_cache *cache, uint64_t seq,
                         const char *source, const char *note,
                         ledger_entry **reversal_out);

//  --------------------------------------------------------------------
//  Handlers (request → reply) for the method table in ledger_service.c:
//  the posting ones get the request's cache from their wrapper there.

unsigned ledger_posting_evaluate (ts_ctx *ctx, ledger_cache *cache,
                                  const Tashan__Ledger__EvaluateRequest *r,
                                  ledger_entry *rep);
unsigned ledger_posting_evaluate_batch (ts_ctx *ctx, ledger_cache *cache,
                                        const Tashan__Ledger__EvaluateBatchRequest *r,
                                        Tashan__Ledger__BatchReply *rep);
unsigned ledger_posting_redeem (ts_ctx *ctx, ledger_cache *cache,
                                const Tashan__Ledger__RedeemRequest *r, ledger_entry *rep);
unsigned ledger_posting_get_entry (ts_ctx *ctx, const Tashan__Ledger__GetEntryRequest *r,
                                   ledger_entry *rep);
unsigned ledger_posting_list_entries (ts_ctx *ctx,
                                      const Tashan__Ledger__ListEntriesRequest *r,
                                      Tashan__Ledger__EntryPage *rep);
unsigned ledger_posting_get_person (ts_ctx *ctx,
                                    const Tashan__Ledger__GetPersonRequest *r,
                                    Tashan__Ledger__PersonCredit *rep);
unsigned ledger_posting_get_consent (ts_ctx *ctx,
                                     const Tashan__Ledger__GetPersonRequest *r,
                                     Tashan__Ledger__Consent *rep);
//  credit.requested from merchants, volunteers, proposals.
unsigned ledger_posting_apply_credit (ts_ctx *ctx, ledger_cache *cache,
                                      const Tashan__Events__CreditRequest *r,
                                      const Tashan__Event *event);

#endif
