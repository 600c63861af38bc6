/*  ctl_demo - what the parts of tashanctl demo share: the run's options
    (seed, months, scale), its progress report (ctl_demo_progress.c) and
    the question asked first, whether any store holds data
    (ctl_demo_stores.c). The parts run in order: residents (ctl_demo.c),
    the year (ctl_demo_year.c), volunteers, proposals. */
#ifndef CTL_DEMO_H
#define CTL_DEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl.h"

#define CTL_DEMO_SCALE_MAX 100      //  residents.SeedDemo's copies
#define CTL_DEMO_MONTHS_MAX 24

//  Progress on stderr: a bar redrawn in place on a terminal, a plain
//  line every few seconds (and at each new phase) otherwise, nothing when
//  quiet. Work is counted in units the parts announce beforehand.
typedef struct {
    bool quiet;
    bool tty;                       //  stderr is a terminal
    uint64_t done, total;           //  units
    double start_s, shown_s;        //  monotonic seconds: start, last shown
    char phase [64];                //  what runs now
} ctl_progress;

void ctl_progress_init (ctl_progress *self, bool quiet, uint64_t total);
//  Units done in a phase (phase may stay the same); shows when due.
void ctl_progress_add (ctl_progress *self, const char *phase, uint64_t units);
//  The end: the bar completed (on a terminal) or a last line.
void ctl_progress_end (ctl_progress *self);
//  Seconds since init.
double ctl_progress_seconds (const ctl_progress *self);

typedef struct {
    uint64_t seed;
    uint32_t months;                //  1..CTL_DEMO_MONTHS_MAX
    uint32_t scale;                 //  1..CTL_DEMO_SCALE_MAX: K × the seed's community
    ctl_progress *progress;
} ctl_demo_opts;

//  Progress units of each part, so the bar moves evenly.
#define CTL_DEMO_UNITS_COMPOUND 1   //  per compound (4 × scale)
#define CTL_DEMO_UNITS_MONTH 2      //  per month and scale (credit)
#define CTL_DEMO_UNITS_MARKET 1     //  per market (27 × scale)
#define CTL_DEMO_UNITS_REST 8       //  per scale: registry, offers, volunteers, proposals
#define CTL_DEMO_UNITS_ORDERS 40    //  per scale: the volunteers' orders, made one at a time

//  Asks every daemon (sys.Health) whether its store holds domain data;
//  names those that do on stderr. 0: all answered, *holds set; -1: some
//  daemon did not answer (then nothing can be said).
int ctl_demo_stores_hold_data (ctl_t *ctl, bool *holds);

//  The name of a thing in copy `copy` of the community (--scale): the
//  seed's name in copy 0, "name (2区)" in copy 1 and so on, as the
//  compounds and the registry name theirs; in arena.
const char *ctl_demo_copy_name (ts_arena *arena, const char *name, uint32_t copy);

//  One call of a pipeline: the request and the caller in (role, binding
//  and principal NULL: system, "", tashanctl, as ctl_call), code and reply
//  out (reply in the pipeline's arena).
typedef struct {
    const char *method;
    const char *role, *binding, *principal;
    const ProtobufCMessage *req;
    unsigned code;
    ProtobufCMessage *reply;
} ctl_demo_call;

//  A line to one daemon: a DEALER kept open for many calls
//  (ctl_demo_pipeline.c).
typedef struct _ctl_demo_line ctl_demo_line;
ctl_demo_line *ctl_demo_line_new (ctl_t *ctl, const char *service);
void ctl_demo_line_destroy (ctl_demo_line **self_p);
//  The n calls, many in flight at once, so the daemon commits them in
//  groups; sent in the order given. A call not answered in time keeps
//  504; without a socket 503.
void ctl_demo_line_run (ctl_demo_line *self, ctl_demo_call *calls, size_t n,
                        const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena);
//  One call as the system (as ctl_call, quiet), its reply in *reply.
unsigned ctl_demo_line_call (ctl_demo_line *self, const char *method,
                             const ProtobufCMessage *req,
                             const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena,
                             void *reply);
//  ctl_demo_line_run on a line of its own.
void ctl_demo_pipeline (ctl_t *ctl, const char *service, ctl_demo_call *calls, size_t n,
                        const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena);

//  The parts after residents.
int ctl_demo_year (ctl_t *ctl, const ctl_demo_opts *opts);
int ctl_demo_volunteers (ctl_t *ctl, const ctl_demo_opts *opts);
int ctl_demo_proposals (ctl_t *ctl, const ctl_demo_opts *opts);

#endif
