/*  =========================================================================
    ts_verify - sys.Verify's frame around a service's verify hook.
    See ts_verify.h.
    =========================================================================
*/
#include "ts_verify.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VERIFY_MAGIC 0x56524659u

struct ts_verify {
    uint32_t magic;                 //  VERIFY_MAGIC
    ts_arena *arena;                //  findings' memory
    Tashan__VerifyReply *reply;     //  what we fill
    uint64_t dropped;               //  findings over the bound
};

void
ts_verify_checked (ts_verify *self, uint64_t count)
{
    assert (self && self->magic == VERIFY_MAGIC);
    self->reply->checked += count;
}

void
ts_verify_finding (ts_verify *self, const char *fmt, ...)
{
    assert (self && self->magic == VERIFY_MAGIC);
    if (self->reply->n_findings >= TS_VERIFY_FINDINGS_MAX) {
        self->dropped++;
        return;
    }
    char text [512];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    self->reply->findings [self->reply->n_findings++] = ts_arena_strdup (self->arena, text);
}

unsigned
ts_verify_run (ts_dispatch *dispatch, ts_arena *arena, Tashan__VerifyReply *reply)
{
    const ts_service *service = ts_dispatch_service (dispatch);
    reply->findings = ts_arena_alloc (arena, (TS_VERIFY_FINDINGS_MAX + 1) * sizeof (char *));
    reply->n_findings = 0;
    if (!service->verify)
        return TS_OK;
    ts_verify self = { VERIFY_MAGIC, arena, reply, 0 };
    Tashan__Caller caller = ts_caller ("system", "", "verify");
    ts_ctx ctx = { 0 };
    ctx.txn = ts_txn_begin (ts_dispatch_store (dispatch), false);
    ctx.caller = &caller;
    ctx.now_ms = ts_dispatch_now (dispatch);
    ctx.arena = arena;
    ctx.state = ts_dispatch_state (dispatch);
    ctx.dispatch = dispatch;
    service->verify (&ctx, &self);
    int rc = ts_txn_error (ctx.txn);
    ts_txn_abort (&ctx.txn);
    if (rc != 0) {
        reply->n_findings = 0;
        ts_verify_finding (&self, "%s: the store could not be read: %s", service->name,
                           mdb_strerror (rc));
        return TS_INTERNAL;
    }
    if (self.dropped > 0) {
        char text [96];
        snprintf (text, sizeof text, "%s: %llu more findings not listed", service->name,
                  (unsigned long long) self.dropped);
        reply->findings [reply->n_findings++] = ts_arena_strdup (arena, text);
    }
    self.magic = 0;
    return TS_OK;
}
