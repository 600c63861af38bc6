/*  gw_openapi - OpenAPI from route tables and descriptors. See gw_openapi.h. */
#include "gw_openapi.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "gateway.pb-c.h"
#include "gw_json_internal.h"
#include "gw_openapi_meaning.h"
#include "gw_openapi_required.h"
#include "gw_openapi_walk.h"
#include "gw_route.h"
#include "gw_router.h"

#define SCHEMA_DEPTH_MAX 16
#define OPERATION_ID_MAX 160
//  Local to this file: the route answers its own document on 200 and 503
//  (/healthz), and no error document.
#define DOC_HEALTH (1u << 8)

//  Statuses a route answers beyond the generic ones, by operation.
typedef struct {
    const char *operation;
    const char *status;
    const char *description;
} extra_status_t;

static const extra_status_t s_extra_statuses [] = {
    //  A revocation appends a reversal entry (the ledger never deletes).
    { "ledger.RevokeMedal", "201", "the reversal entry this call created (a repeat answers "
      "200 with the same entry)" },
};

typedef struct {
    json_t *paths;
    json_t *schemas;
    json_t *ids;                    //  operationIds used so far
    json_t *notes;                  //  the proto comments' (gw_openapi_meaning)
} doc_t;

static void s_schema_add (json_t *schemas, const ProtobufCMessageDescriptor *desc, int depth);

static json_t *
s_ref (const ProtobufCMessageDescriptor *desc)
{
    char ref [256];
    snprintf (ref, sizeof ref, "#/components/schemas/%s", desc->name);
    return json_pack ("{s:s}", "$ref", ref);
}

static json_t *
s_field_schema (json_t *schemas, const ProtobufCMessageDescriptor *parent,
                const ProtobufCFieldDescriptor *f, int depth)
{
    //  A map prints as a JSON object (gw_json_print), not as its entries.
    const ProtobufCMessageDescriptor *entry = gw_json__map_entry (parent, f);
    if (entry)
        return json_pack ("{s:s,s:o}", "type", "object", "additionalProperties",
                          s_field_schema (schemas, entry, &entry->fields [1], depth));
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
    gw_openapi_required_note (schema, desc);
    for (unsigned i = 0; i < desc->n_fields; i++)
        json_object_set_new (props, desc->fields [i].name,
                             s_field_schema (schemas, desc, &desc->fields [i], depth));
}

static json_t *
s_error_response (const char *why)
{
    return json_pack ("{s:s,s:{s:{s:{s:s}}}}", "description", why, "content",
                      "application/json", "schema", "$ref", "#/components/schemas/Error");
}

//  The ts_id kind (common/ts_id.h) of the records under each collection.
static const struct {
    const char *collection;
    const char *example;
} s_path_examples [] = {
    { "/persons/", "p12" }, { "/households/", "h12" }, { "/buildings/", "b12" },
    { "/compounds/", "c12" }, { "/needs/", "n12" }, { "/resources/", "r12" },
    { "/merchants/", "m12" }, { "/markets/", "k12" }, { "/entries/", "e12" },
    { "/circles/", "q12" }, { "/service-orders/", "o12" }, { "/projects/", "j12" },
    { "/sessions/", "s12" }, { "/proposals/", "x12" }, { "/problems/", "y12" },
    { "/surveys/", "v12" }, { "/offers/", "f12" }, { "/months/", "2026-11" },
    { "/volunteers/", "p12" }, { "/pupils/", "2026001" }, { "/rules/", "market.service" },
};

//  An example of the path parameter at `brace` in pattern: an id of the
//  collection right before it, else an id-shaped word.
static json_t *
s_path_example (const char *pattern, const char *brace)
{
    size_t n = sizeof s_path_examples / sizeof s_path_examples [0];
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen (s_path_examples [i].collection);
        if ((size_t) (brace - pattern) >= len
            && strncmp (brace - len, s_path_examples [i].collection, len) == 0)
            return json_string (s_path_examples [i].example);
    }
    return json_string ("x1");
}

