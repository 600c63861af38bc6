/*  =========================================================================
    ledger_cache - a request's working set (see ledger_cache in
    ledger_core.h)

    Why: a batch of a thousand evaluations used to write, per entry, the
    subject's record, its month net, its cap counter, its statement key,
    its board row (a delete and an insert) and its household's and
    building's month sums: some ten B-tree writes an entry, each a descent
    from the root, many to keys the next entry rewrote again. Here they are
    changed in memory and written through cursors that already stand where
    the keys belong, so most writes cost a binary search of one page:
    - a subject's keys (statement keys, caps, earlier months, the record)
      sort together at the end of its cluster; when an entry is posted
      right after its subject was read, the cursor still stands there and
      they are written at once; otherwise (a subject met again later in
      the request) at the flush, sorted by key;
    - board rows are written once per request, at the flush, sorted by
      key, one cursor; household/building month sums go to the sums' log
      as one record (ledger_sums.h), folded by the tick.
    Entries and idempotency keys are written at once (the entries table is
    append-only).

    Equivalence: every read inside the request goes through the cache, and
    the flush leaves exactly the keys that entry-by-entry writing would
    leave (a sum or a month net that comes back to 0 has no key; a board
    row moves from the month's net before the request to the net after).

    The subject's latest month lives in its record (current_month,
    current_month_points): the month of nearly every entry, so it costs no
    key of its own. Earlier months are keys id\0 'm' month. Invariant:
    every such key is for a month before the record's current_month and
    holds a net != 0.
    =========================================================================
*/
#include "ledger_cache.h"
#include "ledger_board.h"
#include "ledger_sums.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define HELD_BUCKETS 1024           //  power of two
#define SUM_BUCKETS 1024            //  power of two
#define TOUCHES_MAX 1000000         //  months, caps or entries of a subject in a request

//  One (subject, month) whose net a request changed.
typedef struct {
    int month_index;
    int64_t before_points;          //  net before the request (its board row)
    int64_t points;                 //  net now
    bool in_key;                    //  an 'm' key holds stored_points now
    int64_t stored_points;
} s_month;

//  One (subject, month, rule) cap counter a request read or changed.
typedef struct {
    int month_index;
    const char *rule;               //  arena copy
    int64_t stored_points;          //  as stored now
    int64_t points;                 //  as it should be
} s_cap;

//  One statement key to write: id\0 'e' month seq.
typedef struct {
    int month_index;
    uint64_t seq;
} s_stmt;

struct ledger_held {
    ledger_held *next;              //  hash chain
    ledger_held *order_next;        //  in the order first held
    uint32_t hash;
    ledger_subject *subject;        //  the record as it should be
    bool dirty;                     //  the record differs from the stored one
    bool pending;                   //  keys of its cluster to write
    uint32_t loaded_month;          //  record's current_month when loaded
    int64_t loaded_month_points;    //  and its net
    s_month *months;                //  months touched (arena, grows)
    size_t month_count, month_max;
    s_cap *caps;                    //  caps touched (arena, grows)
    size_t cap_count, cap_max;
    s_stmt *stmts;                  //  statement keys to write (arena, grows)
    size_t stmt_count, stmt_max;
};

//  A household's or building's month sum delta.
struct ledger_sum {
    ledger_sum *next;               //  hash chain
    ledger_sum *order_next;         //  in the order first changed
    uint32_t hash;
    ts_table table;                 //  hh_month or bld_month
    int month_index;
    const char *name;               //  household id / building number
    int64_t delta_points;
};

//  FNV-1a of a string and two words.
static uint32_t
s_hash (const char *s, uint32_t a, uint32_t b)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t) *s) * 16777619u;
    h = (h ^ a) * 16777619u;
    h = (h ^ b) * 16777619u;
    return h;
}

//  Grow an arena array of count items of size bytes to hold one more.
static void *
s_grow (ts_ctx *ctx, void *items, size_t count, size_t *max, size_t size)
{
    if (count < *max)
        return items;
    assert (*max < TOUCHES_MAX);
    size_t bigger_max = *max ? 2 * *max : 4;
    void *bigger = ts_arena_alloc (ctx->arena, bigger_max * size);
    if (count)
        memcpy (bigger, items, count * size);
    *max = bigger_max;
    return bigger;
}

