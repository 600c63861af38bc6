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
    //  Only here to wake the loop; the check handle does the work.
    (void) handle;
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
    if (s_readable (self))
        uv_idle_start (&self->idle, s_on_idle);
}

static void
s_on_check (uv_check_t *handle)
{
    ts_zwatch *self = handle->data;
    uv_idle_stop (&self->idle);
    if (s_readable (self))
        self->fn (self->arg);
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
