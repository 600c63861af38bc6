/*  =========================================================================
    proposals_problems - the problem list 问题清单: problems gathered by
    opinion collection 民意征集 (home visits, the hotline, meetings,
    surveys), claimed 认领 by one co-building unit 共建单位 at a time, which
    reports progress to done; the residents' confirmation closes them.

        listed --claim--> claimed --progress(done)--> done --confirm--> closed
        claimed --release--> listed          done --confirm(unsatisfied)--> claimed

    A unit is a merchant flagged co_building (and not suspended) in the
    merchants daemon, known here from its events. A merchant token acts
    for its own unit only.
    =========================================================================
*/
#include "proposals_core.h"

#include <assert.h>
#include <string.h>

static const char *const s_sources [] = { "visit", "hotline", "meeting", "survey", NULL };
static const char *const s_states [] = { "listed", "claimed", "done", "closed", NULL };

typedef Tashan__Proposals__Problem prop_problem;

static prop_problem *
s_load (ts_ctx *ctx, uint64_t no)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    return ts_txn_get_msg (ctx->txn, prop_table (ctx, "problems"), k.data, k.size,
                           &tashan__proposals__problem__descriptor, ctx->arena);
}

static unsigned
s_find (ts_ctx *ctx, const char *id, uint64_t *no, prop_problem **out)
{
    unsigned rc = ts_check_id (ctx, "id", id, PROP_KIND_PROBLEM, "problem", TS_NOT_FOUND, no);
    if (rc)
        return rc;
    *out = s_load (ctx, *no);
    if (!*out)
        return ts_fail (ctx, TS_NOT_FOUND, "no problem %s", id);
    return 0;
}

//  Store the problem; keep the by-state index in step.
static void
s_save (ts_ctx *ctx, uint64_t no, const char *old_state, prop_problem *p)
{
    assert (p->state && p->state [0]);
    assert ((strcmp (p->state, "listed") == 0) == (p->claimer_merchant_id [0] == 0));
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "problems"), k.data, k.size, &p->base);
    if (strcmp (old_state, p->state) == 0)
        return;
    if (old_state [0]) {
        prop_state_key (&k, old_state, no);
        ts_txn_del (ctx->txn, prop_table (ctx, "prob_state"), k.data, k.size);
    }
    prop_state_key (&k, p->state, no);
    ts_txn_put (ctx->txn, prop_table (ctx, "prob_state"), k.data, k.size, "", 0);
}

static unsigned
s_move (ts_ctx *ctx, uint64_t no, prop_problem *p, const char *state, const char *note)
{
    const char *old_state = p->state;
    p->state = (char *) state;
    unsigned rc = prop_timeline_add (ctx, &p->timeline, &p->n_timeline, state, note);
    if (rc)
        return rc;
    s_save (ctx, no, old_state, p);
    return 0;
}

//  Only the claimer (or staff) may speak for a claimed problem.
static unsigned
s_check_claimer (ts_ctx *ctx, const prop_problem *p)
{
    if (prop_caller_staff (ctx))
        return 0;
    if (prop_caller_merchant (ctx) && p->claimer_merchant_id [0]
    &&  strcmp (ctx->caller->binding, p->claimer_merchant_id) == 0)
        return 0;
    return ts_fail (ctx, TS_FORBIDDEN, "only the claiming unit may report on %s", p->id);
}

//  --------------------------------------------------------------------
//  POST /v1/problems

unsigned
prop_problem_create (ts_ctx *ctx, const Tashan__Proposals__CreateProblemRequest *req,
                     prop_problem *rep)
{
    unsigned rc;
    if ((rc = ts_check_name (ctx, "title", req->title, PROP_TITLE_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "place", req->place, PROP_TITLE_MAX_CHARS, true))
    ||  (rc = ts_check_enum (ctx, "source", req->source, s_sources))
    ||  (rc = ts_check_str (ctx, "detail", req->detail, TS_STR_MAX_CHARS, false)))
        return rc;
    uint64_t no = ts_txn_next_id (ctx->txn, "problem");
    rep->id = ts_id_text (ctx->arena, PROP_KIND_PROBLEM, no);
    rep->title = req->title;
    rep->place = req->place;
    rep->source = req->source;
    rep->detail = req->detail;
    rep->state = "listed";
    rep->created_at = ts_time_text (ctx->arena, ctx->now_ms);
    if ((rc = prop_timeline_add (ctx, &rep->timeline, &rep->n_timeline, "listed", req->source)))
        return rc;
    s_save (ctx, no, "", rep);
    return TS_CREATED;
}

unsigned
prop_problem_get (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req, prop_problem *rep)
{
    uint64_t no;
    prop_problem *p;
    unsigned rc = s_find (ctx, req->id, &no, &p);
    if (rc)
        return rc;
    *rep = *p;
    return TS_OK;
}

