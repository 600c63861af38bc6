/*  =========================================================================
    gw_openapi_meaning - what the proto comments say, merged into the
    OpenAPI schemas: descriptions, enum values, required fields, examples

    The notes come from cmake/proto_openapi.py, which reads the .proto files
    at build time (the comments are the one source). Every schema gets a
    description and an example (from its fields' examples).
    =========================================================================
*/
#ifndef GW_OPENAPI_MEANING_H
#define GW_OPENAPI_MEANING_H

#include <jansson.h>

//  Merge the notes into schemas ({name: schema} of components.schemas).
//  Returns 0, or -1 when the compiled-in notes do not parse.
int gw_openapi_meaning_apply (json_t *schemas);

#endif
