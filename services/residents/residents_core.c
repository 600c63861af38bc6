/*  =========================================================================
    residents_core - household archives (一户一档): data layout, open,
    personal data, the household file, versions, the read audit, persons

    Data layout (LMDB tables of <data-dir>/residents/; u64/u32 big-endian,
    strings 0-terminated, "msg" = packed protobuf of tashan.residents):

    compounds       u64 compound id              -> msg Compound
    compound_names  name\0                       -> u64 compound id
    buildings       u64 building id              -> msg Building
    building_nos    number\0                     -> u64 building id
    households      u64 household id             -> msg HouseholdRec
    bld_households  u64 building id, u64 hh id   -> (empty)
    persons         u64 person id                -> msg PersonRec
    id_hashes       32-byte keyed BLAKE2b of the
                    ID number                    -> u64 person id (persons
                                                    not archived)
    pupils          school\0 pupil_no\0          -> u64 person id (idem)
    versions        u64 hh id, u32 version       -> msg HouseholdVersion
    audit           u64 hh id, u64 seq           -> msg AuditEntry
    needs           u64 need id                  -> msg Need
    resources       u64 resource id              -> msg Resource
    res_by_cat      category\0 u64 resource id   -> (empty; active only)
    res_by_provider provider id\0 u64 resource id-> (empty; active only)
    merchants       merchant id\0                -> msg tashan.events.Merchant
    demo            u32 demo compound index      -> msg SeedDemoReply

    Outside LMDB: <data-dir>/residents/id_hash.key (32 random bytes, mode
    0600), the key of the ID-number hash, created on first open. Without
    it the hashes cannot be recomputed: back it up with the store.

    Sequences (meta): compound, building, household, person, need,
    resource, audit.
    =========================================================================
*/
#include "residents_core.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "ts_keyfile.h"
#include "ts_valid.h"

const char *const residents_tags [] = {
    "party_member", "veteran", "elderly", "elderly_alone", "disabled", "pupil",
    "floating", "low_income", "unemployed", "special_care", "volunteer",
    "building_head", NULL
};

const char *const residents_categories [] = {
    "elderly_care", "child_care", "medical", "repair", "cleaning", "shopping",
    "tutoring", "counselling", "legal", "employment", "transport",
    "companionship", "haircut", "other", NULL
};

const char *const residents_provider_kinds [] = {
    "resident", "volunteer", "merchant", "co_building", NULL
};

#define ID_KEY_FILE "id_hash.key"

//  --------------------------------------------------------------------
//  Open the tables and load (or create) the ID-number hash key.

unsigned
residents_open (ts_ctx *ctx, void **state)
{
    assert (ctx && state);
    ts_store *store = ts_txn_store (ctx->txn);
    res_state *self = calloc (1, sizeof (res_state));
    assert (self);
    self->magic = RES_STATE_MAGIC;
    self->compounds = ts_store_table (store, "compounds");
    self->compound_names = ts_store_table (store, "compound_names");
    self->buildings = ts_store_table (store, "buildings");
    self->building_nos = ts_store_table (store, "building_nos");
    self->households = ts_store_table (store, "households");
    self->bld_households = ts_store_table (store, "bld_households");
    self->persons = ts_store_table (store, "persons");
    self->id_hashes = ts_store_table (store, "id_hashes");
    self->pupils = ts_store_table (store, "pupils");
    self->versions = ts_store_table (store, "versions");
    self->audit = ts_store_table (store, "audit");
    self->needs = ts_store_table (store, "needs");
    self->resources = ts_store_table (store, "resources");
    self->res_by_cat = ts_store_table (store, "res_by_cat");
    self->res_by_provider = ts_store_table (store, "res_by_provider");
    self->merchants = ts_store_table (store, "merchants");
    self->demo = ts_store_table (store, "demo");

    const char *dir = NULL;
    if (mdb_env_get_path (ts_store_env (store), &dir) != 0 || !dir) {
        free (self);
        return ts_fail (ctx, TS_INTERNAL, "cannot find the store's directory");
    }
    char err [1536];                //  room for a path and the reason
    if (ts_keyfile_load (dir, ID_KEY_FILE, self->id_key, RES_ID_KEY_BYTES, err, sizeof err) != 0) {
        free (self);
        return ts_fail (ctx, TS_INTERNAL, "%s", err);
    }
    *state = self;
    return TS_OK;
}

void
residents_close (void *state)
{
    res_state *self = state;
    if (!self)
        return;
    assert (self->magic == RES_STATE_MAGIC);
    sodium_memzero (self->id_key, sizeof self->id_key);
    self->magic = 0;
    free (self);
}

res_state *
residents_state (ts_ctx *ctx)
{
    res_state *self = ctx->state;
    assert (self && self->magic == RES_STATE_MAGIC);
    return self;
}

//  --------------------------------------------------------------------
//  Pure helpers

bool
residents_id_number_valid (const char *s, char out [19])
{
    static const int weights [17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
    static const char checks [11] = { '1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2' };
    if (!s || strlen (s) != 18)
        return false;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (s [i] < '0' || s [i] > '9')
            return false;
        sum += (s [i] - '0') * weights [i];
    }
    char last = s [17] == 'x' ? 'X' : s [17];
    if (last != checks [sum % 11])
        return false;
    memcpy (out, s, 17);
    out [17] = last;
    out [18] = 0;
    return true;
}

void
residents_phone_mask (const char *phone, char *out, size_t out_size)
{
    assert (out && out_size > 0);
    size_t len = phone ? strlen (phone) : 0;
    if (len + 1 > out_size)
        len = out_size - 1;
    size_t keep_head = len >= 8 ? 3 : 0;
    size_t keep_tail = len >= 8 ? 4 : (len > 2 ? 2 : 0);
    for (size_t i = 0; i < len; i++)
        out [i] = (i < keep_head || i >= len - keep_tail) ? phone [i] : '*';
    out [len] = 0;
}

