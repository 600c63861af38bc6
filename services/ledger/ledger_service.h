/*  ledger_service - the ledger daemon's service declaration (methods, tables,
    subscriptions) for ts_daemon_main. */
#ifndef LEDGER_SERVICE_H
#define LEDGER_SERVICE_H

#include "ts_service.h"

extern const ts_service ledger_service;

#endif
