/*  gw_openapi - OpenAPI from route tables and descriptors. See gw_openapi.h. */
#include "gw_openapi.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "gateway.pb-c.h"
#include "gw_route.h"
#include "gw_router.h"

#define SCHEMA_DEPTH_MAX 16

static void s_schema_add (json_t *schemas, const ProtobufCMessageDescriptor *desc, int depth);

static json_t *
s_ref (const ProtobufCMessageDescriptor *desc)
{
    char ref [256];
    snprintf (ref, sizeof ref, "#/components/schemas/%s", desc->name);
    return json_pack ("{s:s}", "$ref", ref);
}

static json_t *
s_field_schema (json_t *schemas, const ProtobufCFieldDescriptor *f, int depth)
{
    json_t *t;
    switch (f->type) {
        case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
            t = json_pack ("{s:s,s:s}", "type", "integer", "format", "int32");
            break;
        case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
            t = json_pack ("{s:s,s:s,s:i}", "type", "integer", "format", "int32", "minimum", 0);
            break;
        case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
            t = json_pack ("{s:s,s:s}", "type", "integer", "format", "int64");
            break;
        case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
            t = json_pack ("{s:s,s:s,s:i}", "type", "integer", "format", "int64", "minimum", 0);
            break;
        case PROTOBUF_C_TYPE_FLOAT:
            t = json_pack ("{s:s,s:s}", "type", "number", "format", "float");
            break;
        case PROTOBUF_C_TYPE_DOUBLE:
            t = json_pack ("{s:s,s:s}", "type", "number", "format", "double");
            break;
        case PROTOBUF_C_TYPE_BOOL:
            t = json_pack ("{s:s}", "type", "boolean");
            break;
        case PROTOBUF_C_TYPE_STRING:
            t = json_pack ("{s:s}", "type", "string");
            break;
        case PROTOBUF_C_TYPE_BYTES:
            t = json_pack ("{s:s,s:s}", "type", "string", "format", "byte");
            break;
        case PROTOBUF_C_TYPE_ENUM: {
            const ProtobufCEnumDescriptor *e = f->descriptor;
            json_t *names = json_array ();
            for (unsigned i = 0; i < e->n_values; i++)
                json_array_append_new (names, json_string (e->values [i].name));
            t = json_pack ("{s:s,s:o}", "type", "string", "enum", names);
            break;
        }
        case PROTOBUF_C_TYPE_MESSAGE:
        default:
            s_schema_add (schemas, f->descriptor, depth + 1);
            t = s_ref (f->descriptor);
            break;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        t = json_pack ("{s:s,s:o}", "type", "array", "items", t);
    return t;
}

static void
s_schema_add (json_t *schemas, const ProtobufCMessageDescriptor *desc, int depth)
{
    assert (depth < SCHEMA_DEPTH_MAX);
    if (json_object_get (schemas, desc->name))
        return;
    json_t *props = json_object ();
    json_t *schema = json_pack ("{s:s,s:o,s:b}", "type", "object", "properties", props,
                                "additionalProperties", 0);
    //  Registered before its fields: a recursive type finds itself and stops.
    json_object_set_new (schemas, desc->name, schema);
    for (unsigned i = 0; i < desc->n_fields; i++)
        json_object_set_new (props, desc->fields [i].name,
                             s_field_schema (schemas, &desc->fields [i], depth));
}

static json_t *
s_error_response (const char *why)
{
    return json_pack ("{s:s,s:{s:{s:{s:s}}}}", "description", why, "content",
                      "application/json", "schema", "$ref", "#/components/schemas/Error");
}

//  An operation's parameters: the path's, then, for a route without a
//  body, the request's other scalar fields as query parameters.
static json_t *
s_parameters (json_t *schemas, const char *pattern, const ProtobufCMessageDescriptor *req,
              unsigned flags)
{
    json_t *params = json_array ();
    const char *p = pattern;
    char names [GW_PARAMS_MAX][64];
    int n_names = 0;
    for (int guard = 0; (p = strchr (p, '{')) != NULL && guard < GW_PARAMS_MAX; guard++) {
        const char *end = strchr (p, '}');
        assert (end && end - p - 1 < 64);
        snprintf (names [n_names], sizeof names [n_names], "%.*s", (int) (end - p - 1), p + 1);
        const ProtobufCFieldDescriptor *f =
            req ? protobuf_c_message_descriptor_get_field_by_name (req, names [n_names]) : NULL;
        json_array_append_new (params, json_pack ("{s:s,s:s,s:b,s:o}", "name", names [n_names],
            "in", "path", "required", 1, "schema",
            f ? s_field_schema (schemas, f, 0) : json_pack ("{s:s}", "type", "string")));
        n_names++;
        p = end;
    }
    if (req && !(flags & GW_BODY))
        for (unsigned i = 0; i < req->n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &req->fields [i];
            bool is_path = false;
            for (int k = 0; k < n_names; k++)
                is_path = is_path || strcmp (names [k], f->name) == 0;
            if (is_path || f->type == PROTOBUF_C_TYPE_MESSAGE)
                continue;
            json_array_append_new (params, json_pack ("{s:s,s:s,s:b,s:o}", "name", f->name,
                "in", "query", "required", 0, "schema", s_field_schema (schemas, f, 0)));
        }
    return params;
}

//  An operation's responses: its success (201 for POST, and 200 for a
//  repeat) and every error it can answer.
static json_t *
s_responses (json_t *schemas, const char *method, const ProtobufCMessageDescriptor *rep,
             unsigned flags)
{
    json_t *responses = json_object ();
    json_t *ok;
    if (flags & GW_RAW)
        ok = json_pack ("{s:s,s:{s:{}}}", "description", "the document", "content", "image/svg+xml");
    else {
        s_schema_add (schemas, rep, 0);
        ok = json_pack ("{s:s,s:{s:{s:o}}}", "description", "success (201 when created; 200 "
                        "for reads and for a repeated idempotent write)", "content",
                        "application/json", "schema", s_ref (rep));
    }
    json_object_set_new (responses, strcmp (method, "POST") == 0 ? "201" : "200", ok);
    if (strcmp (method, "POST") == 0)
        json_object_set_new (responses, "200", json_pack ("{s:s,s:{s:{s:o}}}", "description",
            "repeat of an idempotent write, or a read", "content", "application/json", "schema",
            (flags & GW_RAW) ? json_object () : s_ref (rep)));
    json_object_set_new (responses, "400", s_error_response ("bad input; nothing changed"));
    if (!(flags & GW_PUBLIC)) {
        json_object_set_new (responses, "401", s_error_response ("no or invalid token"));
        json_object_set_new (responses, "403", s_error_response ("role not allowed"));
    }
    json_object_set_new (responses, "404", s_error_response ("not found"));
    json_object_set_new (responses, "409", s_error_response ("conflict"));
    json_object_set_new (responses, "413", s_error_response ("body over 1 MiB"));
    json_object_set_new (responses, "422", s_error_response ("refers to something that does not exist"));
    json_object_set_new (responses, "429", s_error_response ("rate limit reached for this "
                                                              "caller (Retry-After: 1)"));
    json_object_set_new (responses, "503", s_error_response ("owning daemon unreachable or "
                         "not in time; the request was not applied: retry"));
    return responses;
}

static json_t *
s_operation (json_t *schemas, const char *method, const char *pattern,
             const ProtobufCMessageDescriptor *req, const ProtobufCMessageDescriptor *rep,
             unsigned flags, const char *summary)
{
    json_t *op = json_object ();
    json_object_set_new (op, "summary", json_string (summary));
    json_object_set_new (op, "operationId", json_string (summary));
    json_t *params = s_parameters (schemas, pattern, req, flags);
    json_object_set_new (op, "parameters", params);
    if (req && (flags & GW_BODY)) {
        s_schema_add (schemas, req, 0);
        json_object_set_new (op, "requestBody", json_pack ("{s:b,s:{s:{s:o}}}", "required", 1,
            "content", "application/json", "schema", s_ref (req)));
    }
    json_t *responses = s_responses (schemas, method, rep, flags);
    json_object_set_new (op, "responses", responses);
    if (flags & GW_PUBLIC)
        json_object_set_new (op, "security", json_array ());
    return op;
}

//  "POST" -> "post": the key of an operation in a path item.
static void
s_lower (const char *method, char *lower, size_t lower_size)
{
    size_t n = strlen (method);
    assert (n < lower_size);
    for (size_t i = 0; i <= n; i++)
        lower [i] = (char) (method [i] >= 'A' && method [i] <= 'Z' ? method [i] + 32 : method [i]);
}

static void
s_add (json_t *paths, json_t *schemas, const char *method, const char *pattern,
       const ProtobufCMessageDescriptor *req, const ProtobufCMessageDescriptor *rep,
       unsigned flags, const char *summary)
{
    json_t *item = json_object_get (paths, pattern);
    if (!item) {
        item = json_object ();
        json_object_set_new (paths, pattern, item);
    }
    char lower [16];
    s_lower (method, lower, sizeof lower);
    json_object_set_new (item, lower, s_operation (schemas, method, pattern, req, rep, flags, summary));
}

//  Set the description of an operation s_add made.
static void
s_describe (json_t *paths, const char *method, const char *pattern, const char *description)
{
    char lower [16];
    s_lower (method, lower, sizeof lower);
    json_t *op = json_object_get (json_object_get (paths, pattern), lower);
    assert (op);                    //  a description is of a route that exists
    json_object_set_new (op, "description", json_string (description));
}

static void
s_describe_all (json_t *paths, const gw_route_doc *docs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        s_describe (paths, docs [i].http_method, docs [i].pattern, docs [i].description);
}

//  The headers every operation takes (X-Request-Id) and those of the
//  routed POSTs (Idempotency-Key), as shared parameters.
static void
s_add_header_parameters (json_t *doc)
{
    json_t *components = json_object_get (doc, "components");
    json_object_set_new (components, "parameters", json_pack (
        "{s:{s:s,s:s,s:b,s:s,s:{s:s,s:s}},s:{s:s,s:s,s:b,s:s,s:{s:s,s:i,s:i}}}",
        "RequestId", "name", "X-Request-Id", "in", "header", "required", 0,
        "description", "An id for this request, 1 to 64 of [A-Za-z0-9._-]; made (16 hex "
        "characters) when missing or malformed. Every answer carries it back as "
        "X-Request-Id and every log line about the request (gateway and daemon) names it.",
        "schema", "type", "string", "pattern", "^[A-Za-z0-9._-]{1,64}$",
        "IdempotencyKey", "name", "Idempotency-Key", "in", "header", "required", 0,
        "description", "Makes a create safe to retry: the first outcome is kept; the same "
        "key with the same body (same route and caller role) answers it again with 200, "
        "with another body 409. 1 to 255 printable ASCII characters without blanks. A "
        "method whose body has its own key (idempotency_key, checkin_id) uses that one.",
        "schema", "type", "string", "minLength", 1, "maxLength", 255));
    json_t *paths = json_object_get (doc, "paths");
    const char *pattern;
    json_t *item;
    json_object_foreach (paths, pattern, item) {
        const char *method;
        json_t *op;
        json_object_foreach (item, method, op) {
            json_t *params = json_object_get (op, "parameters");
            json_array_append_new (params, json_pack ("{s:s}", "$ref",
                                                      "#/components/parameters/RequestId"));
            if (strcmp (method, "post") == 0 && strcmp (pattern, "/v1/tokens") != 0)
                json_array_append_new (params, json_pack ("{s:s}", "$ref",
                                       "#/components/parameters/IdempotencyKey"));
        }
    }
}

char *
gw_openapi_print (void)
{
    json_t *schemas = json_object ();
    json_object_set_new (schemas, "Error", json_pack (
        "{s:s,s:{s:{s:s,s:{s:{s:s},s:{s:s}}}}}", "type", "object", "properties", "error",
        "type", "object", "properties", "code", "type", "string", "message", "type", "string"));
    json_t *paths = json_object ();
    s_add (paths, schemas, "POST", "/v1/tokens", &tashan__gateway__create_token_request__descriptor,
           &tashan__gateway__token__descriptor, GW_BODY, "gateway.CreateToken");
    s_add (paths, schemas, "DELETE", "/v1/tokens/{id}", &tashan__gateway__revoke_token_request__descriptor,
           &tashan__gateway__revoke_token_reply__descriptor, 0, "gateway.RevokeToken");
    s_add (paths, schemas, "GET", "/healthz", NULL, &tashan__gateway__health__descriptor,
           GW_PUBLIC, "gateway.Health");
    s_add (paths, schemas, "GET", "/v1/session", &tashan__gateway__session_request__descriptor,
           &tashan__gateway__session__descriptor, 0, "gateway.Session");
    s_add (paths, schemas, "GET", "/v1/qr.svg", &tashan__gateway__qr_request__descriptor,
           NULL, GW_RAW, "gateway.QrSvg");
    size_t n = gw_router_count ();
    for (size_t i = 0; i < n; i++) {
        const gw_route *r = gw_router_at (i);
        s_add (paths, schemas, r->http_method, r->pattern, r->request, r->reply, r->flags, r->rpc);
    }
    s_describe_all (paths, gw_route_docs_ledger, gw_route_docs_ledger_count);
    s_describe_all (paths, gw_route_docs_residents, gw_route_docs_residents_count);
    s_describe_all (paths, gw_route_docs_merchants, gw_route_docs_merchants_count);
    json_t *doc = json_pack ("{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:o,s:{s:o,s:{s:{s:s,s:s}}},s:[{s:[]}]}",
        "openapi", "3.0.3",
        "info", "title", "tashan community-governance API", "version", TASHAN_VERSION,
        "description", "Generated from the gateway's route tables and the protobuf "
        "descriptors (tashan-gateway --openapi). JSON follows the proto3 mapping with "
        "snake_case names; lowerCamelCase is accepted too. /metrics (Prometheus text) "
        "and the console at / are not JSON and not listed.",
        "servers", "url", "http://127.0.0.1:8080",
        "paths", paths,
        "components", "schemas", schemas, "securitySchemes", "bearer", "type", "http",
        "scheme", "bearer",
        "security", "bearer");
    if (!doc)
        return NULL;
    s_add_header_parameters (doc);
    char *text = json_dumps (doc, JSON_INDENT (1) | JSON_SORT_KEYS);
    json_decref (doc);
    return text;
}
