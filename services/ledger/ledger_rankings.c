/*  ledger_rankings - households and buildings ranked. See ledger_rankings.h.

    Tables (layout in ledger_core.c): known_households, known_buildings
    (the community), hh_month / bld_month (listed members' month sums,
    plus what sum_log holds: ledger_sums.h),
    households / buildings (listed member counts), frozen (published
    rankings of closed months: u32 month, u8 kind, u32 rank -> RankingRow).
*/
#include "ledger_rankings.h"
#include "ledger_board.h"
#include "ledger_months.h"
#include "ledger_replies.h"
#include "ledger_sums.h"
#include "ts_log.h"
#include "ts_valid.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define KIND_HOUSEHOLDS 'h'
#define KIND_BUILDINGS 'b'
#define ROWS_FIRST_CAP 1024
#define LAYOUT_MARK "layout"            //  config key: the layout is mirrored

//  What one ranking reads.
typedef struct {
    ts_table known;                 //  every household / building
    ts_table sums;                  //  hh_month / bld_month
    ts_table members;               //  households / buildings (listed counts)
    bool households;
    char kind;                      //  KIND_*: its rows in the frozen table
} s_ranked;

static s_ranked
s_ranked_of (ts_ctx *ctx, bool households)
{
    ledger_tables *t = ledger_tables_of (ctx);
    if (households)
        return (s_ranked) { t->known_households, t->hh_month, t->households, true,
                            KIND_HOUSEHOLDS };
    return (s_ranked) { t->known_buildings, t->bld_month, t->buildings, false,
                        KIND_BUILDINGS };
}

//  --------------------------------------------------------------------
//  The community's layout, from residents' events

void
ledger_rankings_person (ts_ctx *ctx, const ledger_subject *subject,
                        const Tashan__Events__Person *p)
{
    ledger_tables *t = ledger_tables_of (ctx);
    bool was_here = subject && !subject->archived && subject->household_id [0];
    bool is_here = !p->archived && p->household_id [0];
    bool same = was_here && is_here && strcmp (subject->household_id, p->household_id) == 0;
    //  Not strict: a store older than these tables may not count them yet.
    if (was_here && !same)
        ledger_board_count_add (ctx, t->known_households, subject->household_id,
                                subject->building_number, -1, false);
    if (is_here && !same)
        ledger_board_count_add (ctx, t->known_households, p->household_id,
                                p->building_number, +1, false);
    if (is_here && p->building_number [0]) {
        ts_key k;
        ts_key_init (&k);
        ts_key_str (&k, p->building_number);
        ts_txn_put (ctx->txn, t->known_buildings, k.data, k.size, "", 0);
    }
}

unsigned
ledger_rankings_apply_building (ts_ctx *ctx, const Tashan__Events__Building *b,
                                const Tashan__Event *event)
{
    (void) event;
    ledger_tables *t = ledger_tables_of (ctx);
    long chars = ts_utf8_chars (b->number);
    if (chars <= 0 || strlen (b->number) > TS_ID_MAX_CHARS)
        return ts_fail (ctx, TS_BAD_REQUEST, "building %.64s has no usable number",
                        b->building_id);
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, b->number);
    if (b->archived)
        ts_txn_del (ctx->txn, t->known_buildings, k.data, k.size);
    else
        ts_txn_put (ctx->txn, t->known_buildings, k.data, k.size, "", 0);
    return TS_OK;
}