bool
residents_caller_is_ops (const ts_ctx *ctx)
{
    return strcmp (ctx->caller->role, "ops") == 0;
}

//  --------------------------------------------------------------------
//  Records

static void *
s_load_u64 (ts_ctx *ctx, ts_table table, uint64_t id, const ProtobufCMessageDescriptor *desc)
{
    uint8_t key [8];
    ts_be64_put (key, id);
    return ts_txn_get_msg (ctx->txn, table, key, 8, desc, ctx->arena);
}

static void
s_save_u64 (ts_ctx *ctx, ts_table table, uint64_t id, const ProtobufCMessage *msg)
{
    uint8_t key [8];
    ts_be64_put (key, id);
    ts_txn_put_msg (ctx->txn, table, key, 8, msg);
}

res_building *
residents_building_load (ts_ctx *ctx, uint64_t id)
{
    return s_load_u64 (ctx, residents_state (ctx)->buildings, id,
                       &tashan__residents__building__descriptor);
}

res_household_rec *
residents_household_load (ts_ctx *ctx, uint64_t id)
{
    return s_load_u64 (ctx, residents_state (ctx)->households, id,
                       &tashan__residents__household_rec__descriptor);
}

res_person_rec *
residents_person_load (ts_ctx *ctx, uint64_t id)
{
    return s_load_u64 (ctx, residents_state (ctx)->persons, id,
                       &tashan__residents__person_rec__descriptor);
}

res_need *
residents_need_load (ts_ctx *ctx, uint64_t id)
{
    return s_load_u64 (ctx, residents_state (ctx)->needs, id,
                       &tashan__residents__need__descriptor);
}

void
residents_need_save (ts_ctx *ctx, const res_need *need)
{
    uint64_t id;
    bool ok = ts_id_parse (need->id, 'n', &id);
    assert (ok);
    s_save_u64 (ctx, residents_state (ctx)->needs, id, &need->base);
}

res_resource *
residents_resource_load (ts_ctx *ctx, uint64_t id)
{
    return s_load_u64 (ctx, residents_state (ctx)->resources, id,
                       &tashan__residents__resource__descriptor);
}

void
residents_resource_save (ts_ctx *ctx, const res_resource *resource)
{
    uint64_t id;
    bool ok = ts_id_parse (resource->id, 'r', &id);
    assert (ok);
    s_save_u64 (ctx, residents_state (ctx)->resources, id, &resource->base);
}

static void
s_person_save (ts_ctx *ctx, const res_person_rec *p)
{
    assert (p->id > 0);
    s_save_u64 (ctx, residents_state (ctx)->persons, p->id, &p->base);
}

static void
s_household_save (ts_ctx *ctx, const res_household_rec *hh)
{
    assert (hh->id > 0);
    s_save_u64 (ctx, residents_state (ctx)->households, hh->id, &hh->base);
}

//  --------------------------------------------------------------------
//  References given by clients

unsigned
residents_ref_building (ts_ctx *ctx, const char *field, const char *id,
                        unsigned code, res_building **out)
{
    uint64_t n;
    res_building *b = NULL;
    if (ts_id_parse (id, 'b', &n))
        b = residents_building_load (ctx, n);
    if (!b)
        return ts_fail (ctx, code, "%s: no building %s", field, id);
    *out = b;
    return 0;
}

unsigned
residents_ref_household (ts_ctx *ctx, const char *field, const char *id,
                         unsigned code, bool active, res_household_rec **out)
{
    uint64_t n;
    res_household_rec *hh = NULL;
    if (ts_id_parse (id, 'h', &n))
        hh = residents_household_load (ctx, n);
    if (!hh)
        return ts_fail (ctx, code, "%s: no household %s", field, id);
    if (active && hh->archived)
        return ts_fail (ctx, TS_CONFLICT, "%s: household %s has moved out", field, id);
    *out = hh;
    return 0;
}

unsigned
residents_ref_person (ts_ctx *ctx, const char *field, const char *id,
                      unsigned code, bool active, res_person_rec **out)
{
    uint64_t n;
    res_person_rec *p = NULL;
    if (ts_id_parse (id, 'p', &n))
        p = residents_person_load (ctx, n);
    if (!p)
        return ts_fail (ctx, code, "%s: no person %s", field, id);
    if (active && p->archived)
        return ts_fail (ctx, TS_CONFLICT, "%s: person %s is archived", field, id);
    *out = p;
    return 0;
}

//  --------------------------------------------------------------------
//  Personal data: validation of a member, the ID hash

static unsigned
s_check_code (ts_ctx *ctx, const char *field, const char *s, bool required)
{
    return ts_check_str (ctx, field, s, RES_CODE_MAX_CHARS, required);
}

