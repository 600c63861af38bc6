/*  test_gw_router - route lookup (exact paths, {param} capture with
    percent-decoding, 405, HEAD, not found, bad paths) and the shape of
    every service's route table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_router.h"
#include "ts_config.h"

//  The value of path parameter name in m, or NULL.
static const char *
s_param (const gw_match *m, const char *name)
{
    for (size_t i = 0; i < m->param_count; i++)
        if (m->params [i].name_len == strlen (name)
        &&  memcmp (m->params [i].name, name, m->params [i].name_len) == 0)
            return m->params [i].value;
    return NULL;
}

static gw_router_result
s_find (const char *method, const char *path, gw_match *m)
{
    memset (m, 0, sizeof *m);
    return gw_router_find (method, path, m);
}

//  --------------------------------------------------------------------
//  Lookup

static void
test_exact_paths (void **state)
{
    (void) state;
    gw_match m;
    assert_int_equal (s_find ("GET", "/v1/compounds", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->rpc, "residents.ListCompounds");
    assert_int_equal (m.param_count, 0);
    assert_int_equal (s_find ("POST", "/v1/compounds", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->rpc, "residents.CreateCompound");
    assert_int_equal (s_find ("POST", "/v1/credit/evaluations/batch", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->rpc, "ledger.EvaluateBatch");
    assert_string_equal (m.route->service, "ledger");
    assert_int_equal (s_find ("PUT", "/v1/merchant-rules", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->rpc, "merchants.SetRules");
}

static void
test_literal_beats_param_of_other_shape (void **state)
{
    (void) state;
    gw_match m;
    //  "/v1/needs/match-all" (POST) beside "/v1/needs/{id}" (GET).
    assert_int_equal (s_find ("POST", "/v1/needs/match-all", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->rpc, "residents.MatchAll");
    assert_int_equal (m.param_count, 0);
}

static void
test_param_capture (void **state)
{
    (void) state;
    gw_match m;
    assert_int_equal (s_find ("GET", "/v1/households/h12", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->rpc, "residents.GetHousehold");
    assert_int_equal (m.param_count, 1);
    assert_string_equal (s_param (&m, "id"), "h12");
    assert_int_equal (s_find ("GET", "/v1/households/h12/history", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->rpc, "residents.GetHistory");
    assert_string_equal (s_param (&m, "id"), "h12");
}

static void
test_two_params (void **state)
{
    (void) state;
    gw_match m;
    assert_int_equal (s_find ("PATCH", "/v1/merchants/m1/complaints/c7", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->rpc, "merchants.ResolveComplaint");
    assert_int_equal (m.param_count, 2);
    assert_string_equal (s_param (&m, "id"), "m1");
    assert_string_equal (s_param (&m, "complaint_id"), "c7");
}

static void
test_param_percent_decoded (void **state)
{
    (void) state;
    gw_match m;
    assert_int_equal (s_find ("GET", "/v1/households/h%201", &m), GW_ROUTER_FOUND);
    assert_string_equal (s_param (&m, "id"), "h 1");
    assert_int_equal (s_find ("GET", "/v1/households/%E7%A4%BE%e5%8c%ba", &m), GW_ROUTER_FOUND);
    assert_string_equal (s_param (&m, "id"), "社区");
    //  An encoded slash stays inside the one segment.
    assert_int_equal (s_find ("GET", "/v1/households/a%2Fb", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->rpc, "residents.GetHousehold");
    assert_string_equal (s_param (&m, "id"), "a/b");
    //  '+' is a plus in a path (only queries turn it into a space).
    assert_int_equal (s_find ("GET", "/v1/households/a+b", &m), GW_ROUTER_FOUND);
    assert_string_equal (s_param (&m, "id"), "a+b");
}

static void
test_method_not_allowed (void **state)
{
    (void) state;
    gw_match m;
    assert_int_equal (s_find ("DELETE", "/v1/compounds", &m), GW_ROUTER_METHOD);
    assert_int_equal (s_find ("PUT", "/v1/households/h1", &m), GW_ROUTER_METHOD);
    assert_int_equal (s_find ("GET", "/v1/credit/evaluations", &m), GW_ROUTER_METHOD);
    assert_int_equal (s_find ("get", "/v1/compounds", &m), GW_ROUTER_METHOD);   //  case matters
}

static void
test_head_matches_get (void **state)
{
    (void) state;
    gw_match m;
    assert_int_equal (s_find ("HEAD", "/v1/compounds", &m), GW_ROUTER_FOUND);
    assert_string_equal (m.route->http_method, "GET");
    assert_string_equal (m.route->rpc, "residents.ListCompounds");
    assert_int_equal (s_find ("HEAD", "/v1/households/h1", &m), GW_ROUTER_FOUND);
    assert_string_equal (s_param (&m, "id"), "h1");
    //  ...but not a POST-only path.
    assert_int_equal (s_find ("HEAD", "/v1/credit/evaluations", &m), GW_ROUTER_METHOD);
}

static void
test_not_found (void **state)
{
    (void) state;
    static const char *const paths [] = {
        "/v1/compounds/c1/archive/now",     //  extra segment
        "/v1/households/h1/history/x",
        "/v1/credit",                       //  missing segments
        "/v1/merchants/m1/complaints/",     //  empty last param
        "/v1/compounds/",                   //  trailing slash
        "/v1/households/h1/",
        "/v1/households/",                  //  empty param
        "/v1//compounds",
        "/v1",
        "/v1/",
        "/",
        "",
        "v1/compounds",                     //  no leading slash
        "/v2/compounds",
        "/v1/nope",
        "/V1/compounds",
        "/v1/compoundsx",
        "/v1/compounds?x=1",                //  query is not part of the path
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths [0]; i++) {
        gw_match m;
        gw_router_result r = s_find ("GET", paths [i], &m);
        if (r != GW_ROUTER_NOT_FOUND)
            fprintf (stderr, "path '%s' gave %d\n", paths [i], (int) r);
        assert_int_equal (r, GW_ROUTER_NOT_FOUND);
    }
}

//  Allow for 405 and OPTIONS: the route tables' methods and the
//  gateway's own, HEAD with GET, OPTIONS always; nothing for no route.
static void
test_allow (void **state)
{
    char allow [96];
    assert_int_equal (gw_router_allow ("/healthz", allow, sizeof allow), 2);
    assert_string_equal (allow, "GET, HEAD, OPTIONS");
    assert_int_equal (gw_router_allow ("/v1/tokens", allow, sizeof allow), 3);
    assert_string_equal (allow, "GET, HEAD, POST, OPTIONS");
    assert_int_equal (gw_router_allow ("/v1/tokens/t1", allow, sizeof allow), 1);
    assert_string_equal (allow, "DELETE, OPTIONS");
    assert_true (gw_router_allow ("/v1/households", allow, sizeof allow) >= 2);
    assert_non_null (strstr (allow, "GET, HEAD, POST"));
    assert_int_equal (gw_router_allow ("/no/such/path", allow, sizeof allow), 0);
    assert_string_equal (allow, "");
}

static void
test_bad_percent_escape (void **state)
{
    (void) state;
    static const char *const paths [] = {
        "/v1/households/%zz", "/v1/households/h%2", "/v1/households/h%",
        "/v1/households/%00", "/v1/households/h1%G0/history",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths [0]; i++) {
        gw_match m;
        assert_int_equal (s_find ("GET", paths [i], &m), GW_ROUTER_BAD_PATH);
    }
}

static void
test_param_too_long_is_bad_path (void **state)
{
    (void) state;
    char path [GW_PARAM_MAX_BYTES + 64];
    int n = snprintf (path, sizeof path, "/v1/households/");
    memset (path + n, 'h', GW_PARAM_MAX_BYTES);
    path [n + GW_PARAM_MAX_BYTES] = 0;
    gw_match m;
    assert_int_equal (s_find ("GET", path, &m), GW_ROUTER_BAD_PATH);
    path [n + GW_PARAM_MAX_BYTES - 1] = 0;         //  1023 bytes fit
    assert_int_equal (s_find ("GET", path, &m), GW_ROUTER_FOUND);
    assert_int_equal (strlen (s_param (&m, "id")), GW_PARAM_MAX_BYTES - 1);
}

static void
test_many_segments_not_found (void **state)
{
    (void) state;
    char path [512] = "";
    for (int i = 0; i < 40; i++)
        strcat (path, "/v1");
    gw_match m;
    assert_int_equal (s_find ("GET", path, &m), GW_ROUTER_NOT_FOUND);
}

//  --------------------------------------------------------------------
//  The tables

static bool
s_known_service (const char *name)
{
    for (int i = 0; i < TS_SERVICE_COUNT; i++)
        if (strcmp (ts_service_names [i], name) == 0)
            return true;
    return false;
}

static void
test_table_has_routes (void **state)
{
    (void) state;
    size_t n = gw_router_count ();
    assert_true (n > 50);
    for (size_t i = 0; i < n; i++)
        assert_non_null (gw_router_at (i));
    assert_null (gw_router_at (n));
    assert_null (gw_router_at (n + 100));
}

static void
test_every_route_well_formed (void **state)
{
    (void) state;
    static const char *const methods [] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
    size_t n = gw_router_count ();
    for (size_t i = 0; i < n; i++) {
        const gw_route *r = gw_router_at (i);
        assert_non_null (r->pattern);
        assert_non_null (r->http_method);
        assert_non_null (r->service);
        assert_non_null (r->rpc);
        bool method_ok = false;
        for (int k = 0; k < 5; k++)
            method_ok = method_ok || strcmp (r->http_method, methods [k]) == 0;
        if (!method_ok || strncmp (r->pattern, "/v1/", 4) != 0 || !s_known_service (r->service)
        ||  strncmp (r->rpc, r->service, strlen (r->service)) != 0
        ||  r->rpc [strlen (r->service)] != '.' || !r->rpc [strlen (r->service) + 1]
        ||  !r->request || !r->reply)
            fail_msg ("route %zu (%s %s -> %s) is malformed", i, r->http_method,
                      r->pattern, r->rpc);
        //  No empty segment, no trailing slash.
        assert_null (strstr (r->pattern, "//"));
        assert_int_not_equal (r->pattern [strlen (r->pattern) - 1], '/');
    }
}

static void
test_no_duplicate_method_and_pattern (void **state)
{
    (void) state;
    size_t n = gw_router_count ();
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const gw_route *a = gw_router_at (i), *b = gw_router_at (j);
            if (strcmp (a->http_method, b->http_method) == 0
            &&  strcmp (a->pattern, b->pattern) == 0)
                fail_msg ("%s %s is routed twice (%s, %s)", a->http_method, a->pattern,
                          a->rpc, b->rpc);
        }
}

static void
test_path_params_are_request_fields (void **state)
{
    (void) state;
    size_t n = gw_router_count ();
    for (size_t i = 0; i < n; i++) {
        const gw_route *r = gw_router_at (i);
        int params = 0, segments = 0;
        for (const char *p = r->pattern; *p; p++) {
            if (*p == '/')
                segments++;
            if (*p != '{')
                continue;
            const char *end = strchr (p, '}');
            assert_non_null (end);
            char name [64];
            snprintf (name, sizeof name, "%.*s", (int) (end - p - 1), p + 1);
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field_by_name (r->request, name);
            if (!f || f->type != PROTOBUF_C_TYPE_STRING)
                fail_msg ("%s %s: {%s} is not a string field of %s", r->http_method,
                          r->pattern, name, r->request->name);
            params++;
        }
        assert_true (params <= GW_PARAMS_MAX);
        assert_true (segments <= GW_SEGMENTS_MAX);
    }
}

static void
test_raw_routes_have_raw_replies (void **state)
{
    (void) state;
    size_t n = gw_router_count ();
    for (size_t i = 0; i < n; i++) {
        const gw_route *r = gw_router_at (i);
        if (!(r->flags & GW_RAW))
            continue;
        assert_non_null (protobuf_c_message_descriptor_get_field_by_name (r->reply, "content_type"));
        assert_non_null (protobuf_c_message_descriptor_get_field_by_name (r->reply, "data"));
    }
}

static void
test_body_only_on_methods_with_bodies (void **state)
{
    (void) state;
    size_t n = gw_router_count ();
    for (size_t i = 0; i < n; i++) {
        const gw_route *r = gw_router_at (i);
        if ((r->flags & GW_BODY) && (strcmp (r->http_method, "GET") == 0
                                  || strcmp (r->http_method, "DELETE") == 0))
            fail_msg ("%s %s takes a JSON body", r->http_method, r->pattern);
    }
}

//  Every route can be reached: its pattern with sample parameter values
//  finds that very route (an earlier pattern does not shadow it).
static void
test_every_route_reachable (void **state)
{
    (void) state;
    size_t n = gw_router_count ();
    for (size_t i = 0; i < n; i++) {
        const gw_route *r = gw_router_at (i);
        char path [512] = "";
        size_t used = 0;
        for (const char *p = r->pattern; *p && used < sizeof path - 16; ) {
            if (*p == '{') {
                used += (size_t) snprintf (path + used, sizeof path - used, "x%zu", i);
                p = strchr (p, '}') + 1;
            }
            else
                path [used++] = *p++;
        }
        path [used] = 0;
        gw_match m;
        gw_router_result res = s_find (r->http_method, path, &m);
        if (res != GW_ROUTER_FOUND || m.route != r)
            fail_msg ("%s %s (from %s) does not reach %s", r->http_method, path, r->pattern,
                      r->rpc);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_exact_paths),
        cmocka_unit_test (test_literal_beats_param_of_other_shape),
        cmocka_unit_test (test_param_capture),
        cmocka_unit_test (test_two_params),
        cmocka_unit_test (test_param_percent_decoded),
        cmocka_unit_test (test_method_not_allowed),
        cmocka_unit_test (test_head_matches_get),
        cmocka_unit_test (test_not_found),
        cmocka_unit_test (test_allow),
        cmocka_unit_test (test_bad_percent_escape),
        cmocka_unit_test (test_param_too_long_is_bad_path),
        cmocka_unit_test (test_many_segments_not_found),
        cmocka_unit_test (test_table_has_routes),
        cmocka_unit_test (test_every_route_well_formed),
        cmocka_unit_test (test_no_duplicate_method_and_pattern),
        cmocka_unit_test (test_path_params_are_request_fields),
        cmocka_unit_test (test_raw_routes_have_raw_replies),
        cmocka_unit_test (test_body_only_on_methods_with_bodies),
        cmocka_unit_test (test_every_route_reachable),
    };
    return cmocka_run_group_tests_name ("gw_router", tests, NULL, NULL);
}
