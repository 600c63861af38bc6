/*  =========================================================================
    ledger_core - the ledger's records: data layout, open (default rules
    and settings), subjects, settings, tiers and rules as stored, entries
    and idempotency keys as stored, statement chunks, input checks.
    It calls nothing else of the ledger: board, cache, posting, rules,
    subjects, appeals and school build on it, in that order.

    Data layout (LMDB, one environment under <data-dir>/ledger/). Numbers
    in keys are big-endian; "id\0" is a 0-terminated string; a month is
    its ts_month_index (year*12 + month-1) as a u32.

    subjects         everything per subject, clustered under id\0 + a tag
                     (so an entry dirties few pages: what it writes sorts
                     last in the cluster, mostly on one page):
                     id\0 'e' u32 month u64 seq  -> u64 last seq, then varint
                                                    deltas (a statement chunk:
                                                    the month's entries from
                                                    seq on, ascending; at most
                                                    LEDGER_CHUNK_MAX_BYTES of
                                                    deltas)
                     id\0 'k' u32 month rule\0   -> u64 |effective points| used
                                                    against the rule's cap
                     id\0 'm' u32 month          -> i64 net points of a month
                                                    before the record's
                                                    current_month (absent = 0)
                     id\0 'p' u64 appeal seq     -> "" (a person's appeals)
                     id\0 'r'                    -> tashan.ledger.Subject
                         (persons "p…" from residents, merchants "m…" from
                         merchants, with index sum, card, entry count, and
                         the net points of its latest month)
    pupils           pupil_no\0 school_id\0      -> person id (raw bytes)
    entries          u64 seq                     -> tashan.ledger.Entry ("e<seq>"),
                     append-only: the next seq follows the last key
    key_gens         u32 gen hash[16]            -> u64 entry seq: idempotency
                     records in generations of 2^20 entries (ledger_keys.c);
                     hash = BLAKE2b-128 of the (scope, key) key below
                     (scope per source: "panel", "ops", "volunteers"…,
                     "school/<id>"; also Evaluate's: the entry is its
                     stored reply)
    key_blooms       u32 gen                     -> the sealed generation's
                                                    Bloom filter
    key_log          u64 seq                     -> hash[16]: the idempotency
                     records of the generations not sealed yet, in the
                     order of their entries (appended: a batch dirties
                     one leaf), found through an index in memory; moved
                     into key_gens in hash order when their generation is
                     sealed
    keys             scope\0 key\0               -> u64 entry seq: the records
                     before generations, moved to key_gens on open (empty)
    reversals        u64 seq (reversed)          -> u64 seq (its reversal)
    rules            code\0                      -> tashan.ledger.Rule
    config           "settings"                  -> tashan.ledger.Settings
                     "key_sealed"                -> u32 generations sealed
                     "layout"                    -> "1" once known_* are kept
    board            u32 month u64 rank id\0     -> "" (rank = ~(points^2^63),
                     so the best month comes first; listed persons, net != 0)
    hh_month         u32 month household\0       -> i64 listed members' points
    bld_month        u32 month building\0        -> i64 listed persons' points
                     (both as folded: add what sum_log still holds)
    sum_log          u64 id                      -> deltas of hh_month and
                     bld_month not folded yet (appended; ledger_sums.c)
    households       household\0                 -> u64 listed members, then
                                                    the building number
    buildings        building\0                  -> u64 listed persons
    known_households household\0                -> u64 current residents (any
                                                    consent), then the building
                                                    number: every household of
                                                    the community, ranked
    known_buildings  building\0                 -> "" (every building of the
                     community: residents' building.* and persons' buildings)
    frozen           u32 month u8 kind u32 rank  -> tashan.ledger.RankingRow
                     (kind 'h' households, 'b' buildings: the rankings as
                     published when the month closed)
    appeals          u64 seq                     -> tashan.ledger.Appeal ("a<seq>")
    entry_appeal     u64 entry seq               -> u64 appeal seq (open ones)

    Invariants (asserted where they are changed): an entry is written once
    and never changed; a subject's card never goes below 0; index =
    LEDGER_BASE_INDEX + Σ effective points of its non-redemption entries;
    a month's net = Σ of the same per month; an entry is reversed at most
    once; an 'm' key is for a month before its record's current_month and
    holds a net != 0. A request changes subjects' aggregates in its
    working set and writes each once (ledger_cache.c).
    =========================================================================
*/
#include "ledger_core.h"
#include "ts_valid.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#define LEDGER_TABLES_MAGIC 0x4c454447u

