/*  =========================================================================
    zmq_doc - prints the method reference of docs/zeromq.md

        tashan-zmq-doc > part.md

    Generated from the tables the daemons dispatch with (each service's
    ts_method table: name, request and reply messages, roles) and the
    gateway's route tables (the HTTP route of the same method), so the
    document cannot drift from the code: tests/integration/check_zmq_doc.py
    compares the committed document with this output.
    =========================================================================
*/
#include <stdio.h>
#include <string.h>

#include "gw_route.h"
#include "ts_service.h"

#define S_DECLARE(svc) extern const ts_service svc##_service;
TS_SERVICES (S_DECLARE)
#undef S_DECLARE

static const char *const s_role_names [] = {
    "public", "ops", "panel", "school", "merchant", "system"
};

static void
s_roles (unsigned roles, char *out, size_t size)
{
    out [0] = 0;
    size_t used = 0;
    for (unsigned i = 0; i < 6; i++)
        if (roles & (1u << i))
            used += (size_t) snprintf (out + used, size - used, "%s%s", used ? ", " : "",
                                       s_role_names [i]);
}

//  The HTTP routes of method, "GET /v1/..." joined with "<br>".
static void
s_http (const gw_route *routes, size_t count, const char *method, char *out, size_t size)
{
    out [0] = 0;
    size_t used = 0;
    for (size_t i = 0; i < count && used < size; i++)
        if (strcmp (routes [i].rpc, method) == 0)
            used += (size_t) snprintf (out + used, size - used, "%s`%s %s`",
                                       used ? "<br>" : "", routes [i].http_method,
                                       routes [i].pattern);
    if (!used)
        snprintf (out, size, "(ZeroMQ only)");
}

static void
s_service (const ts_service *service, const gw_route *routes, size_t route_count)
{
    printf ("\n### %s\n\n", service->name);
    printf ("| method | request | reply | roles | HTTP |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < service->method_count; i++) {
        const ts_method *m = &service->methods [i];
        char roles [128], http [1024];
        s_roles (m->roles, roles, sizeof roles);
        s_http (routes, route_count, m->name, http, sizeof http);
        printf ("| `%s`%s | `%s` | `%s` | %s | %s |\n", m->name,
                m->flags & TS_METHOD_WRITE ? " (write)" : "", m->request->name,
                m->reply->name, roles, http);
    }
}

int
main (void)
{
    printf ("## Methods\n\n"
            "Every daemon answers the built-in methods:\n\n"
            "| method | request | reply | roles |\n|---|---|---|---|\n"
            "| `sys.Health` | `tashan.Empty` | `tashan.HealthReply` | any authenticated client |\n"
            "| `sys.Fetch` | `tashan.FetchRequest` | `tashan.FetchReply` | system |\n"
            "| `sys.Backup` | `tashan.BackupRequest` | `tashan.BackupReply` | system |\n"
            "| `sys.Batch` | `tashan.RequestBatch` | `tashan.ReplyBatch` | any client: each "
            "entry is authorised on its own |\n");
#define S_PRINT(svc) s_service (&svc##_service, gw_routes_##svc, gw_routes_##svc##_count);
    TS_SERVICES (S_PRINT)
#undef S_PRINT
    return 0;
}
