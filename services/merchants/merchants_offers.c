/*  merchants_offers - card offers and the redemption saga's merchant side.
    See merchants_offers.h for the saga and the tables. */
#include "merchants_offers.h"

#include <assert.h>
#include <string.h>

#include "merchants_cardcode.h"
#include "merchants_core.h"
#include "ts_valid.h"

#define TITLE_MAX_CHARS 200
#define SCAN_MAX 100000             //  offers looked at by one filtered list

static const char *const s_kinds [] = { "item", "course_seat", NULL };

static void
s_u64_key (uint8_t key [8], uint64_t n)
{
    ts_be64_put (key, n);
}

//  --------------------------------------------------------------------
//  Records

static Tashan__Merchants__Offer *
s_offer_load (ts_ctx *ctx, uint64_t no)
{
    uint8_t k [8];
    s_u64_key (k, no);
    return ts_txn_get_msg (ctx->txn, ts_ctx_table (ctx, "offers"), k, 8,
                           &tashan__merchants__offer__descriptor, ctx->arena);
}

//  Save o with its derived fields (stock_left) consistent.
static void
s_offer_save (ts_ctx *ctx, uint64_t no, Tashan__Merchants__Offer *o)
{
    assert ((uint64_t) o->taken + o->reserved <= o->stock);
    o->stock_left = o->stock - o->taken - o->reserved;
    uint8_t k [8];
    s_u64_key (k, no);
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, "offers"), k, 8, &o->base);
}

static Tashan__Merchants__Redemption *
s_red_load (ts_ctx *ctx, uint64_t no)
{
    uint8_t k [8];
    s_u64_key (k, no);
    return ts_txn_get_msg (ctx->txn, ts_ctx_table (ctx, "redemptions"), k, 8,
                           &tashan__merchants__redemption__descriptor, ctx->arena);
}

static void
s_red_save (ts_ctx *ctx, uint64_t no, const Tashan__Merchants__Redemption *r)
{
    uint8_t k [8];
    s_u64_key (k, no);
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, "redemptions"), k, 8, &r->base);
}

//  ops acts for every merchant; a merchant token for its own only.
static unsigned
s_may_act (ts_ctx *ctx, const char *merchant_id)
{
    if (strcmp (ctx->caller->role, "merchant") == 0
    &&  strcmp (ctx->caller->binding, merchant_id) != 0)
        return ts_fail (ctx, TS_FORBIDDEN, "this token may act only for merchant %s",
                        ctx->caller->binding);
    return 0;
}

//  The offer named by field (kind 'f'), or 404.
static Tashan__Merchants__Offer *
s_offer_ref (ts_ctx *ctx, const char *id, uint64_t *no)
{
    if (ts_check_id (ctx, "id", id, 'f', "offer", TS_NOT_FOUND, no))
        return NULL;
    Tashan__Merchants__Offer *o = s_offer_load (ctx, *no);
    if (!o)
        ts_fail (ctx, TS_NOT_FOUND, "no offer %s", id);
    return o;
}

//  --------------------------------------------------------------------
//  Offers

//  The course fields: required for a seat, absent for an item.
static unsigned
s_check_course (ts_ctx *ctx, const Tashan__Merchants__CreateOfferRequest *req)
{
    unsigned rc;
    bool seat = strcmp (req->kind, "course_seat") == 0;
    if (!seat) {
        if (req->course [0] || req->n_sessions || req->starts_on [0] || req->ends_on [0])
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "course, sessions, starts_on and ends_on go with kind course_seat");
        return 0;
    }
    if ((rc = ts_check_name (ctx, "course", req->course, TITLE_MAX_CHARS, true))
    ||  (rc = ts_check_count (ctx, "sessions", req->n_sessions, MERCHANTS_OFFER_SESSIONS_MAX)))
        return rc;
    for (size_t i = 0; i < req->n_sessions; i++)
        if ((rc = ts_check_str (ctx, "sessions", req->sessions [i], TITLE_MAX_CHARS, true)))
            return rc;
    int64_t starts = 0, ends = 0;
    if ((req->starts_on [0] && (rc = ts_check_day (ctx, "starts_on", req->starts_on, &starts)))
    ||  (req->ends_on [0] && (rc = ts_check_day (ctx, "ends_on", req->ends_on, &ends))))
        return rc;
    if (req->starts_on [0] && req->ends_on [0] && ends < starts)
        return ts_fail (ctx, TS_BAD_REQUEST, "ends_on is before starts_on");
    return 0;
}

