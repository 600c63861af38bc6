/*  =========================================================================
    merchants_cardcode - checking a resident's card code at a check-in,
    as a merchant app does offline (format: common/ts_cardcode.h)

    The ledger issues and signs codes; this daemon keeps a copy of every
    public key the ledger published and of every revoked serial, from the
    ledger's events, so a check-in never waits on the ledger.

    Tables:  code_keys      u32 key_id BE  -> events.ResidentKey
             revoked_codes  u64 serial BE  -> i64 revoked_ms BE

    Refused codes are counted per merchant and minute in memory: a
    merchant app (or someone with its token) that keeps presenting bad
    codes is answered 429 for the rest of the minute. The counter is soft
    state: it is lost on restart, which only forgives.
    =========================================================================
*/
#ifndef MERCHANTS_CARDCODE_H
#define MERCHANTS_CARDCODE_H

#include <stdbool.h>
#include <stdint.h>
#include "ts_cardcode.h"
#include "ts_service.h"
#include "events.pb-c.h"

//  Refused codes a merchant may present in one minute before 429.
#define MERCHANTS_REFUSED_CODES_PER_MINUTE 20
//  How far in the future a served_at may be (clock skew of an app).
#define MERCHANTS_SERVED_AHEAD_MAX_MS (5 * 60 * 1000)

//  Events from the ledger.
unsigned merchants_apply_resident_key (ts_ctx *ctx, const Tashan__Events__ResidentKey *key,
                                       const Tashan__Event *event);
unsigned merchants_apply_code_revoked (ts_ctx *ctx, const Tashan__Events__CardCodeRevoked *rev,
                                       const Tashan__Event *event);

//  Forget the refusal counts (the daemon's open: a restart forgives).
void merchants_cardcode_reset (void);

//  Is text a code valid at served_ms (signature by a published key, inside
//  its window, not revoked by then)? 0 with *code filled, or a 400/422
//  recorded on ctx. Refusals count against merchant_no's minute; once
//  over the limit, 429 before anything is checked.
unsigned merchants_cardcode_check (ts_ctx *ctx, uint64_t merchant_no, const char *field,
                                   const char *text, int64_t served_ms, ts_cardcode *code);

#endif
