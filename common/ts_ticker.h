/*  =========================================================================
    ts_ticker - a service's tick: every tick_ms, in a write transaction of
    its own, on the loop or (ts_service.tick_off_loop) on a worker thread

    Why a worker: a tick that folds a journal (the residents' read audit)
    commits hundreds of pages and waits on a disk sync; on the loop every
    read behind it would wait too. On a worker the loop goes on answering
    reads (LMDB readers never wait on its writer). LMDB has one writer:
    before the loop begins a write transaction it calls ts_ticker_wait,
    which returns at once when no tick is in flight, else blocks until the
    tick has committed (so writes wait, reads do not). The map never grows
    while a tick runs: a tick that fills it is told so, the loop grows the
    map and the next tick runs it again.
    =========================================================================
*/
#ifndef TS_TICKER_H
#define TS_TICKER_H

#include <stdbool.h>
#include <uv.h>

#include "ts_dispatch.h"

typedef struct ts_ticker ts_ticker;

//  Called on the loop after each tick has committed (or failed): wake
//  what waits on its events, re-run what waits on its effects.
typedef void (ts_ticker_done_fn) (void *arg);

//  A ticker for the dispatch's service (whose tick and tick_ms are set).
ts_ticker *ts_ticker_new (uv_loop_t *loop, ts_dispatch *dispatch, ts_ticker_done_fn *done,
                          void *arg);
//  After the loop has ended (no tick in flight then).
void ts_ticker_destroy (ts_ticker **self_p);

//  Start / stop the timer. After stop a tick in flight still finishes
//  (the loop runs until it has).
void ts_ticker_start (ts_ticker *self);
void ts_ticker_stop (ts_ticker *self);

//  Before the loop begins a write transaction: returns once no tick holds
//  the store's writer.
void ts_ticker_wait (ts_ticker *self);

//  Ticks run, and the times a write had to wait for one (for tests and
//  metrics).
uint64_t ts_ticker_ticks (const ts_ticker *self);
uint64_t ts_ticker_waits (const ts_ticker *self);

#endif
