/*  =========================================================================
    ledger_core - the ledger's domain core: subjects, rules, settings and
    tiers, and the one place where a credit entry is posted (caps, consent,
    balances, month aggregates, standing events, all in the caller's
    transaction)

    Every function here works on the handler's ts_ctx (its LMDB
    transaction, arena and clock) and keeps no state outside LMDB but the
    table handles opened at start. The data layout (tables, keys, values)
    is written at the top of ledger_core.c.
    =========================================================================
*/
#ifndef LEDGER_CORE_H
#define LEDGER_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include "ts_service.h"
#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"
#include "ledger.pb-c.h"
#include "events.pb-c.h"

typedef Tashan__Ledger__Entry ledger_entry;
typedef Tashan__Ledger__Subject ledger_subject;
typedef Tashan__Ledger__Rule ledger_rule;
typedef Tashan__Ledger__Settings ledger_settings;

#define LEDGER_BASE_INDEX 1000          //  every index starts here (SPEC §4)
#define LEDGER_POINTS_MAX 1000          //  |points| of one rule or redemption step
#define LEDGER_QUANTITY_MAX 1000        //  multiplier of a credit request
#define LEDGER_REDEEM_MAX_POINTS 1000000
#define LEDGER_CAP_MAX_POINTS 1000000
#define LEDGER_TIERS_MAX 10
#define LEDGER_SUBJECTS_MAX 20000000    //  bound of full-table walks
#define LEDGER_MONTHS_MAX 1300          //  2000-01 .. 2100-12 (month indexes)

//  The table handles, opened once in open(): the service's state.
typedef struct {
    uint32_t magic;                 //  LEDGER_TABLES_MAGIC
    ts_table subjects;              //  see the layout in ledger_core.c
    ts_table pupils;
    ts_table entries;
    ts_table keys;
    ts_table reversals;
    ts_table rules;
    ts_table config;
    ts_table board;
    ts_table hh_month;
    ts_table bld_month;
    ts_table households;
    ts_table buildings;
    ts_table appeals;
    ts_table entry_appeal;
} ledger_tables;

//  Everything kept per subject lives in the subjects table under
//  id\0 + one of these tags, so one entry touches one cluster of keys.
//  The tags sort so that what an entry writes (the newest statement key,
//  this month's caps, the record) sits together at the cluster's end,
//  mostly on one page.
#define LEDGER_TAG_ENTRY 'e'            //  id\0 'e' u32 month u64 seq -> chunk
#define LEDGER_TAG_CAP 'k'              //  id\0 'k' u32 month rule\0 -> u64 used
#define LEDGER_TAG_MONTH 'm'            //  id\0 'm' u32 month        -> i64 net
#define LEDGER_TAG_APPEAL 'p'           //  id\0 'p' u64 appeal seq   -> ""
#define LEDGER_TAG_RECORD 'r'           //  id\0 'r'                  -> Subject
//  Start a key of the subjects table: id\0 tag.
void ledger_subject_key (ts_key *key, const char *id, char tag);

//  A subject's statement is kept in chunks, so that its entries cost a few
//  bytes each in its cluster (and many subjects share a page): the key
//  holds the month and the chunk's first seq; the value the chunk's last
//  seq (u64, so appending needs no decoding), then the varint deltas of
//  its later seqs, at most LEDGER_CHUNK_MAX_BYTES of them.
#define LEDGER_CHUNK_MAX_BYTES 240
#define LEDGER_CHUNK_SEQS_MAX (LEDGER_CHUNK_MAX_BYTES + 1)
//  The seqs of a chunk (at most max); 0 when its value is malformed.
size_t ledger_statement_decode (uint64_t first_seq, const void *data, size_t size,
                                uint64_t *seqs, size_t max);

//  open(): resolve the tables, seed default rules and settings.
unsigned ledger_core_open (ts_ctx *ctx, void **state);
void ledger_core_close (void *state);
//  The table handles of this ctx (asserts the state is ours).
ledger_tables *ledger_tables_of (ts_ctx *ctx);

//  --------------------------------------------------------------------
//  Subjects (persons from residents, merchants from merchants)

//  NULL when the ledger has never heard of id.
ledger_subject *ledger_subject_get (ts_ctx *ctx, const char *id);
void ledger_subject_put (ts_ctx *ctx, const ledger_subject *subject);
static inline int64_t ledger_index (const ledger_subject *s)
{
    return LEDGER_BASE_INDEX + s->index_sum_points;
}
//  Upsert from residents' person.* events / merchants' merchant.* events.
unsigned ledger_core_apply_person (ts_ctx *ctx, const Tashan__Events__Person *payload,
                                   const Tashan__Event *event);
unsigned ledger_core_apply_merchant (ts_ctx *ctx,
                                     const Tashan__Events__Merchant *payload,
                                     const Tashan__Event *event);

