/*  =========================================================================
    ts_zwatch - a ZeroMQ socket watched by a libuv loop

    ZMQ_FD is edge-triggered and a send on the socket can consume the edge,
    so watching the fd alone loses wake-ups. Following flux-core's ev_zmq:
    uv_poll on ZMQ_FD only wakes the loop; a prepare handle checks
    ZMQ_EVENTS before the loop blocks (and keeps it from blocking with an
    idle handle while messages wait); a check handle calls the callback.
    The callback reads a bounded number of messages; whatever is left is
    seen at the next loop turn.

    Every ZMQ_EVENTS (like every send and recv) runs libzmq's command
    processing, a poll and a getpid syscall when nothing is queued: on a
    VM where syscalls are dear that was most of a request's cost. So a
    socket is only looked at while it is "stirred": its fd fired, the
    callback ran, or the owner sent on it (ts_zwatch_touch). A quiet
    socket costs nothing per loop turn. The check handle calls the
    callback without asking ZMQ_EVENTS first (a recv that finds nothing
    costs what ZMQ_EVENTS costs); the prepare handle asks once, and a
    socket that has nothing is quiet again until its fd fires.
    =========================================================================
*/
#ifndef TS_ZWATCH_H
#define TS_ZWATCH_H

#include <stdbool.h>
#include <uv.h>

typedef struct ts_zwatch ts_zwatch;
typedef void (*ts_zwatch_fn) (void *arg);
//  Called before the loop may block, before readiness is checked: a
//  client sends what it collected during the turn. Returns true when it
//  sent (the socket is stirred).
typedef bool (*ts_zwatch_flush_fn) (void *arg);

//  fn may find nothing to read (it is called on a stirred socket).
ts_zwatch *ts_zwatch_new (uv_loop_t *loop, void *zsock, ts_zwatch_fn fn, void *arg);
//  Set the flush hook (NULL: none).
void ts_zwatch_set_flush (ts_zwatch *self, ts_zwatch_flush_fn flush);
//  The owner sent on the socket outside fn: look at it before blocking
//  (the send may have taken the fd's edge). self may be NULL.
void ts_zwatch_touch (ts_zwatch *self);
//  Stops watching at once; memory is freed when libuv has closed the
//  handles (the loop must run once more). Does not close the socket.
void ts_zwatch_destroy (ts_zwatch **self_p);

#endif
