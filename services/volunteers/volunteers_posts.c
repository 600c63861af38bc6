/*  =========================================================================
    volunteers_posts - posts tailored to skills (量身定岗)

    A post names the skill it needs and the circle that staffs it (and
    optionally a grid). GET /v1/volunteers/{id}/posts suggests the posts
    that fit one volunteer, best first, each with its reasons:
        skill held        +100  (required: a post needs its skill)
        same grid          +30  (or a community-wide post: +10)
        member of circle   +20  (else: the circle could take them in)
        available today     +5
    =========================================================================
*/
#include "volunteers_core.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"
#include "ts_valid.h"

typedef Tashan__Volunteers__Post vol_post;

unsigned
vol_post_create (ts_ctx *ctx, const Tashan__Volunteers__CreatePostRequest *req, vol_post *rep)
{
    unsigned rc;
    uint64_t circle_no;
    vol_circle *c;
    if ((rc = ts_check_name (ctx, "title", req->title, TS_NAME_MAX_CHARS, true))
    ||  (rc = ts_check_enum (ctx, "skill", req->skill, vol_skills))
    ||  (rc = ts_check_str (ctx, "detail", req->detail, TS_STR_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "grid", req->grid, TS_NAME_MAX_CHARS, false))
    ||  (rc = vol_ref_circle (ctx, "circle_id", req->circle_id, TS_UNPROCESSABLE,
                              &circle_no, &c)))
        return rc;
    uint64_t no = ts_txn_next_id (ctx->txn, "post");
    vol_post p = TASHAN__VOLUNTEERS__POST__INIT;
    p.id = ts_id_text (ctx->arena, 't', no);
    p.title = req->title;
    p.skill = req->skill;
    p.circle_id = c->id;
    p.detail = req->detail;
    p.grid = req->grid;
    p.created_at = ts_time_text (ctx->arena, ctx->now_ms);
    vol_save (ctx, "posts", no, &p.base);
    *rep = p;
    return TS_CREATED;
}

unsigned
vol_post_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req, vol_post *rep)
{
    uint64_t no;
    unsigned rc = ts_check_id (ctx, "id", req->id, 't', "post", TS_NOT_FOUND, &no);
    if (rc)
        return rc;
    vol_post *p = vol_load (ctx, "posts", no, &tashan__volunteers__post__descriptor);
    if (!p)
        return ts_fail (ctx, TS_NOT_FOUND, "no post %s", req->id);
    *rep = *p;
    return TS_OK;
}

unsigned
vol_post_list (ts_ctx *ctx, const Tashan__Volunteers__ListPostsRequest *req,
               Tashan__Volunteers__ListPostsReply *rep)
{
    unsigned rc;
    if ((req->skill [0] && (rc = ts_check_enum (ctx, "skill", req->skill, vol_skills)))
    ||  (rc = ts_check_str (ctx, "circle_id", req->circle_id, TS_ID_MAX_CHARS, false)))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ts_ctx_table (ctx, "posts"), NULL, 0,
                            req->page_token, req->page_size)))
        return rc;
    rep->posts = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        vol_post *p = ts_page_msg (&pg, &tashan__volunteers__post__descriptor, ctx->arena);
        if (!p)
            break;
        if ((req->skill [0] && strcmp (p->skill, req->skill) != 0)
        ||  (req->circle_id [0] && strcmp (p->circle_id, req->circle_id) != 0))
            continue;
        rep->posts [rep->n_posts++] = p;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

static int
s_suggestion_cmp (const void *a_, const void *b_)
{
    const Tashan__Volunteers__PostSuggestion *a = *(void * const *) a_;
    const Tashan__Volunteers__PostSuggestion *b = *(void * const *) b_;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp (a->post->id, b->post->id);
}

unsigned
vol_post_suggest (ts_ctx *ctx, const Tashan__Volunteers__SuggestPostsRequest *req,
                  Tashan__Volunteers__SuggestPostsReply *rep)
{
    unsigned rc;
    vol_volunteer *v;
    uint32_t limit;
    if ((rc = ts_page_size (ctx, req->page_size, &limit))
    ||  (rc = vol_ref_volunteer (ctx, "person_id", req->person_id, TS_NOT_FOUND, &v)))
        return rc;
    const char *today = vol_weekdays [vol_weekday (ctx->now_ms)];
    bool available = v->n_availability == 0 || vol_has (v->availability, v->n_availability, today);
    size_t cap = 16, n = 0;
    Tashan__Volunteers__PostSuggestion **all = ts_arena_alloc (ctx->arena, cap * sizeof (void *));
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, ts_ctx_table (ctx, "posts"));
    bool ok = ts_cursor_seek (&cur, NULL, 0);
    for (uint32_t scanned = 0; ok && scanned < TS_PAGE_SCAN_MAX; scanned++) {
        vol_post *p = ts_cursor_msg (&cur, &tashan__volunteers__post__descriptor, ctx->arena);
        if (!p)
            break;
        ok = ts_cursor_next (&cur);
        if (!vol_has (v->skills, v->n_skills, p->skill))
            continue;
        Tashan__Volunteers__PostSuggestion *s = ts_arena_alloc (ctx->arena, sizeof *s);
        tashan__volunteers__post_suggestion__init (s);
        s->post = p;
        s->reasons = ts_arena_alloc (ctx->arena, 4 * sizeof (char *));
        s->score = 100;
        s->reasons [s->n_reasons++] = (char *) "has the skill the post needs";
        if (p->grid [0] && strcmp (p->grid, v->grid) == 0) {
            s->score += 30;
            s->reasons [s->n_reasons++] = (char *) "same grid";
        }
        else
        if (!p->grid [0]) {
            s->score += 10;
            s->reasons [s->n_reasons++] = (char *) "community-wide post";
        }
        if (vol_has (v->circles, v->n_circles, p->circle_id)) {
            s->score += 20;
            s->reasons [s->n_reasons++] = (char *) "member of the circle that staffs it";
        }
        if (available) {
            s->score += 5;
            s->reasons [s->n_reasons++] = (char *) "available today";
        }
        if (n == cap) {
            void *more = ts_arena_alloc (ctx->arena, 2 * cap * sizeof (void *));
            memcpy (more, all, n * sizeof (void *));
            all = more;
            cap *= 2;
        }
        all [n++] = s;
    }
    ts_cursor_close (&cur);
    qsort (all, n, sizeof (void *), s_suggestion_cmp);
    rep->suggestions = all;
    rep->n_suggestions = n < limit ? n : limit;
    return TS_OK;
}
