/*  merchants_notice - notices to merchants (企业微圈)

    Ops publishes a notice to all merchants or to the co-building units;
    each merchant app remembers the last seq it has read and asks for
    what came after (GET /v1/notices?since=N). Notices are numbered 1, 2,
    3... in publication order (table notices, u32 seq -> Notice). */
#include "merchants_core.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "ts_valid.h"

static const char *const s_audiences [] = { "all", "co_building", NULL };

unsigned
merchants_notice_post (ts_ctx *ctx, const Tashan__Merchants__PostNoticeRequest *req,
                       Tashan__Merchants__Notice *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    const char *audience = req->audience [0] ? req->audience : "all";
    unsigned rc;
    if ((rc = ts_check_name (ctx, "title", req->title, TS_NAME_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "body", req->body, TS_STR_MAX_CHARS, true))
    ||  (rc = ts_check_enum (ctx, "audience", audience, s_audiences)))
        return rc;
    uint64_t seq = ts_txn_next_id (ctx->txn, "notice");
    if (seq > UINT32_MAX)
        return ts_fail (ctx, TS_CONFLICT, "notice numbers are exhausted");
    rep->id = ts_id_text (ctx->arena, 't', seq);
    rep->seq = (uint32_t) seq;
    rep->title = req->title;
    rep->body = req->body;
    rep->audience = (char *) audience;
    rep->created_at_ms = ctx->now_ms;
    uint8_t key [4];
    ts_be32_put (key, rep->seq);
    ts_txn_put_msg (ctx->txn, self->notices, key, sizeof key, &rep->base);
    return TS_CREATED;
}

unsigned
merchants_notice_list (ts_ctx *ctx, const Tashan__Merchants__ListNoticesRequest *req,
                       Tashan__Merchants__ListNoticesReply *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    uint32_t page_size;
    if ((rc = ts_page_size (ctx, req->page_size, &page_size)))
        return rc;
    //  A page token continues a listing; it overrides since.
    uint32_t after = req->since;
    if (req->page_token [0]) {
        uint8_t token [4];
        bool resume;
        if ((rc = ts_page_token_exact (ctx, req->page_token, token, sizeof token, &resume)))
            return rc;
        after = ts_be32_get (token);
    }
    //  Which audiences may this caller read? Staff: all of them; a
    //  merchant: "all", and "co_building" if it is one.
    bool co_building = true;
    if (!merchants_caller_is_staff (ctx)) {
        uint64_t no;
        Tashan__Merchants__Merchant *m = NULL;
        if (ts_id_parse (ctx->caller->binding, 'm', &no))
            m = merchants_load (ctx, no);
        if (!m)
            return ts_fail (ctx, TS_FORBIDDEN, "the token's merchant %s does not exist",
                            ctx->caller->binding);
        co_building = m->co_building;
    }
    rep->notices = ts_arena_alloc (ctx->arena, page_size * sizeof *rep->notices);
    rep->last_seq = after;
    if (after == UINT32_MAX)
        return TS_OK;
    uint8_t start [4];
    ts_be32_put (start, after + 1);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, self->notices);
    bool more = ts_cursor_seek (&cur, start, sizeof start);
    for (size_t scanned = 0; more; scanned++, more = ts_cursor_next (&cur)) {
        if (cur.key.size != 4) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        //  Stop at a full page or at the scan bound; the token resumes
        //  after the last notice examined.
        if (rep->n_notices == page_size || scanned == MERCHANTS_NOTICES_SCAN_MAX) {
            uint8_t last [4];
            ts_be32_put (last, rep->last_seq);
            rep->next_page_token = ts_page_token_make (ctx->arena, last, sizeof last);
            break;
        }
        uint32_t seq = ts_be32_get (cur.key.data);
        assert (seq > rep->last_seq);
        rep->last_seq = seq;
        Tashan__Merchants__Notice *n =
            ts_cursor_msg (&cur, &tashan__merchants__notice__descriptor, ctx->arena);
        if (!n)
            break;                  //  corrupt: the txn failed
        if (strcmp (n->audience, "co_building") == 0 && !co_building)
            continue;
        rep->notices [rep->n_notices++] = n;
    }
    ts_cursor_close (&cur);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing notices");
    return TS_OK;
}
