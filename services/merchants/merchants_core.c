/*  =========================================================================
    merchants_core - registry, code, complaints, standing, mirrored events

    Data layout (LMDB tables of the merchants daemon; numbers are
    big-endian so key order is numeric order; "s\0" is a 0-terminated
    string):

    merchants     u64 merchant no                 -> Merchant (packed; standing "")
    history       u64 merchant no, u32 version    -> Merchant, every version kept
    licences      licence_no\0                    -> u64 merchant no
    complaints    u64 merchant no, u64 complaint  -> Complaint
    markets       u64 market no                   -> Market
    market_dates  date\0 (YYYY-MM-DD), u64 market -> "" (markets by date)
    enrolments    u64 market no, u64 merchant no  -> i64 enrolled_at_ms
    attended      u64 merchant no, u64 market no  -> "" (served someone there)
    served        u64 market no, person_id\0      -> "" (distinct residents)
    checkins      u64 check-in no                 -> Checkin
    counters      name\0, u64 no [, sub\0]        -> u64 count, names:
                    m.checkins  merchant: services given
                    m.markets   merchant: markets attended
                    m.open      merchant: open complaints
                    m.upheld    merchant: upheld complaints
                    k.checkins  market: check-ins
                    k.residents market: distinct residents served
                    k.merchants market: merchants enrolled
                    k.active    market: merchants with a check-in
                    k.free      market: free services given
                    k.svc       market, service\0 + "\x01" free / "\x02" paid
    persons       person_id\0                     -> u8 1 archived, 0 present
    standings     subject_id\0 (p… or m…)         -> tashan.events.Standing
    settings      "rules"                         -> Rules (absent: the defaults)
                  "key_fingerprint"               -> 16 bytes
    notices       u32 seq                         -> Notice

    Merchant numbers, complaint numbers, market numbers and check-in
    numbers come from ts_txn_next_id ("merchant", "complaint", "market",
    "checkin", "notice"); ids are "m<n>", "q<n>", "k<n>", "t<n>".
    =========================================================================
*/
#include "merchants_core.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "ts_valid.h"

static const char *const s_kinds [] = { "enterprise", "institution", "individual", NULL };
static const char *const s_complaint_status [] = { "open", "upheld", "dismissed", NULL };
static const char *const s_resolutions [] = { "upheld", "dismissed", NULL };

#define RULES_KEY "rules"
#define FINGERPRINT_KEY "key_fingerprint"
#define INDEX_LIMIT 1000000         //  |index| thresholds accepted in rules

//  --------------------------------------------------------------------
//  Small helpers

merchants_state *
merchants_state_of (ts_ctx *ctx)
{
    assert (ctx && ctx->state);
    merchants_state *self = (merchants_state *) ctx->state;
    assert (self->magic == MERCHANTS_STATE_MAGIC);
    return self;
}

bool
merchants_caller_is_staff (const ts_ctx *ctx)
{
    return strcmp (ctx->caller->role, "ops") == 0
        || strcmp (ctx->caller->role, "system") == 0;
}

//  A merchant-role caller may act only for its own merchant.
static unsigned
s_check_own (ts_ctx *ctx, const char *merchant_id)
{
    if (merchants_caller_is_staff (ctx))
        return 0;
    if (strcmp (ctx->caller->role, "merchant") == 0
    &&  strcmp (ctx->caller->binding, merchant_id) == 0)
        return 0;
    return ts_fail (ctx, TS_FORBIDDEN, "this token may act only for merchant %s",
                    ctx->caller->binding [0] ? ctx->caller->binding : "(none)");
}

static void
s_key_no (ts_key *k, uint64_t no)
{
    ts_key_init (k);
    ts_key_u64 (k, no);
}

unsigned
merchants_check_list (ts_ctx *ctx, const char *field, char **items, size_t n,
                      size_t max, size_t max_chars)
{
    unsigned rc;
    if ((rc = ts_check_count (ctx, field, n, max)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        const char *name = ts_arena_printf (ctx->arena, "%s[%zu]", field, i);
        if ((rc = ts_check_str (ctx, name, items [i], max_chars, true)))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp (items [i], items [j]) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST, "%s repeats '%s'", name, items [i]);
    }
    return 0;
}