unsigned
merchants_offer_create (ts_ctx *ctx, const Tashan__Merchants__CreateOfferRequest *req,
                        Tashan__Merchants__Offer *rep)
{
    unsigned rc;
    uint64_t merchant_no;
    if ((rc = ts_check_id (ctx, "merchant_id", req->merchant_id, 'm', "merchant",
                           TS_UNPROCESSABLE, &merchant_no))
    ||  (rc = s_may_act (ctx, req->merchant_id))
    ||  (rc = ts_check_name (ctx, "title", req->title, TITLE_MAX_CHARS, true))
    ||  (rc = ts_check_enum (ctx, "kind", req->kind, s_kinds))
    ||  (rc = ts_check_range (ctx, "points", req->points, 1, MERCHANTS_OFFER_POINTS_MAX))
    ||  (rc = ts_check_range (ctx, "stock", req->stock, 0, MERCHANTS_OFFER_STOCK_MAX))
    ||  (rc = s_check_course (ctx, req)))
        return rc;
    Tashan__Merchants__Merchant *m = merchants_load (ctx, merchant_no);
    if (!m)
        return ts_fail (ctx, TS_UNPROCESSABLE, "merchant_id: no merchant %s", req->merchant_id);
    uint64_t no = ts_txn_next_id (ctx->txn, "offer");
    rep->id = ts_id_text (ctx->arena, 'f', no);
    rep->merchant_id = m->id;
    rep->merchant_name = m->name;
    rep->title = req->title;
    rep->kind = req->kind;
    rep->points = req->points;
    rep->stock = req->stock;
    rep->course = req->course;
    rep->n_sessions = req->n_sessions;
    rep->sessions = req->sessions;
    rep->starts_on = req->starts_on;
    rep->ends_on = req->ends_on;
    rep->created_ms = ctx->now_ms;
    rep->created_at = ts_time_text (ctx->arena, ctx->now_ms);
    s_offer_save (ctx, no, rep);
    uint8_t k [16];
    s_u64_key (k, merchant_no);
    s_u64_key (k + 8, no);
    ts_txn_put (ctx->txn, ts_ctx_table (ctx, "offers_by_merch"), k, sizeof k, "", 0);
    return TS_CREATED;
}

unsigned
merchants_offer_get (ts_ctx *ctx, const Tashan__Merchants__GetOfferRequest *req,
                     Tashan__Merchants__Offer *rep)
{
    uint64_t no;
    Tashan__Merchants__Offer *o = s_offer_ref (ctx, req->id, &no);
    if (!o)
        return ctx->code;
    unsigned rc = s_may_act (ctx, o->merchant_id);
    if (rc)
        return rc;
    *rep = *o;
    return TS_OK;
}

unsigned
merchants_offer_update (ts_ctx *ctx, const Tashan__Merchants__UpdateOfferRequest *req,
                        Tashan__Merchants__Offer *rep)
{
    uint64_t no;
    Tashan__Merchants__Offer *o = s_offer_ref (ctx, req->id, &no);
    if (!o)
        return ctx->code;
    unsigned rc;
    if ((rc = s_may_act (ctx, o->merchant_id))
    ||  (rc = ts_check_name (ctx, "title", req->title, TITLE_MAX_CHARS, false))
    ||  (req->points && (rc = ts_check_range (ctx, "points", req->points, 1,
                                              MERCHANTS_OFFER_POINTS_MAX)))
    ||  (rc = ts_check_range (ctx, "add_stock", req->add_stock, 0, MERCHANTS_OFFER_STOCK_MAX)))
        return rc;
    if (o->retired && (req->add_stock || req->points || req->title [0]))
        return ts_fail (ctx, TS_CONFLICT, "offer %s is retired", o->id);
    if ((uint64_t) o->stock + req->add_stock > MERCHANTS_OFFER_STOCK_MAX)
        return ts_fail (ctx, TS_BAD_REQUEST, "stock would exceed %d", MERCHANTS_OFFER_STOCK_MAX);
    if (req->title [0])
        o->title = req->title;
    if (req->points)
        o->points = req->points;
    o->stock += req->add_stock;
    if (req->retire)
        o->retired = true;
    s_offer_save (ctx, no, o);
    *rep = *o;
    return TS_OK;
}