unsigned
residents_member_check (ts_ctx *ctx, const char *field, const res_member_input *in,
                        bool name_required)
{
    char f [96];
    unsigned rc;
    snprintf (f, sizeof f, "%s.name", field);
    if ((rc = ts_check_str (ctx, f, in->name, TS_NAME_MAX_CHARS, name_required)))
        return rc;
    char year [8];
    ts_month_of (ctx->now_ms, year);
    int this_year = atoi (year);
    snprintf (f, sizeof f, "%s.consent_by", field);
    if ((rc = ts_check_str (ctx, f, in->consent_by, TS_NAME_MAX_CHARS, false)))
        return rc;
    snprintf (f, sizeof f, "%s.birth_year", field);
    if (in->birth_year != 0 && (rc = ts_check_range (ctx, f, in->birth_year, 1900, this_year)))
        return rc;
    snprintf (f, sizeof f, "%s.tags", field);
    if ((rc = ts_check_count (ctx, f, in->n_tags, RES_TAGS_MAX)))
        return rc;
    bool pupil = false;
    for (size_t i = 0; i < in->n_tags; i++) {
        snprintf (f, sizeof f, "%s.tags[%zu]", field, i);
        if ((rc = ts_check_enum (ctx, f, in->tags [i], residents_tags)))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp (in->tags [i], in->tags [j]) == 0)
                return ts_fail (ctx, TS_BAD_REQUEST, "%s is given twice", f);
        if (strcmp (in->tags [i], "pupil") == 0)
            pupil = true;
    }
    snprintf (f, sizeof f, "%s.school_id", field);
    if ((rc = s_check_code (ctx, f, in->school_id, pupil)))
        return rc;
    if (!pupil && in->school_id [0])
        return ts_fail (ctx, TS_BAD_REQUEST, "%s is only for members tagged pupil", f);
    snprintf (f, sizeof f, "%s.pupil_no", field);
    if ((rc = s_check_code (ctx, f, in->pupil_no, pupil)))
        return rc;
    if (!pupil && in->pupil_no [0])
        return ts_fail (ctx, TS_BAD_REQUEST, "%s is only for members tagged pupil", f);
    snprintf (f, sizeof f, "%s.id_number", field);
    char norm [19];
    if (in->id_number [0] && !residents_id_number_valid (in->id_number, norm))
        return ts_fail (ctx, TS_BAD_REQUEST,
                        "%s is not a valid 18-character ID number (GB 11643 check digit)", f);
    snprintf (f, sizeof f, "%s.phone", field);
    if ((rc = ts_check_str (ctx, f, in->phone, RES_PHONE_MAX_CHARS, false)))
        return rc;
    size_t digits = 0;
    for (size_t i = 0; in->phone [i]; i++) {
        char c = in->phone [i];
        if (c >= '0' && c <= '9')
            digits++;
        else
        if (!(c == '+' && i == 0) && c != '-')
            return ts_fail (ctx, TS_BAD_REQUEST, "%s may hold only digits, '-' and a leading '+'", f);
    }
    if (in->phone [0] && digits < 5)
        return ts_fail (ctx, TS_BAD_REQUEST, "%s has fewer than 5 digits", f);
    snprintf (f, sizeof f, "%s.skills", field);
    if ((rc = ts_check_count (ctx, f, in->n_skills, RES_SKILLS_MAX)))
        return rc;
    for (size_t i = 0; i < in->n_skills; i++) {
        snprintf (f, sizeof f, "%s.skills[%zu]", field, i);
        if ((rc = ts_check_str (ctx, f, in->skills [i], TS_NAME_MAX_CHARS, true)))
            return rc;
    }
    return 0;
}

static void
s_id_hash (ts_ctx *ctx, const char *id_number, uint8_t out [RES_ID_HASH_BYTES])
{
    char norm [19];
    bool ok = residents_id_number_valid (id_number, norm);
    assert (ok);                    //  validated before
    res_state *st = residents_state (ctx);
    crypto_generichash (out, RES_ID_HASH_BYTES, (const uint8_t *) norm, 18,
                        st->id_key, sizeof st->id_key);
    sodium_memzero (norm, sizeof norm);
}

static void
s_pupil_key (ts_key *k, const char *school_id, const char *pupil_no)
{
    ts_key_init (k);
    ts_key_str (k, school_id);
    ts_key_str (k, pupil_no);
}

//  Claim the ID hash and pupil number of p (both unique among persons not
//  archived). 409 naming the holder when taken by someone else.
static unsigned
s_person_claim (ts_ctx *ctx, const char *field, res_person_rec *p)
{
    res_state *st = residents_state (ctx);
    uint8_t id [8];
    ts_be64_put (id, p->id);
    if (p->id_hash.len) {
        assert (p->id_hash.len == RES_ID_HASH_BYTES);
        ts_val v;
        if (ts_txn_get (ctx->txn, st->id_hashes, p->id_hash.data, p->id_hash.len, &v)
        &&  (v.size != 8 || ts_be64_get (v.data) != p->id)) {
            uint64_t holder = v.size == 8 ? ts_be64_get (v.data) : 0;
            res_person_rec *other = residents_person_load (ctx, holder);
            return ts_fail (ctx, TS_CONFLICT,
                            "%s.id_number belongs to person p%llu of household h%llu",
                            field, (unsigned long long) holder,
                            (unsigned long long) (other ? other->household_id : 0));
        }
        ts_txn_put (ctx->txn, st->id_hashes, p->id_hash.data, p->id_hash.len, id, 8);
    }
    if (p->pupil_no [0]) {
        ts_key k;
        s_pupil_key (&k, p->school_id, p->pupil_no);
        ts_val v;
        if (ts_txn_get (ctx->txn, st->pupils, k.data, k.size, &v)
        &&  (v.size != 8 || ts_be64_get (v.data) != p->id))
            return ts_fail (ctx, TS_CONFLICT, "%s.pupil_no %s is already a pupil of school %s",
                            field, p->pupil_no, p->school_id);
        ts_txn_put (ctx->txn, st->pupils, k.data, k.size, id, 8);
    }
    return 0;
}

//  Release what s_person_claim took (archive, or before a replace).
static void
s_person_release (ts_ctx *ctx, const res_person_rec *p)
{
    res_state *st = residents_state (ctx);
    if (p->id_hash.len)
        ts_txn_del (ctx->txn, st->id_hashes, p->id_hash.data, p->id_hash.len);
    if (p->pupil_no [0]) {
        ts_key k;
        s_pupil_key (&k, p->school_id, p->pupil_no);
        ts_txn_del (ctx->txn, st->pupils, k.data, k.size);
    }
}

