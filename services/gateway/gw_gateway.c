/*  =========================================================================
    gw_gateway - HTTP in front, ZeroMQ behind. See gw_gateway.h.
    =========================================================================
*/
#include "gw_gateway.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.pb-c.h"
#include "gw_access.h"
#include "merchants.pb-c.h"
#include "residents.pb-c.h"
#include "gw_auth.h"
#include "gw_console.h"
#include "gw_disclose.h"
#include "gw_http.h"
#include "gw_json.h"
#include "gw_memo.h"
#include "gw_metrics.h"
#include "gw_openapi.h"
#include "gw_ratelimit.h"
#include "gw_router.h"
#include "gw_text.h"
#include "ts_log.h"
#include "ts_reqlog.h"
#include "ts_rpc.h"
#include "ts_status.h"
#include "ts_zmq.h"

#define GATEWAY_MAGIC 0x47415457u
#define QUERY_VALUE_MAX 4096
#define ERR_MAX 512
#define JSON_KEEP_BYTES (256 * 1024)    //  a larger print buffer is not kept
#define ARENA_POOL_MAX 32               //  spare call arenas (16 KiB each)

struct gw_gateway {
    uint32_t magic;                 //  GATEWAY_MAGIC
    uv_loop_t *loop;
    ts_config cfg;
    gw_http *http;
    gw_auth *auth;
    gw_metrics *metrics;
    gw_ratelimit *token_limit;      //  per bearer token
    gw_ratelimit *public_limit;     //  per client address, calls without token
    ts_rpc *rpc [TS_SERVICE_COUNT]; //  one DEALER per daemon
    int port;
    uv_timer_t health_timer;        //  polls health for /metrics
    bool health_polling;            //  one poll at a time
    uint64_t start_ms;              //  uv_now at start, for uptime
    bool stopping;
    //  "a daemon is unavailable" warnings: at most one a second each
    uint64_t unavailable_logged_ms [TS_SERVICE_COUNT];
    uint64_t unavailable_suppressed [TS_SERVICE_COUNT];
    char *json;                     //  replies are printed here (reused)
    size_t json_cap;                //  bytes at json
    gw_memo *memo;                  //  routes' last replies as JSON
    //  Arenas of finished calls, reset, for the next ones: a call then
    //  allocates nothing (its call_t lives in its arena too).
    ts_arena *arena_pool [ARENA_POOL_MAX];
    uint32_t arena_pool_count;
};

//  One request on its way through a daemon.
typedef struct {
    gw_gateway *gw;
    gw_http_request *req;
    const gw_route *route;
    ts_arena *arena;
    char route_key [96];            //  metrics label
    uint64_t start_ns;
    gw_access *access;              //  the request's id and log record
} call_t;

//  --------------------------------------------------------------------
//  Answers (all go through here so metrics see every one)

static void
s_respond (gw_gateway *self, gw_http_request *req, const char *route_key, unsigned status,
           const char *content_type, const void *body, size_t len)
{
    uint64_t elapsed_us = (uv_hrtime () - gw_http_request_start_ns (req)) / 1000;
    gw_metrics_request (self->metrics, route_key, status, elapsed_us);
    gw_access_route (gw_access_of (req), route_key);
    gw_http_respond (req, status, content_type, body, len, NULL);
}

static void
s_error (gw_gateway *self, gw_http_request *req, const char *route_key, unsigned status,
         const char *message)
{
    uint64_t elapsed_us = (uv_hrtime () - gw_http_request_start_ns (req)) / 1000;
    gw_metrics_request (self->metrics, route_key, status, elapsed_us);
    gw_access_route (gw_access_of (req), route_key);
    const char *word = status == 405 ? "method_not_allowed"
                     : ts_status_word (status);
    gw_http_respond_error (req, status, word, message);
}

static void
s_respond_msg (gw_gateway *self, gw_http_request *req, const char *route_key, unsigned status,
               const ProtobufCMessage *msg)
{
    long len = gw_json_print_to (msg, &self->json, &self->json_cap);
    if (len < 0)
        s_error (self, req, route_key, TS_INTERNAL, "cannot print the reply");
    else
        s_respond (self, req, route_key, status, "application/json", self->json, (size_t) len);
    if (self->json_cap > JSON_KEEP_BYTES) {
        free (self->json);
        self->json = NULL;
        self->json_cap = 0;
    }
}

//  An arena for a call: a spare one, else a new one.
static ts_arena *
s_arena_take (gw_gateway *self)
{
    assert (self->arena_pool_count <= ARENA_POOL_MAX);
    if (self->arena_pool_count > 0)
        return self->arena_pool [--self->arena_pool_count];
    ts_arena *arena = ts_arena_new ();
    assert (arena);
    return arena;
}

//  A call is done with its arena: reset (its first chunk kept) and
//  spare, or destroyed when the pool is full.
static void
s_arena_give (gw_gateway *self, ts_arena **arena_p)
{
    if (self->arena_pool_count < ARENA_POOL_MAX) {
        ts_arena_reset (*arena_p);
        self->arena_pool [self->arena_pool_count++] = *arena_p;
        *arena_p = NULL;
    }
    else
        ts_arena_destroy (arena_p);
}

//  The call (which lives in its arena) is over.
static void
s_call_free (call_t *call)
{
    ts_arena *arena = call->arena;
    s_arena_give (call->gw, &arena);
}

//  --------------------------------------------------------------------
//  Health: every daemon's sys.Health, in parallel.

typedef struct {
    gw_gateway *gw;
    gw_http_request *req;           //  NULL for the metrics poll
    int pending;
    Tashan__HealthReply *replies [TS_SERVICE_COUNT];
    char errors [TS_SERVICE_COUNT][128];
    ts_arena *arena;
} health_t;

