/*  =========================================================================
    ts_dispatch - run a service's requests and events against its store,
    with no sockets

    This is the daemon's core path (decode, role check, idempotency,
    nested transaction per request, outbox, consumer positions) in a form
    unit tests and tools can drive directly. The daemon (ts_daemon) wraps
    it with the ROUTER socket and group commit.

    Runtime tables it adds to every store (beside the service's own):
        outbox  u64 seq BE            -> tashan.Event (packed)
        idem    method\0role\0binding\0key\0 -> u32 code BE, 32-byte request
                                          hash, packed reply
        inbox   producer\0            -> u64 last applied seq BE, u64 head,
                                         u64 producer generation BE (0 unknown)
    =========================================================================
*/
#ifndef TS_DISPATCH_H
#define TS_DISPATCH_H

#include "ts_service.h"

typedef struct ts_dispatch ts_dispatch;

//  Open <data_dir>/<service>/ and run the service's open().
ts_dispatch *ts_dispatch_new (const ts_service *service, const char *data_dir,
                              char *err, size_t err_size);
void ts_dispatch_destroy (ts_dispatch **self_p);

ts_store *ts_dispatch_store (ts_dispatch *self);
const ts_service *ts_dispatch_service (ts_dispatch *self);
void *ts_dispatch_state (ts_dispatch *self);

//  Called before each write transaction the dispatch begins for the loop
//  (batches with writes, applied events): ts_ticker_wait, when a tick may
//  hold the store's writer on a worker thread. NULL: none.
typedef void (ts_dispatch_gate_fn) (void *arg);
void ts_dispatch_set_write_gate (ts_dispatch *self, ts_dispatch_gate_fn *gate, void *arg);

//  Fix the clock for tests (unix ms); 0 goes back to the real clock.
void ts_dispatch_set_now (ts_dispatch *self, int64_t now_ms);
int64_t ts_dispatch_now (ts_dispatch *self);

//  Run one request and commit it on its own. On success (code < 400)
//  *reply is the reply message in arena memory. message (may be NULL)
//  receives the status message.
unsigned ts_dispatch_call (ts_dispatch *self, const char *method,
                           const Tashan__Caller *caller,
                           const ProtobufCMessage *request, ts_arena *arena,
                           ProtobufCMessage **reply, char *message,
                           size_t message_size);

//  Apply one event from producer as the subscriber would, and commit.
//  Events at or below the recorded position are ignored (returns 200).
unsigned ts_dispatch_apply (ts_dispatch *self, const char *producer,
                            const Tashan__Event *event);

//  Read outbox events after after_seq (at most max) into arena memory.
//  Returns the count; *events points at an array of them.
size_t ts_dispatch_events (ts_dispatch *self, uint64_t after_seq, size_t max,
                           ts_arena *arena, Tashan__Event ***events);

//  The last applied seq of producer (0 when none).
uint64_t ts_dispatch_position (ts_dispatch *self, const char *producer);

//  --------------------------------------------------------------------
//  Batches (what the daemon uses for group commit)

//  One request of a batch: inputs filled by the caller, outputs by the
//  batch run (reply in the arena given to ts_dispatch_run_batch).
typedef struct {
    const char *method;             //  in
    const Tashan__Caller *caller;   //  in
    const uint8_t *body;            //  in: packed request
    size_t body_size;               //  in
    int64_t deadline_ms;            //  in: unix ms (the dispatch clock) after
                                    //  which it is not applied (504); 0 none
    const char *idempotency_key;    //  in: the client's key, NULL or "" none
    bool wrote;                     //  out: its writes are in the batch
    unsigned code;                  //  out: status code
    char message [256];             //  out: status message
    uint8_t *reply;                 //  out: packed reply (arena memory)
    size_t reply_size;              //  out
} ts_job;

//  Run jobs as one group commit: writes share one LMDB write transaction
//  (each job in its own nested child), reads run against it too; a store
//  that fills is grown and the batch re-run. After it returns every job
//  has its outcome and every success is durable, and the service's
//  batch_done has run (a failure there fails the batch's reads). Returns
//  the number of commits made (0 when only reads ran).
//
//  Deadlines: a job whose deadline has passed is answered 504 and not
//  run; when one that wrote is found past its deadline right before the
//  commit, the batch is run again without it, so a 504 always means "not
//  applied".
//
//  Idempotency: a write method's own key field (ts_method
//  idempotency_field) or else the job's idempotency_key (a client's
//  Idempotency-Key): the first outcome is stored; a repeat with the same
//  body gets it again (200), one with another body 409.
int ts_dispatch_run_batch (ts_dispatch *self, ts_job *jobs, size_t job_count,
                           ts_arena *arena);

//  Apply a run of fetched events from producer in one transaction
//  (exactly once: the position is saved with them). Returns 0, or -1
//  when the store failed (nothing applied; retry later).
int ts_dispatch_apply_batch (ts_dispatch *self, const char *producer,
                             Tashan__Event **events, size_t event_count,
                             uint64_t producer_head_seq);

//  Run the service's tick in its own write transaction (the map grows
//  and it runs again when the store is full). On the loop.
unsigned ts_dispatch_tick (ts_dispatch *self);

//  One run of the tick, as ts_dispatch_tick without growing the map: for
//  a worker thread (ts_ticker), while the loop opens no write
//  transaction. Returns the tick's status; *rc_out is the commit's rc
//  (0, TS_STORE_MAP_FULL: grow on the loop and run it again next time, or
//  another error), *last_event_seq_out the last event it emitted (0 none).
unsigned ts_dispatch_tick_once (ts_dispatch *self, int *rc_out,
                                uint64_t *last_event_seq_out);

//  On the loop, after ts_dispatch_tick_once committed elsewhere: the
//  outbox head moves to the events it emitted.
void ts_dispatch_tick_committed (ts_dispatch *self, uint64_t last_event_seq);

//  Newest outbox seq (0 when empty).
uint64_t ts_dispatch_outbox_head (ts_dispatch *self);
//  The producer head the consumer last saw for producer (for lag).
uint64_t ts_dispatch_producer_head (ts_dispatch *self, const char *producer);

//  The producer's outbox generation our position on it is in (0: none
//  seen yet), and recording one (first contact, or a position written
//  before generations existed). Returns 0 or -1 when the store failed.
uint64_t ts_dispatch_producer_generation (ts_dispatch *self, const char *producer);
int ts_dispatch_adopt_generation (ts_dispatch *self, const char *producer,
                                  uint64_t generation);

//  Callers for tests: role and binding as given.
Tashan__Caller ts_caller (const char *role, const char *binding,
                          const char *principal);

#endif
