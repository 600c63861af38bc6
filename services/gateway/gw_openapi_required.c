/*  gw_openapi_required - reply fields marked required. See
    gw_openapi_required.h. */
#include "gw_openapi_required.h"

#include <assert.h>
#include <string.h>

#include "gw_openapi_walk.h"

//  The note's key on a schema while the document is being made.
#define PRINTED "x-printed"
//  Deeper than any message nesting (gw_openapi's SCHEMA_DEPTH_MAX).
#define WALK_DEPTH_MAX 64
#define REF_PREFIX "#/components/schemas/"

void
gw_openapi_required_note (json_t *schema, const ProtobufCMessageDescriptor *desc)
{
    assert (schema && desc);
    json_t *names = json_array ();
    for (unsigned i = 0; i < desc->n_fields; i++)
        if (!(desc->fields [i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            json_array_append_new (names, json_string (desc->fields [i].name));
    json_object_set_new (schema, PRINTED, names);
}

//  Add to `seen` every schema that node refers to, and theirs.
static void
s_walk (json_t *node, json_t *schemas, json_t *seen, int depth)
{
    assert (depth < WALK_DEPTH_MAX);
    const char *ref = json_string_value (json_object_get (node, "$ref"));
    if (ref && strncmp (ref, REF_PREFIX, strlen (REF_PREFIX)) == 0) {
        const char *name = ref + strlen (REF_PREFIX);
        if (json_object_get (seen, name))
            return;
        json_object_set_new (seen, name, json_true ());
        s_walk (json_object_get (schemas, name), schemas, seen, depth + 1);
        return;
    }
    json_t *child;
    if (json_is_object (node)) {
        const char *key;
        json_object_foreach (node, key, child)
            s_walk (child, schemas, seen, depth + 1);
    }
    else
    if (json_is_array (node)) {
        size_t i;
        json_array_foreach (node, i, child)
            s_walk (child, schemas, seen, depth + 1);
    }
}

typedef struct {
    json_t *schemas;
    json_t *by_requests;            //  the schemas request bodies reach
    json_t *by_replies;             //  and those responses reach
} reach_t;

static void
s_reach (const char *pattern, const char *method, json_t *op, void *arg)
{
    (void) pattern;
    (void) method;
    reach_t *reach = arg;
    s_walk (json_object_get (op, "requestBody"), reach->schemas, reach->by_requests, 0);
    s_walk (json_object_get (op, "responses"), reach->schemas, reach->by_replies, 0);
}

//  required: the comments' (already there) and every printed field.
static void
s_require_all (json_t *schema, json_t *printed)
{
    json_t *required = json_object_get (schema, "required");
    if (!required) {
        required = json_array ();
        json_object_set_new (schema, "required", required);
    }
    size_t i;
    json_t *name;
    json_array_foreach (printed, i, name) {
        size_t k;
        json_t *have;
        int found = 0;
        json_array_foreach (required, k, have)
            found = found || json_equal (have, name);
        if (!found)
            json_array_append (required, name);
    }
    if (json_array_size (required) == 0)
        json_object_del (schema, "required");
}

void
gw_openapi_required_replies (json_t *paths, json_t *schemas)
{
    assert (paths && schemas);
    reach_t reach = { schemas, json_object (), json_object () };
    gw_openapi_walk (paths, s_reach, &reach);
    json_t *by_requests = reach.by_requests;
    json_t *by_replies = reach.by_replies;
    const char *name;
    json_t *schema;
    json_object_foreach (schemas, name, schema) {
        json_t *printed = json_object_get (schema, PRINTED);
        if (printed && json_object_get (by_replies, name)
            && !json_object_get (by_requests, name))
            s_require_all (schema, printed);
        json_object_del (schema, PRINTED);
    }
    json_decref (by_requests);
    json_decref (by_replies);
}
