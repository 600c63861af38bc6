/*  ctl_verify - tashanctl verify: every consumer position against its
    producer (the same outbox generation, not past its head, consuming),
    and every daemon's own check of its derived records (sys.Verify).
    Exit 0 when clean, 1 with the findings listed. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define VERIFY_TIMEOUT_MS 60000
#define HEALTH_TIMEOUT_MS 2000

static const Tashan__HealthReply *
s_health_of (Tashan__HealthReply *const health [TS_SERVICE_COUNT], const char *name)
{
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        if (health [i] && strcmp (ts_service_names [i], name) == 0)
            return health [i];
    return NULL;
}

//  One consumer position; returns the findings printed (0 or 1).
static int
s_check_position (const char *consumer, const Tashan__ConsumerPosition *p,
                  const Tashan__HealthReply *producer)
{
    if (p->error && p->error [0]) {
        printf ("finding: %s stopped consuming from %s: %s\n", consumer, p->producer, p->error);
        return 1;
    }
    if (!producer)
        return 0;                   //  the producer's own row says it is down
    if (p->generation && producer->outbox_generation
    &&  p->generation != producer->outbox_generation) {
        printf ("finding: %s's position on %s is in outbox generation %016llx, %s's outbox "
                "is %016llx\n", consumer, p->producer, (unsigned long long) p->generation,
                p->producer, (unsigned long long) producer->outbox_generation);
        return 1;
    }
    if (p->applied_seq > producer->outbox_head_seq) {
        printf ("finding: %s has applied %s's events up to %llu, but %s's outbox ends at %llu\n",
                consumer, p->producer, (unsigned long long) p->applied_seq, p->producer,
                (unsigned long long) producer->outbox_head_seq);
        return 1;
    }
    return 0;
}

//  sys.Verify on one daemon; returns the findings printed.
static int
s_verify_daemon (ctl_t *ctl, const char *service)
{
    ts_arena *arena = ts_arena_new ();
    Tashan__Empty empty = TASHAN__EMPTY__INIT;
    Tashan__VerifyReply *rep = NULL;
    unsigned code = ctl_call (ctl, service, "sys.Verify", &empty.base,
                              &tashan__verify_reply__descriptor, arena,
                              (ProtobufCMessage **) &rep, VERIFY_TIMEOUT_MS, true);
    int findings = 0;
    if (code != 200 || !rep) {
        printf ("finding: %s could not verify its records (code %u)\n", service, code);
        findings = 1;
    }
    else {
        for (size_t i = 0; i < rep->n_findings; i++)
            printf ("finding: %s: %s\n", service, rep->findings [i]);
        findings = (int) rep->n_findings;
        printf ("%-12s %llu derived records checked, %zu findings\n", service,
                (unsigned long long) rep->checked, rep->n_findings);
    }
    ts_arena_destroy (&arena);
    return findings;
}

int
ctl_verify (ctl_t *ctl, int argc, char **argv)
{
    if (ctl_no_arguments ("verify", argc, argv) != 0)
        return 2;
    ts_arena *arena = ts_arena_new ();
    Tashan__HealthReply *health [TS_SERVICE_COUNT];
    ctl_health_all (ctl, arena, HEALTH_TIMEOUT_MS, health);
    int findings = 0;
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        if (!health [i]) {
            printf ("finding: %s does not answer (tashanctl status says why)\n",
                    ts_service_names [i]);
            findings++;
            continue;
        }
        for (size_t c = 0; c < health [i]->n_consumers; c++)
            findings += s_check_position (ts_service_names [i], health [i]->consumers [c],
                                          s_health_of (health, health [i]->consumers [c]->producer));
        findings += s_verify_daemon (ctl, ts_service_names [i]);
    }
    ts_arena_destroy (&arena);
    if (findings) {
        printf ("verify: %d findings\n", findings);
        return 1;
    }
    printf ("verify: clean (every position within its producer's outbox, every derived "
            "record matches)\n");
    return 0;
}
