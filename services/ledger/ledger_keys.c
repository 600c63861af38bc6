/*  =========================================================================
    ledger_keys - idempotency records in generations

    Why: every evaluation carries a client's idempotency key, and clients
    make them at random (UUIDs). In one B-tree of all keys, a batch of
    64,000 writes dirties one leaf page per key once the tree has more
    leaves than the batch has keys, so ingest slowed as the store grew
    (bench_ledger board --random-keys: 15.9k entries/s in the first
    million, 11k/s by 1.6 million). Here a key lives in the generation of
    its entry (2^20 entries each): only the newest generation's subtree
    takes writes, and it never grows past 2^20 records, so the pages a
    batch dirties for its keys stay bounded however big the store gets.
    A generation that is complete is sealed: a Bloom filter of its keys is
    built once and stored, and a lookup reads an older generation only
    where its filter says the key may be there (a false positive costs
    one read, never a wrong answer: the record decides).

    Layout (ledger_core.c lists every table):
    key_gens    u32 gen, hash[16]  -> u64 entry seq (gen = seq >> 20;
                hash = BLAKE2b-128 of the (scope, key) key of ledger_scope_key)
    key_blooms  u32 gen            -> the generation's filter: blocks of
                                      64 bytes, a key sets 7 bits in one
                                      block (about 12 bits per key)
    config      "key_sealed"       -> u32: generations below it are sealed
    keys        (before generations: scope\0 key\0 -> u64 seq), emptied
                into key_gens when a store is opened

    The records are kept for as long as the entries (no retention): a
    repeat of any key ever used answers with its entry (SPEC §3, §4).
    =========================================================================
*/
#include "ledger_keys.h"
#include "ts_verify.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define BLOCK_BYTES 64
#define BLOOM_BITS_PER_KEY 12
#define BLOOM_PROBES 7                  //  9-bit positions in one block
#define GENS_MAX (1u << 24)             //  2^44 entries: far beyond any store
#define MIGRATE_MAX 100000000u          //  records of a store before generations

static const char s_sealed_key [] = "key_sealed";
static unsigned s_gen_shift = LEDGER_KEYS_GEN_SHIFT;

void
ledger_keys_set_gen_shift (unsigned shift)
{
    assert (shift >= 1 && shift <= LEDGER_KEYS_GEN_SHIFT);
    s_gen_shift = shift;
}

void
ledger_keys_hash (ledger_key_hash *hash, const ts_key *scope_key)
{
    assert (hash && scope_key && scope_key->size > 0);
    crypto_generichash (hash->bytes, sizeof hash->bytes, scope_key->data, scope_key->size,
                        NULL, 0);
}

static uint32_t
s_gen (uint64_t seq)
{
    assert (seq > 0);
    uint64_t gen = seq >> s_gen_shift;
    assert (gen < GENS_MAX);
    return (uint32_t) gen;
}

static void
s_record_key (ts_key *k, const ledger_key_hash *hash, uint32_t gen)
{
    ts_key_init (k);
    ts_key_u32 (k, gen);
    ts_key_bytes (k, hash->bytes, sizeof hash->bytes);
    assert (k->size == LEDGER_KEYS_RECORD_BYTES);
}

void
ledger_keys_record_key (ts_key *k, const ledger_key_hash *hash, uint64_t seq)
{
    s_record_key (k, hash, s_gen (seq));
}

//  --------------------------------------------------------------------
//  The filter: the block a key falls in and its bits there.

static size_t
s_block_of (const ledger_key_hash *hash, size_t blocks)
{
    uint64_t h = ts_be64_get (hash->bytes);
    return (size_t) (((unsigned __int128) h * blocks) >> 64);
}

static bool
s_bloom_test (const uint8_t *bloom, size_t bytes, const ledger_key_hash *hash)
{
    assert (bytes >= BLOCK_BYTES && bytes % BLOCK_BYTES == 0);
    const uint8_t *block = bloom + s_block_of (hash, bytes / BLOCK_BYTES) * BLOCK_BYTES;
    uint64_t bits = ts_be64_get (hash->bytes + 8);
    for (int i = 0; i < BLOOM_PROBES; i++, bits >>= 9)
        if (!(block [(bits & 511) >> 3] & (1u << (bits & 7))))
            return false;
    return true;
}

