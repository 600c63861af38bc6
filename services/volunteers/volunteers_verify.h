/*  volunteers_verify - the volunteers daemon's sys.Verify hook (ts_verify.h). */
#ifndef VOLUNTEERS_VERIFY_H
#define VOLUNTEERS_VERIFY_H

#include "ts_service.h"

//  Each volunteer's and circle's total minutes against its months.
void volunteers_verify (ts_ctx *ctx, ts_verify *verify);

#endif