//  The cache's cursor on the subjects table (reads and the subjects'
//  writes), opened on first use in the request's transaction, closed by
//  the flush. (A request that fails leaves it to its transaction, which
//  frees it.) cache->cursor_at is the held subject in whose cluster it
//  stands, if any.
static ts_cursor *
s_cursor (ts_ctx *ctx, ledger_cache *cache)
{
    if (!cache->cursor_open) {
        ts_cursor_open (&cache->cursor, ctx->txn, ledger_tables_of (ctx)->subjects);
        cache->cursor_open = true;
        cache->cursor_at = NULL;
    }
    assert (cache->cursor.txn == ctx->txn);
    return &cache->cursor;
}

//  Exact lookup through a cursor: false when key is absent.
static bool
s_cursor_get (ts_cursor *cur, const ts_key *k, ts_val *value)
{
    if (!ts_cursor_seek (cur, k->data, k->size)
    ||  cur->key.size != k->size || memcmp (cur->key.data, k->data, k->size) != 0)
        return false;
    *value = cur->value;
    return true;
}

//  --------------------------------------------------------------------
//  Subjects

static ledger_held *
s_find (ledger_cache *cache, const char *id, uint32_t hash)
{
    if (!cache->held)
        return NULL;
    for (ledger_held *h = cache->held [hash & (HELD_BUCKETS - 1)]; h; h = h->next)
        if (h->hash == hash && strcmp (h->subject->id, id) == 0)
            return h;
    return NULL;
}

const ledger_rule *
ledger_cache_rule (ts_ctx *ctx, ledger_cache *cache, const char *code)
{
    assert (cache && cache->rule_count <= LEDGER_CACHE_RULES_MAX);
    for (size_t i = 0; i < cache->rule_count; i++)
        if (strcmp (cache->rules [i]->code, code) == 0)
            return cache->rules [i];
    const ledger_rule *rule = ledger_rule_get (ctx, code);
    //  When full, the oldest gives way (a request rarely mixes more).
    if (rule && cache->rule_count == LEDGER_CACHE_RULES_MAX) {
        memmove (cache->rules, cache->rules + 1,
                 (LEDGER_CACHE_RULES_MAX - 1) * sizeof cache->rules [0]);
        cache->rule_count--;
    }
    if (rule)
        cache->rules [cache->rule_count++] = rule;
    return rule;
}

ledger_subject *
ledger_cache_subject (ts_ctx *ctx, ledger_cache *cache, const char *id)
{
    assert (cache);
    if (!ledger_id_ok (id))
        return NULL;
    uint32_t hash = s_hash (id, 0, 0);
    ledger_held *h = s_find (cache, id, hash);
    if (h)
        return h->subject;
    ts_key k;
    ledger_subject_key (&k, id, LEDGER_TAG_RECORD);
    ts_val v;
    ts_cursor *cur = s_cursor (ctx, cache);
    cache->cursor_at = NULL;
    if (!s_cursor_get (cur, &k, &v))
        return NULL;
    ledger_subject *s = ts_txn_unpack (ctx->txn, &v, &tashan__ledger__subject__descriptor,
                                       ctx->arena);
    if (!s)
        return NULL;                //  corrupt: the txn failed
    if (!cache->held)
        cache->held = ts_arena_alloc (ctx->arena, HELD_BUCKETS * sizeof *cache->held);
    h = ts_arena_alloc (ctx->arena, sizeof *h);
    h->hash = hash;
    h->subject = s;
    h->loaded_month = s->current_month;
    h->loaded_month_points = s->current_month_points;
    h->next = cache->held [hash & (HELD_BUCKETS - 1)];
    cache->held [hash & (HELD_BUCKETS - 1)] = h;
    if (cache->held_last)
        cache->held_last->order_next = h;
    else
        cache->held_first = h;
    cache->held_last = h;
    cache->held_count++;
    cache->cursor_at = h;
    return s;
}