//  Copy the client's fields into a person record (arena memory).
static void
s_person_fill (ts_ctx *ctx, res_person_rec *p, const res_member_input *in)
{
    p->name = in->name;
    p->birth_year = in->birth_year;
    p->n_tags = in->n_tags;
    p->tags = in->tags;
    p->school_id = in->school_id;
    p->pupil_no = in->pupil_no;
    p->phone = in->phone;
    p->n_skills = in->n_skills;
    p->skills = in->skills;
    //  Consent is recorded with who gave it and who wrote it down, when it
    //  is first given and whenever it changes.
    bool consent_changed = p->consent_recorded_ms == 0
                        || p->credit_opt_out != in->credit_opt_out
                        || (in->consent_by [0] && strcmp (p->consent_by, in->consent_by) != 0);
    p->credit_opt_out = in->credit_opt_out;
    if (consent_changed) {
        char year [8];
        ts_month_of (ctx->now_ms, year);
        bool minor = in->birth_year > 0 && atoi (year) - in->birth_year < 18;
        p->consent_by = in->consent_by [0] ? in->consent_by : minor ? "guardian" : "self";
        p->consent_recorded_by = ctx->caller->principal [0] ? ctx->caller->principal
                                                            : ctx->caller->role;
        p->consent_recorded_ms = ctx->now_ms;
    }
    if (in->id_number [0]) {
        uint8_t *hash = ts_arena_alloc (ctx->arena, RES_ID_HASH_BYTES);
        s_id_hash (ctx, in->id_number, hash);
        p->id_hash.data = hash;
        p->id_hash.len = RES_ID_HASH_BYTES;
    }
}

static void
s_append_u64 (ts_ctx *ctx, uint64_t **array, size_t *n, uint64_t v)
{
    uint64_t *grown = ts_arena_alloc (ctx->arena, (*n + 1) * sizeof (uint64_t));
    if (*n)
        memcpy (grown, *array, *n * sizeof (uint64_t));
    grown [*n] = v;
    *array = grown;
    (*n)++;
}

static bool
s_remove_u64 (uint64_t *array, size_t *n, uint64_t v)
{
    for (size_t i = 0; i < *n; i++)
        if (array [i] == v) {
            memmove (array + i, array + i + 1, (*n - i - 1) * sizeof (uint64_t));
            (*n)--;
            return true;
        }
    return false;
}

unsigned
residents_person_create (ts_ctx *ctx, const char *field, const res_member_input *in,
                         res_household_rec *hh, res_person_rec **out)
{
    assert (!hh->archived);
    if (hh->n_member_ids >= RES_MEMBERS_MAX)
        return ts_fail (ctx, TS_CONFLICT, "household h%llu already has %d members",
                        (unsigned long long) hh->id, RES_MEMBERS_MAX);
    res_person_rec *p = ts_arena_alloc (ctx->arena, sizeof *p);
    tashan__residents__person_rec__init (p);
    p->id = ts_txn_next_id (ctx->txn, "person");
    p->household_id = hh->id;
    p->created_ms = p->updated_ms = ctx->now_ms;
    s_person_fill (ctx, p, in);
    unsigned rc = s_person_claim (ctx, field, p);
    if (rc)
        return rc;
    s_person_save (ctx, p);
    s_append_u64 (ctx, &hh->member_ids, &hh->n_member_ids, p->id);
    *out = p;
    return 0;
}

//  --------------------------------------------------------------------
//  Output

void
residents_member_out (ts_ctx *ctx, const res_person_rec *p, bool unmasked, res_member *m)
{
    tashan__residents__member__init (m);
    m->id = ts_id_text (ctx->arena, 'p', p->id);
    m->household_id = ts_id_text (ctx->arena, 'h', p->household_id);
    m->name = p->name;
    m->birth_year = p->birth_year;
    m->n_tags = p->n_tags;
    m->tags = p->tags;
    m->school_id = p->school_id;
    m->pupil_no = p->pupil_no;
    if (unmasked)
        m->phone = p->phone;
    else {
        size_t size = strlen (p->phone) + 1;
        m->phone = ts_arena_alloc (ctx->arena, size);
        residents_phone_mask (p->phone, m->phone, size);
    }
    m->has_id_number = p->id_hash.len > 0;
    m->n_skills = p->n_skills;
    m->skills = p->skills;
    m->credit_consent = !p->credit_opt_out;
    m->consent_by = p->consent_by;
    m->consent_recorded_ms = p->consent_recorded_ms;
    m->archived = p->archived;
    m->archived_reason = p->archived_reason;
    m->created_ms = p->created_ms;
    m->updated_ms = p->updated_ms;
}

res_household *
residents_household_file (ts_ctx *ctx, const res_household_rec *rec, bool unmasked)
{
    res_household *h = ts_arena_alloc (ctx->arena, sizeof *h);
    tashan__residents__household__init (h);
    h->id = ts_id_text (ctx->arena, 'h', rec->id);
    res_building *b = residents_building_load (ctx, rec->building_id);
    h->building_id = ts_id_text (ctx->arena, 'b', rec->building_id);
    h->building = b ? b->number : "";
    h->compound = b ? b->compound : "";
    h->unit = rec->unit;
    h->room = rec->room;
    h->grid = rec->grid;
    h->archived = rec->archived;
    h->archived_reason = rec->archived_reason;
    h->version = rec->version;
    h->created_ms = rec->created_ms;
    h->updated_ms = rec->updated_ms;
    h->members = ts_arena_alloc (ctx->arena, (rec->n_member_ids + 1) * sizeof (res_member *));
    for (size_t i = 0; i < rec->n_member_ids; i++) {
        res_person_rec *p = residents_person_load (ctx, rec->member_ids [i]);
        if (!p) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);   //  a dangling member
            break;
        }
        res_member *m = ts_arena_alloc (ctx->arena, sizeof *m);
        residents_member_out (ctx, p, unmasked, m);
        h->members [h->n_members++] = m;
    }
    h->needs = ts_arena_alloc (ctx->arena, (rec->n_need_ids + 1) * sizeof (res_need *));
    for (size_t i = 0; i < rec->n_need_ids; i++) {
        res_need *n = residents_need_load (ctx, rec->need_ids [i]);
        if (!n) {
            ts_txn_fail (ctx->txn, TS_STORE_CORRUPT);
            break;
        }
        h->needs [h->n_needs++] = n;
    }
    return h;
}

