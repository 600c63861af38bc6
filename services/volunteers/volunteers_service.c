/*  =========================================================================
    volunteers_service - the volunteers daemon's declaration

    Its domain (circles, posts, closed-loop service orders, SPEC §2
    "volunteers") is a later issue. Today it runs on the shared runtime
    and keeps what service orders will be checked against without calling
    residents: the persons and open needs of the community, replicated
    from the residents daemon's events.

    Tables:  persons  person_id\0     -> tashan.volunteers.Person
             needs    need_id\0       -> household_id\0 (open needs only)
             hh_needs household_id\0  -> u64 open needs
    =========================================================================
*/
#include "volunteers_service.h"

#include <string.h>

#include "events.pb-c.h"
#include "ts_valid.h"
#include "volunteers.pb-c.h"

static ts_table
s_table (ts_ctx *ctx, const char *name)
{
    return ts_store_table (ts_txn_store (ctx->txn), name);
}

static unsigned
s_apply_person (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    const Tashan__Events__Person *p = payload;
    if (ts_check_str (ctx, "person_id", p->person_id, 64, true))
        return ctx->code;
    Tashan__Volunteers__Person rec = TASHAN__VOLUNTEERS__PERSON__INIT;
    rec.person_id = p->person_id;
    rec.household_id = p->household_id;
    rec.building_number = p->building_number;
    rec.grid = p->grid;
    rec.archived = p->archived || strcmp (event->topic, "person.archived") == 0;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, p->person_id);
    ts_txn_put_msg (ctx->txn, s_table (ctx, "persons"), k.data, k.size, &rec.base);
    return TS_OK;
}

static unsigned
s_apply_need (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    const Tashan__Events__Need *n = payload;
    if (ts_check_str (ctx, "need_id", n->need_id, 64, true)
    ||  ts_check_str (ctx, "household_id", n->household_id, 64, true))
        return ctx->code;
    ts_key need, household;
    ts_key_init (&need);
    ts_key_str (&need, n->need_id);
    ts_key_init (&household);
    ts_key_str (&household, n->household_id);
    bool open = strcmp (event->topic, "need.opened") == 0;
    bool known = ts_txn_get (ctx->txn, s_table (ctx, "needs"), need.data, need.size, NULL);
    //  Count each need once open and once closed, whatever the replays.
    if (open && !known) {
        ts_txn_put (ctx->txn, s_table (ctx, "needs"), need.data, need.size,
                    household.data, household.size);
        ts_txn_add_i64 (ctx->txn, s_table (ctx, "hh_needs"), household.data, household.size, 1);
    }
    else
    if (!open && known) {
        ts_txn_del (ctx->txn, s_table (ctx, "needs"), need.data, need.size);
        ts_txn_add_i64 (ctx->txn, s_table (ctx, "hh_needs"), household.data, household.size, -1);
    }
    return TS_OK;
}

static unsigned
s_get_person (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Volunteers__GetPersonRequest *req = req_;
    Tashan__Volunteers__Person *rep = rep_;
    if (ts_check_str (ctx, "id", req->id, 64, true))
        return ctx->code;
    ts_key k;
    ts_key_init (&k);
    ts_key_str (&k, req->id);
    Tashan__Volunteers__Person *rec = ts_txn_get_msg (ctx->txn, s_table (ctx, "persons"),
        k.data, k.size, &tashan__volunteers__person__descriptor, ctx->arena);
    if (!rec)
        return ts_fail (ctx, TS_NOT_FOUND, "no person %s", req->id);
    *rep = *rec;
    ts_key household;
    ts_key_init (&household);
    ts_key_str (&household, rec->household_id);
    rep->open_needs = (uint32_t) ts_txn_get_u64 (ctx->txn, s_table (ctx, "hh_needs"),
                                                 household.data, household.size, 0);
    return TS_OK;
}

static const ts_table_def s_tables [] = {
    { "persons", 0 }, { "needs", 0 }, { "hh_needs", 0 },
};

static const ts_method s_methods [] = {
    { "volunteers.GetPerson", &tashan__volunteers__get_person_request__descriptor,
      &tashan__volunteers__person__descriptor, s_get_person, TS_METHOD_READ,
      TS_ROLE_OPS | TS_ROLE_SYSTEM, NULL },
};

static const ts_topic_handler s_residents_topics [] = {
    { "person.created", &tashan__events__person__descriptor, s_apply_person },
    { "person.updated", &tashan__events__person__descriptor, s_apply_person },
    { "person.moved", &tashan__events__person__descriptor, s_apply_person },
    { "person.archived", &tashan__events__person__descriptor, s_apply_person },
    { "need.opened", &tashan__events__need__descriptor, s_apply_need },
    { "need.closed", &tashan__events__need__descriptor, s_apply_need },
};

static const ts_subscription s_subscriptions [] = {
    { "residents", s_residents_topics, sizeof s_residents_topics / sizeof s_residents_topics [0] },
};

const ts_service volunteers_service = {
    .name = "volunteers",
    .summary = "tashan volunteers daemon (SPEC §2 volunteers): persons and needs "
               "replicated from residents; circles and service orders to come",
    .schema_version = 1,
    .tables = s_tables,
    .table_count = sizeof s_tables / sizeof s_tables [0],
    .methods = s_methods,
    .method_count = 1,
    .subscriptions = s_subscriptions,
    .subscription_count = 1,
};
