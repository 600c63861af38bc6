/*  ledger_verify - the ledger's sys.Verify hook (ts_verify.h). */
#ifndef LEDGER_VERIFY_H
#define LEDGER_VERIFY_H

#include "ts_service.h"

//  Every subject's index sum, card and entry count against its entries.
void ledger_verify (ts_ctx *ctx, ts_verify *verify);

#endif
