/*  gw_console - the console's files, /v1/session and /v1/qr.svg.
    See gw_console.h. */
#include "gw_console.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "gateway.pb-c.h"
#include "gw_json.h"
#include "ts_arena.h"

typedef struct { const char *path; const unsigned char *data; size_t size; } ts_embedded;
extern const ts_embedded gw_console_files [];

static void
s_answer (gw_http_request *req, gw_metrics *metrics, const char *key, unsigned status,
          const char *type, const void *body, size_t len, const char *const *headers)
{
    uint64_t elapsed_us = (uv_hrtime () - gw_http_request_start_ns (req)) / 1000;
    gw_metrics_request (metrics, key, status, elapsed_us);
    gw_http_respond (req, status, type, body, len, headers);
}

static void
s_fail (gw_http_request *req, gw_metrics *metrics, const char *key, unsigned status,
        const char *word, const char *message)
{
    uint64_t elapsed_us = (uv_hrtime () - gw_http_request_start_ns (req)) / 1000;
    gw_metrics_request (metrics, key, status, elapsed_us);
    gw_http_respond_error (req, status, word, message);
}

const unsigned char *
gw_console_file (const char *path, size_t *len)
{
    for (const ts_embedded *f = gw_console_files; f->path; f++)
        if (strcmp (f->path, path) == 0) {
            *len = f->size;
            return f->data;
        }
    return NULL;
}

static const char *
s_content_type (const char *path)
{
    static const char *const types [][2] = {
        { ".html", "text/html; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },
        { ".svg", "image/svg+xml" },
        { ".png", "image/png" },
        { ".json", "application/json" },
    };
    const char *dot = strrchr (path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types [0]; i++)
        if (strcmp (dot, types [i][0]) == 0)
            return types [i][1];
    return "application/octet-stream";
}

//  GET /favicon.ico: the console's icon (an SVG; browsers take it under
//  that name too), cached for a week.
static void
s_favicon (gw_http_request *req, gw_metrics *metrics)
{
    size_t len = 0;
    const unsigned char *data = gw_console_file ("favicon.svg", &len);
    assert (data);
    const char *const headers [] = { "Cache-Control", "public, max-age=604800", NULL };
    s_answer (req, metrics, "GET /favicon.ico", 200, "image/svg+xml", data, len, headers);
}

bool
gw_console_serve (gw_http_request *req, gw_metrics *metrics, const char *path)
{
    const char *file;
    if (strcmp (path, "/favicon.ico") == 0) {
        s_favicon (req, metrics);
        return true;
    }
    if (strcmp (path, "/") == 0 || strcmp (path, "/console") == 0
    ||  strcmp (path, "/console/") == 0)
        file = "index.html";
    else
    if (strncmp (path, "/console/", 9) == 0)
        file = path + 9;
    else
        return false;
    size_t len = 0;
    const unsigned char *data = strstr (file, "..") ? NULL : gw_console_file (file, &len);
    if (!data) {
        s_fail (req, metrics, "GET /console/{file}", 404, "not_found", "no such console file");
        return true;
    }
    //  A strong validator from the content: the browser revalidates each
    //  load (no-cache) and gets a 304 while the build is the same.
    uint64_t hash = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ data [i]) * 1099511628211ull;
    char etag [24];
    snprintf (etag, sizeof etag, "\"%016llx\"", (unsigned long long) hash);
    const char *const headers [] = {
        "Cache-Control", "no-cache", "ETag", etag, NULL
    };
    const char *match = gw_http_request_header (req, "If-None-Match");
    if (match && strcmp (match, etag) == 0)
        s_answer (req, metrics, "GET /console/{file}", 304, NULL, NULL, 0, headers);
    else
        s_answer (req, metrics, "GET /console/{file}", 200, s_content_type (file), data, len,
                  headers);
    return true;
}

//  The caller's token, or a 401 (429 after too many failures) answered
//  (false).
static bool
s_signed_in (gw_http_request *req, gw_metrics *metrics, gw_auth *auth, const char *key,
             ts_arena *arena, const char **role, const char **binding, const char **principal)
{
    unsigned code = gw_auth_request (auth, req, arena, role, binding, principal);
    if (code == 200)
        return true;
    if (code == 429)
        s_fail (req, metrics, key, 429, "too_many_requests",
                "too many failed authentications from this address; retry after a second");
    else
        s_fail (req, metrics, key, 401, "unauthorized", "a valid bearer token is required");
    return false;
}

void
gw_console_session (gw_http_request *req, gw_metrics *metrics, gw_auth *auth)
{
    const char *key = "GET /v1/session";
    ts_arena *arena = ts_arena_new ();
    const char *role, *binding, *principal;
    if (s_signed_in (req, metrics, auth, key, arena, &role, &binding, &principal)) {
        Tashan__Gateway__Session session = TASHAN__GATEWAY__SESSION__INIT;
        session.role = (char *) role;
        session.binding = (char *) binding;
        session.token_id = (char *) principal;
        char *json = gw_json_print (&session.base);
        assert (json);
        s_answer (req, metrics, key, 200, "application/json", json, strlen (json), NULL);
        free (json);
    }
    ts_arena_destroy (&arena);
}

//  The symbol as one SVG path: a square per dark module, rows merged.
static char *
s_qr_svg (const char *text, size_t *len)
{
    QRcode *qr = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return NULL;
    int n = qr->width, margin = 4;
    size_t cap = 512 + (size_t) n * (size_t) n * 24;
    char *svg = malloc (cap);
    assert (svg);
    size_t used = (size_t) snprintf (svg, cap,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
        "shape-rendering=\"crispEdges\"><rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>"
        "<path fill=\"#000\" d=\"", n + 2 * margin, n + 2 * margin);
    for (int row = 0; row < n; row++)
        for (int col = 0; col < n; col++) {
            if (!(qr->data [row * n + col] & 1))
                continue;
            int end = col;
            while (end + 1 < n && (qr->data [row * n + end + 1] & 1))
                end++;
            used += (size_t) snprintf (svg + used, cap - used, "M%d,%dH%dV%dH%dZ",
                                       col + margin, row + margin, end + 1 + margin,
                                       row + 1 + margin, col + margin);
            col = end;
        }
    used += (size_t) snprintf (svg + used, cap - used, "\"/></svg>");
    assert (used < cap);
    QRcode_free (qr);
    *len = used;
    return svg;
}

void
gw_console_qr (gw_http_request *req, gw_metrics *metrics, gw_auth *auth)
{
    const char *key = "GET /v1/qr.svg";
    ts_arena *arena = ts_arena_new ();
    const char *role, *binding, *principal;
    char text [1001] = "";
    const char *cursor = gw_http_request_query (req);
    gw_http_param param;
    bool bad = false;
    while (gw_http_query_next (&cursor, &param))
        if (param.key_len == 4 && memcmp (param.key, "text", 4) == 0)
            bad = gw_http_decode (param.value, param.value_len, text, sizeof text, true) < 0;
    if (!s_signed_in (req, metrics, auth, key, arena, &role, &binding, &principal))
        ;
    else
    if (bad || !text [0])
        s_fail (req, metrics, key, 400, "bad_request",
                "text is required (1 to 1000 bytes, URL-encoded)");
    else {
        size_t len;
        char *svg = s_qr_svg (text, &len);
        if (!svg)
            s_fail (req, metrics, key, 400, "bad_request", "text cannot be encoded as a QR symbol");
        else {
            s_answer (req, metrics, key, 200, "image/svg+xml", svg, len, NULL);
            free (svg);
        }
    }
    ts_arena_destroy (&arena);
}
