/*  =========================================================================
    gw_gateway - the only HTTP entrance: HTTP/1.1 (gw_http) in front of the
    five daemons (ts_rpc, many calls in flight each)

    Per request: route (gw_router) -> authenticate (gw_auth, 401) -> build
    the request message from JSON body, path and query (gw_json, 400 naming
    the field) -> one RPC to the owning daemon with a deadline (503 within
    GW_RPC_TIMEOUT_MS when it is unreachable) -> the reply message as JSON
    with the daemon's status. Built in: /healthz, /metrics, the ops console
    at /, POST /v1/tokens, DELETE /v1/tokens/{id}.
    =========================================================================
*/
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <uv.h>
#include "ts_config.h"

//  The deadline a routed call carries: the daemon never applies it
//  later; the gateway waits TS_RPC_DEADLINE_GRACE_MS more, so a 503
//  always leaves within 2 s and means "not applied".
#define GW_RPC_TIMEOUT_MS 1700
#define GW_RPC_IN_FLIGHT_MAX 16384  //  per daemon
#define GW_HEALTH_POLL_MS 5000      //  for /metrics (lag, up)

typedef struct gw_gateway gw_gateway;

//  Open the token store, bind HTTP, connect to the daemons.
gw_gateway *gw_gateway_new (uv_loop_t *loop, const ts_config *cfg, char *err,
                            size_t err_size);
//  Port actually bound (useful with port 0).
int gw_gateway_port (gw_gateway *self);
//  Close everything; run the loop afterwards so libuv frees handles.
void gw_gateway_destroy (gw_gateway **self_p);

//  Entry point of tashan-gateway.
int gw_gateway_main (int argc, char **argv);

#endif
