/*  =========================================================================
    gw_openapi_walk - visit every operation of an OpenAPI paths object

    The passes over a finished document (shared header parameters, which
    schemas replies reach) each need every operation with its path and
    method.
    =========================================================================
*/
#ifndef GW_OPENAPI_WALK_H
#define GW_OPENAPI_WALK_H

#include <jansson.h>

typedef void (gw_openapi_visit_fn) (const char *pattern, const char *method, json_t *op,
                                    void *arg);

//  Call visit for each operation of paths ({pattern: {method: op}}).
void gw_openapi_walk (json_t *paths, gw_openapi_visit_fn *visit, void *arg);

#endif
