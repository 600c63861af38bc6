/*  =========================================================================
    ts_rpc - DEALER client with many calls in flight. See ts_rpc.h.

    Pending calls live in a fixed slot table: corr_id = generation << 16 |
    slot, so a reply finds its call in O(1) and a late reply to a reused
    slot is recognised (wrong generation) and dropped.

    Deadlines: the slots in flight also sit in a binary min-heap ordered
    by deadline (each slot knows its place in it, so a call answered in
    time leaves the heap in O(log n)). One timer is armed for the earliest
    deadline; when it fires, the calls whose deadline has passed are taken
    off the top. Nothing scans the slot table on a clock.

    Replies are read in bounded turns like the daemon's requests: at most
    RECV_PER_TURN messages and RECV_BYTES_PER_TURN bytes, extra frames of
    a message at most RECV_EXTRA_FRAMES_MAX; the rest waits for the next
    turn of the loop.

    Batches (ts_batch.h): a call is packed at once into the outgoing
    batch and sent when the loop is about to block (ts_zwatch's flush
    hook, after every callback of the turn has made its calls), or at
    once when the batch is full. One call goes alone, as a plain Request;
    more go as one sys.Batch message, whose corr_id has BATCH_BIT set so
    its answer (a ReplyBatch, or one error for the whole batch) is told
    from a call's. Each slot remembers the batch it went in, for that
    error and for a send that fails.
    =========================================================================
*/
#include "ts_rpc.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ts_batch.h"
#include "ts_log.h"
#include "ts_service.h"
#include "ts_status.h"
#include "ts_time.h"
#include "ts_zmq.h"
#include "ts_zwatch.h"

#define RPC_MAGIC 0x52504321u
#define SLOTS_MAX 65536u
#define RECV_PER_TURN TS_BATCH_MAX
#define RECV_BYTES_PER_TURN TS_BATCH_MAX_BYTES
#define RECV_EXTRA_FRAMES_MAX 64
#define MONITOR_EVENTS_PER_TURN 64
#define HEAP_NONE UINT32_MAX        //  slot not in the deadline heap
//  A batch's corr_id; a call's is generation << 16 | slot, far below.
#define BATCH_BIT (UINT64_C (1) << 63)

typedef struct {
    uint64_t corr_id;               //  0 when the slot is free
    uint64_t deadline_ms;           //  uv_now time after which we give up
    ts_rpc_fn fn;
    void *arg;
    uint32_t next_free;             //  free list link
    uint32_t heap_pos;              //  index in self->heap, HEAP_NONE if free
    uint64_t batch_id;              //  corr_id of the batch it went in
} slot_t;

struct ts_rpc {
    uint32_t magic;                 //  RPC_MAGIC
    uv_loop_t *loop;
    void *zsock;                    //  DEALER
    ts_zwatch *watch;
    void *monitor;                  //  PAIR receiving the DEALER's events
    ts_zwatch *monitor_watch;
    uv_timer_t deadline_timer;      //  armed for heap's earliest deadline
    uint64_t armed_ms;              //  deadline the timer is set for, 0 none
    slot_t *slots;                  //  max_in_flight entries
    uint32_t *heap;                 //  slot indices, min-heap by deadline
    uint32_t max_in_flight;
    uint32_t in_flight;             //  = entries in heap
    uint32_t free_head;             //  first freed slot, max_in_flight = none
    uint32_t fresh;                 //  slots [fresh..] never used yet
    uint64_t generation;            //  bumps on every call
    uint64_t errors;                //  503/504 given
    ts_arena *scratch;              //  for unpacking replies
    ts_batch *out;                  //  calls of this turn, not sent yet
    uint64_t out_id;                //  the corr_id that batch will carry
    char endpoint [TS_ENDPOINT_MAX];
};

//  --------------------------------------------------------------------
//  The deadline heap: heap [0] is the slot with the earliest deadline.

static bool
s_heap_less (ts_rpc *self, uint32_t a, uint32_t b)
{
    return self->slots [self->heap [a]].deadline_ms < self->slots [self->heap [b]].deadline_ms;
}

static void
s_heap_swap (ts_rpc *self, uint32_t a, uint32_t b)
{
    uint32_t slot_a = self->heap [a];
    self->heap [a] = self->heap [b];
    self->heap [b] = slot_a;
    self->slots [self->heap [a]].heap_pos = a;
    self->slots [self->heap [b]].heap_pos = b;
}

