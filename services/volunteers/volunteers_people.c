/*  =========================================================================
    volunteers_people - the persons and needs mirror, volunteers, circles

    Persons and open needs are replicated from the residents daemon's
    events, so a volunteer, a requester or a need is checked without a
    call. A volunteer is a known, active person with skills from the needs
    vocabulary, a grid (default: their household's) and weekly
    availability (weekdays; none given = any day). Circles are of four
    kinds, have a leader (a volunteer, first member) and members; a
    volunteer may be in several circles (both sides keep the link).
    =========================================================================
*/
#include "volunteers_core.h"

#include <assert.h>
#include <string.h>

#include "ts_id.h"
#include "ts_page.h"
#include "ts_time.h"
#include "ts_valid.h"

const char *const vol_skills [] = {
    "elderly_care", "child_care", "medical", "repair", "cleaning", "shopping",
    "tutoring", "counselling", "legal", "employment", "transport",
    "companionship", "haircut", "other", NULL
};

const char *const vol_circle_kinds [] = {
    "party_pioneer", "elderly_mutual_aid", "interest", "moms_help", NULL
};

const char *const vol_weekdays [] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL };

//  --------------------------------------------------------------------
//  Small helpers

void
vol_key_u64 (ts_key *k, uint64_t n)
{
    ts_key_init (k);
    ts_key_u64 (k, n);
}

bool
vol_has (char **list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (list [i], s) == 0)
            return true;
    return false;
}

unsigned
vol_check_list (ts_ctx *ctx, const char *field, char **list, size_t n, size_t max,
                const char *const *allowed)
{
    unsigned rc = ts_check_count (ctx, field, n, max);
    for (size_t i = 0; !rc && i < n; i++) {
        if ((rc = ts_check_enum (ctx, field, list [i], allowed)))
            break;
        if (vol_has (list, i, list [i]))
            rc = ts_fail (ctx, TS_BAD_REQUEST, "%s: %s given twice", field, list [i]);
    }
    return rc;
}

void *
vol_load (ts_ctx *ctx, const char *table, uint64_t no, const ProtobufCMessageDescriptor *desc)
{
    ts_key k;
    vol_key_u64 (&k, no);
    return ts_txn_get_msg (ctx->txn, ts_ctx_table (ctx, table), k.data, k.size, desc, ctx->arena);
}

void
vol_save (ts_ctx *ctx, const char *table, uint64_t no, const ProtobufCMessage *msg)
{
    ts_key k;
    vol_key_u64 (&k, no);
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, table), k.data, k.size, msg);
}

//  Append s to an arena array of n items (a new array, one longer).
static char **
s_append (ts_arena *arena, char **list, size_t n, const char *s)
{
    char **out = ts_arena_alloc (arena, (n + 1) * sizeof (char *));
    if (n)
        memcpy (out, list, n * sizeof (char *));
    out [n] = (char *) s;
    return out;
}

//  --------------------------------------------------------------------
//  The mirror of residents

unsigned
vol_apply_person (ts_ctx *ctx, const Tashan__Events__Person *p, const Tashan__Event *event)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "person_id", p->person_id, TS_ID_MAX_CHARS, true)))
        return rc;
    vol_person rec = TASHAN__VOLUNTEERS__PERSON__INIT;
    rec.person_id = p->person_id;
    rec.household_id = p->household_id;
    rec.building_number = p->building_number;
    rec.grid = p->grid;
    rec.name = p->name;
    rec.n_tags = p->n_tags;
    rec.tags = p->tags;
    rec.archived = p->archived || strcmp (event->topic, "person.archived") == 0;
    ts_key k;
    ts_key_text (&k, p->person_id);
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, "persons"), k.data, k.size, &rec.base);
    return TS_OK;
}

