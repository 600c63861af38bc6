/*  routes_proposals - HTTP routes served by the proposals daemon (none yet: its
    domain API is a later issue; the daemon already runs, serves health,
    backup and its event outbox). */
#include "gw_route.h"

const gw_route gw_routes_proposals [1] = { { 0 } };
const size_t gw_routes_proposals_count = 0;
