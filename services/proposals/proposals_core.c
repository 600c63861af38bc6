/*  =========================================================================
    proposals_core - the tables, the proposal record and its timeline,
    callers and settings: what every part of the proposals domain shares.
    The data layout is at the top of proposals_core.h.
    =========================================================================
*/
#include "proposals_core.h"

#include <assert.h>
#include <string.h>

#include "ts_page.h"


#define SETTINGS_KEY "settings"

//  --------------------------------------------------------------------
//  The handle of one of our tables.

ts_table
prop_table (ts_ctx *ctx, const char *name)
{
    assert (ctx && ctx->txn);
    return ts_store_table (ts_txn_store (ctx->txn), name);
}

//  --------------------------------------------------------------------
//  Who is acting, as timelines and movements record it.

char *
prop_by (ts_ctx *ctx)
{
    const Tashan__Caller *c = ctx->caller;
    if (c->binding [0])
        return ts_arena_printf (ctx->arena, "%s:%s", c->role, c->binding);
    if (c->principal [0])
        return ts_arena_printf (ctx->arena, "%s:%s", c->role, c->principal);
    return ts_arena_strdup (ctx->arena, c->role);
}

bool
prop_caller_staff (const ts_ctx *ctx)
{
    return strcmp (ctx->caller->role, "ops") == 0
        || strcmp (ctx->caller->role, "system") == 0;
}

bool
prop_caller_merchant (const ts_ctx *ctx)
{
    return strcmp (ctx->caller->role, "merchant") == 0;
}

//  --------------------------------------------------------------------
//  A merchant token acts for its own merchant only.

unsigned
prop_check_own_merchant (ts_ctx *ctx, const char *merchant_id)
{
    if (prop_caller_staff (ctx))
        return 0;
    if (prop_caller_merchant (ctx) && strcmp (ctx->caller->binding, merchant_id) == 0)
        return 0;
    return ts_fail (ctx, TS_FORBIDDEN, "this token may act only for merchant %s",
                    ctx->caller->binding [0] ? ctx->caller->binding : "(none)");
}

//  --------------------------------------------------------------------
//  The settings, defaults filled in.

Tashan__Proposals__Settings *
prop_settings (ts_ctx *ctx)
{
    Tashan__Proposals__Settings *s = ts_txn_get_msg (ctx->txn, prop_table (ctx, "settings"),
        SETTINGS_KEY, sizeof SETTINGS_KEY, &tashan__proposals__settings__descriptor,
        ctx->arena);
    if (s)
        return s;
    s = ts_arena_alloc (ctx->arena, sizeof *s);
    tashan__proposals__settings__init (s);
    s->support_threshold = PROP_SUPPORT_THRESHOLD_DEFAULT;
    s->support_window_days = PROP_SUPPORT_WINDOW_DAYS_DEFAULT;
    s->report_threshold = PROP_REPORT_THRESHOLD_DEFAULT;
    return s;
}

//  --------------------------------------------------------------------
//  Store new settings (ops).

unsigned
prop_settings_put (ts_ctx *ctx, const Tashan__Proposals__Settings *req,
                   Tashan__Proposals__Settings *rep)
{
    unsigned rc;
    if ((rc = ts_check_range (ctx, "support_threshold", req->support_threshold, 0, 100000))
    ||  (rc = ts_check_range (ctx, "support_window_days", req->support_window_days, 0, 3650))
    ||  (rc = ts_check_range (ctx, "report_threshold", req->report_threshold, 1, 1000)))
        return rc;
    *rep = *req;
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "settings"), SETTINGS_KEY,
                    sizeof SETTINGS_KEY, &rep->base);
    return TS_OK;
}

unsigned
prop_settings_get (ts_ctx *ctx, const Tashan__Proposals__GetSettingsRequest *req,
                   Tashan__Proposals__Settings *rep)
{
    *rep = *prop_settings (ctx);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Proposal records

static void
s_key_no (ts_key *k, uint64_t no)
{
    ts_key_init (k);
    ts_key_u64 (k, no);
}

prop_proposal *
prop_proposal_load (ts_ctx *ctx, uint64_t no)
{
    ts_key k;
    s_key_no (&k, no);
    return ts_txn_get_msg (ctx->txn, prop_table (ctx, "proposals"), k.data, k.size,
                           &tashan__proposals__proposal__descriptor, ctx->arena);
}

unsigned
prop_proposal_find (ts_ctx *ctx, const char *id, uint64_t *no, prop_proposal **out)
{
    unsigned rc = ts_check_id (ctx, "id", id, PROP_KIND_PROPOSAL, "proposal",
                               TS_NOT_FOUND, no);
    if (rc)
        return rc;
    *out = prop_proposal_load (ctx, *no);
    if (!*out)
        return ts_fail (ctx, TS_NOT_FOUND, "no proposal %s", id);
    return 0;
}

unsigned
prop_proposal_step (ts_ctx *ctx, const char *id, const char *step, uint64_t *no,
                    prop_proposal **out)
{
    unsigned rc = prop_proposal_find (ctx, id, no, out);
    if (rc)
        return rc;
    if (!prop_transition_ok ((*out)->state, step))
        return ts_fail (ctx, TS_CONFLICT, "proposal %s is %s: no %s now", id, (*out)->state,
                        step);
    return 0;
}

void
prop_state_key (ts_key *k, const char *state, uint64_t no)
{
    ts_key_init (k);
    ts_key_str (k, state);
    ts_key_u64 (k, no);
}

void
prop_proposal_save (ts_ctx *ctx, uint64_t no, const char *old_state, prop_proposal *p)
{
    assert (p && p->state && p->state [0]);
    assert (p->budget_cents >= 0 && p->awarded_cents >= 0 && p->spent_cents >= 0);
    assert (p->spent_cents <= p->awarded_cents);
    ts_key k;
    s_key_no (&k, no);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "proposals"), k.data, k.size, &p->base);
    if (strcmp (old_state, p->state) == 0)
        return;
    ts_key idx;
    if (old_state [0]) {
        prop_state_key (&idx, old_state, no);
        bool removed = ts_txn_del (ctx->txn, prop_table (ctx, "prop_state"), idx.data, idx.size);
        assert (removed || ts_txn_error (ctx->txn));
    }
    prop_state_key (&idx, p->state, no);
    ts_txn_put (ctx->txn, prop_table (ctx, "prop_state"), idx.data, idx.size, "", 0);
}