//  The held entry of a subject that came from ledger_cache_subject.
static ledger_held *
s_held (ledger_cache *cache, const ledger_subject *subject)
{
    ledger_held *h = s_find (cache, subject->id, s_hash (subject->id, 0, 0));
    assert (h && h->subject == subject);
    return h;
}

//  --------------------------------------------------------------------
//  Month nets. The record always holds the latest month (changed here at
//  once); an earlier month's net is written to its key with the rest of
//  the subject's keys.

static s_month *
s_month_of (ts_ctx *ctx, ledger_cache *cache, ledger_held *h, int month_index)
{
    for (size_t i = 0; i < h->month_count; i++)
        if (h->months [i].month_index == month_index)
            return &h->months [i];
    h->months = s_grow (ctx, h->months, h->month_count, &h->month_max, sizeof *h->months);
    s_month *m = &h->months [h->month_count++];
    memset (m, 0, sizeof *m);
    m->month_index = month_index;
    if ((uint32_t) month_index == h->loaded_month)
        m->before_points = h->loaded_month_points;
    else
    if ((uint32_t) month_index < h->loaded_month) {
        ts_key k;
        ledger_board_month_key (&k, h->subject->id, month_index);
        ts_val v;
        m->in_key = s_cursor_get (s_cursor (ctx, cache), &k, &v);
        cache->cursor_at = h;           //  in (or next to) its cluster
        if (m->in_key && v.size == 8)
            m->before_points = (int64_t) ts_be64_get (v.data);
        else
        if (m->in_key)
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
        m->stored_points = m->before_points;
    }
    //  else: a month after the record's has no key (the invariant).
    m->points = m->before_points;
    return m;
}

static void
s_sum_add (ts_ctx *ctx, ledger_cache *cache, ts_table table, int month_index,
           const char *name, int64_t delta)
{
    if (!name || !*name || delta == 0)
        return;
    uint32_t hash = s_hash (name, (uint32_t) month_index, (uint32_t) table);
    if (!cache->sums)
        cache->sums = ts_arena_alloc (ctx->arena, SUM_BUCKETS * sizeof *cache->sums);
    ledger_sum **bucket = &cache->sums [hash & (SUM_BUCKETS - 1)];
    for (ledger_sum *s = *bucket; s; s = s->next)
        if (s->hash == hash && s->table == table && s->month_index == month_index
        &&  strcmp (s->name, name) == 0) {
            s->delta_points += delta;
            return;
        }
    ledger_sum *s = ts_arena_alloc (ctx->arena, sizeof *s);
    s->hash = hash;
    s->table = table;
    s->month_index = month_index;
    s->name = name;
    s->delta_points = delta;
    s->next = *bucket;
    *bucket = s;
    if (cache->sums_last)
        cache->sums_last->order_next = s;
    else
        cache->sums_first = s;
    cache->sums_last = s;
    cache->sum_count++;
}

void
ledger_cache_month_add (ts_ctx *ctx, ledger_cache *cache, const ledger_subject *subject,
                        int month_index, int64_t delta)
{
    assert (month_index > 0 && delta != 0);
    ledger_held *h = s_held (cache, subject);
    ledger_subject *s = h->subject;
    s_month *m = s_month_of (ctx, cache, h, month_index);
    m->points += delta;
    if ((uint32_t) month_index > s->current_month && s->current_month != 0) {
        //  The record's month becomes an earlier one: it will go to its
        //  key, so it is touched (its net as it stands).
        s_month *old = s_month_of (ctx, cache, h, (int) s->current_month);
        assert (old->points == s->current_month_points);
        m = s_month_of (ctx, cache, h, month_index);     //  the array may have moved
    }
    if ((uint32_t) month_index >= s->current_month) {
        s->current_month = (uint32_t) month_index;
        s->current_month_points = m->points;
    }
    h->dirty = true;
    h->pending = true;
    if (subject->listed) {
        ledger_tables *t = ledger_tables_of (ctx);
        s_sum_add (ctx, cache, t->hh_month, month_index, subject->household_id, delta);
        s_sum_add (ctx, cache, t->bld_month, month_index, subject->building_number, delta);
    }
}

