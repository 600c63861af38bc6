/*  =========================================================================
    residents_core - household archives (一户一档): data layout, open,
    records (load/save), references given by clients, validation of a
    member, the household file as shown, its versions, the read audit, and
    the events a record change emits. It calls no other residents file:
    needs, persons, households, layout, match and demo build on it, in
    that order (residents_core.h lists them).

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
    audit           u64 hh id, u64 seq           -> msg AuditEntry (raw rows:
                                                    RES_AUDIT_RAW_DAYS)
    audit_seq       u64 seq                      -> u64 hh id (the raw rows in
                                                    time order, for retention)
    audit_days      u64 hh id, u32 day, role\0
                    principal\0 binding\0 action\0 -> u64 reads (older rows
                                                    rolled up)
    audit_meta      "journal_done\0"             -> u64 generation, u64 offset
                                                    of the journal folded
    needs           u64 need id                  -> msg Need
    resources       u64 resource id              -> msg Resource
    res_by_cat      category\0 u64 resource id   -> (empty; active only)
    res_by_provider provider id\0 u64 resource id-> (empty; active only)
    merchants       merchant id\0                -> msg tashan.events.Merchant
    demo            u32 demo compound index      -> msg SeedDemoReply

    Outside LMDB: <data-dir>/residents/audit/journal, the reads not yet
    folded into audit (residents_audit.c); <data-dir>/residents/id_hash.key
    (32 random bytes, mode 0600), the key of the ID-number hash, created on
    first open. Without it the hashes cannot be recomputed: back it up with
    the store.

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

//  Stores written before audit_seq existed: index their raw rows once,
//  so the retention reaches them too (one pass, at open).
static void
s_audit_index (ts_txn *txn, res_state *self)
{
    ts_cursor c;
    if (ts_cursor_open (&c, txn, self->audit_seq) && ts_cursor_seek (&c, NULL, 0)) {
        ts_cursor_close (&c);
        return;                     //  indexed already
    }
    ts_cursor_close (&c);
    size_t rows = 0;
    bool more = ts_cursor_open (&c, txn, self->audit) && ts_cursor_seek (&c, NULL, 0);
    for (; more && rows < RES_SCAN_MAX * 100; rows++) {
        if (c.key.size == 16)
            ts_txn_put (txn, self->audit_seq, (const uint8_t *) c.key.data + 8, 8,
                        c.key.data, 8);
        more = ts_cursor_next (&c);
    }
    ts_cursor_close (&c);
}

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
    self->audit_seq = ts_store_table (store, "audit_seq");
    self->audit_days = ts_store_table (store, "audit_days");
    self->audit_meta = ts_store_table (store, "audit_meta");
    self->journal_fd = -1;
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
    if (ts_keyfile_load (dir, ID_KEY_FILE, self->id_key, RES_ID_KEY_BYTES, err, sizeof err) != 0
    ||  residents_audit_open (self, ctx->txn, dir, err, sizeof err) != 0) {
        residents_audit_close (self);
        free (self);
        return ts_fail (ctx, TS_INTERNAL, "%s", err);
    }
    s_audit_index (ctx->txn, self);
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
    residents_audit_close (self);
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

void
residents_person_save (ts_ctx *ctx, const res_person_rec *p)
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
//  Validation: codes, a member as given by a client

unsigned
residents_check_code (ts_ctx *ctx, const char *field, const char *s, bool required)
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
    if ((rc = ts_check_name (ctx, f, in->name, TS_NAME_MAX_CHARS, name_required)))
        return rc;
    char year [8];
    ts_month_of (ctx->now_ms, year);
    int this_year = atoi (year);
    snprintf (f, sizeof f, "%s.consent_by", field);
    if ((rc = ts_check_name (ctx, f, in->consent_by, TS_NAME_MAX_CHARS, false)))
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
    if ((rc = residents_check_code (ctx, f, in->school_id, pupil)))
        return rc;
    if (!pupil && in->school_id [0])
        return ts_fail (ctx, TS_BAD_REQUEST, "%s is only for members tagged pupil", f);
    snprintf (f, sizeof f, "%s.pupil_no", field);
    if ((rc = residents_check_code (ctx, f, in->pupil_no, pupil)))
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
residents_building_emit (ts_ctx *ctx, const char *topic, const res_building *b)
{
    assert (b && b->id [0] == 'b');
    Tashan__Events__Building ev = TASHAN__EVENTS__BUILDING__INIT;
    ev.building_id = b->id;
    ev.number = b->number;
    ev.archived = b->archived;
    ts_emit (ctx, topic, &ev.base);
}