//  --------------------------------------------------------------------
//  What a reader sees: a hidden proposal's words are not shown (the
//  moderation queue shows them to ops).

void
prop_public (prop_proposal *p)
{
    if (p->hidden) {
        p->title = "";
        p->detail = "";
    }
}

//  --------------------------------------------------------------------
//  One step of the state machine: the new state, its timeline entry,
//  the record stored, and the reply (as readers see it).

unsigned
prop_proposal_move (ts_ctx *ctx, uint64_t no, prop_proposal *p, const char *state,
                    const char *note, prop_proposal *rep)
{
    assert (p && state && rep);
    const char *old_state = p->state;
    assert (strcmp (old_state, state) != 0 || strcmp (state, "in_progress") == 0);
    p->state = (char *) state;
    unsigned rc = prop_timeline_add (ctx, &p->timeline, &p->n_timeline, state, note);
    if (rc)
        return rc;
    prop_proposal_save (ctx, no, old_state, p);
    *rep = *p;
    prop_public (rep);
    return 0;
}

//  --------------------------------------------------------------------
//  Append one entry to a timeline held in arena memory.

unsigned
prop_timeline_add (ts_ctx *ctx, Tashan__Proposals__TimelineEntry ***list, size_t *n,
                   const char *state, const char *note)
{
    assert (list && n && state);
    if (*n >= PROP_TIMELINE_MAX)
        return ts_fail (ctx, TS_CONFLICT, "the timeline is full (%d entries)",
                        PROP_TIMELINE_MAX);
    Tashan__Proposals__TimelineEntry **grown =
        ts_arena_alloc (ctx->arena, (*n + 1) * sizeof *grown);
    if (*n)
        memcpy (grown, *list, *n * sizeof *grown);
    Tashan__Proposals__TimelineEntry *e = ts_arena_alloc (ctx->arena, sizeof *e);
    tashan__proposals__timeline_entry__init (e);
    e->state = ts_arena_strdup (ctx->arena, state);
    e->at = ts_time_text (ctx->arena, ctx->now_ms);
    e->by = prop_by (ctx);
    e->note = ts_arena_strdup (ctx->arena, note ? note : "");
    grown [*n] = e;
    *list = grown;
    (*n)++;
    return 0;
}

//  --------------------------------------------------------------------
//  One page of records by state: the index state\0,u64 when a state is
//  given, else the main table in number order.

unsigned
prop_page_by_state (ts_ctx *ctx, const char *main_table, const char *index_table,
                    const char *state, uint32_t page_size, const char *page_token,
                    void ***items, size_t *n_items, char **next_token)
{
    //  Tables are read by the caller's load (numbers); this only walks keys.
    (void) main_table;
    ts_key prefix;
    ts_key_init (&prefix);
    bool by_state = state && state [0];
    if (by_state)
        ts_key_str (&prefix, state);
    ts_page pg;
    unsigned rc = ts_page_open (ctx, &pg, prop_table (ctx, by_state ? index_table : main_table),
                                prefix.data, prefix.size, page_token, page_size);
    if (rc)
        return rc;
    *items = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    *n_items = 0;
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t size;
        const uint8_t *rest = ts_page_rest (&pg, &size);
        if (size != 8) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        uint64_t no = ts_be64_get (rest);
        void *item = NULL;
        if (strcmp (main_table, "proposals") == 0)
            item = prop_proposal_load (ctx, no);
        else {
            ts_key k;
            s_key_no (&k, no);
            const ProtobufCMessageDescriptor *desc = strcmp (main_table, "problems") == 0
                ? &tashan__proposals__problem__descriptor
                : &tashan__proposals__survey__descriptor;
            item = ts_txn_get_msg (ctx->txn, prop_table (ctx, main_table), k.data, k.size,
                                   desc, ctx->arena);
        }
        if (!item) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        (*items) [(*n_items)++] = item;
        ts_page_take (&pg);
    }
    *next_token = ts_page_close (&pg, ctx->arena);
    return ts_txn_error (ctx->txn) ? ts_fail (ctx, TS_INTERNAL, "store error") : 0;
}
