/*  ctl_probe - why a daemon does not answer (its socket is missing, the
    connection is refused, or it timed out), and the gateway's /healthz
    over plain HTTP: what tashanctl status and restore need to tell "down"
    apart from "busy". */
#ifndef CTL_PROBE_H
#define CTL_PROBE_H

#include "ctl.h"

//  Can something connect to endpoint (ipc:// or tcp://)? Returns NULL
//  when it can, else a reason in words, e.g. "socket /x/run/ledger.sock
//  does not exist" (static storage: valid until the next call).
const char *ctl_probe_endpoint (const char *endpoint);

//  GET /healthz on HOST:PORT: the status code (200, 503...), or 0 with
//  why filled (connection refused, timeout).
unsigned ctl_probe_gateway (const char *listen, uint32_t timeout_ms, char *why,
                            size_t why_size);

#endif
