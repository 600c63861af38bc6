/*  =========================================================================
    merchants_registry - the registry of units (商户登记): CreateMerchant,
    UpdateMerchant (every version kept), GetMerchant, ListMerchants,
    MerchantHistory, and the merchant's public code (Disclose, CodeSvg).
    Contacts are masked for callers other than staff.
    =========================================================================
*/
#include "merchants_core.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_valid.h"

static const char *const s_kinds [] = { "enterprise", "institution", "individual", NULL };

//  "13812345678" -> "138****5678"; anything short or not ASCII -> "****".
static char *
s_mask (ts_arena *arena, const char *s)
{
    if (!*s)
        return "";
    size_t len = strlen (s);
    bool ascii = true;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) s [i] >= 0x80)
            ascii = false;
    if (!ascii || len < 7)
        return "****";
    return ts_arena_printf (arena, "%.3s****%s", s, s + len - 4);
}

//  Fill rep from a stored merchant as this caller may see it.
static void
s_view (ts_ctx *ctx, const Tashan__Merchants__Rules *rules,
        const Tashan__Merchants__Merchant *m, uint64_t id,
        Tashan__Merchants__Merchant *rep)
{
    *rep = *m;
    rep->standing = (char *) merchants_standing (ctx, rules, m, id);
    if (!merchants_caller_is_staff (ctx))
        rep->contact = s_mask (ctx->arena, m->contact);
}

//  Store a version of m (table merchants and history).
static void
s_store (ts_ctx *ctx, uint64_t id, const Tashan__Merchants__Merchant *m)
{
    merchants_state *self = merchants_state_of (ctx);
    assert (m->version >= 1);
    assert (m->standing [0] == 0);
    ts_key k;
    merchants_key_no (&k, id);
    ts_txn_put_msg (ctx->txn, self->merchants, k.data, k.size, &m->base);
    ts_key_u32 (&k, m->version);
    ts_txn_put_msg (ctx->txn, self->history, k.data, k.size, &m->base);
}

static void
s_emit_merchant (ts_ctx *ctx, const char *topic, const Tashan__Merchants__Merchant *m)
{
    Tashan__Events__Merchant ev = TASHAN__EVENTS__MERCHANT__INIT;
    ev.merchant_id = m->id;
    ev.name = m->name;
    ev.category = m->category;
    ev.co_building = m->co_building;
    ev.suspended = m->suspended;
    ts_emit (ctx, topic, &ev.base);
}

//  Checks shared by create and update for the fields they both take.
static unsigned
s_check_fields (ts_ctx *ctx, bool create, const char *name, const char *kind,
                const char *category, const char *address,
                char **services, size_t n_services,
                char **free_services, size_t n_free,
                const char *licence_no, const char *contact,
                Tashan__Merchants__TierDiscount **discounts, size_t n_discounts)
{
    unsigned rc;
    if ((rc = ts_check_name (ctx, "name", name, TS_NAME_MAX_CHARS, create))
    ||  (rc = ts_check_str (ctx, "category", category, TS_NAME_MAX_CHARS, create))
    ||  (rc = ts_check_str (ctx, "address", address, TS_STR_MAX_CHARS, false))
    ||  (rc = merchants_check_list (ctx, "services", services, n_services,
                                    MERCHANTS_SERVICES_MAX, TS_NAME_MAX_CHARS))
    ||  (rc = merchants_check_list (ctx, "free_services", free_services, n_free,
                                    MERCHANTS_SERVICES_MAX, TS_NAME_MAX_CHARS))
    ||  (rc = ts_check_str (ctx, "licence_no", licence_no, TS_NAME_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "contact", contact, TS_NAME_MAX_CHARS, false))
    ||  (rc = merchants_check_discounts (ctx, "discounts", discounts, n_discounts)))
        return rc;
    if ((create || kind [0]) && (rc = ts_check_enum (ctx, "kind", kind, s_kinds)))
        return rc;
    for (size_t i = 0; i < n_free; i++)
        for (size_t j = 0; j < n_services; j++)
            if (strcmp (free_services [i], services [j]) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST,
                                "free_services[%zu] '%s' is also in services: "
                                "list a service once, free or not", i, free_services [i]);
    return 0;
}

