/*  =========================================================================
    gw_openapi_required - which reply fields the OpenAPI marks required

    The gateway prints every field of a reply (gw_json_print: defaults
    included), except the members of a oneof that are not set. So each
    schema reached only from replies lists all its other fields as
    required; a schema a request body uses too keeps the required fields
    its proto comments name (gw_openapi_meaning), as clients may omit
    the rest.
    =========================================================================
*/
#ifndef GW_OPENAPI_REQUIRED_H
#define GW_OPENAPI_REQUIRED_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

//  Note on `schema` which of desc's fields are always printed (those
//  outside a oneof), for gw_openapi_required_replies.
void gw_openapi_required_note (json_t *schema, const ProtobufCMessageDescriptor *desc);

//  Mark the always printed fields required in the schemas only replies
//  reach (paths: the document's), and drop the notes from every schema.
void gw_openapi_required_replies (json_t *paths, json_t *schemas);

#endif
