/*  =========================================================================
    ts_service - what a daemon declares, and what its handlers get

    A daemon is a table of methods, a list of LMDB tables, optional event
    subscriptions and an optional periodic tick. ts_daemon_main() does the
    rest: flags and config, logging, the LMDB store, the ROUTER socket on
    the libuv loop, group commit, the outbox, event delivery, health,
    backup, clean shutdown.

    Group commit: the daemon drains up to TS_BATCH_MAX waiting requests,
    runs each write in a nested transaction of one write transaction
    (a failed request aborts only its child: it changes nothing), commits
    once, then replies to each. Handlers must therefore keep no state
    outside LMDB that they change (a batch can be re-run after the map
    grew), and must be deterministic given their inputs and ctx->now_ms.
    =========================================================================
*/
#ifndef TS_SERVICE_H
#define TS_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include "common.pb-c.h"
#include "ts_arena.h"
#include "ts_status.h"
#include "ts_store.h"

typedef struct ts_daemon ts_daemon;
typedef struct ts_verify ts_verify;

//  Roles, as bits for method tables.
enum {
    TS_ROLE_PUBLIC = 1u << 0,       //  no token (gateway public routes)
    TS_ROLE_OPS = 1u << 1,
    TS_ROLE_PANEL = 1u << 2,
    TS_ROLE_SCHOOL = 1u << 3,       //  caller->binding = school id
    TS_ROLE_MERCHANT = 1u << 4,     //  caller->binding = merchant id
    TS_ROLE_SYSTEM = 1u << 5,       //  other daemons, tashanctl
    TS_ROLE_ANY = 0x3f,
};
//  Bit of a role name ("ops"...), 0 when unknown.
unsigned ts_role_bit (const char *role);

//  What a handler gets for one request (or one event being applied).
typedef struct {
    ts_txn *txn;                    //  nested write txn, or a read txn
    const Tashan__Caller *caller;   //  never NULL; fields never NULL
    int64_t now_ms;                 //  unix ms, one value per batch
    ts_arena *arena;                //  all allocations for this request
    void *state;                    //  the service's own state (open())
    ts_daemon *daemon;              //  NULL when driven by ts_dispatch alone
    struct ts_dispatch *dispatch;   //  the request path this runs on
    unsigned code;                  //  set by ts_fail
    char message [256];             //  set by ts_fail
    uint32_t events_emitted;        //  count of ts_emit calls
    uint64_t last_event_seq;        //  outbox seq of the last ts_emit
    const uint8_t *reply_bytes;     //  ts_reply_packed: the reply, packed
    size_t reply_size;              //  its size
    //  A TS_METHOD_FLAT request in the batch's own transaction: should it
    //  fail, the batch runs again with it nested, so whatever it counts
    //  in memory on failure (a brake on refusals) it counts then, not now.
    bool flat;
} ts_ctx;

