/*  fuzz_services - every method of every daemon, and every event they
    consume, fed arbitrary bytes through the real request path (ts_dispatch:
    role check, decode, idempotency, nested transaction, LMDB).

    Input: byte 0 picks the service, byte 1 the method (or, with bit 7 of
    byte 0 set, a subscribed topic), byte 2 the caller's role and binding;
    the rest is the request body (or the event payload). The stores live
    under /dev/shm (fsync there is cheap) and keep their state across runs,
    so sequences of calls are explored too. A daemon must answer every
    input with a status and never crash, leak or break an invariant. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_dispatch.h"
#include "ts_log.h"
#include "ts_services.h"

//  Every daemon of services/services.list: each declares
//  `const ts_service <svc>_service` in services/<svc>/<svc>_service.h.
#define SERVICES TS_SERVICE_COUNT
#define S_DECLARE(svc) extern const ts_service svc##_service;
TS_SERVICES (S_DECLARE)
#undef S_DECLARE
#define S_ADDRESS(svc) &svc##_service,
static const ts_service *s_services [SERVICES] = { TS_SERVICES (S_ADDRESS) };
#undef S_ADDRESS
static ts_dispatch *s_dispatch [SERVICES];
static uint64_t s_event_seq [SERVICES];
static char s_dir [64];

static const char *const s_roles [][2] = {
    { "ops", "" }, { "system", "" }, { "panel", "" }, { "school", "S1" },
    { "merchant", "m1" }, { "public", "" }, { "school", "S2" }, { "merchant", "m2" },
};

static void
s_cleanup (void)
{
    for (int i = 0; i < SERVICES; i++)
        ts_dispatch_destroy (&s_dispatch [i]);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system (cmd) != 0)
        fprintf (stderr, "fuzz_services: could not remove %s\n", s_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    ts_log_init ("fuzz", TS_LOG_ERROR);
    snprintf (s_dir, sizeof s_dir, "/dev/shm/tashan-fuzz-%d", (int) getpid ());
    for (int i = 0; i < SERVICES; i++) {
        char err [256];
        s_dispatch [i] = ts_dispatch_new (s_services [i], s_dir, err, sizeof err);
        if (!s_dispatch [i]) {
            fprintf (stderr, "fuzz_services: %s\n", err);
            abort ();
        }
    }
    atexit (s_cleanup);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int index = data [0] % SERVICES;
    const ts_service *svc = s_services [index];
    ts_dispatch *d = s_dispatch [index];
    const char *const *role = s_roles [data [2] % (sizeof s_roles / sizeof s_roles [0])];
    ts_arena *arena = ts_arena_new ();
    if ((data [0] & 0x80) && svc->subscription_count > 0) {
        const ts_subscription *sub = &svc->subscriptions [data [1] % svc->subscription_count];
        const ts_topic_handler *topic = &sub->topics [(data [1] >> 4) % sub->topic_count];
        Tashan__Event event = TASHAN__EVENT__INIT;
        event.seq = ts_dispatch_position (d, sub->producer) + 1;
        event.topic = (char *) topic->topic;
        event.created_ms = 1795000000000;
        event.payload.data = (uint8_t *) data + 3;
        event.payload.len = size - 3;
        unsigned code = ts_dispatch_apply (d, sub->producer, &event);
        assert (code == TS_OK);
        assert (ts_dispatch_position (d, sub->producer) == event.seq);
        s_event_seq [index]++;
    }
    else
    if (svc->method_count > 0) {
        const ts_method *m = &svc->methods [data [1] % svc->method_count];
        Tashan__Caller caller = ts_caller (role [0], role [1], "fuzz");
        ts_job job = { 0 };
        job.method = m->name;
        job.caller = &caller;
        job.body = data + 3;
        job.body_size = size - 3;
        ts_dispatch_run_batch (d, &job, 1, arena);
        assert (job.code >= 200 && job.code < 600);
        assert (job.code < 500);    //  bad input is a 4xx, never an internal error
    }
    ts_arena_destroy (&arena);
    return 0;
}
