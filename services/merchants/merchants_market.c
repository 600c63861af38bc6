/*  merchants_market - the convenience market (便民集市) and check-ins

    Markets are sessions with a date and a place; merchants in good
    standing enrol; each check-in records one service to one resident, in
    the shop or at a market, and answers the discount the resident's tier
    earns at that merchant. A free service at a market also asks the
    ledger (event credit.requested, rule market.service) to credit the
    merchant, once per check-in. Tables are described in merchants_core.c. */
#include "merchants_core.h"
#include "merchants_cardcode.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "ts_valid.h"

#define DATE_CHARS 10                       //  YYYY-MM-DD
#define MARKET_DATE_KEY_BYTES (DATE_CHARS + 1 + 8)

//  --------------------------------------------------------------------
//  "YYYY-MM-DD", a real calendar day, year 2000..2100.

static unsigned
s_check_date (ts_ctx *ctx, const char *field, const char *date, bool required)
{
    int64_t midnight_ms;
    if (!date [0] && !required)
        return 0;
    if (!ts_day_parse (date, &midnight_ms))
        return ts_fail (ctx, TS_BAD_REQUEST, "%s must be a date YYYY-MM-DD", field);
    return 0;
}

static Tashan__Merchants__Market *
s_market_load (ts_ctx *ctx, uint64_t no)
{
    merchants_state *self = merchants_state_of (ctx);
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    return ts_txn_get_msg (ctx->txn, self->markets, k.data, k.size,
                           &tashan__merchants__market__descriptor, ctx->arena);
}

//  Find a market by id text; fail with code (404 for a path, 422 for a
//  reference in a body) when absent.
static Tashan__Merchants__Market *
s_market_find (ts_ctx *ctx, const char *id_text, unsigned code, uint64_t *no)
{
    Tashan__Merchants__Market *market = NULL;
    if (ts_id_parse (id_text, 'k', no))
        market = s_market_load (ctx, *no);
    if (!market)
        ts_fail (ctx, code, "no market %.64s", id_text);
    return market;
}

static void
s_pair_key (ts_key *k, uint64_t a, uint64_t b)
{
    ts_key_init (k);
    ts_key_u64 (k, a);
    ts_key_u64 (k, b);
}

//  --------------------------------------------------------------------
//  Markets

unsigned
merchants_market_create (ts_ctx *ctx, const Tashan__Merchants__CreateMarketRequest *req,
                         Tashan__Merchants__Market *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = s_check_date (ctx, "date", req->date, true))
    ||  (rc = ts_check_str (ctx, "place", req->place, TS_STR_MAX_CHARS, true))
    ||  (rc = ts_check_name (ctx, "title", req->title, TS_NAME_MAX_CHARS, true)))
        return rc;
    uint64_t no = ts_txn_next_id (ctx->txn, "market");
    rep->id = ts_id_text (ctx->arena, 'k', no);
    rep->date = req->date;
    rep->place = req->place;
    rep->title = req->title;
    rep->created_at_ms = ctx->now_ms;
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    ts_txn_put_msg (ctx->txn, self->markets, k.data, k.size, &rep->base);
    ts_key_init (&k);
    ts_key_str (&k, req->date);
    ts_key_u64 (&k, no);
    assert (k.size == MARKET_DATE_KEY_BYTES);
    ts_txn_put (ctx->txn, self->market_dates, k.data, k.size, "", 0);
    return TS_CREATED;
}

unsigned
merchants_market_get (ts_ctx *ctx, const Tashan__Merchants__GetMarketRequest *req,
                      Tashan__Merchants__Market *rep)
{
    uint64_t no;
    Tashan__Merchants__Market *market = s_market_find (ctx, req->id, TS_NOT_FOUND, &no);
    if (!market)
        return ctx->code;
    *rep = *market;
    return TS_OK;
}