typedef struct {
    health_t *health;
    int index;
} health_part_t;

//  One daemon's health reply (NULL: no answer) into the metrics.
static void
s_health_metrics (gw_gateway *self, const char *service, const Tashan__HealthReply *r,
                  ts_rpc *rpc)
{
    gw_daemon_stats st = { .up = r != NULL, .rpc_errors = rpc ? ts_rpc_errors (rpc) : 0 };
    if (r) {
        st.outbox_head_seq = r->outbox_head_seq;
        st.requests_total = r->requests_total;
        st.batches_total = r->batches_total;
        st.batch_jobs_total = r->batch_jobs_total;
        for (size_t k = 0; k < r->n_batch_sizes && k < GW_METRICS_BATCH_BUCKETS; k++)
            st.batch_sizes [k] = r->batch_sizes [k];
        st.map_size_bytes = r->map_size_bytes;
        st.map_used_bytes = r->map_used_bytes;
        st.store_degraded = r->store_degraded;
        st.log_lines_dropped = r->log_lines_dropped;
    }
    gw_metrics_daemon (self->metrics, service, &st);
}

static void
s_health_done (health_t *h)
{
    gw_gateway *self = h->gw;
    //  The gateway itself first (it answers, so it is up), then the daemons.
    Tashan__Gateway__ServiceHealth items [TS_SERVICE_COUNT + 1];
    Tashan__Gateway__ServiceHealth *ptrs [TS_SERVICE_COUNT + 1];
    tashan__gateway__service_health__init (&items [TS_SERVICE_COUNT]);
    items [TS_SERVICE_COUNT].name = "gateway";
    items [TS_SERVICE_COUNT].up = true;
    items [TS_SERVICE_COUNT].version = (char *) TASHAN_VERSION;
    items [TS_SERVICE_COUNT].uptime_ms = (int64_t) (uv_now (self->loop) - self->start_ms);
    ptrs [0] = &items [TS_SERVICE_COUNT];
    int up = 0;
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        Tashan__HealthReply *r = h->replies [i];
        tashan__gateway__service_health__init (&items [i]);
        items [i].name = (char *) ts_service_names [i];
        items [i].up = r != NULL;
        items [i].error = r ? "" : h->errors [i];
        items [i].degraded = "";
        if (r) {
            //  Up but unable to write (disk full) is not healthy either.
            up += !r->store_degraded;
            items [i].version = r->version;
            items [i].uptime_ms = r->uptime_ms;
            items [i].outbox_head_seq = r->outbox_head_seq;
            if (r->store_degraded)
                items [i].degraded = r->store_degraded_reason;
        }
        ptrs [i + 1] = &items [i];
        s_health_metrics (self, ts_service_names [i], r, self->rpc [i]);
    }
    //  Lag: the producer's own head minus what the consumer applied.
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        Tashan__HealthReply *r = h->replies [i];
        for (size_t c = 0; r && c < r->n_consumers; c++) {
            uint64_t head = r->consumers [c]->producer_head_seq;
            for (int p = 0; p < TS_SERVICE_COUNT; p++)
                if (h->replies [p] && strcmp (ts_service_names [p], r->consumers [c]->producer) == 0)
                    head = h->replies [p]->outbox_head_seq;
            uint64_t applied = r->consumers [c]->applied_seq;
            gw_metrics_lag (self->metrics, ts_service_names [i], r->consumers [c]->producer,
                            head > applied ? head - applied : 0);
        }
    }
    if (h->req) {
        Tashan__Gateway__Health health = TASHAN__GATEWAY__HEALTH__INIT;
        health.status = up == TS_SERVICE_COUNT ? "ok" : "degraded";
        health.services = ptrs;
        health.n_services = TS_SERVICE_COUNT + 1;
        s_respond_msg (self, h->req, "GET /healthz",
                       up == TS_SERVICE_COUNT ? TS_OK : TS_UNAVAILABLE, &health.base);
    }
    else
        self->health_polling = false;
    ts_arena_destroy (&h->arena);
    free (h);
}

static void
s_health_part (void *arg, unsigned code, const char *message, const uint8_t *body, size_t size)
{
    health_part_t *part = arg;
    health_t *h = part->health;
    if (code == TS_OK)
        h->replies [part->index] = (Tashan__HealthReply *) protobuf_c_message_unpack (
            &tashan__health_reply__descriptor, ts_arena_pb (h->arena), size, body);
    if (!h->replies [part->index])
        snprintf (h->errors [part->index], sizeof h->errors [part->index], "%s",
                  code == TS_TIMEOUT ? "no answer within 1 s" : message);
    free (part);
    if (--h->pending == 0)
        s_health_done (h);
}

static void
s_health_start (gw_gateway *self, gw_http_request *req)
{
    health_t *h = calloc (1, sizeof (health_t));
    assert (h);
    h->gw = self;
    h->req = req;
    h->arena = ts_arena_new ();
    h->pending = TS_SERVICE_COUNT;
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = "system";
    caller.principal = "gateway";
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        health_part_t *part = malloc (sizeof *part);
        assert (part);
        part->health = h;
        part->index = i;
        //  The callback may run at once (unreachable): h must be complete.
        ts_rpc_call (self->rpc [i], "sys.Health", &caller, NULL, 0, 1000, s_health_part, part);
    }
}

static void
s_on_health_timer (uv_timer_t *timer)
{
    gw_gateway *self = timer->data;
    if (self->stopping)
        return;
    gw_auth_flush (self->auth, false);  //  at most every minute
    if (self->health_polling)
        return;
    self->health_polling = true;
    s_health_start (self, NULL);
}