unsigned
merchants_offer_list (ts_ctx *ctx, const Tashan__Merchants__ListOffersRequest *req,
                      Tashan__Merchants__ListOffersReply *rep)
{
    unsigned rc;
    const char *merchant_id = req->merchant_id;
    //  A merchant lists its own offers.
    if (strcmp (ctx->caller->role, "merchant") == 0 && !merchant_id [0])
        merchant_id = ctx->caller->binding;
    if ((rc = s_may_act (ctx, merchant_id))
    ||  (req->kind [0] && (rc = ts_check_enum (ctx, "kind", req->kind, s_kinds))))
        return rc;
    uint8_t prefix [8];
    size_t prefix_size = 0;
    ts_table table = ts_ctx_table (ctx, "offers");
    if (merchant_id [0]) {
        uint64_t merchant_no;
        if ((rc = ts_check_id (ctx, "merchant_id", merchant_id, 'm', "merchant",
                               TS_UNPROCESSABLE, &merchant_no)))
            return rc;
        s_u64_key (prefix, merchant_no);
        prefix_size = 8;
        table = ts_ctx_table (ctx, "offers_by_merch");
    }
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, table, prefix, prefix_size, req->page_token,
                            req->page_size)))
        return rc;
    rep->offers = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->offers);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t size;
        const uint8_t *rest = ts_page_rest (&pg, &size);
        Tashan__Merchants__Offer *o = size == 8 ? s_offer_load (ctx, ts_be64_get (rest)) : NULL;
        if (!o || (o->retired && !req->include_retired)
        ||  (req->kind [0] && strcmp (o->kind, req->kind) != 0))
            continue;
        rep->offers [rep->n_offers++] = o;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing offers");
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Redemptions

//  Who is redeeming: a merchant's till scans the resident's card code; ops
//  names the person. *person_id is a person the daemon knows, still here.
static unsigned
s_redeemer (ts_ctx *ctx, const Tashan__Merchants__RedeemOfferRequest *req, uint64_t merchant_no,
            const char **person_id)
{
    unsigned rc;
    bool merchant = strcmp (ctx->caller->role, "merchant") == 0;
    if (req->resident_code [0] && req->person_id [0])
        return ts_fail (ctx, TS_BAD_REQUEST, "give resident_code or person_id, not both");
    if (req->resident_code [0]) {
        ts_cardcode code;
        if ((rc = merchants_cardcode_check (ctx, merchant_no, "resident_code",
                                            req->resident_code, ctx->now_ms, &code)))
            return rc;
        if (!(code.flags & TS_CARDCODE_SPENDABLE))
            return ts_fail (ctx, TS_CONFLICT, "this card may not be spent");
        *person_id = ts_arena_strdup (ctx->arena, code.person_id);
    }
    else
    if (merchant)
        return ts_fail (ctx, TS_BAD_REQUEST,
                        "resident_code is required: scan the card code the resident shows");
    else {
        uint64_t n;
        if ((rc = ts_check_id (ctx, "person_id", req->person_id, 'p', "person",
                               TS_UNPROCESSABLE, &n)))
            return rc;
        *person_id = req->person_id;
    }
    return merchants_check_resident (ctx, *person_id);
}

//  The answer a redemption's state gives: 202 while the ledger has not
//  spoken, 201 once the card was debited, 409 when it was refused.
static unsigned
s_outcome (ts_ctx *ctx, const Tashan__Merchants__Redemption *r,
           Tashan__Merchants__RedeemOfferReply *rep)
{
    if (strcmp (r->state, "pending") == 0)
        return TS_ACCEPTED;
    if (strcmp (r->state, "failed") == 0)
        return ts_fail (ctx, TS_CONFLICT, "%s", r->reason);
    assert (strcmp (r->state, "completed") == 0);
    rep->id = r->id;
    rep->points = r->points;
    rep->card_after = r->card_after;
    rep->offer_id = r->offer_id;
    rep->entry_id = r->entry_id;
    return TS_CREATED;
}

//  The caller-scoped idempotency key of a redemption.
static void
s_red_key (ts_ctx *ctx, const char *key, ts_key *k)
{
    ts_key_init (k);
    ts_key_str (k, ctx->caller->role);
    ts_key_str (k, ctx->caller->binding);
    ts_key_str (k, key);
}