//  --------------------------------------------------------------------
//  Caps

static void
s_cap_key (ts_key *k, const char *subject_id, int month_index, const char *rule)
{
    ledger_subject_key (k, subject_id, LEDGER_TAG_CAP);
    ts_key_u32 (k, (uint32_t) month_index);
    ts_key_str (k, rule);
}

static s_cap *
s_cap_of (ts_ctx *ctx, ledger_cache *cache, ledger_held *h, int month_index, const char *rule)
{
    for (size_t i = 0; i < h->cap_count; i++)
        if (h->caps [i].month_index == month_index && strcmp (h->caps [i].rule, rule) == 0)
            return &h->caps [i];
    h->caps = s_grow (ctx, h->caps, h->cap_count, &h->cap_max, sizeof *h->caps);
    s_cap *c = &h->caps [h->cap_count++];
    memset (c, 0, sizeof *c);
    c->month_index = month_index;
    c->rule = ts_arena_strdup (ctx->arena, rule);
    ts_key k;
    s_cap_key (&k, h->subject->id, month_index, rule);
    ts_val v;
    //  The cap key sits in the subject's cluster, near its record.
    if (s_cursor_get (s_cursor (ctx, cache), &k, &v)) {
        if (v.size == 8)
            c->stored_points = (int64_t) ts_be64_get (v.data);
        else
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
    }
    cache->cursor_at = h;
    c->points = c->stored_points;
    return c;
}

int64_t
ledger_cache_cap_used (ts_ctx *ctx, ledger_cache *cache, const ledger_subject *subject,
                       int month_index, const char *rule)
{
    return s_cap_of (ctx, cache, s_held (cache, subject), month_index, rule)->points;
}

void
ledger_cache_cap_set (ts_ctx *ctx, ledger_cache *cache, const ledger_subject *subject,
                      int month_index, const char *rule, int64_t used_points)
{
    assert (used_points >= 0);
    ledger_held *h = s_held (cache, subject);
    s_cap_of (ctx, cache, h, month_index, rule)->points = used_points;
    h->pending = true;
}

//  --------------------------------------------------------------------
//  Idempotency keys

uint64_t
ledger_cache_key_claim (ts_ctx *ctx, ledger_cache *cache, const ts_key *k, uint64_t seq)
{
    assert (seq > 0);
    if (!cache->keys_sealed) {
        ledger_keys_seal (ctx, &cache->keys_view, seq);
        cache->keys_sealed = true;
    }
    ledger_key_hash hash;
    ledger_keys_hash (&hash, k);
    uint64_t existing = ledger_keys_find (ctx, &cache->keys_view, &hash, seq);
    if (existing || ts_txn_error (ctx->txn))
        return existing;
    ledger_keys_put (ctx, &hash, seq);
    return 0;
}

void
ledger_cache_key_release (ts_ctx *ctx, ledger_cache *cache, const ts_key *k, uint64_t seq)
{
    (void) cache;
    ledger_key_hash hash;
    ledger_keys_hash (&hash, k);
    ledger_keys_del (ctx, &hash, seq);
}

//  --------------------------------------------------------------------
//  Entry sequence numbers: the entries table is append-only, so the next
//  one follows its last key (read once per request).

static void
s_seq_load (ts_ctx *ctx, ledger_cache *cache)
{
    if (cache->seq_loaded)
        return;
    cache->last_seq = ledger_keys_last_seq (ctx);
    cache->seq_loaded = true;
}

uint64_t
ledger_cache_seq_peek (ts_ctx *ctx, ledger_cache *cache)
{
    s_seq_load (ctx, cache);
    return cache->last_seq + 1;
}

uint64_t
ledger_cache_seq_next (ts_ctx *ctx, ledger_cache *cache)
{
    s_seq_load (ctx, cache);
    return ++cache->last_seq;
}

//  --------------------------------------------------------------------
//  Writing a subject's cluster: statement keys ('e'), caps ('k'), earlier
//  months ('m'), the record ('r'), in key order through the cursor.

