/*  =========================================================================
    merchants_checkin_keys - find a check-in by (merchant, checkin_id)

    Why: a check-in is idempotent by checkin_id. The runtime kept each
    reply in its idem table under a hash of the key, so every check-in
    dirtied a leaf of its own at a random place in a big tree (and, as
    the tree grew, a branch page, and once it outgrew the resident map a
    page fault). Here the check-in record itself is the
    stored reply: it holds the reply's fields (tier, discount) and a
    hash of the caller and the request, so a repeat answers 200 with the
    first reply and another request under the same id gets 409, as the
    runtime did; the records are appended by check-in number, so a batch
    of check-ins fills one leaf. A/B, same load (32 connections): per
    check-in 2.75-2.96 pwrite calls, 83-94 us CPU and 0.55-0.71 page
    faults in the merchants daemon before; 0.55-0.62, 33-34 us and 0.06
    after.

    A lookup finds the record through an index in memory
    (common/ts_tag_index.h: the check-in number under the key hash's
    first 28 bits). A slot only names a candidate: the record is read in
    the request's transaction and counts only if it holds the same
    merchant and checkin_id, so a slot of a check-in that was rolled
    back (it stays) answers nothing. A candidate of another key costs a
    read of a random record: with 28 bits one lookup in 341 at the
    index's bound (786,432 / 2^28), with 24 one in 21. The
    index is built from the checkins table at open and grows by
    doubling; 8 bytes a slot, a quarter free at least: 1.4 MiB for the
    demo's and a bench run's 100,000 check-ins. Past MAX_SLOTS (8 MiB,
    786,432 check-ins) a key goes to the checkin_keys table instead (the
    hash -> the number), where a lookup also looks once the index is full.

    Layout (merchants_core.c lists every table):
    checkin_keys  hash[16] (merchant_id\0checkin_id) -> u64 check-in no,
                  only for check-ins the index could not hold
    =========================================================================
*/
#include "merchants_checkin_keys.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "ts_store.h"
#include "ts_tag_index.h"

#define KEYS_MAGIC 0x434b4559u
#define MAX_SLOTS_DEFAULT ((size_t) 1 << 20)    //  8 MiB of slots
#define NO_MAX TS_TAG_VALUE_MAX
#define OPEN_SCAN_MAX ((uint64_t) 1 << 36)  //  records read at open, at most

struct merchants_checkin_keys {
    uint32_t magic;                 //  KEYS_MAGIC
    ts_tag_index *tags;             //  check-in no by its key's tag
    bool full;                      //  keys have gone to the spill table
    ts_table checkins;              //  check-in no -> Checkin
    ts_table spill;                 //  checkin_keys
};

static size_t s_max_slots = MAX_SLOTS_DEFAULT;

void
merchants_checkin_keys_set_max (size_t slots)
{
    assert (slots >= TS_TAG_INDEX_SLOTS_MIN && (slots & (slots - 1)) == 0);
    s_max_slots = slots;
}

void
merchants_checkin_keys_hash (uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES],
                             const char *merchant_id, const char *checkin_id)
{
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, MERCHANTS_CHECKIN_HASH_BYTES);
    crypto_generichash_update (&st, (const uint8_t *) merchant_id, strlen (merchant_id) + 1);
    crypto_generichash_update (&st, (const uint8_t *) checkin_id, strlen (checkin_id));
    crypto_generichash_final (&st, hash, MERCHANTS_CHECKIN_HASH_BYTES);
}

//  Record the key: a slot in the index, or when it is full the table.
static void
s_add (merchants_checkin_keys *self, ts_txn *txn,
       const uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES], uint64_t no)
{
    assert (no > 0 && no <= NO_MAX);
    if (ts_tag_index_add (self->tags, ts_tag_of (hash), no))
        return;
    self->full = true;
    uint8_t val [8];
    ts_be64_put (val, no);
    ts_txn_put (txn, self->spill, hash, MERCHANTS_CHECKIN_HASH_BYTES, val, sizeof val);
}

