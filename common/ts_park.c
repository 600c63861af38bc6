/*  ts_park - requests waiting for an outcome. See ts_park.h. */
#include "ts_park.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ts_arena.h"

#define PARK_MAGIC 0x5041524bu
#define METHOD_MAX 72

static const char s_not_final [] =
    "the outcome is not final yet: it goes on, retry with the same idempotency key";

typedef struct {
    uint8_t identity [TS_PARK_IDENTITY_MAX];
    size_t identity_size;
    uint64_t corr_id;
    char method [METHOD_MAX];
    uint8_t *caller;                //  packed tashan.Caller (malloc)
    size_t caller_size;
    uint8_t *body;                  //  packed request (malloc)
    size_t body_size;
    uint64_t deadline_ms;
} parked_t;

struct ts_park {
    uint32_t magic;                 //  PARK_MAGIC
    parked_t items [TS_PARKED_MAX]; //  [0, count) in arrival order
    size_t count;
    ts_job jobs [TS_PARKED_MAX];    //  a re-run's batch
};

ts_park *
ts_park_new (void)
{
    ts_park *self = calloc (1, sizeof *self);
    assert (self);
    self->magic = PARK_MAGIC;
    return self;
}

static void
s_free (parked_t *p)
{
    free (p->caller);
    free (p->body);
    memset (p, 0, sizeof *p);
}

void
ts_park_destroy (ts_park **self_p)
{
    assert (self_p);
    ts_park *self = *self_p;
    if (!self)
        return;
    assert (self->magic == PARK_MAGIC);
    for (size_t i = 0; i < self->count; i++)
        s_free (&self->items [i]);
    self->magic = 0;
    free (self);
    *self_p = NULL;
}

size_t
ts_park_count (const ts_park *self)
{
    assert (self && self->magic == PARK_MAGIC);
    return self->count;
}

bool
ts_park_add (ts_park *self, const uint8_t *identity, size_t identity_size, uint64_t corr_id,
             const ts_job *job, uint64_t now_ms)
{
    assert (self && self->magic == PARK_MAGIC && job && job->caller);
    if (self->count == TS_PARKED_MAX || identity_size > TS_PARK_IDENTITY_MAX
    ||  strlen (job->method) >= METHOD_MAX)
        return false;
    parked_t *p = &self->items [self->count];
    memcpy (p->identity, identity, identity_size);
    p->identity_size = identity_size;
    p->corr_id = corr_id;
    strcpy (p->method, job->method);
    p->caller_size = protobuf_c_message_get_packed_size (&job->caller->base);
    p->caller = malloc (p->caller_size ? p->caller_size : 1);
    p->body = malloc (job->body_size ? job->body_size : 1);
    assert (p->caller && p->body);
    protobuf_c_message_pack (&job->caller->base, p->caller);
    memcpy (p->body, job->body, job->body_size);
    p->body_size = job->body_size;
    p->deadline_ms = now_ms + TS_PARK_WAIT_MS;
    self->count++;
    return true;
}

//  Drop item i (order of the rest kept: earlier arrivals answer first).
static void
s_remove (ts_park *self, size_t i)
{
    assert (i < self->count);
    s_free (&self->items [i]);
    memmove (&self->items [i], &self->items [i + 1],
             (self->count - i - 1) * sizeof self->items [0]);
    self->count--;
    memset (&self->items [self->count], 0, sizeof self->items [0]);
}

void
ts_park_rerun (ts_park *self, ts_dispatch *dispatch, uint64_t now_ms,
               ts_park_reply_fn *reply, void *arg)
{
    assert (self && self->magic == PARK_MAGIC && dispatch && reply);
    if (self->count == 0)
        return;
    ts_arena *arena = ts_arena_new ();
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++) {
        parked_t *p = &self->items [i];
        Tashan__Caller *caller = tashan__caller__unpack (ts_arena_pb (arena), p->caller_size,
                                                         p->caller);
        assert (caller);            //  we packed it
        ts_job *job = &self->jobs [n++];
        memset (job, 0, sizeof *job);
        job->method = p->method;
        job->caller = caller;
        job->body = p->body;
        job->body_size = p->body_size;
    }
    assert (n == self->count);
    ts_dispatch_run_batch (dispatch, self->jobs, n, arena);
    //  Walk backwards so removals keep the remaining indexes valid.
    for (size_t k = n; k-- > 0;) {
        ts_job *job = &self->jobs [k];
        parked_t *p = &self->items [k];
        if (job->code == TS_ACCEPTED && p->deadline_ms > now_ms)
            continue;
        if (job->code == TS_ACCEPTED)
            reply (arg, p->identity, p->identity_size, p->corr_id, TS_UNAVAILABLE,
                   s_not_final, NULL, 0);
        else
            reply (arg, p->identity, p->identity_size, p->corr_id, job->code, job->message,
                   job->code < 400 ? job->reply : NULL, job->code < 400 ? job->reply_size : 0);
        s_remove (self, k);
    }
    ts_arena_destroy (&arena);
}

void
ts_park_expire (ts_park *self, uint64_t now_ms, ts_park_reply_fn *reply, void *arg)
{
    assert (self && self->magic == PARK_MAGIC && reply);
    for (size_t k = self->count; k-- > 0;) {
        parked_t *p = &self->items [k];
        if (p->deadline_ms > now_ms)
            continue;
        reply (arg, p->identity, p->identity_size, p->corr_id, TS_UNAVAILABLE, s_not_final,
               NULL, 0);
        s_remove (self, k);
    }
}