unsigned
merchants_market_enrol (ts_ctx *ctx, const Tashan__Merchants__EnrolRequest *req,
                        Tashan__Merchants__Enrolment *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    uint64_t market_no, merchant_no;
    if (!s_market_find (ctx, req->id, TS_NOT_FOUND, &market_no))
        return ctx->code;
    unsigned rc;
    if ((rc = ts_check_str (ctx, "merchant_id", req->merchant_id,
                            TS_ID_MAX_CHARS, true)))
        return rc;
    if (!merchants_caller_is_staff (ctx)
    &&  strcmp (ctx->caller->binding, req->merchant_id) != 0)
        return ts_fail (ctx, TS_FORBIDDEN, "this token may enrol only merchant %s",
                        ctx->caller->binding);
    Tashan__Merchants__Merchant *m = NULL;
    if (ts_id_parse (req->merchant_id, 'm', &merchant_no))
        m = merchants_load (ctx, merchant_no);
    if (!m)
        return ts_fail (ctx, TS_UNPROCESSABLE, "no merchant %s", req->merchant_id);
    rep->market_id = (char *) req->id;
    rep->merchant_id = m->id;
    ts_key k;
    s_pair_key (&k, market_no, merchant_no);
    ts_val val;
    if (ts_txn_get (ctx->txn, self->enrolments, k.data, k.size, &val)) {
        //  Already enrolled: the same answer, no second effect.
        assert (val.size == 8);
        rep->enrolled_at_ms = (int64_t) ts_be64_get (val.data);
        rep->standing = (char *) merchants_standing (ctx, merchants_rules_load (ctx),
                                                     m, merchant_no);
        return TS_OK;
    }
    const char *standing = merchants_standing (ctx, merchants_rules_load (ctx), m,
                                               merchant_no);
    if (strcmp (standing, "good") != 0)
        return ts_fail (ctx, TS_CONFLICT,
                        "merchant %s is not in good standing (%s): only merchants in "
                        "good standing may enrol in a market", m->id, standing);
    uint8_t at [8];
    ts_be64_put (at, (uint64_t) ctx->now_ms);
    ts_txn_put (ctx->txn, self->enrolments, k.data, k.size, at, sizeof at);
    merchants_count_add (ctx, "k.merchants", market_no, NULL, 1);
    rep->standing = (char *) standing;
    rep->enrolled_at_ms = ctx->now_ms;
    return TS_CREATED;
}

//  Fill the stats of a market.
static unsigned
s_stats (ts_ctx *ctx, uint64_t no, const Tashan__Merchants__Market *market,
         Tashan__Merchants__MarketStats *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    rep->market_id = market->id;
    rep->date = market->date;
    rep->place = market->place;
    rep->title = market->title;
    rep->checkins = merchants_count_get (ctx, "k.checkins", no, NULL);
    rep->residents_served = merchants_count_get (ctx, "k.residents", no, NULL);
    rep->merchants = merchants_count_get (ctx, "k.merchants", no, NULL);
    rep->merchants_active = merchants_count_get (ctx, "k.active", no, NULL);
    rep->free_services_given = merchants_count_get (ctx, "k.free", no, NULL);

    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_str (&prefix, "k.svc");
    ts_key_u64 (&prefix, no);
    rep->services = ts_arena_alloc (ctx->arena,
                                    MERCHANTS_SERVICE_ROWS_MAX * sizeof *rep->services);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, self->counters);
    bool more = ts_cursor_seek (&cur, prefix.data, prefix.size);
    for (; more && ts_cursor_has_prefix (&cur, prefix.data, prefix.size)
           && rep->n_services < MERCHANTS_SERVICE_ROWS_MAX;
         more = ts_cursor_next (&cur)) {
        //  Key tail: service bytes, flag byte (1 free, 2 paid), 0.
        const char *tail = (const char *) cur.key.data + prefix.size;
        size_t tail_size = cur.key.size - prefix.size;
        if (tail_size < 3 || tail [tail_size - 1] != 0 || cur.value.size != 8) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        Tashan__Merchants__ServiceCount *row = ts_arena_alloc (ctx->arena, sizeof *row);
        tashan__merchants__service_count__init (row);
        row->service = ts_arena_strndup (ctx->arena, tail, tail_size - 2);
        row->free = tail [tail_size - 2] == 1;
        uint64_t count = ts_be64_get (cur.value.data);
        row->count = count > UINT32_MAX ? UINT32_MAX : (uint32_t) count;
        rep->services [rep->n_services++] = row;
    }
    ts_cursor_close (&cur);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error reading market stats");
    return TS_OK;
}