//  Move the entry at pos up or down until the heap order holds again.
static void
s_heap_fix (ts_rpc *self, uint32_t pos)
{
    while (pos > 0 && s_heap_less (self, pos, (pos - 1) / 2)) {
        s_heap_swap (self, pos, (pos - 1) / 2);
        pos = (pos - 1) / 2;
    }
    for (;;) {
        uint32_t left = 2 * pos + 1, right = left + 1, least = pos;
        if (left < self->in_flight && s_heap_less (self, left, least))
            least = left;
        if (right < self->in_flight && s_heap_less (self, right, least))
            least = right;
        if (least == pos)
            break;
        s_heap_swap (self, pos, least);
        pos = least;
    }
}

static void
s_heap_push (ts_rpc *self, uint32_t index)
{
    assert (self->in_flight < self->max_in_flight);
    assert (self->slots [index].heap_pos == HEAP_NONE);
    uint32_t pos = self->in_flight++;
    self->heap [pos] = index;
    self->slots [index].heap_pos = pos;
    s_heap_fix (self, pos);
}

static void
s_heap_remove (ts_rpc *self, uint32_t index)
{
    uint32_t pos = self->slots [index].heap_pos;
    assert (pos < self->in_flight && self->heap [pos] == index);
    uint32_t last = --self->in_flight;
    if (pos != last) {
        s_heap_swap (self, pos, last);
        self->slots [index].heap_pos = HEAP_NONE;
        s_heap_fix (self, pos);
    }
    else
        self->slots [index].heap_pos = HEAP_NONE;
}

static void s_on_deadline (uv_timer_t *timer);

//  Arm the timer for the earliest deadline, if it is not armed for it
//  already. With nothing in flight the timer stays as it is: firing
//  finds nothing to do.
static void
s_arm_timer (ts_rpc *self)
{
    if (self->in_flight == 0)
        return;
    uint64_t first_ms = self->slots [self->heap [0]].deadline_ms;
    if (first_ms == self->armed_ms)
        return;
    uint64_t now = uv_now (self->loop);
    self->armed_ms = first_ms;
    uv_timer_start (&self->deadline_timer, s_on_deadline, first_ms > now ? first_ms - now : 0, 0);
}

//  --------------------------------------------------------------------
//  Completing calls

static void
s_complete (ts_rpc *self, uint32_t index, unsigned code, const char *message,
            const uint8_t *body, size_t body_size)
{
    slot_t *slot = &self->slots [index];
    assert (slot->corr_id != 0);
    ts_rpc_fn fn = slot->fn;
    void *arg = slot->arg;
    s_heap_remove (self, index);
    slot->corr_id = 0;
    slot->next_free = self->free_head;
    self->free_head = index;
    if (code == TS_UNAVAILABLE || code == TS_TIMEOUT)
        self->errors++;
    fn (arg, code, message, body, body_size);
}

//  Fail every call in flight now (at most those there when it starts:
//  a callback may make new calls).
static void
s_fail_all (ts_rpc *self, const char *message)
{
    //  The calls not sent yet are failed below: they must never leave.
    ts_batch_clear (self->out);
    for (uint32_t n = self->in_flight; n > 0 && self->in_flight > 0; n--)
        s_complete (self, self->heap [0], TS_UNAVAILABLE, message, NULL, 0);
}

//  Fail the calls of one batch (its send failed, or the daemon refused it
//  whole: none of them was applied). Collected first: completing
//  reorders the heap, and a callback may make new calls.
static void
s_fail_batch (ts_rpc *self, uint64_t batch_id, unsigned code, const char *message)
{
    uint32_t found [TS_BATCH_MAX];
    uint32_t count = 0;
    for (uint32_t pos = 0; pos < self->in_flight && count < TS_BATCH_MAX; pos++)
        if (self->slots [self->heap [pos]].batch_id == batch_id)
            found [count++] = self->heap [pos];
    for (uint32_t i = 0; i < count; i++)
        if (self->slots [found [i]].corr_id != 0
        &&  self->slots [found [i]].batch_id == batch_id)
            s_complete (self, found [i], code, message, NULL, 0);
}

