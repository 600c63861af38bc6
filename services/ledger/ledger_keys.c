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

    The generation that takes the writes keeps its records in key_log,
    by entry seq, so a batch appends them to one leaf: in hash order
    (key_gens) each durable evaluation dirtied a leaf of its own and, in
    a tree of a thousand leaves, its branch page: 2 of the 4.6 pages an
    evaluation wrote (A/B without those writes: 2.3-2.7 pwrite calls and
    50-56 us CPU per evaluation instead of 4.6 and 102-127). A lookup
    finds its record through an index in memory (common/ts_tag_index.h:
    the hash's first 28 bits and the seq, 8 bytes a slot), built from
    key_log at open and added to by every put; it only names candidates:
    each is read from key_log in the request's transaction and counts
    only if that record holds the whole hash, so a put that was rolled
    back (its slot stays) answers nothing. A candidate of another key is
    a read of a random key_log page, often a page fault: with 24 bits,
    one lookup in 16 at a full generation (2^20 / 2^24) read one, and
    the ZeroMQ ingest took 70 faults per thousand evaluations; with 28
    bits (seqs up to 2^36, beyond which records go to key_gens) one in
    256, and 52 faults. Its
    memory grows with the generation: 2 MiB for the 190,000 records of
    the demo and the benches, 16 MiB (INDEX_SLOTS_MAX) for a full one;
    past that bound records go to key_gens as before (found there too).
    Sealing moves a generation's records into key_gens, sorted (one pass,
    at most 2^20 records, 24 MiB to sort them), and the index drops their
    slots once that has committed (s_index_tidy). The generation is newer
    than any in key_gens, so its records are appended (no descent from
    the root per record) and its filter is built from the sorted array,
    not read back; only when records of it (or later) went to key_gens
    past the index's bound are they put and read back. The sort compares
    the hashes' first 64 bits as integers. bench_ledger board
    --random-keys, 10 million entries, before and after side by side:
    227k -> 256k entries/s in all, slowest million 183k -> 228k. bench_ledger board
    --random-keys, 2.1 million entries, same machine: main 56.3k and
    54.0k entries per CPU second in its two millions, this 73.7k and
    54.9k (the second holds the first seal).

    Layout (ledger_core.c lists every table):
    key_gens    u32 gen, hash[16]  -> u64 entry seq (gen = seq >> 20;
                hash = BLAKE2b-128 of the (scope, key) key of ledger_scope_key)
    key_log     u64 seq            -> hash[16]: the unsealed generations'
                                      records (gen = seq >> 20)
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
#include "ts_tag_index.h"
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
#define INDEX_SLOTS_MAX ((size_t) 1 << 21)  //  16 MiB: 1,572,864 records
//  At open every record of key_log is indexed, whatever the bound.
#define INDEX_SLOTS_OPEN ((size_t) 1 << TS_TAG_BITS)
#define INDEX_SEQ_MAX TS_TAG_VALUE_MAX

//  The unsealed generations' records (key_log) by hash (ts_tag_index:
//  the seq of each record under its hash's tag). Slots are only added
//  (stale ones, of rolled-back puts, go at the next open): a record in
//  key_log always has its slot.
typedef struct ledger_key_index {
    ts_tag_index *tags;
    bool in_gens;                   //  key_gens may hold unsealed records too
    size_t seal_txn_id;             //  the write txn that sealed, 0 when none
    uint32_t sealed_end;            //  generations below it it sealed
} ledger_key_index;

static const char s_sealed_key [] = "key_sealed";
static unsigned s_gen_shift = LEDGER_KEYS_GEN_SHIFT;
static size_t s_index_max = INDEX_SLOTS_MAX;

void
ledger_keys_set_index_max (size_t slots)
{
    assert (slots >= TS_TAG_INDEX_SLOTS_MIN && slots <= INDEX_SLOTS_MAX);
    assert ((slots & (slots - 1)) == 0);
    s_index_max = slots;
}

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

//  --------------------------------------------------------------------
//  The index of key_log

//  Whether seq's generation is at least *(uint32_t *) arg.
static bool
s_gen_kept (uint64_t seq, void *arg)
{
    return s_gen (seq) >= *(const uint32_t *) arg;
}

//  Drop the slots of the generations a committed seal moved out of
//  key_log; until it commits, a roll-back would put them back. A
//  transaction with a later id than the sealing one's has not sealed
//  (its seal would have set seal_txn_id to its own id), so what it reads
//  of key_sealed was committed: those generations stay sealed for good.
static void
s_index_tidy (ts_ctx *ctx, ledger_key_index *index)
{
    if (index->seal_txn_id == 0 || mdb_txn_id (ts_txn_mdb (ctx->txn)) <= index->seal_txn_id
    ||  s_sealed (ctx) < index->sealed_end)
        return;
    bool kept = ts_tag_index_retain (index->tags, s_gen_kept, &index->sealed_end);
    assert (kept);
    index->seal_txn_id = 0;
}