unsigned
merchants_market_stats (ts_ctx *ctx, const Tashan__Merchants__GetMarketRequest *req,
                        Tashan__Merchants__MarketStats *rep)
{
    uint64_t no;
    Tashan__Merchants__Market *market = s_market_find (ctx, req->id, TS_NOT_FOUND, &no);
    if (!market)
        return ctx->code;
    return s_stats (ctx, no, market, rep);
}

//  The token of ListMarkets is the date key (date\0 u64 market) of the
//  first market of the next page; page->size 0 for the first page.
static unsigned
s_market_list_token (ts_ctx *ctx, const char *token, ts_key *page)
{
    ts_key_init (page);
    long page_bytes = ts_page_token_parse (ctx, token, page->data, sizeof page->data);
    if (page_bytes < 0)
        return ctx->code;
    page->size = (size_t) page_bytes;
    if (page->size && (page->size != MARKET_DATE_KEY_BYTES || page->data [DATE_CHARS] != 0))
        return ts_page_token_refuse (ctx);
    return 0;
}

//  Add market no's counters to the totals of a range of markets.
static void
s_totals_add (ts_ctx *ctx, Tashan__Merchants__MarketTotals *totals, uint64_t no)
{
    totals->markets++;
    totals->checkins += merchants_count_get (ctx, "k.checkins", no, NULL);
    totals->resident_visits += merchants_count_get (ctx, "k.residents", no, NULL);
    totals->merchant_attendances += merchants_count_get (ctx, "k.merchants", no, NULL);
    totals->free_services_given += merchants_count_get (ctx, "k.free", no, NULL);
}

unsigned
merchants_market_list (ts_ctx *ctx, const Tashan__Merchants__ListMarketsRequest *req,
                       Tashan__Merchants__ListMarketsReply *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    uint32_t page_size;
    if ((rc = s_check_date (ctx, "from", req->from, false))
    ||  (rc = s_check_date (ctx, "to", req->to, false))
    ||  (rc = ts_page_size (ctx, req->page_size, &page_size)))
        return rc;
    if (req->from [0] && req->to [0] && strcmp (req->from, req->to) > 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "from must not be after to");
    ts_key page;
    if ((rc = s_market_list_token (ctx, req->page_token, &page)))
        return rc;

    Tashan__Merchants__MarketTotals *totals = ts_arena_alloc (ctx->arena, sizeof *totals);
    tashan__merchants__market_totals__init (totals);
    rep->totals = totals;
    rep->markets = ts_arena_alloc (ctx->arena, page_size * sizeof *rep->markets);

    ts_key start;
    ts_key_init (&start);
    if (req->from [0])
        ts_key_str (&start, req->from);
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, self->market_dates);
    bool more = ts_cursor_seek (&cur, start.size ? start.data : NULL, start.size);
    size_t scanned = 0;
    for (; more; more = ts_cursor_next (&cur), scanned++) {
        if (cur.key.size != MARKET_DATE_KEY_BYTES) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        const char *date = (const char *) cur.key.data;
        if (req->to [0] && strncmp (date, req->to, DATE_CHARS) > 0)
            break;
        if (scanned == MERCHANTS_MARKETS_SCAN_MAX) {
            ts_cursor_close (&cur);
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "more than %d markets between from and to: narrow the range",
                            MERCHANTS_MARKETS_SCAN_MAX);
        }
        uint64_t no = ts_be64_get ((const uint8_t *) cur.key.data + DATE_CHARS + 1);
        s_totals_add (ctx, totals, no);
        //  The page: keys at or after the token, page_size of them.
        if (page.size && memcmp (cur.key.data, page.data, MARKET_DATE_KEY_BYTES) < 0)
            continue;
        if (rep->n_markets == page_size) {
            if (!rep->next_page_token [0])
                rep->next_page_token = ts_page_token_make (ctx->arena, cur.key.data,
                                                           cur.key.size);
            continue;
        }
        Tashan__Merchants__Market *market = s_market_load (ctx, no);
        if (!market) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        Tashan__Merchants__MarketStats *stats = ts_arena_alloc (ctx->arena, sizeof *stats);
        tashan__merchants__market_stats__init (stats);
        rc = s_stats (ctx, no, market, stats);
        if (rc >= 400)
            break;
        rep->markets [rep->n_markets++] = stats;
    }
    ts_cursor_close (&cur);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing markets");
    return rc >= 400 ? rc : TS_OK;
}

