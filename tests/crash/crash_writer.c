/*  crash_writer - sends crash.Emit for keys k0..k(N-1) to the producer
    with a window of calls in flight, retrying each key until it is
    acknowledged (201, or 200 for a retry the producer had already
    committed). Exits 0 when every key is acknowledged, 1 on timeout.
    usage: crash_writer ENDPOINT COUNT WINDOW TIMEOUT_S
           crash_writer stats ENDPOINT   (prints distinct duplicates total position) */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "crashtest.pb-c.h"
#include "ts_rpc.h"
#include "ts_status.h"
#include "ts_zmq.h"

typedef struct {
    uv_loop_t *loop;
    ts_rpc *rpc;
    uint32_t next_key;              //  next key never sent
    uint32_t count;                 //  keys to acknowledge
    uint32_t acked;
    uint32_t *retry;                //  keys waiting to be sent again
    uint32_t retry_count;
    uint64_t errors;
    uv_timer_t pump;
    uv_timer_t deadline;
    int window;
    int in_flight;
} writer_t;

typedef struct {
    writer_t *w;
    uint32_t key;
} call_t;

static void s_send (writer_t *w, uint32_t key);

static void
s_on_reply (void *arg, unsigned code, const char *message, const uint8_t *body, size_t size)
{
    call_t *call = arg;
    writer_t *w = call->w;
    w->in_flight--;
    if (code == TS_CREATED || code == TS_OK)
        w->acked++;
    else {
        w->errors++;
        assert (w->retry_count < w->count);
        w->retry [w->retry_count++] = call->key;
    }
    free (call);
    if (w->acked == w->count) {
        uv_timer_stop (&w->pump);
        uv_timer_stop (&w->deadline);
        uv_close ((uv_handle_t *) &w->pump, NULL);
        uv_close ((uv_handle_t *) &w->deadline, NULL);
        ts_rpc_destroy (&w->rpc);
    }
}

static void
s_send (writer_t *w, uint32_t key)
{
    char name [32];
    snprintf (name, sizeof name, "k%u", key);
    Tashan__Crashtest__EmitRequest req = TASHAN__CRASHTEST__EMIT_REQUEST__INIT;
    req.key = name;
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = "system";
    caller.principal = "crash_writer";
    call_t *call = malloc (sizeof *call);
    call->w = w;
    call->key = key;
    w->in_flight++;
    ts_rpc_call_msg (w->rpc, "crash.Emit", &caller, &req.base, 1500, s_on_reply, call);
}

static void
s_on_pump (uv_timer_t *timer)
{
    writer_t *w = timer->data;
    if (!w->rpc)
        return;
    //  Retries first (after a pause: the producer may be restarting).
    for (int budget = 0; w->in_flight < w->window && budget < 4096 && w->rpc; budget++) {
        if (w->retry_count > 0)
            s_send (w, w->retry [--w->retry_count]);
        else
        if (w->next_key < w->count)
            s_send (w, w->next_key++);
        else
            break;
    }
}

static void
s_on_deadline (uv_timer_t *timer)
{
    writer_t *w = timer->data;
    fprintf (stderr, "crash_writer: timeout with %u/%u acknowledged\n", w->acked, w->count);
    exit (1);
}

static int
s_stats (const char *endpoint)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__Empty empty = TASHAN__EMPTY__INIT;
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = "system";
    Tashan__Crashtest__StatsReply *rep = NULL;
    char message [256];
    unsigned code = ts_rpc_call_sync (endpoint, NULL, "crash.Stats", &caller, &empty.base,
                                      &tashan__crashtest__stats_reply__descriptor, arena,
                                      (ProtobufCMessage **) &rep, message, sizeof message, 2000);
    if (code == TS_OK && rep)
        printf ("%llu %llu %llu %llu\n", (unsigned long long) rep->distinct,
                (unsigned long long) rep->duplicates, (unsigned long long) rep->total,
                (unsigned long long) rep->position);
    else
        fprintf (stderr, "stats: %u %s\n", code, message);
    ts_arena_destroy (&arena);
    ts_zmq_term ();
    return code == TS_OK ? 0 : 1;
}

int
main (int argc, char **argv)
{
    if (argc == 3 && strcmp (argv [1], "stats") == 0)
        return s_stats (argv [2]);
    if (argc != 5) {
        fprintf (stderr, "usage: crash_writer ENDPOINT COUNT WINDOW TIMEOUT_S\n");
        return 2;
    }
    writer_t w = { 0 };
    w.loop = uv_default_loop ();
    w.count = (uint32_t) atoi (argv [2]);
    w.window = atoi (argv [3]);
    w.retry = calloc (w.count, sizeof (uint32_t));
    w.rpc = ts_rpc_new (w.loop, argv [1], NULL, (uint32_t) w.window + 8);
    assert (w.rpc);
    uv_timer_init (w.loop, &w.pump);
    uv_timer_init (w.loop, &w.deadline);
    w.pump.data = w.deadline.data = &w;
    uv_timer_start (&w.pump, s_on_pump, 20, 5);
    uv_timer_start (&w.deadline, s_on_deadline, (uint64_t) atoi (argv [4]) * 1000, 0);
    uv_run (w.loop, UV_RUN_DEFAULT);
    printf ("acked=%u errors_retried=%llu\n", w.acked, (unsigned long long) w.errors);
    free (w.retry);
    ts_zmq_term ();
    return w.acked == w.count ? 0 : 1;
}
