/*  =========================================================================
    ts_park - requests waiting for an outcome that another daemon decides

    A write that starts a saga across daemons (a card redemption: the
    merchants daemon reserves the stock, the ledger debits the card) has
    no outcome when its transaction commits. Its handler answers 202
    (TS_ACCEPTED) and keeps its state in LMDB; the daemon parks the
    request here instead of replying, and runs it again after each batch
    of events it applies (which is how the other daemon's answer arrives).
    The handler, finding its saga final, answers 201 or 409, and that is
    sent to the caller. A request still without an outcome after
    TS_PARK_WAIT_MS is answered 503: its saga goes on durably, and a retry
    with the same idempotency key finds it.

    Memory only, bounded: a restart answers nobody (the callers' deadlines
    do), and the sagas themselves live in the stores.
    =========================================================================
*/
#ifndef TS_PARK_H
#define TS_PARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ts_dispatch.h"

#define TS_PARKED_MAX 256           //  requests waiting at once
#define TS_PARK_WAIT_MS 1500        //  under the gateway's 2 s
#define TS_PARK_IDENTITY_MAX 256

typedef struct ts_park ts_park;

//  Send a reply to a parked request's caller.
typedef void (ts_park_reply_fn) (void *arg, const uint8_t *identity, size_t identity_size,
                                 uint64_t corr_id, unsigned code, const char *message,
                                 const uint8_t *body, size_t body_size);

ts_park *ts_park_new (void);
void ts_park_destroy (ts_park **self_p);

//  Park job (its method, caller and body are copied) for the caller at
//  identity/corr_id until now_ms + TS_PARK_WAIT_MS. false when full.
bool ts_park_add (ts_park *self, const uint8_t *identity, size_t identity_size,
                  uint64_t corr_id, const ts_job *job, uint64_t now_ms);
size_t ts_park_count (const ts_park *self);

//  Run every parked request again in one batch; answer and drop each
//  that has an outcome (or whose time is up).
void ts_park_rerun (ts_park *self, ts_dispatch *dispatch, uint64_t now_ms,
                    ts_park_reply_fn *reply, void *arg);
//  Answer 503 and drop the requests whose time is up (all when now_ms is
//  UINT64_MAX: the daemon is stopping).
void ts_park_expire (ts_park *self, uint64_t now_ms, ts_park_reply_fn *reply, void *arg);

#endif