//  --------------------------------------------------------------------
//  Check-ins

//  Is service one of m's free services? Any other service is recorded as
//  a paid one: the registry lists what a merchant advertises, the app
//  records what it did (SPEC §4 puts no constraint on `service`).
static bool
s_is_free (const Tashan__Merchants__Merchant *m, const char *service)
{
    assert (m->n_free_services <= MERCHANTS_SERVICES_MAX);
    for (size_t i = 0; i < m->n_free_services; i++)
        if (strcmp (m->free_services [i], service) == 0)
            return true;
    return false;
}

//  What a check-in at a market counts: the market's check-ins and
//  services, distinct residents served, the merchant's attendance, free
//  services, and for a free one a credit request to the ledger.
static void
s_checkin_at_market (ts_ctx *ctx, const Tashan__Merchants__CheckinRequest *req,
                     const char *person_id, const Tashan__Merchants__Merchant *m,
                     uint64_t merchant_no, uint64_t market_no, bool free)
{
    merchants_state *self = merchants_state_of (ctx);
    ts_key k;
    merchants_count_add (ctx, "k.checkins", market_no, NULL, 1);
    const char *sub = ts_arena_printf (ctx->arena, "%s%c", req->service, free ? 1 : 2);
    merchants_count_add (ctx, "k.svc", market_no, sub, 1);
    ts_key_init (&k);
    ts_key_u64 (&k, market_no);
    ts_key_str (&k, person_id);
    if (ts_txn_insert (ctx->txn, self->served, k.data, k.size, "", 0))
        merchants_count_add (ctx, "k.residents", market_no, NULL, 1);
    s_pair_key (&k, merchant_no, market_no);
    if (ts_txn_insert (ctx->txn, self->attended, k.data, k.size, "", 0)) {
        merchants_count_add (ctx, "m.markets", merchant_no, NULL, 1);
        merchants_count_add (ctx, "k.active", market_no, NULL, 1);
    }
    if (free) {
        merchants_count_add (ctx, "k.free", market_no, NULL, 1);
        //  A repeated checkin_id is answered from its record (s_repeat),
        //  so this runs once per check-in; the key makes the ledger's
        //  side exactly-once too.
        Tashan__Events__CreditRequest credit = TASHAN__EVENTS__CREDIT_REQUEST__INIT;
        credit.idempotency_key = ts_arena_printf (ctx->arena, "checkin:%s:%s",
                                                  m->id, req->checkin_id);
        credit.subject_id = m->id;
        credit.rule = "market.service";
        credit.quantity = 1;
        credit.note = ts_arena_printf (ctx->arena, "%s (free) at market %s",
                                       req->service, req->market_id);
        credit.month = "";
        ts_emit (ctx, "credit.requested", &credit.base);
    }
}