//  The timer: expire, earliest first, every call whose deadline passed.
static void
s_on_deadline (uv_timer_t *timer)
{
    ts_rpc *self = timer->data;
    self->armed_ms = 0;
    uint64_t now = uv_now (self->loop);
    for (uint32_t n = self->max_in_flight; n > 0 && self->in_flight > 0; n--) {
        uint32_t index = self->heap [0];
        if (self->slots [index].deadline_ms > now)
            break;
        s_complete (self, index, TS_TIMEOUT, "no reply before the deadline", NULL, 0);
    }
    s_arm_timer (self);
}

//  --------------------------------------------------------------------
//  Receiving replies

//  Receive one message from the DEALER: *reply is the unpacked reply (in
//  scratch), or NULL when it was not one (too large, bad, or with extra
//  frames, which are dropped). *size_bytes gets its size. Returns false
//  when nothing was waiting.
static bool
s_recv_reply (ts_rpc *self, Tashan__Reply **reply, size_t *size_bytes)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->zsock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return false;
    }
    bool more = zmq_msg_more (&msg);
    *size_bytes = zmq_msg_size (&msg);
    *reply = NULL;
    ts_arena_reset (self->scratch);
    if (!more && *size_bytes <= TS_FRAME_MAX_BYTES)
        *reply = (Tashan__Reply *) protobuf_c_message_unpack (
            &tashan__reply__descriptor, ts_arena_pb (self->scratch),
            *size_bytes, zmq_msg_data (&msg));
    zmq_msg_close (&msg);
    //  Extra frames: not our protocol; drop the whole message.
    for (int i = 0; more && i < RECV_EXTRA_FRAMES_MAX; i++) {
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            break;
        }
        more = zmq_msg_more (&msg);
        *size_bytes += zmq_msg_size (&msg);
        zmq_msg_close (&msg);
    }
    return true;
}

//  Hand one call's reply to its call.
static void
s_deliver (ts_rpc *self, const Tashan__Reply *reply)
{
    uint32_t index = (uint32_t) (reply->corr_id & 0xffff);
    if (index >= self->max_in_flight || self->slots [index].corr_id != reply->corr_id)
        return;                     //  late reply: its caller already got 504
    unsigned code = reply->status ? reply->status->code : TS_INTERNAL;
    const char *message = reply->status ? reply->status->message : "reply without status";
    s_complete (self, index, code, message, reply->body.data, reply->body.len);
}

//  A batch's answer: its calls' replies, or one error for all of them.
static void
s_deliver_batch (ts_rpc *self, const Tashan__Reply *reply)
{
    unsigned code = reply->status ? reply->status->code : TS_INTERNAL;
    if (code != TS_OK) {
        ts_log_warn ("rpc_batch_refused", "endpoint=%s code=%u reason=\"%s\"", self->endpoint,
                     code, reply->status ? reply->status->message : "-");
        s_fail_batch (self, reply->corr_id, code, reply->status ? reply->status->message
                                                                : "reply without status");
        return;
    }
    Tashan__ReplyBatch *batch = ts_batch_replies (reply, self->scratch);
    if (!batch) {
        ts_log_warn ("rpc_bad_reply", "endpoint=%s batch=1", self->endpoint);
        return;                     //  its calls meet their deadlines
    }
    for (size_t i = 0; i < batch->n_replies; i++)
        s_deliver (self, batch->replies [i]);
}

//  The DEALER is readable: hand replies to their calls, at most
//  RECV_PER_TURN messages and RECV_BYTES_PER_TURN bytes per turn.
static void
s_on_readable (void *arg)
{
    ts_rpc *self = arg;
    size_t bytes = 0;
    for (int i = 0; i < RECV_PER_TURN && bytes < RECV_BYTES_PER_TURN; i++) {
        Tashan__Reply *reply;
        size_t size_bytes;
        if (!s_recv_reply (self, &reply, &size_bytes))
            break;
        bytes += size_bytes;
        if (!reply)
            ts_log_warn ("rpc_bad_reply", "endpoint=%s", self->endpoint);
        else
        if (reply->corr_id & BATCH_BIT)
            s_deliver_batch (self, reply);
        else
            s_deliver (self, reply);
    }
    s_arm_timer (self);
}