//  Record an error for the reply and return its code, so a handler can
//  write: return ts_fail (ctx, TS_NOT_FOUND, "no person %s", id);
unsigned ts_fail (ts_ctx *ctx, unsigned code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  The reply of a successful handler given as bytes already packed (a
//  reply kept by the service): the dispatcher copies them instead of
//  packing the handler's rep, which it then ignores. The bytes must be
//  a packed message of the method's reply type, valid until the handler
//  returns.
void ts_reply_packed (ts_ctx *ctx, const uint8_t *bytes, size_t size);

//  A table of this daemon's store by name (opened at start; asserts).
ts_table ts_ctx_table (ts_ctx *ctx, const char *name);

//  Append a durable event to this daemon's outbox, in the handler's
//  transaction: it exists iff the change that caused it commits.
void ts_emit (ts_ctx *ctx, const char *topic, const ProtobufCMessage *payload);

//  A handler: req is the unpacked request (arena memory), rep an
//  initialised reply message to fill (arena memory). Returns a status
//  code: 200/201 on success, >= 400 (via ts_fail) on error, in which case
//  its writes are rolled back and the reply body is dropped.
typedef unsigned (*ts_handler_fn) (ts_ctx *ctx, const void *req, void *rep);

enum {
    TS_METHOD_READ = 0,             //  runs in a read transaction
    TS_METHOD_WRITE = 1u << 0,      //  runs in the batch's write transaction
    //  With TS_METHOD_WRITE: run in the batch's transaction itself, not in
    //  a nested one of its own. A nested transaction copies every page it
    //  touches that the batch has already dirtied (~15 pages, 12 % of the
    //  ledger's CPU per evaluation); a method whose requests nearly always
    //  succeed saves that. When such a job fails (>= 400 or a store error)
    //  its writes may be half done in the batch's transaction, so the
    //  dispatcher drops the whole attempt and runs the batch again with
    //  every job nested: the outcome is the same, at worst one extra run.
    TS_METHOD_FLAT = 1u << 1,
};

typedef struct {
    const char *name;               //  "<service>.<Verb>", unique
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    ts_handler_fn handler;
    unsigned flags;                 //  TS_METHOD_*
    unsigned roles;                 //  TS_ROLE_* bits allowed to call it
    //  Name of a string field of the request holding an idempotency key,
    //  or NULL. When set (write methods only) the daemon stores the reply
    //  under (method, caller role, caller binding, key): a repeat gets the
    //  stored reply with code 200 and no second effect; a repeat with a
    //  different request body gets 409. An empty key is refused (400).
    const char *idempotency_field;
} ts_method;

//  Applying one event from another daemon. Runs in a nested write txn;
//  the consumer's position advances in the same transaction, so the event
//  takes effect exactly once. A code >= 400 rolls the event's changes back
//  and the event is skipped (logged): a poison event must not block the
//  stream.
typedef unsigned (*ts_apply_fn) (ts_ctx *ctx, const void *payload,
                                 const Tashan__Event *event);
typedef struct {
    const char *topic;              //  e.g. "person.created"
    const ProtobufCMessageDescriptor *payload;
    ts_apply_fn apply;
} ts_topic_handler;

typedef struct {
    const char *producer;           //  service name, e.g. "residents"
    const ts_topic_handler *topics; //  topics not listed are skipped
    size_t topic_count;
} ts_subscription;

typedef struct {
    const char *name;               //  "ledger": data dir, endpoint key, logs
    const char *summary;            //  one line for --help
    uint32_t schema_version;
    //  Stores of versions from this one up open too (0: none but
    //  schema_version): open() migrates them.
    uint32_t schema_migrates_from;
    const ts_table_def *tables;     //  the service's own tables
    size_t table_count;
    const ts_method *methods;
    size_t method_count;
    const ts_subscription *subscriptions;
    size_t subscription_count;
    //  Called once at start inside a write transaction (seed defaults,
    //  load keys). May set *state. Returns 0 or a status code >= 400.
    unsigned (*open) (ts_ctx *ctx, void **state);
    void (*close) (void *state);
    //  Called every tick_ms inside a write transaction (escalations...).
    unsigned (*tick) (ts_ctx *ctx);
    uint32_t tick_ms;
    //  Run the tick on a worker thread (ts_ticker.h): the loop answers
    //  reads while the tick's transaction commits (a disk sync); a write
    //  waits for it. The tick may then touch only its transaction and
    //  state it guards itself against the loop (ctx->state is shared).
    bool tick_off_loop;
    //  sys.Verify (ts_verify.h): check derived records against what they
    //  derive from, in a read transaction; NULL when there are none.
    void (*verify) (ts_ctx *ctx, ts_verify *verify);
    //  Called once a batch of requests has run (its writes committed),
    //  before any of its replies leaves: work the handlers queued in the
    //  state for the batch as a whole (residents: one journal append for
    //  all its audited reads). Returns 0, or a status >= 400 with why
    //  filled: then every read of the batch that succeeded fails with it.
    //  NULL when there is none.
    unsigned (*batch_done) (void *state, char *why, size_t why_size);
} ts_service;

//  --------------------------------------------------------------------
//  Declaring a service: counts are derived from the arrays, never typed.
//
//      TS_HANDLER (h_get, volunteers_get, Tashan__Volunteers__GetRequest,
//                  Tashan__Volunteers__Volunteer)
//      static const ts_method s_methods [] = {
//          { "volunteers.Get", D (get_request), D (volunteer), h_get,
//            TS_METHOD_READ, TS_ROLE_OPS, NULL },
//      };
//      const ts_service volunteers_service = {
//          .name = "volunteers", TS_TABLES (s_tables), TS_METHODS (s_methods),
//          TS_SUBSCRIPTIONS (s_subscriptions), ...
//      };

#define TS_COUNT(array) (sizeof (array) / sizeof (array) [0])
#define TS_TABLES(array) .tables = (array), .table_count = TS_COUNT (array)
#define TS_METHODS(array) .methods = (array), .method_count = TS_COUNT (array)
#define TS_SUBSCRIPTIONS(array) \
    .subscriptions = (array), .subscription_count = TS_COUNT (array)
//  One subscription: { "residents", topics, count }.
#define TS_SUBSCRIPTION(producer, topics) { (producer), (topics), TS_COUNT (topics) }
//  A ts_handler_fn named `wrapper` calling the typed core function fn.
#define TS_HANDLER(wrapper, fn, Req, Rep) \
    static unsigned wrapper (ts_ctx *ctx, const void *req, void *rep) \
    { return fn (ctx, (const Req *) req, (Rep *) rep); }
//  A ts_apply_fn named `wrapper` calling the typed core function fn.
#define TS_APPLY(wrapper, fn, Payload) \
    static unsigned wrapper (ts_ctx *ctx, const void *payload, \
                             const Tashan__Event *event) \
    { return fn (ctx, (const Payload *) payload, event); }

//  Run the daemon: parse flags (--help, --version, --config, --data-dir,
//  --log-level, endpoints), open the store, serve until SIGINT/SIGTERM.
//  Returns the process exit code.
int ts_daemon_main (const ts_service *service, int argc, char **argv);

//  For handlers that need to look at the daemon's own data dir
//  (e.g. to keep a signing key next to the store).
const char *ts_daemon_data_dir (ts_daemon *self);

//  Limits shared by every daemon.
#define TS_BATCH_MAX 512            //  requests per group commit
//  Request bytes per group commit: a burst of large requests (batches of
//  1,000 items) is split over several commits, so one transaction's
//  memory stays bounded whatever the clients send.
#define TS_BATCH_MAX_BYTES (4u * 1024 * 1024)
#define TS_FRAME_MAX_BYTES (2u * 1024 * 1024)
#define TS_FETCH_MAX_EVENTS 1000
#define TS_FETCH_WAITERS_MAX 64     //  long-polls held at once

#endif