unsigned
merchants_check_resident (ts_ctx *ctx, const char *person_id)
{
    merchants_state *self = merchants_state_of (ctx);
    ts_key person;
    ts_key_init (&person);
    ts_key_str (&person, person_id);
    ts_val val;
    if (!ts_txn_get (ctx->txn, self->persons, person.data, person.size, &val))
        return ts_fail (ctx, TS_UNPROCESSABLE, "no person %s", person_id);
    if (val.size == 1 && ((const uint8_t *) val.data) [0] == 1)
        return ts_fail (ctx, TS_UNPROCESSABLE, "person %s has moved out of the community",
                        person_id);
    return 0;
}

//  Who was served, and their tier: from the card code the resident showed
//  (a merchant learns a tier only that way, checked as of served_ms), or
//  an ops override with a reason, recorded as such.
static unsigned
s_served (ts_ctx *ctx, const Tashan__Merchants__CheckinRequest *req, uint64_t merchant_no,
          int64_t served_ms, const char **person_id, const char **tier, uint64_t *serial)
{
    unsigned rc;
    bool ops = strcmp (ctx->caller->role, "ops") == 0;
    *serial = 0;
    if (req->resident_code [0]) {
        if (req->person_id [0] || req->override_reason [0])
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "give resident_code, or (ops) person_id with override_reason, "
                            "not both");
        ts_cardcode code;
        if ((rc = merchants_cardcode_check (ctx, merchant_no, "resident_code",
                                            req->resident_code, served_ms, &code)))
            return rc;
        *person_id = ts_arena_strdup (ctx->arena, code.person_id);
        *tier = ts_arena_strdup (ctx->arena, code.tier);
        *serial = code.serial;
    }
    else
    if (!ops)
        return ts_fail (ctx, TS_BAD_REQUEST,
                        "resident_code is required: scan the card code the resident shows");
    else
    if (!req->person_id [0] || !req->override_reason [0])
        return ts_fail (ctx, TS_BAD_REQUEST,
                        "without resident_code, ops gives person_id and override_reason");
    else {
        *person_id = req->person_id;
        *tier = merchants_person_tier (ctx, merchants_rules_load (ctx), req->person_id);
    }
    return merchants_check_resident (ctx, *person_id);
}

//  Keep the check-in: what was served to whom, when, at which tier, and
//  what proved it (the code's serial, or the ops override and its reason).
//  The record is the check-in's idempotency record too: it holds the
//  reply and request_hash, and is found by (merchant, checkin_id).
static void
s_checkin_record (ts_ctx *ctx, const Tashan__Merchants__CheckinRequest *req,
                  const Tashan__Merchants__Merchant *m, const char *person_id,
                  const char *tier, uint32_t discount, bool free, int64_t served_ms,
                  uint64_t serial, uint8_t *request_hash)
{
    Tashan__Merchants__Checkin rec = TASHAN__MERCHANTS__CHECKIN__INIT;
    rec.checkin_id = req->checkin_id;
    rec.merchant_id = m->id;
    rec.person_id = (char *) person_id;
    rec.service = req->service;
    rec.market_id = req->market_id;
    rec.free = free;
    rec.tier = (char *) tier;
    rec.discount_percent = discount;
    rec.at_ms = ctx->now_ms;
    rec.served_ms = served_ms;
    rec.code_serial = serial;
    if (!serial) {
        rec.override_by = (char *) ctx->caller->principal;
        rec.override_reason = req->override_reason;
    }
    rec.request_hash.data = request_hash;
    rec.request_hash.len = MERCHANTS_CHECKIN_HASH_BYTES;
    merchants_state *self = merchants_state_of (ctx);
    uint64_t no = ts_txn_next_id (ctx->txn, "checkin");
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, no);
    //  Numbers only grow (a rolled-back one is handed out again), so the
    //  record goes at the end of the table: no search, one leaf a batch.
    ts_txn_append_msg (ctx->txn, self->checkins, k.data, k.size, &rec.base);
    uint8_t key_hash [MERCHANTS_CHECKIN_HASH_BYTES];
    merchants_checkin_keys_hash (key_hash, m->id, req->checkin_id);
    merchants_checkin_keys_put (self->keys, ctx, key_hash, no);
}

