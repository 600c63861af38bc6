/*  gw_router - route lookup. See gw_router.h. */
#include "gw_router.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "gw_http.h"

typedef struct {
    const gw_route *routes;
    const size_t *count;
} table_t;

//  One table per daemon of services/services.list, in its order.
#define S_TABLE(svc) { gw_routes_##svc, &gw_routes_##svc##_count },
static const table_t s_tables [] = { TS_SERVICES (S_TABLE) };
#undef S_TABLE
#define TABLE_COUNT (sizeof s_tables / sizeof s_tables [0])

size_t
gw_router_count (void)
{
    size_t n = 0;
    for (size_t t = 0; t < TABLE_COUNT; t++)
        n += *s_tables [t].count;
    return n;
}

const gw_route *
gw_router_at (size_t index)
{
    for (size_t t = 0; t < TABLE_COUNT; t++) {
        if (index < *s_tables [t].count)
            return &s_tables [t].routes [index];
        index -= *s_tables [t].count;
    }
    return NULL;
}

//  Does path match pattern? Fills params when it does.
static gw_router_result
s_match (const char *pattern, const char *path, gw_match *match)
{
    const char *p = pattern, *q = path;
    match->param_count = 0;
    for (int segment = 0; segment < GW_SEGMENTS_MAX; segment++) {
        if (*p != '/' || *q != '/')
            return GW_ROUTER_NOT_FOUND;
        p++;
        q++;
        //  Most patterns differ from the path in their first bytes: a
        //  literal segment is compared as it is scanned (every request
        //  tries the routes in turn).
        if (*p != '{') {
            while (*p && *p != '/' && *p == *q) {
                p++;
                q++;
            }
            if ((*p && *p != '/') || (*q && *q != '/'))
                return GW_ROUTER_NOT_FOUND;
            if (*p == 0 && *q == 0)
                return GW_ROUTER_FOUND;
            if (*p == 0 || *q == 0)
                return GW_ROUTER_NOT_FOUND;
            continue;
        }
        const char *p_end = strchr (p, '/');
        const char *q_end = strchr (q, '/');
        size_t p_len = p_end ? (size_t) (p_end - p) : strlen (p);
        size_t q_len = q_end ? (size_t) (q_end - q) : strlen (q);
        if (p_len >= 2 && p [0] == '{' && p [p_len - 1] == '}') {
            if (q_len == 0)
                return GW_ROUTER_NOT_FOUND;
            assert (match->param_count < GW_PARAMS_MAX);
            gw_param *param = &match->params [match->param_count];
            ssize_t n = gw_http_decode (q, q_len, param->value, sizeof param->value, false);
            if (n < 0)
                return GW_ROUTER_BAD_PATH;
            param->name = p + 1;
            param->name_len = p_len - 2;
            match->param_count++;
        }
        else
        if (p_len != q_len || memcmp (p, q, p_len) != 0)
            return GW_ROUTER_NOT_FOUND;
        p += p_len;
        q += q_len;
        if (*p == 0 && *q == 0)
            return GW_ROUTER_FOUND;
        if (*p == 0 || *q == 0)
            return GW_ROUTER_NOT_FOUND;
    }
    return GW_ROUTER_NOT_FOUND;
}

gw_router_result
gw_router_find (const char *method, const char *path, gw_match *match)
{
    bool other_method = false;
    size_t n = gw_router_count ();
    for (size_t i = 0; i < n; i++) {
        const gw_route *route = gw_router_at (i);
        gw_router_result r = s_match (route->pattern, path, match);
        if (r == GW_ROUTER_BAD_PATH)
            return r;
        if (r != GW_ROUTER_FOUND)
            continue;
        //  HEAD is GET without the body.
        if (strcmp (route->http_method, method) == 0
        || (strcmp (method, "HEAD") == 0 && strcmp (route->http_method, "GET") == 0)) {
            match->route = route;
            return GW_ROUTER_FOUND;
        }
        other_method = true;
    }
    return other_method ? GW_ROUTER_METHOD : GW_ROUTER_NOT_FOUND;
}

//  The gateway's own paths, answered in gw_gateway.c (not RPC routes).
static const struct { const char *method, *pattern; } s_builtin [] = {
    { "GET", "/healthz" }, { "GET", "/metrics" }, { "GET", "/favicon.ico" },
    { "GET", "/v1/session" }, { "GET", "/v1/qr.svg" },
    { "GET", "/v1/tokens" }, { "POST", "/v1/tokens" }, { "DELETE", "/v1/tokens/{id}" },
    { "GET", "/c/{code}" },
};

size_t
gw_router_allow (const char *path, char *out, size_t out_size)
{
    static const char *const order [] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" };
    bool seen [6] = { false };
    size_t routes = gw_router_count ();
    size_t builtins = sizeof s_builtin / sizeof s_builtin [0];
    gw_match match;
    for (size_t i = 0; i < routes + builtins; i++) {
        const char *method = i < routes ? gw_router_at (i)->http_method : s_builtin [i - routes].method;
        const char *pattern = i < routes ? gw_router_at (i)->pattern : s_builtin [i - routes].pattern;
        if (s_match (pattern, path, &match) != GW_ROUTER_FOUND)
            continue;
        for (size_t m = 0; m < 6; m++)
            if (strcmp (method, order [m]) == 0)
                seen [m] = true;
    }
    seen [1] = seen [1] || seen [0];
    size_t count = 0, used = 0;
    out [0] = '\0';
    for (size_t m = 0; m < 6; m++)
        if (seen [m]) {
            used += (size_t) snprintf (out + used, out_size - used, "%s, ", order [m]);
            count++;
            assert (used < out_size);
        }
    if (count > 0)
        snprintf (out + used, out_size - used, "OPTIONS");
    return count;
}
