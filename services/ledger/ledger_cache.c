/*  =========================================================================
    ledger_cache - a request's working set (see ledger_cache in
    ledger_core.h)

    Why: a batch of a thousand evaluations used to rewrite, per entry, the
    subject's record, its month net, its cap counter, its board row and its
    household's and building's month sums: some ten B-tree writes an entry,
    most of them to keys the next entry rewrites again. Here they are
    changed in memory and written once per request, so an entry costs its
    own writes (the entry, its statement key, its idempotency key) plus a
    share of its subject's.

    Equivalence: every read inside the request goes through the cache, and
    the flush leaves exactly the keys that entry-by-entry writing would
    leave (a sum or month net that comes back to 0 has no key; a board row
    moves from the month's net before the request to the net after it).

    The subject's latest month lives in its record (current_month,
    current_month_points): the month of nearly every entry, so it costs no
    key of its own. Earlier months are keys id\0 'm' month. Invariant:
    every such key is for a month before the record's current_month, and
    holds a net != 0.
    =========================================================================
*/
#include "ledger_core.h"
#include "ledger_board.h"

#include <assert.h>
#include <string.h>

#define HELD_BUCKETS 1024           //  power of two
#define SUM_BUCKETS 1024            //  power of two
#define TOUCHES_MAX 100000          //  months or caps of one subject in a request

//  One (subject, month) whose net a request changed.
typedef struct {
    int month_index;
    bool had_key;                   //  an 'm' key holds it in the store
    int64_t before_points;          //  net as stored before the request
    int64_t points;                 //  net now
} s_month;

//  One (subject, month, rule) cap counter a request read or changed.
typedef struct {
    int month_index;
    const char *rule;               //  arena (or the rule's, live as long)
    int64_t before_points;          //  as stored before the request
    int64_t points;                 //  now
} s_cap;