//  A discount table: at most 16 rows, tiers 1..8 letters or +/-, unique,
//  percent 0..100.
static unsigned
s_check_discounts (ts_ctx *ctx, const char *field,
                   Tashan__Merchants__TierDiscount **rows, size_t n)
{
    unsigned rc;
    if ((rc = ts_check_count (ctx, field, n, MERCHANTS_TIERS_MAX)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        const char *tier = rows [i]->tier;
        const char *name = ts_arena_printf (ctx->arena, "%s[%zu].tier", field, i);
        if ((rc = ts_check_str (ctx, name, tier, MERCHANTS_TIER_MAX_CHARS, true)))
            return rc;
        for (const char *p = tier; *p; p++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
               || *p == '+' || *p == '-'))
                return ts_fail (ctx, TS_BAD_REQUEST,
                                "%s may hold only letters, '+' and '-'", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp (tier, rows [j]->tier) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST, "%s repeats tier '%s'", name, tier);
        if (rows [i]->discount_percent > 100)
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "%s[%zu].discount_percent must be between 0 and 100", field, i);
    }
    return 0;
}

//  --------------------------------------------------------------------
//  Counters

static void
s_counter_key (ts_key *k, const char *name, uint64_t id, const char *sub)
{
    ts_key_init (k);
    ts_key_str (k, name);
    ts_key_u64 (k, id);
    if (sub)
        ts_key_str (k, sub);
}

void
merchants_count_add (ts_ctx *ctx, const char *name, uint64_t id,
                     const char *sub, int64_t delta)
{
    merchants_state *self = merchants_state_of (ctx);
    ts_key k;
    s_counter_key (&k, name, id, sub);
    int64_t now = ts_txn_add_i64 (ctx->txn, self->counters, k.data, k.size, delta);
    assert (now >= 0);
}

uint32_t
merchants_count_get (ts_ctx *ctx, const char *name, uint64_t id, const char *sub)
{
    merchants_state *self = merchants_state_of (ctx);
    ts_key k;
    s_counter_key (&k, name, id, sub);
    uint64_t v = ts_txn_get_u64 (ctx->txn, self->counters, k.data, k.size, 0);
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t) v;
}

//  --------------------------------------------------------------------
//  Rules

static Tashan__Merchants__Rules *
s_rules_default (ts_arena *arena)
{
    static const struct { const char *tier; uint32_t percent; } table [] = {
        { "AAA", 15 }, { "AA", 10 }, { "A", 5 }, { "B", 0 }, { "C", 0 }, { "D", 0 },
    };
    const size_t n = sizeof table / sizeof table [0];
    Tashan__Merchants__Rules *r = ts_arena_alloc (arena, sizeof *r);
    tashan__merchants__rules__init (r);
    r->watch_complaints = 2;
    r->suspend_upheld = 3;
    r->watch_below_index = 850;
    r->suspend_below_index = 600;
    r->base_index = 1000;
    r->default_tier = "A";
    r->n_discounts = n;
    r->discounts = ts_arena_alloc (arena, n * sizeof *r->discounts);
    for (size_t i = 0; i < n; i++) {
        Tashan__Merchants__TierDiscount *row = ts_arena_alloc (arena, sizeof *row);
        tashan__merchants__tier_discount__init (row);
        row->tier = (char *) table [i].tier;
        row->discount_percent = table [i].percent;
        r->discounts [i] = row;
    }
    return r;
}

Tashan__Merchants__Rules *
merchants_rules_load (ts_ctx *ctx)
{
    merchants_state *self = merchants_state_of (ctx);
    Tashan__Merchants__Rules *r = ts_txn_get_msg (ctx->txn, self->settings, RULES_KEY,
                                                  sizeof RULES_KEY - 1,
                                                  &tashan__merchants__rules__descriptor,
                                                  ctx->arena);
    return r ? r : s_rules_default (ctx->arena);
}

