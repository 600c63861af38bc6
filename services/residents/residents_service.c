/*  =========================================================================
    residents_service - the residents daemon's method table: each
    "residents.<Verb>" mapped to its request/reply types, its handler in
    the domain core, whether it writes, and the roles that may call it.

    Reads of a household file (GetHousehold, GetHistory, GetPerson) are
    read methods: each is recorded in the audit journal before its reply
    (one append per batch of requests), and the tick folds the journal
    into the audit table in batches (residents_audit.c). ListAudit is a write method: it folds first.
    Phones are shown unmasked to ops only.
    =========================================================================
*/
#include "residents_service.h"
#include "residents_core.h"

//  A thin typed wrapper per handler (TS_HANDLER), so the table holds
//  ts_handler_fn.
#define HANDLER(fn, Req, Rep) \
    TS_HANDLER (s_##fn, fn, Tashan__Residents__##Req, Tashan__Residents__##Rep)

HANDLER (residents_compound_create, CreateCompoundRequest, Compound)
HANDLER (residents_compound_get, GetRequest, Compound)
HANDLER (residents_compound_list, ListCompoundsRequest, ListCompoundsReply)
HANDLER (residents_compound_update, UpdateCompoundRequest, Compound)
HANDLER (residents_compound_archive, ArchiveRequest, Compound)
HANDLER (residents_building_create, CreateBuildingRequest, Building)
HANDLER (residents_building_get, GetRequest, Building)
HANDLER (residents_building_list, ListBuildingsRequest, ListBuildingsReply)
HANDLER (residents_building_update, UpdateBuildingRequest, Building)
HANDLER (residents_building_archive, ArchiveRequest, Building)
HANDLER (residents_household_create, CreateHouseholdRequest, Household)
HANDLER (residents_household_get, GetRequest, Household)
HANDLER (residents_household_list, ListHouseholdsRequest, ListHouseholdsReply)
HANDLER (residents_lookup, LookupRequest, LookupReply)
HANDLER (residents_school_get, GetSchoolRequest, School)
HANDLER (residents_household_update, UpdateHouseholdRequest, Household)
HANDLER (residents_household_move_out, ArchiveRequest, Household)
HANDLER (residents_household_history, PageRequest, HistoryReply)
HANDLER (residents_household_audit, PageRequest, AuditReply)
HANDLER (residents_member_add, AddMemberRequest, Member)
HANDLER (residents_person_get, GetRequest, Member)
HANDLER (residents_person_update, UpdatePersonRequest, Member)
HANDLER (residents_person_move, MovePersonRequest, Member)
HANDLER (residents_person_archive, ArchiveRequest, Member)
HANDLER (residents_need_open, OpenNeedRequest, Need)
HANDLER (residents_need_get, GetRequest, Need)
HANDLER (residents_need_list, ListNeedsRequest, ListNeedsReply)
HANDLER (residents_need_set_status, SetNeedStatusRequest, Need)
HANDLER (residents_need_matches, PageRequest, MatchesReply)
HANDLER (residents_need_assign, AssignRequest, AssignReply)
HANDLER (residents_resource_add, AddResourceRequest, Resource)
HANDLER (residents_resource_get, GetRequest, Resource)
HANDLER (residents_resource_list, ListResourcesRequest, ListResourcesReply)
HANDLER (residents_resource_archive, ArchiveRequest, Resource)
HANDLER (residents_match_all, MatchAllRequest, MatchAllReply)
HANDLER (residents_seed_demo, SeedDemoRequest, SeedDemoReply)

//  The tables (their layout is at the top of residents_core.c).
static const ts_table_def s_tables [] = {
    { "compounds", 0 }, { "compound_names", 0 }, { "buildings", 0 },
    { "building_nos", 0 }, { "households", 0 }, { "bld_households", 0 },
    { "persons", 0 }, { "id_hashes", 0 }, { "pupils", 0 }, { "versions", 0 },
    //  The read audit is not community data: reads alone never make a
    //  store "hold data" (tashanctl demo, ts_store_holds_data).
    { "audit", TS_TABLE_NOT_DATA }, { "audit_seq", TS_TABLE_NOT_DATA },
    { "audit_days", TS_TABLE_NOT_DATA }, { "audit_meta", TS_TABLE_NOT_DATA },
    { "needs", 0 }, { "resources", 0 }, { "res_by_cat", 0 },
    { "res_by_provider", 0 }, { "merchants", 0 }, { "demo", 0 },
};

#define D(name) &tashan__residents__##name##__descriptor
#define W TS_METHOD_WRITE
#define R TS_METHOD_READ
#define OPS TS_ROLE_OPS
#define OPS_SYS (TS_ROLE_OPS | TS_ROLE_SYSTEM)

static const ts_method s_methods [] = {
    { "residents.CreateCompound", D (create_compound_request), D (compound),
      s_residents_compound_create, W, OPS, NULL },
    { "residents.GetCompound", D (get_request), D (compound),
      s_residents_compound_get, R, OPS_SYS, NULL },
    { "residents.ListCompounds", D (list_compounds_request), D (list_compounds_reply),
      s_residents_compound_list, R, OPS_SYS, NULL },
    { "residents.UpdateCompound", D (update_compound_request), D (compound),
      s_residents_compound_update, W, OPS, NULL },
    { "residents.ArchiveCompound", D (archive_request), D (compound),
      s_residents_compound_archive, W, OPS, NULL },
    { "residents.CreateBuilding", D (create_building_request), D (building),
      s_residents_building_create, W, OPS, NULL },
    { "residents.GetBuilding", D (get_request), D (building),
      s_residents_building_get, R, OPS_SYS, NULL },
    { "residents.ListBuildings", D (list_buildings_request), D (list_buildings_reply),
      s_residents_building_list, R, OPS_SYS, NULL },
    { "residents.UpdateBuilding", D (update_building_request), D (building),
      s_residents_building_update, W, OPS, NULL },
    { "residents.ArchiveBuilding", D (archive_request), D (building),
      s_residents_building_archive, W, OPS, NULL },
    { "residents.CreateHousehold", D (create_household_request), D (household),
      s_residents_household_create, W, OPS, NULL },
    { "residents.GetHousehold", D (get_request), D (household),
      s_residents_household_get, R, OPS_SYS, NULL },
    { "residents.ListHouseholds", D (list_households_request), D (list_households_reply),
      s_residents_household_list, R, OPS_SYS, NULL },
    { "residents.Lookup", D (lookup_request), D (lookup_reply),
      s_residents_lookup, R, OPS | TS_ROLE_PANEL, NULL },
    //  No HTTP route: the gateway asks it before binding a school token.
    { "residents.GetSchool", D (get_school_request), D (school),
      s_residents_school_get, R, OPS_SYS, NULL },
    { "residents.UpdateHousehold", D (update_household_request), D (household),
      s_residents_household_update, W, OPS, NULL },
    { "residents.MoveOutHousehold", D (archive_request), D (household),
      s_residents_household_move_out, W, OPS, NULL },
    { "residents.GetHistory", D (page_request), D (history_reply),
      s_residents_household_history, R, OPS, NULL },
    { "residents.ListAudit", D (page_request), D (audit_reply),
      s_residents_household_audit, W, OPS, NULL },
    { "residents.AddMember", D (add_member_request), D (member),
      s_residents_member_add, W, OPS, NULL },
    { "residents.GetPerson", D (get_request), D (member),
      s_residents_person_get, R, OPS_SYS, NULL },
    { "residents.UpdatePerson", D (update_person_request), D (member),
      s_residents_person_update, W, OPS, NULL },
    { "residents.MovePerson", D (move_person_request), D (member),
      s_residents_person_move, W, OPS, NULL },
    { "residents.ArchivePerson", D (archive_request), D (member),
      s_residents_person_archive, W, OPS, NULL },
    { "residents.OpenNeed", D (open_need_request), D (need),
      s_residents_need_open, W, OPS, NULL },
    { "residents.GetNeed", D (get_request), D (need),
      s_residents_need_get, R, OPS_SYS, NULL },
    { "residents.ListNeeds", D (list_needs_request), D (list_needs_reply),
      s_residents_need_list, R, OPS_SYS, NULL },
    { "residents.SetNeedStatus", D (set_need_status_request), D (need),
      s_residents_need_set_status, W, OPS_SYS, NULL },
    { "residents.ListMatches", D (page_request), D (matches_reply),
      s_residents_need_matches, R, OPS_SYS, NULL },
    { "residents.AssignNeed", D (assign_request), D (assign_reply),
      s_residents_need_assign, W, OPS_SYS, NULL },
    { "residents.AddResource", D (add_resource_request), D (resource),
      s_residents_resource_add, W, OPS_SYS, NULL },
    { "residents.GetResource", D (get_request), D (resource),
      s_residents_resource_get, R, OPS_SYS, NULL },
    { "residents.ListResources", D (list_resources_request), D (list_resources_reply),
      s_residents_resource_list, R, OPS_SYS, NULL },
    { "residents.ArchiveResource", D (archive_request), D (resource),
      s_residents_resource_archive, W, OPS_SYS, NULL },
    { "residents.MatchAll", D (match_all_request), D (match_all_reply),
      s_residents_match_all, W, OPS_SYS, NULL },
    { "residents.SeedDemo", D (seed_demo_request), D (seed_demo_reply),
      s_residents_seed_demo, W, TS_ROLE_SYSTEM, NULL },
};

static const ts_topic_handler s_merchant_topics [] = {
    { "merchant.registered", &tashan__events__merchant__descriptor, residents_merchant_apply },
    { "merchant.updated", &tashan__events__merchant__descriptor, residents_merchant_apply },
};

//  residents_volunteers.c: need.served from the volunteers' closed loop.
unsigned residents_need_served_apply (ts_ctx *ctx, const void *payload,
                                      const Tashan__Event *event);
static const ts_topic_handler s_volunteer_topics [] = {
    { "need.served", &tashan__events__need_served__descriptor, residents_need_served_apply },
};

static const ts_subscription s_subscriptions [] = {
    TS_SUBSCRIPTION ("merchants", s_merchant_topics),
    TS_SUBSCRIPTION ("volunteers", s_volunteer_topics),
};

const ts_service residents_service = {
    .name = "residents",
    .summary = "household archives, needs and resources of the community",
    .schema_version = 1,
    TS_TABLES (s_tables),
    TS_METHODS (s_methods),
    TS_SUBSCRIPTIONS (s_subscriptions),
    .open = residents_open,
    .close = residents_close,
    .tick = residents_tick,
    .tick_ms = RES_AUDIT_TICK_MS,
    .tick_off_loop = true,          //  a fold's disk sync never holds up a read
    .batch_done = residents_audit_batch_done,
};
