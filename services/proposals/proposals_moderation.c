/*  =========================================================================
    proposals_moderation - residents' comments on proposals, reports of
    proposals and comments, and the ops review queue.

    Each person reports an item once. When an item's reports reach the
    threshold (settings.report_threshold, default 3) it is hidden pending
    ops review: readers see it without its words, nothing is deleted.
    Ops review it: restored (visible again, the report count starts over)
    or removed (stays hidden, kept). Every step is appended to the item's
    audit (ModerationItem.reviews) and, for a proposal, to its timeline.
    =========================================================================
*/
#include "proposals_core.h"

#include <assert.h>
#include <string.h>

#include "ts_page.h"

static const char *const s_queue_states [] = { "pending", "restored", "removed", NULL };

typedef Tashan__Proposals__Comment comment_t;
typedef Tashan__Proposals__ModerationItem prop_item;

static void
s_key_no (ts_key *k, uint64_t no)
{
    ts_key_init (k);
    ts_key_u64 (k, no);
}

static comment_t *
s_comment_load (ts_ctx *ctx, uint64_t no)
{
    ts_key k;
    s_key_no (&k, no);
    return ts_txn_get_msg (ctx->txn, prop_table (ctx, "comments"), k.data, k.size,
                           &tashan__proposals__comment__descriptor, ctx->arena);
}

static void
s_comment_save (ts_ctx *ctx, uint64_t no, comment_t *c)
{
    ts_key k;
    s_key_no (&k, no);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "comments"), k.data, k.size, &c->base);
}

static void
s_comment_public (comment_t *c)
{
    if (c->hidden)
        c->text = "";
}

//  --------------------------------------------------------------------
//  POST /v1/proposals/{id}/comments

unsigned
prop_comment (ts_ctx *ctx, const Tashan__Proposals__CommentRequest *req, comment_t *rep)
{
    uint64_t no;
    prop_proposal *p;
    unsigned rc;
    if ((rc = prop_proposal_find (ctx, req->id, &no, &p))
    ||  (rc = prop_check_person (ctx, "person_id", req->person_id))
    ||  (rc = ts_check_str (ctx, "text", req->text, TS_STR_MAX_CHARS, true)))
        return rc;
    uint64_t cno = ts_txn_next_id (ctx->txn, "comment");
    rep->id = ts_id_text (ctx->arena, PROP_KIND_COMMENT, cno);
    rep->proposal_id = p->id;
    rep->person_id = req->person_id;
    rep->text = req->text;
    rep->created_at = ts_time_text (ctx->arena, ctx->now_ms);
    s_comment_save (ctx, cno, rep);
    ts_key k;
    s_key_no (&k, no);
    ts_key_u64 (&k, cno);
    ts_txn_put (ctx->txn, prop_table (ctx, "prop_comms"), k.data, k.size, "", 0);
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  GET /v1/proposals/{id}/comments

unsigned
prop_comments_list (ts_ctx *ctx, const Tashan__Proposals__ListCommentsRequest *req,
                    Tashan__Proposals__ListCommentsReply *rep)
{
    uint64_t no;
    prop_proposal *p;
    unsigned rc = prop_proposal_find (ctx, req->id, &no, &p);
    if (rc)
        return rc;
    ts_key prefix;
    s_key_no (&prefix, no);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, prop_table (ctx, "prop_comms"), prefix.data, prefix.size,
                            req->page_token, req->page_size)))
        return rc;
    rep->comments = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->comments);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t size;
        const uint8_t *rest = ts_page_rest (&pg, &size);
        comment_t *c = size == 8 ? s_comment_load (ctx, ts_be64_get (rest)) : NULL;
        if (!c) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        s_comment_public (c);
        rep->comments [rep->n_comments++] = c;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error");
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Moderation records

static prop_item *
s_item_load (ts_ctx *ctx, const char *item_id)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, item_id);
    return ts_txn_get_msg (ctx->txn, prop_table (ctx, "moderation"), k.data, k.size,
                           &tashan__proposals__moderation_item__descriptor, ctx->arena);
}

static void
s_queue_key (ts_key *k, const char *state, const char *item_id)
{
    ts_key_init (k);
    ts_key_str (k, state);
    ts_key_str (k, item_id);
}

static void
s_item_save (ts_ctx *ctx, const char *old_state, prop_item *it)
{
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, it->item_id);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "moderation"), k.data, k.size, &it->base);
    if (strcmp (old_state, it->state) == 0)
        return;
    if (old_state [0]) {
        s_queue_key (&k, old_state, it->item_id);
        ts_txn_del (ctx->txn, prop_table (ctx, "mod_state"), k.data, k.size);
    }
    if (it->state [0]) {
        s_queue_key (&k, it->state, it->item_id);
        ts_txn_put (ctx->txn, prop_table (ctx, "mod_state"), k.data, k.size, "", 0);
    }
}

//  The reported thing: a proposal or a comment, loaded.
typedef struct {
    uint64_t no;
    prop_proposal *proposal;        //  one of these two
    comment_t *comment;
} s_target;

static unsigned
s_target_find (ts_ctx *ctx, const char *item_id, s_target *t)
{
    memset (t, 0, sizeof *t);
    unsigned rc = ts_check_str (ctx, "item_id", item_id, TS_ID_MAX_CHARS, true);
    if (rc)
        return rc;
    if (ts_id_parse (item_id, PROP_KIND_PROPOSAL, &t->no))
        t->proposal = prop_proposal_load (ctx, t->no);
    else
    if (ts_id_parse (item_id, PROP_KIND_COMMENT, &t->no))
        t->comment = s_comment_load (ctx, t->no);
    if (!t->proposal && !t->comment)
        return ts_fail (ctx, TS_NOT_FOUND, "no proposal or comment %s", item_id);
    return 0;
}

