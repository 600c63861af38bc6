/*  =========================================================================
    ledger_board - month aggregates and the boards read from them

    Tables (see the full layout in ledger_core.c): subjects id\0 'r' (the
    record: its latest month's net) and id\0 'm' month (a subject's net
    points of an earlier month), board (listed persons ordered best month first),
    hh_month / bld_month (listed members' month sums per household and
    building), households / buildings (listed member counts).
    =========================================================================
*/
#include "ledger_board.h"
#include "ledger_months.h"
#include "ledger_replies.h"
#include "ts_valid.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#define SIGN_BIT ((uint64_t) 1 << 63)
//  Rows a board walk may pass over unseen (minors, for roles but ops)
//  beyond the rows it shows: a bound, far above a community's pupils.
#define LEDGER_BOARD_HIDDEN_MAX 100000

//  --------------------------------------------------------------------
//  Keys

void
ledger_board_month_key (ts_key *k, const char *id, int month_index)
{
    ledger_subject_key (k, id, LEDGER_TAG_MONTH);
    ts_key_u32 (k, (uint32_t) month_index);
}

//  Best month first: rank = ~(points ^ 2^63) orders points descending.
void
ledger_board_row_key (ts_key *k, int month_index, int64_t points, const char *id)
{
    ts_key_init (k);
    ts_key_u32 (k, (uint32_t) month_index);
    ts_key_u64 (k, ~((uint64_t) points ^ SIGN_BIT));
    ts_key_str (k, id);
}

void
ledger_board_sum_key (ts_key *k, int month_index, const char *name)
{
    ts_key_init (k);
    ts_key_u32 (k, (uint32_t) month_index);
    ts_key_str (k, name);
}

static int64_t
s_board_points (const uint8_t *rank)
{
    return (int64_t) (~ts_be64_get (rank) ^ SIGN_BIT);
}

void
ledger_board_sum_add (ts_ctx *ctx, ts_table table, int month_index, const char *name,
                      int64_t delta)
{
    if (!name || !*name || delta == 0)
        return;
    ts_key k;
    ledger_board_sum_key (&k, month_index, name);
    if (ts_txn_add_i64 (ctx->txn, table, k.data, k.size, delta) == 0)
        ts_txn_del (ctx->txn, table, k.data, k.size);
}

void
ledger_board_count_add (ts_ctx *ctx, ts_table table, const char *name, const char *building,
                        int64_t delta, bool strict)
{
    if (!name || !*name)
        return;
    assert (delta == 1 || delta == -1);
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, name);
    ts_val v;
    uint64_t count = 0;
    if (ts_txn_get (ctx->txn, table, k.data, k.size, &v) && v.size >= 8)
        count = ts_be64_get (v.data);
    assert (!strict || delta > 0 || count > 0);
    if (delta < 0 && count == 0)
        return;                     //  not strict: a count kept from before it existed
    count = (uint64_t) ((int64_t) count + delta);
    if (count == 0) {
        ts_txn_del (ctx->txn, table, k.data, k.size);
        return;
    }
    size_t extra = building ? strlen (building) : 0;
    uint8_t value [8 + 64];
    assert (extra <= 64);
    ts_be64_put (value, count);
    if (extra)
        memcpy (value + 8, building, extra);
    ts_txn_put (ctx->txn, table, k.data, k.size, value, 8 + extra);
}

//  --------------------------------------------------------------------
//  Maintenance as entries arrive

bool
ledger_board_month_load (ts_ctx *ctx, const char *subject_id, int month_index,
                         int64_t *points)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_key k;
    ledger_board_month_key (&k, subject_id, month_index);
    ts_val v;
    *points = 0;
    if (!ts_txn_get (ctx->txn, t->subjects, k.data, k.size, &v))
        return false;
    if (v.size != 8) {
        ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
        return false;
    }
    *points = (int64_t) ts_be64_get (v.data);
    return true;
}

