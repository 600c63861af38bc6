/*  test_ts_zwatch - ZeroMQ readiness on the libuv loop, with real sockets
    (a PAIR over inproc): a blocked loop wakes for a message, messages a
    bounded callback leaves behind are delivered on later turns without new
    traffic, a send on the watched socket (which can consume the ZMQ_FD
    edge) loses no wake-up when the owner says so (ts_zwatch_touch), the
    flush hook runs before the loop blocks, a quiet socket gets no
    callback, and destroy stops the callbacks. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "ts_zmq.h"
#include "ts_zwatch.h"

typedef struct {
    uv_loop_t loop;
    void *a;                        //  the peer
    void *b;                        //  the watched socket
    ts_zwatch *watch;
    int received;                   //  messages the callback read
    int callbacks;                  //  times it ran
    int read_per_call;              //  its bound
    bool stop_on_message;           //  uv_stop after reading one
    uv_timer_t guard;               //  ends a run that would hang
} fx_t;

static void
s_on_readable (void *arg)
{
    fx_t *f = arg;
    f->callbacks++;
    for (int i = 0; i < f->read_per_call; i++) {
        char buf [16];
        if (zmq_recv (f->b, buf, sizeof buf, ZMQ_DONTWAIT) < 0)
            break;
        f->received++;
    }
    if (f->stop_on_message && f->received > 0)
        uv_stop (&f->loop);
}

static int
s_setup (void **state)
{
    static int counter;
    fx_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    assert_int_equal (uv_loop_init (&f->loop), 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://test-zwatch-%d", counter++);
    f->a = zmq_socket (ts_zmq_ctx (), ZMQ_PAIR);
    f->b = zmq_socket (ts_zmq_ctx (), ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt (f->a, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (f->b, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal (zmq_bind (f->a, endpoint), 0);
    assert_int_equal (zmq_connect (f->b, endpoint), 0);
    f->read_per_call = 100;
    f->watch = ts_zwatch_new (&f->loop, f->b, s_on_readable, f);
    assert_non_null (f->watch);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fx_t *f = *state;
    ts_zwatch_destroy (&f->watch);
    uv_run (&f->loop, UV_RUN_NOWAIT);
    //  Every handle closed: destroy leaves nothing behind.
    assert_int_equal (uv_loop_close (&f->loop), 0);
    zmq_close (f->a);
    zmq_close (f->b);
    free (f);
    return 0;
}

//  Run the loop turn by turn until want messages arrived or max_ms passed.
static void
s_run_until_received (fx_t *f, int want, int max_ms)
{
    uint64_t start_ns = uv_hrtime ();
    while (f->received < want && (uv_hrtime () - start_ns) / 1000000 < (uint64_t) max_ms) {
        uv_run (&f->loop, UV_RUN_NOWAIT);
        usleep (200);
    }
}

static void
s_send (void *sock, const char *text)
{
    assert_int_equal (zmq_send (sock, text, strlen (text), 0), (int) strlen (text));
}

//  --------------------------------------------------------------------

static void *
s_send_later (void *arg)
{
    fx_t *f = arg;
    usleep (50 * 1000);
    s_send (f->a, "wake");
    return NULL;
}

static void
s_on_guard (uv_timer_t *timer)
{
    uv_stop (timer->loop);
}

static void
test_blocked_loop_wakes_for_a_message (void **state)
{
    fx_t *f = *state;
    f->stop_on_message = true;
    uv_timer_init (&f->loop, &f->guard);
    uv_timer_start (&f->guard, s_on_guard, 2000, 0);
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_send_later, f), 0);
    uint64_t start_ns = uv_hrtime ();
    //  Blocks in epoll until ZMQ_FD wakes it (or the guard ends it).
    uv_run (&f->loop, UV_RUN_DEFAULT);
    uint64_t elapsed_ms = (uv_hrtime () - start_ns) / 1000000;
    pthread_join (thread, NULL);
    assert_int_equal (f->received, 1);
    assert_true (elapsed_ms < 1500);
    uv_close ((uv_handle_t *) &f->guard, NULL);
}

static void
test_leftover_messages_come_on_later_turns (void **state)
{
    fx_t *f = *state;
    f->read_per_call = 1;
    for (int i = 0; i < 5; i++)
        s_send (f->a, "m");
    s_run_until_received (f, 5, 2000);
    assert_int_equal (f->received, 5);
    assert_true (f->callbacks >= 5);
}

static void
test_send_on_watched_socket_loses_no_wakeup (void **state)
{
    fx_t *f = *state;
    uv_run (&f->loop, UV_RUN_NOWAIT);
    s_send (f->a, "in");
    //  A send on the watched socket processes its commands and can take
    //  the ZMQ_FD edge that announced "in".
    s_send (f->b, "out");
    ts_zwatch_touch (f->watch);
    s_run_until_received (f, 1, 2000);
    assert_int_equal (f->received, 1);
    char buf [16];
    assert_int_equal (zmq_recv (f->a, buf, sizeof buf, 0), 3);
}

static int s_flushes;

//  The flush hook: sends one message on the watched socket.
static bool
s_flush_once (void *arg)
{
    fx_t *f = arg;
    if (s_flushes++ > 0)
        return false;
    s_send (f->b, "flushed");
    return true;
}

static void
test_flush_hook_runs_before_blocking (void **state)
{
    fx_t *f = *state;
    s_flushes = 0;
    ts_zwatch_set_flush (f->watch, s_flush_once);
    uv_run (&f->loop, UV_RUN_NOWAIT);
    assert_true (s_flushes >= 1);
    char buf [16];
    assert_int_equal (zmq_recv (f->a, buf, sizeof buf, ZMQ_DONTWAIT), 7);
    //  A reply to what the hook sent wakes the loop as usual.
    s_send (f->a, "back");
    s_run_until_received (f, 1, 2000);
    assert_int_equal (f->received, 1);
}

static void
test_nothing_waiting_no_callback (void **state)
{
    fx_t *f = *state;
    for (int i = 0; i < 20; i++)
        uv_run (&f->loop, UV_RUN_NOWAIT);
    assert_int_equal (f->callbacks, 0);
}

static void
test_destroy_stops_callbacks (void **state)
{
    fx_t *f = *state;
    ts_zwatch_destroy (&f->watch);
    assert_null (f->watch);
    s_send (f->a, "late");
    for (int i = 0; i < 20; i++)
        uv_run (&f->loop, UV_RUN_NOWAIT);
    assert_int_equal (f->callbacks, 0);
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
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        T (test_blocked_loop_wakes_for_a_message),
        T (test_flush_hook_runs_before_blocking),
        T (test_leftover_messages_come_on_later_turns),
        T (test_send_on_watched_socket_loses_no_wakeup),
        T (test_nothing_waiting_no_callback),
        T (test_destroy_stops_callbacks),
    };
    return cmocka_run_group_tests (tests, NULL, s_group_teardown);
}
