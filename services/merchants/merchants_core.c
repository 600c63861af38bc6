/*  =========================================================================
    merchants_core - the merchants daemon's records and shared helpers:
    data layout, open/close, counters, merchants loaded and found by id,
    the "own merchant only" check, and the persons and standings mirrored
    from other daemons' events. It calls no other merchants file; rules,
    registry, complaints, market and notices build on it.

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
    checkins      u64 check-in no                 -> Checkin (appended; it is the
                                                     check-in's idempotency record)
    checkin_keys  hash[16]                        -> u64 check-in no, only for
                                                     check-ins the index in memory
                                                     could not hold
                                                     (merchants_checkin_keys.c)
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

#define FINGERPRINT_KEY "key_fingerprint"

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
unsigned
merchants_check_own (ts_ctx *ctx, const char *merchant_id)
{
    if (merchants_caller_is_staff (ctx))
        return 0;
    if (strcmp (ctx->caller->role, "merchant") == 0
    &&  strcmp (ctx->caller->binding, merchant_id) == 0)
        return 0;
    return ts_fail (ctx, TS_FORBIDDEN, "this token may act only for merchant %s",
                    ctx->caller->binding [0] ? ctx->caller->binding : "(none)");
}

void
merchants_key_no (ts_key *k, uint64_t no)
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
//  Events from other daemons

unsigned
merchants_apply_person (ts_ctx *ctx, const Tashan__Events__Person *person)
{
    merchants_state *self = merchants_state_of (ctx);
    unsigned rc;
    if ((rc = ts_check_str (ctx, "person_id", person->person_id,
                            TS_ID_MAX_CHARS, true)))
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
                            TS_ID_MAX_CHARS, true))
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
    self->checkin_keys = ts_store_table (store, "checkin_keys");

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
    if (!known || matches)
        self->keys = merchants_checkin_keys_new (ctx, self->checkins, self->checkin_keys);
    if ((known && !matches) || !self->keys || ts_txn_error (ctx->txn)) {
        bool no_memory = !self->keys && !ts_txn_error (ctx->txn) && (!known || matches);
        merchants_close (self);
        if (no_memory)
            return ts_fail (ctx, TS_INTERNAL, "out of memory for the check-in index");
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
    merchants_checkin_keys_destroy (&self->keys);
    sodium_memzero (self->key, sizeof self->key);
    self->magic = 0;
    free (self);
}

Tashan__Merchants__Merchant *
merchants_load (ts_ctx *ctx, uint64_t id)
{
    merchants_state *self = merchants_state_of (ctx);
    ts_key k;
    merchants_key_no (&k, id);
    return ts_txn_get_msg (ctx->txn, self->merchants, k.data, k.size,
                           &tashan__merchants__merchant__descriptor, ctx->arena);
}

//  Load by id text; 404 (or the given code) naming the field when absent.
Tashan__Merchants__Merchant *
merchants_find (ts_ctx *ctx, const char *id_text, unsigned code, uint64_t *id)
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

