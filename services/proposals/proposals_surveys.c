/*  =========================================================================
    proposals_surveys - satisfaction surveys, and the yearly home-visit
    campaign 大走访 (a survey of kind home_visit whose responses grid
    workers record door to door).

    Questions are choice (one of 2..20 options), scale (1..5) or text.
    closes_at may be any instant (one already past makes a closed survey).
    One response per household, one answer per question in order, until
    closes_at. Results are sealed while the survey is open (409: nobody
    steers by watching) and published after: counts per option / scale
    value, the mean of scale questions, satisfaction = the share of scale
    answers >= 4 (percent), and the same per building and per grid (from
    the households residents announced).
    =========================================================================
*/
#include "proposals_core.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "ts_page.h"

static const char *const s_kinds [] = { "choice", "scale", "text", NULL };
static const char *const s_survey_kinds [] = { "survey", "home_visit", NULL };

typedef Tashan__Proposals__Survey prop_survey;

static prop_survey *
s_load (ts_ctx *ctx, uint64_t no)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    return ts_txn_get_msg (ctx->txn, prop_table (ctx, "surveys"), k.data, k.size,
                           &tashan__proposals__survey__descriptor, ctx->arena);
}

static unsigned
s_find (ts_ctx *ctx, const char *id, uint64_t *no, prop_survey **out)
{
    unsigned rc = ts_check_id (ctx, "id", id, PROP_KIND_SURVEY, "survey", TS_NOT_FOUND, no);
    if (rc)
        return rc;
    *out = s_load (ctx, *no);
    if (!*out)
        return ts_fail (ctx, TS_NOT_FOUND, "no survey %s", id);
    return 0;
}

static bool
s_open (ts_ctx *ctx, const prop_survey *s)
{
    int64_t closes_ms = 0;
    bool parsed = ts_time_parse (s->closes_at, &closes_ms);
    assert (parsed);
    return ctx->now_ms < closes_ms;
}

//  The state shown is the clock's, not a stored one.
static void
s_show (ts_ctx *ctx, prop_survey *s)
{
    s->state = s_open (ctx, s) ? "open" : "closed";
}

//  --------------------------------------------------------------------
//  POST /v1/surveys

static unsigned
s_check_question (ts_ctx *ctx, size_t i, const Tashan__Proposals__Question *q)
{
    unsigned rc;
    char *field = ts_arena_printf (ctx->arena, "questions[%zu]", i);
    if ((rc = ts_check_str (ctx, ts_arena_printf (ctx->arena, "%s.text", field), q->text,
                            PROP_TITLE_MAX_CHARS, true))
    ||  (rc = ts_check_enum (ctx, ts_arena_printf (ctx->arena, "%s.kind", field), q->kind,
                             s_kinds)))
        return rc;
    bool choice = strcmp (q->kind, "choice") == 0;
    if (!choice && q->n_options)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s.options: only a choice question has options",
                        field);
    if (!choice)
        return 0;
    if (q->n_options < 2 || q->n_options > PROP_OPTIONS_MAX)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s.options: a choice needs 2 to %d options",
                        field, PROP_OPTIONS_MAX);
    for (size_t j = 0; j < q->n_options; j++) {
        char *name = ts_arena_printf (ctx->arena, "%s.options[%zu]", field, j);
        if ((rc = ts_check_str (ctx, name, q->options [j], TS_NAME_MAX_CHARS, true)))
            return rc;
        for (size_t k = 0; k < j; k++)
            if (strcmp (q->options [j], q->options [k]) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST, "%s repeats '%s'", name, q->options [j]);
    }
    return 0;
}

unsigned
prop_survey_create (ts_ctx *ctx, const Tashan__Proposals__CreateSurveyRequest *req,
                    prop_survey *rep)
{
    unsigned rc;
    int64_t closes_ms;
    if ((rc = ts_check_name (ctx, "title", req->title, PROP_TITLE_MAX_CHARS, true))
    ||  (rc = ts_check_time (ctx, "closes_at", req->closes_at, true, &closes_ms))
    ||  (req->kind [0] && (rc = ts_check_enum (ctx, "kind", req->kind, s_survey_kinds))))
        return rc;
    //  A closes_at already past makes a closed survey (results at once, no
    //  responses): allowed, as the office may file a paper survey's shell.
    if (req->n_questions < 1 || req->n_questions > PROP_QUESTIONS_MAX)
        return ts_fail (ctx, TS_BAD_REQUEST, "questions: 1 to %d questions", PROP_QUESTIONS_MAX);
    for (size_t i = 0; i < req->n_questions; i++)
        if ((rc = s_check_question (ctx, i, req->questions [i])))
            return rc;
    uint64_t no = ts_txn_next_id (ctx->txn, "survey");
    rep->id = ts_id_text (ctx->arena, PROP_KIND_SURVEY, no);
    rep->title = req->title;
    rep->closes_at = ts_time_text (ctx->arena, closes_ms);
    rep->questions = req->questions;
    rep->n_questions = req->n_questions;
    rep->kind = req->kind [0] ? req->kind : "survey";
    rep->created_at = ts_time_text (ctx->arena, ctx->now_ms);
    rep->state = "";
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "surveys"), k.data, k.size, &rep->base);
    s_show (ctx, rep);
    return TS_CREATED;
}