unsigned
vol_apply_need (ts_ctx *ctx, const Tashan__Events__Need *n, const Tashan__Event *event)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "need_id", n->need_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "household_id", n->household_id, TS_ID_MAX_CHARS, true)))
        return rc;
    ts_key need, household;
    ts_key_text (&need, n->need_id);
    ts_key_text (&household, n->household_id);
    bool open = strcmp (event->topic, "need.opened") == 0;
    ts_table needs = ts_ctx_table (ctx, "needs");
    bool known = ts_txn_get (ctx->txn, needs, need.data, need.size, NULL);
    //  Count each need once open and once closed, whatever the replays.
    if (open && !known) {
        ts_txn_put (ctx->txn, needs, need.data, need.size, household.data, household.size);
        ts_txn_add_i64 (ctx->txn, ts_ctx_table (ctx, "hh_needs"), household.data, household.size, 1);
    }
    else
    if (!open && known) {
        ts_txn_del (ctx->txn, needs, need.data, need.size);
        ts_txn_add_i64 (ctx->txn, ts_ctx_table (ctx, "hh_needs"), household.data, household.size, -1);
    }
    return TS_OK;
}

vol_person *
vol_person_load (ts_ctx *ctx, const char *person_id)
{
    ts_key k;
    ts_key_text (&k, person_id);
    return ts_txn_get_msg (ctx->txn, ts_ctx_table (ctx, "persons"), k.data, k.size,
                           &tashan__volunteers__person__descriptor, ctx->arena);
}

unsigned
vol_ref_person (ts_ctx *ctx, const char *field, const char *id, vol_person **out)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, field, id, TS_ID_MAX_CHARS, true)))
        return rc;
    vol_person *p = vol_person_load (ctx, id);
    if (!p || p->archived)
        return ts_fail (ctx, TS_UNPROCESSABLE, "%s: no person %s in the community", field, id);
    *out = p;
    return 0;
}

bool
vol_need_open (ts_ctx *ctx, const char *need_id, char **household)
{
    ts_key k;
    ts_key_text (&k, need_id);
    ts_val v;
    if (!ts_txn_get (ctx->txn, ts_ctx_table (ctx, "needs"), k.data, k.size, &v) || v.size == 0)
        return false;
    *household = ts_arena_alloc (ctx->arena, v.size + 1);
    memcpy (*household, v.data, v.size);
    (*household) [v.size] = 0;
    return true;
}

unsigned
vol_get_person (ts_ctx *ctx, const Tashan__Volunteers__GetPersonRequest *req, vol_person *rep)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "id", req->id, TS_ID_MAX_CHARS, true)))
        return rc;
    vol_person *rec = vol_person_load (ctx, req->id);
    if (!rec)
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s", req->id);
    *rep = *rec;
    ts_key household;
    ts_key_text (&household, rec->household_id);
    rep->open_needs = (uint32_t) ts_txn_get_u64 (ctx->txn, ts_ctx_table (ctx, "hh_needs"),
                                                 household.data, household.size, 0);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Volunteers

vol_volunteer *
vol_volunteer_load (ts_ctx *ctx, const char *person_id)
{
    ts_key k;
    ts_key_text (&k, person_id);
    return ts_txn_get_msg (ctx->txn, ts_ctx_table (ctx, "vols"), k.data, k.size,
                           &tashan__volunteers__volunteer__descriptor, ctx->arena);
}

void
vol_volunteer_save (ts_ctx *ctx, const vol_volunteer *v)
{
    assert (v->person_id [0]);
    assert (v->open_orders <= VOL_MAX_OPEN_LIMIT + VOL_CANDIDATES_MAX);
    ts_key k;
    ts_key_text (&k, v->person_id);
    ts_txn_put_msg (ctx->txn, ts_ctx_table (ctx, "vols"), k.data, k.size, &v->base);
}

unsigned
vol_ref_volunteer (ts_ctx *ctx, const char *field, const char *id, unsigned code,
                   vol_volunteer **out)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, field, id, TS_ID_MAX_CHARS, true)))
        return rc;
    vol_volunteer *v = vol_volunteer_load (ctx, id);
    if (!v)
        return ts_fail (ctx, code, "%s: %s is not a volunteer", field, id);
    *out = v;
    return 0;
}

