/*  ts_zwatch - a ZeroMQ socket on a libuv loop. See ts_zwatch.h. */
#include "ts_zwatch.h"

#include <assert.h>
#include <stdlib.h>
#include <zmq.h>

#define ZWATCH_MAGIC 0x5a574154u

struct ts_zwatch {
    uint32_t magic;                 //  ZWATCH_MAGIC
    void *zsock;                    //  watched socket (not owned)
    ts_zwatch_fn fn;                //  called when readable
    void *arg;
    uv_poll_t poll;                 //  wakes the loop on ZMQ_FD
    uv_prepare_t prepare;           //  before blocking: anything waiting?
    uv_check_t check;               //  after polling: dispatch
    uv_idle_t idle;                 //  keeps the loop from blocking
    ts_zwatch_flush_fn flush;       //  before blocking, or NULL
    bool stirred;                   //  may have messages: look before blocking
    int closing;                    //  handles still to close
};

static int
s_readable (ts_zwatch *self)
{
    int events = 0;
    size_t size = sizeof events;
    if (zmq_getsockopt (self->zsock, ZMQ_EVENTS, &events, &size) != 0)
        return 0;
    return (events & ZMQ_POLLIN) != 0;
}

static void
s_on_poll (uv_poll_t *handle, int status, int events)
{
    //  Wakes the loop; the check handle does the work.
    ts_zwatch *self = handle->data;
    self->stirred = true;
    (void) status;
    (void) events;
}

static void
s_on_idle (uv_idle_t *handle)
{
    (void) handle;
}

static void
s_on_prepare (uv_prepare_t *handle)
{
    ts_zwatch *self = handle->data;
    if (self->flush && self->flush (self->arg))
        self->stirred = true;
    if (!self->stirred)
        return;                     //  quiet: its fd fires when that changes
    if (s_readable (self))
        uv_idle_start (&self->idle, s_on_idle);
    else
        self->stirred = false;      //  ZMQ_EVENTS re-armed the fd's edge
}

static void
s_on_check (uv_check_t *handle)
{
    ts_zwatch *self = handle->data;
    uv_idle_stop (&self->idle);
    //  Stays stirred: the prepare handle looks once more before blocking.
    if (self->stirred)
        self->fn (self->arg);
}

void
ts_zwatch_set_flush (ts_zwatch *self, ts_zwatch_flush_fn flush)
{
    assert (self && self->magic == ZWATCH_MAGIC);
    self->flush = flush;
}

void
ts_zwatch_touch (ts_zwatch *self)
{
    if (self)
        self->stirred = true;
}

ts_zwatch *
ts_zwatch_new (uv_loop_t *loop, void *zsock, ts_zwatch_fn fn, void *arg)
{
    assert (loop && zsock && fn);
    int fd;
    size_t size = sizeof fd;
    if (zmq_getsockopt (zsock, ZMQ_FD, &fd, &size) != 0)
        return NULL;
    ts_zwatch *self = calloc (1, sizeof (ts_zwatch));
    assert (self);
    self->magic = ZWATCH_MAGIC;
    self->zsock = zsock;
    self->fn = fn;
    self->arg = arg;
    uv_poll_init (loop, &self->poll, fd);
    uv_prepare_init (loop, &self->prepare);
    uv_check_init (loop, &self->check);
    uv_idle_init (loop, &self->idle);
    self->poll.data = self->prepare.data = self->check.data = self->idle.data = self;
    uv_poll_start (&self->poll, UV_READABLE, s_on_poll);
    uv_prepare_start (&self->prepare, s_on_prepare);
    uv_check_start (&self->check, s_on_check);
    //  Messages may have come before the fd was watched.
    self->stirred = true;
    return self;
}

static void
s_on_close (uv_handle_t *handle)
{
    ts_zwatch *self = handle->data;
    assert (self->closing > 0);
    if (--self->closing == 0) {
        self->magic = 0;
        free (self);
    }
}

void
ts_zwatch_destroy (ts_zwatch **self_p)
{
    assert (self_p);
    ts_zwatch *self = *self_p;
    if (!self)
        return;
    assert (self->magic == ZWATCH_MAGIC);
    self->closing = 4;
    uv_close ((uv_handle_t *) &self->poll, s_on_close);
    uv_close ((uv_handle_t *) &self->prepare, s_on_close);
    uv_close ((uv_handle_t *) &self->check, s_on_close);
    uv_close ((uv_handle_t *) &self->idle, s_on_close);
    *self_p = NULL;
}
