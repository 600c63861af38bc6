/*  test_ts_rpc - the RPC client against a real ZeroMQ ROUTER (inproc, or
    ipc in a temp dir where a disconnect must be seen): replies reach their
    callers, deadlines expire in deadline order, a late reply to a reused
    slot is dropped, the in-flight bound answers 503, a lost connection and
    destroy fail what is in flight, and a flood of replies is read over
    several bounded turns. Batches (ts_batch.h): the calls of one loop turn
    leave as one message, a full batch leaves at once, a ReplyBatch reaches
    each call, and a batch refused whole fails each of its calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "test_fixture.h"
#include "ts_batch.h"
#include "ts_log.h"
#include "ts_rpc.h"
#include "ts_status.h"
#include "ts_zmq.h"

#define CALLS_MAX 1024

//  What one call's callback saw.
typedef struct {
    int calls;                      //  times the callback ran (must be 1)
    unsigned code;
    char message [128];
    char body [64];                 //  reply body as text
    uint64_t at_ms;                 //  uv_now when it ran
} outcome_t;

//  A request as the ROUTER received it.
typedef struct {
    uint8_t identity [256];
    size_t identity_size;
    uint64_t corr_id;
    uint64_t batch_corr_id;         //  the sys.Batch it came in, 0 alone
} got_t;

typedef struct {
    uv_loop_t loop;
    void *router;
    ts_rpc *rpc;
    char dir [TEST_DIR_MAX];
    char endpoint [TEST_DIR_MAX + 32];
    outcome_t out [CALLS_MAX];
    got_t got [CALLS_MAX];
    size_t got_count;
    size_t messages;                //  messages the ROUTER received
} fx_t;

static fx_t *s_fx;                  //  for the callback's clock

static void
s_on_reply (void *arg, unsigned code, const char *message, const uint8_t *body,
            size_t body_size)
{
    outcome_t *o = arg;
    o->calls++;
    o->code = code;
    snprintf (o->message, sizeof o->message, "%s", message ? message : "");
    snprintf (o->body, sizeof o->body, "%.*s", (int) body_size, body ? (const char *) body : "");
    o->at_ms = uv_now (&s_fx->loop);
}

//  Bind the ROUTER (on the runtime's context, as the DEALER) and connect
//  an RPC client with room for max_in_flight calls.
static void
s_open (fx_t *f, const char *endpoint, uint32_t max_in_flight)
{
    snprintf (f->endpoint, sizeof f->endpoint, "%s", endpoint);
    f->router = zmq_socket (ts_zmq_ctx (), ZMQ_ROUTER);
    assert_non_null (f->router);
    int linger = 0;
    zmq_setsockopt (f->router, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal (zmq_bind (f->router, endpoint), 0);
    f->rpc = ts_rpc_new (&f->loop, endpoint, NULL, max_in_flight);
    assert_non_null (f->rpc);
}

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    assert_int_equal (uv_loop_init (&f->loop), 0);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "rpc"), 0);
    s_fx = f;
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    ts_rpc_destroy (&f->rpc);
    if (f->router)
        zmq_close (f->router);
    //  Let libuv run the close callbacks: then nothing may be left open.
    uv_run (&f->loop, UV_RUN_NOWAIT);
    assert_int_equal (uv_loop_close (&f->loop), 0);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  One request as got, from identity.
static void
s_got (fx_t *f, const uint8_t *identity, size_t identity_size, uint64_t corr_id,
       uint64_t batch_corr_id)
{
    assert_true (f->got_count < CALLS_MAX);
    got_t *g = &f->got [f->got_count++];
    memcpy (g->identity, identity, identity_size);
    g->identity_size = identity_size;
    g->corr_id = corr_id;
    g->batch_corr_id = batch_corr_id;
}

//  Requests waiting at the ROUTER go into f->got (a batch's entries one
//  by one).
static void
s_router_drain (fx_t *f)
{
    for (int i = 0; i < CALLS_MAX && f->got_count < CALLS_MAX; i++) {
        uint8_t identity [256];
        int size = zmq_recv (f->router, identity, sizeof identity, ZMQ_DONTWAIT);
        if (size < 0)
            return;
        f->messages++;
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        assert_true (zmq_msg_recv (&msg, f->router, 0) > 0);
        ts_arena *arena = ts_arena_new ();
        Tashan__Request *req = (Tashan__Request *) protobuf_c_message_unpack (
            &tashan__request__descriptor, ts_arena_pb (arena), zmq_msg_size (&msg),
            zmq_msg_data (&msg));
        assert_non_null (req);
        if (strcmp (req->method, TS_BATCH_METHOD) == 0) {
            Tashan__RequestBatch *batch;
            const char *why;
            assert_int_equal (ts_batch_requests (req, arena, &batch, &why), 0);
            for (size_t e = 0; e < batch->n_requests; e++)
                s_got (f, identity, (size_t) size, batch->requests [e]->corr_id, req->corr_id);
        }
        else
            s_got (f, identity, (size_t) size, req->corr_id, 0);
        ts_arena_destroy (&arena);
        zmq_msg_close (&msg);
    }
}

//  Answer the request g with corr_id (its own, or another to fake a
//  stray reply), code and body text.
static void
s_router_reply (fx_t *f, const got_t *g, uint64_t corr_id, unsigned code, const char *body)
{
    Tashan__Status status = TASHAN__STATUS__INIT;
    status.code = code;
    status.message = "";
    Tashan__Reply rep = TASHAN__REPLY__INIT;
    rep.corr_id = corr_id;
    rep.status = &status;
    rep.body.data = (uint8_t *) body;
    rep.body.len = strlen (body);
    uint8_t buf [256];
    size_t len = tashan__reply__pack (&rep, buf);
    assert_int_equal (zmq_send (f->router, g->identity, g->identity_size, ZMQ_SNDMORE),
                      (int) g->identity_size);
    assert_int_equal (zmq_send (f->router, buf, len, 0), (int) len);
}

//  Run the loop (serving the ROUTER between turns) until done () or
//  max_ms passed.
static void
s_run_until (fx_t *f, bool (*done) (fx_t *, void *), void *arg, int max_ms)
{
    uint64_t start_ns = uv_hrtime ();
    while (!done (f, arg) && (uv_hrtime () - start_ns) / 1000000 < (uint64_t) max_ms) {
        uv_run (&f->loop, UV_RUN_NOWAIT);
        s_router_drain (f);
        usleep (500);
    }
}

static bool
s_got_at_least (fx_t *f, void *arg)
{
    return f->got_count >= *(size_t *) arg;
}

static bool
s_outcomes_at_least (fx_t *f, void *arg)
{
    size_t want = *(size_t *) arg, done = 0;
    for (size_t i = 0; i < CALLS_MAX; i++)
        done += f->out [i].calls > 0;
    return done >= want;
}

static void
s_call (fx_t *f, size_t i, uint32_t timeout_ms)
{
    static const uint8_t body [] = "ping";
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = "system";
    assert_int_equal (ts_rpc_call (f->rpc, "test.Ping", &caller, body, sizeof body - 1,
                                   timeout_ms, s_on_reply, &f->out [i]), 0);
}

//  --------------------------------------------------------------------

static void
test_reply_reaches_its_caller (void **state)
{
    fx_t *f = *state;
    s_open (f, "inproc://test-rpc-reply", 8);
    s_call (f, 0, 2000);
    s_call (f, 1, 2000);
    assert_int_equal (ts_rpc_in_flight (f->rpc), 2);
    size_t want = 2;
    s_run_until (f, s_got_at_least, &want, 2000);
    assert_int_equal (f->got_count, 2);
    //  Answer out of order: each reply finds its own call.
    s_router_reply (f, &f->got [1], f->got [1].corr_id, TS_OK, "second");
    s_router_reply (f, &f->got [0], f->got [0].corr_id, TS_CREATED, "first");
    s_run_until (f, s_outcomes_at_least, &want, 2000);
    assert_int_equal (f->out [0].calls, 1);
    assert_int_equal (f->out [0].code, TS_CREATED);
    assert_string_equal (f->out [0].body, "first");
    assert_int_equal (f->out [1].code, TS_OK);
    assert_string_equal (f->out [1].body, "second");
    assert_int_equal (ts_rpc_in_flight (f->rpc), 0);
    assert_int_equal (ts_rpc_errors (f->rpc), 0);
}

static void
test_deadlines_expire_in_order (void **state)
{
    fx_t *f = *state;
    s_open (f, "inproc://test-rpc-deadline", 8);
    uint64_t start_ms = uv_now (&f->loop);
    s_call (f, 0, 300);
    s_call (f, 1, 50);
    s_call (f, 2, 150);
    size_t want = 3;
    s_run_until (f, s_outcomes_at_least, &want, 3000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (f->out [i].calls, 1);
        assert_int_equal (f->out [i].code, TS_TIMEOUT);
    }
    assert_string_equal (f->out [1].message, "no reply before the deadline");
    //  Earliest deadline first, none before its time.
    assert_true (f->out [1].at_ms <= f->out [2].at_ms);
    assert_true (f->out [2].at_ms <= f->out [0].at_ms);
    assert_true (f->out [1].at_ms >= start_ms + 50);
    assert_true (f->out [2].at_ms >= start_ms + 150);
    assert_true (f->out [0].at_ms >= start_ms + 300);
    assert_int_equal (ts_rpc_in_flight (f->rpc), 0);
    assert_int_equal (ts_rpc_errors (f->rpc), 3);
}

static void
test_late_reply_to_reused_slot_is_dropped (void **state)
{
    fx_t *f = *state;
    s_open (f, "inproc://test-rpc-late", 1);
    s_call (f, 0, 30);
    size_t want = 1;
    s_run_until (f, s_outcomes_at_least, &want, 2000);
    assert_int_equal (f->out [0].code, TS_TIMEOUT);
    //  The one slot is free again: the next call reuses it.
    s_call (f, 1, 2000);
    want = 2;
    s_run_until (f, s_got_at_least, &want, 2000);
    assert_int_equal (f->got_count, 2);
    uint64_t late = f->got [0].corr_id, fresh = f->got [1].corr_id;
    assert_true ((late & 0xffff) == (fresh & 0xffff));
    assert_true (late != fresh);
    //  The late answer to the first call arrives first: dropped.
    s_router_reply (f, &f->got [0], late, TS_OK, "late");
    s_router_reply (f, &f->got [1], fresh, TS_OK, "fresh");
    s_run_until (f, s_outcomes_at_least, &want, 2000);
    assert_int_equal (f->out [0].calls, 1);
    assert_int_equal (f->out [0].code, TS_TIMEOUT);
    assert_int_equal (f->out [1].calls, 1);
    assert_int_equal (f->out [1].code, TS_OK);
    assert_string_equal (f->out [1].body, "fresh");
    assert_int_equal (ts_rpc_in_flight (f->rpc), 0);
}

static void
test_in_flight_bound (void **state)
{
    fx_t *f = *state;
    s_open (f, "inproc://test-rpc-bound", 2);
    s_call (f, 0, 2000);
    s_call (f, 1, 2000);
    //  Full: the third is answered at once, before ts_rpc_call returns.
    s_call (f, 2, 2000);
    assert_int_equal (f->out [2].calls, 1);
    assert_int_equal (f->out [2].code, TS_UNAVAILABLE);
    assert_string_equal (f->out [2].message, "too many requests in flight");
    assert_int_equal (ts_rpc_in_flight (f->rpc), 2);
    assert_int_equal (ts_rpc_errors (f->rpc), 1);
    size_t want = 2;
    s_run_until (f, s_got_at_least, &want, 2000);
    s_router_reply (f, &f->got [0], f->got [0].corr_id, TS_OK, "a");
    size_t done = 2;
    s_run_until (f, s_outcomes_at_least, &done, 2000);
    assert_int_equal (f->out [0].code, TS_OK);
    //  Room again, in the slot just freed: no third slot is touched.
    s_call (f, 3, 2000);
    assert_int_equal (f->out [3].calls, 0);
    assert_int_equal (ts_rpc_in_flight (f->rpc), 2);
    assert_int_equal (ts_rpc_slots_used (f->rpc), 2);
}

//  A call that fails with "service unreachable" is retried until the ipc
//  connection is up (ZMQ_IMMEDIATE refuses sends before).
static void
s_call_when_connected (fx_t *f, size_t i, uint32_t timeout_ms)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        memset (&f->out [i], 0, sizeof f->out [i]);
        s_call (f, i, timeout_ms);
        uv_run (&f->loop, UV_RUN_NOWAIT);   //  sent when the turn ends
        if (f->out [i].calls == 0)
            return;
        assert_string_equal (f->out [i].message, "service unreachable");
        uv_run (&f->loop, UV_RUN_NOWAIT);
        usleep (10 * 1000);
    }
    fail_msg ("never connected to %s", f->endpoint);
}

static void
test_disconnect_fails_in_flight (void **state)
{
    fx_t *f = *state;
    char endpoint [TEST_DIR_MAX + 32];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/rpc.sock", f->dir);
    s_open (f, endpoint, 4);
    s_call_when_connected (f, 0, 10000);
    s_call (f, 1, 10000);
    size_t want = 2;
    s_run_until (f, s_got_at_least, &want, 2000);
    assert_int_equal (f->got_count, 2);
    //  The daemon goes away with both calls unanswered.
    uint64_t start_ms = uv_now (&f->loop);
    zmq_close (f->router);
    f->router = NULL;
    s_run_until (f, s_outcomes_at_least, &want, 5000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal (f->out [i].calls, 1);
        assert_int_equal (f->out [i].code, TS_UNAVAILABLE);
        assert_string_equal (f->out [i].message, "connection to the service was lost");
        assert_true (f->out [i].at_ms < start_ms + 5000);    //  long before the deadline
    }
    assert_int_equal (ts_rpc_in_flight (f->rpc), 0);
}

static void
test_destroy_fails_in_flight (void **state)
{
    fx_t *f = *state;
    s_open (f, "inproc://test-rpc-destroy", 4);
    s_call (f, 0, 10000);
    s_call (f, 1, 10000);
    ts_rpc_destroy (&f->rpc);
    assert_null (f->rpc);
    for (int i = 0; i < 2; i++) {
        assert_int_equal (f->out [i].calls, 1);
        assert_int_equal (f->out [i].code, TS_UNAVAILABLE);
        assert_string_equal (f->out [i].message, "client closed");
    }
}

static void
test_flood_read_over_bounded_turns (void **state)
{
    fx_t *f = *state;
    //  More replies than one turn reads (TS_BATCH_MAX): the rest must
    //  come on later turns without new traffic.
    size_t n = 900;
    s_open (f, "inproc://test-rpc-flood", 1024);
    for (size_t i = 0; i < n; i++)
        s_call (f, i, 5000);
    s_run_until (f, s_got_at_least, &n, 3000);
    assert_int_equal (f->got_count, n);
    for (size_t i = 0; i < n; i++)
        s_router_reply (f, &f->got [i], f->got [i].corr_id, TS_OK, "x");
    s_run_until (f, s_outcomes_at_least, &n, 3000);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal (f->out [i].calls, 1);
        assert_int_equal (f->out [i].code, TS_OK);
    }
    assert_int_equal (ts_rpc_in_flight (f->rpc), 0);
}

//  Answer the requests got [from, to) in one ReplyBatch (last first),
//  under corr_id, each with its index as body.
static void
s_router_reply_batch (fx_t *f, size_t from, size_t to, uint64_t corr_id)
{
    ts_batch *replies = ts_batch_new (true);
    for (size_t i = to; i-- > from; ) {
        char body [16];
        snprintf (body, sizeof body, "%zu", i);
        Tashan__Status status = TASHAN__STATUS__INIT;
        status.code = TS_OK;
        status.message = "";
        Tashan__Reply rep = TASHAN__REPLY__INIT;
        rep.corr_id = f->got [i].corr_id;
        rep.status = &status;
        rep.body.data = (uint8_t *) body;
        rep.body.len = strlen (body);
        ts_batch_add (replies, &rep.base);
    }
    size_t size = ts_batch_sealed_size (replies, corr_id);
    zmq_msg_t msg;
    zmq_msg_init_size (&msg, size);
    ts_batch_seal (replies, corr_id, zmq_msg_data (&msg));
    assert_int_equal (zmq_send (f->router, f->got [from].identity, f->got [from].identity_size,
                                ZMQ_SNDMORE), (int) f->got [from].identity_size);
    assert_true (zmq_msg_send (&msg, f->router, 0) >= 0);
    ts_batch_destroy (&replies);
}

static void
test_calls_of_one_turn_leave_as_one_batch (void **state)
{
    fx_t *f = *state;
    s_open (f, "inproc://test-rpc-batch", 64);
    for (size_t i = 0; i < 10; i++)
        s_call (f, i, 2000);
    //  Nothing leaves before the loop turn ends.
    s_router_drain (f);
    assert_int_equal (f->got_count, 0);
    size_t want = 10;
    s_run_until (f, s_got_at_least, &want, 2000);
    assert_int_equal (f->got_count, 10);
    assert_int_equal (f->messages, 1);
    assert_true (f->got [0].batch_corr_id != 0);
    //  Nine answered in one ReplyBatch (out of order), one alone.
    s_router_reply_batch (f, 1, 10, f->got [0].batch_corr_id);
    s_router_reply (f, &f->got [0], f->got [0].corr_id, TS_CREATED, "alone");
    s_run_until (f, s_outcomes_at_least, &want, 2000);
    for (size_t i = 1; i < 10; i++) {
        char body [16];
        snprintf (body, sizeof body, "%zu", i);
        assert_int_equal (f->out [i].calls, 1);
        assert_int_equal (f->out [i].code, TS_OK);
        assert_string_equal (f->out [i].body, body);
    }
    assert_int_equal (f->out [0].code, TS_CREATED);
    assert_int_equal (ts_rpc_in_flight (f->rpc), 0);
    //  A call alone in its turn leaves as a plain Request.
    s_call (f, 10, 2000);
    want = 11;
    s_run_until (f, s_got_at_least, &want, 2000);
    assert_int_equal (f->messages, 2);
    assert_int_equal (f->got [10].batch_corr_id, 0);
}

static void
test_full_batch_leaves_at_once (void **state)
{
    fx_t *f = *state;
    s_open (f, "inproc://test-rpc-full", 1024);
    for (size_t i = 0; i < TS_BATCH_MAX + 1; i++)
        s_call (f, i, 5000);
    //  The first TS_BATCH_MAX left when the batch filled, in one message.
    for (int i = 0; i < 200 && f->got_count < TS_BATCH_MAX; i++) {
        s_router_drain (f);
        usleep (1000);
    }
    assert_int_equal (f->got_count, TS_BATCH_MAX);
    assert_int_equal (f->messages, 1);
    size_t want = TS_BATCH_MAX + 1;
    s_run_until (f, s_got_at_least, &want, 2000);
    assert_int_equal (f->messages, 2);
    assert_int_equal (f->got [TS_BATCH_MAX].batch_corr_id, 0);
}

static void
test_batch_refused_whole_fails_its_calls (void **state)
{
    fx_t *f = *state;
    s_open (f, "inproc://test-rpc-refused", 64);
    for (size_t i = 0; i < 3; i++)
        s_call (f, i, 5000);
    size_t want = 3;
    s_run_until (f, s_got_at_least, &want, 2000);
    s_call (f, 3, 5000);            //  another batch: not touched
    want = 4;
    s_run_until (f, s_got_at_least, &want, 2000);
    s_router_reply (f, &f->got [0], f->got [0].batch_corr_id, TS_BAD_REQUEST, "no");
    want = 3;
    s_run_until (f, s_outcomes_at_least, &want, 2000);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (f->out [i].calls, 1);
        assert_int_equal (f->out [i].code, TS_BAD_REQUEST);
    }
    assert_int_equal (f->out [3].calls, 0);
    assert_int_equal (ts_rpc_in_flight (f->rpc), 1);
}

static int
s_group_teardown (void **state)
{
    (void) state;
    ts_zmq_term ();
    return 0;
}

int
main (void)
{
    ts_log_init ("test", TS_LOG_ERROR);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        T (test_reply_reaches_its_caller),
        T (test_deadlines_expire_in_order),
        T (test_late_reply_to_reused_slot_is_dropped),
        T (test_in_flight_bound),
        T (test_disconnect_fails_in_flight),
        T (test_destroy_fails_in_flight),
        T (test_flood_read_over_bounded_turns),
        T (test_calls_of_one_turn_leave_as_one_batch),
        T (test_full_batch_leaves_at_once),
        T (test_batch_refused_whole_fails_its_calls),
    };
    return cmocka_run_group_tests (tests, NULL, s_group_teardown);
}
