/*  routes_volunteers - HTTP routes served by the volunteers daemon. */
#include "gw_route.h"
#include "volunteers.pb-c.h"

const gw_route gw_routes_volunteers [] = {
    { "GET", "/v1/volunteers/persons/{id}", "volunteers", "volunteers.GetPerson",
      &tashan__volunteers__get_person_request__descriptor,
      &tashan__volunteers__person__descriptor, 0 },
};
const size_t gw_routes_volunteers_count = sizeof gw_routes_volunteers / sizeof gw_routes_volunteers [0];
