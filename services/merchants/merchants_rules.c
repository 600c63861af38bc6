/*  =========================================================================
    merchants_rules - the rules that decide a merchant's standing (GetRules,
    SetRules: thresholds, discount tables) and what they give: a
    merchant's standing, a resident's tier and discount.
    =========================================================================
*/
#include "merchants_core.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_valid.h"

#define RULES_KEY "rules"
#define INDEX_LIMIT 1000000         //  |index| thresholds accepted in rules

//  A discount table: at most 16 rows, tiers 1..8 letters or +/-, unique,
//  percent 0..100.
unsigned
merchants_check_discounts (ts_ctx *ctx, const char *field,
                           Tashan__Merchants__TierDiscount **rows, size_t n)
{
    unsigned rc;
    if ((rc = ts_check_count (ctx, field, n, MERCHANTS_TIERS_MAX)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        const char *tier = rows [i]->tier;
        const char *name = ts_arena_printf (ctx->arena, "%s[%zu].tier", field, i);
        if ((rc = ts_check_str (ctx, name, tier, MERCHANTS_TIER_MAX_CHARS, true)))
            return rc;
        for (const char *p = tier; *p; p++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
               || *p == '+' || *p == '-'))
                return ts_fail (ctx, TS_BAD_REQUEST,
                                "%s may hold only letters, '+' and '-'", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp (tier, rows [j]->tier) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST, "%s repeats tier '%s'", name, tier);
        if (rows [i]->discount_percent > 100)
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "%s[%zu].discount_percent must be between 0 and 100", field, i);
    }
    return 0;
}

static Tashan__Merchants__Rules *
s_rules_default (ts_arena *arena)
{
    static const struct { const char *tier; uint32_t percent; } table [] = {
        { "AAA", 15 }, { "AA", 10 }, { "A", 5 }, { "B", 0 }, { "C", 0 }, { "D", 0 },
    };
    const size_t n = sizeof table / sizeof table [0];
    Tashan__Merchants__Rules *r = ts_arena_alloc (arena, sizeof *r);
    tashan__merchants__rules__init (r);
    r->watch_complaints = 2;
    r->suspend_upheld = 3;
    r->watch_below_index = 850;
    r->suspend_below_index = 600;
    r->base_index = 1000;
    r->default_tier = "A";
    r->n_discounts = n;
    r->discounts = ts_arena_alloc (arena, n * sizeof *r->discounts);
    for (size_t i = 0; i < n; i++) {
        Tashan__Merchants__TierDiscount *row = ts_arena_alloc (arena, sizeof *row);
        tashan__merchants__tier_discount__init (row);
        row->tier = (char *) table [i].tier;
        row->discount_percent = table [i].percent;
        r->discounts [i] = row;
    }
    return r;
}

Tashan__Merchants__Rules *
merchants_rules_load (ts_ctx *ctx)
{
    merchants_state *self = merchants_state_of (ctx);
    Tashan__Merchants__Rules *r = ts_txn_get_msg (ctx->txn, self->settings, RULES_KEY,
                                                  sizeof RULES_KEY - 1,
                                                  &tashan__merchants__rules__descriptor,
                                                  ctx->arena);
    return r ? r : s_rules_default (ctx->arena);
}

unsigned
merchants_rules_get (ts_ctx *ctx, const Tashan__Merchants__GetRulesRequest *req,
                     Tashan__Merchants__Rules *rep)
{
    (void) req;
    *rep = *merchants_rules_load (ctx);
    return TS_OK;
}

unsigned
merchants_rules_set (ts_ctx *ctx, const Tashan__Merchants__Rules *req,
                     Tashan__Merchants__Rules *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = ts_check_range (ctx, "watch_complaints", req->watch_complaints, 1, 1000))
    ||  (rc = ts_check_range (ctx, "suspend_upheld", req->suspend_upheld, 1, 1000))
    ||  (rc = ts_check_range (ctx, "watch_below_index", req->watch_below_index,
                              -INDEX_LIMIT, INDEX_LIMIT))
    ||  (rc = ts_check_range (ctx, "suspend_below_index", req->suspend_below_index,
                              -INDEX_LIMIT, req->watch_below_index))
    ||  (rc = ts_check_range (ctx, "base_index", req->base_index, -INDEX_LIMIT, INDEX_LIMIT))
    ||  (rc = ts_check_str (ctx, "default_tier", req->default_tier,
                            MERCHANTS_TIER_MAX_CHARS, true))
    ||  (rc = merchants_check_discounts (ctx, "discounts", req->discounts, req->n_discounts))
    ||  (rc = ts_check_str (ctx, "code_url_prefix", req->code_url_prefix, 200, false)))
        return rc;
    if (req->n_discounts == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "discounts is required (one row per tier)");
    //  The QR payload must stay printable ASCII (no spaces).
    for (const char *p = req->code_url_prefix; *p; p++)
        if (*p <= ' ' || *p > '~')
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "code_url_prefix may hold only printable ASCII without spaces");
    ts_txn_put_msg (ctx->txn, self->settings, RULES_KEY, sizeof RULES_KEY - 1, &req->base);
    *rep = *req;
    return TS_OK;
}

//  The ledger's last Standing for a subject, or NULL.
static Tashan__Events__Standing *
s_standing_of (ts_ctx *ctx, const char *subject_id)
{
    merchants_state *self = merchants_state_of (ctx);
    if (strlen (subject_id) > TS_ID_MAX_CHARS)
        return NULL;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, subject_id);
    return ts_txn_get_msg (ctx->txn, self->standings, k.data, k.size,
                           &tashan__events__standing__descriptor, ctx->arena);
}

const char *
merchants_standing (ts_ctx *ctx, const Tashan__Merchants__Rules *rules,
                    const Tashan__Merchants__Merchant *m, uint64_t id)
{
    assert (rules && m && id > 0);
    Tashan__Events__Standing *ledger = s_standing_of (ctx, m->id);
    int64_t index = ledger ? ledger->index : rules->base_index;
    uint32_t open = merchants_count_get (ctx, "m.open", id, NULL);
    uint32_t upheld = merchants_count_get (ctx, "m.upheld", id, NULL);
    if (m->suspended || upheld >= rules->suspend_upheld
    ||  index < rules->suspend_below_index)
        return "suspended";
    if ((uint64_t) open + upheld >= rules->watch_complaints
    ||  index < rules->watch_below_index)
        return "watch";
    return "good";
}

uint32_t
merchants_discount (const Tashan__Merchants__Rules *rules,
                    const Tashan__Merchants__Merchant *m, const char *tier)
{
    assert (rules && m && tier);
    assert (m->n_discounts <= MERCHANTS_TIERS_MAX);
    for (size_t i = 0; i < m->n_discounts; i++)
        if (strcmp (m->discounts [i]->tier, tier) == 0)
            return m->discounts [i]->discount_percent;
    for (size_t i = 0; i < rules->n_discounts && i < MERCHANTS_TIERS_MAX; i++)
        if (strcmp (rules->discounts [i]->tier, tier) == 0)
            return rules->discounts [i]->discount_percent;
    return 0;
}

const char *
merchants_person_tier (ts_ctx *ctx, const Tashan__Merchants__Rules *rules,
                       const char *person_id)
{
    Tashan__Events__Standing *ledger = s_standing_of (ctx, person_id);
    if (ledger && ledger->tier [0])
        return ledger->tier;
    return rules->default_tier;
}
