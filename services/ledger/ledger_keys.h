/*  =========================================================================
    ledger_keys - the ledger's idempotency records, kept in generations so
    that a batch dirties few pages however many keys the store holds
    (performance and layout: see the top of ledger_keys.c)
    =========================================================================
*/
#ifndef LEDGER_KEYS_H
#define LEDGER_KEYS_H

#include "ledger_core.h"

//  Entries per generation: a key lives in the generation of the entry it
//  stands for (seq >> LEDGER_KEYS_GEN_SHIFT).
#define LEDGER_KEYS_GEN_SHIFT 20
//  Tests only, before any store is opened: smaller generations (2^shift
//  entries) so that sealing is exercised with a few entries. A store must
//  always be opened with the shift it was written with.
void ledger_keys_set_gen_shift (unsigned shift);
//  Tests only: a smaller bound on the index of key_log (slots, a power of
//  two, at least 1024), so that records past it go to key_gens.
void ledger_keys_set_index_max (size_t slots);
#define LEDGER_KEYS_HASH_BYTES 16
//  A record's key: u32 generation, then the hash of (scope, key).
#define LEDGER_KEYS_RECORD_BYTES (4 + LEDGER_KEYS_HASH_BYTES)

//  The hash that names (scope, key) given as the keys table's key of the
//  layout before generations (ledger_scope_key), so old records migrate.
typedef struct {
    uint8_t bytes [LEDGER_KEYS_HASH_BYTES];
} ledger_key_hash;
void ledger_keys_hash (ledger_key_hash *hash, const ts_key *scope_key);

//  The record key of hash in the generation of entry seq.
void ledger_keys_record_key (ts_key *k, const ledger_key_hash *hash, uint64_t seq);

//  A request's view of the sealed generations (their filters, read once
//  per request; valid for its transaction only). Zero-initialise it.
typedef struct {
    bool loaded;
    uint32_t sealed;                //  generations below this have a filter
    size_t count;                   //  filters held
    const uint8_t **blooms;         //  per generation: its filter (in the map)
    size_t *bloom_bytes;
} ledger_keys_view;

//  The entry seq hash stands for, 0 when none: the unsealed generations
//  looked up exactly, the sealed ones where their filter says maybe.
//  next_seq is the seq the next entry will get.
uint64_t ledger_keys_find (ts_ctx *ctx, ledger_keys_view *view, const ledger_key_hash *hash,
                           uint64_t next_seq);

//  Record that hash stands for entry seq (not recorded yet): appended to
//  key_log and indexed in memory (into key_gens when the index is full).
void ledger_keys_put (ts_ctx *ctx, const ledger_key_hash *hash, uint64_t seq);
//  Take back the record of ledger_keys_put (a refused request).
void ledger_keys_del (ts_ctx *ctx, const ledger_key_hash *hash, uint64_t seq);

//  open(), after ledger_keys_migrate: index key_log's records in memory.
//  close(): free the index.
void ledger_keys_open (ts_ctx *ctx);
void ledger_keys_close (ledger_tables *t);

//  Seal every generation below next_seq's that has no filter yet: its
//  records move from key_log into key_gens, in hash order, and its
//  filter is built from them and stored (once per generation).
void ledger_keys_seal (ts_ctx *ctx, ledger_keys_view *view, uint64_t next_seq);

//  open(): move the records of the layout before generations (the keys
//  table: scope\0 key\0 -> u64 seq) into generations, and seal.
void ledger_keys_migrate (ts_ctx *ctx, uint64_t next_seq);

//  The entry seq of the idempotency record (scope, key); 0 when absent.
uint64_t ledger_key_get (ts_ctx *ctx, const char *scope, const char *key);

//  sys.Verify: each record names an entry of its generation; each sealed
//  generation's filter holds its records.
void ledger_keys_verify (ts_ctx *ctx, ts_verify *v);

//  The seq of the last entry in the entries table (0 when none).
uint64_t ledger_keys_last_seq (ts_ctx *ctx);

#endif
