/*  ctl_demo_stores - before the demo seeds anything: does any daemon's
    store hold domain data? Each daemon answers in sys.Health (holds_data,
    computed by the runtime from its tables), so a restored backup, whose
    stores are full but which carries no marker file, is never seeded. */
#include <stdio.h>

#include "ctl_demo.h"
#include "ts_services.h"

#define HEALTH_TIMEOUT_MS 5000

int
ctl_demo_stores_hold_data (ctl_t *ctl, bool *holds)
{
    *holds = false;
    int unanswered = 0;
    for (int i = 0; i < TS_SERVICE_COUNT; i++) {
        ts_arena *arena = ts_arena_new ();
        Tashan__Empty empty = TASHAN__EMPTY__INIT;
        Tashan__HealthReply *h = NULL;
        unsigned code = ctl_call (ctl, ts_service_names [i], "sys.Health", &empty.base,
                                  &tashan__health_reply__descriptor, arena,
                                  (ProtobufCMessage **) &h, HEALTH_TIMEOUT_MS, true);
        if (code != 200 || !h) {
            fprintf (stderr, "tashanctl: demo: %s does not answer: cannot tell whether "
                     "its store holds data\n", ts_service_names [i]);
            unanswered++;
        }
        else
        if (h->holds_data) {
            fprintf (stderr, "tashanctl: demo: the %s store holds data\n",
                     ts_service_names [i]);
            *holds = true;
        }
        ts_arena_destroy (&arena);
    }
    return unanswered ? -1 : 0;
}