//  The record of hash in key_log for generation gen: each slot whose tag
//  matches names a candidate, which counts only if key_log holds it (in
//  this transaction) with the whole hash.
static uint64_t
s_log_get (ts_ctx *ctx, const ledger_key_hash *hash, uint32_t gen)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ledger_key_index *index = t->key_index;
    assert (index && index->tags);
    ts_tag_probe probe;
    ts_tag_index_probe (index->tags, ts_tag_of (hash->bytes), &probe);
    uint64_t seq;
    while (ts_tag_probe_next (&probe, &seq)) {
        if (s_gen (seq) != gen)
            continue;
        uint8_t k [8];
        ts_be64_put (k, seq);
        ts_val v;
        if (!ts_txn_get (ctx->txn, t->key_log, k, 8, &v))
            continue;               //  a put rolled back
        if (v.size != sizeof hash->bytes) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            return 0;
        }
        if (memcmp (v.data, hash->bytes, sizeof hash->bytes) == 0)
            return seq;
    }
    return 0;
}

//  An unsealed generation's record: key_log, and key_gens where it may
//  hold some (records of a store of schema 3, or put while the index
//  was full).
static uint64_t
s_get_unsealed (ts_ctx *ctx, const ledger_key_hash *hash, uint32_t gen)
{
    uint64_t seq = s_log_get (ctx, hash, gen);
    if (seq || ts_txn_error (ctx->txn) || !ledger_tables_of (ctx)->key_index->in_gens)
        return seq;
    return s_get (ctx, hash, gen);
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
ledger_keys_find (ts_ctx *ctx, ledger_keys_view *view, const ledger_key_hash *hash,
                  uint64_t next_seq)
{
    s_view_load (ctx, view);
    if (ts_txn_error (ctx->txn))
        return 0;
    uint32_t top = s_gen (next_seq);
    assert (view->sealed <= top + 1);
    s_prefetch (view, hash);
    //  The unsealed generations (one but while a request crosses into a
    //  new generation), exactly.
    for (uint32_t gen = top + 1; gen > view->sealed; gen--) {
        uint64_t seq = s_get_unsealed (ctx, hash, gen - 1);
        if (seq || ts_txn_error (ctx->txn))
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

void
ledger_keys_put (ts_ctx *ctx, const ledger_key_hash *hash, uint64_t seq)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ledger_key_index *index = t->key_index;
    assert (index && seq > 0);
    s_index_tidy (ctx, index);
    //  The bound as it is now (tests change it on an open store).
    ts_tag_index_set_max (index->tags, s_index_max);
    if (seq <= INDEX_SEQ_MAX && ts_tag_index_add (index->tags, ts_tag_of (hash->bytes), seq)) {
        uint8_t k [8];
        ts_be64_put (k, seq);
        ts_txn_put (ctx->txn, t->key_log, k, 8, hash->bytes, sizeof hash->bytes);
    }
    else {
        ts_key k;
        s_record_key (&k, hash, s_gen (seq));
        ts_txn_put_u64 (ctx->txn, t->key_gens, k.data, k.size, seq);
        index->in_gens = true;
    }
}

void
ledger_keys_del (ts_ctx *ctx, const ledger_key_hash *hash, uint64_t seq)
{
    ledger_tables *t = ledger_tables_of (ctx);
    uint8_t k [8];
    ts_be64_put (k, seq);
    ts_val v;
    if (ts_txn_get (ctx->txn, t->key_log, k, 8, &v)
    &&  v.size == sizeof hash->bytes && memcmp (v.data, hash->bytes, v.size) == 0) {
        ts_txn_del (ctx->txn, t->key_log, k, 8);
        return;
    }
    ts_key record;
    s_record_key (&record, hash, s_gen (seq));
    bool found = ts_txn_del (ctx->txn, t->key_gens, record.data, record.size);
    assert (found || ts_txn_error (ctx->txn));
}

void
ledger_keys_open (ts_ctx *ctx)
{
    ledger_tables *t = ledger_tables_of (ctx);
    assert (!t->key_index);
    ledger_key_index *index = calloc (1, sizeof *index);
    assert (index);
    index->tags = ts_tag_index_new (INDEX_SLOTS_OPEN);
    assert (index->tags);
    t->key_index = index;
    //  key_gens holds records of unsealed generations when a store of
    //  schema 3 put them there (or an index at its bound did, before).
    uint32_t sealed = s_sealed (ctx);
    uint8_t prefix [4];
    ts_be32_put (prefix, sealed);
    ts_cursor cur;
    if (ts_cursor_open (&cur, ctx->txn, t->key_gens)) {
        index->in_gens = ts_cursor_seek (&cur, prefix, 4);
        ts_cursor_close (&cur);
    }
    //  Every record of key_log, whatever the bound: each must be found.
    size_t n = 0;
    bool more = ts_cursor_open (&cur, ctx->txn, t->key_log) && ts_cursor_seek (&cur, NULL, 0);
    for (; more && n < MIGRATE_MAX; more = ts_cursor_next (&cur), n++) {
        uint64_t seq = cur.key.size == 8 ? ts_be64_get (cur.key.data) : 0;
        if (seq == 0 || seq > INDEX_SEQ_MAX || cur.value.size != LEDGER_KEYS_HASH_BYTES) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        bool added = ts_tag_index_add (index->tags, ts_tag_of (cur.value.data), seq);
        assert (added);
    }
    if (ts_txn_error (ctx->txn) == 0)
        ts_cursor_close (&cur);
}

void
ledger_keys_close (ledger_tables *t)
{
    assert (t);
    if (t->key_index)
        ts_tag_index_destroy (&t->key_index->tags);
    free (t->key_index);
    t->key_index = NULL;
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

typedef struct {
    ledger_key_hash hash;
    uint64_t seq;
} s_moved;

//  memcmp's order of the hashes (the order of key_gens), decided by one
//  integer compare of their first 8 bytes read big-endian but for ties
//  of 64 bits; equal hashes by seq.
static int
s_moved_cmp (const void *a, const void *b)
{
    const s_moved *x = a, *y = b;
    uint64_t x_order = ts_be64_get (x->hash.bytes), y_order = ts_be64_get (y->hash.bytes);
    if (x_order != y_order)
        return x_order < y_order ? -1 : 1;
    int rc = memcmp (x->hash.bytes, y->hash.bytes, LEDGER_KEYS_HASH_BYTES);
    if (rc != 0)
        return rc;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

//  Whether key_gens holds any record of generation gen or a later one
//  (records that went there when the index was full): then gen's records
//  are not the last in key_gens, and cannot be appended.
static bool
s_gen_present (ts_ctx *ctx, uint32_t gen)
{
    uint8_t prefix [4];
    ts_be32_put (prefix, gen);
    ts_cursor cur;
    if (!ts_cursor_open (&cur, ctx->txn, ledger_tables_of (ctx)->key_gens))
        return true;                //  the txn failed: the slow path, which fails too
    bool present = ts_cursor_seek (&cur, prefix, 4);
    ts_cursor_close (&cur);
    return present;
}

//  Move generation gen's records from key_log into key_gens, in hash
//  order (so its subtree is written once, densely). Their index slots
//  stay until this transaction has committed: they name records key_log
//  no longer holds, and count for nothing (should it roll back, they
//  name them again). Returns the records moved, sorted, one per hash
//  (*count of them; the caller frees), and *alone: whether they are all
//  of gen's records in key_gens.
static s_moved *
s_log_move (ts_ctx *ctx, uint32_t gen, size_t *count, bool *alone)
{
    ledger_tables *t = ledger_tables_of (ctx);
    size_t gen_max = (size_t) 1 << s_gen_shift;
    uint64_t first = (uint64_t) gen << s_gen_shift, end = first + gen_max;
    uint8_t k [8];
    ts_be64_put (k, first);
    s_moved *moved = NULL;
    size_t n = 0, max = 0;
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->key_log) && ts_cursor_seek (&cur, k, 8);
    for (; more && n < gen_max; more = ts_cursor_next (&cur)) {
        uint64_t seq = cur.key.size == 8 ? ts_be64_get (cur.key.data) : 0;
        if (seq >= end)
            break;
        if (seq < first || cur.value.size != LEDGER_KEYS_HASH_BYTES) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        if (n == max) {
            max = max ? 2 * max : 1024;
            moved = realloc (moved, max * sizeof *moved);
            assert (moved);
        }
        memcpy (moved [n].hash.bytes, cur.value.data, LEDGER_KEYS_HASH_BYTES);
        moved [n++].seq = seq;
        //  Deleted in passing (the next step lands on the record after
        //  it), not by a descent from the root each.
        ts_cursor_del (&cur);
    }
    if (ts_txn_error (ctx->txn) == 0)
        ts_cursor_close (&cur);
    //  Their slots go once this transaction has committed (s_index_tidy).
    ledger_key_index *index = t->key_index;
    if (index) {
        s_index_tidy (ctx, index);
        index->seal_txn_id = mdb_txn_id (ts_txn_mdb (ctx->txn));
        index->sealed_end = gen + 1;
    }
    if (n > 0)
        qsort (moved, n, sizeof *moved, s_moved_cmp);
    //  A key is put once (the record is checked before), so equal hashes
    //  do not occur; should they, the first entry keeps the key, as a
    //  lookup would have found it.
    size_t unique = 0;
    for (size_t i = 0; i < n; i++)
        if (unique == 0 || memcmp (moved [i].hash.bytes, moved [unique - 1].hash.bytes,
                                   LEDGER_KEYS_HASH_BYTES) != 0)
            moved [unique++] = moved [i];
    //  Newer than every generation in key_gens, so, when gen has no
    //  records there yet, in order after all of them: appended, each put
    //  without a descent from the root.
    *alone = !s_gen_present (ctx, gen);
    for (size_t i = 0; i < unique && ts_txn_error (ctx->txn) == 0; i++) {
        ts_key record;
        s_record_key (&record, &moved [i].hash, gen);
        uint8_t seq [8];
        ts_be64_put (seq, moved [i].seq);
        if (*alone)
            ts_txn_append (ctx->txn, t->key_gens, record.data, record.size, seq, sizeof seq);
        else
            ts_txn_put (ctx->txn, t->key_gens, record.data, record.size, seq, sizeof seq);
    }
    *count = unique;
    return moved;
}

//  Build and store the filter of generation gen.
static void
s_seal_one (ts_ctx *ctx, uint32_t gen)
{
    ledger_tables *t = ledger_tables_of (ctx);
    size_t moved_count = 0;
    bool alone = false;
    s_moved *moved = s_log_move (ctx, gen, &moved_count, &alone);
    ts_cursor cur = { 0 };
    size_t count = moved_count;
    if (!alone) {
        //  Records of gen were in key_gens before: the filter takes them
        //  all, read back from there.
        if (!ts_cursor_open (&cur, ctx->txn, t->key_gens)) {
            free (moved);
            return;
        }
        count = s_gen_count (ctx, &cur, gen);
    }
    assert (count <= (1u << s_gen_shift));
    size_t blocks = (count * BLOOM_BITS_PER_KEY + BLOCK_BYTES * 8 - 1) / (BLOCK_BYTES * 8);
    size_t bytes = (blocks ? blocks : 1) * BLOCK_BYTES;
    uint8_t *bloom = calloc (1, bytes);
    assert (bloom);
    uint8_t prefix [4];
    ts_be32_put (prefix, gen);
    size_t n = 0;
    if (alone)
        for (; n < moved_count; n++)
            s_bloom_set (bloom, bytes, &moved [n].hash);
    else {
        bool more = ts_cursor_seek (&cur, prefix, 4);
        for (; more && n < count; more = ts_cursor_next (&cur), n++) {
            if (!ts_cursor_has_prefix (&cur, prefix, 4)
            ||  cur.key.size != LEDGER_KEYS_RECORD_BYTES)
                break;
            ledger_key_hash hash;
            memcpy (hash.bytes, (const uint8_t *) cur.key.data + 4, sizeof hash.bytes);
            s_bloom_set (bloom, bytes, &hash);
        }
        ts_cursor_close (&cur);
    }
    free (moved);
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
    //  key_log: each record names an entry of a generation not sealed.
    more = ts_txn_error (ctx->txn) == 0 && ts_cursor_open (&cur, ctx->txn, t->key_log)
        && ts_cursor_seek (&cur, NULL, 0);
    for (; more && n < 2 * (uint64_t) MIGRATE_MAX; more = ts_cursor_next (&cur), n++) {
        uint64_t seq = cur.key.size == 8 ? ts_be64_get (cur.key.data) : 0;
        uint8_t k [8];
        ts_be64_put (k, seq);
        ts_val entry;
        if (seq == 0 || cur.value.size != LEDGER_KEYS_HASH_BYTES)
            ts_verify_finding (v, "key_log: a record of %zu/%zu bytes", cur.key.size,
                               cur.value.size);
        else
        if (s_gen (seq) < view.sealed || !ts_txn_get (ctx->txn, t->entries, k, 8, &entry))
            ts_verify_finding (v, "key_log: the record of e%" PRIu64 " names no entry of "
                               "a generation not sealed", seq);
    }
    if (ts_txn_error (ctx->txn) == 0)
        ts_cursor_close (&cur);
    ts_verify_checked (v, n);
}
