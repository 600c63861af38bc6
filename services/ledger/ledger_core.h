/*  =========================================================================
    ledger_core - the ledger's records: subjects, settings, tiers and
    rules as stored, entries and idempotency keys, statement chunks, input
    checks. The layers above it, each calling only those below:
        ledger_board     month aggregates, honour board, rankings
        ledger_cache     a request's working set (ledger_cache.h)
        ledger_posting   posting entries, their handlers (ledger_posting.h)
        ledger_rules     rule and settings handlers (ledger_rules.h)
        ledger_subjects  persons and merchants from events (ledger_subjects.h)
        ledger_appeal, ledger_school

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
    ts_table keys;                  //  before generations: emptied on open
    ts_table key_gens;              //  idempotency records (ledger_keys.c)
    ts_table key_blooms;
    ts_table key_log;               //  the unsealed generations' records, by seq
    struct ledger_key_index *key_index; //  their hashes in memory (ledger_keys.c)
    ts_table reversals;
    ts_table rules;
    ts_table config;
    ts_table board;
    ts_table hh_month;
    ts_table bld_month;
    ts_table sum_log;               //  their deltas not folded yet (ledger_sums.c)
    ts_table households;
    ts_table buildings;
    ts_table appeals;
    ts_table entry_appeal;
    ts_table known_households;      //  the community's layout (ledger_rankings.c)
    ts_table known_buildings;
    ts_table frozen;                //  closed months' published rankings
    ts_table code_keys;             //  card codes: ledger_cardcode.c
    ts_table codes;
    ts_table person_codes;
    uint8_t code_master [32];       //  the card-code key file's secret
    struct ledger_replies *replies; //  board replies kept (ledger_replies.c)
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
//  --------------------------------------------------------------------
//  Settings, tiers, rules

ledger_settings *ledger_settings_get (ts_ctx *ctx);
//  The tier of an index under settings.
const char *ledger_tier_of (const ledger_settings *settings, int64_t index);
ledger_rule *ledger_rule_get (ts_ctx *ctx, const char *code);
bool ledger_rule_allows (const ledger_rule *rule, const char *source);

//  --------------------------------------------------------------------
//  Entries, idempotency keys, standing, checks

//  Entries by sequence number (NULL when absent, or seq 0).
ledger_entry *ledger_entry_get (ts_ctx *ctx, uint64_t seq);

//  A URL we accept as evidence: http(s)://, at most 1,000 characters.
unsigned ledger_check_url (ts_ctx *ctx, const char *field, const char *url);
//  An id-like string (another daemon's id, a rule code, a key): 1 to
//  TS_ID_MAX_CHARS characters of [A-Za-z0-9._:-].
unsigned ledger_check_id (ts_ctx *ctx, const char *field, const char *id);
bool ledger_id_ok (const char *id);

//  The name of an idempotency record (scope, key), as the keys table of
//  the layout before generations keyed it (ledger_keys.c hashes it): keys
//  longer than 200 bytes are named "\x01" + their BLAKE2b-256 in hex.
void ledger_scope_key (ts_key *k, const char *scope, const char *key);
//  Emit standing.changed for subject (its index and tier).
void ledger_emit_standing (ts_ctx *ctx, const ledger_subject *subject, const char *tier);

#endif