//  --------------------------------------------------------------------
//  Tokens (the gateway's own routes)

static void s_too_many (gw_gateway *self, gw_http_request *req, const char *route_key);

//  The caller of req, or false after answering 401 (or 429 when the
//  client's address has failed too often: gw_auth_request).
static bool
s_authenticate (gw_gateway *self, gw_http_request *req, const char *key, ts_arena *arena,
                Tashan__Caller *caller)
{
    const char *role, *binding, *principal;
    unsigned code = gw_auth_request (self->auth, req, arena, &role, &binding, &principal);
    if (code == TS_TOO_MANY)
        s_too_many (self, req, key);
    else
    if (code != TS_OK)
        s_error (self, req, key, TS_UNAUTHORIZED, "a valid bearer token is required");
    if (code != TS_OK)
        return false;
    caller->role = (char *) role;
    caller->binding = (char *) binding;
    caller->principal = (char *) principal;
    gw_access_principal (gw_access_of (req), principal);
    return true;
}

//  One POST /v1/tokens on its way: the binding is checked with the
//  daemon that owns it before the token is made.
typedef struct {
    gw_gateway *gw;
    gw_http_request *req;
    ts_arena *arena;
    Tashan__Gateway__CreateTokenRequest *ct;
    const char *created_by;
} token_call_t;

static void
s_token_make (token_call_t *tc)
{
    const char *key = "POST /v1/tokens";
    char err [ERR_MAX];
    Tashan__Gateway__Token token = TASHAN__GATEWAY__TOKEN__INIT;
    unsigned code = gw_auth_create (tc->gw->auth, tc->ct, tc->created_by, tc->arena, &token,
                                    err, sizeof err);
    if (code >= 400)
        s_error (tc->gw, tc->req, key, code, err);
    else
        s_respond_msg (tc->gw, tc->req, key, code, &token.base);
    ts_arena_destroy (&tc->arena);
    free (tc);
}

//  The 422 or 503 of a binding the owning daemon did not confirm: a
//  school is known by its pupils (residents), a merchant by its record.
static void
s_binding_refused (token_call_t *tc, unsigned code, const char *message)
{
    char why [ERR_MAX];
    bool school = strcmp (tc->ct->role, "school") == 0;
    const char *id = school ? tc->ct->school_id : tc->ct->merchant_id;
    //  A malformed id names no school or merchant either.
    bool unknown = code == TS_NOT_FOUND || code == TS_BAD_REQUEST;
    if (unknown && school)
        snprintf (why, sizeof why, "no school %.100s in the community (no pupil has this "
                  "school_id)", id);
    else
    if (unknown)
        snprintf (why, sizeof why, "no merchant %.100s: a merchant token needs an existing "
                  "merchant", id);
    else
        snprintf (why, sizeof why, "cannot check %s %.100s (%.200s); try again",
                  school ? "school" : "merchant", id, message);
    s_error (tc->gw, tc->req, "POST /v1/tokens", unknown ? TS_UNPROCESSABLE : TS_UNAVAILABLE,
             why);
}

//  The owning daemon's answer about the school or merchant to bind.
static void
s_on_binding (void *arg, unsigned code, const char *message, const uint8_t *body, size_t size)
{
    token_call_t *tc = arg;
    (void) body;
    (void) size;
    if (gw_http_request_detached (tc->req)) {
        gw_http_respond (tc->req, 499, NULL, NULL, 0, NULL);
        ts_arena_destroy (&tc->arena);
        free (tc);
        return;
    }
    if (code == TS_OK) {
        s_token_make (tc);
        return;
    }
    s_binding_refused (tc, code, message);
    ts_arena_destroy (&tc->arena);
    free (tc);
}

static int s_service_index (const char *service);

//  Ask the daemon that owns tc's binding whether it exists: a school
//  (residents.GetSchool: a current pupil has that school_id) or a
//  merchant (merchants.Get). s_on_binding goes on from the answer.
static void
s_binding_ask (gw_gateway *self, token_call_t *tc)
{
    bool school = strcmp (tc->ct->role, "school") == 0;
    Tashan__Residents__GetSchoolRequest get_school = TASHAN__RESIDENTS__GET_SCHOOL_REQUEST__INIT;
    Tashan__Merchants__GetMerchantRequest get_merchant =
        TASHAN__MERCHANTS__GET_MERCHANT_REQUEST__INIT;
    get_school.school_id = tc->ct->school_id;
    get_merchant.id = tc->ct->merchant_id;
    ProtobufCMessage *get = school ? &get_school.base : &get_merchant.base;
    size_t size = protobuf_c_message_get_packed_size (get);
    uint8_t *buf = ts_arena_alloc (tc->arena, size ? size : 1);
    protobuf_c_message_pack (get, buf);
    //  Asked as the ops token that makes the token: under CURVE the
    //  gateway's key may speak for HTTP principals, never as system.
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = "ops";
    caller.principal = (char *) tc->created_by;
    const char *service = school ? "residents" : "merchants";
    ts_rpc_call (self->rpc [s_service_index (service)],
                 school ? "residents.GetSchool" : "merchants.Get", &caller, buf, size,
                 GW_RPC_TIMEOUT_MS, s_on_binding, tc);
}