static void
s_bloom_set (uint8_t *bloom, size_t bytes, const ledger_key_hash *hash)
{
    uint8_t *block = bloom + s_block_of (hash, bytes / BLOCK_BYTES) * BLOCK_BYTES;
    uint64_t bits = ts_be64_get (hash->bytes + 8);
    for (int i = 0; i < BLOOM_PROBES; i++, bits >>= 9)
        block [(bits & 511) >> 3] |= (uint8_t) (1u << (bits & 7));
    assert (s_bloom_test (bloom, bytes, hash));
}

//  --------------------------------------------------------------------
//  The view of the sealed generations

static uint32_t
s_sealed (ts_ctx *ctx)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_val v;
    if (!ts_txn_get (ctx->txn, t->config, s_sealed_key, strlen (s_sealed_key), &v))
        return 0;
    if (v.size != 4) {
        ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
        return 0;
    }
    return ts_be32_get (v.data);
}

//  Read the filters of the sealed generations (0 .. sealed-1, each one
//  present: a missing one fails the transaction as corrupt).
static void
s_view_load (ts_ctx *ctx, ledger_keys_view *view)
{
    if (view->loaded)
        return;
    ledger_tables *t = ledger_tables_of (ctx);
    view->sealed = s_sealed (ctx);
    assert (view->sealed <= GENS_MAX);
    view->count = 0;
    size_t n = view->sealed ? view->sealed : 1;
    view->blooms = ts_arena_alloc (ctx->arena, n * sizeof *view->blooms);
    view->bloom_bytes = ts_arena_alloc (ctx->arena, n * sizeof *view->bloom_bytes);
    ts_cursor cur;
    bool more = view->sealed > 0 && ts_cursor_open (&cur, ctx->txn, t->key_blooms)
             && ts_cursor_seek (&cur, NULL, 0);
    for (; more && view->count < view->sealed; more = ts_cursor_next (&cur)) {
        if (cur.key.size != 4 || ts_be32_get (cur.key.data) != view->count
        ||  cur.value.size < BLOCK_BYTES || cur.value.size % BLOCK_BYTES != 0)
            break;
        view->blooms [view->count] = cur.value.data;
        view->bloom_bytes [view->count] = cur.value.size;
        view->count++;
    }
    if (view->sealed > 0)
        ts_cursor_close (&cur);
    if (view->count != view->sealed)
        ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
    view->loaded = true;
}

static uint64_t
s_get (ts_ctx *ctx, const ledger_key_hash *hash, uint32_t gen)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_key k;
    s_record_key (&k, hash, gen);
    ts_val v;
    if (!ts_txn_get (ctx->txn, t->key_gens, k.data, k.size, &v))
        return 0;
    uint64_t seq = v.size == 8 ? ts_be64_get (v.data) : 0;
    if (seq == 0 || s_gen (seq) != gen) {
        ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
        return 0;
    }
    return seq;
}

//  The sealed generations' blocks for hash, fetched from memory together
//  (one cache miss each, overlapped) before any is tested.
static void
s_prefetch (const ledger_keys_view *view, const ledger_key_hash *hash)
{
    for (uint32_t gen = 0; gen < view->sealed; gen++) {
        size_t blocks = view->bloom_bytes [gen] / BLOCK_BYTES;
        __builtin_prefetch (view->blooms [gen] + s_block_of (hash, blocks) * BLOCK_BYTES);
    }
}

