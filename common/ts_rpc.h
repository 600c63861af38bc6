/*  =========================================================================
    ts_rpc - client side of the daemons' protocol: a DEALER socket on the
    libuv loop with many requests in flight, each with a correlation id
    and a deadline (never lock-step REQ)

    The callback runs exactly once per call: with the daemon's reply, or
    with 504 when the deadline passed, or 503 when the in-flight bound is
    reached. A reply arriving after its deadline is dropped.

    Deadlines mean "not applied": every call carries Request.deadline_ms
    (unix ms, now + timeout_ms) and the daemon drops a request it would
    apply after it (504, nothing written). The caller waits
    TS_RPC_DEADLINE_GRACE_MS longer than that before it gives up, so a
    reply that left in time (after a commit just before the deadline)
    still arrives, and a 503/504 given here means the daemon did not and
    will not apply the request. The daemons and their callers must share
    a clock (one host, or NTP well within the grace).
    =========================================================================
*/
#ifndef TS_RPC_H
#define TS_RPC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "common.pb-c.h"
#include "ts_arena.h"
#include "ts_config.h"

typedef struct ts_rpc ts_rpc;

//  How much longer a caller waits than the deadline it sends: the commit
//  that began before the deadline, and the reply's way back.
#define TS_RPC_DEADLINE_GRACE_MS 200

//  What travels with a call besides its body (ts_reqlog.h); NULL or ""
//  fields are not sent.
typedef struct {
    const char *request_id;         //  follows the request into the logs
    const char *idempotency_key;    //  a client's key for a write
} ts_rpc_meta;

//  body: the packed reply (valid only during the callback).
typedef void (*ts_rpc_fn) (void *arg, unsigned code, const char *message,
                           const uint8_t *body, size_t body_size);

//  Connect to a daemon's endpoint. cfg may be NULL (no CURVE).
ts_rpc *ts_rpc_new (uv_loop_t *loop, const char *endpoint,
                    const ts_config *cfg, uint32_t max_in_flight);
//  Pending calls get their callback with 503 before this returns.
void ts_rpc_destroy (ts_rpc **self_p);

//  Send a request. Returns 0; the callback always follows (maybe at once).
int ts_rpc_call (ts_rpc *self, const char *method, const Tashan__Caller *caller,
                 const uint8_t *body, size_t body_size, uint32_t timeout_ms,
                 ts_rpc_fn fn, void *arg);
//  Same, with a request id and idempotency key (meta may be NULL).
int ts_rpc_call_meta (ts_rpc *self, const char *method, const Tashan__Caller *caller,
                      const ts_rpc_meta *meta, const uint8_t *body, size_t body_size,
                      uint32_t timeout_ms, ts_rpc_fn fn, void *arg);
//  Same, packing a message.
int ts_rpc_call_msg (ts_rpc *self, const char *method,
                     const Tashan__Caller *caller, const ProtobufCMessage *request,
                     uint32_t timeout_ms, ts_rpc_fn fn, void *arg);

uint32_t ts_rpc_in_flight (ts_rpc *self);
uint64_t ts_rpc_errors (ts_rpc *self);      //  503/504 given so far
//  Slots ever used: the most calls in flight at once (the table's pages
//  beyond them are never touched).
uint32_t ts_rpc_slots_used (ts_rpc *self);

//  Blocking call for tools and benchmarks (own socket, no loop). On
//  success *reply is unpacked into arena. Returns the status code.
unsigned ts_rpc_call_sync (const char *endpoint, const ts_config *cfg,
                           const char *method, const Tashan__Caller *caller,
                           const ProtobufCMessage *request,
                           const ProtobufCMessageDescriptor *reply_desc,
                           ts_arena *arena, ProtobufCMessage **reply,
                           char *message, size_t message_size,
                           uint32_t timeout_ms);

#endif