unsigned
prop_survey_get (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req, prop_survey *rep)
{
    uint64_t no;
    prop_survey *s;
    unsigned rc = s_find (ctx, req->id, &no, &s);
    if (rc)
        return rc;
    s_show (ctx, s);
    *rep = *s;
    return TS_OK;
}

unsigned
prop_survey_list (ts_ctx *ctx, const Tashan__Proposals__ListSurveysRequest *req,
                  Tashan__Proposals__ListSurveysReply *rep)
{
    void **items;
    size_t n;
    unsigned rc = prop_page_by_state (ctx, "surveys", "", "", req->page_size, req->page_token,
                                      &items, &n, &rep->next_page_token);
    if (rc)
        return rc;
    rep->surveys = (prop_survey **) items;
    rep->n_surveys = n;
    for (size_t i = 0; i < n; i++)
        s_show (ctx, rep->surveys [i]);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  POST /v1/surveys/{id}/close: the office ends a survey early (the last
//  door of the campaign knocked); its results are published from now.

unsigned
prop_survey_close (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req, prop_survey *rep)
{
    uint64_t no;
    prop_survey *s;
    unsigned rc = s_find (ctx, req->id, &no, &s);
    if (rc)
        return rc;
    if (!s_open (ctx, s))
        return ts_fail (ctx, TS_CONFLICT, "survey %s closed at %s", s->id, s->closes_at);
    s->closes_at = ts_time_text (ctx->arena, ctx->now_ms);
    s->state = "";
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "surveys"), k.data, k.size, &s->base);
    assert (!s_open (ctx, s));
    s_show (ctx, s);
    *rep = *s;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  POST /v1/surveys/{id}/responses

static unsigned
s_check_answer (ts_ctx *ctx, size_t i, const Tashan__Proposals__Question *q,
                const Tashan__Proposals__Answer *a)
{
    char *field = ts_arena_printf (ctx->arena, "answers[%zu]", i);
    unsigned rc;
    if ((rc = ts_check_str (ctx, ts_arena_printf (ctx->arena, "%s.choice", field), a->choice,
                            TS_NAME_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, ts_arena_printf (ctx->arena, "%s.text", field), a->text,
                            TS_STR_MAX_CHARS, false)))
        return rc;
    if (strcmp (q->kind, "choice") == 0) {
        if (a->scale || a->text [0])
            return ts_fail (ctx, TS_BAD_REQUEST, "%s: question %zu takes a choice", field, i + 1);
        for (size_t j = 0; j < q->n_options; j++)
            if (strcmp (a->choice, q->options [j]) == 0)
                return 0;
        return ts_fail (ctx, TS_BAD_REQUEST, "%s.choice: '%s' is not an option of question %zu",
                        field, a->choice, i + 1);
    }
    if (strcmp (q->kind, "scale") == 0) {
        if (a->choice [0] || a->text [0] || a->scale == 0)
            return ts_fail (ctx, TS_BAD_REQUEST, "%s: question %zu takes a scale 1-5", field, i + 1);
        return ts_check_range (ctx, ts_arena_printf (ctx->arena, "%s.scale", field), a->scale, 1, 5);
    }
    if (a->choice [0] || a->scale)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s: question %zu takes a text", field, i + 1);
    return 0;
}

unsigned
prop_survey_respond (ts_ctx *ctx, const Tashan__Proposals__ResponseRequest *req,
                     Tashan__Proposals__SurveyResponse *rep)
{
    uint64_t no;
    prop_survey *s;
    unsigned rc;
    if ((rc = s_find (ctx, req->id, &no, &s))
    ||  (rc = prop_check_household (ctx, "household_id", req->household_id))
    ||  (rc = ts_check_str (ctx, "recorded_by", req->recorded_by, TS_NAME_MAX_CHARS, false)))
        return rc;
    if (req->n_answers != s->n_questions)
        return ts_fail (ctx, TS_BAD_REQUEST, "answers: %zu given, survey %s has %zu questions",
                        req->n_answers, s->id, s->n_questions);
    for (size_t i = 0; i < req->n_answers; i++)
        if ((rc = s_check_answer (ctx, i, s->questions [i], req->answers [i])))
            return rc;
    if (!s_open (ctx, s))
        return ts_fail (ctx, TS_CONFLICT, "survey %s closed at %s", s->id, s->closes_at);
    rep->survey_id = s->id;
    rep->household_id = req->household_id;
    rep->answers = req->answers;
    rep->n_answers = req->n_answers;
    rep->at = ts_time_text (ctx->arena, ctx->now_ms);
    rep->recorded_by = req->recorded_by [0]
        ? ts_arena_printf (ctx->arena, "%s (%s)", req->recorded_by, prop_by (ctx))
        : prop_by (ctx);
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_key_str (&k, req->household_id);
    if (ts_txn_get (ctx->txn, prop_table (ctx, "responses"), k.data, k.size, NULL))
        return ts_fail (ctx, TS_CONFLICT, "household %s already answered survey %s",
                        req->household_id, s->id);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "responses"), k.data, k.size, &rep->base);
    s->responses++;
    s->state = "";
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "surveys"), k.data, k.size, &s->base);
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  Results