void
residents_household_commit (ts_ctx *ctx, res_household_rec *rec, const char *action)
{
    assert (rec && action);
    rec->version++;
    rec->updated_ms = ctx->now_ms;
    if (rec->created_ms == 0)
        rec->created_ms = ctx->now_ms;
    s_household_save (ctx, rec);
    Tashan__Residents__HouseholdVersion v = TASHAN__RESIDENTS__HOUSEHOLD_VERSION__INIT;
    v.version = rec->version;
    v.at_ms = ctx->now_ms;
    v.by_role = ctx->caller->role;
    v.by_principal = ctx->caller->principal;
    v.action = (char *) action;
    v.household = residents_household_file (ctx, rec, true);
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, rec->id);
    ts_key_u32 (&k, rec->version);
    ts_txn_put_msg (ctx->txn, residents_state (ctx)->versions, k.data, k.size, &v.base);
}

void
residents_audit (ts_ctx *ctx, uint64_t household_id, const char *action)
{
    assert (ts_txn_writable (ctx->txn));
    Tashan__Residents__AuditEntry e = TASHAN__RESIDENTS__AUDIT_ENTRY__INIT;
    e.seq = ts_txn_next_id (ctx->txn, "audit");
    e.at_ms = ctx->now_ms;
    e.role = ctx->caller->role;
    e.principal = ctx->caller->principal;
    e.binding = ctx->caller->binding;
    e.action = (char *) action;
    ts_key k;
    ts_key_init (&k);
    ts_key_u64 (&k, household_id);
    ts_key_u64 (&k, e.seq);
    ts_txn_put_msg (ctx->txn, residents_state (ctx)->audit, k.data, k.size, &e.base);
}

void
residents_person_emit (ts_ctx *ctx, const char *topic, const res_person_rec *p)
{
    Tashan__Events__Person ev = TASHAN__EVENTS__PERSON__INIT;
    ev.person_id = ts_id_text (ctx->arena, 'p', p->id);
    ev.household_id = ts_id_text (ctx->arena, 'h', p->household_id);
    res_household_rec *hh = residents_household_load (ctx, p->household_id);
    res_building *b = hh ? residents_building_load (ctx, hh->building_id) : NULL;
    ev.building_number = b ? b->number : "";
    ev.grid = hh ? hh->grid : "";
    ev.name = p->name;
    ev.birth_year = p->birth_year;
    ev.n_tags = p->n_tags;
    ev.tags = p->tags;
    ev.school_id = p->school_id;
    ev.pupil_no = p->pupil_no;
    ev.archived = p->archived;
    ev.credit_consent = !p->credit_opt_out;
    ev.consent_by = p->consent_by;
    ev.consent_recorded_by = p->consent_recorded_by;
    ev.consent_recorded_ms = p->consent_recorded_ms;
    ts_emit (ctx, topic, &ev.base);
}

void
residents_need_emit (ts_ctx *ctx, const char *topic, const res_need *need)
{
    Tashan__Events__Need ev = TASHAN__EVENTS__NEED__INIT;
    ev.need_id = need->id;
    ev.household_id = need->household_id;
    ev.person_id = need->person_id;
    ev.category = need->category;
    ev.urgency = need->urgency;
    ev.status = need->status;
    ts_emit (ctx, topic, &ev.base);
}

void
residents_person_resources_follow (ts_ctx *ctx, const res_person_rec *p)
{
    res_state *st = residents_state (ctx);
    res_household_rec *hh = residents_household_load (ctx, p->household_id);
    res_building *b = hh ? residents_building_load (ctx, hh->building_id) : NULL;
    char *pid = ts_id_text (ctx->arena, 'p', p->id);
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_str (&prefix, pid);
    //  Collect first: archiving deletes index rows under the cursor.
    uint64_t ids [64];
    size_t n = 0;
    ts_cursor cur;
    ts_cursor_open (&cur, ctx->txn, st->res_by_provider);
    for (bool ok = ts_cursor_seek (&cur, prefix.data, prefix.size);
         ok && n < 64 && ts_cursor_has_prefix (&cur, prefix.data, prefix.size);
         ok = ts_cursor_next (&cur))
        ids [n++] = ts_be64_get ((const uint8_t *) cur.key.data + prefix.size);
    ts_cursor_close (&cur);
    for (size_t i = 0; i < n; i++) {
        res_resource *r = residents_resource_load (ctx, ids [i]);
        if (!r || r->archived)
            continue;
        if (p->archived) {
            r->archived = true;
            ts_key k;
            ts_key_init (&k);
            ts_key_str (&k, r->category);
            ts_key_u64 (&k, ids [i]);
            ts_txn_del (ctx->txn, st->res_by_cat, k.data, k.size);
            ts_key_init (&k);
            ts_key_str (&k, pid);
            ts_key_u64 (&k, ids [i]);
            ts_txn_del (ctx->txn, st->res_by_provider, k.data, k.size);
        }
        else {
            r->building = b ? b->number : "";
            r->grid = hh ? hh->grid : "";
        }
        r->updated_ms = ctx->now_ms;
        residents_resource_save (ctx, r);
    }
}

