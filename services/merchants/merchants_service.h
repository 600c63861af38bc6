/*  merchants_service - the merchants daemon's service declaration (methods, tables,
    subscriptions) for ts_daemon_main. */
#ifndef MERCHANTS_SERVICE_H
#define MERCHANTS_SERVICE_H

#include "ts_service.h"

extern const ts_service merchants_service;

#endif