//  The reply form of a volunteer: minutes of a month (-1: this month).
static void
s_volunteer_out (ts_ctx *ctx, vol_volunteer *v, int month_index)
{
    v->month_minutes = vol_month_minutes (ctx, 'v', v->person_id, month_index >= 0
                                          ? month_index : ts_month_index_of (ctx->now_ms));
}

unsigned
vol_register (ts_ctx *ctx, const Tashan__Volunteers__RegisterRequest *req, vol_volunteer *rep)
{
    unsigned rc;
    vol_person *p;
    if ((rc = ts_check_str (ctx, "person_id", req->person_id, TS_ID_MAX_CHARS, true))
    ||  (rc = vol_check_list (ctx, "skills", req->skills, req->n_skills, VOL_SKILLS_MAX,
                              vol_skills))
    ||  (rc = ts_check_str (ctx, "grid", req->grid, TS_NAME_MAX_CHARS, false))
    ||  (rc = vol_check_list (ctx, "availability", req->availability, req->n_availability, 7,
                              vol_weekdays))
    ||  (req->max_open_orders
         && (rc = ts_check_range (ctx, "max_open_orders", req->max_open_orders, 1,
                                  VOL_MAX_OPEN_LIMIT))))
        return rc;
    if (req->n_skills == 0)
        return ts_fail (ctx, TS_BAD_REQUEST, "skills: at least one skill is required");
    if ((rc = vol_ref_person (ctx, "person_id", req->person_id, &p)))
        return rc;
    if (vol_volunteer_load (ctx, req->person_id))
        return ts_fail (ctx, TS_CONFLICT, "%s is already a volunteer", req->person_id);
    vol_volunteer v = TASHAN__VOLUNTEERS__VOLUNTEER__INIT;
    v.person_id = req->person_id;
    v.n_skills = req->n_skills;
    v.skills = req->skills;
    v.grid = req->grid [0] ? req->grid : p->grid;
    v.n_availability = req->n_availability;
    v.availability = req->availability;
    v.max_open_orders = req->max_open_orders ? req->max_open_orders : VOL_MAX_OPEN_DEFAULT;
    v.household_id = p->household_id;
    v.created_at = ts_time_text (ctx->arena, ctx->now_ms);
    vol_volunteer_save (ctx, &v);
    for (size_t i = 0; i < v.n_skills; i++) {
        ts_key k;
        ts_key_init (&k);
        ts_key_str (&k, v.skills [i]);
        ts_key_str (&k, v.person_id);
        ts_txn_put (ctx->txn, ts_ctx_table (ctx, "vol_skill"), k.data, k.size, "", 0);
    }
    *rep = v;
    return TS_CREATED;
}

unsigned
vol_volunteer_get (ts_ctx *ctx, const Tashan__Volunteers__GetVolunteerRequest *req,
                   vol_volunteer *rep)
{
    vol_volunteer *v;
    unsigned rc;
    if ((req->month [0] && (rc = ts_check_month (ctx, "month", req->month)))
    ||  (rc = vol_ref_volunteer (ctx, "person_id", req->person_id, TS_NOT_FOUND, &v)))
        return rc;
    s_volunteer_out (ctx, v, req->month [0] ? ts_month_index (req->month) : -1);
    *rep = *v;
    return TS_OK;
}