//  POST /v1/tokens: parse and check (400), then check a school or
//  merchant binding with the daemon that owns it (422 when there is no
//  such school or merchant, 503 when it does not answer), then make it.
static void
s_token_create (gw_gateway *self, gw_http_request *req, ts_arena *arena, const char *by)
{
    //  Any Content-Type: clients (curl -d) often send a form type for
    //  what is JSON; the body is parsed as JSON either way.
    char err [ERR_MAX];
    size_t len;
    const char *body = gw_http_request_body (req, &len);
    Tashan__Gateway__CreateTokenRequest *ct = (Tashan__Gateway__CreateTokenRequest *)
        gw_json_parse (&tashan__gateway__create_token_request__descriptor, body, len,
                       ts_arena_pb (arena), err, sizeof err);
    unsigned code = ct ? gw_auth_create_check (ct, err, sizeof err) : TS_BAD_REQUEST;
    if (code != TS_OK) {
        s_error (self, req, "POST /v1/tokens", code, err);
        ts_arena_destroy (&arena);
        return;
    }
    token_call_t *tc = calloc (1, sizeof *tc);
    assert (tc);
    *tc = (token_call_t) { .gw = self, .req = req, .arena = arena, .ct = ct, .created_by = by };
    if (strcmp (ct->role, "school") == 0 || strcmp (ct->role, "merchant") == 0)
        s_binding_ask (self, tc);
    else
        s_token_make (tc);
}

//  DELETE /v1/tokens/{id}[?self=true]
static void
s_token_revoke (gw_gateway *self, gw_http_request *req, const char *id, const char *by)
{
    const char *key = "DELETE /v1/tokens/{id}";
    char err [ERR_MAX], flag [8] = "";
    ssize_t n = gw_http_query_get (req, "self", flag, sizeof flag);
    if (n != -ENOENT && (n < 0 || (strcmp (flag, "true") != 0 && strcmp (flag, "false") != 0))) {
        s_error (self, req, key, TS_BAD_REQUEST, "query parameter 'self' must be true or false");
        return;
    }
    unsigned code = gw_auth_revoke (self->auth, id, by, strcmp (flag, "true") == 0, err, sizeof err);
    if (code >= 400) {
        s_error (self, req, key, code, err);
        return;
    }
    Tashan__Gateway__RevokeTokenReply rep = TASHAN__GATEWAY__REVOKE_TOKEN_REPLY__INIT;
    rep.id = (char *) id;
    rep.revoked = true;
    s_respond_msg (self, req, key, TS_OK, &rep.base);
}

//  GET /v1/tokens?page_size=&page_token=
static void
s_token_list (gw_gateway *self, gw_http_request *req, ts_arena *arena)
{
    const char *key = "GET /v1/tokens";
    char err [ERR_MAX];
    Tashan__Gateway__ListTokensRequest lr = TASHAN__GATEWAY__LIST_TOKENS_REQUEST__INIT;
    const char *cursor = gw_http_request_query (req);
    gw_http_param param;
    for (int i = 0; i < 16 && gw_http_query_next (&cursor, &param); i++) {
        char name [32], value [64];
        if (gw_http_decode (param.key, param.key_len, name, sizeof name, true) < 0
        ||  gw_http_decode (param.value, param.value_len, value, sizeof value, true) < 0
        ||  gw_json_set_field_from_string (&lr.base, name, value, ts_arena_pb (arena),
                                           err, sizeof err) != 0) {
            s_error (self, req, key, TS_BAD_REQUEST, "query parameters: page_size (1 to 1000) "
                     "and page_token only");
            return;
        }
    }
    Tashan__Gateway__ListTokensReply rep = TASHAN__GATEWAY__LIST_TOKENS_REPLY__INIT;
    unsigned code = gw_auth_list (self->auth, &lr, arena, &rep, err, sizeof err);
    if (code >= 400)
        s_error (self, req, key, code, err);
    else
        s_respond_msg (self, req, key, TS_OK, &rep.base);
}

//  The token routes (ops only): id for DELETE, else POST or GET.
static void
s_tokens (gw_gateway *self, gw_http_request *req, const char *id)
{
    bool get = strcmp (gw_http_request_method (req), "GET") == 0
            || strcmp (gw_http_request_method (req), "HEAD") == 0;
    const char *key = id ? "DELETE /v1/tokens/{id}" : get ? "GET /v1/tokens" : "POST /v1/tokens";
    ts_arena *arena = ts_arena_new ();
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    if (!s_authenticate (self, req, key, arena, &caller))
        ;
    else
    if (strcmp (caller.role, "ops") != 0)
        s_error (self, req, key, TS_FORBIDDEN, "only ops may manage tokens");
    else
    if (id)
        s_token_revoke (self, req, id, caller.principal);
    else
    if (get)
        s_token_list (self, req, arena);
    else {
        s_token_create (self, req, arena, caller.principal);
        return;                     //  arena goes with the call
    }
    ts_arena_destroy (&arena);
}

//  --------------------------------------------------------------------
//  Routed calls

static int
s_service_index (const char *service)
{
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        if (strcmp (ts_service_names [i], service) == 0)
            return i;
    return -1;
}

//  A daemon did not answer (503) or not in time (504, not applied): say
//  so at warn, at most once a second per daemon (with how many were
//  not said), so an outage is visible without flooding the log.
static void
s_log_unavailable (gw_gateway *self, const call_t *call, unsigned code, const char *message)
{
    int index = s_service_index (call->route->service);
    assert (index >= 0);
    uint64_t now_ms = uv_now (self->loop);
    if (self->unavailable_logged_ms [index] != 0
    &&  now_ms - self->unavailable_logged_ms [index] < 1000) {
        self->unavailable_suppressed [index]++;
        return;
    }
    ts_log_warn ("service_unavailable", "service=%s method=%s code=%u reason=\"%.200s\" "
                 "request_id=%s suppressed=%llu", call->route->service, call->route->rpc,
                 code, message, gw_access_request_id (call->access),
                 (unsigned long long) self->unavailable_suppressed [index]);
    self->unavailable_logged_ms [index] = now_ms;
    self->unavailable_suppressed [index] = 0;
}