//  An operation's parameters: the path's, then, for a route without a
//  body, the request's other scalar fields as query parameters.
static json_t *
s_parameters (doc_t *doc, const char *pattern, const ProtobufCMessageDescriptor *req,
              unsigned flags)
{
    json_t *schemas = doc->schemas;
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
        json_t *schema = f ? s_field_schema (schemas, req, f, 0)
                           : json_pack ("{s:s}", "type", "string");
        //  An example for tools that build requests (dredd): a number, or
        //  an id of the kind the path names (a real id comes from the
        //  tool's hooks).
        const char *type = json_string_value (json_object_get (schema, "type"));
        json_t *example = type && strcmp (type, "integer") == 0 ? json_integer (1)
                                                                 : s_path_example (pattern, p);
        json_array_append_new (params, json_pack ("{s:s,s:s,s:b,s:o,s:o}", "name", names [n_names],
            "in", "path", "required", 1, "schema", schema, "example", example));
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
            json_t *param = json_pack ("{s:s,s:s,s:b,s:o}", "name", f->name, "in", "query",
                                       "required", 0, "schema", s_field_schema (schemas, req, f, 0));
            gw_openapi_meaning_parameter (param, doc->notes, req->name);
            json_array_append_new (params, param);
        }
    return params;
}

//  A success response: the reply document, or raw bytes.
static json_t *
s_success (json_t *schemas, const ProtobufCMessageDescriptor *rep, unsigned flags,
           const char *why)
{
    if (flags & GW_RAW)
        return json_pack ("{s:s,s:{s:{s:{s:s}}}}", "description", why, "content",
                          "image/svg+xml", "schema", "type", "string");
    s_schema_add (schemas, rep, 0);
    return json_pack ("{s:s,s:{s:{s:o}}}", "description", why, "content",
                      "application/json", "schema", s_ref (rep));
}

//  /healthz: the health document on 200 and on 503, nothing else.
static json_t *
s_health_responses (json_t *schemas, const ProtobufCMessageDescriptor *rep)
{
    json_t *responses = json_object ();
    json_object_set_new (responses, "200", s_success (schemas, rep, 0,
        "every daemon is up and can write: status \"ok\""));
    json_object_set_new (responses, "503", s_success (schemas, rep, 0,
        "status \"degraded\": a daemon is down (its error says why) or its store "
        "cannot write (disk full: its degraded says why); reads may still work"));
    return responses;
}

//  An operation's responses: its success (201 for POST, and 200 for a
//  repeat) and every error it can answer.
static json_t *
s_responses (json_t *schemas, const char *method, const ProtobufCMessageDescriptor *rep,
             unsigned flags)
{
    if (flags & DOC_HEALTH)
        return s_health_responses (schemas, rep);
    json_t *responses = json_object ();
    bool post = strcmp (method, "POST") == 0;
    json_object_set_new (responses, post ? "201" : "200", s_success (schemas, rep, flags,
        post ? "created" : "success (for a write: applied, or a repeat of an applied one)"));
    if (post)
        json_object_set_new (responses, "200", s_success (schemas, rep, flags,
            "repeat of an idempotent write, or a read"));
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
    if (strcmp (method, "GET") != 0)
        json_object_set_new (responses, "507", s_error_response ("the disk is full: the write "
            "was not applied (reads still work); retry when space returns"));
    return responses;
}

//  The statuses of s_extra_statuses for this operation.
static void
s_extra_responses (json_t *schemas, json_t *responses, const char *operation,
                   const ProtobufCMessageDescriptor *rep, unsigned flags)
{
    size_t n = sizeof s_extra_statuses / sizeof s_extra_statuses [0];
    for (size_t i = 0; i < n; i++)
        if (strcmp (s_extra_statuses [i].operation, operation) == 0)
            json_object_set_new (responses, s_extra_statuses [i].status,
                s_success (schemas, rep, flags, s_extra_statuses [i].description));
}