static int
s_stmt_cmp (const void *a, const void *b)
{
    const s_stmt *x = a, *y = b;
    if (x->month_index != y->month_index)
        return x->month_index < y->month_index ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int
s_cap_cmp (const void *a, const void *b)
{
    const s_cap *x = a, *y = b;
    if (x->month_index != y->month_index)
        return x->month_index < y->month_index ? -1 : 1;
    return strcmp (x->rule, y->rule);
}

static int
s_month_cmp (const void *a, const void *b)
{
    const s_month *x = a, *y = b;
    return (x->month_index > y->month_index) - (x->month_index < y->month_index);
}

static void
s_chunk_put (ts_cursor *cur, const ts_key *month_prefix, uint64_t first_seq,
             uint64_t last_seq, uint8_t *value, size_t deltas_size)
{
    ts_key k = *month_prefix;
    ts_key_u64 (&k, first_seq);
    ts_be64_put (value, last_seq);
    ts_cursor_put (cur, k.data, k.size, value, 8 + deltas_size);
}

//  Append the month's pending seqs from stmts [first] on (sorted) to the
//  subject's statement: its last chunk of the month grows until full,
//  then a new chunk starts. Returns the index after that month's seqs.
static size_t
s_write_statement (ts_ctx *ctx, ts_cursor *cur, const char *id, const s_stmt *stmts,
                   size_t count, size_t first)
{
    int month_index = stmts [first].month_index;
    ts_key month_prefix, last;
    ledger_subject_key (&month_prefix, id, LEDGER_TAG_ENTRY);
    ts_key_u32 (&month_prefix, (uint32_t) month_index);
    last = month_prefix;
    ts_key_u64 (&last, UINT64_MAX);
    uint8_t value [8 + LEDGER_CHUNK_MAX_BYTES];    //  last seq, deltas
    uint8_t *deltas = value + 8;
    size_t size = 0;
    uint64_t chunk_first = 0, chunk_last = 0;   //  0: no chunk open
    if (ts_cursor_seek_last (cur, last.data, last.size)
    &&  ts_cursor_has_prefix (cur, month_prefix.data, month_prefix.size)
    &&  cur->key.size == month_prefix.size + 8) {
        if (cur->value.size < 8 || cur->value.size > 8 + LEDGER_CHUNK_MAX_BYTES) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            return count;
        }
        chunk_first = ts_be64_get ((const uint8_t *) cur->key.data + month_prefix.size);
        chunk_last = ts_be64_get (cur->value.data);
        size = cur->value.size - 8;
        memcpy (deltas, (const uint8_t *) cur->value.data + 8, size);
    }
    bool changed = false;
    size_t i = first;
    for (; i < count && stmts [i].month_index == month_index; i++) {
        uint64_t seq = stmts [i].seq;
        if (chunk_first) {
            assert (seq > chunk_last);
            uint8_t varint [10];
            size_t len = 0;
            for (uint64_t delta = seq - chunk_last; ; delta >>= 7) {
                varint [len++] = (uint8_t) ((delta & 0x7f) | (delta > 0x7f ? 0x80 : 0));
                if (delta <= 0x7f)
                    break;
            }
            if (size + len <= LEDGER_CHUNK_MAX_BYTES) {
                memcpy (deltas + size, varint, len);
                size += len;
                chunk_last = seq;
                changed = true;
                continue;
            }
            if (changed)
                s_chunk_put (cur, &month_prefix, chunk_first, chunk_last, value, size);
        }
        //  A new chunk starts at seq.
        chunk_first = chunk_last = seq;
        size = 0;
        changed = true;
    }
    assert (changed);
    s_chunk_put (cur, &month_prefix, chunk_first, chunk_last, value, size);
    return i;
}