//  A store made before the ledger mirrored the layout: count the current
//  residents of its persons once (config "layout" marks it done). The
//  walk visits each person's record only, skipping its cluster of keys.
void
ledger_rankings_open (ts_ctx *ctx)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_val v;
    if (ts_txn_get (ctx->txn, t->config, LAYOUT_MARK, strlen (LAYOUT_MARK), &v))
        return;
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->subjects) && ts_cursor_seek (&cur, "p", 1);
    size_t persons = 0;
    for (size_t n = 0; more && n < LEDGER_SUBJECTS_MAX; n++) {
        size_t id_len = strnlen (cur.key.data, cur.key.size);
        if (id_len == 0 || id_len > TS_ID_MAX_CHARS || id_len == cur.key.size
        ||  ((const char *) cur.key.data) [0] != 'p')
            break;
        char *id = ts_arena_strndup (ctx->arena, cur.key.data, id_len);
        ledger_subject *s = ledger_subject_get (ctx, id);
        if (s && !s->archived && s->household_id [0]) {
            Tashan__Events__Person p = TASHAN__EVENTS__PERSON__INIT;
            p.household_id = s->household_id;
            p.building_number = s->building_number;
            ledger_rankings_person (ctx, NULL, &p);
            persons++;
        }
        ts_key next;                //  id\x01: past every key of id's cluster
        ts_key_init (&next);
        ts_key_bytes (&next, id, id_len);
        ts_key_bytes (&next, "\x01", 1);
        more = ts_cursor_seek (&cur, next.data, next.size);
    }
    ts_cursor_close (&cur);
    ts_txn_put (ctx->txn, t->config, LAYOUT_MARK, strlen (LAYOUT_MARK), "1", 1);
    if (persons)
        ts_log_info ("layout_counted", "persons=%zu", persons);
}

//  --------------------------------------------------------------------
//  Ranking a month

//  Compare ids in natural order: digit runs by their number ("2" < "10").
static int
s_natural_cmp (const char *a, const char *b)
{
    for (size_t guard = 0; *a && *b && guard < 4 * TS_ID_MAX_CHARS; guard++) {
        bool da = *a >= '0' && *a <= '9', db = *b >= '0' && *b <= '9';
        if (da && db) {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t na = strspn (a, "0123456789"), nb = strspn (b, "0123456789");
            if (na != nb)
                return na < nb ? -1 : 1;
            int c = strncmp (a, b, na);
            if (c)
                return c;
            a += na;
            b += nb;
            continue;
        }
        if (*a != *b)
            return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
        a++;
        b++;
    }
    return (unsigned char) *a - (unsigned char) *b;
}

static int
s_row_cmp (const void *left, const void *right)
{
    const Tashan__Ledger__RankingRow *x = *(Tashan__Ledger__RankingRow *const *) left;
    const Tashan__Ledger__RankingRow *y = *(Tashan__Ledger__RankingRow *const *) right;
    if (x->average_points != y->average_points)
        return x->average_points > y->average_points ? -1 : 1;
    if (x->month_points != y->month_points)
        return x->month_points > y->month_points ? -1 : 1;
    int c = s_natural_cmp (x->id, y->id);
    return c ? c : strcmp (x->id, y->id);
}

//  The row of one household or building (name): its month sum and listed
//  members; building is the household's building ("" for a building).
static Tashan__Ledger__RankingRow *
s_row (ts_ctx *ctx, const s_ranked *r, int month_index, const char *name,
       const char *building, size_t building_len, const ledger_sums_pending *pending)
{
    Tashan__Ledger__RankingRow *row = ts_arena_alloc (ctx->arena, sizeof *row);
    tashan__ledger__ranking_row__init (row);
    row->id = ts_arena_strdup (ctx->arena, name);
    row->building_number = r->households
        ? ts_arena_strndup (ctx->arena, building, building_len) : row->id;
    ts_key k;
    ledger_board_sum_key (&k, month_index, name);
    ts_val v;
    if (ts_txn_get (ctx->txn, r->sums, k.data, k.size, &v) && v.size == 8)
        row->month_points = (int64_t) ts_be64_get (v.data);
    row->month_points += ledger_sums_pending_points (pending, name);
    ts_key_init (&k);
    ts_key_str (&k, name);
    if (ts_txn_get (ctx->txn, r->members, k.data, k.size, &v) && v.size >= 8)
        row->members = (uint32_t) ts_be64_get (v.data);
    row->average_points = row->members
        ? (double) row->month_points / (double) row->members : 0.0;
    return row;
}

