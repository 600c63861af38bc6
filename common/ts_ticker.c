/*  ts_ticker - a service's tick, on the loop or a worker. See ts_ticker.h. */
#include "ts_ticker.h"

#include <assert.h>
#include <stdlib.h>

#include "ts_log.h"
#include "ts_service.h"

#define TICKER_MAGIC 0x5449434bu

struct ts_ticker {
    uint32_t magic;                 //  TICKER_MAGIC
    uv_loop_t *loop;
    ts_dispatch *dispatch;
    ts_ticker_done_fn *done;
    void *arg;
    uint32_t tick_ms;
    bool off_loop;
    uv_timer_t timer;
    //  A tick on the worker: busy from its queueing until its after-work
    //  callback; the worker posts sem once it has committed, and the loop
    //  takes that post exactly once (reap), in ts_ticker_wait or in the
    //  callback, whichever comes first.
    uv_work_t work;
    uv_sem_t sem;
    bool busy;
    bool reaped;
    unsigned code;                  //  written by the worker before its post
    int rc;
    uint64_t last_event_seq;
    uint64_t ticks;
    uint64_t waits;
};

ts_ticker *
ts_ticker_new (uv_loop_t *loop, ts_dispatch *dispatch, ts_ticker_done_fn *done, void *arg)
{
    const ts_service *service = ts_dispatch_service (dispatch);
    assert (loop && done && service->tick && service->tick_ms > 0);
    ts_ticker *self = calloc (1, sizeof *self);
    assert (self);
    self->magic = TICKER_MAGIC;
    self->loop = loop;
    self->dispatch = dispatch;
    self->done = done;
    self->arg = arg;
    self->tick_ms = service->tick_ms;
    self->off_loop = service->tick_off_loop;
    int rc = uv_sem_init (&self->sem, 0);
    assert (rc == 0);
    uv_timer_init (loop, &self->timer);
    self->timer.data = self;
    self->work.data = self;
    return self;
}

void
ts_ticker_destroy (ts_ticker **self_p)
{
    assert (self_p);
    ts_ticker *self = *self_p;
    if (!self)
        return;
    assert (self->magic == TICKER_MAGIC && !self->busy);
    uv_sem_destroy (&self->sem);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

//  On the worker: the tick in its own transaction; then the post.
static void
s_work (uv_work_t *work)
{
    ts_ticker *self = work->data;
    self->code = ts_dispatch_tick_once (self->dispatch, &self->rc, &self->last_event_seq);
    uv_sem_post (&self->sem);
}

//  On the loop: take the worker's post and what it left. A full map grows
//  here (no transaction is open on the loop between its callbacks, nor
//  on the worker after its post); the next tick does the work again.
static void
s_reap (ts_ticker *self)
{
    assert (self->busy && !self->reaped);
    uv_sem_wait (&self->sem);
    self->reaped = true;
    if (self->rc == 0)
        ts_dispatch_tick_committed (self->dispatch, self->last_event_seq);
    else
    if (self->rc == TS_STORE_MAP_FULL) {
        int rc = ts_store_grow (ts_dispatch_store (self->dispatch));
        if (rc == 0)
            ts_log_info ("map_grown", "map_size_bytes=%zu",
                         ts_store_map_size (ts_dispatch_store (self->dispatch)));
        else
            ts_log_error ("tick_failed", "error=\"%s\"", mdb_strerror (rc));
    }
    else
        ts_log_error ("tick_failed", "error=\"%s\"", mdb_strerror (self->rc));
}

static void
s_after_work (uv_work_t *work, int status)
{
    ts_ticker *self = work->data;
    assert (self->busy);
    if (status == 0 && !self->reaped)
        s_reap (self);
    //  Cancelled (never ran, nothing posted): only at loop teardown.
    self->busy = false;
    self->ticks += status == 0;
    self->done (self->arg);
}

static void
s_on_timer (uv_timer_t *timer)
{
    ts_ticker *self = timer->data;
    if (!self->off_loop) {
        ts_dispatch_tick (self->dispatch);
        self->ticks++;
        self->done (self->arg);
        return;
    }
    if (self->busy)
        return;                     //  the last one still runs: skip a beat
    self->busy = true;
    self->reaped = false;
    int rc = uv_queue_work (self->loop, &self->work, s_work, s_after_work);
    if (rc != 0) {
        ts_log_error ("tick_failed", "error=\"%s\"", uv_strerror (rc));
        self->busy = false;
    }
}

void
ts_ticker_start (ts_ticker *self)
{
    assert (self && self->magic == TICKER_MAGIC);
    uv_timer_start (&self->timer, s_on_timer, self->tick_ms, self->tick_ms);
}

void
ts_ticker_stop (ts_ticker *self)
{
    assert (self && self->magic == TICKER_MAGIC);
    uv_close ((uv_handle_t *) &self->timer, NULL);
}

void
ts_ticker_wait (ts_ticker *self)
{
    assert (self && self->magic == TICKER_MAGIC);
    if (!self->busy || self->reaped)
        return;
    self->waits++;
    s_reap (self);
}

uint64_t
ts_ticker_ticks (const ts_ticker *self)
{
    assert (self && self->magic == TICKER_MAGIC);
    return self->ticks;
}

uint64_t
ts_ticker_waits (const ts_ticker *self)
{
    assert (self && self->magic == TICKER_MAGIC);
    return self->waits;
}