//  What a repeat must match: BLAKE2b-128 of the caller (role, binding) and
//  the request as packed (the runtime scoped its records by caller and
//  compared the request's bytes, so this answers as it did).
static void
s_request_hash (ts_ctx *ctx, const Tashan__Merchants__CheckinRequest *req,
                uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES])
{
    size_t size = protobuf_c_message_get_packed_size (&req->base);
    uint8_t *packed = ts_arena_alloc (ctx->arena, size ? size : 1);
    protobuf_c_message_pack (&req->base, packed);
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, MERCHANTS_CHECKIN_HASH_BYTES);
    crypto_generichash_update (&st, (const uint8_t *) ctx->caller->role,
                               strlen (ctx->caller->role) + 1);
    crypto_generichash_update (&st, (const uint8_t *) ctx->caller->binding,
                               strlen (ctx->caller->binding) + 1);
    crypto_generichash_update (&st, packed, size);
    crypto_generichash_final (&st, hash, MERCHANTS_CHECKIN_HASH_BYTES);
}

//  A record of schema 1 (no request_hash) against a repeat: the fields
//  it holds must match (the card code is not kept, only its serial).
static bool
s_legacy_matches (const Tashan__Merchants__CheckinRequest *req,
                  const Tashan__Merchants__Checkin *c, int64_t served_ms)
{
    return strcmp (req->service, c->service) == 0
        && strcmp (req->market_id, c->market_id) == 0
        && strcmp (req->override_reason, c->override_reason) == 0
        && (!req->person_id [0] || strcmp (req->person_id, c->person_id) == 0)
        && (!req->served_at [0] || served_ms == c->served_ms);
}

//  A check-in already recorded under (merchant, checkin_id): 200 and its
//  first reply, or 409 for another request. 0 when it is new.
static unsigned
s_repeat (ts_ctx *ctx, const Tashan__Merchants__CheckinRequest *req, int64_t served_ms,
          const uint8_t hash [MERCHANTS_CHECKIN_HASH_BYTES],
          Tashan__Merchants__CheckinReply *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    Tashan__Merchants__Checkin *c = merchants_checkin_keys_find (self->keys, ctx,
                                                                 req->merchant_id,
                                                                 req->checkin_id);
    if (!c)
        return ts_txn_error (ctx->txn)
             ? ts_fail (ctx, TS_INTERNAL, "store error finding check-in %s", req->checkin_id)
             : 0;
    bool same = c->request_hash.len == 0
              ? s_legacy_matches (req, c, served_ms)
              : c->request_hash.len == MERCHANTS_CHECKIN_HASH_BYTES
             && memcmp (c->request_hash.data, hash, MERCHANTS_CHECKIN_HASH_BYTES) == 0;
    if (!same)
        return ts_fail (ctx, TS_CONFLICT, "checkin_id '%s' was already used for a "
                        "different request", req->checkin_id);
    rep->discount_percent = c->discount_percent;
    rep->tier = c->tier;
    return TS_OK;
}

//  served_at (default now), never in the future beyond an app's clock skew.
static unsigned
s_served_at (ts_ctx *ctx, const char *served_at, int64_t *served_ms)
{
    unsigned rc = ts_check_time (ctx, "served_at", served_at, false, served_ms);
    if (rc)
        return rc;
    if (!served_at [0])
        *served_ms = ctx->now_ms;
    if (*served_ms > ctx->now_ms + MERCHANTS_SERVED_AHEAD_MAX_MS)
        return ts_fail (ctx, TS_BAD_REQUEST, "served_at is in the future");
    return 0;
}

