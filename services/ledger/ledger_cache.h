/*  =========================================================================
    ledger_cache - a request's working set of subjects, month sums and
    board rows (performance: see the top of ledger_cache.c)
    =========================================================================
*/
#ifndef LEDGER_CACHE_H
#define LEDGER_CACHE_H

#include "ledger_core.h"
#include "ledger_keys.h"

//  A request's working set (ledger_cache.c). A request that posts entries
//  (one evaluation or a batch of a thousand) reads and writes the same few
//  things again and again: the settings, the rule, the time texts, and per
//  subject its record, statement, month nets and cap counters, the board
//  rows and the month sums of households and buildings. The cache holds
//  them for the request: lookups are filled on first use; a subject's
//  keys are written through a cursor that stands in its cluster (at once
//  when it still does, else at the flush), the board rows and sums once
//  per request at the flush, however many entries moved them. Entries and
//  idempotency keys are written at once.
//
//  Rules: one cache per request (zero-initialise it), passed to everything
//  that posts; subjects that are posted to come from ledger_cache_subject;
//  ledger_cache_flush before the handler returns success, asserted by the
//  handler wrapper that owns the cache (a handler that
//  fails needs no flush: its writes are rolled back, and its transaction
//  frees the cache's cursors). Valid for that request's transaction only.
typedef struct ledger_held ledger_held;
typedef struct ledger_sum ledger_sum;
//  Rules a request keeps once read (a batch mixes a few rules; reading
//  the rule again on every switch was 4 % of a batch's CPU).
#define LEDGER_CACHE_RULES_MAX 8
typedef struct {
    const ledger_settings *settings;
    const ledger_rule *rules [LEDGER_CACHE_RULES_MAX];  //  read so far
    size_t rule_count;
    //  Set by a handler that only counts what it posts (EvaluateBatch):
    //  ledger_post then builds each entry in entry/entry_id, valid until
    //  the next posting, instead of the arena (an entry and its id were
    //  a quarter of a batch's arena, refaulted on every group commit).
    bool entries_transient;
    ledger_entry entry;
    char entry_id [TS_ID_TEXT_MAX];
    const char *evaluator;          //  the caller's principal, arena copy
    const char *created_at;         //  ctx->now_ms as text
    int month_index;                //  month_text is for this month index
    const char *month_text;
    //  The working set (ledger_cache.c).
    bool seq_loaded;                //  last_seq read from the entries table
    uint64_t last_seq;              //  the last entry seq handed out
    ledger_held **held;             //  hash buckets of subjects held
    ledger_held *held_first;        //  held subjects in the order first held
    ledger_held *held_last;
    size_t held_count;
    ledger_sum **sums;              //  hash buckets of month sum deltas
    ledger_sum *sums_first;         //  in the order first changed
    ledger_sum *sums_last;
    size_t sum_count;
    ts_cursor cursor;               //  on the subjects table, while open
    bool cursor_open;
    ledger_held *cursor_at;         //  the subject whose cluster it stands in
    ledger_keys_view keys_view;     //  the sealed generations' filters
    bool keys_sealed;               //  generations below the next seq's sealed
} ledger_cache;

//  The subject id as held by cache (loaded on first use), NULL when the
//  ledger has never heard of id. Change it only through ledger_post.
ledger_subject *ledger_cache_subject (ts_ctx *ctx, ledger_cache *cache, const char *id);
//  Write what is left of the working set (subjects' keys not yet written,
//  the board rows and household/building sums the request moved), close
//  its cursors and forget it.
void ledger_cache_flush (ts_ctx *ctx, ledger_cache *cache);
//  Has the working set nothing left to write and no cursor open? A
//  handler that succeeds must leave its cache so: the service's wrapper
//  (POSTING in ledger_service.c) asserts it on every successful return.
bool ledger_cache_clean (const ledger_cache *cache);

//  What ledger_post and ledger_reverse change through the cache (subject
//  held by it, changed in place). Add to a subject's net points of a
//  month (and, for a listed subject, to its household's and building's
//  month sums).
void ledger_cache_month_add (ts_ctx *ctx, ledger_cache *cache,
                             const ledger_subject *subject, int month_index,
                             int64_t delta_points);
//  A subject's |effective points| used against rule's cap in a month.
int64_t ledger_cache_cap_used (ts_ctx *ctx, ledger_cache *cache,
                               const ledger_subject *subject, int month_index,
                               const char *rule);
void ledger_cache_cap_set (ts_ctx *ctx, ledger_cache *cache,
                           const ledger_subject *subject, int month_index,
                           const char *rule, int64_t used_points);
//  The rule with code (read on first use, then kept for the request),
//  NULL when there is none.
const ledger_rule *ledger_cache_rule (ts_ctx *ctx, ledger_cache *cache, const char *code);
//  An entry seq was posted for subject (its record changed): its
//  statement key and the record are written now when the cache's cursor
//  still stands in the subject's cluster, else at the flush.
void ledger_cache_posted (ts_ctx *ctx, ledger_cache *cache,
                          const ledger_subject *subject, int month_index, uint64_t seq);
//  Idempotency records (ledger_keys.c; k from ledger_scope_key): claim k
//  for entry seq (0), or find the seq it already stands for; give a key
//  claimed for seq back (the request it was for was refused). The first
//  claim of a request seals the generations below seq's.
uint64_t ledger_cache_key_claim (ts_ctx *ctx, ledger_cache *cache, const ts_key *k,
                                 uint64_t seq);
void ledger_cache_key_release (ts_ctx *ctx, ledger_cache *cache, const ts_key *k,
                               uint64_t seq);
//  Entry sequence numbers: the next one (not yet handed out) / hand it out.
uint64_t ledger_cache_seq_peek (ts_ctx *ctx, ledger_cache *cache);
uint64_t ledger_cache_seq_next (ts_ctx *ctx, ledger_cache *cache);

#endif