static void
s_on_reply (void *arg, unsigned code, const char *message, const uint8_t *body, size_t size)
{
    call_t *call = arg;
    gw_gateway *self = call->gw;
    const gw_route *route = call->route;
    if (gw_http_request_detached (call->req)) {
        //  The client left: hand the request back without an answer.
        gw_http_respond (call->req, 499, NULL, NULL, 0, NULL);
        s_call_free (call);
        return;
    }
    if (code == TS_UNAVAILABLE || code == TS_TIMEOUT) {
        char why [ERR_MAX];
        snprintf (why, sizeof why, "the %s service is unavailable (%.200s); try again",
                  route->service, message);
        s_log_unavailable (self, call, code, message);
        s_error (self, call->req, call->route_key, TS_UNAVAILABLE, why);
    }
    else
    if (code >= 400)
        s_error (self, call->req, call->route_key, code, message);
    else
    if (route->flags & GW_RAW) {
        ProtobufCMessage *reply = protobuf_c_message_unpack (route->reply,
                                                             ts_arena_pb (call->arena), size, body);
        if (!reply)
            s_error (self, call->req, call->route_key, TS_INTERNAL, "malformed reply from the service");
        else {
            const ProtobufCFieldDescriptor *ct =
                protobuf_c_message_descriptor_get_field_by_name (route->reply, "content_type");
            const ProtobufCFieldDescriptor *data =
                protobuf_c_message_descriptor_get_field_by_name (route->reply, "data");
            assert (ct && data && ct->type == PROTOBUF_C_TYPE_STRING
                    && data->type == PROTOBUF_C_TYPE_BYTES);
            const char *type = *(char **) ((char *) reply + ct->offset);
            ProtobufCBinaryData *bytes = (ProtobufCBinaryData *) ((char *) reply + data->offset);
            s_respond (self, call->req, call->route_key, code, type, bytes->data, bytes->len);
        }
    }
    else {
        //  The same bytes as the route's last reply: the same JSON.
        const char *json;
        long len = gw_memo_render (self->memo, route, route->reply, body, size,
                                   ts_arena_pb (call->arena), &json);
        if (len == GW_MEMO_MALFORMED)
            s_error (self, call->req, call->route_key, TS_INTERNAL, "malformed reply from the service");
        else
        if (len < 0)
            s_error (self, call->req, call->route_key, TS_INTERNAL, "cannot print the reply");
        else
            s_respond (self, call->req, call->route_key, code, "application/json", json, (size_t) len);
    }
    s_call_free (call);
}

//  Set one field from a path or query parameter (name not NUL-terminated).
static int
s_set_param (ProtobufCMessage *msg, const char *name, size_t name_len, const char *value,
             ts_arena *arena, char *err, size_t err_size)
{
    char field [64];
    if (name_len >= sizeof field) {
        snprintf (err, err_size, "unknown parameter '%.*s'", 48, name);
        return -1;
    }
    memcpy (field, name, name_len);
    field [name_len] = 0;
    return gw_json_set_field_from_string (msg, field, value, ts_arena_pb (arena), err, err_size);
}

//  One more call for this caller? The key is the token id, or for calls
//  without a token the client's address (port dropped).
static bool
s_within_rate (gw_gateway *self, gw_http_request *req, const char *principal)
{
    uint64_t now_ms = uv_now (self->loop);
    if (principal)
        return gw_ratelimit_allow (self->token_limit, principal, now_ms);
    //  The same key as failed authentications (gw_auth_request) use.
    return gw_ratelimit_allow (self->public_limit, gw_http_request_remote_ip (req), now_ms);
}

static void
s_too_many (gw_gateway *self, gw_http_request *req, const char *route_key)
{
    static const char body [] =
        "{\"error\":{\"code\":\"too_many_requests\",\"message\":"
        "\"rate limit reached for this caller; retry after a second\"}}";
    //  Retry-After: 1 comes with every 429 (gw_http_respond).
    uint64_t elapsed_us = (uv_hrtime () - gw_http_request_start_ns (req)) / 1000;
    gw_metrics_request (self->metrics, route_key, TS_TOO_MANY, elapsed_us);
    gw_access_route (gw_access_of (req), route_key);
    gw_http_respond (req, TS_TOO_MANY, "application/json", body, sizeof body - 1, NULL);
}

//  405 with the Allow header RFC 9110 requires.
static void
s_not_allowed (gw_gateway *self, gw_http_request *req, const char *method, const char *allow)
{
    char body [300];
    //  method is one we implement (gw_http answers 501 to the others), so
    //  it needs no escaping.
    snprintf (body, sizeof body, "{\"error\":{\"code\":\"method_not_allowed\",\"message\":"
              "\"%s is not allowed here; allowed: %s\"}}", method, allow);
    const char *const headers [] = { "Allow", allow, NULL };
    uint64_t elapsed_us = (uv_hrtime () - gw_http_request_start_ns (req)) / 1000;
    gw_metrics_request (self->metrics, "method_not_allowed", 405, elapsed_us);
    gw_access_route (gw_access_of (req), "method_not_allowed");
    gw_http_respond (req, 405, "application/json", body, strlen (body), headers);
}

//  The request message of a routed call, from the JSON body for a route
//  with GW_BODY, else empty. NULL after answering 400.
static ProtobufCMessage *
s_request_from_body (gw_gateway *self, gw_http_request *req, call_t *call)
{
    const gw_route *route = call->route;
    if (!(route->flags & GW_BODY)) {
        ProtobufCMessage *msg = ts_arena_alloc (call->arena, route->request->sizeof_message);
        route->request->message_init (msg);
        return msg;
    }
    char err [ERR_MAX];
    size_t body_len;
    const char *body = gw_http_request_body (req, &body_len);
    ProtobufCMessage *msg = gw_json_parse (route->request, body, body_len,
                                           ts_arena_pb (call->arena), err, sizeof err);
    if (!msg)
        s_error (self, req, call->route_key, TS_BAD_REQUEST, err);
    return msg;
}

