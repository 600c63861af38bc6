/*  =========================================================================
    residents_person - persons of the household files: the ID-number hash
    and pupil number each claims (unique among persons not archived), a
    person created, filled from a client's input, or leaving; and the
    person handlers (AddMember, GetPerson, UpdatePerson, MovePerson,
    ArchivePerson).

    Calls go down only: to residents_needs (the resources a person offers
    follow them) and residents_core.
    =========================================================================
*/
#include "residents_core.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "ts_valid.h"

//  --------------------------------------------------------------------
//  Personal data: the ID hash, claims

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
    residents_person_save (ctx, p);
    s_append_u64 (ctx, &hh->member_ids, &hh->n_member_ids, p->id);
    *out = p;
    return 0;
}

//  Archive one person who leaves the community (the caller commits the
//  household record and emits the event).
void
residents_person_leave (ts_ctx *ctx, res_person_rec *p, const char *reason)
{
    assert (!p->archived);
    s_person_release (ctx, p);
    p->archived = true;
    p->archived_reason = (char *) reason;
    p->updated_ms = ctx->now_ms;
    residents_person_save (ctx, p);
}

//  --------------------------------------------------------------------
//  Handlers

//  The member fields of AddMember / UpdatePerson as a MemberInput.
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
    if ((rc = residents_audit (ctx, p->household_id, "read_person")))
        return rc;
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
    residents_person_save (ctx, p);
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
    residents_person_save (ctx, p);
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
    residents_person_leave (ctx, p, req->reason);
    residents_household_commit (ctx, hh, "person.archived");
    residents_person_emit (ctx, "person.archived", p);
    residents_person_resources_follow (ctx, p);
    residents_member_out (ctx, p, residents_caller_is_ops (ctx), rep);
    return TS_OK;
}