uint64_t
ledger_keys_find_older (ts_ctx *ctx, ledger_keys_view *view, const ledger_key_hash *hash,
                        uint64_t next_seq)
{
    s_view_load (ctx, view);
    if (ts_txn_error (ctx->txn))
        return 0;
    uint32_t top = s_gen (next_seq);
    assert (view->sealed <= top + 1);
    s_prefetch (view, hash);
    //  The unsealed generations below the newest (there is one only while
    //  a request crosses into a new generation), exactly.
    for (uint32_t gen = top; gen > view->sealed; gen--) {
        uint64_t seq = s_get (ctx, hash, gen - 1);
        if (seq)
            return seq;
    }
    //  The sealed ones, newest first, where their filter says maybe.
    for (uint32_t gen = view->sealed < top ? view->sealed : top; gen > 0; gen--) {
        if (!s_bloom_test (view->blooms [gen - 1], view->bloom_bytes [gen - 1], hash))
            continue;
        uint64_t seq = s_get (ctx, hash, gen - 1);
        if (seq)
            return seq;
    }
    return 0;
}

uint64_t
ledger_keys_find (ts_ctx *ctx, ledger_keys_view *view, const ledger_key_hash *hash,
                  uint64_t next_seq)
{
    uint64_t seq = s_get (ctx, hash, s_gen (next_seq));
    return seq ? seq : ledger_keys_find_older (ctx, view, hash, next_seq);
}

//  --------------------------------------------------------------------
//  Sealing

//  How many records generation gen holds.
static size_t
s_gen_count (ts_ctx *ctx, ts_cursor *cur, uint32_t gen)
{
    uint8_t prefix [4];
    ts_be32_put (prefix, gen);
    size_t n = 0;
    bool more = ts_cursor_seek (cur, prefix, 4);
    for (; more && n <= (1u << s_gen_shift); more = ts_cursor_next (cur)) {
        if (!ts_cursor_has_prefix (cur, prefix, 4))
            break;
        n++;
    }
    return n;
}

//  Build and store the filter of generation gen.
static void
s_seal_one (ts_ctx *ctx, uint32_t gen)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_cursor cur;
    if (!ts_cursor_open (&cur, ctx->txn, t->key_gens))
        return;
    size_t count = s_gen_count (ctx, &cur, gen);
    assert (count <= (1u << s_gen_shift));
    size_t blocks = (count * BLOOM_BITS_PER_KEY + BLOCK_BYTES * 8 - 1) / (BLOCK_BYTES * 8);
    size_t bytes = (blocks ? blocks : 1) * BLOCK_BYTES;
    uint8_t *bloom = calloc (1, bytes);
    assert (bloom);
    uint8_t prefix [4];
    ts_be32_put (prefix, gen);
    size_t n = 0;
    bool more = ts_cursor_seek (&cur, prefix, 4);
    for (; more && n < count; more = ts_cursor_next (&cur), n++) {
        if (!ts_cursor_has_prefix (&cur, prefix, 4) || cur.key.size != LEDGER_KEYS_RECORD_BYTES)
            break;
        ledger_key_hash hash;
        memcpy (hash.bytes, (const uint8_t *) cur.key.data + 4, sizeof hash.bytes);
        s_bloom_set (bloom, bytes, &hash);
    }
    ts_cursor_close (&cur);
    if (n != count)
        ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
    ts_txn_put (ctx->txn, t->key_blooms, prefix, 4, bloom, bytes);
    free (bloom);
}

void
ledger_keys_seal (ts_ctx *ctx, ledger_keys_view *view, uint64_t next_seq)
{
    s_view_load (ctx, view);
    uint32_t top = s_gen (next_seq);
    if (view->sealed >= top || ts_txn_error (ctx->txn))
        return;
    for (uint32_t gen = view->sealed; gen < top; gen++)
        s_seal_one (ctx, gen);
    uint8_t v [4];
    ts_be32_put (v, top);
    ts_txn_put (ctx->txn, ledger_tables_of (ctx)->config, s_sealed_key, strlen (s_sealed_key),
                v, 4);
    view->loaded = false;           //  read again, with the new filters
}

//  --------------------------------------------------------------------
//  Migration from the single keys table

uint64_t
ledger_keys_last_seq (ts_ctx *ctx)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_cursor cur;
    uint64_t last = 0;
    if (ts_cursor_open (&cur, ctx->txn, t->entries)) {
        if (ts_cursor_seek_last (&cur, NULL, 0)) {
            if (cur.key.size == 8)
                last = ts_be64_get (cur.key.data);
            else
                ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
        }
        ts_cursor_close (&cur);
    }
    return last;
}