unsigned
merchants_rules_get (ts_ctx *ctx, const Tashan__Merchants__GetRulesRequest *req,
                     Tashan__Merchants__Rules *rep)
{
    (void) req;
    *rep = *merchants_rules_load (ctx);
    return TS_OK;
}

unsigned
merchants_rules_set (ts_ctx *ctx, const Tashan__Merchants__Rules *req,
                     Tashan__Merchants__Rules *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = ts_check_range (ctx, "watch_complaints", req->watch_complaints, 1, 1000))
    ||  (rc = ts_check_range (ctx, "suspend_upheld", req->suspend_upheld, 1, 1000))
    ||  (rc = ts_check_range (ctx, "watch_below_index", req->watch_below_index,
                              -INDEX_LIMIT, INDEX_LIMIT))
    ||  (rc = ts_check_range (ctx, "suspend_below_index", req->suspend_below_index,
                              -INDEX_LIMIT, req->watch_below_index))
    ||  (rc = ts_check_range (ctx, "base_index", req->base_index, -INDEX_LIMIT, INDEX_LIMIT))
    ||  (rc = ts_check_str (ctx, "default_tier", req->default_tier,
                            MERCHANTS_TIER_MAX_CHARS, true))
    ||  (rc = s_check_discounts (ctx, "discounts", req->discounts, req->n_discounts))
    ||  (rc = ts_check_str (ctx, "code_url_prefix", req->code_url_prefix, 200, false)))
        return rc;
    if (req->n_discounts == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "discounts is required (one row per tier)");
    //  The QR payload must stay printable ASCII (no spaces).
    for (const char *p = req->code_url_prefix; *p; p++)
        if (*p <= ' ' || *p > '~')
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "code_url_prefix may hold only printable ASCII without spaces");
    ts_txn_put_msg (ctx->txn, self->settings, RULES_KEY, sizeof RULES_KEY - 1, &req->base);
    *rep = *req;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Standing, tiers and discounts

//  The ledger's last Standing for a subject, or NULL.
static Tashan__Events__Standing *
s_standing_of (ts_ctx *ctx, const char *subject_id)
{
    merchants_state *self = merchants_state_of (ctx);
    if (strlen (subject_id) > MERCHANTS_ID_MAX_CHARS)
        return NULL;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, subject_id);
    return ts_txn_get_msg (ctx->txn, self->standings, k.data, k.size,
                           &tashan__events__standing__descriptor, ctx->arena);
}

const char *
merchants_standing (ts_ctx *ctx, const Tashan__Merchants__Rules *rules,
                    const Tashan__Merchants__Merchant *m, uint64_t id)
{
    assert (rules && m && id > 0);
    Tashan__Events__Standing *ledger = s_standing_of (ctx, m->id);
    int64_t index = ledger ? ledger->index : rules->base_index;
    uint32_t open = merchants_count_get (ctx, "m.open", id, NULL);
    uint32_t upheld = merchants_count_get (ctx, "m.upheld", id, NULL);
    if (m->suspended || upheld >= rules->suspend_upheld
    ||  index < rules->suspend_below_index)
        return "suspended";
    if ((uint64_t) open + upheld >= rules->watch_complaints
    ||  index < rules->watch_below_index)
        return "watch";
    return "good";
}

uint32_t
merchants_discount (const Tashan__Merchants__Rules *rules,
                    const Tashan__Merchants__Merchant *m, const char *tier)
{
    assert (rules && m && tier);
    assert (m->n_discounts <= MERCHANTS_TIERS_MAX);
    for (size_t i = 0; i < m->n_discounts; i++)
        if (strcmp (m->discounts [i]->tier, tier) == 0)
            return m->discounts [i]->discount_percent;
    for (size_t i = 0; i < rules->n_discounts && i < MERCHANTS_TIERS_MAX; i++)
        if (strcmp (rules->discounts [i]->tier, tier) == 0)
            return rules->discounts [i]->discount_percent;
    return 0;
}

const char *
merchants_person_tier (ts_ctx *ctx, const Tashan__Merchants__Rules *rules,
                       const char *person_id)
{
    Tashan__Events__Standing *ledger = s_standing_of (ctx, person_id);
    if (ledger && ledger->tier [0])
        return ledger->tier;
    return rules->default_tier;
}