int64_t
ledger_board_month_points (ts_ctx *ctx, const ledger_subject *subject, int month_index)
{
    assert (subject && month_index >= 0);
    if ((uint32_t) month_index == subject->current_month)
        return subject->current_month_points;
    //  Keys hold only months before the record's (see ledger_cache.c).
    int64_t points = 0;
    if ((uint32_t) month_index < subject->current_month)
        ledger_board_month_load (ctx, subject->id, month_index, &points);
    return points;
}

//  Move one month of subject in (sign +1) or out (sign -1) of the board
//  and the household/building sums.
static void
s_board_month_move (ts_ctx *ctx, const ledger_subject *subject, int sign, int month_index,
                    int64_t points)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ts_key b;
    ledger_board_row_key (&b, month_index, points, subject->id);
    if (sign > 0)
        ts_txn_put (ctx->txn, t->board, b.data, b.size, "", 0);
    else
        ts_txn_del (ctx->txn, t->board, b.data, b.size);
    ledger_board_sum_add (ctx, t->hh_month, month_index, subject->household_id, sign * points);
    ledger_board_sum_add (ctx, t->bld_month, month_index, subject->building_number,
                          sign * points);
}

//  Every month of subject: its record's, then its earlier months' keys.
static void
s_board_move (ts_ctx *ctx, const ledger_subject *subject, int sign)
{
    ledger_tables *t = ledger_tables_of (ctx);
    assert (subject->id [0] == 'p');
    if (subject->current_month && subject->current_month_points != 0)
        s_board_month_move (ctx, subject, sign, (int) subject->current_month,
                            subject->current_month_points);
    ts_key prefix;
    ledger_subject_key (&prefix, subject->id, LEDGER_TAG_MONTH);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->subjects)
             && ts_cursor_seek (&cur, prefix.data, prefix.size);
    for (int n = 0; more && n < LEDGER_MONTHS_MAX; n++) {
        if (!ts_cursor_has_prefix (&cur, prefix.data, prefix.size)
        ||  cur.key.size != prefix.size + 4 || cur.value.size != 8)
            break;
        int month_index = (int) ts_be32_get ((const uint8_t *) cur.key.data + prefix.size);
        int64_t points = (int64_t) ts_be64_get (cur.value.data);
        assert ((uint32_t) month_index < subject->current_month && points != 0);
        s_board_month_move (ctx, subject, sign, month_index, points);
        more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    ledger_board_count_add (ctx, t->households, subject->household_id,
                            subject->building_number, sign, true);
    ledger_board_count_add (ctx, t->buildings, subject->building_number, NULL, sign, true);
}

void
ledger_board_detach (ts_ctx *ctx, const ledger_subject *subject)
{
    s_board_move (ctx, subject, -1);
}

void
ledger_board_attach (ts_ctx *ctx, const ledger_subject *subject)
{
    s_board_move (ctx, subject, +1);
}

//  --------------------------------------------------------------------
//  Masking

char *
ledger_mask_name (ts_arena *arena, const char *name)
{
    long chars = name ? ts_utf8_chars (name) : 0;
    if (chars <= 0)
        return ts_arena_strdup (arena, chars == 0 ? "" : "*");
    //  Byte offsets of the end of the first and the start of the last
    //  character.
    size_t len = strlen (name);
    size_t first_end = 1;
    while (first_end < len && ((unsigned char) name [first_end] & 0xc0) == 0x80)
        first_end++;
    size_t last_start = len - 1;
    while (last_start > 0 && ((unsigned char) name [last_start] & 0xc0) == 0x80)
        last_start--;
    if (chars == 1)
        return ts_arena_strdup (arena, "*");
    size_t stars = chars == 2 ? 1 : (size_t) chars - 2;
    size_t tail = chars == 2 ? 0 : len - last_start;
    char *out = ts_arena_alloc (arena, first_end + stars + tail + 1);
    memcpy (out, name, first_end);
    memset (out + first_end, '*', stars);
    memcpy (out + first_end + stars, name + last_start, tail);
    return out;
}