//  Default rules, seeded when absent (ops may change them later).
typedef struct {
    const char *code;
    int64_t points;
    int64_t cap_points;
    const char *roles [3];
    const char *description;
} s_default_rule;

static const s_default_rule s_default_rules [] = {
    { "garbage_sorting.good", 2, 10, { "panel", "ops" }, "Sorts household garbage well" },
    { "garbage_sorting.bad", -5, 20, { "panel", "ops" }, "Garbage not sorted or dumped" },
    { "parking.good", 2, 10, { "panel", "ops" }, "Parks in order, keeps fire lanes free" },
    { "parking.bad", -5, 20, { "panel", "ops" }, "Parking blocks lanes or fire exits" },
    { "civil_conduct.good", 3, 15, { "panel", "ops" }, "Civil conduct: helps neighbours, keeps the peace" },
    { "civil_conduct.bad", -5, 20, { "panel", "ops" }, "Uncivil conduct in the community" },
    { "volunteer.hour", 1, 40, { "volunteers", "ops" }, "One confirmed volunteer service hour" },
    { "school.medal", 5, 20, { "school" }, "School credit medal" },
    { "market.service", 2, 20, { "merchants" }, "Service given at the convenience market" },
    { "proposal.adopted", 10, 30, { "proposals", "ops" }, "A resident proposal was adopted" },
    { "programme.attended", 1, 20, { "volunteers", "ops" }, "Attended a neighbourhood-space programme session" },
};

static const char *const s_default_tier_names [] = { "AAA", "AA", "A", "B", "C", "D" };
static const int64_t s_default_tier_mins [] = { 1050, 1030, 960, 850, 600, 0 };
#define DEFAULT_RED_LIST_SIZE 10

//  --------------------------------------------------------------------
//  Small helpers

static ts_table
s_table (ts_store *store, const char *name)
{
    return ts_store_table (store, name);
}

ledger_tables *
ledger_tables_of (ts_ctx *ctx)
{
    assert (ctx && ctx->state);
    ledger_tables *t = ctx->state;
    assert (t->magic == LEDGER_TABLES_MAGIC);
    return t;
}

bool
ledger_id_ok (const char *id)
{
    if (!id || !*id)
        return false;
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
               || c == '.' || c == '_' || c == '-' || c == ':';
        if (!ok || n >= TS_ID_MAX_CHARS)
            return false;
    }
    return true;
}

unsigned
ledger_check_id (ts_ctx *ctx, const char *field, const char *id)
{
    if (!id || !*id)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s is required", field);
    if (!ledger_id_ok (id))
        return ts_fail (ctx, TS_BAD_REQUEST,
                        "%s must be 1 to %d characters of letters, digits, '.', '_', '-', ':'",
                        field, TS_ID_MAX_CHARS);
    return 0;
}

