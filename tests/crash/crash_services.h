/*  crash_services - a minimal producer and consumer daemon on the shared
    runtime, for the crash test. They borrow the endpoint names
    "volunteers" (producer) and "proposals" (consumer) and run in their own
    temp data dir. */
#ifndef CRASH_SERVICES_H
#define CRASH_SERVICES_H

#include "ts_service.h"

extern const ts_service crash_producer_service;
extern const ts_service crash_consumer_service;

#endif