//  Query parameters into fields of the same name (at most 64; a path
//  parameter may not be given again in the query). -1 after answering 400.
static int
s_request_query (gw_gateway *self, gw_http_request *req, call_t *call,
                 const gw_match *match, ProtobufCMessage *msg)
{
    char err [ERR_MAX];
    const char *cursor = gw_http_request_query (req);
    gw_http_param param;
    for (int i = 0; i < 64 && gw_http_query_next (&cursor, &param); i++) {
        char key [64], value [QUERY_VALUE_MAX];
        if (gw_http_decode (param.key, param.key_len, key, sizeof key, true) < 0
        ||  gw_http_decode (param.value, param.value_len, value, sizeof value, true) < 0) {
            s_error (self, req, call->route_key, TS_BAD_REQUEST,
                     "malformed or too long query parameter");
            return -1;
        }
        bool is_path = false;
        for (size_t p = 0; p < match->param_count; p++)
            is_path = is_path || (strlen (key) == match->params [p].name_len
                                  && memcmp (key, match->params [p].name, match->params [p].name_len) == 0);
        if (is_path || s_set_param (msg, key, strlen (key), value, call->arena, err, sizeof err) != 0) {
            char why [ERR_MAX + 128];
            snprintf (why, sizeof why, "query parameter '%s': %s", key,
                      is_path ? "is part of the path" : err);
            s_error (self, req, call->route_key, TS_BAD_REQUEST, why);
            return -1;
        }
    }
    return 0;
}

//  Path parameters into fields of the same name, last: the path names the
//  resource. -1 after answering 400.
static int
s_request_path (gw_gateway *self, gw_http_request *req, call_t *call,
                const gw_match *match, ProtobufCMessage *msg)
{
    char err [ERR_MAX];
    for (size_t p = 0; p < match->param_count; p++)
        if (s_set_param (msg, match->params [p].name, match->params [p].name_len,
                         match->params [p].value, call->arena, err, sizeof err) != 0) {
            s_error (self, req, call->route_key, TS_BAD_REQUEST, err);
            return -1;
        }
    return 0;
}

//  The client's Idempotency-Key of a POST ("" without one). NULL after
//  answering 400 for a malformed one.
static const char *
s_idempotency_key (gw_gateway *self, gw_http_request *req, call_t *call)
{
    const char *key = gw_http_request_header (req, "Idempotency-Key");
    if (!key || strcmp (call->route->http_method, "POST") != 0)
        return "";
    if (!ts_idempotency_key_ok (key)) {
        s_error (self, req, call->route_key, TS_BAD_REQUEST, "Idempotency-Key must be 1 to "
                 "255 printable ASCII characters without blanks");
        return NULL;
    }
    return key;
}

//  Send a routed call's request to its daemon, with the request id, the
//  client's idempotency key and a deadline (ts_rpc); s_on_reply answers.
static void
s_send_call (gw_gateway *self, call_t *call, const Tashan__Caller *caller,
             const ProtobufCMessage *msg)
{
    const char *key = s_idempotency_key (self, call->req, call);
    if (!key) {
        s_call_free (call);
        return;
    }
    int index = s_service_index (call->route->service);
    assert (index >= 0);
    size_t size = protobuf_c_message_get_packed_size (msg);
    uint8_t *buf = ts_arena_alloc (call->arena, size ? size : 1);
    protobuf_c_message_pack (msg, buf);
    ts_rpc_meta meta = { gw_access_request_id (call->access), key };
    ts_rpc_call_meta (self->rpc [index], call->route->rpc, caller, &meta, buf, size,
                      GW_RPC_TIMEOUT_MS, s_on_reply, call);
}

//  A request that matched a route: authenticate the caller (unless the
//  route is public), apply the rate limit, build the request message
//  (body, then query, then path) and send it to the owning daemon;
//  s_on_reply answers.
static void
s_routed (gw_gateway *self, gw_http_request *req, gw_match *match)
{
    const gw_route *route = match->route;
    ts_arena *arena = s_arena_take (self);
    call_t *call = ts_arena_alloc (arena, sizeof (call_t));
    call->gw = self;
    call->req = req;
    call->route = route;
    call->arena = arena;
    call->access = gw_access_of (req);
    assert (call->access);
    //  "METHOD /pattern", cut like snprintf would.
    size_t at = gw_text_copy (call->route_key, sizeof call->route_key - 1, route->http_method);
    call->route_key [at++] = ' ';
    gw_text_copy (call->route_key + at, sizeof call->route_key - at, route->pattern);

    Tashan__Caller caller = TASHAN__CALLER__INIT;
    if (route->flags & GW_PUBLIC)
        caller.role = "public";
    else
    if (!s_authenticate (self, req, call->route_key, call->arena, &caller)) {
        s_call_free (call);
        return;
    }
    if (!s_within_rate (self, req, (route->flags & GW_PUBLIC) ? NULL : caller.principal)) {
        s_too_many (self, req, call->route_key);
        s_call_free (call);
        return;
    }
    ProtobufCMessage *msg = s_request_from_body (self, req, call);
    if (!msg
    ||  s_request_query (self, req, call, match, msg) != 0
    ||  s_request_path (self, req, call, match, msg) != 0) {
        s_call_free (call);
        return;
    }
    s_send_call (self, call, &caller, msg);
}

//  --------------------------------------------------------------------
//  Dispatch of every HTTP request