static void
s_write_cluster (ts_ctx *ctx, ledger_cache *cache, ledger_held *h)
{
    ts_cursor *cur = s_cursor (ctx, cache);
    ledger_subject *s = h->subject;
    ts_key k;
    if (h->stmt_count > 1)
        qsort (h->stmts, h->stmt_count, sizeof *h->stmts, s_stmt_cmp);
    for (size_t i = 0; i < h->stmt_count; )
        i = s_write_statement (ctx, cur, s->id, h->stmts, h->stmt_count, i);
    h->stmt_count = 0;
    if (h->cap_count > 1)
        qsort (h->caps, h->cap_count, sizeof *h->caps, s_cap_cmp);
    for (size_t i = 0; i < h->cap_count; i++) {
        s_cap *c = &h->caps [i];
        if (c->points == c->stored_points)
            continue;
        s_cap_key (&k, s->id, c->month_index, c->rule);
        uint8_t v [8];
        ts_be64_put (v, (uint64_t) c->points);
        ts_cursor_put (cur, k.data, k.size, v, 8);
        c->stored_points = c->points;
    }
    //  A month's net lives in the record when it is the record's month,
    //  else under its key (none when 0).
    if (h->month_count > 1)
        qsort (h->months, h->month_count, sizeof *h->months, s_month_cmp);
    for (size_t i = 0; i < h->month_count; i++) {
        s_month *m = &h->months [i];
        bool want_key = (uint32_t) m->month_index != s->current_month && m->points != 0;
        assert ((uint32_t) m->month_index <= s->current_month);
        if (want_key == m->in_key && (!want_key || m->points == m->stored_points))
            continue;
        ledger_board_month_key (&k, s->id, m->month_index);
        if (want_key) {
            uint8_t v [8];
            ts_be64_put (v, (uint64_t) m->points);
            ts_cursor_put (cur, k.data, k.size, v, 8);
        }
        else {
            ts_val old;
            bool found = s_cursor_get (cur, &k, &old);
            assert (found || ts_txn_error (ctx->txn));
            if (found)
                ts_cursor_del (cur);
        }
        m->in_key = want_key;
        m->stored_points = want_key ? m->points : 0;
    }
    if (h->dirty) {
        assert (s->card_points >= 0);
        size_t size = protobuf_c_message_get_packed_size (&s->base);
        uint8_t *packed = ts_arena_alloc (ctx->arena, size ? size : 1);
        protobuf_c_message_pack (&s->base, packed);
        ledger_subject_key (&k, s->id, LEDGER_TAG_RECORD);
        ts_cursor_put (cur, k.data, k.size, packed, size);
        h->dirty = false;
    }
    h->pending = false;
    cache->cursor_at = h;
}

void
ledger_cache_posted (ts_ctx *ctx, ledger_cache *cache, const ledger_subject *subject,
                     int month_index, uint64_t seq)
{
    ledger_held *h = s_held (cache, subject);
    h->stmts = s_grow (ctx, h->stmts, h->stmt_count, &h->stmt_max, sizeof *h->stmts);
    h->stmts [h->stmt_count++] = (s_stmt) { month_index, seq };
    h->dirty = true;
    h->pending = true;
    //  The cursor still stands in this subject's cluster (it was read or
    //  written last): its writes cost a page-local search each, now.
    if (cache->cursor_at == h)
        s_write_cluster (ctx, cache, h);
}

//  --------------------------------------------------------------------
//  Flush: subjects left pending (sorted by id), then board rows and sums,
//  each sorted by key through one cursor.

//  A board write: delete or insert one row. Rows sort as their keys do
//  (month, rank = ~(points ^ 2^63), id\0).
typedef struct {
    uint32_t month_index;
    uint64_t rank;
    int64_t points;
    const char *id;
    bool insert;
} s_row_op;

static int
s_row_op_cmp (const void *a, const void *b)
{
    const s_row_op *x = *(const s_row_op *const *) a, *y = *(const s_row_op *const *) b;
    if (x->month_index != y->month_index)
        return x->month_index < y->month_index ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return strcmp (x->id, y->id);
}

static void
s_row_op_add (s_row_op *ops, size_t *op_count, int month_index, int64_t points,
              const char *id, bool insert)
{
    s_row_op *op = &ops [(*op_count)++];
    op->month_index = (uint32_t) month_index;
    op->rank = ~((uint64_t) points ^ ((uint64_t) 1 << 63));
    op->points = points;
    op->id = id;
    op->insert = insert;
}

static int
s_held_cmp (const void *a, const void *b)
{
    const ledger_held *x = *(ledger_held *const *) a, *y = *(ledger_held *const *) b;
    return strcmp (x->subject->id, y->subject->id);
}