unsigned
prop_problem_list (ts_ctx *ctx, const Tashan__Proposals__ListProblemsRequest *req,
                   Tashan__Proposals__ListProblemsReply *rep)
{
    unsigned rc;
    if (req->state [0] && (rc = ts_check_enum (ctx, "state", req->state, s_states)))
        return rc;
    void **items;
    size_t n;
    if ((rc = prop_page_by_state (ctx, "problems", "prob_state", req->state, req->page_size,
                                  req->page_token, &items, &n, &rep->next_page_token)))
        return rc;
    rep->problems = (prop_problem **) items;
    rep->n_problems = n;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  POST /v1/problems/{id}/claims

unsigned
prop_problem_claim (ts_ctx *ctx, const Tashan__Proposals__ClaimRequest *req, prop_problem *rep)
{
    uint64_t no, merchant_no;
    prop_problem *p;
    unsigned rc;
    if ((rc = s_find (ctx, req->id, &no, &p))
    ||  (rc = ts_check_id (ctx, "unit_merchant_id", req->unit_merchant_id, 'm', "merchant",
                           TS_UNPROCESSABLE, &merchant_no))
    ||  (rc = prop_check_own_merchant (ctx, req->unit_merchant_id)))
        return rc;
    Tashan__Proposals__MirrorUnit *u = prop_unit (ctx, req->unit_merchant_id);
    if (!u || !u->co_building)
        return ts_fail (ctx, TS_UNPROCESSABLE, "unit_merchant_id: %s is not a co-building unit",
                        req->unit_merchant_id);
    if (u->suspended)
        return ts_fail (ctx, TS_UNPROCESSABLE, "unit_merchant_id: %s is suspended",
                        req->unit_merchant_id);
    if (strcmp (p->state, "listed") != 0)
        return ts_fail (ctx, TS_CONFLICT, "problem %s is %s%s%s", p->id, p->state,
                        p->claimer_merchant_id [0] ? " by " : "", p->claimer_merchant_id);
    p->claimer_merchant_id = req->unit_merchant_id;
    char *note = ts_arena_printf (ctx->arena, "claimed by %s", u->name [0] ? u->name : u->merchant_id);
    if ((rc = s_move (ctx, no, p, "claimed", note)))
        return rc;
    *rep = *p;
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  POST /v1/problems/{id}/progress {note, done?}

unsigned
prop_problem_progress (ts_ctx *ctx, const Tashan__Proposals__ProblemProgressRequest *req,
                       prop_problem *rep)
{
    uint64_t no;
    prop_problem *p;
    unsigned rc;
    if ((rc = s_find (ctx, req->id, &no, &p))
    ||  (rc = ts_check_str (ctx, "note", req->note, TS_STR_MAX_CHARS, true)))
        return rc;
    if (strcmp (p->state, "claimed") != 0)
        return ts_fail (ctx, TS_CONFLICT, "problem %s is %s: progress is reported on a "
                        "claimed problem", p->id, p->state);
    if ((rc = s_check_claimer (ctx, p)))
        return rc;
    if (p->n_progress >= PROP_TIMELINE_MAX)
        return ts_fail (ctx, TS_CONFLICT, "problem %s has %d progress notes, the most kept",
                        p->id, PROP_TIMELINE_MAX);
    Tashan__Proposals__ProblemNote **notes =
        ts_arena_alloc (ctx->arena, (p->n_progress + 1) * sizeof *notes);
    if (p->n_progress)
        memcpy (notes, p->progress, p->n_progress * sizeof *notes);
    Tashan__Proposals__ProblemNote *n = ts_arena_alloc (ctx->arena, sizeof *n);
    tashan__proposals__problem_note__init (n);
    n->at = ts_time_text (ctx->arena, ctx->now_ms);
    n->by = prop_by (ctx);
    n->note = req->note;
    n->done = req->done;
    notes [p->n_progress++] = n;
    p->progress = notes;
    if (req->done)
        rc = s_move (ctx, no, p, "done", req->note);
    else
        s_save (ctx, no, p->state, p);
    if (rc)
        return rc;
    *rep = *p;
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  POST /v1/problems/{id}/release: the claimer gives it back (listed).

unsigned
prop_problem_release (ts_ctx *ctx, const Tashan__Proposals__ReleaseRequest *req,
                      prop_problem *rep)
{
    uint64_t no;
    prop_problem *p;
    unsigned rc;
    if ((rc = s_find (ctx, req->id, &no, &p))
    ||  (rc = ts_check_str (ctx, "note", req->note, TS_STR_MAX_CHARS, false)))
        return rc;
    if (strcmp (p->state, "claimed") != 0)
        return ts_fail (ctx, TS_CONFLICT, "problem %s is %s: only a claimed problem is "
                        "released", p->id, p->state);
    if ((rc = s_check_claimer (ctx, p)))
        return rc;
    char *note = ts_arena_printf (ctx->arena, "released by %s%s%s", p->claimer_merchant_id,
                                  req->note [0] ? ": " : "", req->note);
    p->claimer_merchant_id = "";
    if ((rc = s_move (ctx, no, p, "listed", note)))
        return rc;
    *rep = *p;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  POST /v1/problems/{id}/confirmation: the residents' word on a done
//  problem closes it, or sends it back to the claimer.

unsigned
prop_problem_confirm (ts_ctx *ctx, const Tashan__Proposals__ConfirmRequest *req,
                      prop_problem *rep)
{
    uint64_t no;
    prop_problem *p;
    unsigned rc;
    if ((rc = s_find (ctx, req->id, &no, &p))
    ||  (rc = ts_check_str (ctx, "note", req->note, TS_STR_MAX_CHARS, false))
    ||  (req->household_id [0]
         && (rc = prop_check_household (ctx, "household_id", req->household_id))))
        return rc;
    if (strcmp (p->state, "done") != 0)
        return ts_fail (ctx, TS_CONFLICT, "problem %s is %s: residents confirm a done problem",
                        p->id, p->state);
    char *note = ts_arena_printf (ctx->arena, "%s%s%s%s", req->satisfied ? "confirmed" : "not "
                                  "satisfied", req->household_id [0] ? " by " : "",
                                  req->household_id, "");
    if (req->note [0])
        note = ts_arena_printf (ctx->arena, "%s: %s", note, req->note);
    if ((rc = s_move (ctx, no, p, req->satisfied ? "closed" : "claimed", note)))
        return rc;
    *rep = *p;
    return TS_OK;
}
