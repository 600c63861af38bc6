/*  =========================================================================
    proposals_mirror - what other daemons announced, kept locally so no
    request ever calls them: persons and households from residents'
    person.* events (proposers, supporters, one survey response per
    household, results per building and grid), units from merchants'
    merchant.registered / merchant.updated (co-building flag, suspension).
    Events carry full state, so applying one is an upsert.
    =========================================================================
*/
#include "proposals_core.h"

#include <assert.h>
#include <string.h>

static void
s_key_str (ts_key *k, const char *s)
{
    ts_key_init (k);
    ts_key_str (k, s);
}

//  --------------------------------------------------------------------
//  person.created / updated / moved / archived

unsigned
prop_mirror_person (ts_ctx *ctx, const Tashan__Events__Person *p, const Tashan__Event *event)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "person_id", p->person_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "household_id", p->household_id, TS_ID_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "building_number", p->building_number, TS_NAME_MAX_CHARS, false))
    ||  (rc = ts_check_str (ctx, "grid", p->grid, TS_NAME_MAX_CHARS, false)))
        return rc;
    Tashan__Proposals__MirrorPerson rec = TASHAN__PROPOSALS__MIRROR_PERSON__INIT;
    rec.person_id = p->person_id;
    rec.household_id = p->household_id;
    rec.archived = p->archived || strcmp (event->topic, "person.archived") == 0;
    ts_key k;
    s_key_str (&k, p->person_id);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "m_persons"), k.data, k.size, &rec.base);
    if (p->household_id [0] && !rec.archived) {
        Tashan__Proposals__MirrorHousehold hh = TASHAN__PROPOSALS__MIRROR_HOUSEHOLD__INIT;
        hh.household_id = p->household_id;
        hh.building_number = p->building_number;
        hh.grid = p->grid;
        s_key_str (&k, p->household_id);
        ts_txn_put_msg (ctx->txn, prop_table (ctx, "m_households"), k.data, k.size, &hh.base);
    }
    return TS_OK;
}

//  --------------------------------------------------------------------
//  merchant.registered / merchant.updated

unsigned
prop_mirror_merchant (ts_ctx *ctx, const Tashan__Events__Merchant *m, const Tashan__Event *event)
{
    unsigned rc;
    if ((rc = ts_check_str (ctx, "merchant_id", m->merchant_id, TS_ID_MAX_CHARS, true))
    ||  (rc = ts_check_str (ctx, "name", m->name, TS_STR_MAX_CHARS, false)))
        return rc;
    Tashan__Proposals__MirrorUnit rec = TASHAN__PROPOSALS__MIRROR_UNIT__INIT;
    rec.merchant_id = m->merchant_id;
    rec.name = m->name;
    rec.co_building = m->co_building;
    rec.suspended = m->suspended;
    ts_key k;
    s_key_str (&k, m->merchant_id);
    ts_txn_put_msg (ctx->txn, prop_table (ctx, "m_units"), k.data, k.size, &rec.base);
    return TS_OK;
}

//  --------------------------------------------------------------------
//  Lookups

Tashan__Proposals__MirrorUnit *
prop_unit (ts_ctx *ctx, const char *merchant_id)
{
    ts_key k;
    s_key_str (&k, merchant_id);
    return ts_txn_get_msg (ctx->txn, prop_table (ctx, "m_units"), k.data, k.size,
                           &tashan__proposals__mirror_unit__descriptor, ctx->arena);
}

Tashan__Proposals__MirrorHousehold *
prop_household (ts_ctx *ctx, const char *household_id)
{
    ts_key k;
    s_key_str (&k, household_id);
    return ts_txn_get_msg (ctx->txn, prop_table (ctx, "m_households"), k.data, k.size,
                           &tashan__proposals__mirror_household__descriptor, ctx->arena);
}

unsigned
prop_check_person (ts_ctx *ctx, const char *field, const char *person_id)
{
    uint64_t no;
    unsigned rc = ts_check_id (ctx, field, person_id, 'p', "person", TS_UNPROCESSABLE, &no);
    if (rc)
        return rc;
    ts_key k;
    s_key_str (&k, person_id);
    Tashan__Proposals__MirrorPerson *p = ts_txn_get_msg (ctx->txn, prop_table (ctx, "m_persons"),
        k.data, k.size, &tashan__proposals__mirror_person__descriptor, ctx->arena);
    if (p && p->archived)
        return ts_fail (ctx, TS_UNPROCESSABLE, "%s: person %s has moved out", field, person_id);
    return 0;
}

unsigned
prop_check_household (ts_ctx *ctx, const char *field, const char *household_id)
{
    uint64_t no;
    return ts_check_id (ctx, field, household_id, 'h', "household", TS_UNPROCESSABLE, &no);
}