//  Claim a licence number for merchant id (409 when another holds it).
static unsigned
s_licence_claim (ts_ctx *ctx, const char *licence_no, uint64_t id)
{
    merchants_state *self = merchants_state_of (ctx);
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, licence_no);
    ts_val val;
    if (ts_txn_get (ctx->txn, self->licences, k.data, k.size, &val)) {
        assert (val.size == 8);
        return ts_fail (ctx, TS_CONFLICT, "licence_no %s is already registered to m%" PRIu64,
                        licence_no, ts_be64_get (val.data));
    }
    uint8_t no [8];
    ts_be64_put (no, id);
    ts_txn_put (ctx->txn, self->licences, k.data, k.size, no, sizeof no);
    return 0;
}

unsigned
merchants_create (ts_ctx *ctx, const Tashan__Merchants__CreateMerchantRequest *req,
                  Tashan__Merchants__Merchant *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = s_check_fields (ctx, true, req->name, req->kind, req->category, req->address,
                              req->services, req->n_services,
                              req->free_services, req->n_free_services,
                              req->licence_no, req->contact,
                              req->discounts, req->n_discounts)))
        return rc;
    uint64_t id = ts_txn_next_id (ctx->txn, "merchant");
    if (id > UINT32_MAX)
        return ts_fail (ctx, TS_CONFLICT, "the registry is full");
    if (req->licence_no [0] && (rc = s_licence_claim (ctx, req->licence_no, id)))
        return rc;

    Tashan__Merchants__Merchant m = TASHAN__MERCHANTS__MERCHANT__INIT;
    m.id = ts_id_text (ctx->arena, 'm', id);
    m.name = req->name;
    m.kind = req->kind;
    m.category = req->category;
    m.address = req->address;
    m.n_services = req->n_services;
    m.services = req->services;
    m.n_free_services = req->n_free_services;
    m.free_services = req->free_services;
    m.licence_no = req->licence_no;
    m.co_building = req->co_building;
    m.contact = req->contact;
    m.code = ts_arena_alloc (ctx->arena, MERCHANTS_CODE_CHARS + 1);
    merchants_code_make (self->key, id, m.code);
    m.n_discounts = req->n_discounts;
    m.discounts = req->discounts;
    m.created_at_ms = ctx->now_ms;
    m.updated_at_ms = ctx->now_ms;
    m.version = 1;
    m.updated_by = (char *) ctx->caller->principal;
    s_store (ctx, id, &m);
    s_emit_merchant (ctx, "merchant.registered", &m);
    s_view (ctx, merchants_rules_load (ctx), &m, id, rep);
    return TS_CREATED;
}

//  Copy the fields an update gives (non-empty strings and lists, the
//  flags that are set) into m; the count of fields given. The licence
//  number is claimed apart (it may be taken).
static size_t
s_fields_update (Tashan__Merchants__Merchant *m,
                 const Tashan__Merchants__UpdateMerchantRequest *req)
{
    size_t changes = 0;
    if (req->name [0]) { m->name = req->name; changes++; }
    if (req->kind [0]) { m->kind = req->kind; changes++; }
    if (req->category [0]) { m->category = req->category; changes++; }
    if (req->address [0]) { m->address = req->address; changes++; }
    if (req->contact [0]) { m->contact = req->contact; changes++; }
    if (req->n_services) {
        m->n_services = req->n_services;
        m->services = req->services;
        changes++;
    }
    if (req->n_free_services) {
        m->n_free_services = req->n_free_services;
        m->free_services = req->free_services;
        changes++;
    }
    if (req->n_discounts) {
        m->n_discounts = req->n_discounts;
        m->discounts = req->discounts;
        changes++;
    }
    if (req->co_building_set_case
        == TASHAN__MERCHANTS__UPDATE_MERCHANT_REQUEST__CO_BUILDING_SET_CO_BUILDING) {
        m->co_building = req->co_building;
        changes++;
    }
    if (req->suspended_set_case
        == TASHAN__MERCHANTS__UPDATE_MERCHANT_REQUEST__SUSPENDED_SET_SUSPENDED) {
        m->suspended = req->suspended;
        changes++;
    }
    return changes;
}

