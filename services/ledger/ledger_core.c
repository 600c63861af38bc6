/*  =========================================================================
    ledger_core - entries, balances, rules, tiers and subjects of the ledger

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
    keys             scope\0 key\0               -> u64 entry seq (idempotency
                     per source: "panel", "ops", "volunteers"…, "school/<id>";
                     also Evaluate's: the entry is its stored reply)
    reversals        u64 seq (reversed)          -> u64 seq (its reversal)
    rules            code\0                      -> tashan.ledger.Rule
    config           "settings"                  -> tashan.ledger.Settings
    board            u32 month u64 rank id\0     -> "" (rank = ~(points^2^63),
                     so the best month comes first; listed persons, net != 0)
    hh_month         u32 month household\0       -> i64 listed members' points
    bld_month        u32 month building\0        -> i64 listed persons' points
    households       household\0                 -> u64 listed members, then
                                                    the building number
    buildings        building\0                  -> u64 listed persons
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
#include "ledger_board.h"
#include "ts_valid.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#define LEDGER_TABLES_MAGIC 0x4c454447u
#define LEDGER_RULES_MAX 1000

//  The sources that may apply a rule (rule.roles values).
static const char *const s_sources [] = {
    "panel", "ops", "school", "volunteers", "merchants", "proposals", NULL
};

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

char *
ledger_time_text (ts_arena *arena, int64_t unix_ms)
{
    //  Asia/Shanghai is UTC+8 all year (no DST since 1991).
    int64_t ms = unix_ms % 1000;
    if (ms < 0)
        ms += 1000;
    time_t secs = (time_t) ((unix_ms - ms) / 1000) + 8 * 3600;
    struct tm tm;
    gmtime_r (&secs, &tm);
    return ts_arena_printf (arena, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+08:00",
                            (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
                            tm.tm_hour, tm.tm_min, tm.tm_sec, (int) ms);
}

int
ledger_month_now (ts_ctx *ctx)
{
    char month [8];
    ts_month_of (ctx->now_ms, month);
    int index = ts_month_index (month);
    assert (index >= 0);
    return index;
}

char *
ledger_month_text (ts_arena *arena, int month_index)
{
    assert (month_index >= 0);
    return ts_arena_printf (arena, "%04d-%02d", month_index / 12, month_index % 12 + 1);
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
        if (!ok || n >= LEDGER_ID_MAX_CHARS)
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
                        field, LEDGER_ID_MAX_CHARS);
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

uint64_t
ledger_id_seq (const char *id, char prefix)
{
    if (!id || id [0] != prefix || id [1] < '1' || id [1] > '9')
        return 0;
    uint64_t v = 0;
    for (const char *p = id + 1; *p; p++) {
        if (*p < '0' || *p > '9' || p - id > 19)
            return 0;
        v = v * 10 + (uint64_t) (*p - '0');
    }
    return v;
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
    t->reversals = s_table (store, "reversals");
    t->rules = s_table (store, "rules");
    t->config = s_table (store, "config");
    t->board = s_table (store, "board");
    t->hh_month = s_table (store, "hh_month");
    t->bld_month = s_table (store, "bld_month");
    t->households = s_table (store, "households");
    t->buildings = s_table (store, "buildings");
    t->appeals = s_table (store, "appeals");
    t->entry_appeal = s_table (store, "entry_appeal");
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

static void
s_pupil_key (ts_key *k, const char *pupil_no, const char *school_id)
{
    ts_key_init (k);
    ts_key_str (k, pupil_no);
    ts_key_str (k, school_id);
}

static bool
s_str_eq (const char *a, const char *b)
{
    return strcmp (a ? a : "", b ? b : "") == 0;
}

static char *
s_dup (ts_ctx *ctx, const char *s)
{
    return ts_arena_strdup (ctx->arena, s ? s : "");
}

unsigned
ledger_core_apply_person (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    ledger_tables *t = ledger_tables_of (ctx);
    const Tashan__Events__Person *p = payload;
    if (!ledger_id_ok (p->person_id) || p->person_id [0] != 'p')
        return ts_fail (ctx, TS_BAD_REQUEST, "person_id '%s' is not a person id",
                        p->person_id);
    if (ts_utf8_chars (p->name) < 0 || ts_utf8_chars (p->name) > TS_NAME_MAX_CHARS
    ||  strlen (p->household_id) > LEDGER_ID_MAX_CHARS
    ||  strlen (p->building_number) > LEDGER_ID_MAX_CHARS
    ||  strlen (p->school_id) > LEDGER_ID_MAX_CHARS
    ||  strlen (p->pupil_no) > LEDGER_ID_MAX_CHARS)
        return ts_fail (ctx, TS_BAD_REQUEST, "person %s has a field over its limit",
                        p->person_id);

    ledger_subject *s = ledger_subject_get (ctx, p->person_id);
    bool listed = !p->archived && p->credit_consent;
    bool attached = false;              //  its aggregates stand as they are
    if (s) {
        bool moved = !s_str_eq (s->household_id, p->household_id)
                  || !s_str_eq (s->building_number, p->building_number);
        attached = s->listed && listed && !moved;
        if (s->listed && !attached)
            ledger_board_detach (ctx, s);
        //  The pupil index follows the latest school and number.
        if (s->pupil_no [0] && s->school_id [0]
        &&  (p->archived || !s_str_eq (s->pupil_no, p->pupil_no)
                         || !s_str_eq (s->school_id, p->school_id))) {
            ts_key k;
            s_pupil_key (&k, s->pupil_no, s->school_id);
            ts_val v;
            if (ts_txn_get (ctx->txn, t->pupils, k.data, k.size, &v)
            &&  v.size == strlen (s->id) && memcmp (v.data, s->id, v.size) == 0)
                ts_txn_del (ctx->txn, t->pupils, k.data, k.size);
        }
    }
    else {
        s = ts_arena_alloc (ctx->arena, sizeof *s);
        tashan__ledger__subject__init (s);
        s->id = s_dup (ctx, p->person_id);
    }
    if (p->consent_recorded_ms > 0) {
        //  The office recorded consent in residents: who gave it (the
        //  person, or a minor's guardian), which account wrote it, when.
        if (s->consent_recorded_ms != p->consent_recorded_ms
        ||  s->credit_consent != p->credit_consent) {
            s->credit_consent = p->credit_consent;
            s->consent_by = s_dup (ctx, p->consent_by);
            s->consent_recorded_by = ts_arena_printf (ctx->arena, "%.64s (residents)",
                p->consent_recorded_by [0] ? p->consent_recorded_by : "community office");
            s->consent_recorded_ms = p->consent_recorded_ms;
        }
    }
    else
    if (s->credit_consent != p->credit_consent || s->consent_recorded_ms == 0) {
        s->credit_consent = p->credit_consent;
        s->consent_recorded_by = "community office (residents)";
        s->consent_recorded_ms = event && event->created_ms ? event->created_ms : ctx->now_ms;
    }
    s->name = s_dup (ctx, p->name);
    s->household_id = s_dup (ctx, p->household_id);
    s->building_number = s_dup (ctx, p->building_number);
    s->school_id = s_dup (ctx, p->school_id);
    s->pupil_no = s_dup (ctx, p->pupil_no);
    s->archived = p->archived;
    s->listed = listed;
    if (listed && !attached)
        ledger_board_attach (ctx, s);
    if (!p->archived && p->pupil_no [0] && p->school_id [0]) {
        ts_key k;
        s_pupil_key (&k, p->pupil_no, p->school_id);
        ts_txn_put (ctx->txn, t->pupils, k.data, k.size, s->id, strlen (s->id));
    }
    assert (s->listed == listed);
    ledger_subject_put (ctx, s);
    return TS_OK;
}

unsigned
ledger_core_apply_merchant (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    const Tashan__Events__Merchant *m = payload;
    if (!ledger_id_ok (m->merchant_id) || m->merchant_id [0] != 'm')
        return ts_fail (ctx, TS_BAD_REQUEST, "merchant_id '%s' is not a merchant id",
                        m->merchant_id);
    if (ts_utf8_chars (m->name) < 0 || ts_utf8_chars (m->name) > TS_STR_MAX_CHARS)
        return ts_fail (ctx, TS_BAD_REQUEST, "merchant %s has a bad name", m->merchant_id);
    ledger_subject *s = ledger_subject_get (ctx, m->merchant_id);
    if (!s) {
        s = ts_arena_alloc (ctx->arena, sizeof *s);
        tashan__ledger__subject__init (s);
        s->id = s_dup (ctx, m->merchant_id);
        //  Units are scored on their conduct as registered; they are
        //  never listed on the residents' boards.
        s->credit_consent = true;
        s->consent_recorded_by = "merchant registration (merchants)";
        s->consent_recorded_ms = event ? event->created_ms : ctx->now_ms;
    }
    s->name = s_dup (ctx, m->name);
    assert (!s->listed);
    ledger_subject_put (ctx, s);
    return TS_OK;
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
    if (!code || !*code || strlen (code) > LEDGER_ID_MAX_CHARS)
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
    assert (strlen (scope) <= LEDGER_ID_MAX_CHARS + 8);
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

uint64_t
ledger_key_get (ts_ctx *ctx, const char *scope, const char *key)
{
    ledger_tables *t = ledger_tables_of (ctx);
    assert (scope && key);
    ts_key k;
    ledger_scope_key (&k, scope, key);
    return ts_txn_get_u64 (ctx->txn, t->keys, k.data, k.size, 0);
}

static void
s_emit_standing (ts_ctx *ctx, const ledger_subject *subject, const char *tier)
{
    Tashan__Events__Standing st = TASHAN__EVENTS__STANDING__INIT;
    st.subject_id = subject->id;
    st.index = ledger_index (subject);
    st.tier = (char *) tier;
    ts_emit (ctx, "standing.changed", &st.base);
}

//  "e<seq>" without printf (one per entry).
static char *
s_entry_id (ts_arena *arena, uint64_t seq)
{
    char digits [24];
    size_t n = 0;
    do {
        digits [n++] = (char) ('0' + seq % 10);
        seq /= 10;
    } while (seq && n < sizeof digits);
    char *id = ts_arena_alloc (arena, n + 2);
    id [0] = 'e';
    for (size_t i = 0; i < n; i++)
        id [1 + i] = digits [n - 1 - i];
    return id;
}

ledger_entry *
ledger_post (ts_ctx *ctx, ledger_cache *cache, ledger_subject *subject,
             const ledger_posting *posting, uint64_t *seq_out)
{
    ledger_tables *t = ledger_tables_of (ctx);
    assert (cache && subject && posting && posting->rule && posting->source);
    assert (posting->month_index > 0 && posting->month_index < 2101 * 12);
    if (!cache->settings)
        cache->settings = ledger_settings_get (ctx);
    if (!cache->created_at)
        cache->created_at = ledger_time_text (ctx->arena, ctx->now_ms);
    if (!cache->month_text || cache->month_index != posting->month_index) {
        cache->month_index = posting->month_index;
        cache->month_text = ledger_month_text (ctx->arena, posting->month_index);
    }
    const ledger_settings *settings = cache->settings;
    const char *old_tier = ledger_tier_of (settings, ledger_index (subject));
    bool first = subject->entry_count == 0;

    const char *kind;
    const char *reason = "";
    int64_t effective = 0, card = 0;
    switch (posting->kind) {
    case LEDGER_SCORED: {
        assert (posting->points != 0);
        kind = posting->points > 0 ? "earning" : "penalty";
        int64_t magnitude = posting->points > 0 ? posting->points : -posting->points;
        int64_t sign = posting->points > 0 ? 1 : -1;
        if (!subject->credit_consent)
            reason = "credit consent withdrawn: recorded without effect";
        else
        if (posting->cap_points > 0) {
            int64_t used = ledger_cache_cap_used (ctx, cache, subject, posting->month_index,
                                                  posting->rule);
            int64_t room = posting->cap_points > used ? posting->cap_points - used : 0;
            int64_t applied = magnitude < room ? magnitude : room;
            if (applied < magnitude)
                reason = applied == 0
                    ? ts_arena_printf (ctx->arena, "monthly cap of %" PRId64
                                       " points for %s reached", posting->cap_points,
                                       posting->rule)
                    : ts_arena_printf (ctx->arena, "monthly cap of %" PRId64
                                       " points for %s reached: %" PRId64 " of %" PRId64
                                       " applied", posting->cap_points, posting->rule,
                                       applied, magnitude);
            if (applied > 0)
                ledger_cache_cap_set (ctx, cache, subject, posting->month_index,
                                      posting->rule, used + applied);
            effective = sign * applied;
        }
        else
            effective = posting->points;
        card = effective > 0 ? effective : 0;
        break;
    }
    case LEDGER_REVERSAL:
        kind = "reversal";
        effective = posting->effective_points;
        card = posting->card_points;
        assert (posting->points == posting->effective_points);
        break;
    case LEDGER_REDEMPTION:
        kind = "redemption";
        assert (posting->points > 0 && posting->points <= subject->card_points);
        effective = posting->points;
        card = -posting->points;
        break;
    default:
        assert (false);
        return NULL;
    }

    uint64_t seq = ledger_cache_seq_next (ctx, cache);
    ledger_entry *e = ts_arena_alloc (ctx->arena, sizeof *e);
    tashan__ledger__entry__init (e);
    e->id = s_entry_id (ctx->arena, seq);
    e->kind = (char *) kind;
    e->rule = (char *) posting->rule;
    e->points = posting->points;
    e->effective_points = effective;
    e->note = (char *) (posting->note ? posting->note : "");
    e->source = (char *) posting->source;
    e->month = (char *) cache->month_text;
    e->created_at = (char *) cache->created_at;
    e->person_id = subject->id;
    e->card_points = card;
    e->reason = (char *) reason;
    e->evidence_url = (char *) (posting->evidence_url ? posting->evidence_url : "");
    e->reverses = (char *) (posting->reverses ? posting->reverses : "");
    e->evaluator = (char *) "";
    if (posting->kind == LEDGER_SCORED && ctx->caller && ctx->caller->principal
    &&  (strcmp (posting->source, "panel") == 0 || strcmp (posting->source, "ops") == 0))
        e->evaluator = ts_arena_strdup (ctx->arena, ctx->caller->principal);
    uint8_t seq_key [8];
    ts_be64_put (seq_key, seq);
    ts_txn_append_msg (ctx->txn, t->entries, seq_key, 8, &e->base);

    bool touches_index = posting->kind != LEDGER_REDEMPTION;
    if (touches_index)
        subject->index_sum_points += effective;
    subject->card_points += card;
    assert (subject->card_points >= 0);
    subject->entry_count++;
    if (touches_index && effective != 0)
        ledger_cache_month_add (ctx, cache, subject, posting->month_index, effective);
    ledger_cache_posted (ctx, cache, subject, posting->month_index, seq);

    const char *new_tier = ledger_tier_of (settings, ledger_index (subject));
    if (first || strcmp (old_tier, new_tier) != 0)
        s_emit_standing (ctx, subject, new_tier);
    if (seq_out)
        *seq_out = seq;
    return e;
}

unsigned
ledger_apply_rule (ts_ctx *ctx, ledger_cache *cache, const char *subject_id,
                   const char *rule_code, int64_t quantity, const char *note,
                   const char *evidence_url, const char *source, int month_index,
                   const char *scope, const char *key, ledger_entry **entry_out)
{
    assert (cache);
    assert ((scope == NULL) == (key == NULL));
    assert (quantity >= 1 && quantity <= LEDGER_QUANTITY_MAX);
    *entry_out = NULL;
    //  The key is claimed first, for the seq the entry will get (where a
    //  lookup and a later put took two searches); a refusal below gives
    //  it back, so a refused request leaves nothing behind.
    ts_key scope_key;
    uint64_t seq_claimed = 0;
    if (scope) {
        ledger_scope_key (&scope_key, scope, key);
        seq_claimed = ledger_cache_seq_peek (ctx, cache);
        uint64_t seq = ledger_cache_key_claim (ctx, cache, &scope_key, seq_claimed);
        if (ts_txn_error (ctx->txn))
            return ts_fail (ctx, TS_INTERNAL, "storage error");
        if (seq) {
            *entry_out = ledger_entry_get (ctx, seq);
            if (!*entry_out)
                return ts_fail (ctx, TS_INTERNAL, "entry e%" PRIu64 " is missing", seq);
            return TS_OK;
        }
    }
    const ledger_rule *rule = cache->rule && strcmp (cache->rule->code, rule_code) == 0
                            ? cache->rule : ledger_rule_get (ctx, rule_code);
    ledger_subject *subject = NULL;
    unsigned rc = 0;
    if (!rule)
        rc = ts_fail (ctx, TS_UNPROCESSABLE, "rule '%s' does not exist", rule_code);
    else {
        cache->rule = rule;
        if (!ledger_rule_allows (rule, source))
            rc = ts_fail (ctx, TS_FORBIDDEN, "rule %s cannot be applied by %s",
                          rule_code, source);
        else
        if (!(subject = ledger_cache_subject (ctx, cache, subject_id)))
            rc = ts_fail (ctx, TS_UNPROCESSABLE,
                          "no person or merchant %s is known to the ledger", subject_id);
        else
        if (subject->archived)
            rc = ts_fail (ctx, TS_CONFLICT, "%s has moved out of the community", subject_id);
    }
    if (rc) {
        if (scope)
            ledger_cache_key_release (ctx, cache, &scope_key);
        return rc;
    }
    ledger_posting posting = {
        .kind = LEDGER_SCORED,
        .rule = rule->code,
        .points = rule->points * quantity,
        .cap_points = rule->monthly_cap_points,
        .note = note,
        .evidence_url = evidence_url,
        .source = source,
        .month_index = month_index,
    };
    uint64_t seq = 0;
    *entry_out = ledger_post (ctx, cache, subject, &posting, &seq);
    assert (!scope || seq == seq_claimed);
    return TS_CREATED;
}

unsigned
ledger_reverse (ts_ctx *ctx, ledger_cache *cache, uint64_t seq, const char *source,
                const char *note, ledger_entry **reversal_out)
{
    ledger_tables *t = ledger_tables_of (ctx);
    assert (cache);
    *reversal_out = NULL;
    ledger_entry *orig = ledger_entry_get (ctx, seq);
    if (!orig)
        return ts_fail (ctx, TS_NOT_FOUND, "no entry e%" PRIu64, seq);
    if (strcmp (orig->kind, "earning") != 0 && strcmp (orig->kind, "penalty") != 0)
        return ts_fail (ctx, TS_CONFLICT, "entry %s is a %s and cannot be reversed",
                        orig->id, orig->kind);
    uint8_t k [8];
    ts_be64_put (k, seq);
    uint64_t done = ts_txn_get_u64 (ctx->txn, t->reversals, k, 8, 0);
    if (done)
        return ts_fail (ctx, TS_CONFLICT, "entry %s was already reversed by e%" PRIu64,
                        orig->id, done);
    ledger_subject *subject = ledger_cache_subject (ctx, cache, orig->person_id);
    if (!subject)
        return ts_fail (ctx, TS_INTERNAL, "subject %s of %s is missing", orig->person_id, orig->id);
    int month_index = ts_month_index (orig->month);
    assert (month_index > 0);
    //  The cap room the entry used is given back.
    int64_t used_points = orig->effective_points < 0 ? -orig->effective_points
                                                     : orig->effective_points;
    if (used_points > 0) {
        int64_t used = ledger_cache_cap_used (ctx, cache, subject, month_index, orig->rule);
        if (used > 0)
            ledger_cache_cap_set (ctx, cache, subject, month_index, orig->rule,
                                  used > used_points ? used - used_points : 0);
    }
    //  The card gives back what the entry put there, as far as it still
    //  holds it (it never goes below zero).
    int64_t card = 0;
    if (orig->card_points > 0)
        card = -(orig->card_points < subject->card_points ? orig->card_points
                                                          : subject->card_points);
    ledger_posting posting = {
        .kind = LEDGER_REVERSAL,
        .rule = orig->rule,
        .points = -orig->effective_points,
        .effective_points = -orig->effective_points,
        .card_points = card,
        .note = note,
        .reverses = orig->id,
        .source = source,
        .month_index = month_index,
    };
    uint64_t rev_seq = 0;
    *reversal_out = ledger_post (ctx, cache, subject, &posting, &rev_seq);
    ts_txn_put_u64 (ctx->txn, t->reversals, k, 8, rev_seq);
    return TS_CREATED;
}

//  --------------------------------------------------------------------
//  Handlers: evaluations, redemptions, statements

//  The checks of one evaluation's fields (shared by single and batch).
static unsigned
s_check_evaluation (ts_ctx *ctx, const Tashan__Ledger__EvaluateRequest *r)
{
    unsigned rc;
    if ((rc = ledger_check_id (ctx, "person_id", r->person_id))
    ||  (rc = ledger_check_id (ctx, "rule", r->rule))
    ||  (rc = ts_check_str (ctx, "note", r->note, TS_STR_MAX_CHARS, false))
    ||  (rc = ledger_check_url (ctx, "evidence_url", r->evidence_url))
    ||  (rc = ts_check_str (ctx, "idempotency_key", r->idempotency_key, TS_STR_MAX_CHARS, true)))
        return rc;
    return 0;
}

unsigned
ledger_core_evaluate (ts_ctx *ctx, const void *vreq, void *vrep)
{
    const Tashan__Ledger__EvaluateRequest *r = vreq;
    ledger_entry *rep = vrep;
    unsigned rc = s_check_evaluation (ctx, r);
    if (rc)
        return rc;
    const char *source = ctx->caller->role;
    ledger_entry *e = NULL;
    ledger_cache cache = { 0 };
    rc = ledger_apply_rule (ctx, &cache, r->person_id, r->rule, 1, r->note, r->evidence_url,
                            source, ledger_month_now (ctx), source, r->idempotency_key, &e);
    if (rc >= 400)
        return rc;
    assert (e);
    //  A repeat answers 200 and the first entry, which records every field
    //  of the request: the same key for another request is a conflict.
    if (rc == TS_OK
    &&  (strcmp (e->person_id, r->person_id) != 0 || strcmp (e->rule, r->rule) != 0
    ||   strcmp (e->note, r->note) != 0 || strcmp (e->evidence_url, r->evidence_url) != 0))
        return ts_fail (ctx, TS_CONFLICT, "idempotency_key '%s' was already used for a "
                        "different request", r->idempotency_key);
    ledger_cache_flush (ctx, &cache);
    *rep = *e;
    return rc;
}

unsigned
ledger_core_evaluate_batch (ts_ctx *ctx, const void *vreq, void *vrep)
{
    const Tashan__Ledger__EvaluateBatchRequest *r = vreq;
    Tashan__Ledger__BatchReply *rep = vrep;
    unsigned rc;
    if ((rc = ts_check_count (ctx, "evaluations", r->n_evaluations, TS_BATCH_ITEMS_MAX)))
        return rc;
    if (r->n_evaluations == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "evaluations is required");
    const char *source = ctx->caller->role;
    int month_index = ledger_month_now (ctx);
    ledger_cache cache = { 0 };
    rep->rejected = ts_arena_alloc (ctx->arena, r->n_evaluations * sizeof *rep->rejected);
    for (size_t i = 0; i < r->n_evaluations; i++) {
        const Tashan__Ledger__EvaluateRequest *item = r->evaluations [i];
        ledger_entry *e = NULL;
        //  Every check comes before any write, so a refused item leaves
        //  nothing behind and the rest of the batch still applies.
        rc = s_check_evaluation (ctx, item);
        if (rc == 0)
            rc = ledger_apply_rule (ctx, &cache, item->person_id, item->rule, 1, item->note,
                                    item->evidence_url, source, month_index, source,
                                    item->idempotency_key, &e);
        if (rc == TS_CREATED)
            rep->accepted++;
        else
        if (rc == TS_OK)
            rep->duplicates++;
        else {
            Tashan__Ledger__Rejected *rej = ts_arena_alloc (ctx->arena, sizeof *rej);
            tashan__ledger__rejected__init (rej);
            rej->event_id = ts_arena_strndup (ctx->arena, item->idempotency_key,
                                              strnlen (item->idempotency_key, TS_STR_MAX_CHARS * 4));
            rej->reason = ts_arena_strdup (ctx->arena, ctx->message);
            rep->rejected [rep->n_rejected++] = rej;
        }
    }
    assert (rep->accepted + rep->duplicates + rep->n_rejected == r->n_evaluations);
    ledger_cache_flush (ctx, &cache);
    ctx->code = 0;
    ctx->message [0] = 0;
    return TS_OK;
}

unsigned
ledger_core_redeem (ts_ctx *ctx, const void *vreq, void *vrep)
{
    const Tashan__Ledger__RedeemRequest *r = vreq;
    ledger_entry *rep = vrep;
    unsigned rc;
    if ((rc = ledger_check_id (ctx, "person_id", r->person_id))
    ||  (rc = ts_check_range (ctx, "points", r->points, 1, LEDGER_REDEEM_MAX_POINTS))
    ||  (rc = ts_check_str (ctx, "item", r->item, TS_STR_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "idempotency_key", r->idempotency_key, TS_STR_MAX_CHARS, true)))
        return rc;
    ledger_cache cache = { 0 };
    ledger_subject *subject = ledger_cache_subject (ctx, &cache, r->person_id);
    if (!subject)
        return ts_fail (ctx, TS_UNPROCESSABLE, "no person %s is known to the ledger", r->person_id);
    if (subject->card_points < r->points)
        return ts_fail (ctx, TS_CONFLICT, "card balance %" PRId64 " is less than %" PRId64
                        " points", subject->card_points, r->points);
    ledger_posting posting = {
        .kind = LEDGER_REDEMPTION,
        .rule = "redemption",
        .points = r->points,
        .note = r->item,
        .source = "ops",
        .month_index = ledger_month_now (ctx),
    };
    *rep = *ledger_post (ctx, &cache, subject, &posting, NULL);
    ledger_cache_flush (ctx, &cache);
    return TS_CREATED;
}

unsigned
ledger_core_get_entry (ts_ctx *ctx, const void *vreq, void *vrep)
{
    const Tashan__Ledger__GetEntryRequest *r = vreq;
    unsigned rc = ledger_check_id (ctx, "id", r->id);
    if (rc)
        return rc;
    ledger_entry *e = ledger_entry_get (ctx, ledger_id_seq (r->id, 'e'));
    if (!e)
        return ts_fail (ctx, TS_NOT_FOUND, "no entry %s", r->id);
    *(ledger_entry *) vrep = *e;
    return TS_OK;
}

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

unsigned
ledger_core_list_entries (ts_ctx *ctx, const void *vreq, void *vrep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    const Tashan__Ledger__ListEntriesRequest *r = vreq;
    Tashan__Ledger__EntryPage *rep = vrep;
    unsigned rc;
    uint32_t page_size;
    if ((rc = ledger_check_id (ctx, "id", r->id))
    ||  (r->month [0] && (rc = ts_check_month (ctx, "month", r->month)))
    ||  (rc = ts_page_size (ctx, r->page_size, &page_size)))
        return rc;
    if (!ledger_subject_get (ctx, r->id))
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s is known to the ledger", r->id);
    ts_key prefix;
    ledger_subject_key (&prefix, r->id, LEDGER_TAG_ENTRY);
    if (r->month [0])
        ts_key_u32 (&prefix, (uint32_t) ts_month_index (r->month));
    //  The token is the (month, seq) of the next entry to list.
    uint32_t tok_month = 0;
    uint64_t tok_seq = 0;
    if (r->page_token [0]) {
        uint8_t tok [12];
        long n = ts_page_token_parse (ctx, r->page_token, tok, sizeof tok);
        if (n < 0)
            return ctx->code;
        if (n != sizeof tok
        ||  (r->month [0] && ts_be32_get (tok) != (uint32_t) ts_month_index (r->month)))
            return ts_fail (ctx, TS_BAD_REQUEST, "page_token is malformed");
        tok_month = ts_be32_get (tok);
        tok_seq = ts_be64_get (tok + 4);
    }
    rep->entries = ts_arena_alloc (ctx->arena, page_size * sizeof *rep->entries);
    size_t id_bytes = strlen (r->id) + 2;     //  id\0 tag
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->subjects);
    if (more && r->page_token [0]) {
        //  Resume in the chunk that holds the token's seq: the last chunk
        //  of its month that starts at or before it.
        ts_key start, month_prefix;
        ledger_subject_key (&month_prefix, r->id, LEDGER_TAG_ENTRY);
        ts_key_u32 (&month_prefix, tok_month);
        start = month_prefix;
        ts_key_u64 (&start, tok_seq);
        more = ts_cursor_seek_last (&cur, start.data, start.size);
        if (!more || !ts_cursor_has_prefix (&cur, month_prefix.data, month_prefix.size))
            more = ts_cursor_seek (&cur, start.data, start.size);
    }
    else
    if (more)
        more = ts_cursor_seek (&cur, prefix.data, prefix.size);
    uint64_t seqs [LEDGER_CHUNK_SEQS_MAX];
    bool done = false;
    for (uint32_t chunks = 0; more && !done && chunks <= page_size + 1; chunks++) {
        if (!ts_cursor_has_prefix (&cur, prefix.data, prefix.size)
        ||  cur.key.size != id_bytes + 12)
            break;
        const uint8_t *suffix = (const uint8_t *) cur.key.data + id_bytes;
        uint32_t month = ts_be32_get (suffix);
        size_t n = ledger_statement_decode (ts_be64_get (suffix + 4), cur.value.data,
                                            cur.value.size, seqs, LEDGER_CHUNK_SEQS_MAX);
        if (n == 0) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (month == tok_month && seqs [i] < tok_seq)
                continue;           //  listed on an earlier page
            if (rep->n_entries == page_size) {
                uint8_t tok [12];
                ts_be32_put (tok, month);
                ts_be64_put (tok + 4, seqs [i]);
                rep->next_page_token = ts_page_token_make (ctx->arena, tok, 12);
                done = true;
                break;
            }
            ledger_entry *e = ledger_entry_get (ctx, seqs [i]);
            if (!e) {
                done = true;        //  sticky store error: the request fails
                break;
            }
            rep->entries [rep->n_entries++] = e;
        }
        if (!done)
            more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Handlers: persons, consent

unsigned
ledger_core_get_person (ts_ctx *ctx, const void *vreq, void *vrep)
{
    const Tashan__Ledger__GetPersonRequest *r = vreq;
    Tashan__Ledger__PersonCredit *rep = vrep;
    unsigned rc = ledger_check_id (ctx, "id", r->id);
    if (rc)
        return rc;
    ledger_subject *s = ledger_subject_get (ctx, r->id);
    if (!s)
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s is known to the ledger", r->id);
    rep->person_id = s->id;
    rep->index = ledger_index (s);
    rep->tier = (char *) ledger_tier_of (ledger_settings_get (ctx), rep->index);
    rep->card = s->card_points;
    rep->month_points = ledger_board_month_points (ctx, s, ledger_month_now (ctx));
    return TS_OK;
}

unsigned
ledger_core_get_consent (ts_ctx *ctx, const void *vreq, void *vrep)
{
    const Tashan__Ledger__GetPersonRequest *r = vreq;
    Tashan__Ledger__Consent *rep = vrep;
    unsigned rc = ledger_check_id (ctx, "id", r->id);
    if (rc)
        return rc;
    ledger_subject *s = ledger_subject_get (ctx, r->id);
    if (!s)
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s is known to the ledger", r->id);
    rep->person_id = s->id;
    rep->credit_consent = s->credit_consent;
    rep->recorded_by = s->consent_recorded_by;
    rep->recorded_at = ledger_time_text (ctx->arena, s->consent_recorded_ms);
    rep->consent_by = s->consent_by;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Handlers: rules and settings

unsigned
ledger_core_list_rules (ts_ctx *ctx, const void *vreq, void *vrep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    Tashan__Ledger__RuleList *rep = vrep;
    rep->rules = ts_arena_alloc (ctx->arena, LEDGER_RULES_MAX * sizeof *rep->rules);
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->rules) && ts_cursor_seek (&cur, NULL, 0);
    while (more && rep->n_rules < LEDGER_RULES_MAX) {
        ledger_rule *rule = (ledger_rule *) protobuf_c_message_unpack (
            &tashan__ledger__rule__descriptor, ts_arena_pb (ctx->arena),
            cur.value.size, cur.value.data);
        if (!rule) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        rep->rules [rep->n_rules++] = rule;
        more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    return TS_OK;
}

static size_t
s_rule_count (ts_ctx *ctx)
{
    ledger_tables *t = ledger_tables_of (ctx);
    size_t n = 0;
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->rules) && ts_cursor_seek (&cur, NULL, 0);
    while (more && n <= LEDGER_RULES_MAX) {
        n++;
        more = ts_cursor_next (&cur);
    }
    ts_cursor_close (&cur);
    return n;
}

unsigned
ledger_core_put_rule (ts_ctx *ctx, const void *vreq, void *vrep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    const Tashan__Ledger__PutRuleRequest *r = vreq;
    Tashan__Ledger__Rule *rep = vrep;
    unsigned rc;
    if ((rc = ledger_check_id (ctx, "code", r->code))
    ||  (rc = ts_check_range (ctx, "points", r->points, -LEDGER_POINTS_MAX, LEDGER_POINTS_MAX))
    ||  (rc = ts_check_range (ctx, "monthly_cap_points", r->monthly_cap_points, 0,
                              LEDGER_CAP_MAX_POINTS))
    ||  (rc = ts_check_count (ctx, "roles", r->n_roles, 6))
    ||  (rc = ts_check_str (ctx, "description", r->description, TS_STR_MAX_CHARS, false)))
        return rc;
    if (strcmp (r->code, "redemption") == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "code 'redemption' is reserved");
    if (r->points == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "points must not be 0");
    if (r->n_roles == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "roles is required");
    for (size_t i = 0; i < r->n_roles; i++) {
        if ((rc = ts_check_enum (ctx, "roles", r->roles [i], s_sources)))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp (r->roles [i], r->roles [j]) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST, "roles lists '%s' twice", r->roles [i]);
    }
    if (!ledger_rule_get (ctx, r->code) && s_rule_count (ctx) >= LEDGER_RULES_MAX)
        return ts_fail (ctx, TS_CONFLICT, "there are already %d rules", LEDGER_RULES_MAX);
    rep->code = r->code;
    rep->points = r->points;
    rep->monthly_cap_points = r->monthly_cap_points;
    rep->n_roles = r->n_roles;
    rep->roles = r->roles;
    rep->description = r->description;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, r->code);
    ts_txn_put_msg (ctx->txn, t->rules, k.data, k.size, &rep->base);
    return TS_OK;
}

unsigned
ledger_core_get_settings (ts_ctx *ctx, const void *vreq, void *vrep)
{
    *(ledger_settings *) vrep = *ledger_settings_get (ctx);
    return TS_OK;
}

unsigned
ledger_core_put_settings (ts_ctx *ctx, const void *vreq, void *vrep)
{
    ledger_tables *t = ledger_tables_of (ctx);
    const ledger_settings *r = vreq;
    ledger_settings *rep = vrep;
    unsigned rc;
    if ((rc = ts_check_range (ctx, "red_list_size", r->red_list_size, 1, TS_PAGE_MAX))
    ||  (rc = ts_check_range (ctx, "tiers", (int64_t) r->n_tiers, 2, LEDGER_TIERS_MAX)))
        return rc;
    for (size_t i = 0; i < r->n_tiers; i++) {
        const Tashan__Ledger__Tier *tier = r->tiers [i];
        if ((rc = ledger_check_id (ctx, "tiers.tier", tier->tier))
        ||  (rc = ts_check_range (ctx, "tiers.min_index", tier->min_index, -1000000, 1000000)))
            return rc;
        if (strlen (tier->tier) > 16)
            return ts_fail (ctx, TS_BAD_REQUEST, "tiers.tier must be at most 16 characters");
        for (size_t j = 0; j < i; j++) {
            if (strcmp (tier->tier, r->tiers [j]->tier) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST, "tiers lists '%s' twice", tier->tier);
        }
        if (i > 0 && tier->min_index >= r->tiers [i - 1]->min_index)
            return ts_fail (ctx, TS_BAD_REQUEST,
                            "tiers must be listed from the best down (min_index decreasing)");
    }
    const ledger_settings *old = ledger_settings_get (ctx);
    ts_txn_put_msg (ctx->txn, t->config, "settings", 8, &r->base);

    //  Subjects whose tier moves get a standing event, as for an entry.
    //  The walk jumps from a subject's first key to its record, the last
    //  key of its cluster, then on to the next subject.
    ts_cursor cur;
    bool more = ts_cursor_open (&cur, ctx->txn, t->subjects) && ts_cursor_seek (&cur, NULL, 0);
    for (uint64_t n = 0; more && n < LEDGER_SUBJECTS_MAX; n++) {
        size_t id_len = strnlen (cur.key.data, cur.key.size);
        if (id_len + 2 > cur.key.size || id_len > LEDGER_ID_MAX_CHARS) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        ts_key record;
        ts_key_init (&record);
        ts_key_bytes (&record, cur.key.data, id_len + 1);
        char tag = LEDGER_TAG_RECORD;
        ts_key_bytes (&record, &tag, 1);
        if (!ts_cursor_seek (&cur, record.data, record.size))
            break;
        if (cur.key.size == record.size && memcmp (cur.key.data, record.data, record.size) == 0) {
            //  Unpacked with malloc and freed at once, not from the arena:
            //  the walk may visit millions of subjects.
            ledger_subject *s = (ledger_subject *) protobuf_c_message_unpack (
                &tashan__ledger__subject__descriptor, NULL, cur.value.size, cur.value.data);
            if (!s) {
                ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
                break;
            }
            int64_t index = ledger_index (s);
            const char *before = ledger_tier_of (old, index), *after = ledger_tier_of (r, index);
            if (s->entry_count > 0 && strcmp (before, after) != 0)
                s_emit_standing (ctx, s, after);
            protobuf_c_message_free_unpacked (&s->base, NULL);
            more = ts_cursor_next (&cur);
        }
        //  else: the cursor already stands past this subject.
    }
    ts_cursor_close (&cur);
    *rep = *r;
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Event: credit.requested from merchants, volunteers and proposals.

unsigned
ledger_core_apply_credit (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    static const char *const producers [] = { "merchants", "volunteers", "proposals", NULL };
    const Tashan__Events__CreditRequest *r = payload;
    const char *source = ctx->caller->principal;
    unsigned rc;
    if ((rc = ts_check_enum (ctx, "producer", source, producers))
    ||  (rc = ts_check_str (ctx, "idempotency_key", r->idempotency_key, TS_STR_MAX_CHARS, true))
    ||  (rc = ledger_check_id (ctx, "subject_id", r->subject_id))
    ||  (rc = ledger_check_id (ctx, "rule", r->rule))
    ||  (rc = ts_check_range (ctx, "quantity", r->quantity, 1, LEDGER_QUANTITY_MAX))
    ||  (rc = ts_check_str (ctx, "note", r->note, TS_STR_MAX_CHARS, false))
    ||  (r->month [0] && (rc = ts_check_month (ctx, "month", r->month))))
        return rc;
    int month_index = ledger_month_now (ctx);
    if (r->month [0]) {
        int asked = ts_month_index (r->month);
        if (asked > month_index)
            return ts_fail (ctx, TS_BAD_REQUEST, "month %s is in the future", r->month);
        month_index = asked;
    }
    ledger_entry *e = NULL;
    ledger_cache cache = { 0 };
    rc = ledger_apply_rule (ctx, &cache, r->subject_id, r->rule, r->quantity, r->note, "",
                            source, month_index, source, r->idempotency_key, &e);
    if (rc < 400)
        ledger_cache_flush (ctx, &cache);
    return rc;
}