void
ledger_keys_migrate (ts_ctx *ctx, uint64_t next_seq)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_cursor cur;
    size_t moved = 0;
    if (ts_cursor_open (&cur, ctx->txn, t->keys)) {
        bool more = ts_cursor_seek (&cur, NULL, 0);
        for (; more && moved < MIGRATE_MAX; more = ts_cursor_next (&cur), moved++) {
            uint64_t seq = cur.value.size == 8 ? ts_be64_get (cur.value.data) : 0;
            if (seq == 0 || seq >= next_seq || cur.key.size == 0 || cur.key.size > TS_KEY_MAX) {
                ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
                break;
            }
            ts_key old;
            ts_key_init (&old);
            ts_key_bytes (&old, cur.key.data, cur.key.size);
            ledger_key_hash hash;
            ledger_keys_hash (&hash, &old);
            ts_key k;
            s_record_key (&k, &hash, s_gen (seq));
            ts_txn_put_u64 (ctx->txn, t->key_gens, k.data, k.size, seq);
        }
        ts_cursor_close (&cur);
    }
    if (moved > 0 && ts_txn_error (ctx->txn) == 0) {
        int rc = mdb_drop (ts_txn_mdb (ctx->txn), t->keys, 0);
        if (rc)
            ts_txn_fail (ctx->txn, rc);
    }
    ledger_keys_view view = { 0 };
    ledger_keys_seal (ctx, &view, next_seq);
}

//  --------------------------------------------------------------------
//  Lookups outside a posting request's cache

uint64_t
ledger_key_get (ts_ctx *ctx, const char *scope, const char *key)
{
    assert (scope && key);
    ts_key k;
    ledger_scope_key (&k, scope, key);
    ledger_key_hash hash;
    ledger_keys_hash (&hash, &k);
    ledger_keys_view view = { 0 };
    return ledger_keys_find (ctx, &view, &hash, ledger_keys_last_seq (ctx) + 1);
}

//  --------------------------------------------------------------------
//  Verify: every record names an entry of its generation, and a sealed
//  generation's filter holds each of its records (else a repeat of that
//  key would be taken for a new one).

void
ledger_keys_verify (ts_ctx *ctx, ts_verify *v)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ledger_keys_view view = { 0 };
    s_view_load (ctx, &view);
    ts_cursor cur;
    uint64_t n = 0;
    bool more = ts_txn_error (ctx->txn) == 0 && ts_cursor_open (&cur, ctx->txn, t->key_gens)
             && ts_cursor_seek (&cur, NULL, 0);
    for (; more && n < MIGRATE_MAX; more = ts_cursor_next (&cur), n++) {
        if (cur.key.size != LEDGER_KEYS_RECORD_BYTES || cur.value.size != 8) {
            ts_verify_finding (v, "key_gens: a record of %zu/%zu bytes", cur.key.size,
                               cur.value.size);
            continue;
        }
        uint32_t gen = ts_be32_get (cur.key.data);
        uint64_t seq = ts_be64_get (cur.value.data);
        ledger_key_hash hash;
        memcpy (hash.bytes, (const uint8_t *) cur.key.data + 4, sizeof hash.bytes);
        uint8_t k [8];
        ts_be64_put (k, seq);
        ts_val entry;
        if (seq == 0 || s_gen (seq) != gen || !ts_txn_get (ctx->txn, t->entries, k, 8, &entry))
            ts_verify_finding (v, "key_gens: a record of generation %u names e%" PRIu64
                               ", which is not an entry of that generation", gen, seq);
        else
        if (gen < view.sealed
        &&  !s_bloom_test (view.blooms [gen], view.bloom_bytes [gen], &hash))
            ts_verify_finding (v, "key_blooms: the filter of generation %u misses the key "
                               "of e%" PRIu64, gen, seq);
    }
    if (ts_txn_error (ctx->txn) == 0)
        ts_cursor_close (&cur);
    ts_verify_checked (v, n);
}