//  A check-in at a market is for a merchant enrolled in it: the market's
//  number, or 422 (no such market) / 409 (not enrolled).
static unsigned
s_check_enrolled (ts_ctx *ctx, const char *market_id, const Tashan__Merchants__Merchant *m,
                  uint64_t merchant_no, uint64_t *market_no)
{
    merchants_state *self = merchants_state_of (ctx);
    if (!s_market_find (ctx, market_id, TS_UNPROCESSABLE, market_no))
        return ctx->code;
    ts_key k;
    ts_val val;
    s_pair_key (&k, *market_no, merchant_no);
    if (!ts_txn_get (ctx->txn, self->enrolments, k.data, k.size, &val))
        return ts_fail (ctx, TS_CONFLICT, "merchant %s is not enrolled in market %s",
                        m->id, market_id);
    return 0;
}

unsigned
merchants_checkin (ts_ctx *ctx, const Tashan__Merchants__CheckinRequest *req,
                   Tashan__Merchants__CheckinReply *rep)
{
    unsigned rc;
    int64_t served_ms;
    if ((rc = ts_check_str (ctx, "checkin_id", req->checkin_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "merchant_id", req->merchant_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "person_id", req->person_id, TS_ID_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "service", req->service, TS_NAME_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "market_id", req->market_id, TS_ID_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "override_reason", req->override_reason, TS_STR_MAX_CHARS,
                            false))
    ||  (rc = s_served_at (ctx, req->served_at, &served_ms)))
        return rc;
    //  A merchant token posts for its own merchant only; ops for any.
    if (strcmp (ctx->caller->role, "ops") != 0
    &&  strcmp (ctx->caller->binding, req->merchant_id) != 0)
        return ts_fail (ctx, TS_FORBIDDEN, "this token may post check-ins only for merchant %s",
                        ctx->caller->binding [0] ? ctx->caller->binding : "(none)");
    uint8_t request_hash [MERCHANTS_CHECKIN_HASH_BYTES];
    s_request_hash (ctx, req, request_hash);
    if ((rc = s_repeat (ctx, req, served_ms, request_hash, rep)))
        return rc;
    uint64_t merchant_no;
    Tashan__Merchants__Merchant *m = NULL;
    if (ts_id_parse (req->merchant_id, 'm', &merchant_no))
        m = merchants_load (ctx, merchant_no);
    if (!m)
        return ts_fail (ctx, TS_UNPROCESSABLE, "no merchant %s", req->merchant_id);
    Tashan__Merchants__Rules *rules = merchants_rules_load (ctx);
    if (strcmp (merchants_standing (ctx, rules, m, merchant_no), "suspended") == 0)
        return ts_fail (ctx, TS_CONFLICT, "merchant %s is suspended", m->id);
    bool free = s_is_free (m, req->service);
    const char *person_id = NULL, *tier = NULL;
    uint64_t serial = 0;
    if ((rc = s_served (ctx, req, merchant_no, served_ms, &person_id, &tier, &serial)))
        return rc;

    uint64_t market_no = 0;
    if (req->market_id [0]
    &&  (rc = s_check_enrolled (ctx, req->market_id, m, merchant_no, &market_no)))
        return rc;
    uint32_t discount = merchants_discount (rules, m, tier);
    assert (discount <= 100);

    s_checkin_record (ctx, req, m, person_id, tier, discount, free, served_ms, serial,
                      request_hash);
    merchants_count_add (ctx, "m.checkins", merchant_no, NULL, 1);
    if (market_no)
        s_checkin_at_market (ctx, req, person_id, m, merchant_no, market_no, free);
    rep->discount_percent = discount;
    rep->tier = (char *) tier;
    return TS_CREATED;
}
