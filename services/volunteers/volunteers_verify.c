/*  =========================================================================
    volunteers_verify - sys.Verify for volunteers: hours. Every counted
    service adds its minutes to the volunteer's and each circle's total
    and to their month (volunteers_hours.c), so
        volunteer total_minutes = Σ minutes <month> 'v' <person>
        circle total_minutes    = Σ minutes <month> 'c' <circle>
    One bounded pass over "minutes", sorted by (kind, id), then each
    record compared.
    =========================================================================
*/
#include "volunteers_core.h"
#include "volunteers_verify.h"
#include "ts_id.h"
#include "ts_verify.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_ROWS_MAX 10000000u

typedef struct {
    char kind;                      //  'v' volunteer, 'c' circle
    char *id;                       //  person id or circle id (arena)
    uint64_t minutes;
} s_row;

static int
s_by_subject (const void *a_, const void *b_)
{
    const s_row *a = a_, *b = b_;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return strcmp (a->id, b->id);
}

//  Every month row, in a malloc'd array (*count of them).
static s_row *
s_collect (ts_ctx *ctx, size_t *count)
{
    size_t size = 256, n = 0;
    s_row *rows = malloc (size * sizeof *rows);
    assert (rows);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, ts_ctx_table (ctx, "minutes"))
             && ts_cursor_seek (&cur, NULL, 0);
    for (; more && n < VERIFY_ROWS_MAX; more = ts_cursor_next (&cur)) {
        if (cur.value.size != 8 || cur.key.size < 7)
            continue;               //  u32 month, kind, at least "x\0"
        if (n == size) {
            size *= 2;
            rows = realloc (rows, size * sizeof *rows);
            assert (rows);
        }
        const uint8_t *key = cur.key.data;
        size_t id_size = cur.key.size - 5;
        rows [n].kind = (char) key [4];
        rows [n].id = ts_arena_alloc (ctx->arena, id_size + 1);
        memcpy (rows [n].id, key + 5, id_size);
        rows [n].id [id_size] = 0;  //  the key's own terminator, or ours
        rows [n].minutes = ts_be64_get (cur.value.data);
        n++;
    }
    ts_cursor_close (&cur);
    *count = n;
    return rows;
}

//  The record's total for one subject; false when it has no record.
static bool
s_recorded (ts_ctx *ctx, char kind, const char *id, uint64_t *minutes)
{
    if (kind == 'v') {
        vol_volunteer *v = vol_volunteer_load (ctx, id);
        *minutes = v ? (uint64_t) v->total_minutes : 0;
        return v != NULL;
    }
    uint64_t no;
    vol_circle *c = ts_id_parse (id, 'q', &no) ? vol_circle_load (ctx, no) : NULL;
    *minutes = c ? (uint64_t) c->total_minutes : 0;
    return c != NULL;
}

void
volunteers_verify (ts_ctx *ctx, ts_verify *v)
{
    size_t n;
    s_row *rows = s_collect (ctx, &n);
    qsort (rows, n, sizeof *rows, s_by_subject);
    ts_verify_checked (v, n);
    for (size_t i = 0; i < n && ts_txn_error (ctx->txn) == 0; ) {
        uint64_t months_minutes = 0, recorded;
        size_t j = i;
        for (; j < n && s_by_subject (&rows [j], &rows [i]) == 0; j++)
            months_minutes += rows [j].minutes;
        const char *what = rows [i].kind == 'v' ? "volunteer" : "circle";
        if (!s_recorded (ctx, rows [i].kind, rows [i].id, &recorded))
            ts_verify_finding (v, "%s %s has minutes by month but no record", what, rows [i].id);
        else
        if (recorded != months_minutes)
            ts_verify_finding (v, "%s %s: record says %" PRIu64 " minutes, its months give %"
                               PRIu64, what, rows [i].id, recorded, months_minutes);
        i = j;
    }
    free (rows);
}