unsigned
merchants_update (ts_ctx *ctx, const Tashan__Merchants__UpdateMerchantRequest *req,
                  Tashan__Merchants__Merchant *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    uint64_t id;
    Tashan__Merchants__Merchant *m = merchants_find (ctx, req->id, TS_NOT_FOUND, &id);
    if (!m)
        return ctx->code;
    unsigned rc;
    if ((rc = s_check_fields (ctx, false, req->name, req->kind, req->category, req->address,
                              req->services, req->n_services,
                              req->free_services, req->n_free_services,
                              req->licence_no, req->contact,
                              req->discounts, req->n_discounts)))
        return rc;
    size_t changes = s_fields_update (m, req);
    if (req->licence_no [0] && strcmp (req->licence_no, m->licence_no) != 0) {
        if ((rc = s_licence_claim (ctx, req->licence_no, id)))
            return rc;
        if (m->licence_no [0]) {
            ts_key k;
            ts_key_init (&k);
            ts_key_str (&k, m->licence_no);
            bool gone = ts_txn_del (ctx->txn, self->licences, k.data, k.size);
            assert (gone);
        }
        m->licence_no = req->licence_no;
        changes++;
    }
    if (changes == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "no field to change");
    //  A service moved between the lists must not end up in both.
    for (size_t i = 0; i < m->n_free_services; i++)
        for (size_t j = 0; j < m->n_services; j++)
            if (strcmp (m->free_services [i], m->services [j]) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST,
                                "'%s' would be both free and paid: send both lists",
                                m->services [j]);
    m->version++;
    m->updated_at_ms = ctx->now_ms;
    m->updated_by = (char *) ctx->caller->principal;
    s_store (ctx, id, m);
    s_emit_merchant (ctx, "merchant.updated", m);
    s_view (ctx, merchants_rules_load (ctx), m, id, rep);
    return TS_OK;
}

unsigned
merchants_get (ts_ctx *ctx, const Tashan__Merchants__GetMerchantRequest *req,
               Tashan__Merchants__Merchant *rep)
{
    unsigned rc;
    if ((rc = merchants_check_own (ctx, req->id)))
        return rc;
    uint64_t id;
    Tashan__Merchants__Merchant *m = merchants_find (ctx, req->id, TS_NOT_FOUND, &id);
    if (!m)
        return ctx->code;
    s_view (ctx, merchants_rules_load (ctx), m, id, rep);
    return TS_OK;
}

unsigned
merchants_list (ts_ctx *ctx, const Tashan__Merchants__ListMerchantsRequest *req,
                Tashan__Merchants__ListMerchantsReply *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = ts_check_str (ctx, "kind", req->kind, TS_NAME_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "category", req->category, TS_NAME_MAX_CHARS, false)))
        return rc;
    if (req->kind [0] && (rc = ts_check_enum (ctx, "kind", req->kind, s_kinds)))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, self->merchants, NULL, 0, req->page_token,
                            req->page_size)))
        return rc;
    Tashan__Merchants__Rules *rules = merchants_rules_load (ctx);
    rep->merchants = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->merchants);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t key_size;
        const uint8_t *key = ts_page_rest (&pg, &key_size);
        if (key_size != 8)
            continue;
        Tashan__Merchants__Merchant *m =
            ts_page_msg (&pg, &tashan__merchants__merchant__descriptor, ctx->arena);
        if (!m)
            break;                  //  corrupt: the txn failed
        if ((req->kind [0] && strcmp (req->kind, m->kind) != 0)
        ||  (req->category [0] && strcmp (req->category, m->category) != 0))
            continue;
        Tashan__Merchants__Merchant *view = ts_arena_alloc (ctx->arena, sizeof *view);
        s_view (ctx, rules, m, ts_be64_get (key), view);
        rep->merchants [rep->n_merchants++] = view;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing merchants");
    return TS_OK;
}

