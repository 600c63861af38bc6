/*  =========================================================================
    gw_route - the gateway's route table entries

    Each route maps "METHOD /v1/path/{param}" to one daemon RPC. The
    request message is built from, in order: the JSON body (POST/PUT/PATCH,
    when the route has GW_BODY), then path parameters, then query
    parameters, each matched to the request field of the same name
    (snake_case). The reply message is printed as JSON (every field, zero
    values included). The HTTP status is the daemon's status code.

    Roles are decided by the daemon's method table (caller is forwarded);
    the gateway only authenticates (401) unless the route is GW_PUBLIC.
    Each service contributes its own table in routes_<service>.c.
    =========================================================================
*/
#ifndef GW_ROUTE_H
#define GW_ROUTE_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "ts_services.h"

enum {
    GW_BODY = 1u << 0,              //  parse a JSON body into the request
    GW_PUBLIC = 1u << 1,            //  no token needed; caller role "public"
    //  The reply message has string "content_type" and bytes "data" fields:
    //  send data raw with that type (e.g. an SVG) instead of JSON.
    GW_RAW = 1u << 2,
};

typedef struct {
    const char *http_method;        //  "GET", "POST", "PUT", "PATCH", "DELETE"
    const char *pattern;            //  "/v1/households/{id}/history"
    const char *service;            //  owning daemon: "residents"...
    const char *rpc;                //  daemon method: "residents.GetHistory"
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    unsigned flags;                 //  GW_*
} gw_route;

//  What a client must know of a route beyond its schemas (who sees what,
//  how a ranking is ordered...): its OpenAPI description. Kept next to
//  the routes, in routes_<service>.c of the services that have any.
typedef struct {
    const char *http_method;        //  of a route in the tables
    const char *pattern;
    const char *description;
} gw_route_doc;
#define GW_ROUTE_DOCS_DECLARE(svc) \
    extern const gw_route_doc gw_route_docs_##svc []; \
    extern const size_t gw_route_docs_##svc##_count;
GW_ROUTE_DOCS_DECLARE (ledger)
GW_ROUTE_DOCS_DECLARE (residents)
GW_ROUTE_DOCS_DECLARE (merchants)
#undef GW_ROUTE_DOCS_DECLARE

//  Per-service tables, each defined in routes_<service>.c, one per daemon
//  of services/services.list (TS_SERVICES): gw_routes_<svc> and
//  gw_routes_<svc>_count.
#define GW_ROUTES_DECLARE(svc) \
    extern const gw_route gw_routes_##svc []; \
    extern const size_t gw_routes_##svc##_count;
TS_SERVICES (GW_ROUTES_DECLARE)
#undef GW_ROUTES_DECLARE

#endif
