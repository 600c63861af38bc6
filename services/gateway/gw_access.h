/*  =========================================================================
    gw_access - the gateway's access log and request ids

    Every HTTP request the gateway handles gets a request id: the
    client's X-Request-Id when it is 1..64 of [A-Za-z0-9._-], else a fresh
    one (16 hex characters). Every answer carries it back as X-Request-Id,
    and routed calls pass it to the daemon (Request.request_id), whose own
    log line for the request names it too.

    When the answer leaves, one info line (ts_reqlog decides which):
        event=http_request method=POST route=/v1/households status=201
        duration_ms=3.2 token=t1 bytes_in=80 bytes_out=120 request_id=…
    The route is the template (/v1/persons/{id}), never the raw path, and
    the token is its id, never the secret: no personal data, no secret.
    =========================================================================
*/
#ifndef GW_ACCESS_H
#define GW_ACCESS_H

#include "gw_http.h"

typedef struct gw_access gw_access;

//  Start the record of req: its request id (set on req for the answer),
//  and its log line when req is answered. The record lives until then.
gw_access *gw_access_begin (gw_http_request *req);
//  The record of a request begun above (NULL if none).
gw_access *gw_access_of (gw_http_request *req);

//  What the request turned out to be: its route ("POST /v1/households",
//  the method is dropped, or a name such as "not_found"), and the token
//  id of its caller. Both copied; self may be NULL (nothing recorded).
void gw_access_route (gw_access *self, const char *route_key);
void gw_access_principal (gw_access *self, const char *principal);
const char *gw_access_request_id (const gw_access *self);

#endif
