/*  merchants_verify - the merchants daemon's sys.Verify hook (ts_verify.h). */
#ifndef MERCHANTS_VERIFY_H
#define MERCHANTS_VERIFY_H

#include "ts_service.h"

//  Each merchant's services-given counter and each market's check-in
//  counter against the check-ins themselves.
void merchants_verify (ts_ctx *ctx, ts_verify *verify);

#endif