//  A new redemption: reserve one unit, ask the ledger for the card.
static unsigned
s_start (ts_ctx *ctx, uint64_t offer_no, Tashan__Merchants__Offer *o, const char *person_id,
         const ts_key *idem)
{
    if (o->retired)
        return ts_fail (ctx, TS_CONFLICT, "offer %s is retired", o->id);
    if (o->stock_left == 0)
        return ts_fail (ctx, TS_CONFLICT, "offer %s is out of stock", o->id);
    uint64_t no = ts_txn_next_id (ctx->txn, "redemption");
    int month = ts_month_index_of (ctx->now_ms);
    Tashan__Merchants__Redemption r = TASHAN__MERCHANTS__REDEMPTION__INIT;
    r.id = ts_id_text (ctx->arena, 'i', no);
    r.offer_id = o->id;
    r.merchant_id = o->merchant_id;
    r.person_id = (char *) person_id;
    r.points = o->points;
    r.state = "pending";
    r.title = o->title;
    r.requested_by = ts_arena_printf (ctx->arena, "%s:%s", ctx->caller->role,
                                      ctx->caller->principal);
    r.month = ts_month_text (ctx->arena, month);
    r.created_ms = ctx->now_ms;
    r.created_at = ts_time_text (ctx->arena, ctx->now_ms);
    s_red_save (ctx, no, &r);
    o->reserved++;
    s_offer_save (ctx, offer_no, o);
    uint8_t v [8];
    s_u64_key (v, no);
    ts_txn_put (ctx->txn, ts_ctx_table (ctx, "red_keys"), idem->data, idem->size, v, 8);
    uint64_t merchant_no = 0;
    bool ok = ts_id_parse (o->merchant_id, 'm', &merchant_no);
    assert (ok);
    uint8_t k [20];
    s_u64_key (k, merchant_no);
    ts_be32_put (k + 8, (uint32_t) month);
    s_u64_key (k + 12, no);
    ts_txn_put (ctx->txn, ts_ctx_table (ctx, "red_by_merch"), k, sizeof k, "", 0);
    Tashan__Events__RedemptionRequest ev = TASHAN__EVENTS__REDEMPTION_REQUEST__INIT;
    ev.redemption_id = r.id;
    ev.person_id = r.person_id;
    ev.points = r.points;
    ev.item = ts_arena_printf (ctx->arena, "%s at %s", o->title, o->merchant_name);
    ev.merchant_id = o->merchant_id;
    ev.offer_id = o->id;
    ts_emit (ctx, "redemption.requested", &ev.base);
    return TS_ACCEPTED;
}

unsigned
merchants_offer_redeem (ts_ctx *ctx, const Tashan__Merchants__RedeemOfferRequest *req,
                        Tashan__Merchants__RedeemOfferReply *rep)
{
    uint64_t offer_no, merchant_no;
    Tashan__Merchants__Offer *o = s_offer_ref (ctx, req->id, &offer_no);
    if (!o)
        return ctx->code;
    unsigned rc;
    if ((rc = s_may_act (ctx, o->merchant_id))
    ||  (rc = ts_check_str (ctx, "idempotency_key", req->idempotency_key, TS_STR_MAX_CHARS,
                            true)))
        return rc;
    bool ok = ts_id_parse (o->merchant_id, 'm', &merchant_no);
    assert (ok);
    const char *person_id = NULL;
    if ((rc = s_redeemer (ctx, req, merchant_no, &person_id)))
        return rc;
    //  A retry (the first answer was 503, or lost) finds its redemption.
    ts_key idem;
    s_red_key (ctx, req->idempotency_key, &idem);
    uint64_t no = ts_txn_get_u64 (ctx->txn, ts_ctx_table (ctx, "red_keys"), idem.data, idem.size, 0);
    if (no) {
        Tashan__Merchants__Redemption *r = s_red_load (ctx, no);
        if (!r)
            return ts_fail (ctx, TS_INTERNAL, "redemption %llu is missing",
                            (unsigned long long) no);
        if (strcmp (r->offer_id, o->id) != 0 || strcmp (r->person_id, person_id) != 0)
            return ts_fail (ctx, TS_CONFLICT,
                            "idempotency_key %s was used for another redemption",
                            req->idempotency_key);
        return s_outcome (ctx, r, rep);
    }
    return s_start (ctx, offer_no, o, person_id, &idem);
}