unsigned
vol_volunteer_list (ts_ctx *ctx, const Tashan__Volunteers__ListVolunteersRequest *req,
                    Tashan__Volunteers__ListVolunteersReply *rep)
{
    unsigned rc;
    if ((req->skill [0] && (rc = ts_check_enum (ctx, "skill", req->skill, vol_skills)))
    ||  (rc = ts_check_str (ctx, "grid", req->grid, TS_NAME_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "circle_id", req->circle_id, TS_ID_MAX_CHARS, false)))
        return rc;
    uint64_t circle_no = 0;
    if (req->circle_id [0] && !ts_id_parse (req->circle_id, 'q', &circle_no))
        return ts_fail (ctx, TS_BAD_REQUEST, "circle_id: %s is not a circle id", req->circle_id);
    //  By skill: the skill index; else every volunteer.
    ts_key prefix;
    ts_key_init (&prefix);
    if (req->skill [0])
        ts_key_str (&prefix, req->skill);
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ts_ctx_table (ctx, req->skill [0] ? "vol_skill" : "vols"),
                            prefix.data, prefix.size, req->page_token, req->page_size)))
        return rc;
    rep->volunteers = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        vol_volunteer *v;
        if (req->skill [0]) {
            size_t size;
            const uint8_t *rest = ts_page_rest (&pg, &size);
            char id [TS_ID_MAX_CHARS + 1];
            if (size == 0 || size > sizeof id)
                continue;
            memcpy (id, rest, size);
            id [size - 1] = 0;
            v = vol_volunteer_load (ctx, id);
        }
        else
            v = ts_page_msg (&pg, &tashan__volunteers__volunteer__descriptor, ctx->arena);
        if (!v)
            break;
        if ((req->grid [0] && strcmp (v->grid, req->grid) != 0)
        ||  (req->circle_id [0] && !vol_has (v->circles, v->n_circles, req->circle_id)))
            continue;
        s_volunteer_out (ctx, v, -1);
        rep->volunteers [rep->n_volunteers++] = v;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Circles

vol_circle *
vol_circle_load (ts_ctx *ctx, uint64_t no)
{
    return vol_load (ctx, "circles", no, &tashan__volunteers__circle__descriptor);
}

void
vol_circle_save (ts_ctx *ctx, uint64_t no, const vol_circle *c)
{
    assert (c->n_members >= 1 && c->n_members <= VOL_MEMBERS_MAX);
    vol_save (ctx, "circles", no, &c->base);
}

unsigned
vol_ref_circle (ts_ctx *ctx, const char *field, const char *id, unsigned code,
                uint64_t *no, vol_circle **out)
{
    unsigned rc = ts_check_id (ctx, field, id, 'q', "circle", code, no);
    if (rc)
        return rc;
    vol_circle *c = vol_circle_load (ctx, *no);
    if (!c)
        return ts_fail (ctx, code, "%s: no circle %s", field, id);
    *out = c;
    return 0;
}

//  Link a volunteer to a circle (their side).
static unsigned
s_join (ts_ctx *ctx, vol_volunteer *v, const char *circle_id)
{
    if (v->n_circles >= VOL_CIRCLES_MAX)
        return ts_fail (ctx, TS_CONFLICT, "%s is already in %d circles", v->person_id,
                        VOL_CIRCLES_MAX);
    v->circles = s_append (ctx->arena, v->circles, v->n_circles, circle_id);
    v->n_circles++;
    vol_volunteer_save (ctx, v);
    return 0;
}

static void
s_circle_out (ts_ctx *ctx, vol_circle *c)
{
    c->month_minutes = vol_month_minutes (ctx, 'c', c->id, ts_month_index_of (ctx->now_ms));
}

unsigned
vol_circle_create (ts_ctx *ctx, const Tashan__Volunteers__CreateCircleRequest *req,
                   vol_circle *rep)
{
    unsigned rc;
    vol_volunteer *leader;
    if ((rc = ts_check_name (ctx, "name", req->name, TS_NAME_MAX_CHARS, true))
    ||  (rc = ts_check_enum (ctx, "kind", req->kind, vol_circle_kinds))
    ||  (rc = ts_check_str (ctx, "grid", req->grid, TS_NAME_MAX_CHARS, false))
    ||  (rc = vol_ref_volunteer (ctx, "leader_person_id", req->leader_person_id,
                                 TS_UNPROCESSABLE, &leader)))
        return rc;
    uint64_t no = ts_txn_next_id (ctx->txn, "circle");
    vol_circle c = TASHAN__VOLUNTEERS__CIRCLE__INIT;
    c.id = ts_id_text (ctx->arena, 'q', no);
    c.name = req->name;
    c.kind = req->kind;
    c.leader_person_id = req->leader_person_id;
    c.grid = req->grid [0] ? req->grid : leader->grid;
    c.n_members = 1;
    c.members = s_append (ctx->arena, NULL, 0, req->leader_person_id);
    c.created_at = ts_time_text (ctx->arena, ctx->now_ms);
    if ((rc = s_join (ctx, leader, c.id)))
        return rc;
    vol_circle_save (ctx, no, &c);
    *rep = c;
    return TS_CREATED;
}

