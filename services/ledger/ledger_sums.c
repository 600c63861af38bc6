/*  ledger_sums - month sums through a log. See ledger_sums.h. */
#include "ledger_sums.h"
#include "ledger_board.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MAX_BYTES 2000       //  a record stays in its leaf (no overflow pages)
#define DELTA_HEAD_BYTES 14         //  kind, month, delta, name length
#define NAME_MAX_BYTES 255
#define LOG_RECORDS_MAX (1u << 24)  //  bound of a walk over the log
#define PENDING_BUCKETS 1024        //  power of two
#define MONTH_INDEX_MIN (2000 * 12)         //  ts_month_index: 2000-01 ..
#define MONTH_INDEX_MAX (2100 * 12 + 11)    //  .. 2100-12

//  Household ids and building numbers are ids (the ledger refuses longer
//  ones from residents' events): a delta's name always fits its byte.
_Static_assert (TS_ID_MAX_CHARS <= NAME_MAX_BYTES, "a name's length is one byte");

#define KIND_HOUSEHOLD 'h'
#define KIND_BUILDING 'b'

//  One delta as read from a record (name in the arena).
typedef struct {
    char kind;
    uint32_t month_index;
    int64_t delta_points;
    const char *name;
} s_item;

static char
s_kind (const ledger_tables *t, ts_table table)
{
    assert (table == t->hh_month || table == t->bld_month);
    return table == t->hh_month ? KIND_HOUSEHOLD : KIND_BUILDING;
}

//  The next delta of a record at *at; false at its end, or when it is
//  malformed (then *bad is set).
static bool
s_next (ts_ctx *ctx, const uint8_t **at, const uint8_t *end, s_item *item, bool *bad)
{
    if (*at == end)
        return false;
    const uint8_t *p = *at;
    if (end - p < DELTA_HEAD_BYTES || (p [0] != KIND_HOUSEHOLD && p [0] != KIND_BUILDING)
    ||  p [13] == 0 || end - p - DELTA_HEAD_BYTES < p [13]) {
        *bad = true;
        return false;
    }
    item->kind = (char) p [0];
    item->month_index = ts_be32_get (p + 1);
    item->delta_points = (int64_t) ts_be64_get (p + 5);
    item->name = ts_arena_strndup (ctx->arena, (const char *) p + DELTA_HEAD_BYTES, p [13]);
    *at = p + DELTA_HEAD_BYTES + p [13];
    return true;
}

//  --------------------------------------------------------------------
//  Logging

void
ledger_sums_log (ts_ctx *ctx, const ledger_sum_delta *deltas, size_t count)
{
    ledger_tables *t = ledger_tables_of (ctx);
    if (count == 0)
        return;
    uint64_t id = 1;
    ts_cursor cur;
    if (ts_cursor_open (&cur, ctx->txn, t->sum_log) && ts_cursor_seek_last (&cur, NULL, 0)) {
        if (cur.key.size == 8)
            id = ts_be64_get (cur.key.data) + 1;
        else
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
    }
    ts_cursor_close (&cur);
    uint8_t *buf = ts_arena_alloc (ctx->arena, RECORD_MAX_BYTES);
    size_t used = 0;
    uint8_t key [8];
    for (size_t i = 0; i < count; i++) {
        const ledger_sum_delta *d = &deltas [i];
        if (d->delta_points == 0)
            continue;
        size_t len = strlen (d->name);
        if (len == 0 || len > NAME_MAX_BYTES) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            return;
        }
        if (used + DELTA_HEAD_BYTES + len > RECORD_MAX_BYTES) {
            ts_be64_put (key, id++);
            ts_txn_append (ctx->txn, t->sum_log, key, 8, buf, used);
            used = 0;
        }
        assert (d->month_index > 0);
        uint8_t *p = buf + used;
        p [0] = (uint8_t) s_kind (t, d->table);
        ts_be32_put (p + 1, (uint32_t) d->month_index);
        ts_be64_put (p + 5, (uint64_t) d->delta_points);
        p [13] = (uint8_t) len;
        memcpy (p + DELTA_HEAD_BYTES, d->name, len);
        used += DELTA_HEAD_BYTES + len;
    }
    if (used > 0) {
        ts_be64_put (key, id);
        ts_txn_append (ctx->txn, t->sum_log, key, 8, buf, used);
    }
}

//  --------------------------------------------------------------------
//  Reading: stored sums plus what is logged

typedef struct s_pending_name {
    struct s_pending_name *next;
    uint32_t hash;
    const char *name;
    int64_t points;
} s_pending_name;

struct ledger_sums_pending {
    s_pending_name *buckets [PENDING_BUCKETS];
};

static uint32_t
s_hash (const char *s)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; s [i] && i < NAME_MAX_BYTES; i++)
        h = (h ^ (uint8_t) s [i]) * 16777619u;
    return h;
}

static s_pending_name *
s_find (const ledger_sums_pending *self, const char *name, uint32_t hash)
{
    s_pending_name *p = self->buckets [hash & (PENDING_BUCKETS - 1)];
    for (; p; p = p->next)
        if (p->hash == hash && strcmp (p->name, name) == 0)
            return p;
    return NULL;
}