struct ledger_held {
    ledger_held *next;              //  hash chain
    ledger_held *order_next;        //  in the order first held
    uint32_t hash;
    ledger_subject *subject;        //  the record, as it will be written
    bool dirty;                     //  the record must be written back
    uint32_t loaded_month;          //  record's current_month when loaded
    int64_t loaded_month_points;    //  and its net
    s_month *months;                //  months touched (arena, grows)
    size_t month_count, month_max;
    s_cap *caps;                    //  caps touched (arena, grows)
    size_t cap_count, cap_max;
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

//  FNV-1a of a string and a few extra words.
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
    ledger_subject *s = ledger_subject_get (ctx, id);
    if (!s)
        return NULL;
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

void
ledger_cache_changed (ledger_cache *cache, const ledger_subject *subject)
{
    s_held (cache, subject)->dirty = true;
}

//  --------------------------------------------------------------------
//  Month nets

static s_month *
s_month_of (ts_ctx *ctx, ledger_held *h, int month_index)
{
    for (size_t i = 0; i < h->month_count; i++)
        if (h->months [i].month_index == month_index)
            return &h->months [i];
    if (h->month_count == h->month_max) {
        assert (h->month_max < TOUCHES_MAX);
        size_t max = h->month_max ? 2 * h->month_max : 4;
        s_month *bigger = ts_arena_alloc (ctx->arena, max * sizeof *bigger);
        if (h->month_count)
            memcpy (bigger, h->months, h->month_count * sizeof *bigger);
        h->months = bigger;
        h->month_max = max;
    }
    s_month *m = &h->months [h->month_count++];
    m->month_index = month_index;
    if ((uint32_t) month_index == h->loaded_month)
        m->before_points = h->loaded_month_points;
    else
    if ((uint32_t) month_index < h->loaded_month)
        m->had_key = ledger_board_month_load (ctx, h->subject->id, month_index,
                                              &m->before_points);
    //  else: a month after the record's has no key (the invariant).
    m->points = m->before_points;
    return m;
}

int64_t
ledger_cache_month_points (ts_ctx *ctx, ledger_cache *cache, const ledger_subject *subject,
                           int month_index)
{
    ledger_held *h = s_held (cache, subject);
    for (size_t i = 0; i < h->month_count; i++)
        if (h->months [i].month_index == month_index)
            return h->months [i].points;
    return ledger_board_month_points (ctx, subject, month_index);
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
    s_month *m = s_month_of (ctx, h, month_index);
    m->points += delta;
    h->dirty = true;
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
s_cap_of (ts_ctx *ctx, ledger_held *h, int month_index, const char *rule)
{
    for (size_t i = 0; i < h->cap_count; i++)
        if (h->caps [i].month_index == month_index && strcmp (h->caps [i].rule, rule) == 0)
            return &h->caps [i];
    if (h->cap_count == h->cap_max) {
        assert (h->cap_max < TOUCHES_MAX);
        size_t max = h->cap_max ? 2 * h->cap_max : 4;
        s_cap *bigger = ts_arena_alloc (ctx->arena, max * sizeof *bigger);
        if (h->cap_count)
            memcpy (bigger, h->caps, h->cap_count * sizeof *bigger);
        h->caps = bigger;
        h->cap_max = max;
    }
    s_cap *c = &h->caps [h->cap_count++];
    c->month_index = month_index;
    c->rule = ts_arena_strdup (ctx->arena, rule);
    ledger_tables *t = ledger_tables_of (ctx);
    ts_key k;
    s_cap_key (&k, h->subject->id, month_index, rule);
    c->before_points = (int64_t) ts_txn_get_u64 (ctx->txn, t->subjects, k.data, k.size, 0);
    c->points = c->before_points;
    return c;
}

int64_t
ledger_cache_cap_used (ts_ctx *ctx, ledger_cache *cache, const ledger_subject *subject,
                       int month_index, const char *rule)
{
    return s_cap_of (ctx, s_held (cache, subject), month_index, rule)->points;
}

void
ledger_cache_cap_set (ts_ctx *ctx, ledger_cache *cache, const ledger_subject *subject,
                      int month_index, const char *rule, int64_t used_points)
{
    assert (used_points >= 0);
    ledger_held *h = s_held (cache, subject);
    s_cap_of (ctx, h, month_index, rule)->points = used_points;
    h->dirty = true;
}

//  --------------------------------------------------------------------
//  Entry sequence numbers: the entries table is append-only, so the next
//  one follows its last key (read once per request).

static void
s_seq_load (ts_ctx *ctx, ledger_cache *cache)
{
    if (cache->seq_loaded)
        return;
    ledger_tables *t = ledger_tables_of (ctx);
    ts_cursor cur;
    cache->last_seq = 0;
    if (ts_cursor_open (&cur, ctx->txn, t->entries) && ts_cursor_seek_last (&cur, NULL, 0)) {
        if (cur.key.size == 8)
            cache->last_seq = ts_be64_get (cur.key.data);
        else
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
    }
    ts_cursor_close (&cur);
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
//  Flush: write every held subject's changes, then the sums.

static void
s_flush_held (ts_ctx *ctx, ledger_held *h)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ledger_subject *s = h->subject;
    for (size_t i = 0; i < h->cap_count; i++) {
        const s_cap *c = &h->caps [i];
        if (c->points == c->before_points)
            continue;
        ts_key k;
        s_cap_key (&k, s->id, c->month_index, c->rule);
        ts_txn_put_u64 (ctx->txn, t->subjects, k.data, k.size, (uint64_t) c->points);
    }
    //  The record keeps the latest month; earlier ones go to keys.
    uint32_t latest = h->loaded_month;
    for (size_t i = 0; i < h->month_count; i++)
        if ((uint32_t) h->months [i].month_index > latest)
            latest = (uint32_t) h->months [i].month_index;
    bool loaded_touched = false;
    s->current_month = latest;
    s->current_month_points = latest == h->loaded_month ? h->loaded_month_points : 0;
    for (size_t i = 0; i < h->month_count; i++) {
        const s_month *m = &h->months [i];
        uint32_t month = (uint32_t) m->month_index;
        assert (month <= latest);
        if (month == h->loaded_month)
            loaded_touched = true;
        if (month == latest) {
            assert (!m->had_key);
            s->current_month_points = m->points;
        }
        else
        if (month == h->loaded_month || m->points != m->before_points)
            ledger_board_month_store (ctx, s->id, m->month_index, m->points, m->had_key);
        if (s->listed)
            ledger_board_row_move (ctx, s, m->month_index, m->before_points, m->points);
    }
    //  The record's month, untouched, became an earlier one: to its key.
    if (latest != h->loaded_month && !loaded_touched && h->loaded_month != 0)
        ledger_board_month_store (ctx, s->id, (int) h->loaded_month, h->loaded_month_points,
                                  false);
    ledger_subject_put (ctx, s);
}

void
ledger_cache_flush (ts_ctx *ctx, ledger_cache *cache)
{
    assert (cache);
    ledger_tables *t = ledger_tables_of (ctx);
    size_t n = 0;
    for (ledger_held *h = cache->held_first; h; h = h->order_next, n++)
        if (h->dirty)
            s_flush_held (ctx, h);
    assert (n == cache->held_count);
    n = 0;
    for (ledger_sum *s = cache->sums_first; s; s = s->order_next, n++) {
        assert (s->table == t->hh_month || s->table == t->bld_month);
        ledger_board_sum_add (ctx, s->table, s->month_index, s->name, s->delta_points);
    }
    assert (n == cache->sum_count);
    //  Forget the working set; the lookups stay valid.
    cache->held = NULL;
    cache->held_first = cache->held_last = NULL;
    cache->held_count = 0;
    cache->sums = NULL;
    cache->sums_first = cache->sums_last = NULL;
    cache->sum_count = 0;
}
