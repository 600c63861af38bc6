/*  proposals_verify - the proposals daemon's sys.Verify hook (ts_verify.h). */
#ifndef PROPOSALS_VERIFY_H
#define PROPOSALS_VERIFY_H

#include "ts_service.h"

//  The fund's totals against its movements.
void proposals_verify (ts_ctx *ctx, ts_verify *verify);

#endif