unsigned
vol_circle_add_member (ts_ctx *ctx, const Tashan__Volunteers__AddMemberRequest *req,
                       vol_circle *rep)
{
    unsigned rc;
    uint64_t no;
    vol_circle *c;
    vol_volunteer *v;
    if ((rc = vol_ref_circle (ctx, "id", req->id, TS_NOT_FOUND, &no, &c))
    ||  (rc = vol_ref_volunteer (ctx, "person_id", req->person_id, TS_UNPROCESSABLE, &v)))
        return rc;
    if (vol_has (c->members, c->n_members, req->person_id))
        return ts_fail (ctx, TS_CONFLICT, "%s is already a member of %s", req->person_id, c->id);
    if (c->n_members >= VOL_MEMBERS_MAX)
        return ts_fail (ctx, TS_CONFLICT, "circle %s is full (%d members)", c->id,
                        VOL_MEMBERS_MAX);
    if ((rc = s_join (ctx, v, c->id)))
        return rc;
    c->members = s_append (ctx->arena, c->members, c->n_members, req->person_id);
    c->n_members++;
    vol_circle_save (ctx, no, c);
    s_circle_out (ctx, c);
    *rep = *c;
    return TS_CREATED;
}

unsigned
vol_circle_get (ts_ctx *ctx, const Tashan__Volunteers__GetRequest *req, vol_circle *rep)
{
    uint64_t no;
    vol_circle *c;
    unsigned rc = vol_ref_circle (ctx, "id", req->id, TS_NOT_FOUND, &no, &c);
    if (rc)
        return rc;
    s_circle_out (ctx, c);
    *rep = *c;
    return TS_OK;
}

unsigned
vol_circle_list (ts_ctx *ctx, const Tashan__Volunteers__ListCirclesRequest *req,
                 Tashan__Volunteers__ListCirclesReply *rep)
{
    unsigned rc;
    if (req->kind [0] && (rc = ts_check_enum (ctx, "kind", req->kind, vol_circle_kinds)))
        return rc;
    ts_page pg;
    if ((rc = ts_page_open (ctx, &pg, ts_ctx_table (ctx, "circles"), NULL, 0,
                            req->page_token, req->page_size)))
        return rc;
    rep->circles = ts_arena_alloc (ctx->arena, pg.size * sizeof (void *));
    for (; ts_page_more (&pg); ts_page_next (&pg)) {
        vol_circle *c = ts_page_msg (&pg, &tashan__volunteers__circle__descriptor, ctx->arena);
        if (!c)
            break;
        if (req->kind [0] && strcmp (c->kind, req->kind) != 0)
            continue;
        s_circle_out (ctx, c);
        rep->circles [rep->n_circles++] = c;
        ts_page_take (&pg);
    }
    rep->next_page_token = ts_page_close (&pg, ctx->arena);
    return TS_OK;
}

const char *
vol_leader_of (ts_ctx *ctx, const vol_volunteer *v)
{
    for (size_t i = 0; i < v->n_circles && i < VOL_CIRCLES_MAX; i++) {
        uint64_t no;
        vol_circle *c = ts_id_parse (v->circles [i], 'q', &no) ? vol_circle_load (ctx, no) : NULL;
        if (c && strcmp (c->leader_person_id, v->person_id) != 0)
            return c->leader_person_id;
    }
    return NULL;
}

bool
vol_leads (ts_ctx *ctx, const char *leader, const vol_volunteer *member)
{
    for (size_t i = 0; i < member->n_circles && i < VOL_CIRCLES_MAX; i++) {
        uint64_t no;
        vol_circle *c = ts_id_parse (member->circles [i], 'q', &no)
                      ? vol_circle_load (ctx, no) : NULL;
        if (c && strcmp (c->leader_person_id, leader) == 0)
            return true;
    }
    return false;
}