//  Every household (or building) of the community, ranked: rank and
//  honoured set. *row_count rows, at most LEDGER_RANKING_ROWS_MAX.
static Tashan__Ledger__RankingRow **
s_rows (ts_ctx *ctx, const s_ranked *r, int month_index, size_t *row_count)
{
    size_t cap = ROWS_FIRST_CAP, n = 0;
    Tashan__Ledger__RankingRow **rows = ts_arena_alloc (ctx->arena, cap * sizeof *rows);
    //  The stored sums plus the deltas the tick has not folded yet.
    const ledger_sums_pending *pending = ledger_sums_pending_of (ctx, r->sums, month_index);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, r->known) && ts_cursor_seek (&cur, NULL, 0);
    for (; more && n < LEDGER_RANKING_ROWS_MAX; more = ts_cursor_next (&cur)) {
        const char *name = cur.key.data;
        if (cur.key.size < 2 || name [cur.key.size - 1] != 0)
            continue;               //  not a name\0 key: not ours
        const char *building = "";
        size_t building_len = 0;
        if (r->households && cur.value.size >= 8) {
            building = (const char *) cur.value.data + 8;
            building_len = cur.value.size - 8;
        }
        if (n == cap) {
            Tashan__Ledger__RankingRow **bigger = ts_arena_alloc (ctx->arena,
                                                                  2 * cap * sizeof *rows);
            memcpy (bigger, rows, cap * sizeof *rows);
            rows = bigger;
            cap *= 2;
        }
        rows [n++] = s_row (ctx, r, month_index, name, building, building_len, pending);
    }
    ts_cursor_close (&cur);
    qsort (rows, n, sizeof *rows, s_row_cmp);
    uint32_t honoured_max = ledger_settings_get (ctx)->red_list_size;
    for (size_t i = 0; i < n; i++) {
        rows [i]->rank = (uint32_t) i + 1;
        rows [i]->honoured = i < honoured_max && rows [i]->month_points > 0
                          && rows [i]->average_points > 0;
        assert (!rows [i]->honoured || rows [i]->month_points > 0);
    }
    *row_count = n;
    return rows;
}

//  --------------------------------------------------------------------
//  Closed months: the rankings as published

static void
s_frozen_key (ts_key *k, int month_index, char kind, uint32_t rank)
{
    ts_key_init (k);
    ts_key_u32 (k, (uint32_t) month_index);
    ts_key_bytes (k, &kind, 1);
    ts_key_u32 (k, rank);
}

void
ledger_rankings_freeze (ts_ctx *ctx, int month_index)
{
    ledger_tables *t = ledger_tables_of (ctx);
    for (int households = 0; households < 2; households++) {
        s_ranked r = s_ranked_of (ctx, households);
        size_t n;
        Tashan__Ledger__RankingRow **rows = s_rows (ctx, &r, month_index, &n);
        for (size_t i = 0; i < n; i++) {
            ts_key k;
            s_frozen_key (&k, month_index, r.kind, rows [i]->rank);
            ts_txn_put_msg (ctx->txn, t->frozen, k.data, k.size, &rows [i]->base);
        }
    }
}

//  A page of a frozen ranking from offset; false when the month has none
//  (closed before rankings were frozen: it is ranked as it stands).
static bool
s_frozen_page (ts_ctx *ctx, const s_ranked *r, int month_index, uint32_t offset,
               uint32_t page_size, Tashan__Ledger__Ranking *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_key prefix, start;
    ts_key_init (&prefix);
    ts_key_u32 (&prefix, (uint32_t) month_index);
    ts_key_bytes (&prefix, &r->kind, 1);
    s_frozen_key (&start, month_index, r->kind, offset + 1);
    ts_cursor cur;
    bool opened = ts_cursor_open (&cur, ctx->txn, t->frozen);
    if (!opened || !ts_cursor_seek (&cur, prefix.data, prefix.size)
    ||  !ts_cursor_has_prefix (&cur, prefix.data, prefix.size)) {
        ts_cursor_close (&cur);
        return false;
    }
    bool more = ts_cursor_seek (&cur, start.data, start.size);
    bool left = false;
    for (; more && ts_cursor_has_prefix (&cur, prefix.data, prefix.size);
         more = ts_cursor_next (&cur)) {
        if (rep->n_rows == page_size) {
            left = true;
            break;
        }
        Tashan__Ledger__RankingRow *row = ts_cursor_msg (
            &cur, &tashan__ledger__ranking_row__descriptor, ctx->arena);
        if (!row)
            break;                  //  corrupt: the txn failed
        rep->rows [rep->n_rows++] = row;
    }
    ts_cursor_close (&cur);
    rep->next_page_token = ts_page_offset_close (ctx->arena, offset, (uint32_t) rep->n_rows,
                                                 offset + rep->n_rows + (left ? 1 : 0));
    return true;
}

