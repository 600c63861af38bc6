/*  proposals_service - the proposals daemon's service declaration (methods, tables,
    subscriptions) for ts_daemon_main. */
#ifndef PROPOSALS_SERVICE_H
#define PROPOSALS_SERVICE_H

#include "ts_service.h"

extern const ts_service proposals_service;

#endif