//  --------------------------------------------------------------------
//  Settings, tiers, rules

ledger_settings *ledger_settings_get (ts_ctx *ctx);
//  The tier of an index under settings.
const char *ledger_tier_of (const ledger_settings *settings, int64_t index);
ledger_rule *ledger_rule_get (ts_ctx *ctx, const char *code);
bool ledger_rule_allows (const ledger_rule *rule, const char *source);

//  --------------------------------------------------------------------
//  Posting entries

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
typedef struct {
    const ledger_settings *settings;
    const ledger_rule *rule;        //  the last rule looked up
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
    ts_cursor keys_cursor;          //  on the keys table, while open
    bool keys_cursor_open;
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
//  An entry seq was posted for subject (its record changed): its
//  statement key and the record are written now when the cache's cursor
//  still stands in the subject's cluster, else at the flush.
void ledger_cache_posted (ts_ctx *ctx, ledger_cache *cache,
                          const ledger_subject *subject, int month_index, uint64_t seq);
//  Idempotency records (keys table, key k built by the caller): claim k
//  for entry seq (0), or find the seq it already stands for; give a
//  claimed key back (the request it was for was refused). Through a
//  cursor: a batch's keys, when they come in order, cost a page-local
//  search each.
uint64_t ledger_cache_key_claim (ts_ctx *ctx, ledger_cache *cache, const ts_key *k,
                                 uint64_t seq);
void ledger_cache_key_release (ts_ctx *ctx, ledger_cache *cache, const ts_key *k);
//  Entry sequence numbers: the next one (not yet handed out) / hand it out.
uint64_t ledger_cache_seq_peek (ts_ctx *ctx, ledger_cache *cache);
uint64_t ledger_cache_seq_next (ts_ctx *ctx, ledger_cache *cache);

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

//  Entries by sequence number (NULL when absent, or seq 0).
ledger_entry *ledger_entry_get (ts_ctx *ctx, uint64_t seq);
//  Idempotency records (scope, key) → entry seq; 0 when absent.
uint64_t ledger_key_get (ts_ctx *ctx, const char *scope, const char *key);

//  A URL we accept as evidence: http(s)://, at most 1,000 characters.
unsigned ledger_check_url (ts_ctx *ctx, const char *field, const char *url);
//  An id-like string (another daemon's id, a rule code, a key): 1 to
//  TS_ID_MAX_CHARS characters of [A-Za-z0-9._:-].
unsigned ledger_check_id (ts_ctx *ctx, const char *field, const char *id);
bool ledger_id_ok (const char *id);

//  --------------------------------------------------------------------
//  Handlers (request → reply) for the method table in ledger_service.c

unsigned ledger_core_evaluate (ts_ctx *ctx, ledger_cache *cache,
                               const Tashan__Ledger__EvaluateRequest *r,
                               ledger_entry *rep);
unsigned ledger_core_evaluate_batch (ts_ctx *ctx, ledger_cache *cache,
                                     const Tashan__Ledger__EvaluateBatchRequest *r,
                                     Tashan__Ledger__BatchReply *rep);
unsigned ledger_core_redeem (ts_ctx *ctx, ledger_cache *cache,
                             const Tashan__Ledger__RedeemRequest *r, ledger_entry *rep);
unsigned ledger_core_get_entry (ts_ctx *ctx, const Tashan__Ledger__GetEntryRequest *r,
                                ledger_entry *rep);
unsigned ledger_core_list_entries (ts_ctx *ctx,
                                   const Tashan__Ledger__ListEntriesRequest *r,
                                   Tashan__Ledger__EntryPage *rep);
unsigned ledger_core_get_person (ts_ctx *ctx,
                                 const Tashan__Ledger__GetPersonRequest *r,
                                 Tashan__Ledger__PersonCredit *rep);
unsigned ledger_core_get_consent (ts_ctx *ctx,
                                  const Tashan__Ledger__GetPersonRequest *r,
                                  Tashan__Ledger__Consent *rep);
unsigned ledger_core_list_rules (ts_ctx *ctx,
                                 const Tashan__Ledger__ListRulesRequest *r,
                                 Tashan__Ledger__RuleList *rep);
unsigned ledger_core_put_rule (ts_ctx *ctx, const Tashan__Ledger__PutRuleRequest *r,
                               Tashan__Ledger__Rule *rep);
unsigned ledger_core_get_settings (ts_ctx *ctx,
                                   const Tashan__Ledger__GetSettingsRequest *r,
                                   ledger_settings *rep);
unsigned ledger_core_put_settings (ts_ctx *ctx, const ledger_settings *r,
                                   ledger_settings *rep);
//  credit.requested from merchants, volunteers, proposals.
unsigned ledger_core_apply_credit (ts_ctx *ctx, ledger_cache *cache,
                                   const Tashan__Events__CreditRequest *r,
                                   const Tashan__Event *event);

#endif
