/*  gw_openapi_walk - every operation of a paths object. See
    gw_openapi_walk.h. */
#include "gw_openapi_walk.h"

#include <assert.h>

void
gw_openapi_walk (json_t *paths, gw_openapi_visit_fn *visit, void *arg)
{
    assert (paths && visit);
    const char *pattern;
    json_t *item;
    json_object_foreach (paths, pattern, item) {
        const char *method;
        json_t *op;
        json_object_foreach (item, method, op)
            visit (pattern, method, op, arg);
    }
}