//  --------------------------------------------------------------------
//  Households

unsigned
residents_household_create (ts_ctx *ctx, const Tashan__Residents__CreateHouseholdRequest *req,
                            res_household *rep)
{
    res_state *st = residents_state (ctx);
    unsigned rc;
    if ((rc = s_check_code (ctx, "building", req->building, true))
    ||  (rc = s_check_code (ctx, "unit", req->unit, false))
    ||  (rc = s_check_code (ctx, "room", req->room, true))
    ||  (rc = s_check_code (ctx, "grid", req->grid, false))
    ||  (rc = ts_check_count (ctx, "members", req->n_members, RES_MEMBERS_MAX)))
        return rc;
    for (size_t i = 0; i < req->n_members; i++) {
        char f [32];
        snprintf (f, sizeof f, "members[%zu]", i);
        if ((rc = residents_member_check (ctx, f, req->members [i], true)))
            return rc;
    }
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, req->building);
    ts_val v;
    if (!ts_txn_get (ctx->txn, st->building_nos, k.data, k.size, &v) || v.size != 8)
        return ts_fail (ctx, TS_UNPROCESSABLE, "building: no building numbered %s", req->building);
    res_building *b = residents_building_load (ctx, ts_be64_get (v.data));
    if (!b)
        return ts_fail (ctx, TS_INTERNAL, "building %s has no record", req->building);
    if (b->archived)
        return ts_fail (ctx, TS_UNPROCESSABLE, "building: building %s is archived", req->building);
    uint64_t building_id;
    ts_id_parse (b->id, 'b', &building_id);

    res_household_rec *hh = ts_arena_alloc (ctx->arena, sizeof *hh);
    tashan__residents__household_rec__init (hh);
    hh->id = ts_txn_next_id (ctx->txn, "household");
    hh->building_id = building_id;
    hh->unit = req->unit;
    hh->room = req->room;
    hh->grid = req->grid [0] ? req->grid : b->grid;
    res_person_rec **created = ts_arena_alloc (ctx->arena, (req->n_members + 1) * sizeof (void *));
    for (size_t i = 0; i < req->n_members; i++) {
        char f [32];
        snprintf (f, sizeof f, "members[%zu]", i);
        if ((rc = residents_person_create (ctx, f, req->members [i], hh, &created [i])))
            return rc;
    }
    ts_key_init (&k);
    ts_key_u64 (&k, building_id);
    ts_key_u64 (&k, hh->id);
    ts_txn_put (ctx->txn, st->bld_households, k.data, k.size, "", 0);
    residents_household_commit (ctx, hh, "household.created");
    for (size_t i = 0; i < req->n_members; i++)
        residents_person_emit (ctx, "person.created", created [i]);
    *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
    return TS_CREATED;
}

unsigned
residents_household_get (ts_ctx *ctx, const Tashan__Residents__GetRequest *req,
                         res_household *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, false, &hh);
    if (rc)
        return rc;
    residents_audit (ctx, hh->id, "read");
    *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
    return TS_OK;
}

//  One row of ListHouseholds: where it is, how many live there, open needs.
static Tashan__Residents__HouseholdSummary *
s_household_summary (ts_ctx *ctx, const res_household_rec *hh)
{
    res_building *b = residents_building_load (ctx, hh->building_id);
    Tashan__Residents__HouseholdSummary *s = ts_arena_alloc (ctx->arena, sizeof *s);
    tashan__residents__household_summary__init (s);
    s->id = ts_id_text (ctx->arena, 'h', hh->id);
    s->building = b ? b->number : "";
    s->unit = hh->unit;
    s->room = hh->room;
    s->grid = hh->grid;
    s->members = (uint32_t) hh->n_member_ids;
    for (size_t i = 0; i < hh->n_need_ids; i++) {
        res_need *n = residents_need_load (ctx, hh->need_ids [i]);
        if (n && strcmp (n->status, "open") == 0)
            s->open_needs++;
    }
    s->archived = hh->archived;
    s->version = hh->version;
    return s;
}

unsigned
residents_household_list (ts_ctx *ctx, const Tashan__Residents__ListHouseholdsRequest *req,
                          Tashan__Residents__ListHouseholdsReply *rep)
{
    res_state *st = residents_state (ctx);
    unsigned rc;
    if ((rc = s_check_code (ctx, "building", req->building, false)))
        return rc;
    ts_key prefix;
    ts_key_init (&prefix);
    ts_table table = st->households;
    if (req->building [0]) {
        ts_key k;
        ts_key_init (&k);
        ts_key_str (&k, req->building);
        ts_val v;
        if (!ts_txn_get (ctx->txn, st->building_nos, k.data, k.size, &v) || v.size != 8)
            return ts_fail (ctx, TS_UNPROCESSABLE, "building: no building numbered %s", req->building);
        ts_key_u64 (&prefix, ts_be64_get (v.data));
        table = st->bld_households;
    }
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, table, prefix.data, prefix.size,
                            req->page_token, req->page_size)))
        return rc;
    rep->households = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        size_t rest_size;
        const uint8_t *rest = ts_page_rest (&pg, &rest_size);
        if (rest_size != 8)
            continue;
        res_household_rec *hh = residents_household_load (ctx, ts_be64_get (rest));
        if (!hh || (hh->archived && !req->include_archived))
            continue;
        rep->households [rep->n_households++] = s_household_summary (ctx, hh);
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

