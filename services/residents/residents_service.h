/*  residents_service - the residents daemon's service declaration (methods, tables,
    subscriptions) for ts_daemon_main. */
#ifndef RESIDENTS_SERVICE_H
#define RESIDENTS_SERVICE_H

#include "ts_service.h"

extern const ts_service residents_service;

#endif