unsigned
ledger_check_url (ts_ctx *ctx, const char *field, const char *url)
{
    unsigned rc = ts_check_str (ctx, field, url, TS_STR_MAX_CHARS, false);
    if (rc)
        return rc;
    if (!url || !*url)
        return 0;
    if (strncmp (url, "https://", 8) != 0 && strncmp (url, "http://", 7) != 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s must be an http:// or https:// URL", field);
    for (const char *p = url; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '\n')
            return ts_fail (ctx, TS_BAD_REQUEST, "%s must not contain spaces", field);
    return 0;
}

//  --------------------------------------------------------------------
//  Open: table handles, default rules and settings.

unsigned
ledger_core_open (ts_ctx *ctx, void **state)
{
    ts_store *store = ts_txn_store (ctx->txn);
    ledger_tables *t = calloc (1, sizeof *t);
    assert (t);
    t->magic = LEDGER_TABLES_MAGIC;
    t->subjects = s_table (store, "subjects");
    t->pupils = s_table (store, "pupils");
    t->entries = s_table (store, "entries");
    t->keys = s_table (store, "keys");
    t->key_gens = s_table (store, "key_gens");
    t->key_blooms = s_table (store, "key_blooms");
    t->key_log = s_table (store, "key_log");
    t->reversals = s_table (store, "reversals");
    t->rules = s_table (store, "rules");
    t->config = s_table (store, "config");
    t->board = s_table (store, "board");
    t->hh_month = s_table (store, "hh_month");
    t->bld_month = s_table (store, "bld_month");
    t->sum_log = s_table (store, "sum_log");
    t->households = s_table (store, "households");
    t->buildings = s_table (store, "buildings");
    t->appeals = s_table (store, "appeals");
    t->entry_appeal = s_table (store, "entry_appeal");
    t->known_households = s_table (store, "known_households");
    t->known_buildings = s_table (store, "known_buildings");
    t->frozen = s_table (store, "frozen");
    *state = t;
    ctx->state = t;

    //  Default rules: seeded once each, never overwriting ops' changes.
    size_t n = sizeof s_default_rules / sizeof s_default_rules [0];
    for (size_t i = 0; i < n; i++) {
        const s_default_rule *d = &s_default_rules [i];
        ts_key k;
        ts_key_init (&k);
        ts_key_str (&k, d->code);
        ts_val v;
        if (ts_txn_get (ctx->txn, t->rules, k.data, k.size, &v))
            continue;
        Tashan__Ledger__Rule rule = TASHAN__LEDGER__RULE__INIT;
        rule.code = (char *) d->code;
        rule.points = d->points;
        rule.monthly_cap_points = d->cap_points;
        size_t roles = 0;
        while (roles < 3 && d->roles [roles])
            roles++;
        rule.n_roles = roles;
        rule.roles = (char **) d->roles;
        rule.description = (char *) d->description;
        ts_txn_put_msg (ctx->txn, t->rules, k.data, k.size, &rule.base);
    }
    ts_val v;
    if (!ts_txn_get (ctx->txn, t->config, "settings", 8, &v)) {
        Tashan__Ledger__Settings settings = TASHAN__LEDGER__SETTINGS__INIT;
        Tashan__Ledger__Tier tiers [6];
        Tashan__Ledger__Tier *tier_ptrs [6];
        for (size_t i = 0; i < 6; i++) {
            tashan__ledger__tier__init (&tiers [i]);
            tiers [i].tier = (char *) s_default_tier_names [i];
            tiers [i].min_index = s_default_tier_mins [i];
            tier_ptrs [i] = &tiers [i];
        }
        settings.n_tiers = 6;
        settings.tiers = tier_ptrs;
        settings.red_list_size = DEFAULT_RED_LIST_SIZE;
        ts_txn_put_msg (ctx->txn, t->config, "settings", 8, &settings.base);
    }
    return TS_OK;
}

void
ledger_core_close (void *state)
{
    ledger_tables *t = state;
    if (!t)
        return;
    assert (t->magic == LEDGER_TABLES_MAGIC);
    t->magic = 0;
    free (t);
}

//  --------------------------------------------------------------------
//  Subjects

void
ledger_subject_key (ts_key *key, const char *id, char tag)
{
    assert (ledger_id_ok (id));
    ts_key_init (key);
    ts_key_str (key, id);
    ts_key_bytes (key, &tag, 1);
}

ledger_subject *
ledger_subject_get (ts_ctx *ctx, const char *id)
{
    ledger_tables *t = ledger_tables_of (ctx);
    if (!ledger_id_ok (id))
        return NULL;
    ts_key k;
    ledger_subject_key (&k, id, LEDGER_TAG_RECORD);
    return ts_txn_get_msg (ctx->txn, t->subjects, k.data, k.size,
                           &tashan__ledger__subject__descriptor, ctx->arena);
}

void
ledger_subject_put (ts_ctx *ctx, const ledger_subject *subject)
{
    ledger_tables *t = ledger_tables_of (ctx);
    assert (ledger_id_ok (subject->id));
    assert (subject->card_points >= 0);
    ts_key k;
    ledger_subject_key (&k, subject->id, LEDGER_TAG_RECORD);
    ts_txn_put_msg (ctx->txn, t->subjects, k.data, k.size, &subject->base);
}

//  --------------------------------------------------------------------
//  Settings, tiers, rules

ledger_settings *
ledger_settings_get (ts_ctx *ctx)
{
    ledger_tables *t = ledger_tables_of (ctx);
    ledger_settings *s = ts_txn_get_msg (ctx->txn, t->config, "settings", 8,
                                         &tashan__ledger__settings__descriptor, ctx->arena);
    //  Seeded at open: only a sticky store error makes it vanish, and then
    //  the request fails as a whole; answer with something well-formed.
    if (!s || s->n_tiers == 0) {
        assert (ts_txn_error (ctx->txn) != 0);
        s = ts_arena_alloc (ctx->arena, sizeof *s);
        tashan__ledger__settings__init (s);
        Tashan__Ledger__Tier **tiers = ts_arena_alloc (ctx->arena, sizeof *tiers);
        tiers [0] = ts_arena_alloc (ctx->arena, sizeof **tiers);
        tashan__ledger__tier__init (tiers [0]);
        tiers [0]->tier = "D";
        s->tiers = tiers;
        s->n_tiers = 1;
        s->red_list_size = DEFAULT_RED_LIST_SIZE;
    }
    return s;
}

const char *
ledger_tier_of (const ledger_settings *settings, int64_t index)
{
    assert (settings && settings->n_tiers > 0 && settings->n_tiers <= LEDGER_TIERS_MAX);
    for (size_t i = 0; i < settings->n_tiers; i++)
        if (index >= settings->tiers [i]->min_index)
            return settings->tiers [i]->tier;
    return settings->tiers [settings->n_tiers - 1]->tier;
}

ledger_rule *
ledger_rule_get (ts_ctx *ctx, const char *code)
{
    ledger_tables *t = ledger_tables_of (ctx);
    if (!code || !*code || strlen (code) > TS_ID_MAX_CHARS)
        return NULL;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, code);
    return ts_txn_get_msg (ctx->txn, t->rules, k.data, k.size,
                           &tashan__ledger__rule__descriptor, ctx->arena);
}