unsigned
residents_household_update (ts_ctx *ctx, const Tashan__Residents__UpdateHouseholdRequest *req,
                            res_household *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, true, &hh);
    if (rc)
        return rc;
    if ((rc = s_check_code (ctx, "unit", req->unit, false))
    ||  (rc = s_check_code (ctx, "room", req->room, false))
    ||  (rc = s_check_code (ctx, "grid", req->grid, false)))
        return rc;
    bool grid_changed = req->grid [0] && strcmp (req->grid, hh->grid) != 0;
    bool changed = grid_changed
                || (req->unit [0] && strcmp (req->unit, hh->unit) != 0)
                || (req->room [0] && strcmp (req->room, hh->room) != 0);
    if (!changed) {                 //  nothing new: no new version
        *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
        return TS_OK;
    }
    if (req->unit [0])
        hh->unit = req->unit;
    if (req->room [0])
        hh->room = req->room;
    if (req->grid [0])
        hh->grid = req->grid;
    for (size_t i = 0; grid_changed && i < hh->n_need_ids; i++) {
        res_need *n = residents_need_load (ctx, hh->need_ids [i]);
        if (n && (strcmp (n->status, "open") == 0 || strcmp (n->status, "matched") == 0)) {
            n->grid = hh->grid;
            n->updated_ms = ctx->now_ms;
            residents_need_save (ctx, n);
        }
    }
    residents_household_commit (ctx, hh, "household.updated");
    for (size_t i = 0; grid_changed && i < hh->n_member_ids; i++) {
        res_person_rec *p = residents_person_load (ctx, hh->member_ids [i]);
        if (p) {
            residents_person_emit (ctx, "person.updated", p);
            residents_person_resources_follow (ctx, p);
        }
    }
    *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
    return TS_OK;
}

//  Archive one person who leaves the community (the caller commits the
//  household record and emits the event).
static void
s_person_archive (ts_ctx *ctx, res_person_rec *p, const char *reason)
{
    assert (!p->archived);
    s_person_release (ctx, p);
    p->archived = true;
    p->archived_reason = (char *) reason;
    p->updated_ms = ctx->now_ms;
    s_person_save (ctx, p);
}

unsigned
residents_household_move_out (ts_ctx *ctx, const Tashan__Residents__ArchiveRequest *req,
                              res_household *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, true, &hh);
    if (rc)
        return rc;
    if ((rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, false)))
        return rc;
    size_t n = hh->n_member_ids;
    res_person_rec **left = ts_arena_alloc (ctx->arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++) {
        left [i] = residents_person_load (ctx, hh->member_ids [i]);
        if (!left [i])
            return ts_fail (ctx, TS_INTERNAL, "household %s has a dangling member", req->id);
        s_person_archive (ctx, left [i], req->reason);
    }
    residents_needs_close_all (ctx, hh, "household moved out");
    //  The file keeps who lived there: the members list stays as it was,
    //  each member marked archived.
    hh->archived = true;
    hh->archived_reason = req->reason;
    residents_household_commit (ctx, hh, "household.moved_out");
    for (size_t i = 0; i < n; i++) {
        residents_person_emit (ctx, "person.archived", left [i]);
        residents_person_resources_follow (ctx, left [i]);
    }
    *rep = *residents_household_file (ctx, hh, residents_caller_is_ops (ctx));
    return TS_OK;
}

static void
s_mask_file (ts_ctx *ctx, res_household *h)
{
    for (size_t i = 0; i < h->n_members; i++) {
        res_member *m = h->members [i];
        size_t size = strlen (m->phone) + 1;
        char *masked = ts_arena_alloc (ctx->arena, size);
        residents_phone_mask (m->phone, masked, size);
        m->phone = masked;
    }
}

unsigned
residents_household_history (ts_ctx *ctx, const Tashan__Residents__PageRequest *req,
                             Tashan__Residents__HistoryReply *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, false, &hh);
    if (rc)
        return rc;
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_u64 (&prefix, hh->id);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, residents_state (ctx)->versions, prefix.data,
                            prefix.size, req->page_token, req->page_size)))
        return rc;
    residents_audit (ctx, hh->id, "history");
    rep->household_id = ts_id_text (ctx->arena, 'h', hh->id);
    rep->versions = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    bool unmasked = residents_caller_is_ops (ctx);
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        Tashan__Residents__HouseholdVersion *v =
            ts_page_msg (&pg, &tashan__residents__household_version__descriptor, ctx->arena);
        if (!v)
            break;                  //  corrupt: the txn failed
        if (!unmasked && v->household)
            s_mask_file (ctx, v->household);
        rep->versions [rep->n_versions++] = v;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

unsigned
residents_household_audit (ts_ctx *ctx, const Tashan__Residents__PageRequest *req,
                           Tashan__Residents__AuditReply *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, false, &hh);
    if (rc)
        return rc;
    ts_key prefix;
    ts_key_init (&prefix);
    ts_key_u64 (&prefix, hh->id);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, residents_state (ctx)->audit, prefix.data,
                            prefix.size, req->page_token, req->page_size)))
        return rc;
    rep->household_id = ts_id_text (ctx->arena, 'h', hh->id);
    rep->entries = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        Tashan__Residents__AuditEntry *e =
            ts_page_msg (&pg, &tashan__residents__audit_entry__descriptor, ctx->arena);
        if (!e)
            break;                  //  corrupt: the txn failed
        rep->entries [rep->n_entries++] = e;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Persons

#define MEMBER_INPUT_FROM(req) { \
    .base = PROTOBUF_C_MESSAGE_INIT (&tashan__residents__member_input__descriptor), \
    .name = (req)->name, .birth_year = (req)->birth_year, \
    .n_tags = (req)->n_tags, .tags = (req)->tags, \
    .school_id = (req)->school_id, .pupil_no = (req)->pupil_no, \
    .id_number = (req)->id_number, .phone = (req)->phone, \
    .n_skills = (req)->n_skills, .skills = (req)->skills, \
    .credit_opt_out = (req)->credit_opt_out, .consent_by = (req)->consent_by }

