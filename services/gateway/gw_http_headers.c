/*  =========================================================================
    gw_http_headers - the headers gw_http_respond adds to every answer, so
    no handler can forget them: the security headers (a Content-Security-
    Policy fitted to the console and the /c/ pages, no framing, no caching
    of /v1 answers that carry personal data), WWW-Authenticate on 401,
    Retry-After on 429, and CORS for the configured origins; plus the
    answer to OPTIONS (preflight).
    =========================================================================
*/
//  Invariant asserts stay on in release builds (STYLE: broken invariants
//  are asserts that stay on in production).
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gw_http_internal.h"

//  What the console (services/gateway/console) and the disclosure pages
//  load: scripts and styles from the gateway itself (ES modules, no
//  inline script); style attributes and the /c/ page's <style> block are
//  inline styles; QR symbols are inline SVG; fetch goes to the same
//  origin only. Nothing may frame a page of ours.
#define CSP "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
            "img-src 'self' data:; connect-src 'self'; font-src 'self'; " \
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#define CORS_ALLOW_HEADERS "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
#define CORS_MAX_AGE_S "600"
#define ORIGIN_MAX_BYTES 256


//  --------------------------------------------------------------------------
//  Copy the blank- or comma-separated origin list, framed by blanks
//  (" a b "), so a lookup is one strstr of " origin ".

void
gw_http__cors_set (gw_http *self, const char *origins)
{
    self->cors_origins [0] = '\0';
    if (!origins)
        return;
    size_t n = 0;
    bool any = false;
    self->cors_origins [n++] = ' ';
    for (size_t i = 0; origins [i] && n + 2 < sizeof self->cors_origins; i++) {
        char c = origins [i] == ',' || origins [i] == '\t' ? ' ' : origins [i];
        if (c == ' ' && self->cors_origins [n - 1] == ' ')
            continue;
        self->cors_origins [n++] = c;
        any = any || c != ' ';
    }
    if (self->cors_origins [n - 1] != ' ')
        self->cors_origins [n++] = ' ';
    self->cors_origins [any ? n : 0] = '\0';
}


//  --------------------------------------------------------------------------
//  True when origin is one of the configured origins.

bool
gw_http_cors_allowed (gw_http *self, const char *origin)
{
    assert (self);
    assert (self->magic == GW_HTTP_MAGIC);
    if (!origin || !self->cors_origins [0])
        return false;
    size_t len = strlen (origin);
    if (len == 0 || len > ORIGIN_MAX_BYTES || strpbrk (origin, " ,\t"))
        return false;
    char framed [ORIGIN_MAX_BYTES + 3];
    snprintf (framed, sizeof framed, " %s ", origin);
    return strstr (self->cors_origins, framed) != NULL;
}


//  --------------------------------------------------------------------------
//  Append name: value to out unless app already names it.

typedef struct {
    const char **out;
    size_t used;                    //  slots filled
    size_t slots;
    const char *const *app;
} header_list;

static void
s_default (header_list *list, const char *name, const char *value)
{
    for (size_t i = 0; list->app && list->app [i]; i += 2)
        if (strcasecmp (list->app [i], name) == 0)
            return;
    assert (list->used + 3 <= list->slots);
    list->out [list->used++] = name;
    list->out [list->used++] = value;
    list->out [list->used] = NULL;
}

//  The CORS part: the origin echoed when allowed, and Vary: Origin on
//  every answer once CORS is on (caches must not hand one origin's
//  answer to another).
static void
s_cors (header_list *list, gw_http_request *req)
{
    gw_http *server = req->conn->server;
    if (!server->cors_origins [0])
        return;
    const char *origin = gw_http_request_header (req, "Origin");
    if (gw_http_cors_allowed (server, origin)) {
        s_default (list, "Access-Control-Allow-Origin", origin);
        s_default (list, "Access-Control-Expose-Headers", "Retry-After, X-Request-Id");
    }
    s_default (list, "Vary", "Origin");
}


//  --------------------------------------------------------------------------
//  The app's headers followed by the defaults.

bool
gw_http__with_defaults (gw_http_request *req, unsigned status,
                        const char *content_type, const char *const *app,
                        const char **out, size_t out_slots)
{
    REQ_CHECK (req);
    assert (out_slots >= 2 * (GW_HTTP_MAX_EXTRA_HEADERS + GW_HTTP_DEFAULT_HEADERS) + 1);
    header_list list = { .out = out, .used = 0, .slots = out_slots, .app = app };
    for (size_t i = 0; app && app [i]; i += 2) {
        if (i / 2 >= GW_HTTP_MAX_EXTRA_HEADERS || !app [i + 1])
            return false;
        out [list.used++] = app [i];
        out [list.used++] = app [i + 1];
    }
    out [list.used] = NULL;
    if (content_type && strncasecmp (content_type, "text/html", 9) == 0) {
        s_default (&list, "Content-Security-Policy", CSP);
        s_default (&list, "X-Frame-Options", "DENY");
    }
    if (strncmp (req->path, "/v1/", 4) == 0 || strcmp (req->path, "/v1") == 0)
        s_default (&list, "Cache-Control", "no-store");
    if (status == 401)
        s_default (&list, "WWW-Authenticate",
                   gw_http_request_header (req, "Authorization")
                   ? "Bearer error=\"invalid_token\"" : "Bearer");
    if (status == 429)
        s_default (&list, "Retry-After", "1");
    if (req->conn)
        s_cors (&list, req);
    return true;
}


//  --------------------------------------------------------------------------
//  Answer OPTIONS (and a CORS preflight) with what the path allows.

int
gw_http_respond_options (gw_http_request *req, const char *allow)
{
    REQ_CHECK (req);
    assert (allow && allow [0]);
    const char *headers [] = { "Allow", allow, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
    const char *origin = req->conn ? gw_http_request_header (req, "Origin") : NULL;
    if (origin && gw_http_cors_allowed (req->conn->server, origin)
    &&  gw_http_request_header (req, "Access-Control-Request-Method")) {
        headers [2] = "Access-Control-Allow-Methods";
        headers [3] = allow;
        headers [4] = "Access-Control-Allow-Headers";
        headers [5] = CORS_ALLOW_HEADERS;
        headers [6] = "Access-Control-Max-Age";
        headers [7] = CORS_MAX_AGE_S;
    }
    return gw_http_respond (req, 204, NULL, NULL, 0, headers);
}
