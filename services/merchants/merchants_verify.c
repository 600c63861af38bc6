/*  =========================================================================
    merchants_verify - sys.Verify for merchants: the counters the market
    stats and a merchant's record show, recomputed from the check-ins
    (merchants_core.c's layout):
        m.checkins <merchant>   = check-ins naming the merchant
        k.checkins <market>     = check-ins at the market
    One bounded pass over "checkins"; numbers sorted, runs counted.
    =========================================================================
*/
#include "merchants_core.h"
#include "merchants_verify.h"
#include "ts_id.h"
#include "ts_verify.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>

#define VERIFY_CHECKINS_MAX 50000000u

typedef struct {
    uint64_t *nos;                  //  one per check-in (malloc'd)
    size_t count;
    size_t size;
} s_list;

static void
s_push (s_list *list, uint64_t no)
{
    if (list->count == list->size) {
        list->size = list->size ? list->size * 2 : 1024;
        list->nos = realloc (list->nos, list->size * sizeof *list->nos);
        assert (list->nos);
    }
    list->nos [list->count++] = no;
}

static int
s_by_no (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

//  Each run of one number against the counter name holds for it.
static void
s_compare (ts_ctx *ctx, ts_verify *v, s_list *list, const char *name, char kind)
{
    if (list->count > 0)
        qsort (list->nos, list->count, sizeof *list->nos, s_by_no);
    for (size_t i = 0; i < list->count; ) {
        size_t j = i;
        while (j < list->count && list->nos [j] == list->nos [i])
            j++;
        uint32_t counted = merchants_count_get (ctx, name, list->nos [i], NULL);
        if (counted != j - i)
            ts_verify_finding (v, "%c%" PRIu64 ": %s says %u check-ins, the check-ins "
                               "give %zu", kind, list->nos [i], name, counted, j - i);
        i = j;
    }
    free (list->nos);
}

void
merchants_verify (ts_ctx *ctx, ts_verify *v)
{
    merchants_state *self = merchants_state_of (ctx);
    s_list merchants = { 0 }, markets = { 0 };
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, self->checkins) && ts_cursor_seek (&cur, NULL, 0);
    for (; more && merchants.count < VERIFY_CHECKINS_MAX; more = ts_cursor_next (&cur)) {
        Tashan__Merchants__Checkin *c = ts_cursor_msg (
            &cur, &tashan__merchants__checkin__descriptor, ctx->arena);
        if (!c)
            break;                  //  sticky TS_STORE_CORRUPT: the run reports it
        uint64_t no;
        if (ts_id_parse (c->merchant_id, 'm', &no))
            s_push (&merchants, no);
        else
            ts_verify_finding (v, "check-in %s names no merchant ('%s')", c->checkin_id,
                               c->merchant_id);
        if (c->market_id [0] && ts_id_parse (c->market_id, 'k', &no))
            s_push (&markets, no);
    }
    ts_cursor_close (&cur);
    ts_verify_checked (v, merchants.count);
    s_compare (ctx, v, &merchants, "m.checkins", 'm');
    s_compare (ctx, v, &markets, "k.checkins", 'k');
}