unsigned
merchants_history (ts_ctx *ctx, const Tashan__Merchants__MerchantHistoryRequest *req,
                   Tashan__Merchants__MerchantHistoryReply *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = merchants_check_own (ctx, req->id)))
        return rc;
    uint64_t id;
    if (!merchants_find (ctx, req->id, TS_NOT_FOUND, &id))
        return ctx->code;
    ts_key prefix;
    merchants_key_no (&prefix, id);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, self->history, prefix.data, prefix.size,
                            req->page_token, req->page_size)))
        return rc;
    rep->versions = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->versions);
    bool staff = merchants_caller_is_staff (ctx);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        Tashan__Merchants__Merchant *m =
            ts_page_msg (&pg, &tashan__merchants__merchant__descriptor, ctx->arena);
        if (!m)
            break;                  //  corrupt: the txn failed
        if (!staff)
            m->contact = s_mask (ctx->arena, m->contact);
        rep->versions [rep->n_versions++] = m;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error reading history");
    return TS_OK;
}

unsigned
merchants_disclose (ts_ctx *ctx, const Tashan__Merchants__CodeRequest *req,
                    Tashan__Merchants__Disclosure *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    uint64_t id;
    //  Forged, altered, truncated and unknown codes all answer the same.
    if (!merchants_code_check (self->key, req->code, &id))
        return ts_fail (ctx, TS_NOT_FOUND, "no such merchant code");
    Tashan__Merchants__Merchant *m = merchants_load (ctx, id);
    if (!m)
        return ts_fail (ctx, TS_NOT_FOUND, "no such merchant code");
    rep->merchant_id = m->id;
    rep->name = m->name;
    rep->kind = m->kind;
    rep->category = m->category;
    rep->n_services = m->n_services;
    rep->services = m->services;
    rep->n_free_services = m->n_free_services;
    rep->free_services = m->free_services;
    rep->licence_no = m->licence_no;
    rep->co_building = m->co_building;
    rep->standing = (char *) merchants_standing (ctx, merchants_rules_load (ctx), m, id);
    rep->complaint_count = merchants_count_get (ctx, "m.open", id, NULL)
                         + merchants_count_get (ctx, "m.upheld", id, NULL);
    rep->markets_attended = merchants_count_get (ctx, "m.markets", id, NULL);
    rep->services_given = merchants_count_get (ctx, "m.checkins", id, NULL);
    return TS_OK;
}

unsigned
merchants_code_svg_get (ts_ctx *ctx, const Tashan__Merchants__CodeSvgRequest *req,
                        Tashan__Merchants__RawReply *rep)
{
    unsigned rc;
    if ((rc = merchants_check_own (ctx, req->id)))
        return rc;
    uint64_t id;
    Tashan__Merchants__Merchant *m = merchants_find (ctx, req->id, TS_NOT_FOUND, &id);
    if (!m)
        return ctx->code;
    Tashan__Merchants__Rules *rules = merchants_rules_load (ctx);
    const char *text = ts_arena_printf (ctx->arena, "%s%s", rules->code_url_prefix, m->code);
    size_t size = 0;
    char *svg = merchants_code_svg (ctx->arena, text, &size);
    if (!svg)
        return ts_fail (ctx, TS_INTERNAL, "cannot render the QR code");
    rep->content_type = "image/svg+xml";
    rep->data.data = (uint8_t *) svg;
    rep->data.len = size;
    return TS_OK;
}
