/*  gw_disclose - GET /c/{code}: a merchant's public disclosure as an HTML
    page in Chinese, readable on a phone: the URL its QR code opens. The
    gateway asks merchants.Disclose (as GET /v1/codes/{code} does) and
    renders the answer; a forged, altered or unknown code gets a 404 page
    (HTTP 404), a daemon that is down a 503 page. No personal data. */
#ifndef GW_DISCLOSE_H
#define GW_DISCLOSE_H

#include "gw_http.h"
#include "gw_metrics.h"
#include "ts_rpc.h"

//  Answer req for the code (path segment after /c/, still URL-encoded).
void gw_disclose_page (ts_rpc *merchants, gw_metrics *metrics, gw_http_request *req,
                       const char *code);

#endif