//  Scale answers of a group (the whole survey, a building, a grid).
typedef struct {
    const char *key;
    uint32_t responses;
    uint64_t scale_answers;
    uint64_t scale_sum;
    uint64_t satisfied;             //  scale answers >= 4
} s_group;

static double
s_percent (uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double) part / (double) whole : 0.0;
}

//  The group of key in groups (adding it while there is room).
static s_group *
s_group_of (s_group *groups, size_t *n, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp (groups [i].key, key) == 0)
            return &groups [i];
    if (*n >= PROP_GROUPS_MAX)
        return NULL;
    s_group *g = &groups [(*n)++];
    memset (g, 0, sizeof *g);
    g->key = key;
    return g;
}

static void
s_group_add (s_group *g, const Tashan__Proposals__SurveyResponse *r)
{
    if (!g)
        return;
    g->responses++;
    for (size_t i = 0; i < r->n_answers; i++)
        if (r->answers [i]->scale) {
            g->scale_answers++;
            g->scale_sum += r->answers [i]->scale;
            g->satisfied += r->answers [i]->scale >= 4;
        }
}

static Tashan__Proposals__GroupResult **
s_groups_out (ts_ctx *ctx, const s_group *groups, size_t n)
{
    Tashan__Proposals__GroupResult **out = ts_arena_alloc (ctx->arena, (n + 1) * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        Tashan__Proposals__GroupResult *g = ts_arena_alloc (ctx->arena, sizeof *g);
        tashan__proposals__group_result__init (g);
        g->key = (char *) groups [i].key;
        g->responses = groups [i].responses;
        g->satisfaction_percent = s_percent (groups [i].satisfied, groups [i].scale_answers);
        g->mean = groups [i].scale_answers
                ? (double) groups [i].scale_sum / (double) groups [i].scale_answers : 0.0;
        out [i] = g;
    }
    return out;
}

//  Per-question tallies.
typedef struct {
    uint32_t *counts;               //  per option (choice) or value 1..5 (scale)
    size_t n_counts;
    uint64_t sum;
    uint32_t answers;
} s_tally;

//  Everything one results call accumulates.
typedef struct {
    const prop_survey *survey;
    size_t nq;                      //  questions
    s_tally *tallies;               //  one per question
    Tashan__Proposals__QuestionResult **qr;
    s_group all;                    //  the whole survey
    s_group *buildings;             //  PROP_GROUPS_MAX
    size_t n_buildings;
    s_group *grids;                 //  PROP_GROUPS_MAX
    size_t n_grids;
} s_results;

static void
s_results_init (ts_ctx *ctx, const prop_survey *s, s_results *r)
{
    memset (r, 0, sizeof *r);
    r->survey = s;
    r->nq = s->n_questions;
    assert (r->nq >= 1 && r->nq <= PROP_QUESTIONS_MAX);
    r->tallies = ts_arena_alloc (ctx->arena, r->nq * sizeof *r->tallies);
    r->qr = ts_arena_alloc (ctx->arena, r->nq * sizeof *r->qr);
    for (size_t i = 0; i < r->nq; i++) {
        const Tashan__Proposals__Question *q = s->questions [i];
        s_tally *t = &r->tallies [i];
        t->n_counts = strcmp (q->kind, "choice") == 0 ? q->n_options
                    : strcmp (q->kind, "scale") == 0 ? 5 : 0;
        t->counts = ts_arena_alloc (ctx->arena, (t->n_counts + 1) * sizeof (uint32_t));
        r->qr [i] = ts_arena_alloc (ctx->arena, sizeof *r->qr [i]);
        tashan__proposals__question_result__init (r->qr [i]);
        r->qr [i]->text = q->text;
        r->qr [i]->kind = q->kind;
        r->qr [i]->texts = ts_arena_alloc (ctx->arena, PROP_TEXTS_MAX * sizeof (char *));
    }
    r->all.key = "";
    r->buildings = ts_arena_alloc (ctx->arena, PROP_GROUPS_MAX * sizeof *r->buildings);
    r->grids = ts_arena_alloc (ctx->arena, PROP_GROUPS_MAX * sizeof *r->grids);
}