//  GET /metrics: the gateway's metrics plus the HTTP layer's counters.
static void
s_metrics (gw_gateway *self, gw_http_request *req)
{
    gw_http_stats st;
    gw_http_stats_get (self->http, &st);
    gw_http_counts counts = {
        .connections_open = st.connections_open,
        .connections_accepted = st.connections_accepted,
        .parse_errors = st.parse_errors,
        .request_timeouts = st.request_timeouts,
        .connections_rejected = st.connections_rejected,
        .connections_evicted = st.connections_evicted,
    };
    gw_metrics_http (self->metrics, &counts);
    char *text = gw_metrics_print (self->metrics, NULL);
    s_respond (self, req, "GET /metrics", TS_OK, "text/plain; version=0.0.4", text, strlen (text));
    free (text);
}

//  Any other request: a route of the tables, or 405, 400 or 404.
static void
s_route (gw_gateway *self, gw_http_request *req, const char *method, const char *path)
{
    gw_match match;
    char why [600], allow [96];
    gw_router_result found = gw_router_find (method, path, &match);
    if (found == GW_ROUTER_NOT_FOUND && gw_router_allow (path, allow, sizeof allow) > 0)
        found = GW_ROUTER_METHOD;   //  one of the gateway's own paths
    switch (found) {
        case GW_ROUTER_FOUND:
            s_routed (self, req, &match);
            return;
        case GW_ROUTER_METHOD:
            gw_router_allow (path, allow, sizeof allow);
            s_not_allowed (self, req, method, allow);
            return;
        case GW_ROUTER_BAD_PATH:
            s_error (self, req, "bad_path", TS_BAD_REQUEST, "malformed path");
            return;
        case GW_ROUTER_NOT_FOUND:
            snprintf (why, sizeof why, "no route %s %.500s", method, path);
            s_error (self, req, "not_found", TS_NOT_FOUND, why);
            return;
    }
}

//  OPTIONS (and CORS preflight): what the path allows, 404 for no route.
static void
s_options (gw_gateway *self, gw_http_request *req, const char *path)
{
    char allow [96];
    if (gw_router_allow (path, allow, sizeof allow) == 0) {
        s_error (self, req, "not_found", TS_NOT_FOUND, "no such path");
        return;
    }
    uint64_t elapsed_us = (uv_hrtime () - gw_http_request_start_ns (req)) / 1000;
    gw_metrics_request (self->metrics, "OPTIONS", 204, elapsed_us);
    gw_http_respond_options (req, allow);
}

//  Every HTTP request: the gateway's own paths (/healthz, /metrics, the
//  console, tokens), then the route tables.
static void
s_on_request (gw_http_request *req, void *arg)
{
    gw_gateway *self = arg;
    gw_access *access = gw_access_begin (req);
    const char *method = gw_http_request_method (req);
    const char *path = gw_http_request_path (req);
    bool get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
    if (self->stopping) {
        s_error (self, req, "stopping", TS_UNAVAILABLE, "the gateway is stopping");
        return;
    }
    if (strcmp (method, "OPTIONS") == 0) {
        s_options (self, req, path);
        return;
    }
    if (strcmp (path, "/healthz") == 0 && get) {
        s_health_start (self, req);
        return;
    }
    if (strcmp (path, "/metrics") == 0 && get) {
        s_metrics (self, req);
        return;
    }
    gw_access_route (access, "console");
    if (get && gw_console_serve (req, self->metrics, path))
        return;
    if (get && strncmp (path, "/c/", 3) == 0) {
        gw_access_route (access, "/c/{code}");
        gw_disclose_page (self->rpc [s_service_index ("merchants")], self->metrics, req, path + 3);
        return;
    }
    if (get && strcmp (path, "/v1/session") == 0) {
        gw_access_route (access, "/v1/session");
        gw_console_session (req, self->metrics, self->auth);
        return;
    }
    if (get && strcmp (path, "/v1/qr.svg") == 0) {
        gw_access_route (access, "/v1/qr.svg");
        gw_console_qr (req, self->metrics, self->auth);
        return;
    }
    if (strcmp (path, "/v1/tokens") == 0 && (strcmp (method, "POST") == 0 || get)) {
        s_tokens (self, req, NULL);
        return;
    }
    if (strncmp (path, "/v1/tokens/", 11) == 0 && strcmp (method, "DELETE") == 0
    &&  path [11] && !strchr (path + 11, '/')) {
        char id [64];
        if (gw_http_decode (path + 11, strlen (path + 11), id, sizeof id, false) < 0) {
            s_error (self, req, "DELETE /v1/tokens/{id}", TS_NOT_FOUND, "no such token");
            return;
        }
        s_tokens (self, req, id);
        return;
    }
    s_route (self, req, method, path);
}

//  --------------------------------------------------------------------
//  Life cycle

