/*  gw_console - the community office's web console: static files (HTML,
    CSS, JavaScript modules) under services/gateway/console/, compiled into
    the gateway at build time (cmake/tashan_embed.cmake), served at / (the
    index) and /console/<file>. The page talks only to the /v1 API with the
    token the user signs in with (kept in the tab's sessionStorage).

    Also here, the two small gateway-side helpers the console needs:
    GET /v1/session (who am I) and GET /v1/qr.svg?text= (a QR symbol). */
#ifndef GW_CONSOLE_H
#define GW_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "gw_auth.h"
#include "gw_http.h"
#include "gw_metrics.h"

//  One embedded file by its path under console/ ("index.html", "app.js").
//  Returns NULL when there is none.
const unsigned char *gw_console_file (const char *path, size_t *len);

//  Serve GET / and GET /console/<file>: true when path is one of them
//  (answered, 200, 304 or 404), false when it is not the console's.
bool gw_console_serve (gw_http_request *req, gw_metrics *metrics, const char *path);

//  GET /v1/session: {"role","binding","token_id"} for any valid token.
void gw_console_session (gw_http_request *req, gw_metrics *metrics, gw_auth *auth);

//  GET /v1/qr.svg?text=...: any valid token; the text (at most 1000
//  bytes) as a QR symbol in SVG.
void gw_console_qr (gw_http_request *req, gw_metrics *metrics, gw_auth *auth);

#endif
