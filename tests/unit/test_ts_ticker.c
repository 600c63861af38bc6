/*  test_ts_ticker - a service's tick on a worker thread, with a real LMDB:
    the loop's reads go on while the tick's transaction is open, a write
    of the loop waits for the tick (and then sees what it wrote), a tick
    that fills the map is run again after the loop grew it, its events
    move the outbox head; a tick on the loop runs in line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_fixture.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashtest.pb-c.h"
#include "ts_dispatch.h"
#include "ts_service.h"
#include "ts_status.h"
#include "ts_ticker.h"

#define TICK_MS 5
#define BIG_TICK_BYTES (256 * 1024)
#define SPIN_MAX 20000              //  loop turns a test waits, at most

//  The tick: counts itself in "ticks"; while s_hold is set it stays in
//  its transaction until the test posts s_release; s_big_tick makes it
//  write a value bigger than a small map.
static atomic_bool s_hold;
static atomic_int s_entered;
static atomic_bool s_big_tick;
static uv_sem_t s_release;
static int s_done_calls;

static ts_table
s_items (ts_ctx *ctx)
{
    return ts_store_table (ts_txn_store (ctx->txn), "items");
}

static unsigned
s_tick (ts_ctx *ctx)
{
    ts_txn_add_i64 (ctx->txn, s_items (ctx), "ticks", 5, 1);
    Tashan__Crashtest__EmitRequest ev = TASHAN__CRASHTEST__EMIT_REQUEST__INIT;
    ev.key = "tick";
    ts_emit (ctx, "test.ticked", &ev.base);
    if (atomic_load (&s_big_tick)) {
        uint8_t *value = ts_arena_alloc (ctx->arena, BIG_TICK_BYTES);
        memset (value, 'b', BIG_TICK_BYTES);
        ts_txn_put (ctx->txn, s_items (ctx), "big", 3, value, BIG_TICK_BYTES);
    }
    atomic_fetch_add (&s_entered, 1);
    if (atomic_load (&s_hold))
        uv_sem_wait (&s_release);
    return TS_OK;
}

static unsigned
s_get (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    rep->seq = ts_txn_get_u64 (ctx->txn, s_items (ctx), req->key, strlen (req->key), 0);
    return TS_OK;
}

static unsigned
s_put (ts_ctx *ctx, const void *req_, void *rep_)
{
    const Tashan__Crashtest__EmitRequest *req = req_;
    Tashan__Crashtest__EmitReply *rep = rep_;
    ts_txn_add_i64 (ctx->txn, s_items (ctx), req->key, strlen (req->key), 1);
    //  What the tick left, seen from the write that waited for it.
    rep->seq = ts_txn_get_u64 (ctx->txn, s_items (ctx), "ticks", 5, 0);
    return TS_CREATED;
}

static const ts_table_def s_tables [] = { { "items", 0 } };

#define REQ &tashan__crashtest__emit_request__descriptor
#define REP &tashan__crashtest__emit_reply__descriptor
static const ts_method s_methods [] = {
    { "tk.Get", REQ, REP, s_get, TS_METHOD_READ, TS_ROLE_ANY, NULL },
    { "tk.Put", REQ, REP, s_put, TS_METHOD_WRITE, TS_ROLE_ANY, NULL },
};

static const ts_service s_worker_service = {
    .name = "tk", .summary = "ticker test", .schema_version = 1,
    .tables = s_tables, .table_count = 1,
    .methods = s_methods, .method_count = 2,
    .tick = s_tick, .tick_ms = TICK_MS, .tick_off_loop = true,
};

static const ts_service s_loop_service = {
    .name = "tk", .summary = "ticker test", .schema_version = 1,
    .tables = s_tables, .table_count = 1,
    .methods = s_methods, .method_count = 2,
    .tick = s_tick, .tick_ms = TICK_MS,
};

//  --------------------------------------------------------------------
//  Fixture: a dispatch, a loop of our own, a ticker wired as ts_daemon
//  wires it (the dispatch's write gate is ts_ticker_wait).

typedef struct {
    char dir [64];
    uv_loop_t loop;
    ts_dispatch *d;
    ts_ticker *ticker;
    ts_arena *arena;
    Tashan__Caller ops;
} fx_t;

static void
s_on_done (void *arg)
{
    (void) arg;
    s_done_calls++;
}

static void
s_gate (void *arg)
{
    ts_ticker_wait (arg);
}

static void
s_open (fx_t *f, const ts_service *service)
{
    char err [256] = "";
    f->d = ts_dispatch_new (service, f->dir, err, sizeof err);
    if (!f->d)
        fprintf (stderr, "ts_dispatch_new: %s\n", err);
    assert_non_null (f->d);
    f->ticker = ts_ticker_new (&f->loop, f->d, s_on_done, NULL);
    ts_dispatch_set_write_gate (f->d, s_gate, f->ticker);
    ts_ticker_start (f->ticker);
}

static int
s_setup (void **state)
{
    fx_t *f = calloc (1, sizeof *f);
    assert_int_equal (test_dir_make (f->dir, sizeof f->dir, "ticker"), 0);
    assert_int_equal (uv_loop_init (&f->loop), 0);
    assert_int_equal (uv_sem_init (&s_release, 0), 0);
    atomic_store (&s_hold, false);
    atomic_store (&s_entered, 0);
    atomic_store (&s_big_tick, false);
    s_done_calls = 0;
    f->arena = ts_arena_new ();
    f->ops = ts_caller ("ops", "", "t1");
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    if (f->ticker) {
        ts_ticker_stop (f->ticker);
        uv_run (&f->loop, UV_RUN_DEFAULT);      //  the tick in flight ends
        ts_ticker_destroy (&f->ticker);
    }
    ts_dispatch_set_write_gate (f->d, NULL, NULL);
    assert_int_equal (uv_loop_close (&f->loop), 0);
    ts_dispatch_destroy (&f->d);
    ts_arena_destroy (&f->arena);
    ts_store_set_initial_map_size ((size_t) 64 * 1024 * 1024);
    uv_sem_destroy (&s_release);
    test_dir_remove (f->dir);
    free (f);
    return 0;
}

//  Turn the loop until the tick has entered n times (its transaction is
//  open then, on the worker).
static void
s_until_entered (fx_t *f, int n)
{
    for (int i = 0; i < SPIN_MAX && atomic_load (&s_entered) < n; i++)
        uv_run (&f->loop, UV_RUN_ONCE);
    assert_true (atomic_load (&s_entered) >= n);
}

static unsigned
s_call (fx_t *f, const char *method, const char *key, uint64_t *seq_out)
{
    Tashan__Crashtest__EmitRequest req = TASHAN__CRASHTEST__EMIT_REQUEST__INIT;
    req.key = (char *) key;
    ProtobufCMessage *rep = NULL;
    char message [256];
    unsigned code = ts_dispatch_call (f->d, method, &f->ops, &req.base, f->arena, &rep,
                                      message, sizeof message);
    if (code < 400 && seq_out)
        *seq_out = ((Tashan__Crashtest__EmitReply *) rep)->seq;
    return code;
}

//  --------------------------------------------------------------------

static void
test_reads_go_on_while_the_tick_writes (void **state)
{
    fx_t *f = *state;
    s_open (f, &s_worker_service);
    atomic_store (&s_hold, true);
    s_until_entered (f, 1);
    //  The tick's transaction is open on the worker and will not end
    //  until released: a read on the loop is answered now, and sees the
    //  store as it was before the tick.
    for (int i = 0; i < 3; i++) {
        uint64_t ticks = 99;
        assert_int_equal (s_call (f, "tk.Get", "ticks", &ticks), TS_OK);
        assert_int_equal (ticks, 0);
    }
    assert_int_equal (ts_ticker_waits (f->ticker), 0);
    assert_int_equal (ts_ticker_ticks (f->ticker), 0);
    //  A write waits for the tick's commit, then sees it.
    atomic_store (&s_hold, false);
    uv_sem_post (&s_release);
    uint64_t ticks_seen = 0;
    assert_int_equal (s_call (f, "tk.Put", "x", &ticks_seen), TS_CREATED);
    assert_int_equal (ticks_seen, 1);
    assert_int_equal (ts_ticker_waits (f->ticker), 1);
    //  The loop's callback still comes, once, for that tick.
    for (int i = 0; i < SPIN_MAX && s_done_calls == 0; i++)
        uv_run (&f->loop, UV_RUN_ONCE);
    assert_true (s_done_calls >= 1);
    assert_true (ts_ticker_ticks (f->ticker) >= 1);
    assert_true (ts_dispatch_outbox_head (f->d) >= 1);
}

static void
test_write_without_tick_in_flight_does_not_wait (void **state)
{
    fx_t *f = *state;
    s_open (f, &s_worker_service);
    //  Let a few ticks run and end.
    s_until_entered (f, 3);
    for (int i = 0; i < SPIN_MAX && ts_ticker_ticks (f->ticker) < 3; i++)
        uv_run (&f->loop, UV_RUN_ONCE);
    assert_true (ts_ticker_ticks (f->ticker) >= 3);
    uint64_t waits = ts_ticker_waits (f->ticker);
    uint64_t ticks_seen = 0;
    //  No tick can be in flight between loop turns unless queued: stop
    //  the timer first so none is.
    ts_ticker_stop (f->ticker);
    uv_run (&f->loop, UV_RUN_DEFAULT);
    assert_int_equal (s_call (f, "tk.Put", "y", &ticks_seen), TS_CREATED);
    assert_int_equal (ts_ticker_waits (f->ticker), waits);
    assert_int_equal (ticks_seen, ts_ticker_ticks (f->ticker));
    ts_dispatch_set_write_gate (f->d, NULL, NULL);
    ts_ticker_destroy (&f->ticker);
}

static void
test_tick_that_fills_the_map_runs_again_after_growth (void **state)
{
    fx_t *f = *state;
    //  A map smaller than the tick's value: its first commit fails full.
    ts_store_set_initial_map_size ((size_t) 128 * 1024);
    atomic_store (&s_big_tick, true);
    s_open (f, &s_worker_service);
    size_t before = ts_store_map_size (ts_dispatch_store (f->d));
    for (int i = 0; i < SPIN_MAX && ts_ticker_ticks (f->ticker) < 4; i++)
        uv_run (&f->loop, UV_RUN_ONCE);
    ts_ticker_stop (f->ticker);
    uv_run (&f->loop, UV_RUN_DEFAULT);
    assert_true (ts_store_map_size (ts_dispatch_store (f->d)) > before);
    uint64_t ticks = 0;
    assert_int_equal (s_call (f, "tk.Get", "ticks", &ticks), TS_OK);
    //  Every tick either committed whole or not at all.
    assert_true (ticks >= 1);
    assert_true (ticks < ts_ticker_ticks (f->ticker));
    assert_int_equal (ts_dispatch_outbox_head (f->d), ticks);
    ts_dispatch_set_write_gate (f->d, NULL, NULL);
    ts_ticker_destroy (&f->ticker);
}

static void
test_tick_on_the_loop_runs_in_line (void **state)
{
    fx_t *f = *state;
    s_open (f, &s_loop_service);
    for (int i = 0; i < SPIN_MAX && ts_ticker_ticks (f->ticker) < 2; i++)
        uv_run (&f->loop, UV_RUN_ONCE);
    //  Each tick has committed by the time its callback ran.
    uint64_t ticks = 0;
    assert_int_equal (s_call (f, "tk.Get", "ticks", &ticks), TS_OK);
    assert_int_equal (ticks, ts_ticker_ticks (f->ticker));
    assert_int_equal (s_done_calls, (int) ticks);
    assert_int_equal (ts_ticker_waits (f->ticker), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_reads_go_on_while_the_tick_writes,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_write_without_tick_in_flight_does_not_wait,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_tick_that_fills_the_map_runs_again_after_growth,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_tick_on_the_loop_runs_in_line,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
