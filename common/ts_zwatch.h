/*  =========================================================================
    ts_zwatch - a ZeroMQ socket watched by a libuv loop

    ZMQ_FD is edge-triggered and a send on the socket can consume the edge,
    so watching the fd alone loses wake-ups. Following flux-core's ev_zmq:
    uv_poll on ZMQ_FD only wakes the loop; a prepare handle checks
    ZMQ_EVENTS before the loop blocks (and keeps it from blocking with an
    idle handle while messages wait); a check handle calls the callback
    when ZMQ_EVENTS says POLLIN. The callback reads a bounded number of
    messages; whatever is left is seen at the next loop turn.
    =========================================================================
*/
#ifndef TS_ZWATCH_H
#define TS_ZWATCH_H

#include <uv.h>

typedef struct ts_zwatch ts_zwatch;
typedef void (*ts_zwatch_fn) (void *arg);

ts_zwatch *ts_zwatch_new (uv_loop_t *loop, void *zsock, ts_zwatch_fn fn, void *arg);
//  Stops watching at once; memory is freed when libuv has closed the
//  handles (the loop must run once more). Does not close the socket.
void ts_zwatch_destroy (ts_zwatch **self_p);

#endif
