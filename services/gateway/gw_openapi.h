/*  gw_openapi - the OpenAPI 3 description of the whole HTTP API, generated
    from the route tables and the protobuf descriptors, so the document
    can never drift from what the gateway serves. `tashan-gateway
    --openapi` prints it; docs/openapi.json is a copy checked by a test. */
#ifndef GW_OPENAPI_H
#define GW_OPENAPI_H

//  Returns a malloc'd JSON document (caller frees), NULL on OOM.
char *gw_openapi_print (void);

#endif
