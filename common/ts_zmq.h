/*  ts_zmq - the process's ZeroMQ context and socket setup shared by
    servers and clients (limits, linger, CURVE when keys are configured). */
#ifndef TS_ZMQ_H
#define TS_ZMQ_H

#include "ts_config.h"

#define TS_ZMQ_HWM 20000            //  messages queued per peer, each way

//  The process's context, created on first use.
void *ts_zmq_ctx (void);
//  Terminate it (at exit, after every socket is closed).
void ts_zmq_term (void);

//  A ROUTER bound to endpoint (CURVE server when cfg has a secret key).
//  Returns NULL with err filled.
void *ts_zmq_router (const char *endpoint, const ts_config *cfg, char *err,
                     size_t err_size);
//  A DEALER connected to endpoint (CURVE client when cfg has keys).
//  immediate: fail sends at once while not connected.
void *ts_zmq_dealer (const char *endpoint, const ts_config *cfg, bool immediate,
                     char *err, size_t err_size);

#endif