//  Count one response: per question, and in its building and grid.
static void
s_results_add (ts_ctx *ctx, s_results *r, const Tashan__Proposals__SurveyResponse *resp)
{
    assert (resp->n_answers == r->nq);
    s_group_add (&r->all, resp);
    Tashan__Proposals__MirrorHousehold *hh = prop_household (ctx, resp->household_id);
    s_group_add (s_group_of (r->buildings, &r->n_buildings, hh ? hh->building_number : ""), resp);
    s_group_add (s_group_of (r->grids, &r->n_grids, hh ? hh->grid : ""), resp);
    for (size_t i = 0; i < r->nq; i++) {
        const Tashan__Proposals__Question *q = r->survey->questions [i];
        const Tashan__Proposals__Answer *a = resp->answers [i];
        s_tally *t = &r->tallies [i];
        if (strcmp (q->kind, "choice") == 0) {
            for (size_t j = 0; j < q->n_options; j++)
                if (strcmp (a->choice, q->options [j]) == 0)
                    t->counts [j]++;
            t->answers++;
        }
        else
        if (strcmp (q->kind, "scale") == 0 && a->scale >= 1 && a->scale <= 5) {
            t->counts [a->scale - 1]++;
            t->sum += a->scale;
            t->answers++;
        }
        else
        if (a->text [0]) {
            t->answers++;
            if (r->qr [i]->n_texts < PROP_TEXTS_MAX)
                r->qr [i]->texts [r->qr [i]->n_texts++] = a->text;
        }
    }
}

//  The published results: counts (zeros included), means, satisfaction.
static void
s_results_finish (ts_ctx *ctx, s_results *r, Tashan__Proposals__SurveyResults *rep)
{
    for (size_t i = 0; i < r->nq; i++) {
        const Tashan__Proposals__Question *q = r->survey->questions [i];
        const s_tally *t = &r->tallies [i];
        Tashan__Proposals__QuestionResult *qr = r->qr [i];
        qr->answers = t->answers;
        qr->n_counts = t->n_counts;
        qr->counts = ts_arena_alloc (ctx->arena, (t->n_counts + 1) * sizeof *qr->counts);
        for (size_t j = 0; j < t->n_counts; j++) {
            Tashan__Proposals__QuestionResult__CountsEntry *e =
                ts_arena_alloc (ctx->arena, sizeof *e);
            tashan__proposals__question_result__counts_entry__init (e);
            e->key = strcmp (q->kind, "choice") == 0 ? q->options [j]
                   : ts_arena_printf (ctx->arena, "%zu", j + 1);
            e->value = t->counts [j];
            qr->counts [j] = e;
        }
        if (strcmp (q->kind, "scale") == 0)
            qr->mean = t->answers ? (double) t->sum / (double) t->answers : 0.0;
    }
    rep->survey_id = r->survey->id;
    rep->responses = r->all.responses;
    rep->questions = r->qr;
    rep->n_questions = r->nq;
    rep->satisfaction_percent = s_percent (r->all.satisfied, r->all.scale_answers);
    rep->buildings = s_groups_out (ctx, r->buildings, r->n_buildings);
    rep->n_buildings = r->n_buildings;
    rep->grids = s_groups_out (ctx, r->grids, r->n_grids);
    rep->n_grids = r->n_grids;
}

//  --------------------------------------------------------------------
//  GET /v1/surveys/{id}/results: 409 while open, published after.

unsigned
prop_survey_results (ts_ctx *ctx, const Tashan__Proposals__GetRequest *req,
                     Tashan__Proposals__SurveyResults *rep)
{
    uint64_t no;
    prop_survey *s;
    unsigned rc = s_find (ctx, req->id, &no, &s);
    if (rc)
        return rc;
    if (s_open (ctx, s))
        return ts_fail (ctx, TS_CONFLICT, "survey %s is open until %s: results are sealed "
                        "until it closes", s->id, s->closes_at);
    s_results r;
    s_results_init (ctx, s, &r);
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_u64 (&prefix, no);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, prop_table (ctx, "responses"));
    uint32_t seen = 0;
    for (bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
         ok && seen < PROP_RESPONSES_MAX && ts_cursor_has_prefix (&cur, prefix.data, prefix.size);
         ok = ts_cursor_next (&cur), seen++) {
        Tashan__Proposals__SurveyResponse *resp =
            ts_cursor_msg (&cur, &tashan__proposals__survey_response__descriptor, ctx->arena);
        if (!resp || resp->n_answers != r.nq) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        s_results_add (ctx, &r, resp);
    }
    ts_cursor_close (&cur);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error");
    s_results_finish (ctx, &r, rep);
    return TS_OK;
}
