/*  =========================================================================
    ledger_rules - the rules and settings handlers: ListRules, PutRule
    (ops change a rule's points, cap and who may apply it), GetSettings,
    PutSettings (tiers and the red list; subjects whose tier moves get a
    standing event). The default rules and settings are seeded at open
    (ledger_core.c).
    =========================================================================
*/
#include "ledger_rules.h"
#include "ts_valid.h"

#include <assert.h>
#include <string.h>

#define LEDGER_RULES_MAX 1000

//  The sources that may apply a rule (rule.roles values).
static const char *const s_sources [] = {
    "panel", "ops", "school", "volunteers", "merchants", "proposals", NULL
};

unsigned
ledger_rules_list (ts_ctx *ctx, const Tashan__Ledger__ListRulesRequest *r,
                   Tashan__Ledger__RuleList *rep)
{
    (void) r;
    ledger_tables *t = ledger_tables_of (ctx);
    rep->rules = ts_arena_alloc (ctx->arena, LEDGER_RULES_MAX * sizeof *rep->rules);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->rules) && ts_cursor_seek (&cur, NULL, 0);
    while (more && rep->n_rules < LEDGER_RULES_MAX) {
        ledger_rule *rule = ts_cursor_msg (&cur, &tashan__ledger__rule__descriptor, ctx->arena);
        if (!rule)
            break;                  //  corrupt: the txn failed
        rep->rules [rep->n_rules++] = rule;
        more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    return TS_OK;
}

static size_t
s_rule_count (ts_ctx *ctx)
{
    ledger_tables *t = ledger_tables_of (ctx);
    size_t n = 0;
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->rules) && ts_cursor_seek (&cur, NULL, 0);
    while (more && n <= LEDGER_RULES_MAX) {
        n++;
        more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    return n;
}

unsigned
ledger_rules_put (ts_ctx *ctx, const Tashan__Ledger__PutRuleRequest *r,
                  Tashan__Ledger__Rule *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    unsigned rc;
    if ((rc = ledger_check_id (ctx, "code", r->code))
    ||  (rc = ts_check_range (ctx, "points", r->points, -LEDGER_POINTS_MAX, LEDGER_POINTS_MAX))
    ||  (rc = ts_check_range (ctx, "monthly_cap_points", r->monthly_cap_points, 0,
                              LEDGER_CAP_MAX_POINTS))
    ||  (rc = ts_check_count (ctx, "roles", r->n_roles, 6))
    ||  (rc = ts_check_str (ctx, "description", r->description, TS_STR_MAX_CHARS, false)))
        return rc;
    if (strcmp (r->code, "redemption") == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "code 'redemption' is reserved");
    if (r->points == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "points must not be 0");
    if (r->n_roles == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "roles is required");
    for (size_t i = 0; i < r->n_roles; i++) {
        if ((rc = ts_check_enum (ctx, "roles", r->roles [i], s_sources)))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp (r->roles [i], r->roles [j]) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST, "roles lists '%s' twice", r->roles [i]);
    }
    if (!ledger_rule_get (ctx, r->code) && s_rule_count (ctx) >= LEDGER_RULES_MAX)
        return ts_fail (ctx, TS_CONFLICT, "there are already %d rules", LEDGER_RULES_MAX);
    rep->code = r->code;
    rep->points = r->points;
    rep->monthly_cap_points = r->monthly_cap_points;
    rep->n_roles = r->n_roles;
    rep->roles = r->roles;
    rep->description = r->description;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, r->code);
    ts_txn_put_msg (ctx->txn, t->rules, k.data, k.size, &rep->base);
    return TS_OK;
}

unsigned
ledger_rules_get_settings (ts_ctx *ctx, const Tashan__Ledger__GetSettingsRequest *r,
                           ledger_settings *rep)
{
    (void) r;
    *rep = *ledger_settings_get (ctx);
    return TS_OK;
}

unsigned
ledger_rules_put_settings (ts_ctx *ctx, const ledger_settings *r, ledger_settings *rep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    unsigned rc;
    if ((rc = ts_check_range (ctx, "red_list_size", r->red_list_size, 1, TS_PAGE_MAX))
    ||  (rc = ts_check_range (ctx, "tiers", (int64_t) r->n_tiers, 2, LEDGER_TIERS_MAX)))
        return rc;
    for (size_t i = 0; i < r->n_tiers; i++) {
        const Tashan__Ledger__Tier *tier = r->tiers [i];
        if ((rc = ledger_check_id (ctx, "tiers.tier", tier->tier))
        ||  (rc = ts_check_range (ctx, "tiers.min_index", tier->min_index, -1000000, 1000000)))
            return rc;
        if (strlen (tier->tier) > 16)
            return ts_fail (ctx, TS_BAD_REQUEST, "tiers.tier must be at most 16 characters");
        for (size_t j = 0; j < i; j++) {
            if (strcmp (tier->tier, r->tiers [j]->tier) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST, "tiers lists '%s' twice", tier->tier);
        }
        if (i > 0 && tier->min_index >= r->tiers [i - 1]->min_index)
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "tiers must be listed from the best down (min_index decreasing)");
    }
    const ledger_settings *old = ledger_settings_get (ctx);
    ts_txn_put_msg (ctx->txn, t->config, "settings", 8, &r->base);

    //  Subjects whose tier moves get a standing event, as for an entry.
    //  The walk jumps from a subject's first key to its record, the last
    //  key of its cluster, then on to the next subject.
    //  Subjects are unpacked into a scratch arena reset as the walk goes,
    //  not the request's: the walk may visit millions of them.
    ts_arena *scratch = ts_arena_new ();
    assert (scratch);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->subjects) && ts_cursor_seek (&cur, NULL, 0);
    for (uint64_t n = 0; more && n < LEDGER_SUBJECTS_MAX; n++) {
        size_t id_len = strnlen (cur.key.data, cur.key.size);
        if (id_len + 2 > cur.key.size || id_len > TS_ID_MAX_CHARS) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        ts_key record;
        ts_key_init (&record);
        ts_key_bytes (&record, cur.key.data, id_len + 1);
        char tag = LEDGER_TAG_RECORD;
        ts_key_bytes (&record, &tag, 1);
        if (!ts_cursor_seek (&cur, record.data, record.size))
            break;
        if (cur.key.size == record.size && memcmp (cur.key.data, record.data, record.size) == 0) {
            ts_arena_reset (scratch);
            ledger_subject *s = ts_cursor_msg (&cur, &tashan__ledger__subject__descriptor, scratch);
            if (!s)
                break;              //  corrupt: the txn failed
            int64_t index = ledger_index (s);
            const char *before = ledger_tier_of (old, index), *after = ledger_tier_of (r, index);
            if (s->entry_count > 0 && strcmp (before, after) != 0)
                ledger_emit_standing (ctx, s, after);
            more = ts_cursor_next (&cur);
        }
        //  else: the cursor already stands past this subject.
    }
    ts_cursor_close (&cur);
    ts_arena_destroy (&scratch);
    *rep = *r;
    return TS_OK;
}
