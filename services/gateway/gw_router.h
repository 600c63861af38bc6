/*  =========================================================================
    gw_router - find the route of "METHOD /path" among every service's
    route table, and its path parameters

    Patterns are split on '/'; a "{name}" segment matches one non-empty
    segment, which is percent-decoded. A path that matches some pattern
    under another method gives GW_ROUTER_METHOD (405).
    =========================================================================
*/
#ifndef GW_ROUTER_H
#define GW_ROUTER_H

#include <stddef.h>
#include "gw_route.h"

#define GW_PARAMS_MAX 4
#define GW_SEGMENTS_MAX 12
#define GW_PARAM_MAX_BYTES 1024

typedef struct {
    const char *name;               //  points into the pattern
    size_t name_len;
    char value [GW_PARAM_MAX_BYTES];//  decoded
} gw_param;

typedef enum {
    GW_ROUTER_FOUND = 0,
    GW_ROUTER_NOT_FOUND,            //  no pattern matches the path
    GW_ROUTER_METHOD,               //  a pattern matches, not for this method
    GW_ROUTER_BAD_PATH,             //  undecodable or too long a segment
} gw_router_result;

typedef struct {
    const gw_route *route;
    gw_param params [GW_PARAMS_MAX];
    size_t param_count;
} gw_match;

//  Every route of every service, in one list.
size_t gw_router_count (void);
const gw_route *gw_router_at (size_t index);

gw_router_result gw_router_find (const char *method, const char *path, gw_match *match);

//  The methods path answers to, for Allow: "GET, HEAD, POST, OPTIONS"
//  (HEAD with GET, OPTIONS always), from the route tables and the
//  gateway's own paths (/healthz, /v1/tokens...). Returns how many
//  methods besides OPTIONS; 0 (and out "") when no route has this path.
size_t gw_router_allow (const char *path, char *out, size_t out_size);

#endif