//  --------------------------------------------------------------------
//  Events from other daemons

unsigned
merchants_apply_person (ts_ctx *ctx, const Tashan__Events__Person *person)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = ts_check_str (ctx, "person_id", person->person_id,
                            MERCHANTS_ID_MAX_CHARS, true)))
        return rc;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, person->person_id);
    uint8_t archived = person->archived ? 1 : 0;
    ts_txn_put (ctx->txn, self->persons, k.data, k.size, &archived, 1);
    return TS_OK;
}

unsigned
merchants_apply_standing (ts_ctx *ctx, const Tashan__Events__Standing *standing)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = ts_check_str (ctx, "subject_id", standing->subject_id,
                            MERCHANTS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "tier", standing->tier, MERCHANTS_TIER_MAX_CHARS, false)))
        return rc;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, standing->subject_id);
    ts_txn_put_msg (ctx->txn, self->standings, k.data, k.size, &standing->base);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  open / close

unsigned
merchants_open (ts_ctx *ctx, void **state_p)
{
    merchants_state *self = calloc (1, sizeof *self);
    if (!self)
        return ts_fail (ctx, TS_INTERNAL, "out of memory");
    self->magic = MERCHANTS_STATE_MAGIC;
    ts_store *store = ts_txn_store (ctx->txn);
    const char *dir = NULL;
    char err [256] = "";
    if (mdb_env_get_path (ts_store_env (store), &dir) != 0 || !dir
    ||  merchants_code_key_load (dir, self->key, err, sizeof err) != 0) {
        free (self);
        return ts_fail (ctx, TS_INTERNAL, "code key: %s", err [0] ? err : "no data dir");
    }
    self->merchants = ts_store_table (store, "merchants");
    self->history = ts_store_table (store, "history");
    self->licences = ts_store_table (store, "licences");
    self->complaints = ts_store_table (store, "complaints");
    self->markets = ts_store_table (store, "markets");
    self->market_dates = ts_store_table (store, "market_dates");
    self->enrolments = ts_store_table (store, "enrolments");
    self->attended = ts_store_table (store, "attended");
    self->served = ts_store_table (store, "served");
    self->checkins = ts_store_table (store, "checkins");
    self->counters = ts_store_table (store, "counters");
    self->persons = ts_store_table (store, "persons");
    self->standings = ts_store_table (store, "standings");
    self->settings = ts_store_table (store, "settings");
    self->notices = ts_store_table (store, "notices");

    //  A key that differs from the one the store was started with would
    //  silently void every printed code: refuse to start instead.
    uint8_t print [MERCHANTS_CODE_FINGERPRINT_BYTES];
    merchants_code_fingerprint (self->key, print);
    ts_val val;
    bool known = ts_txn_get (ctx->txn, self->settings, FINGERPRINT_KEY,
                             sizeof FINGERPRINT_KEY - 1, &val);
    bool matches = known && val.size == sizeof print
                && memcmp (val.data, print, sizeof print) == 0;
    if (!known)
        ts_txn_put (ctx->txn, self->settings, FINGERPRINT_KEY,
                    sizeof FINGERPRINT_KEY - 1, print, sizeof print);
    if ((known && !matches) || ts_txn_error (ctx->txn)) {
        merchants_close (self);
        return ts_fail (ctx, TS_INTERNAL, known && !matches
                        ? "code.key does not match this store: restore the key "
                          "this store was created with"
                        : "store error opening the merchants tables");
    }
    *state_p = self;
    return TS_OK;
}

void
merchants_close (void *state)
{
    merchants_state *self = state;
    if (!self)
        return;
    assert (self->magic == MERCHANTS_STATE_MAGIC);
    sodium_memzero (self->key, sizeof self->key);
    self->magic = 0;
    free (self);
}

//  --------------------------------------------------------------------
//  Registry

Tashan__Merchants__Merchant *
merchants_load (ts_ctx *ctx, uint64_t id)
{
    merchants_state *self = merchants_state_of (ctx);
    ts_key k;
    s_key_no (&k, id);
    return ts_txn_get_msg (ctx->txn, self->merchants, k.data, k.size,
                           &tashan__merchants__merchant__descriptor, ctx->arena);
}

