/*  routes_residents - HTTP routes served by the residents daemon: the
    community layout, household files, persons, needs, resources and the
    match (SPEC section 4: POST /v1/buildings, POST /v1/households,
    GET /v1/households/{id}, GET /v1/households/{id}/history). Roles are
    enforced by the daemon's method table (residents_service.c). */
#include "gw_route.h"
#include "ts_valid.h"
#include "residents.pb-c.h"

#define RQ(name) &tashan__residents__##name##__descriptor

const gw_route gw_routes_residents [] = {
    //  Compounds
    { "POST", "/v1/compounds", "residents", "residents.CreateCompound",
      RQ (create_compound_request), RQ (compound), GW_BODY },
    { "GET", "/v1/compounds", "residents", "residents.ListCompounds",
      RQ (list_compounds_request), RQ (list_compounds_reply), 0 },
    { "GET", "/v1/compounds/{id}", "residents", "residents.GetCompound",
      RQ (get_request), RQ (compound), 0 },
    { "PATCH", "/v1/compounds/{id}", "residents", "residents.UpdateCompound",
      RQ (update_compound_request), RQ (compound), GW_BODY },
    { "POST", "/v1/compounds/{id}/archive", "residents", "residents.ArchiveCompound",
      RQ (archive_request), RQ (compound), GW_BODY },
    //  Buildings
    { "POST", "/v1/buildings", "residents", "residents.CreateBuilding",
      RQ (create_building_request), RQ (building), GW_BODY },
    { "GET", "/v1/buildings", "residents", "residents.ListBuildings",
      RQ (list_buildings_request), RQ (list_buildings_reply), 0 },
    { "GET", "/v1/buildings/{id}", "residents", "residents.GetBuilding",
      RQ (get_request), RQ (building), 0 },
    { "PATCH", "/v1/buildings/{id}", "residents", "residents.UpdateBuilding",
      RQ (update_building_request), RQ (building), GW_BODY },
    { "POST", "/v1/buildings/{id}/archive", "residents", "residents.ArchiveBuilding",
      RQ (archive_request), RQ (building), GW_BODY },
    //  Households (the file, its history and its read audit)
    { "POST", "/v1/households", "residents", "residents.CreateHousehold",
      RQ (create_household_request), RQ (household), GW_BODY },
    { "GET", "/v1/households", "residents", "residents.ListHouseholds",
      RQ (list_households_request), RQ (list_households_reply), 0 },
    { "GET", "/v1/residents/lookup", "residents", "residents.Lookup",
      RQ (lookup_request), RQ (lookup_reply), 0 },
    { "GET", "/v1/households/{id}", "residents", "residents.GetHousehold",
      RQ (get_request), RQ (household), 0 },
    { "PATCH", "/v1/households/{id}", "residents", "residents.UpdateHousehold",
      RQ (update_household_request), RQ (household), GW_BODY },
    { "POST", "/v1/households/{id}/move-out", "residents", "residents.MoveOutHousehold",
      RQ (archive_request), RQ (household), GW_BODY },
    { "GET", "/v1/households/{id}/history", "residents", "residents.GetHistory",
      RQ (page_request), RQ (history_reply), 0 },
    { "GET", "/v1/households/{id}/audit", "residents", "residents.ListAudit",
      RQ (page_request), RQ (audit_reply), 0 },
    { "POST", "/v1/households/{id}/members", "residents", "residents.AddMember",
      RQ (add_member_request), RQ (member), GW_BODY },
    //  Persons
    { "GET", "/v1/persons/{id}", "residents", "residents.GetPerson",
      RQ (get_request), RQ (member), 0 },
    { "PUT", "/v1/persons/{id}", "residents", "residents.UpdatePerson",
      RQ (update_person_request), RQ (member), GW_BODY },
    { "POST", "/v1/persons/{id}/move", "residents", "residents.MovePerson",
      RQ (move_person_request), RQ (member), GW_BODY },
    { "POST", "/v1/persons/{id}/archive", "residents", "residents.ArchivePerson",
      RQ (archive_request), RQ (member), GW_BODY },
    //  Needs
    { "POST", "/v1/needs", "residents", "residents.OpenNeed",
      RQ (open_need_request), RQ (need), GW_BODY },
    { "GET", "/v1/needs", "residents", "residents.ListNeeds",
      RQ (list_needs_request), RQ (list_needs_reply), 0 },
    { "GET", "/v1/needs/{id}", "residents", "residents.GetNeed",
      RQ (get_request), RQ (need), 0 },
    { "POST", "/v1/needs/{id}/status", "residents", "residents.SetNeedStatus",
      RQ (set_need_status_request), RQ (need), GW_BODY },
    { "GET", "/v1/needs/{id}/matches", "residents", "residents.ListMatches",
      RQ (page_request), RQ (matches_reply), 0 },
    { "POST", "/v1/needs/{id}/assign", "residents", "residents.AssignNeed",
      RQ (assign_request), RQ (assign_reply), GW_BODY },
    //  Resources
    { "POST", "/v1/resources", "residents", "residents.AddResource",
      RQ (add_resource_request), RQ (resource), GW_BODY },
    { "GET", "/v1/resources", "residents", "residents.ListResources",
      RQ (list_resources_request), RQ (list_resources_reply), 0 },
    { "GET", "/v1/resources/{id}", "residents", "residents.GetResource",
      RQ (get_request), RQ (resource), 0 },
    { "POST", "/v1/resources/{id}/archive", "residents", "residents.ArchiveResource",
      RQ (archive_request), RQ (resource), GW_BODY },
    //  The batch match (also tashanctl match --all)
    { "POST", "/v1/needs/match-all", "residents", "residents.MatchAll",
      RQ (match_all_request), RQ (match_all_reply), GW_BODY },
};
const size_t gw_routes_residents_count = sizeof gw_routes_residents / sizeof gw_routes_residents [0];

//  The rule for human names (common/ts_valid.h: ts_check_name), said
//  where names come in.
#define NAME_RULE(fields) \
    "Names (" fields ") follow one rule (ts_check_name): " TS_NAME_RULE_TEXT "."

const gw_route_doc gw_route_docs_residents [] = {
    { "POST", "/v1/compounds", NAME_RULE ("name, at most 64 characters") },
    { "PATCH", "/v1/compounds/{id}", NAME_RULE ("name, at most 64 characters") },
    { "POST", "/v1/households", NAME_RULE ("members[].name, members[].consent_by") },
    { "POST", "/v1/households/{id}/members", NAME_RULE ("name, consent_by") },
    { "PUT", "/v1/persons/{id}", NAME_RULE ("name, consent_by") },
    { "POST", "/v1/resources", NAME_RULE ("title") },
};
const size_t gw_route_docs_residents_count = sizeof gw_route_docs_residents /
                                             sizeof gw_route_docs_residents [0];