//  Send the calls collected so far as one message. Returns true when it
//  sent (or tried to). A failed send fails those calls: with
//  ZMQ_IMMEDIATE, EAGAIN means the daemon is not connected.
static bool
s_flush (ts_rpc *self)
{
    if (ts_batch_count (self->out) == 0)
        return false;
    uint64_t batch_id = self->out_id;
    self->out_id = BATCH_BIT | ((self->out_id + 1) & ~BATCH_BIT);
    size_t size = ts_batch_sealed_size (self->out, batch_id);
    zmq_msg_t msg;
    zmq_msg_init_size (&msg, size);
    ts_batch_seal (self->out, batch_id, zmq_msg_data (&msg));
    ts_batch_clear (self->out);
    ts_zwatch_touch (self->watch);  //  the send may take the fd's edge
    if (zmq_msg_send (&msg, self->zsock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        s_fail_batch (self, batch_id, TS_UNAVAILABLE, "service unreachable");
        s_arm_timer (self);
    }
    return true;
}

//  ts_zwatch's flush hook: the loop is about to block. Calls made by the
//  callbacks of a failed send leave too (they fail the same way; a few
//  rounds at most, as each round fails every call it sends).
static bool
s_on_flush (void *arg)
{
    ts_rpc *self = arg;
    bool sent = false;
    for (int round = 0; round < 4 && ts_batch_count (self->out) > 0; round++)
        sent |= s_flush (self);
    return sent;
}

//  The daemon went away: what it had not answered never will be (its
//  replies would go down the dead connection). Fail those calls now
//  instead of at their deadlines.
static void
s_on_monitor (void *arg)
{
    ts_rpc *self = arg;
    for (int i = 0; i < MONITOR_EVENTS_PER_TURN; i++) {
        zmq_msg_t event_msg, addr_msg;
        zmq_msg_init (&event_msg);
        if (zmq_msg_recv (&event_msg, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&event_msg);
            break;
        }
        uint16_t event = 0;
        if (zmq_msg_size (&event_msg) >= 2)
            memcpy (&event, zmq_msg_data (&event_msg), 2);
        bool more = zmq_msg_more (&event_msg);
        zmq_msg_close (&event_msg);
        if (more) {
            zmq_msg_init (&addr_msg);
            zmq_msg_recv (&addr_msg, self->monitor, ZMQ_DONTWAIT);
            zmq_msg_close (&addr_msg);
        }
        if (event == ZMQ_EVENT_DISCONNECTED)
            s_fail_all (self, "connection to the service was lost");
    }
    s_arm_timer (self);
}

//  --------------------------------------------------------------------
//  Life cycle

//  Watch the DEALER's disconnects on an inproc PAIR (when ZeroMQ lets us).
static void
s_monitor_start (ts_rpc *self)
{
    char monitor_ep [64];
    snprintf (monitor_ep, sizeof monitor_ep, "inproc://ts-rpc-monitor-%p", (void *) self);
    if (zmq_socket_monitor (self->zsock, monitor_ep, ZMQ_EVENT_DISCONNECTED) != 0)
        return;
    self->monitor = zmq_socket (ts_zmq_ctx (), ZMQ_PAIR);
    assert (self->monitor);
    int rc = zmq_connect (self->monitor, monitor_ep);
    assert (rc == 0);
    self->monitor_watch = ts_zwatch_new (self->loop, self->monitor, s_on_monitor, self);
    assert (self->monitor_watch);
}

ts_rpc *
ts_rpc_new (uv_loop_t *loop, const char *endpoint, const ts_config *cfg,
            uint32_t max_in_flight)
{
    assert (loop && endpoint);
    assert (max_in_flight > 0 && max_in_flight <= SLOTS_MAX);
    char err [256];
    void *zsock = ts_zmq_dealer (endpoint, cfg, true, err, sizeof err);
    if (!zsock) {
        ts_log_error ("rpc_connect_failed", "%s", err);
        return NULL;
    }
    ts_rpc *self = calloc (1, sizeof (ts_rpc));
    assert (self);
    self->magic = RPC_MAGIC;
    self->loop = loop;
    self->zsock = zsock;
    self->max_in_flight = max_in_flight;
    //  Both tables stay untouched beyond the most calls ever in flight at
    //  once: calloc's zero pages are not resident until written, so the
    //  gateway's five tables of 16,384 slots (4 MiB) cost what a load
    //  uses (the slots of a few hundred calls), not their bound. A slot
    //  is taken from the freed ones first, then from the fresh ones.
    self->slots = calloc (max_in_flight, sizeof (slot_t));
    self->heap = calloc (max_in_flight, sizeof (uint32_t));
    assert (self->slots && self->heap);
    self->free_head = max_in_flight;
    self->fresh = 0;
    self->scratch = ts_arena_new ();
    self->out = ts_batch_new (false);
    self->out_id = BATCH_BIT | 1;
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    self->watch = ts_zwatch_new (loop, zsock, s_on_readable, self);
    assert (self->watch);
    ts_zwatch_set_flush (self->watch, s_on_flush);
    s_monitor_start (self);
    uv_timer_init (loop, &self->deadline_timer);
    self->deadline_timer.data = self;
    return self;
}

static void
s_free_on_close (uv_handle_t *handle)
{
    free (handle->data);
}

void
ts_rpc_destroy (ts_rpc **self_p)
{
    assert (self_p);
    ts_rpc *self = *self_p;
    if (!self)
        return;
    assert (self->magic == RPC_MAGIC);
    s_fail_all (self, "client closed");
    ts_zwatch_destroy (&self->watch);
    int linger_ms = 0;
    if (self->monitor) {
        ts_zwatch_destroy (&self->monitor_watch);
        zmq_socket_monitor (self->zsock, NULL, 0);
        zmq_setsockopt (self->monitor, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
        zmq_close (self->monitor);
    }
    zmq_setsockopt (self->zsock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_close (self->zsock);
    ts_arena_destroy (&self->scratch);
    ts_batch_destroy (&self->out);
    free (self->slots);
    free (self->heap);
    self->magic = 0;
    //  The timer handle lives inside self: free self when libuv is done.
    uv_timer_stop (&self->deadline_timer);
    self->deadline_timer.data = self;
    uv_close ((uv_handle_t *) &self->deadline_timer, s_free_on_close);
    *self_p = NULL;
}

//  The envelope of a call: method, caller, body, the request's meta and
//  its deadline.
static void
s_envelope (Tashan__Request *req, uint64_t corr_id, const char *method,
            const Tashan__Caller *caller, const ts_rpc_meta *meta,
            const uint8_t *body, size_t body_size, uint32_t timeout_ms)
{
    static Tashan__Caller none = TASHAN__CALLER__INIT;
    req->corr_id = corr_id;
    req->method = (char *) method;
    req->caller = (Tashan__Caller *) (caller ? caller : &none);
    req->body.data = (uint8_t *) body;
    req->body.len = body_size;
    //  Unix ms, not uv_now: the daemon compares it with its own clock.
    req->deadline_ms = ts_time_now_ms () + timeout_ms;
    if (meta && meta->request_id)
        req->request_id = (char *) meta->request_id;
    if (meta && meta->idempotency_key)
        req->idempotency_key = (char *) meta->idempotency_key;
}

int
ts_rpc_call (ts_rpc *self, const char *method, const Tashan__Caller *caller,
             const uint8_t *body, size_t body_size, uint32_t timeout_ms,
             ts_rpc_fn fn, void *arg)
{
    return ts_rpc_call_meta (self, method, caller, NULL, body, body_size, timeout_ms,
                             fn, arg);
}

int
ts_rpc_call_meta (ts_rpc *self, const char *method, const Tashan__Caller *caller,
                  const ts_rpc_meta *meta, const uint8_t *body, size_t body_size,
                  uint32_t timeout_ms, ts_rpc_fn fn, void *arg)
{
    assert (self && self->magic == RPC_MAGIC);
    assert (method && fn);
    //  A full batch leaves first (bounded in count and bytes; the envelope
    //  and meta take well under 1 KiB), before a slot is picked: a failed
    //  send's callbacks may make calls of their own.
    if (ts_batch_full (self->out, body_size + 1024))
        s_flush (self);
    if (self->free_head >= self->max_in_flight && self->fresh >= self->max_in_flight) {
        self->errors++;
        fn (arg, TS_UNAVAILABLE, "too many requests in flight", NULL, 0);
        return 0;
    }
    uint32_t index;
    if (self->free_head < self->max_in_flight) {
        index = self->free_head;
        self->free_head = self->slots [index].next_free;
    }
    else {
        index = self->fresh++;
        self->slots [index].heap_pos = HEAP_NONE;
    }
    slot_t *slot = &self->slots [index];
    assert (slot->corr_id == 0 && slot->heap_pos == HEAP_NONE);
    uint64_t corr_id = (++self->generation << 16) | index;
    Tashan__Request req = TASHAN__REQUEST__INIT;
    s_envelope (&req, corr_id, method, caller, meta, body, body_size, timeout_ms);
    slot->corr_id = corr_id;
    slot->deadline_ms = uv_now (self->loop) + timeout_ms + TS_RPC_DEADLINE_GRACE_MS;
    slot->fn = fn;
    slot->arg = arg;
    slot->batch_id = self->out_id;
    s_heap_push (self, index);
    ts_batch_add (self->out, &req.base);
    s_arm_timer (self);
    if (ts_batch_full (self->out, 0))
        s_flush (self);
    return 0;
}

int
ts_rpc_call_msg (ts_rpc *self, const char *method, const Tashan__Caller *caller,
                 const ProtobufCMessage *request, uint32_t timeout_ms,
                 ts_rpc_fn fn, void *arg)
{
    size_t size = protobuf_c_message_get_packed_size (request);
    uint8_t stack_buf [4096];
    uint8_t *buf = size <= sizeof stack_buf ? stack_buf : malloc (size);
    assert (buf);
    protobuf_c_message_pack (request, buf);
    int rc = ts_rpc_call (self, method, caller, buf, size, timeout_ms, fn, arg);
    if (buf != stack_buf)
        free (buf);
    return rc;
}

uint32_t
ts_rpc_in_flight (ts_rpc *self)
{
    return self->in_flight;
}

uint32_t
ts_rpc_slots_used (ts_rpc *self)
{
    assert (self && self->magic == RPC_MAGIC);
    return self->fresh;
}

uint64_t
ts_rpc_errors (ts_rpc *self)
{
    return self->errors;
}

//  --------------------------------------------------------------------
//  Blocking call for tools and benchmarks

unsigned
ts_rpc_call_sync (const char *endpoint, const ts_config *cfg, const char *method,
                  const Tashan__Caller *caller, const ProtobufCMessage *request,
                  const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena,
                  ProtobufCMessage **reply, char *message, size_t message_size,
                  uint32_t timeout_ms)
{
    char err [256];
    if (reply)
        *reply = NULL;
    //  Not immediate: the connect is asynchronous and a tool calls at once.
    void *sock = ts_zmq_dealer (endpoint, cfg, false, err, sizeof err);
    if (!sock) {
        snprintf (message, message_size, "%s", err);
        return TS_UNAVAILABLE;
    }
    Tashan__Request req = TASHAN__REQUEST__INIT;
    size_t body_size = protobuf_c_message_get_packed_size (request);
    uint8_t *body = ts_arena_alloc (arena, body_size ? body_size : 1);
    protobuf_c_message_pack (request, body);
    s_envelope (&req, 1, method, caller, NULL, body, body_size, timeout_ms);
    size_t size = protobuf_c_message_get_packed_size (&req.base);
    uint8_t *buf = ts_arena_alloc (arena, size);
    protobuf_c_message_pack (&req.base, buf);
    unsigned code = TS_UNAVAILABLE;
    snprintf (message, message_size, "no reply from %s within %u ms", endpoint, timeout_ms);
    if (zmq_send (sock, buf, size, 0) == (int) size) {
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) timeout_ms + TS_RPC_DEADLINE_GRACE_MS) == 1) {
            zmq_msg_t msg;
            zmq_msg_init (&msg);
            if (zmq_msg_recv (&msg, sock, 0) >= 0) {
                Tashan__Reply *rep = (Tashan__Reply *) protobuf_c_message_unpack (
                    &tashan__reply__descriptor, ts_arena_pb (arena),
                    zmq_msg_size (&msg), zmq_msg_data (&msg));
                if (!rep || !rep->status) {
                    code = TS_INTERNAL;
                    snprintf (message, message_size, "malformed reply");
                }
                else {
                    code = rep->status->code;
                    snprintf (message, message_size, "%s", rep->status->message);
                    if (code < 400 && reply && reply_desc) {
                        *reply = protobuf_c_message_unpack (reply_desc, ts_arena_pb (arena),
                                                            rep->body.len, rep->body.data);
                        if (!*reply) {
                            code = TS_INTERNAL;
                            snprintf (message, message_size, "malformed reply body");
                        }
                    }
                }
            }
            zmq_msg_close (&msg);
        }
    }
    int linger_ms = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_close (sock);
    return code;
}