//  Load by id text; 404 (or the given code) naming the field when absent.
static Tashan__Merchants__Merchant *
s_find (ts_ctx *ctx, const char *id_text, unsigned code, uint64_t *id)
{
    if (!ts_id_parse (id_text, 'm', id)) {
        ts_fail (ctx, code, "no merchant %.64s", id_text ? id_text : "");
        return NULL;
    }
    Tashan__Merchants__Merchant *m = merchants_load (ctx, *id);
    if (!m)
        ts_fail (ctx, code, "no merchant %.64s", id_text);
    return m;
}

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
    s_key_no (&k, id);
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
    if ((rc = ts_check_str (ctx, "name", name, TS_NAME_MAX_CHARS, create))
    ||  (rc = ts_check_str (ctx, "category", category, TS_NAME_MAX_CHARS, create))
    ||  (rc = ts_check_str (ctx, "address", address, TS_STR_MAX_CHARS, false))
    ||  (rc = merchants_check_list (ctx, "services", services, n_services,
                                    MERCHANTS_SERVICES_MAX, TS_NAME_MAX_CHARS))
    ||  (rc = merchants_check_list (ctx, "free_services", free_services, n_free,
                                    MERCHANTS_SERVICES_MAX, TS_NAME_MAX_CHARS))
    ||  (rc = ts_check_str (ctx, "licence_no", licence_no, TS_NAME_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "contact", contact, TS_NAME_MAX_CHARS, false))
    ||  (rc = s_check_discounts (ctx, "discounts", discounts, n_discounts)))
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