//  --------------------------------------------------------------------
//  Honour board

bool
ledger_board_minor (const ledger_subject *subject, int year)
{
    assert (subject);
    if (subject->birth_year > 0)
        return year - subject->birth_year < LEDGER_ADULT_AGE;
    //  No birth year: a pupil is taken for a minor.
    return subject->pupil_no [0] != 0;
}

//  How a caller sees the board: ops sees every listed person by name;
//  every other role masked names and no minor (SPEC: the board is ops').
typedef struct {
    bool mask;                      //  王*明 instead of 王小明
    int minors_year;                //  leave out minors of this year; 0: show all
} s_view;

//  The row of listed person id, or NULL when it is missing (a corrupt
//  store) or, with *hidden set, when the view leaves it out.
static Tashan__Ledger__BoardRow *
s_board_row (ts_ctx *ctx, const char *id, int64_t points, const s_view *view, bool *hidden)
{
    *hidden = false;
    ledger_subject *s = ledger_subject_get (ctx, id);
    if (!s)
        return NULL;
    if (view->minors_year && ledger_board_minor (s, view->minors_year)) {
        *hidden = true;
        return NULL;
    }
    Tashan__Ledger__BoardRow *row = ts_arena_alloc (ctx->arena, sizeof *row);
    tashan__ledger__board_row__init (row);
    row->person_id = s->id;
    row->name = view->mask ? ledger_mask_name (ctx->arena, s->name) : s->name;
    row->month_points = points;
    row->index = ledger_index (s);
    return row;
}

unsigned
ledger_board_month_arg (ts_ctx *ctx, const char *month, int *month_index)
{
    if (!month || !*month) {
        *month_index = ts_month_index_of (ctx->now_ms);
        return 0;
    }
    unsigned rc = ts_check_month (ctx, "month", month);
    if (rc)
        return rc;
    *month_index = ts_month_index (month);
    return 0;
}

//  The red list of a month: its first rows while they are positive, at
//  most red_size of them.
static void
s_honor_red (ts_ctx *ctx, const uint8_t month_key [4], uint32_t red_size,
             const s_view *view, Tashan__Ledger__HonorBoard *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    rep->red = ts_arena_alloc (ctx->arena, red_size * sizeof *rep->red);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->board)
             && ts_cursor_seek (&cur, month_key, 4);
    for (uint32_t steps = 0; more && rep->n_red < red_size
                             && steps < red_size + LEDGER_BOARD_HIDDEN_MAX; steps++) {
        if (!ts_cursor_has_prefix (&cur, month_key, 4) || cur.key.size < 4 + 8 + 2)
            break;
        int64_t points = s_board_points ((const uint8_t *) cur.key.data + 4);
        if (points <= 0)
            break;
        bool hidden;
        Tashan__Ledger__BoardRow *row = s_board_row (
            ctx, (const char *) cur.key.data + 12, points, view, &hidden);
        if (!row && !hidden)
            break;
        if (row)
            rep->red [rep->n_red++] = row;
        more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
}