//  A unique operationId: the daemon method, and for a second route to
//  the same method, its path's fixed words too.
static void
s_operation_id (json_t *ids, const char *rpc, const char *pattern, char *id, size_t size)
{
    snprintf (id, size, "%s", rpc);
    if (!json_object_get (ids, id)) {
        json_object_set_new (ids, id, json_true ());
        return;
    }
    size_t used = strlen (id);
    const char *p = pattern;
    if (strncmp (p, "/v1", 3) == 0)
        p += 3;
    for (int guard = 0; *p && used + 2 < size && guard < 1000; guard++, p++) {
        if (*p == '{') {
            const char *end = strchr (p, '}');
            p = end ? end : p + strlen (p) - 1;
            continue;
        }
        char c = *p == '/' || *p == '-' || *p == '.' ? '_' : *p;
        if (c == '_' && id [used - 1] == '_')
            continue;
        id [used++] = c;
        id [used] = 0;
    }
    while (used > 0 && id [used - 1] == '_')
        id [--used] = 0;
    assert (!json_object_get (ids, id));
    json_object_set_new (ids, id, json_true ());
}

static json_t *
s_operation (doc_t *doc, const char *method, const char *pattern,
             const ProtobufCMessageDescriptor *req, const ProtobufCMessageDescriptor *rep,
             unsigned flags, const char *summary, const char *id)
{
    json_t *op = json_object ();
    json_object_set_new (op, "summary", json_string (summary));
    json_object_set_new (op, "operationId", json_string (id));
    json_object_set_new (op, "description", json_sprintf ("%s %s: the `%s` method of the "
        "daemon that owns it%s", method, pattern, summary,
        (flags & GW_PUBLIC) ? "; no token needed" : "; the daemon decides which roles may"));
    json_t *schemas = doc->schemas;
    json_t *params = s_parameters (doc, pattern, req, flags);
    json_object_set_new (op, "parameters", params);
    if (req && (flags & GW_BODY)) {
        s_schema_add (schemas, req, 0);
        json_object_set_new (op, "requestBody", json_pack ("{s:b,s:{s:{s:o}}}", "required", 1,
            "content", "application/json", "schema", s_ref (req)));
    }
    json_t *responses = s_responses (schemas, method, rep, flags);
    s_extra_responses (schemas, responses, summary, rep, flags);
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
s_add (doc_t *doc, const char *method, const char *pattern,
       const ProtobufCMessageDescriptor *req, const ProtobufCMessageDescriptor *rep,
       unsigned flags, const char *summary)
{
    json_t *item = json_object_get (doc->paths, pattern);
    if (!item) {
        item = json_object ();
        json_object_set_new (doc->paths, pattern, item);
    }
    char lower [16];
    s_lower (method, lower, sizeof lower);
    char id [OPERATION_ID_MAX];
    s_operation_id (doc->ids, summary, pattern, id, sizeof id);
    json_object_set_new (item, lower, s_operation (doc, method, pattern, req, rep,
                                                   flags, summary, id));
}

//  Every error answer's body.
static json_t *
s_error_schema (void)
{
    json_t *inner = json_pack ("{s:s,s:[s,s],s:{s:{s:s,s:s},s:{s:s,s:s}}}",
        "type", "object", "required", "code", "message", "properties",
        "code", "type", "string", "description", "the status's word: bad_request, not_found, "
        "conflict, insufficient_storage...", "message", "type", "string", "description",
        "what went wrong, for people");
    return json_pack ("{s:s,s:s,s:[s],s:{s:o},s:{s:{s:s,s:s}}}",
        "type", "object", "description", "Every error answer.", "required", "error",
        "properties", "error", inner,
        "example", "error", "code", "not_found", "message", "no household h9");
}

//  The gateway's own routes, then every daemon's.
static void
s_add_routes (doc_t *doc)
{
    s_add (doc, "POST", "/v1/tokens", &tashan__gateway__create_token_request__descriptor,
           &tashan__gateway__token__descriptor, GW_BODY, "gateway.CreateToken");
    s_add (doc, "GET", "/v1/tokens", &tashan__gateway__list_tokens_request__descriptor,
           &tashan__gateway__list_tokens_reply__descriptor, 0, "gateway.ListTokens");
    s_add (doc, "DELETE", "/v1/tokens/{id}", &tashan__gateway__revoke_token_request__descriptor,
           &tashan__gateway__revoke_token_reply__descriptor, 0, "gateway.RevokeToken");
    s_add (doc, "GET", "/healthz", NULL, &tashan__gateway__health__descriptor,
           GW_PUBLIC | DOC_HEALTH, "gateway.Health");
    s_add (doc, "GET", "/v1/session", &tashan__gateway__session_request__descriptor,
           &tashan__gateway__session__descriptor, 0, "gateway.Session");
    s_add (doc, "GET", "/v1/qr.svg", &tashan__gateway__qr_request__descriptor,
           NULL, GW_RAW, "gateway.QrSvg");
    size_t n = gw_router_count ();
    for (size_t i = 0; i < n; i++) {
        const gw_route *r = gw_router_at (i);
        s_add (doc, r->http_method, r->pattern, r->request, r->reply, r->flags, r->rpc);
    }
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

static void
s_add_headers (const char *pattern, const char *method, json_t *op, void *arg)
{
    (void) arg;
    json_t *params = json_object_get (op, "parameters");
    json_array_append_new (params, json_pack ("{s:s}", "$ref",
                                              "#/components/parameters/RequestId"));
    if (strcmp (method, "post") == 0 && strcmp (pattern, "/v1/tokens") != 0)
        json_array_append_new (params, json_pack ("{s:s}", "$ref",
                               "#/components/parameters/IdempotencyKey"));
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
    gw_openapi_walk (json_object_get (doc, "paths"), s_add_headers, NULL);
}

char *
gw_openapi_print (void)
{
    doc_t doc = { json_object (), json_object (), json_object (), gw_openapi_meaning_notes () };
    if (!doc.notes) {
        json_decref (doc.paths);
        json_decref (doc.schemas);
        json_decref (doc.ids);
        return NULL;
    }
    json_object_set_new (doc.schemas, "Error", s_error_schema ());
    s_add_routes (&doc);
    gw_openapi_meaning_apply (doc.schemas, doc.notes);
    gw_openapi_required_replies (doc.paths, doc.schemas);
    gw_openapi_meaning_examples (doc.schemas);
    json_decref (doc.notes);
    s_describe_all (doc.paths, gw_route_docs_ledger, gw_route_docs_ledger_count);
    s_describe_all (doc.paths, gw_route_docs_residents, gw_route_docs_residents_count);
    s_describe_all (doc.paths, gw_route_docs_merchants, gw_route_docs_merchants_count);
    json_decref (doc.ids);
    json_t *root = json_pack ("{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:o,s:{s:o,s:{s:{s:s,s:s}}},s:[{s:[]}]}",
        "openapi", "3.0.3",
        "info", "title", "tashan community-governance API", "version", TASHAN_VERSION,
        "description", "Generated from the gateway's route tables and the protobuf "
        "descriptors (tashan-gateway --openapi); descriptions, enum values and required "
        "fields come from the proto comments (cmake/proto_openapi.py). JSON follows the "
        "proto3 mapping with snake_case names; lowerCamelCase is accepted too. /metrics "
        "(Prometheus text) and the console at / are not JSON and not listed.",
        "servers", "url", "http://127.0.0.1:8080",
        "paths", doc.paths,
        "components", "schemas", doc.schemas, "securitySchemes", "bearer", "type", "http",
        "scheme", "bearer",
        "security", "bearer");
    if (!root)
        return NULL;
    s_add_header_parameters (root);
    char *text = json_dumps (root, JSON_INDENT (1) | JSON_SORT_KEYS);
    json_decref (root);
    return text;
}