static void
s_flush_rows (ts_ctx *ctx, ledger_cache *cache)
{
    size_t op_max = 0;
    for (ledger_held *h = cache->held_first; h; h = h->order_next)
        if (h->subject->listed)
            op_max += 2 * h->month_count;
    if (op_max == 0)
        return;
    s_row_op *ops = ts_arena_alloc (ctx->arena, op_max * sizeof *ops);
    size_t n = 0;
    for (ledger_held *h = cache->held_first; h; h = h->order_next) {
        if (!h->subject->listed)
            continue;
        for (size_t i = 0; i < h->month_count; i++) {
            const s_month *m = &h->months [i];
            if (m->points == m->before_points)
                continue;
            if (m->before_points != 0)
                s_row_op_add (ops, &n, m->month_index, m->before_points, h->subject->id, false);
            if (m->points != 0)
                s_row_op_add (ops, &n, m->month_index, m->points, h->subject->id, true);
        }
    }
    assert (n <= op_max);
    const s_row_op **sorted = ts_arena_alloc (ctx->arena, (n ? n : 1) * sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted [i] = &ops [i];
    qsort (sorted, n, sizeof *sorted, s_row_op_cmp);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, ledger_tables_of (ctx)->board);
    for (size_t i = 0; i < n; i++) {
        const s_row_op *op = sorted [i];
        ts_key k;
        ledger_board_row_key (&k, (int) op->month_index, op->points, op->id);
        assert (k.size >= 12 && ts_be64_get (k.data + 4) == op->rank);
        if (op->insert)
            ts_cursor_put (&cur, k.data, k.size, "", 0);
        else {
            ts_val v;
            bool found = s_cursor_get (&cur, &k, &v);
            assert (found || ts_txn_error (ctx->txn));
            if (found)
                ts_cursor_del (&cur);
        }
    }
    ts_cursor_close (&cur);
}

//  The request's sum deltas: one record of the sums' log (ledger_sums.h).
static void
s_flush_sums (ts_ctx *ctx, ledger_cache *cache)
{
    if (cache->sum_count == 0)
        return;
    ledger_sum_delta *deltas = ts_arena_alloc (ctx->arena, cache->sum_count * sizeof *deltas);
    size_t n = 0;
    for (ledger_sum *s = cache->sums_first; s; s = s->order_next)
        deltas [n++] = (ledger_sum_delta) { s->table, s->month_index, s->name, s->delta_points };
    assert (n == cache->sum_count);
    ledger_sums_log (ctx, deltas, n);
}

void
ledger_cache_flush (ts_ctx *ctx, ledger_cache *cache)
{
    assert (cache);
    size_t n = 0;
    ledger_held **pending = cache->held_count
        ? ts_arena_alloc (ctx->arena, cache->held_count * sizeof *pending) : NULL;
    for (ledger_held *h = cache->held_first; h; h = h->order_next)
        if (h->pending)
            pending [n++] = h;
    assert (n <= cache->held_count);
    if (n > 1)
        qsort (pending, n, sizeof *pending, s_held_cmp);
    for (size_t i = 0; i < n; i++)
        s_write_cluster (ctx, cache, pending [i]);
    if (cache->cursor_open) {
        ts_cursor_close (&cache->cursor);
        cache->cursor_open = false;
        cache->cursor_at = NULL;
    }
    s_flush_rows (ctx, cache);
    s_flush_sums (ctx, cache);
    //  Forget the working set; the lookups stay valid.
    cache->held = NULL;
    cache->held_first = cache->held_last = NULL;
    cache->held_count = 0;
    cache->sums = NULL;
    cache->sums_first = cache->sums_last = NULL;
    cache->sum_count = 0;
}

//  --------------------------------------------------------------------
//  Nothing left to write and no cursor open: what a handler that
//  succeeded must leave (checked by the service's handler wrappers).

bool
ledger_cache_clean (const ledger_cache *cache)
{
    assert (cache);
    return cache->held_count == 0 && cache->sum_count == 0
        && !cache->cursor_open;
}
