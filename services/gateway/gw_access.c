/*  gw_access - request ids and one log line per HTTP request.
    See gw_access.h. */
#include "gw_access.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "gw_text.h"
#include "ts_log.h"
#include "ts_reqlog.h"

#define ACCESS_MAGIC 0x41434353u
#define ROUTE_MAX 96
#define PRINCIPAL_MAX 64

struct gw_access {
    uint32_t magic;                 //  ACCESS_MAGIC
    char request_id [TS_REQUEST_ID_MAX_CHARS + 1];
    char route [ROUTE_MAX];         //  template or a fixed name, "" unknown
    char principal [PRINCIPAL_MAX]; //  token id, "" without a token
};

//  Request ids need not be secret, only unique and unguessable enough
//  not to collide across restarts: one getrandom at the first request
//  seeds them, then each id is splitmix64's mix of seed + a counter (a
//  bijection of 64 bits, so no two ids of a run are equal), instead of
//  a getrandom syscall per request. The loop thread is the only caller.
static uint64_t s_id_seed;
static uint64_t s_id_counter;
static bool s_id_seeded;

static uint64_t
s_mix64 (uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

//  A fresh id: 16 lowercase hex characters (64 bits), as
//  ts_request_id_make makes them.
static void
s_request_id_make (char out [17])
{
    if (!s_id_seeded) {
        randombytes_buf (&s_id_seed, sizeof s_id_seed);
        s_id_seeded = true;
    }
    uint64_t bits = s_mix64 (s_id_seed + 0x9e3779b97f4a7c15ull * ++s_id_counter);
    static const char hex [] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, bits >>= 4)
        out [i] = hex [bits & 15];
    out [16] = '\0';
}

//  The answer is leaving: log the request (if wanted) and drop the record.
static void
s_on_respond (gw_http_request *req, unsigned status, size_t body_len, void *arg)
{
    gw_access *self = arg;
    assert (self && self->magic == ACCESS_MAGIC);
    if (ts_reqlog_wanted (status)) {
        uint64_t elapsed_us = (uv_hrtime () - gw_http_request_start_ns (req)) / 1000;
        size_t bytes_in = 0;
        gw_http_request_body (req, &bytes_in);
        ts_log_info ("http_request", "method=%s route=%s status=%u duration_ms=%llu.%llu "
                     "token=%s bytes_in=%zu bytes_out=%zu request_id=%s",
                     gw_http_request_method (req), self->route [0] ? self->route : "-",
                     status, (unsigned long long) elapsed_us / 1000,
                     (unsigned long long) (elapsed_us % 1000) / 100,
                     self->principal [0] ? self->principal : "-", bytes_in, body_len,
                     self->request_id);
    }
    self->magic = 0;
    free (self);
}

gw_access *
gw_access_begin (gw_http_request *req)
{
    assert (req);
    gw_access *self = calloc (1, sizeof (gw_access));
    assert (self);
    self->magic = ACCESS_MAGIC;
    const char *given = gw_http_request_header (req, "X-Request-Id");
    if (given && ts_request_id_header_ok (given))
        gw_text_copy (self->request_id, sizeof self->request_id, given);
    else
        s_request_id_make (self->request_id);
    gw_http_request_set_id (req, self->request_id);
    gw_http_request_set_user (req, self);
    gw_http_request_on_respond (req, s_on_respond, self);
    return self;
}

gw_access *
gw_access_of (gw_http_request *req)
{
    gw_access *self = gw_http_request_user (req);
    assert (!self || self->magic == ACCESS_MAGIC);
    return self;
}

void
gw_access_route (gw_access *self, const char *route_key)
{
    if (!self || !route_key)
        return;
    assert (self->magic == ACCESS_MAGIC);
    //  "POST /v1/households": the method is logged on its own.
    const char *blank = strchr (route_key, ' ');
    const char *route = blank && blank [1] == '/' ? blank + 1 : route_key;
    gw_text_copy (self->route, sizeof self->route, route);
    //  A template has no blanks; keep the line one token per field.
    for (char *c = self->route; *c; c++)
        if (*c == ' ' || *c == '"')
            *c = '_';
}

void
gw_access_principal (gw_access *self, const char *principal)
{
    if (!self || !principal)
        return;
    assert (self->magic == ACCESS_MAGIC);
    gw_text_copy (self->principal, sizeof self->principal, principal);
}

const char *
gw_access_request_id (const gw_access *self)
{
    assert (self && self->magic == ACCESS_MAGIC);
    return self->request_id;
}