ledger_sums_pending *
ledger_sums_pending_of (ts_ctx *ctx, ts_table table, int month_index)
{
    ledger_tables *t = ledger_tables_of (ctx);
    char kind = s_kind (t, table);
    ledger_sums_pending *self = ts_arena_alloc (ctx->arena, sizeof *self);
    memset (self, 0, sizeof *self);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->sum_log) && ts_cursor_seek (&cur, NULL, 0);
    bool bad = false;
    for (size_t n = 0; more && n < LOG_RECORDS_MAX && !bad; n++, more = ts_cursor_next (&cur)) {
        const uint8_t *at = cur.value.data, *end = at + cur.value.size;
        s_item item;
        while (s_next (ctx, &at, end, &item, &bad)) {
            if (item.kind != kind || item.month_index != (uint32_t) month_index)
                continue;
            uint32_t hash = s_hash (item.name);
            s_pending_name *p = s_find (self, item.name, hash);
            if (!p) {
                p = ts_arena_alloc (ctx->arena, sizeof *p);
                p->hash = hash;
                p->name = item.name;
                p->points = 0;
                p->next = self->buckets [hash & (PENDING_BUCKETS - 1)];
                self->buckets [hash & (PENDING_BUCKETS - 1)] = p;
            }
            p->points += item.delta_points;
        }
    }
    ts_cursor_close (&cur);
    if (bad)
        ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
    return self;
}

int64_t
ledger_sums_pending_points (const ledger_sums_pending *self, const char *name)
{
    assert (self && name);
    const s_pending_name *p = s_find (self, name, s_hash (name));
    return p ? p->points : 0;
}

//  --------------------------------------------------------------------
//  Folding

static int
s_delta_cmp (const void *a, const void *b)
{
    const ledger_sum_delta *x = a, *y = b;
    if (x->table != y->table)
        return x->table < y->table ? -1 : 1;
    if (x->month_index != y->month_index)
        return x->month_index < y->month_index ? -1 : 1;
    return strcmp (x->name, y->name);
}

//  Add sorted deltas to the stored sums, each key once, through one cursor
//  per table; a sum that comes back to 0 has no key.
static void
s_apply (ts_ctx *ctx, const ledger_sum_delta *deltas, size_t count)
{
    ts_cursor cur = { 0 };
    ts_table table = 0;
    for (size_t i = 0; i < count; ) {
        const ledger_sum_delta *d = &deltas [i];
        int64_t delta = 0;
        size_t j = i;
        for (; j < count && s_delta_cmp (d, &deltas [j]) == 0; j++)
            delta += deltas [j].delta_points;
        i = j;
        if (delta == 0)
            continue;
        if (!cur.txn || d->table != table) {
            if (cur.txn)
                ts_cursor_close (&cur);
            ts_cursor_open (&cur, ctx->txn, d->table);
            table = d->table;
        }
        ts_key k;
        ledger_board_sum_key (&k, d->month_index, d->name);
        int64_t sum = 0;
        bool found = ts_cursor_seek (&cur, k.data, k.size) && cur.key.size == k.size
                  && memcmp (cur.key.data, k.data, k.size) == 0;
        if (found && cur.value.size == 8)
            sum = (int64_t) ts_be64_get (cur.value.data);
        else
        if (found)
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
        sum += delta;
        if (sum != 0) {
            uint8_t value [8];
            ts_be64_put (value, (uint64_t) sum);
            ts_cursor_put (&cur, k.data, k.size, value, 8);
        }
        else
        if (found)
            ts_cursor_del (&cur);
    }
    if (cur.txn)
        ts_cursor_close (&cur);
}

size_t
ledger_sums_fold (ts_ctx *ctx, size_t max_deltas)
{
    ledger_tables *t = ledger_tables_of (ctx);
    assert (max_deltas > 0);
    size_t cap = 256, count = 0, records = 0;
    ledger_sum_delta *deltas = ts_arena_alloc (ctx->arena, cap * sizeof *deltas);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->sum_log) && ts_cursor_seek (&cur, NULL, 0);
    bool bad = false;
    for (; more && records < LOG_RECORDS_MAX && !bad; records++) {
        //  A record holds at most this many deltas: whole records only.
        if (records > 0 && count + RECORD_MAX_BYTES / (DELTA_HEAD_BYTES + 1) > max_deltas)
            break;
        const uint8_t *at = cur.value.data, *end = at + cur.value.size;
        s_item item;
        while (s_next (ctx, &at, end, &item, &bad)) {
            if (count == cap) {
                ledger_sum_delta *bigger = ts_arena_alloc (ctx->arena, 2 * cap * sizeof *deltas);
                memcpy (bigger, deltas, cap * sizeof *deltas);
                deltas = bigger;
                cap *= 2;
            }
            if (item.month_index < MONTH_INDEX_MIN || item.month_index > MONTH_INDEX_MAX) {
                bad = true;
                break;
            }
            deltas [count++] = (ledger_sum_delta) {
                item.kind == KIND_HOUSEHOLD ? t->hh_month : t->bld_month,
                (int) item.month_index, item.name, item.delta_points };
        }
        ts_cursor_del (&cur);
        more = ts_cursor_seek (&cur, NULL, 0);
    }
    ts_cursor_close (&cur);
    if (bad) {
        ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
        return 0;
    }
    qsort (deltas, count, sizeof *deltas, s_delta_cmp);
    s_apply (ctx, deltas, count);
    return records;
}