//  Set the target's hidden flag and report count, with a timeline note
//  on a proposal.
static unsigned
s_target_mark (ts_ctx *ctx, s_target *t, const prop_item *it, const char *entry,
               const char *note)
{
    if (t->proposal) {
        t->proposal->hidden = it->hidden;
        t->proposal->reports = it->reports;
        t->proposal->moderation = it->state;
        if (entry) {
            unsigned rc = prop_timeline_add (ctx, &t->proposal->timeline,
                                             &t->proposal->n_timeline, entry, note);
            if (rc)
                return rc;
        }
        prop_proposal_save (ctx, t->no, t->proposal->state, t->proposal);
    }
    else {
        t->comment->hidden = it->hidden;
        t->comment->reports = it->reports;
        t->comment->moderation = it->state;
        s_comment_save (ctx, t->no, t->comment);
    }
    return 0;
}

//  What ops see in the queue: the words too.
static void
s_item_words (const s_target *t, prop_item *it)
{
    it->title = t->proposal ? t->proposal->title : t->comment->text;
}

//  --------------------------------------------------------------------
//  POST /v1/reports

unsigned
prop_report (ts_ctx *ctx, const Tashan__Proposals__ReportRequest *req, prop_item *rep)
{
    s_target t;
    unsigned rc;
    if ((rc = s_target_find (ctx, req->item_id, &t))
    ||  (rc = prop_check_person (ctx, "person_id", req->person_id))
    ||  (rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, true)))
        return rc;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, req->item_id);
    ts_key_str (&k, req->person_id);
    if (!ts_txn_insert (ctx->txn, prop_table (ctx, "reports"), k.data, k.size, "", 0))
        return ts_fail (ctx, TS_CONFLICT, "%s already reported %s", req->person_id, req->item_id);
    prop_item *it = s_item_load (ctx, req->item_id);
    if (!it) {
        it = ts_arena_alloc (ctx->arena, sizeof *it);
        tashan__proposals__moderation_item__init (it);
        it->item_id = req->item_id;
        it->kind = t.proposal ? "proposal" : "comment";
    }
    const char *old_state = it->state;
    it->reports++;
    const char *entry = NULL;
    char *note = NULL;
    uint32_t threshold = prop_settings (ctx)->report_threshold;
    if (!it->hidden && strcmp (it->state, "removed") != 0 && it->reports >= threshold) {
        it->hidden = true;
        it->state = "pending";
        entry = "hidden";
        note = ts_arena_printf (ctx->arena, "%u reports: hidden pending ops review (last: %s)",
                                it->reports, req->reason);
        if ((rc = prop_timeline_add (ctx, &it->reviews, &it->n_reviews, entry, note)))
            return rc;
    }
    if ((rc = s_target_mark (ctx, &t, it, entry, note)))
        return rc;
    s_item_save (ctx, old_state, it);
    s_item_words (&t, it);
    *rep = *it;
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  GET /v1/moderation?state=pending

unsigned
prop_moderation_list (ts_ctx *ctx, const Tashan__Proposals__ListModerationRequest *req,
                      Tashan__Proposals__ListModerationReply *rep)
{
    const char *state = req->state [0] ? req->state : "pending";
    unsigned rc;
    if ((rc = ts_check_enum (ctx, "state", state, s_queue_states)))
        return rc;
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_str (&prefix, state);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, prop_table (ctx, "mod_state"), prefix.data, prefix.size,
                            req->page_token, req->page_size)))
        return rc;
    rep->items = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->items);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t size;
        const uint8_t *rest = ts_page_rest (&pg, &size);
        if (size < 2 || rest [size - 1] != 0) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        const char *item_id = (const char *) rest;
        prop_item *it = s_item_load (ctx, item_id);
        s_target t;
        if (!it || s_target_find (ctx, it->item_id, &t)) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        s_item_words (&t, it);
        rep->items [rep->n_items++] = it;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error");
    return TS_OK;
}

//  --------------------------------------------------------------------
//  POST /v1/moderation/{item_id}/review

unsigned
prop_review (ts_ctx *ctx, const Tashan__Proposals__ReviewRequest *req, prop_item *rep)
{
    s_target t;
    unsigned rc;
    if ((rc = s_target_find (ctx, req->item_id, &t))
    ||  (rc = ts_check_str (ctx, "note", req->note, TS_STR_MAX_CHARS, true)))
        return rc;
    prop_item *it = s_item_load (ctx, req->item_id);
    if (!it || strcmp (it->state, "pending") != 0)
        return ts_fail (ctx, TS_CONFLICT, "%s is not pending review", req->item_id);
    const char *old_state = it->state;
    const char *entry = req->restore ? "restored" : "removed";
    it->state = (char *) entry;
    it->hidden = !req->restore;
    if (req->restore)
        it->reports = 0;
    if ((rc = prop_timeline_add (ctx, &it->reviews, &it->n_reviews, entry, req->note))
    ||  (rc = s_target_mark (ctx, &t, it, entry, req->note)))
        return rc;
    s_item_save (ctx, old_state, it);
    s_item_words (&t, it);
    *rep = *it;
    return TS_OK;
}