gw_gateway *
gw_gateway_new (uv_loop_t *loop, const ts_config *cfg, char *err, size_t err_size)
{
    gw_gateway *self = calloc (1, sizeof (gw_gateway));
    assert (self);
    self->magic = GATEWAY_MAGIC;
    self->loop = loop;
    self->cfg = *cfg;
    self->start_ms = uv_now (loop);
    self->metrics = gw_metrics_new ();
    self->token_limit = gw_ratelimit_new (cfg->rate_token_per_s);
    self->public_limit = gw_ratelimit_new (cfg->rate_public_per_s);
    self->memo = gw_memo_new ();
    assert (self->memo);
    self->auth = gw_auth_new (cfg->data_dir, err, err_size);
    if (!self->auth) {
        gw_gateway_destroy (&self);
        return NULL;
    }
    gw_auth_guard (self->auth, self->public_limit, loop);
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        self->rpc [i] = ts_rpc_new (loop, ts_config_endpoint (cfg, ts_service_names [i]), cfg,
                                    GW_RPC_IN_FLIGHT_MAX);
        if (!self->rpc [i]) {
            snprintf (err, err_size, "cannot connect to %s", ts_service_names [i]);
            gw_gateway_destroy (&self);
            return NULL;
        }
    }
    gw_http_config http_cfg;
    gw_http_config_defaults (&http_cfg);
    if (cfg->http_max_connections)
        http_cfg.max_connections = cfg->http_max_connections;
    if (cfg->http_max_per_address)
        http_cfg.max_connections_per_address = cfg->http_max_per_address;
    if (cfg->http_first_byte_ms)
        http_cfg.first_byte_timeout_ms = cfg->http_first_byte_ms;
    http_cfg.cors_origins = cfg->cors_origins;
    self->http = gw_http_new (loop, &http_cfg, s_on_request, self);
    assert (self->http);
    self->port = gw_http_listen (self->http, cfg->listen, err, err_size);
    if (self->port < 0) {
        gw_gateway_destroy (&self);
        return NULL;
    }
    uv_timer_init (loop, &self->health_timer);
    self->health_timer.data = self;
    uv_timer_start (&self->health_timer, s_on_health_timer, 200, GW_HEALTH_POLL_MS);
    return self;
}

int
gw_gateway_port (gw_gateway *self)
{
    return self->port;
}

static void
s_free_on_close (uv_handle_t *handle)
{
    gw_gateway *self = handle->data;
    self->magic = 0;
    free (self);
}

void
gw_gateway_destroy (gw_gateway **self_p)
{
    assert (self_p);
    gw_gateway *self = *self_p;
    if (!self)
        return;
    assert (self->magic == GATEWAY_MAGIC);
    self->stopping = true;
    //  HTTP first: held requests detach; their RPC callbacks (completed by
    //  ts_rpc_destroy with 503) then find them detached and free them.
    gw_http_destroy (&self->http);
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        ts_rpc_destroy (&self->rpc [i]);
    //  After the RPCs: their last callbacks give their arenas back.
    while (self->arena_pool_count > 0)
        ts_arena_destroy (&self->arena_pool [--self->arena_pool_count]);
    gw_auth_destroy (&self->auth);
    gw_metrics_destroy (&self->metrics);
    gw_ratelimit_destroy (&self->token_limit);
    gw_ratelimit_destroy (&self->public_limit);
    gw_memo_destroy (&self->memo);
    free (self->json);
    self->json = NULL;
    *self_p = NULL;
    if (self->port > 0 || uv_is_active ((uv_handle_t *) &self->health_timer)) {
        uv_timer_stop (&self->health_timer);
        uv_close ((uv_handle_t *) &self->health_timer, s_free_on_close);
    }
    else {
        self->magic = 0;
        free (self);
    }
}

//  --------------------------------------------------------------------
//  tashan-gateway

typedef struct {
    uv_loop_t loop;
    gw_gateway *gw;
    uv_signal_t sigint, sigterm;
} main_t;

static void
s_on_signal (uv_signal_t *handle, int signum)
{
    main_t *m = handle->data;
    ts_log_info ("signal", "signum=%d", signum);
    gw_gateway_destroy (&m->gw);
    uv_close ((uv_handle_t *) &m->sigint, NULL);
    uv_close ((uv_handle_t *) &m->sigterm, NULL);
}

int
gw_gateway_main (int argc, char **argv)
{
    if (argc == 2 && strcmp (argv [1], "--openapi") == 0) {
        char *doc = gw_openapi_print ();
        if (!doc)
            return 1;
        puts (doc);
        free (doc);
        return 0;
    }
    ts_config cfg;
    switch (ts_config_parse (&cfg, argc, argv, "tashan-gateway",
                             "tashan gateway: the HTTP/JSON API, /healthz, /metrics and the ops console",
                             "Also: tashan-gateway --openapi prints the API description (OpenAPI 3).\n",
                             false)) {
        case TS_CONFIG_EXIT_OK: return 0;
        case TS_CONFIG_EXIT_USAGE: return 2;
        case TS_CONFIG_RUN: break;
    }
    ts_log_init ("gateway", cfg.log_level);
    ts_reqlog_set ((ts_reqlog_mode) cfg.log_requests, cfg.log_requests_sample);
    signal (SIGPIPE, SIG_IGN);
    main_t m = { 0 };
    uv_loop_init (&m.loop);
    char err [ERR_MAX];
    m.gw = gw_gateway_new (&m.loop, &cfg, err, sizeof err);
    if (!m.gw) {
        ts_log_error ("start_failed", "reason=\"%s\"", err);
        uv_run (&m.loop, UV_RUN_DEFAULT);
        uv_loop_close (&m.loop);
        ts_zmq_term ();
        return 1;
    }
    uv_signal_init (&m.loop, &m.sigint);
    uv_signal_init (&m.loop, &m.sigterm);
    m.sigint.data = m.sigterm.data = &m;
    uv_signal_start (&m.sigint, s_on_signal, SIGINT);
    uv_signal_start (&m.sigterm, s_on_signal, SIGTERM);
    ts_log_info ("started", "listen=%s port=%d data_dir=%s version=%s", cfg.listen,
                 gw_gateway_port (m.gw), cfg.data_dir, TASHAN_VERSION);
    uv_run (&m.loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close (&m.loop);
    if (rc != 0)
        ts_log_warn ("loop_close", "error=\"%s\"", uv_strerror (rc));
    ts_zmq_term ();
    ts_log_info ("stopped", "%s", "");
    return 0;
}