unsigned
merchants_apply_settled (ts_ctx *ctx, const Tashan__Events__RedemptionSettled *ev,
                         const Tashan__Event *event)
{
    (void) event;
    uint64_t no;
    unsigned rc;
    if ((rc = ts_check_id (ctx, "redemption_id", ev->redemption_id, 'i', "redemption",
                           TS_BAD_REQUEST, &no))
    ||  (rc = ts_check_str (ctx, "reason", ev->reason, TS_STR_MAX_CHARS, false)))
        return rc;
    Tashan__Merchants__Redemption *r = s_red_load (ctx, no);
    if (!r)
        return ts_fail (ctx, TS_NOT_FOUND, "no redemption %s", ev->redemption_id);
    if (strcmp (r->state, "pending") != 0)
        return TS_OK;               //  settled already: nothing twice
    uint64_t offer_no, merchant_no;
    bool parsed = ts_id_parse (r->offer_id, 'f', &offer_no)
               && ts_id_parse (r->merchant_id, 'm', &merchant_no);
    Tashan__Merchants__Offer *o = parsed ? s_offer_load (ctx, offer_no) : NULL;
    if (!o || o->reserved == 0)
        return ts_fail (ctx, TS_INTERNAL, "offer %s of redemption %s is inconsistent",
                        r->offer_id, r->id);
    o->reserved--;
    r->settled_ms = ctx->now_ms;
    r->settled_at = ts_time_text (ctx->arena, ctx->now_ms);
    if (ev->ok) {
        o->taken++;
        r->state = "completed";
        r->card_after = ev->card_after;
        r->entry_id = ev->entry_id;
        uint8_t k [12], v [16];
        s_u64_key (k, merchant_no);
        ts_be32_put (k + 8, (uint32_t) ts_month_index (r->month));
        ts_val old;
        uint64_t count = 0;
        int64_t points = 0;
        if (ts_txn_get (ctx->txn, ts_ctx_table (ctx, "red_month"), k, sizeof k, &old)
        &&  old.size == 16) {
            count = ts_be64_get (old.data);
            points = (int64_t) ts_be64_get ((const uint8_t *) old.data + 8);
        }
        s_u64_key (v, count + 1);
        s_u64_key (v + 8, (uint64_t) (points + r->points));
        ts_txn_put (ctx->txn, ts_ctx_table (ctx, "red_month"), k, sizeof k, v, sizeof v);
    }
    else {
        r->state = "failed";
        r->reason = ev->reason [0] ? ev->reason : "the ledger refused the redemption";
    }
    s_offer_save (ctx, offer_no, o);
    s_red_save (ctx, no, r);
    return TS_OK;
}

unsigned
merchants_redemption_get (ts_ctx *ctx, const Tashan__Merchants__GetRedemptionRequest *req,
                          Tashan__Merchants__Redemption *rep)
{
    uint64_t no;
    unsigned rc = ts_check_id (ctx, "id", req->id, 'i', "redemption", TS_NOT_FOUND, &no);
    if (rc)
        return rc;
    Tashan__Merchants__Redemption *r = s_red_load (ctx, no);
    if (!r)
        return ts_fail (ctx, TS_NOT_FOUND, "no redemption %s", req->id);
    if ((rc = s_may_act (ctx, r->merchant_id)))
        return rc;
    *rep = *r;
    return TS_OK;
}

unsigned
merchants_redemption_list (ts_ctx *ctx, const Tashan__Merchants__ListRedemptionsRequest *req,
                           Tashan__Merchants__ListRedemptionsReply *rep)
{
    uint64_t merchant_no;
    unsigned rc;
    if ((rc = ts_check_id (ctx, "id", req->id, 'm', "merchant", TS_NOT_FOUND, &merchant_no))
    ||  (rc = s_may_act (ctx, req->id))
    ||  (req->month [0] && (rc = ts_check_month (ctx, "month", req->month))))
        return rc;
    int month = req->month [0] ? ts_month_index (req->month) : ts_month_index_of (ctx->now_ms);
    uint8_t prefix [12];
    s_u64_key (prefix, merchant_no);
    ts_be32_put (prefix + 8, (uint32_t) month);
    rep->merchant_id = req->id;
    rep->month = ts_month_text (ctx->arena, month);
    ts_val totals;
    if (ts_txn_get (ctx->txn, ts_ctx_table (ctx, "red_month"), prefix, sizeof prefix, &totals)
    &&  totals.size == 16) {
        rep->completed = (uint32_t) ts_be64_get (totals.data);
        rep->points = (int64_t) ts_be64_get ((const uint8_t *) totals.data + 8);
    }
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ts_ctx_table (ctx, "red_by_merch"), prefix, sizeof prefix,
                            req->page_token, req->page_size)))
        return rc;
    rep->redemptions = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->redemptions);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t size;
        const uint8_t *rest = ts_page_rest (&pg, &size);
        Tashan__Merchants__Redemption *r = size == 8 ? s_red_load (ctx, ts_be64_get (rest))
                                                     : NULL;
        if (!r)
            continue;
        rep->redemptions [rep->n_redemptions++] = r;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing redemptions");
    return TS_OK;
}
