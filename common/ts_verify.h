/*  =========================================================================
    ts_verify - sys.Verify: a daemon checks its derived records (balances,
    totals, stats) against the records they derive from

    A service that keeps derived records declares a verify hook in its
    ts_service; the hook runs in one read transaction and reports each
    mismatch as a sentence. tashanctl verify asks every daemon.
    =========================================================================
*/
#ifndef TS_VERIFY_H
#define TS_VERIFY_H

#include "ts_dispatch.h"

//  Findings kept per run: more are counted, not listed.
#define TS_VERIFY_FINDINGS_MAX 100

//  Count records looked at (the reply's "checked").
void ts_verify_checked (ts_verify *self, uint64_t count);
//  One mismatch, in words ("ledger: p3 index 12 but entries sum to 10").
void ts_verify_finding (ts_verify *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Run the service's verify hook (none: nothing to check, clean) in a
//  read transaction; fill reply with arena memory. Returns TS_OK, or
//  TS_INTERNAL when the store could not be read (reply says why).
unsigned ts_verify_run (ts_dispatch *dispatch, ts_arena *arena,
                        Tashan__VerifyReply *reply);

#endif