//  --------------------------------------------------------------------
//  Handlers

//  One page of a ranking from the store: the published one of a closed
//  month (*published set: it never changes), else ranked as it stands.
static unsigned
s_ranking_build (ts_ctx *ctx, const s_ranked *r, int month_index, uint32_t offset,
                 uint32_t page_size, Tashan__Ledger__Ranking *rep, bool *published)
{
    *published = false;
    rep->month = ts_month_text (ctx->arena, month_index);
    Tashan__Ledger__MonthClose *closed = ledger_month_closed (ctx, month_index);
    rep->published_at = closed ? closed->published_at : "";
    rep->rows = ts_arena_alloc (ctx->arena, page_size * sizeof *rep->rows);
    if (closed && s_frozen_page (ctx, r, month_index, offset, page_size, rep)) {
        *published = true;
        return ts_txn_error (ctx->txn)
            ? ts_fail (ctx, TS_INTERNAL, "store error reading the published ranking") : TS_OK;
    }
    size_t n;
    Tashan__Ledger__RankingRow **rows = s_rows (ctx, r, month_index, &n);
    for (size_t i = offset; i < n && rep->n_rows < page_size; i++)
        rep->rows [rep->n_rows++] = rows [i];
    rep->next_page_token = ts_page_offset_close (ctx->arena, offset, (uint32_t) rep->n_rows, n);
    return TS_OK;
}

//  A ranking page, served from ledger_replies while the store is the one
//  it was ranked from (a published one for good). Every role sees the
//  same rankings (they name no person).
static unsigned
s_ranking (ts_ctx *ctx, const Tashan__Ledger__BoardRequest *req, Tashan__Ledger__Ranking *rep,
           bool households)
{
    unsigned rc;
    int month_index;
    uint32_t page_size, offset;
    //  The list is ranked afresh each time: the token is an offset into it.
    if ((rc = ledger_board_month_arg (ctx, req->month, &month_index))
    ||  (rc = ts_page_offset_open (ctx, req->page_token, req->page_size, &offset, &page_size)))
        return rc;
    s_ranked r = s_ranked_of (ctx, households);
    ledger_replies *replies = ledger_replies_of (ctx);
    uint64_t snapshot = ledger_replies_snapshot (ctx);
    ts_key key;
    bool keep = ledger_board_reply_key (&key, r.kind == KIND_HOUSEHOLDS ? 'H' : 'B', false,
                                        month_index, page_size, req->page_token);
    if (keep && ledger_replies_serve (replies, &key, snapshot, ctx))
        return TS_OK;
    bool published;
    rc = s_ranking_build (ctx, &r, month_index, offset, page_size, rep, &published);
    //  Kept for good only when read from a committed snapshot: inside a
    //  write batch the month may have closed in a commit that never comes.
    if (keep && rc < 400 && ts_txn_error (ctx->txn) == 0 && snapshot != 0)
        ledger_replies_keep (replies, &key, published ? LEDGER_REPLIES_FOREVER : snapshot,
                             &rep->base, ctx);
    return rc;
}

unsigned
ledger_rankings_households (ts_ctx *ctx, const Tashan__Ledger__BoardRequest *r,
                            Tashan__Ledger__Ranking *rep)
{
    return s_ranking (ctx, r, rep, true);
}

unsigned
ledger_rankings_buildings (ts_ctx *ctx, const Tashan__Ledger__BoardRequest *r,
                           Tashan__Ledger__Ranking *rep)
{
    return s_ranking (ctx, r, rep, false);
}