bool
ledger_rule_allows (const ledger_rule *rule, const char *source)
{
    assert (rule && source);
    for (size_t i = 0; i < rule->n_roles; i++)
        if (strcmp (rule->roles [i], source) == 0)
            return true;
    return false;
}

//  --------------------------------------------------------------------
//  Entries

ledger_entry *
ledger_entry_get (ts_ctx *ctx, uint64_t seq)
{
    ledger_tables *t = ledger_tables_of (ctx);
    if (seq == 0)
        return NULL;
    uint8_t k [8];
    ts_be64_put (k, seq);
    return ts_txn_get_msg (ctx->txn, t->entries, k, 8, &tashan__ledger__entry__descriptor,
                           ctx->arena);
}

//  Keys up to 1,000 characters do not fit an LMDB key: long ones are
//  stored as "\x01" + their BLAKE2b-256 hash in hex.
void
ledger_scope_key (ts_key *k, const char *scope, const char *key)
{
    assert (strlen (scope) <= TS_ID_MAX_CHARS + 8);
    ts_key_init (k);
    ts_key_str (k, scope);
    size_t len = strlen (key);
    if (len <= 200) {
        ts_key_str (k, key);
        return;
    }
    uint8_t hash [32];
    crypto_generichash (hash, sizeof hash, (const uint8_t *) key, len, NULL, 0);
    //  \1 first: no client key (valid UTF-8 text) can collide with a hash.
    char text [1 + 64 + 1];
    text [0] = 1;
    sodium_bin2hex (text + 1, sizeof text - 1, hash, sizeof hash);
    ts_key_str (k, text);
}

void
ledger_emit_standing (ts_ctx *ctx, const ledger_subject *subject, const char *tier)
{
    Tashan__Events__Standing st = TASHAN__EVENTS__STANDING__INIT;
    st.subject_id = subject->id;
    st.index = ledger_index (subject);
    st.tier = (char *) tier;
    ts_emit (ctx, "standing.changed", &st.base);
}

//  --------------------------------------------------------------------
//  Statement chunks: id\0 'e' u32 month u64 first seq -> u64 last seq,
//  then the varint deltas of the chunk's later seqs (ascending, in the
//  same month).

size_t
ledger_statement_decode (uint64_t first_seq, const void *data, size_t size,
                         uint64_t *seqs, size_t max)
{
    assert (max >= 1);
    if (size < 8 || size > 8 + LEDGER_CHUNK_MAX_BYTES)
        return 0;
    const uint8_t *p = data, *end = p + size;
    uint64_t last = ts_be64_get (p);
    p += 8;
    size_t n = 0;
    seqs [n++] = first_seq;
    uint64_t seq = first_seq;
    while (p < end && n < max) {
        uint64_t delta = 0;
        for (int shift = 0; p < end && shift < 64; shift += 7) {
            uint8_t byte = *p++;
            delta |= (uint64_t) (byte & 0x7f) << shift;
            if (!(byte & 0x80))
                break;
        }
        if (delta == 0)
            return 0;           //  malformed: seqs strictly increase
        seq += delta;
        seqs [n++] = seq;
    }
    return p == end && seq == last ? n : 0;
}