//  Check-in number no, if it is (merchant_id, checkin_id).
static Tashan__Merchants__Checkin *
s_candidate (merchants_checkin_keys *self, ts_ctx *ctx, uint64_t no,
             const char *merchant_id, const char *checkin_id)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    Tashan__Merchants__Checkin *c = ts_txn_get_msg (
        ctx->txn, self->checkins, k.data, k.size,
        &tashan__merchants__checkin__descriptor, ctx->arena);
    if (c && strcmp (c->merchant_id, merchant_id) == 0
    &&  strcmp (c->checkin_id, checkin_id) == 0)
        return c;
    return NULL;
}

Tashan__Merchants__Checkin *
merchants_checkin_keys_find (merchants_checkin_keys *self, ts_ctx *ctx,
                             const char *merchant_id, const char *checkin_id)
{
    assert (self && self->magic == KEYS_MAGIC);
    uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES];
    merchants_checkin_keys_hash (hash, merchant_id, checkin_id);
    ts_tag_probe probe;
    ts_tag_index_probe (self->tags, ts_tag_of (hash), &probe);
    uint64_t no;
    while (ts_tag_probe_next (&probe, &no)) {
        Tashan__Merchants__Checkin *c = s_candidate (self, ctx, no, merchant_id, checkin_id);
        if (c)
            return c;
    }
    ts_val val;
    if (self->full
    &&  ts_txn_get (ctx->txn, self->spill, hash, sizeof hash, &val)) {
        if (val.size != 8) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            return NULL;
        }
        return s_candidate (self, ctx, ts_be64_get (val.data), merchant_id, checkin_id);
    }
    return NULL;
}

void
merchants_checkin_keys_put (merchants_checkin_keys *self, ts_ctx *ctx,
                            const uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES], uint64_t no)
{
    assert (self && self->magic == KEYS_MAGIC);
    s_add (self, ctx->txn, hash, no);
}

merchants_checkin_keys *
merchants_checkin_keys_new (ts_ctx *ctx, ts_table checkins, ts_table spill)
{
    merchants_checkin_keys *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->magic = KEYS_MAGIC;
    self->checkins = checkins;
    self->spill = spill;
    self->tags = ts_tag_index_new (s_max_slots);
    if (!self->tags) {
        merchants_checkin_keys_destroy (&self);
        return NULL;
    }
    ts_cursor cur;
    self->full = ts_cursor_open (&cur, ctx->txn, spill) && ts_cursor_seek (&cur, NULL, 0);
    ts_cursor_close (&cur);
    //  Every check-in, in number order: the same order they were added
    //  in, so the ones past the bound are those the table holds (put
    //  again if absent: a store of schema 1 had no table).
    bool more = ts_cursor_open (&cur, ctx->txn, checkins) && ts_cursor_seek (&cur, NULL, 0);
    for (uint64_t n = 0; more && n < OPEN_SCAN_MAX; n++, more = ts_cursor_next (&cur)) {
        if (cur.key.size != 8) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        uint64_t no = ts_be64_get (cur.key.data);
        Tashan__Merchants__Checkin *c = tashan__merchants__checkin__unpack (
            NULL, cur.value.size, cur.value.data);
        if (!c || no == 0 || no > NO_MAX) {
            if (c)
                tashan__merchants__checkin__free_unpacked (c, NULL);
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES];
        merchants_checkin_keys_hash (hash, c->merchant_id, c->checkin_id);
        tashan__merchants__checkin__free_unpacked (c, NULL);
        if (ts_tag_index_add (self->tags, ts_tag_of (hash), no))
            continue;
        //  Past the bound: in the table already, or put there now.
        self->full = true;
        ts_val val;
        if (!ts_txn_get (ctx->txn, spill, hash, sizeof hash, &val))
            s_add (self, ctx->txn, hash, no);
    }
    ts_cursor_close (&cur);
    return self;
}

void
merchants_checkin_keys_destroy (merchants_checkin_keys **self_p)
{
    assert (self_p);
    merchants_checkin_keys *self = *self_p;
    if (!self)
        return;
    assert (self->magic == KEYS_MAGIC);
    ts_tag_index_destroy (&self->tags);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}