unsigned
residents_member_add (ts_ctx *ctx, const Tashan__Residents__AddMemberRequest *req,
                      res_member *rep)
{
    res_household_rec *hh;
    unsigned rc = residents_ref_household (ctx, "id", req->id, TS_NOT_FOUND, true, &hh);
    if (rc)
        return rc;
    res_member_input in = MEMBER_INPUT_FROM (req);
    if ((rc = residents_member_check (ctx, "member", &in, true)))
        return rc;
    res_person_rec *p;
    if ((rc = residents_person_create (ctx, "member", &in, hh, &p)))
        return rc;
    residents_household_commit (ctx, hh, "person.added");
    residents_person_emit (ctx, "person.created", p);
    residents_member_out (ctx, p, residents_caller_is_ops (ctx), rep);
    return TS_CREATED;
}

unsigned
residents_person_get (ts_ctx *ctx, const Tashan__Residents__GetRequest *req, res_member *rep)
{
    res_person_rec *p;
    unsigned rc = residents_ref_person (ctx, "id", req->id, TS_NOT_FOUND, false, &p);
    if (rc)
        return rc;
    residents_audit (ctx, p->household_id, "read_person");
    residents_member_out (ctx, p, residents_caller_is_ops (ctx), rep);
    return TS_OK;
}

unsigned
residents_person_update (ts_ctx *ctx, const Tashan__Residents__UpdatePersonRequest *req,
                         res_member *rep)
{
    res_person_rec *p;
    unsigned rc = residents_ref_person (ctx, "id", req->id, TS_NOT_FOUND, true, &p);
    if (rc)
        return rc;
    res_member_input in = MEMBER_INPUT_FROM (req);
    if ((rc = residents_member_check (ctx, "person", &in, true)))
        return rc;
    ProtobufCBinaryData old_hash = p->id_hash;
    s_person_release (ctx, p);
    s_person_fill (ctx, p, &in);
    if (!in.id_number [0])
        p->id_hash = old_hash;      //  empty keeps the number on file
    if ((rc = s_person_claim (ctx, "person", p)))
        return rc;
    p->updated_ms = ctx->now_ms;
    s_person_save (ctx, p);
    res_household_rec *hh = residents_household_load (ctx, p->household_id);
    if (!hh)
        return ts_fail (ctx, TS_INTERNAL, "person %s has no household", req->id);
    residents_household_commit (ctx, hh, "person.updated");
    residents_person_emit (ctx, "person.updated", p);
    residents_member_out (ctx, p, residents_caller_is_ops (ctx), rep);
    return TS_OK;
}

unsigned
residents_person_move (ts_ctx *ctx, const Tashan__Residents__MovePersonRequest *req,
                       res_member *rep)
{
    res_person_rec *p;
    res_household_rec *to;
    unsigned rc;
    if ((rc = residents_ref_person (ctx, "id", req->id, TS_NOT_FOUND, true, &p))
    ||  (rc = ts_check_str (ctx, "household_id", req->household_id, TS_ID_MAX_CHARS, true))
    ||  (rc = residents_ref_household (ctx, "household_id", req->household_id,
                                       TS_UNPROCESSABLE, true, &to)))
        return rc;
    if (to->id == p->household_id)
        return ts_fail (ctx, TS_CONFLICT, "person %s already lives in %s", req->id,
                        req->household_id);
    if (to->n_member_ids >= RES_MEMBERS_MAX)
        return ts_fail (ctx, TS_CONFLICT, "household %s already has %d members",
                        req->household_id, RES_MEMBERS_MAX);
    res_household_rec *from = residents_household_load (ctx, p->household_id);
    if (!from)
        return ts_fail (ctx, TS_INTERNAL, "person %s has no household", req->id);
    bool removed = s_remove_u64 (from->member_ids, &from->n_member_ids, p->id);
    assert (removed);
    s_append_u64 (ctx, &to->member_ids, &to->n_member_ids, p->id);
    p->household_id = to->id;
    p->updated_ms = ctx->now_ms;
    s_person_save (ctx, p);
    residents_household_commit (ctx, from, "person.moved_out");
    residents_household_commit (ctx, to, "person.moved_in");
    residents_person_emit (ctx, "person.moved", p);
    residents_person_resources_follow (ctx, p);
    residents_member_out (ctx, p, residents_caller_is_ops (ctx), rep);
    return TS_OK;
}

unsigned
residents_person_archive (ts_ctx *ctx, const Tashan__Residents__ArchiveRequest *req,
                          res_member *rep)
{
    res_person_rec *p;
    unsigned rc;
    if ((rc = residents_ref_person (ctx, "id", req->id, TS_NOT_FOUND, true, &p))
    ||  (rc = ts_check_str (ctx, "reason", req->reason, TS_STR_MAX_CHARS, false)))
        return rc;
    res_household_rec *hh = residents_household_load (ctx, p->household_id);
    if (!hh)
        return ts_fail (ctx, TS_INTERNAL, "person %s has no household", req->id);
    bool removed = s_remove_u64 (hh->member_ids, &hh->n_member_ids, p->id);
    assert (removed);
    s_person_archive (ctx, p, req->reason);
    residents_household_commit (ctx, hh, "person.archived");
    residents_person_emit (ctx, "person.archived", p);
    residents_person_resources_follow (ctx, p);
    residents_member_out (ctx, p, residents_caller_is_ops (ctx), rep);
    return TS_OK;
}