unsigned
merchants_update (ts_ctx *ctx, const Tashan__Merchants__UpdateMerchantRequest *req,
                  Tashan__Merchants__Merchant *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    uint64_t id;
    Tashan__Merchants__Merchant *m = s_find (ctx, req->id, TS_NOT_FOUND, &id);
    if (!m)
        return ctx->code;
    unsigned rc;
    if ((rc = s_check_fields (ctx, false, req->name, req->kind, req->category, req->address,
                              req->services, req->n_services,
                              req->free_services, req->n_free_services,
                              req->licence_no, req->contact,
                              req->discounts, req->n_discounts)))
        return rc;
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
    if ((rc = s_check_own (ctx, req->id)))
        return rc;
    uint64_t id;
    Tashan__Merchants__Merchant *m = s_find (ctx, req->id, TS_NOT_FOUND, &id);
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
    if ((rc = s_check_own (ctx, req->id)))
        return rc;
    uint64_t id;
    if (!s_find (ctx, req->id, TS_NOT_FOUND, &id))
        return ctx->code;
    ts_key prefix;
    s_key_no (&prefix, id);
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

//  --------------------------------------------------------------------
//  The code

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
    if ((rc = s_check_own (ctx, req->id)))
        return rc;
    uint64_t id;
    Tashan__Merchants__Merchant *m = s_find (ctx, req->id, TS_NOT_FOUND, &id);
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

//  --------------------------------------------------------------------
//  Complaints

static void
s_complaint_count (ts_ctx *ctx, uint64_t merchant, const char *status, int64_t delta)
{
    if (strcmp (status, "open") == 0)
        merchants_count_add (ctx, "m.open", merchant, NULL, delta);
    else
    if (strcmp (status, "upheld") == 0)
        merchants_count_add (ctx, "m.upheld", merchant, NULL, delta);
    else
        assert (strcmp (status, "dismissed") == 0);
}

unsigned
merchants_complaint_add (ts_ctx *ctx, const Tashan__Merchants__AddComplaintRequest *req,
                         Tashan__Merchants__Complaint *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    uint64_t merchant;
    Tashan__Merchants__Merchant *m = s_find (ctx, req->id, TS_NOT_FOUND, &merchant);
    if (!m)
        return ctx->code;
    unsigned rc;
    const char *status = req->status [0] ? req->status : "open";
    if ((rc = ts_check_str (ctx, "summary", req->summary, TS_STR_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "category", req->category, TS_NAME_MAX_CHARS, false))
    ||  (rc = ts_check_enum (ctx, "status", status, s_complaint_status))
    ||  (rc = ts_check_str (ctx, "resolution_note", req->resolution_note,
                            TS_STR_MAX_CHARS, false)))
        return rc;
    uint64_t no = ts_txn_next_id (ctx->txn, "complaint");
    rep->id = ts_id_text (ctx->arena, 'q', no);
    rep->merchant_id = m->id;
    rep->summary = req->summary;
    rep->category = req->category;
    rep->status = (char *) status;
    rep->resolution_note = req->resolution_note;
    rep->created_at_ms = ctx->now_ms;
    rep->resolved_at_ms = strcmp (status, "open") == 0 ? 0 : ctx->now_ms;
    rep->recorded_by = (char *) ctx->caller->principal;
    ts_key k;
    s_key_no (&k, merchant);
    ts_key_u64 (&k, no);
    ts_txn_put_msg (ctx->txn, self->complaints, k.data, k.size, &rep->base);
    s_complaint_count (ctx, merchant, status, 1);
    return TS_CREATED;
}

unsigned
merchants_complaint_resolve (ts_ctx *ctx,
                             const Tashan__Merchants__ResolveComplaintRequest *req,
                             Tashan__Merchants__Complaint *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    uint64_t merchant, no;
    if (!s_find (ctx, req->id, TS_NOT_FOUND, &merchant))
        return ctx->code;
    if (!ts_id_parse (req->complaint_id, 'q', &no))
        return ts_fail (ctx, TS_NOT_FOUND, "no complaint %.64s", req->complaint_id);
    unsigned rc;
    if ((rc = ts_check_enum (ctx, "status", req->status, s_resolutions))
    ||  (rc = ts_check_str (ctx, "resolution_note", req->resolution_note,
                            TS_STR_MAX_CHARS, false)))
        return rc;
    ts_key k;
    s_key_no (&k, merchant);
    ts_key_u64 (&k, no);
    Tashan__Merchants__Complaint *c = ts_txn_get_msg (ctx->txn, self->complaints,
                                                      k.data, k.size,
                                                      &tashan__merchants__complaint__descriptor,
                                                      ctx->arena);
    if (!c)
        return ts_fail (ctx, TS_NOT_FOUND, "no complaint %s for merchant %s",
                        req->complaint_id, req->id);
    if (strcmp (c->status, req->status) == 0)
        return ts_fail (ctx, TS_CONFLICT, "complaint %s is already %s", c->id, c->status);
    s_complaint_count (ctx, merchant, c->status, -1);
    s_complaint_count (ctx, merchant, req->status, 1);
    c->status = req->status;
    if (req->resolution_note [0])
        c->resolution_note = req->resolution_note;
    c->resolved_at_ms = ctx->now_ms;
    c->recorded_by = (char *) ctx->caller->principal;
    ts_txn_put_msg (ctx->txn, self->complaints, k.data, k.size, &c->base);
    *rep = *c;
    return TS_OK;
}

unsigned
merchants_complaint_list (ts_ctx *ctx, const Tashan__Merchants__ListComplaintsRequest *req,
                          Tashan__Merchants__ListComplaintsReply *rep)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = s_check_own (ctx, req->id)))
        return rc;
    uint64_t merchant;
    if (!s_find (ctx, req->id, TS_NOT_FOUND, &merchant))
        return ctx->code;
    ts_key prefix;
    s_key_no (&prefix, merchant);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, self->complaints, prefix.data, prefix.size,
                            req->page_token, req->page_size)))
        return rc;
    rep->complaints = ts_arena_alloc (ctx->arena, pg.size * sizeof *rep->complaints);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        Tashan__Merchants__Complaint *c =
            ts_page_msg (&pg, &tashan__merchants__complaint__descriptor, ctx->arena);
        if (!c)
            break;                  //  corrupt: the txn failed
        rep->complaints [rep->n_complaints++] = c;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    if (ts_txn_error (ctx->txn))
        return ts_fail (ctx, TS_INTERNAL, "store error listing complaints");
    return TS_OK;
}
