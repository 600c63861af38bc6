/*  test_ts_dispatch - the request and event path without sockets, driven
    through a small service declared here: a table, an idempotent write
    that emits an event, a write that fails after writing, reads, role
    masks, and a subscription with a good and a poison topic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ts_dispatch.h"
#include "crashtest.pb-c.h"

#define BIG_VALUE_BYTES (100 * 1024)

//  --------------------------------------------------------------------
//  The test service

static int s_open_calls;            //  how often open() ran
static bool s_open_saw_write;       //  its txn was writable
static int s_state_token;           //  what open() sets as state

static ts_table
s_items (ts_ctx *ctx)
{
    return ts_store_table (ts_dispatch_store (ctx->dispatch), "items");
}

static unsigned
s_open (ts_ctx *ctx, void **state)
{
    s_open_calls++;
    s_open_saw_write = ts_txn_writable (ctx->txn);
    ts_txn_insert (ctx->txn, s_items (ctx), "seed", 4, "s", 1);
    *state = &s_state_token;
    return TS_OK;
}

static unsigned
s_emit (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    size_t key_size = strlen (req->key);
    if (key_size > 100)             //  idempotency keys go to 1,000 chars
        key_size = 100;
    ts_txn_put (ctx->txn, s_items (ctx), req->key, key_size, "e", 1);
    ts_emit (ctx, "test.emitted", &req->base);
    rep->seq = ctx->last_event_seq;
    return TS_CREATED;
}

static unsigned
s_emit_fail (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    ts_txn_put (ctx->txn, s_items (ctx), req->key, strlen (req->key), "f", 1);
    ts_emit (ctx, "test.failed", &req->base);
    rep->seq = 99;
    return ts_fail (ctx, TS_UNPROCESSABLE, "nope %s", req->key);
}

static unsigned
s_get (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    ts_val v;
    if (!ts_txn_get (ctx->txn, s_items (ctx), req->key, strlen (req->key), &v))
        return ts_fail (ctx, TS_NOT_FOUND, "no item %s", req->key);
    rep->seq = v.size;
    return TS_OK;
}

static unsigned
s_now (ts_ctx *ctx, const void *req_, void *rep_)
{
    (void) req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    rep->seq = (uint64_t) ctx->now_ms;
    return TS_OK;
}

static unsigned
s_state (ts_ctx *ctx, const void *req_, void *rep_)
{
    (void) req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    rep->seq = ctx->state == &s_state_token ? 1 : 0;
    return TS_OK;
}

static unsigned
s_big (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    uint8_t *value = ts_arena_alloc (ctx->arena, BIG_VALUE_BYTES);
    memset (value, req->key [0], BIG_VALUE_BYTES);
    ts_txn_put (ctx->txn, s_items (ctx), req->key, strlen (req->key), value, BIG_VALUE_BYTES);
    ts_emit (ctx, "test.big", &req->base);
    rep->seq = ctx->last_event_seq;
    return TS_CREATED;
}

static unsigned
s_apply (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    (void) event;
    const Tashan__Crashtest__EmitRequest *p = payload;
    ts_key k;
    ts_key_init (&k);
    ts_key_bytes (&k, "applied:", 8);
    ts_key_bytes (&k, p->key, strlen (p->key));
    ts_txn_add_i64 (ctx->txn, s_items (ctx), k.data, k.size, 1);
    return TS_OK;
}

static unsigned
s_poison (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    (void) payload;
    (void) event;
    ts_txn_put (ctx->txn, s_items (ctx), "poisoned", 8, "p", 1);
    return ts_fail (ctx, TS_UNPROCESSABLE, "poison");
}

static unsigned
s_apply_big (ts_ctx *ctx, const void *payload, const Tashan__Event *event)
{
    (void) event;
    const Tashan__Crashtest__EmitRequest *p = payload;
    uint8_t *value = ts_arena_alloc (ctx->arena, BIG_VALUE_BYTES);
    memset (value, p->key [0], BIG_VALUE_BYTES);
    ts_txn_put (ctx->txn, s_items (ctx), p->key, strlen (p->key), value, BIG_VALUE_BYTES);
    return TS_OK;
}

//  A write without a key field of its own: counts how often it ran.
static unsigned
s_put (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    ts_txn_add_i64 (ctx->txn, s_items (ctx), req->key, strlen (req->key), 1);
    rep->seq = ts_txn_get_u64 (ctx->txn, s_items (ctx), req->key, strlen (req->key), 0);
    return TS_CREATED;
}

//  A write that takes a second (on the frozen clock): later jobs of its
//  batch reach the commit after their deadline.
static unsigned
s_slow (ts_ctx *ctx, const void *req_, void *rep_)
{
    ts_dispatch_set_now (ctx->dispatch, ts_dispatch_now (ctx->dispatch) + 1000);
    return s_put (ctx, req_, rep_);
}

static const ts_table_def s_tables [] = { { "items", 0 } };

#define REQ &tashan__crashtest__emit_request__descriptor
#define REP &tashan__crashtest__emit_reply__descriptor
static const ts_method s_methods [] = {
    { "dt.Emit", REQ, REP, s_emit, TS_METHOD_WRITE,
      TS_ROLE_OPS | TS_ROLE_SCHOOL | TS_ROLE_SYSTEM, "key" },
    { "dt.EmitFail", REQ, REP, s_emit_fail, TS_METHOD_WRITE, TS_ROLE_ANY, NULL },
    //  The same two, run flat (in the batch's own transaction).
    { "dt.FlatEmit", REQ, REP, s_emit, TS_METHOD_WRITE | TS_METHOD_FLAT, TS_ROLE_ANY, "key" },
    { "dt.FlatFail", REQ, REP, s_emit_fail, TS_METHOD_WRITE | TS_METHOD_FLAT, TS_ROLE_ANY,
      NULL },
    { "dt.Get", REQ, REP, s_get, TS_METHOD_READ, TS_ROLE_ANY, NULL },
    { "dt.Now", REQ, REP, s_now, TS_METHOD_READ, TS_ROLE_ANY, NULL },
    { "dt.State", REQ, REP, s_state, TS_METHOD_READ, TS_ROLE_ANY, NULL },
    { "dt.Big", REQ, REP, s_big, TS_METHOD_WRITE, TS_ROLE_ANY, NULL },
    { "dt.Put", REQ, REP, s_put, TS_METHOD_WRITE, TS_ROLE_ANY, NULL },
    { "dt.Slow", REQ, REP, s_slow, TS_METHOD_WRITE, TS_ROLE_ANY, NULL },
};

static const ts_topic_handler s_topics [] = {
    { "test.apply", REQ, s_apply },
    { "test.poison", REQ, s_poison },
    { "test.big", REQ, s_apply_big },
};
static const ts_subscription s_subs [] = { { "prod", s_topics, 3 } };

static const ts_service s_service = {
    .name = "dt",
    .summary = "dispatch test service",
    .schema_version = 1,
    .tables = s_tables,
    .table_count = 1,
    .methods = s_methods,
    .method_count = sizeof s_methods / sizeof s_methods [0],
    .subscriptions = s_subs,
    .subscription_count = 1,
    .open = s_open,
};

//  A service whose open() refuses to start.
static unsigned
s_open_refuses (ts_ctx *ctx, void **state)
{
    (void) state;
    ts_table items = ts_store_table (ts_txn_store (ctx->txn), "items");
    ts_txn_put (ctx->txn, items, "half", 4, "h", 1);
    return ts_fail (ctx, TS_INTERNAL, "signing key missing");
}

static const ts_service s_refusing_service = {
    .name = "dt",
    .schema_version = 1,
    .tables = s_tables,
    .table_count = 1,
    .methods = s_methods,
    .method_count = 1,
    .open = s_open_refuses,
};

//  --------------------------------------------------------------------
//  Fixture

typedef struct {
    bool finished;                  //  the test ran to its end
    char dir [64];                  //  temp data dir
    ts_dispatch *d;
    ts_arena *arena;
    Tashan__Caller ops;             //  callers
    Tashan__Caller panel;
    char message [256];             //  of the last call
} fx_t;

static void
s_open_dispatch (fx_t *f)
{
    char err [256] = "";
    f->d = ts_dispatch_new (&s_service, f->dir, err, sizeof err);
    if (!f->d)
        fprintf (stderr, "ts_dispatch_new: %s\n", err);
    assert_non_null (f->d);
}

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "dispatch"), 0);
    s_open_calls = 0;
    s_open_saw_write = false;
    s_open_dispatch (f);
    f->arena = ts_arena_new ();
    f->ops = ts_caller ("ops", "", "t1");
    f->panel = ts_caller ("panel", "", "t2");
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    //  A failed assertion may have left a transaction open: then the
    //  store is left alone (closing it would assert and end the run).
    if (f->finished)
        ts_dispatch_destroy (&f->d);
    ts_arena_destroy (&f->arena);
    ts_store_set_initial_map_size ((size_t) 64 * 1024 * 1024);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  Call method with an EmitRequest{key}; *seq_out gets the reply's seq.
static unsigned
s_call (fx_t *f, const char *method, const Tashan__Caller *caller, const char *key,
        uint64_t *seq_out)
{
    Tashan__Crashtest__EmitRequest req = TASHAN__CRASHTEST__EMIT_REQUEST__INIT;
    req.key = (char *) key;
    ProtobufCMessage *rep = NULL;
    f->message [0] = 0;
    unsigned code = ts_dispatch_call (f->d, method, caller, &req.base, f->arena, &rep,
                                      f->message, sizeof f->message);
    if (code < 400) {
        assert_non_null (rep);
        if (seq_out)
            *seq_out = ((Tashan__Crashtest__EmitReply *) rep)->seq;
    }
    else
        assert_null (rep);
    return code;
}

//  A job whose body is a packed EmitRequest{key} (arena memory).
static ts_job
s_job (fx_t *f, const char *method, const Tashan__Caller *caller, const char *key)
{
    Tashan__Crashtest__EmitRequest req = TASHAN__CRASHTEST__EMIT_REQUEST__INIT;
    req.key = (char *) key;
    ts_job job = { 0 };
    job.method = method;
    job.caller = caller;
    job.body_size = protobuf_c_message_get_packed_size (&req.base);
    uint8_t *body = ts_arena_alloc (f->arena, job.body_size + 1);
    protobuf_c_message_pack (&req.base, body);
    job.body = body;
    return job;
}

static size_t
s_events (fx_t *f, uint64_t after, Tashan__Event ***events)
{
    return ts_dispatch_events (f->d, after, 1000, f->arena, events);
}

static const char *
s_event_key (fx_t *f, const Tashan__Event *ev)
{
    Tashan__Crashtest__EmitRequest *p = (Tashan__Crashtest__EmitRequest *)
        protobuf_c_message_unpack (REQ, ts_arena_pb (f->arena), ev->payload.len,
                                   ev->payload.data);
    assert_non_null (p);
    return p->key;
}

static bool
s_item_exists (fx_t *f, const char *key)
{
    ts_store *store = ts_dispatch_store (f->d);
    ts_txn *txn = ts_txn_begin (store, false);
    ts_val v;
    bool found = ts_txn_get (txn, ts_store_table (store, "items"), key, strlen (key), &v);
    int err = ts_txn_error (txn);
    ts_txn_abort (&txn);
    assert_int_equal (err, 0);
    return found;
}

static int64_t
s_applied (fx_t *f, const char *key)
{
    ts_store *store = ts_dispatch_store (f->d);
    ts_txn *txn = ts_txn_begin (store, false);
    ts_key k;
    ts_key_init (&k);
    ts_key_bytes (&k, "applied:", 8);
    ts_key_bytes (&k, key, strlen (key));
    int64_t n = (int64_t) ts_txn_get_u64 (txn, ts_store_table (store, "items"), k.data, k.size, 0);
    int err = ts_txn_error (txn);
    ts_txn_abort (&txn);
    assert_int_equal (err, 0);
    return n;
}

//  An event from "prod" with payload EmitRequest{key}.
static Tashan__Event *
s_event (fx_t *f, uint64_t seq, const char *topic, const char *key)
{
    Tashan__Crashtest__EmitRequest p = TASHAN__CRASHTEST__EMIT_REQUEST__INIT;
    p.key = (char *) key;
    Tashan__Event *ev = ts_arena_alloc (f->arena, sizeof *ev);
    tashan__event__init (ev);
    ev->seq = seq;
    ev->topic = (char *) topic;
    ev->created_ms = 1;
    ev->payload.len = protobuf_c_message_get_packed_size (&p.base);
    ev->payload.data = ts_arena_alloc (f->arena, ev->payload.len + 1);
    protobuf_c_message_pack (&p.base, ev->payload.data);
    return ev;
}

static size_t
s_last_txnid (fx_t *f)
{
    MDB_envinfo info;
    assert_int_equal (mdb_env_info (ts_store_env (ts_dispatch_store (f->d)), &info), 0);
    return info.me_last_txnid;
}

//  --------------------------------------------------------------------
//  Requests

static void
test_first_call_creates_and_emits (void **state)
{
    fx_t *f = *state;
    uint64_t seq = 0;
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "k1", &seq), TS_CREATED);
    assert_int_equal (seq, 1);
    assert_true (s_item_exists (f, "k1"));
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 1);
    assert_int_equal (evs [0]->seq, 1);
    assert_string_equal (evs [0]->topic, "test.emitted");
    assert_string_equal (s_event_key (f, evs [0]), "k1");
    assert_int_equal (ts_dispatch_outbox_head (f->d), 1);
}

static void
test_repeat_same_key_and_body_gives_stored_reply (void **state)
{
    fx_t *f = *state;
    ts_job first = s_job (f, "dt.Emit", &f->ops, "k1");
    assert_int_equal (ts_dispatch_run_batch (f->d, &first, 1, f->arena), 1);
    assert_int_equal (first.code, TS_CREATED);
    assert_true (first.reply_size > 0);
    //  Make the repeat's reply differ if it were run again.
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "other", NULL), TS_CREATED);
    ts_job again = s_job (f, "dt.Emit", &f->ops, "k1");
    ts_dispatch_run_batch (f->d, &again, 1, f->arena);
    assert_int_equal (again.code, TS_OK);
    assert_int_equal (again.reply_size, first.reply_size);
    assert_memory_equal (again.reply, first.reply, first.reply_size);
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 2);    //  k1 and other, no second k1
    assert_string_equal (s_event_key (f, evs [0]), "k1");
    assert_string_equal (s_event_key (f, evs [1]), "other");
    assert_int_equal (ts_dispatch_outbox_head (f->d), 2);
}

static void
test_repeat_survives_reopen (void **state)
{
    fx_t *f = *state;
    uint64_t seq = 0;
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "k1", &seq), TS_CREATED);
    ts_dispatch_destroy (&f->d);
    s_open_dispatch (f);
    uint64_t again = 0;
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "k1", &again), TS_OK);
    assert_int_equal (again, seq);
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 1);
}

static void
test_repeat_in_same_batch_applies_once (void **state)
{
    fx_t *f = *state;
    ts_job jobs [2] = { s_job (f, "dt.Emit", &f->ops, "k1"), s_job (f, "dt.Emit", &f->ops, "k1") };
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, 2, f->arena), 1);
    assert_int_equal (jobs [0].code, TS_CREATED);
    assert_int_equal (jobs [1].code, TS_OK);
    assert_int_equal (jobs [1].reply_size, jobs [0].reply_size);
    assert_memory_equal (jobs [1].reply, jobs [0].reply, jobs [0].reply_size);
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 1);
}

static void
test_same_key_different_body_conflicts (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "k1", NULL), TS_CREATED);
    //  Same key, plus an unknown field 2 (varint 1): another request body.
    ts_job job = s_job (f, "dt.Emit", &f->ops, "k1");
    uint8_t *body = ts_arena_alloc (f->arena, job.body_size + 2);
    memcpy (body, job.body, job.body_size);
    body [job.body_size] = 0x10;
    body [job.body_size + 1] = 0x01;
    job.body = body;
    job.body_size += 2;
    ts_dispatch_run_batch (f->d, &job, 1, f->arena);
    assert_int_equal (job.code, TS_CONFLICT);
    assert_null (job.reply);
    assert_non_null (strstr (job.message, "k1"));
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 1);
}

static void
test_idempotency_is_scoped_by_binding (void **state)
{
    fx_t *f = *state;
    Tashan__Caller s1 = ts_caller ("school", "S1", "t5");
    Tashan__Caller s2 = ts_caller ("school", "S2", "t6");
    assert_int_equal (s_call (f, "dt.Emit", &s1, "k1", NULL), TS_CREATED);
    assert_int_equal (s_call (f, "dt.Emit", &s2, "k1", NULL), TS_CREATED);
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "k1", NULL), TS_CREATED);
    assert_int_equal (s_call (f, "dt.Emit", &s1, "k1", NULL), TS_OK);
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 3);
}

static void
test_empty_key_is_bad_request (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "", NULL), TS_BAD_REQUEST);
    assert_non_null (strstr (f->message, "key"));
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 0);
}

static void
test_overlong_key_is_bad_request (void **state)
{
    fx_t *f = *state;
    char key [1002];
    memset (key, 'k', 1001);
    key [1001] = 0;
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, key, NULL), TS_BAD_REQUEST);
    key [1000] = 0;                 //  1,000 is fine
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, key, NULL), TS_CREATED);
}

static void
test_role_not_allowed_is_forbidden (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_call (f, "dt.Emit", &f->panel, "k1", NULL), TS_FORBIDDEN);
    assert_non_null (strstr (f->message, "panel"));
    Tashan__Caller nobody = ts_caller ("root", "", "x");
    assert_int_equal (s_call (f, "dt.Emit", &nobody, "k1", NULL), TS_FORBIDDEN);
    assert_false (s_item_exists (f, "k1"));
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 0);
    //  The refusal stored nothing: an allowed caller still gets 201.
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "k1", NULL), TS_CREATED);
}

static void
test_unknown_method_is_not_found (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_call (f, "dt.Nope", &f->ops, "k1", NULL), TS_NOT_FOUND);
    assert_non_null (strstr (f->message, "dt.Nope"));
}

static void
test_malformed_body_is_bad_request (void **state)
{
    fx_t *f = *state;
    static const uint8_t bad [] = { 0x0a, 0x05, 'a', 'b' };     //  truncated string
    ts_job job = { 0 };
    job.method = "dt.Emit";
    job.caller = &f->ops;
    job.body = bad;
    job.body_size = sizeof bad;
    ts_dispatch_run_batch (f->d, &job, 1, f->arena);
    assert_int_equal (job.code, TS_BAD_REQUEST);
    assert_null (job.reply);
    assert_int_equal (job.reply_size, 0);
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 0);
}

static void
test_read_method_sees_data_and_fails_cleanly (void **state)
{
    fx_t *f = *state;
    uint64_t size = 0;
    assert_int_equal (s_call (f, "dt.Get", &f->panel, "nothing", NULL), TS_NOT_FOUND);
    assert_string_equal (f->message, "no item nothing");
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "k1", NULL), TS_CREATED);
    assert_int_equal (s_call (f, "dt.Get", &f->panel, "k1", &size), TS_OK);
    assert_int_equal (size, 1);
}

static void
test_read_in_write_batch_sees_earlier_jobs (void **state)
{
    fx_t *f = *state;
    ts_job jobs [3] = {
        s_job (f, "dt.Get", &f->ops, "k1"),
        s_job (f, "dt.Emit", &f->ops, "k1"),
        s_job (f, "dt.Get", &f->ops, "k1"),
    };
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, 3, f->arena), 1);
    assert_int_equal (jobs [0].code, TS_NOT_FOUND);
    assert_int_equal (jobs [1].code, TS_CREATED);
    assert_int_equal (jobs [2].code, TS_OK);
}

static void
test_read_only_batch_makes_no_commit (void **state)
{
    fx_t *f = *state;
    size_t before = s_last_txnid (f);
    ts_job jobs [2] = { s_job (f, "dt.Get", &f->ops, "seed"), s_job (f, "dt.Now", &f->ops, "") };
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, 2, f->arena), 0);
    assert_int_equal (jobs [0].code, TS_OK);
    assert_int_equal (jobs [1].code, TS_OK);
    assert_int_equal (s_last_txnid (f), before);
}

static void
test_failing_handler_rolled_back_others_commit (void **state)
{
    fx_t *f = *state;
    ts_job jobs [3] = {
        s_job (f, "dt.Emit", &f->ops, "k1"),
        s_job (f, "dt.EmitFail", &f->ops, "k2"),
        s_job (f, "dt.Emit", &f->ops, "k3"),
    };
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, 3, f->arena), 1);
    assert_int_equal (jobs [0].code, TS_CREATED);
    assert_int_equal (jobs [1].code, TS_UNPROCESSABLE);
    assert_string_equal (jobs [1].message, "nope k2");
    assert_null (jobs [1].reply);
    assert_int_equal (jobs [2].code, TS_CREATED);
    assert_true (s_item_exists (f, "k1"));
    assert_false (s_item_exists (f, "k2"));
    assert_true (s_item_exists (f, "k3"));
    //  The failed job's event vanished and left no gap in the seqs.
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 2);
    assert_int_equal (evs [0]->seq, 1);
    assert_string_equal (s_event_key (f, evs [0]), "k1");
    assert_int_equal (evs [1]->seq, 2);
    assert_string_equal (s_event_key (f, evs [1]), "k3");
    assert_int_equal (ts_dispatch_outbox_head (f->d), 2);
}

//  A flat job that fails has written into the batch's own transaction:
//  the batch runs again with every job nested, and the outcome is the
//  nested one's (the failed job changed nothing, no gap in the events),
//  still in one commit.
//  Run jobs (created, failed, [a read,] created) on keys <prefix>1..3 as
//  one batch: one commit, the failed job's item absent, the others'
//  present, two events.
static void
s_flat_batch (fx_t *f, ts_job *jobs, size_t job_count, char prefix)
{
    assert_true (job_count == 3 || job_count == 4);
    size_t before = s_last_txnid (f);
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, job_count, f->arena), 1);
    assert_int_equal (s_last_txnid (f), before + 1);
    ts_job *first = &jobs [0], *failed = &jobs [1], *last = &jobs [job_count - 1];
    assert_int_equal (first->code, TS_CREATED);
    assert_int_equal (failed->code, TS_UNPROCESSABLE);
    assert_null (failed->reply);
    assert_int_equal (last->code, TS_CREATED);
    char keys [3][3];
    for (int i = 0; i < 3; i++)
        snprintf (keys [i], sizeof keys [i], "%c%d", prefix, i + 1);
    assert_true (s_item_exists (f, keys [0]));
    assert_false (s_item_exists (f, keys [1]));
    assert_true (s_item_exists (f, keys [2]));
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 2);
    assert_int_equal (ts_dispatch_outbox_head (f->d), 2);
}

static void
test_flat_failure_reruns_nested (void **state)
{
    fx_t *f = *state;
    ts_job jobs [4] = {
        s_job (f, "dt.FlatEmit", &f->ops, "k1"),
        s_job (f, "dt.FlatFail", &f->ops, "k2"),
        s_job (f, "dt.Get", &f->ops, "k1"),
        s_job (f, "dt.FlatEmit", &f->ops, "k3"),
    };
    s_flat_batch (f, jobs, 4, 'k');
    assert_string_equal (jobs [1].message, "nope k2");
    assert_int_equal (jobs [2].code, TS_OK);    //  the read saw k1
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 2);
    assert_string_equal (s_event_key (f, evs [0]), "k1");
    assert_int_equal (evs [1]->seq, 2);
    assert_string_equal (s_event_key (f, evs [1]), "k3");
    //  A flat job's outcome is kept for repeats like a nested one's.
    ts_job again = s_job (f, "dt.FlatEmit", &f->ops, "k1");
    ts_dispatch_run_batch (f->d, &again, 1, f->arena);
    assert_int_equal (again.code, TS_OK);
    assert_int_equal (again.reply_size, jobs [0].reply_size);
    assert_memory_equal (again.reply, jobs [0].reply, jobs [0].reply_size);
    assert_int_equal (s_events (f, 0, &evs), 2);
}

//  Flat jobs that succeed: one commit, each job's writes and events kept,
//  a nested failure between them dropped on its own.
static void
test_flat_jobs_commit_with_the_batch (void **state)
{
    fx_t *f = *state;
    ts_job jobs [3] = {
        s_job (f, "dt.FlatEmit", &f->ops, "a1"),
        s_job (f, "dt.EmitFail", &f->ops, "a2"),
        s_job (f, "dt.FlatEmit", &f->ops, "a3"),
    };
    s_flat_batch (f, jobs, 3, 'a');
    assert_string_equal (jobs [1].message, "nope a2");
}

static void
test_batch_is_one_commit_events_in_order (void **state)
{
    fx_t *f = *state;
    enum { N = 50 };
    ts_job jobs [N];
    char keys [N][8];
    for (int i = 0; i < N; i++) {
        snprintf (keys [i], sizeof keys [i], "k%d", i);
        jobs [i] = s_job (f, "dt.Emit", &f->ops, keys [i]);
    }
    size_t before = s_last_txnid (f);
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, N, f->arena), 1);
    assert_int_equal (s_last_txnid (f), before + 1);
    for (int i = 0; i < N; i++) {
        assert_int_equal (jobs [i].code, TS_CREATED);
        Tashan__Crashtest__EmitReply *rep = tashan__crashtest__emit_reply__unpack (
            ts_arena_pb (f->arena), jobs [i].reply_size, jobs [i].reply);
        assert_non_null (rep);
        assert_int_equal (rep->seq, (uint64_t) i + 1);
    }
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal (evs [i]->seq, (uint64_t) i + 1);
        assert_string_equal (s_event_key (f, evs [i]), keys [i]);
    }
    assert_int_equal (ts_dispatch_outbox_head (f->d), N);
}

static void
test_events_after_and_max (void **state)
{
    fx_t *f = *state;
    char key [8];
    for (int i = 1; i <= 5; i++) {
        snprintf (key, sizeof key, "k%d", i);
        assert_int_equal (s_call (f, "dt.Emit", &f->ops, key, NULL), TS_CREATED);
    }
    Tashan__Event **evs;
    assert_int_equal (ts_dispatch_events (f->d, 2, 2, f->arena, &evs), 2);
    assert_int_equal (evs [0]->seq, 3);
    assert_int_equal (evs [1]->seq, 4);
    assert_int_equal (ts_dispatch_events (f->d, 5, 10, f->arena, &evs), 0);
    assert_int_equal (ts_dispatch_events (f->d, 4, 10, f->arena, &evs), 1);
    assert_int_equal (evs [0]->seq, 5);
}

//  --------------------------------------------------------------------
//  Events applied from a producer

static void
test_apply_same_event_twice_applies_once (void **state)
{
    fx_t *f = *state;
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 0);
    Tashan__Event *ev = s_event (f, 1, "test.apply", "a");
    assert_int_equal (ts_dispatch_apply (f->d, "prod", ev), TS_OK);
    assert_int_equal (s_applied (f, "a"), 1);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 1);
    assert_int_equal (ts_dispatch_apply (f->d, "prod", ev), TS_OK);
    assert_int_equal (s_applied (f, "a"), 1);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 1);
    assert_int_equal (ts_dispatch_apply (f->d, "prod", s_event (f, 2, "test.apply", "a")), TS_OK);
    assert_int_equal (s_applied (f, "a"), 2);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 2);
    assert_true (ts_dispatch_producer_head (f->d, "prod") >= 2);
}

static void
test_apply_batch_skips_redeliveries (void **state)
{
    fx_t *f = *state;
    Tashan__Event *evs [3] = {
        s_event (f, 1, "test.apply", "a"), s_event (f, 2, "test.apply", "b"),
        s_event (f, 3, "test.apply", "a"),
    };
    assert_int_equal (ts_dispatch_apply_batch (f->d, "prod", evs, 2, 7), 0);
    assert_int_equal (ts_dispatch_producer_head (f->d, "prod"), 7);
    //  1 and 2 again with 3: only 3 is new.
    assert_int_equal (ts_dispatch_apply_batch (f->d, "prod", evs, 3, 7), 0);
    assert_int_equal (s_applied (f, "a"), 2);
    assert_int_equal (s_applied (f, "b"), 1);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 3);
}

static void
test_unknown_topic_advances_position (void **state)
{
    fx_t *f = *state;
    assert_int_equal (ts_dispatch_apply (f->d, "prod", s_event (f, 1, "test.unknown", "a")), TS_OK);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 1);
    assert_int_equal (s_applied (f, "a"), 0);
    assert_false (s_item_exists (f, "poisoned"));
}

static void
test_unknown_producer_advances_position (void **state)
{
    fx_t *f = *state;
    assert_int_equal (ts_dispatch_apply (f->d, "stranger", s_event (f, 1, "test.apply", "a")), TS_OK);
    assert_int_equal (ts_dispatch_position (f->d, "stranger"), 1);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 0);
    assert_int_equal (s_applied (f, "a"), 0);
}

static void
test_failing_apply_is_skipped (void **state)
{
    fx_t *f = *state;
    assert_int_equal (ts_dispatch_apply (f->d, "prod", s_event (f, 1, "test.poison", "x")), TS_OK);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 1);
    assert_false (s_item_exists (f, "poisoned"));       //  its write rolled back
    //  The stream goes on.
    assert_int_equal (ts_dispatch_apply (f->d, "prod", s_event (f, 2, "test.apply", "a")), TS_OK);
    assert_int_equal (s_applied (f, "a"), 1);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 2);
}

static void
test_malformed_event_payload_is_skipped (void **state)
{
    fx_t *f = *state;
    Tashan__Event *ev = s_event (f, 1, "test.apply", "a");
    static uint8_t bad [] = { 0x0a, 0x05, 'a' };
    ev->payload.data = bad;
    ev->payload.len = sizeof bad;
    assert_int_equal (ts_dispatch_apply (f->d, "prod", ev), TS_OK);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 1);
    assert_int_equal (s_applied (f, "a"), 0);
}

static void
test_position_survives_reopen (void **state)
{
    fx_t *f = *state;
    assert_int_equal (ts_dispatch_apply (f->d, "prod", s_event (f, 1, "test.apply", "a")), TS_OK);
    ts_dispatch_destroy (&f->d);
    s_open_dispatch (f);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), 1);
    assert_int_equal (ts_dispatch_apply (f->d, "prod", s_event (f, 1, "test.apply", "a")), TS_OK);
    assert_int_equal (s_applied (f, "a"), 1);
}

//  --------------------------------------------------------------------
//  Map growth, clock, open, reopen

static void
test_map_growth_during_batch_is_transparent (void **state)
{
    fx_t *f = *state;
    ts_dispatch_destroy (&f->d);
    test_dir_remove (f->dir);
    assert_int_equal (mkdir (f->dir, 0700), 0);
    ts_store_set_initial_map_size (256 * 1024);
    s_open_dispatch (f);
    size_t initial = ts_store_map_size (ts_dispatch_store (f->d));
    assert_int_equal (initial, 256 * 1024);
    enum { N = 40 };                //  40 x 100 KiB = 4 MB
    ts_job jobs [N];
    char keys [N][8];
    for (int i = 0; i < N; i++) {
        snprintf (keys [i], sizeof keys [i], "%c%d", 'A' + i % 26, i);
        jobs [i] = s_job (f, "dt.Big", &f->ops, keys [i]);
    }
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, N, f->arena), 1);
    for (int i = 0; i < N; i++) {
        assert_int_equal (jobs [i].code, TS_CREATED);
        Tashan__Crashtest__EmitReply *rep = tashan__crashtest__emit_reply__unpack (
            ts_arena_pb (f->arena), jobs [i].reply_size, jobs [i].reply);
        assert_non_null (rep);
        assert_int_equal (rep->seq, (uint64_t) i + 1);      //  no seq lost to retries
    }
    assert_true (ts_store_map_size (ts_dispatch_store (f->d)) > initial);
    ts_store *store = ts_dispatch_store (f->d);
    ts_txn *txn = ts_txn_begin (store, false);
    for (int i = 0; i < N; i++) {
        ts_val v;
        assert_true (ts_txn_get (txn, ts_store_table (store, "items"), keys [i],
                                 strlen (keys [i]), &v));
        assert_int_equal (v.size, BIG_VALUE_BYTES);
        assert_int_equal (((const uint8_t *) v.data) [BIG_VALUE_BYTES - 1], keys [i][0]);
    }
    ts_txn_abort (&txn);
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), N);
    assert_int_equal (evs [N - 1]->seq, N);
    assert_int_equal (ts_dispatch_outbox_head (f->d), N);
}

static void
test_map_growth_during_apply_is_transparent (void **state)
{
    fx_t *f = *state;
    ts_dispatch_destroy (&f->d);
    test_dir_remove (f->dir);
    assert_int_equal (mkdir (f->dir, 0700), 0);
    ts_store_set_initial_map_size (256 * 1024);
    s_open_dispatch (f);
    enum { N = 30 };
    Tashan__Event *evs [N];
    char keys [N][8];
    for (int i = 0; i < N; i++) {
        snprintf (keys [i], sizeof keys [i], "%c%d", 'a' + i % 26, i);
        evs [i] = s_event (f, (uint64_t) i + 1, "test.big", keys [i]);
    }
    assert_int_equal (ts_dispatch_apply_batch (f->d, "prod", evs, N, N), 0);
    assert_int_equal (ts_dispatch_position (f->d, "prod"), N);
    assert_true (ts_store_map_size (ts_dispatch_store (f->d)) > 256 * 1024);
    for (int i = 0; i < N; i++)
        assert_true (s_item_exists (f, keys [i]));
}

static void
test_set_now_drives_now_ms (void **state)
{
    fx_t *f = *state;
    uint64_t now = 0;
    ts_dispatch_set_now (f->d, 1769875200123LL);
    assert_int_equal (ts_dispatch_now (f->d), 1769875200123LL);
    assert_int_equal (s_call (f, "dt.Now", &f->ops, "", &now), TS_OK);
    assert_int_equal (now, 1769875200123ULL);
    //  Events carry the batch's time.
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "k1", NULL), TS_CREATED);
    Tashan__Event **evs;
    assert_int_equal (s_events (f, 0, &evs), 1);
    assert_int_equal (evs [0]->created_ms, 1769875200123LL);
    //  0 goes back to the real clock.
    ts_dispatch_set_now (f->d, 0);
    int64_t real = (int64_t) time (NULL) * 1000;
    assert_int_equal (s_call (f, "dt.Now", &f->ops, "", &now), TS_OK);
    assert_true ((int64_t) now >= real - 5000 && (int64_t) now <= real + 5000);
}

static void
test_open_runs_once_in_write_txn_and_seeds (void **state)
{
    fx_t *f = *state;
    assert_int_equal (s_open_calls, 1);
    assert_true (s_open_saw_write);
    assert_true (s_item_exists (f, "seed"));
    assert_ptr_equal (ts_dispatch_state (f->d), &s_state_token);
    assert_ptr_equal (ts_dispatch_service (f->d), &s_service);
    uint64_t has_state = 0;
    assert_int_equal (s_call (f, "dt.State", &f->ops, "", &has_state), TS_OK);
    assert_int_equal (has_state, 1);
    //  Many calls later, still once.
    for (int i = 0; i < 5; i++)
        assert_int_equal (s_call (f, "dt.Get", &f->ops, "seed", NULL), TS_OK);
    assert_int_equal (s_open_calls, 1);
}

static void
test_open_failure_refuses_to_start (void **state)
{
    fx_t *f = *state;
    ts_dispatch_destroy (&f->d);
    char err [256] = "";
    ts_dispatch *d = ts_dispatch_new (&s_refusing_service, f->dir, err, sizeof err);
    assert_null (d);
    assert_non_null (strstr (err, "signing key missing"));
    //  Its writes were rolled back.
    s_open_dispatch (f);
    assert_false (s_item_exists (f, "half"));
}

static void
test_schema_change_refuses_to_start (void **state)
{
    fx_t *f = *state;
    ts_dispatch_destroy (&f->d);
    ts_service v2 = s_service;
    v2.schema_version = 2;
    char err [256] = "";
    assert_null (ts_dispatch_new (&v2, f->dir, err, sizeof err));
    assert_non_null (strstr (err, "schema version 1"));
    s_open_dispatch (f);
}

static void
test_reopen_keeps_outbox_head (void **state)
{
    fx_t *f = *state;
    char key [8];
    for (int i = 1; i <= 3; i++) {
        snprintf (key, sizeof key, "k%d", i);
        assert_int_equal (s_call (f, "dt.Emit", &f->ops, key, NULL), TS_CREATED);
    }
    assert_int_equal (ts_dispatch_outbox_head (f->d), 3);
    ts_dispatch_destroy (&f->d);
    assert_null (f->d);
    s_open_dispatch (f);
    assert_int_equal (ts_dispatch_outbox_head (f->d), 3);
    uint64_t seq = 0;
    assert_int_equal (s_call (f, "dt.Emit", &f->ops, "k4", &seq), TS_CREATED);
    assert_int_equal (seq, 4);
    assert_int_equal (ts_dispatch_outbox_head (f->d), 4);
}

static void
test_role_bits_and_callers (void **state)
{
    (void) state;
    assert_int_equal (ts_role_bit ("public"), TS_ROLE_PUBLIC);
    assert_int_equal (ts_role_bit ("ops"), TS_ROLE_OPS);
    assert_int_equal (ts_role_bit ("panel"), TS_ROLE_PANEL);
    assert_int_equal (ts_role_bit ("school"), TS_ROLE_SCHOOL);
    assert_int_equal (ts_role_bit ("merchant"), TS_ROLE_MERCHANT);
    assert_int_equal (ts_role_bit ("system"), TS_ROLE_SYSTEM);
    assert_int_equal (ts_role_bit ("Ops"), 0);
    assert_int_equal (ts_role_bit (""), 0);
    assert_int_equal (ts_role_bit (NULL), 0);
    Tashan__Caller c = ts_caller ("panel", NULL, NULL);
    assert_string_equal (c.role, "panel");
    assert_string_equal (c.binding, "");
    assert_string_equal (c.principal, "");
}

//  --------------------------------------------------------------------
//  Deadlines and the client's Idempotency-Key

static int64_t
s_count (fx_t *f, const char *key)
{
    ts_store *store = ts_dispatch_store (f->d);
    ts_txn *txn = ts_txn_begin (store, false);
    int64_t n = (int64_t) ts_txn_get_u64 (txn, ts_store_table (store, "items"), key,
                                          strlen (key), 0);
    ts_txn_abort (&txn);
    return n;
}

static void
test_expired_request_is_not_applied (void **state)
{
    fx_t *f = *state;
    ts_dispatch_set_now (f->d, 1800000000000);
    ts_job jobs [3] = {
        s_job (f, "dt.Put", &f->ops, "late"),
        s_job (f, "dt.Put", &f->ops, "in-time"),
        s_job (f, "dt.Put", &f->ops, "no-deadline"),
    };
    jobs [0].deadline_ms = 1800000000000;        //  due now: too late
    jobs [1].deadline_ms = 1800000000001;
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, 3, f->arena), 1);
    assert_int_equal (jobs [0].code, TS_TIMEOUT);
    assert_non_null (strstr (jobs [0].message, "nothing was changed"));
    assert_null (jobs [0].reply);
    assert_int_equal (jobs [1].code, TS_CREATED);
    assert_int_equal (jobs [2].code, TS_CREATED);
    assert_int_equal (s_count (f, "late"), 0);
    assert_int_equal (s_count (f, "in-time"), 1);
    assert_int_equal (s_count (f, "no-deadline"), 1);
}

static void
test_write_past_deadline_at_commit_is_dropped (void **state)
{
    fx_t *f = *state;
    ts_dispatch_set_now (f->d, 1800000000000);
    //  The first job writes in time; the slow second one moves the clock
    //  past the first one's deadline before the batch commits.
    ts_job jobs [4] = {
        s_job (f, "dt.Put", &f->ops, "early"),
        s_job (f, "dt.Slow", &f->ops, "slow"),
        s_job (f, "dt.Put", &f->ops, "patient"),
        s_job (f, "dt.Put", &f->ops, "tight"),
    };
    jobs [0].deadline_ms = 1800000000500;
    jobs [2].deadline_ms = 1800000009000;
    //  In time for the first run, not for the re-run (the slow job takes
    //  a second again): dropped up front instead of a third run.
    jobs [3].deadline_ms = 1800000001500;
    assert_int_equal (ts_dispatch_run_batch (f->d, jobs, 4, f->arena), 1);
    assert_int_equal (jobs [0].code, TS_TIMEOUT);
    assert_false (jobs [0].wrote);
    assert_int_equal (jobs [1].code, TS_CREATED);
    assert_int_equal (jobs [2].code, TS_CREATED);
    assert_int_equal (jobs [3].code, TS_TIMEOUT);
    assert_int_equal (s_count (f, "early"), 0);
    assert_int_equal (s_count (f, "tight"), 0);
    //  Two runs: the clock moved a second in each.
    assert_int_equal (ts_dispatch_now (f->d), 1800000002000);
    //  The batch ran twice but committed once: each write applied once.
    assert_int_equal (s_count (f, "slow"), 1);
    assert_int_equal (s_count (f, "patient"), 1);
}

//  Run one job with a client's Idempotency-Key (NULL: none) on its own.
static ts_job
s_run_keyed (fx_t *f, const char *method, const Tashan__Caller *caller, const char *key,
             const char *idempotency_key)
{
    ts_job job = s_job (f, method, caller, key);
    job.idempotency_key = idempotency_key;
    ts_dispatch_run_batch (f->d, &job, 1, f->arena);
    return job;
}

static void
test_idempotency_key_replays_and_conflicts (void **state)
{
    fx_t *f = *state;
    ts_job first = s_run_keyed (f, "dt.Put", &f->ops, "a", "key-1");
    assert_int_equal (first.code, TS_CREATED);
    //  Same key, same body: the stored reply, not a second effect.
    ts_job again = s_run_keyed (f, "dt.Put", &f->ops, "a", "key-1");
    assert_int_equal (again.code, TS_OK);
    assert_int_equal (again.reply_size, first.reply_size);
    assert_memory_equal (again.reply, first.reply, first.reply_size);
    assert_int_equal (s_count (f, "a"), 1);
    //  Same key, another body: 409, nothing applied.
    ts_job other = s_run_keyed (f, "dt.Put", &f->ops, "b", "key-1");
    assert_int_equal (other.code, TS_CONFLICT);
    assert_non_null (strstr (other.message, "Idempotency-Key 'key-1'"));
    assert_int_equal (s_count (f, "b"), 0);
    //  Without a key every call applies; a key is scoped by the caller's role.
    assert_int_equal (s_run_keyed (f, "dt.Put", &f->ops, "a", NULL).code, TS_CREATED);
    assert_int_equal (s_run_keyed (f, "dt.Put", &f->panel, "b", "key-1").code, TS_CREATED);
    assert_int_equal (s_count (f, "a"), 2);
    assert_int_equal (s_count (f, "b"), 1);
}

static void
test_idempotency_key_header_and_body_keys_apart (void **state)
{
    fx_t *f = *state;
    //  A method with its own key field uses it; the header key does not
    //  stand in for a missing one.
    assert_int_equal (s_run_keyed (f, "dt.Emit", &f->ops, "", "k9").code, TS_BAD_REQUEST);
    assert_int_equal (s_run_keyed (f, "dt.Emit", &f->ops, "k9", "k9").code, TS_CREATED);
    assert_int_equal (s_run_keyed (f, "dt.Emit", &f->ops, "k9", "other").code, TS_OK);
    //  Reads ignore a key: nothing stored, nothing refused.
    assert_int_equal (s_run_keyed (f, "dt.Get", &f->ops, "k9", "k9").code, TS_OK);
    assert_int_equal (s_run_keyed (f, "dt.Get", &f->ops, "seed", "k9").code, TS_OK);
}

//  Each test runs through a wrapper that marks the fixture finished when
//  the test returns (a failed assertion jumps past it).
#define TESTS(X) \
    X (test_first_call_creates_and_emits) \
    X (test_repeat_same_key_and_body_gives_stored_reply) \
    X (test_repeat_survives_reopen) \
    X (test_repeat_in_same_batch_applies_once) \
    X (test_same_key_different_body_conflicts) \
    X (test_idempotency_is_scoped_by_binding) \
    X (test_empty_key_is_bad_request) \
    X (test_overlong_key_is_bad_request) \
    X (test_role_not_allowed_is_forbidden) \
    X (test_expired_request_is_not_applied) \
    X (test_write_past_deadline_at_commit_is_dropped) \
    X (test_idempotency_key_replays_and_conflicts) \
    X (test_idempotency_key_header_and_body_keys_apart) \
    X (test_unknown_method_is_not_found) \
    X (test_malformed_body_is_bad_request) \
    X (test_read_method_sees_data_and_fails_cleanly) \
    X (test_read_in_write_batch_sees_earlier_jobs) \
    X (test_read_only_batch_makes_no_commit) \
    X (test_failing_handler_rolled_back_others_commit) \
    X (test_flat_failure_reruns_nested) \
    X (test_flat_jobs_commit_with_the_batch) \
    X (test_batch_is_one_commit_events_in_order) \
    X (test_events_after_and_max) \
    X (test_apply_same_event_twice_applies_once) \
    X (test_apply_batch_skips_redeliveries) \
    X (test_unknown_topic_advances_position) \
    X (test_unknown_producer_advances_position) \
    X (test_failing_apply_is_skipped) \
    X (test_malformed_event_payload_is_skipped) \
    X (test_position_survives_reopen) \
    X (test_map_growth_during_batch_is_transparent) \
    X (test_map_growth_during_apply_is_transparent) \
    X (test_set_now_drives_now_ms) \
    X (test_open_runs_once_in_write_txn_and_seeds) \
    X (test_open_failure_refuses_to_start) \
    X (test_schema_change_refuses_to_start) \
    X (test_reopen_keeps_outbox_head) \
    X (test_role_bits_and_callers)

#define WRAP(name) \
    static void name##_run (void **state) { name (state); ((fx_t *) *state)->finished = true; }
TESTS (WRAP)
#define ENTRY(name) { #name, name##_run, s_setup, s_teardown, NULL },

int
main (void)
{
    const struct CMUnitTest tests [] = {
        TESTS (ENTRY)
    };
    return cmocka_run_group_tests_name ("ts_dispatch", tests, NULL, NULL);
}
