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

//  The compiled-in notes ({"schemas": {message: note}}), a new
//  reference; NULL when they do not parse.
json_t *gw_openapi_meaning_notes (void);

//  Merge the notes into schemas ({name: schema} of components.schemas).
void gw_openapi_meaning_apply (json_t *schemas, json_t *notes);

//  Give every protobuf schema an example: its fields' examples, made
//  once the required fields are known (gw_openapi_required).
void gw_openapi_meaning_examples (json_t *schemas);

//  Describe a query parameter made from field `param.name` of request
//  message `message` (full name): the field's comment, else what every
//  paged list's page_size and page_token mean; and its example.
void gw_openapi_meaning_parameter (json_t *param, json_t *notes, const char *message);

#endif
