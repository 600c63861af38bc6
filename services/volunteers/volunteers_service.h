/*  volunteers_service - the volunteers daemon's service declaration (methods, tables,
    subscriptions) for ts_daemon_main. */
#ifndef VOLUNTEERS_SERVICE_H
#define VOLUNTEERS_SERVICE_H

#include "ts_service.h"

extern const ts_service volunteers_service;

#endif