//  The board of month_index in view, built from the store.
static unsigned
s_honor_build (ts_ctx *ctx, const Tashan__Ledger__BoardRequest *r, int month_index,
               uint32_t page_size, const s_view *view, Tashan__Ledger__HonorBoard *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    uint32_t red_size = ledger_settings_get (ctx)->red_list_size;
    assert (red_size >= 1 && red_size <= TS_PAGE_MAX);
    rep->month = ts_month_text (ctx->arena, month_index);
    Tashan__Ledger__MonthClose *closed = ledger_month_closed (ctx, month_index);
    rep->published_at = closed ? closed->published_at : "";
    uint8_t month_key [4];
    ts_be32_put (month_key, (uint32_t) month_index);

    //  Red: only on the first page (the token pages the grey list).
    if (!r->page_token [0])
        s_honor_red (ctx, month_key, red_size, view, rep);

    //  Grey: back from the month's last row while negative (most negative
    //  first), paged; the token is the next row's key after the month.
    ts_key start;
    ts_key_init (&start);
    if (r->page_token [0]) {
        uint8_t tok [8 + TS_ID_MAX_CHARS + 1];
        long n = ts_page_token_parse (ctx, r->page_token, tok, sizeof tok);
        if (n < 0)
            return ctx->code;
        if (n < 8 + 2 || tok [n - 1] != 0 || s_board_points (tok) >= 0)
            return ts_page_token_refuse (ctx);
        ts_key_bytes (&start, month_key, 4);
        ts_key_bytes (&start, tok, (size_t) n);
    }
    else
        ts_key_u32 (&start, (uint32_t) month_index + 1);
    rep->grey = ts_arena_alloc (ctx->arena, page_size * sizeof *rep->grey);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->board)
        && ts_cursor_seek_last (&cur, start.data, start.size);
    for (uint32_t steps = 0; more && steps <= page_size + LEDGER_BOARD_HIDDEN_MAX; steps++) {
        if (!ts_cursor_has_prefix (&cur, month_key, 4) || cur.key.size < 4 + 8 + 2)
            break;
        int64_t points = s_board_points ((const uint8_t *) cur.key.data + 4);
        if (points >= 0)
            break;
        if (rep->n_grey == page_size) {
            rep->next_page_token = ts_page_token_make (
                ctx->arena, (const uint8_t *) cur.key.data + 4, cur.key.size - 4);
            break;
        }
        bool hidden;
        Tashan__Ledger__BoardRow *row = s_board_row (
            ctx, (const char *) cur.key.data + 12, points, view, &hidden);
        if (!row && !hidden)
            break;
        if (row)
            rep->grey [rep->n_grey++] = row;
        more = ts_cursor_prev (&cur);
    }
    ts_cursor_close (&cur);
    return TS_OK;
}

//  The key of a board reply kept in ledger_replies: false when the
//  request is not worth keeping (a page token longer than any we make).
bool
ledger_board_reply_key (ts_key *key, char kind, bool full_names, int month_index,
                        uint32_t page_size, const char *page_token)
{
    assert (month_index >= 0);
    if (strlen (page_token) > 2 * (8 + TS_ID_MAX_CHARS + 1))
        return false;
    ts_key_init (key);
    ts_key_bytes (key, &kind, 1);
    ts_key_bytes (key, full_names ? "f" : "m", 1);
    ts_key_u32 (key, (uint32_t) month_index);
    ts_key_u32 (key, page_size);
    ts_key_str (key, page_token);
    return true;
}

//  The board as the caller may see it: ops every listed person by name,
//  the panel (and system) masked names and no minors. Served from
//  ledger_replies while the store is the one it was built from.
unsigned
ledger_board_honor (ts_ctx *ctx, const Tashan__Ledger__BoardRequest *r,
                    Tashan__Ledger__HonorBoard *rep)
{
    unsigned rc;
    int month_index;
    uint32_t page_size;
    if ((rc = ledger_board_month_arg (ctx, r->month, &month_index))
    ||  (rc = ts_page_size (ctx, r->page_size, &page_size)))
        return rc;
    bool ops = strcmp (ctx->caller->role, "ops") == 0;
    s_view view = { .mask = !ops, .minors_year = ops ? 0 : month_index / 12 };
    ledger_replies *replies = ledger_replies_of (ctx);
    uint64_t snapshot = ledger_replies_snapshot (ctx);
    ts_key key;
    bool keep = ledger_board_reply_key (&key, 'h', ops, month_index, page_size, r->page_token);
    if (keep && ledger_replies_serve (replies, &key, snapshot, ctx))
        return TS_OK;
    rc = s_honor_build (ctx, r, month_index, page_size, &view, rep);
    if (keep && rc < 400 && ts_txn_error (ctx->txn) == 0)
        ledger_replies_keep (replies, &key, snapshot, &rep->base, ctx);
    return rc;
}
