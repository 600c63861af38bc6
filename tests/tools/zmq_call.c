/*  =========================================================================
    zmq_call - a test client that speaks the daemons' ZeroMQ protocol on one
    DEALER connection, as an integrator would (tests/integration/)

        tashan-zmq-call [--config FILE] [--data-dir DIR] SERVICE < script

    The connection uses the config's CURVE keys (curve.public_key,
    secret_key, server_key) when set. The script has one command a line:
        call METHOD ROLE BINDING JSON   one request; ROLE "-" sends no
                                        Caller, BINDING "-" an empty one;
                                        JSON is the method's request
        raw HEX                         one frame of these bytes
        sleep MS                        wait (the connection stays open)
    Each request prints one line: CODE <tab> MESSAGE <tab> REPLY-JSON
    (0 when no reply came within 3 s). Request and reply messages are found
    by method name in the gateway's route tables (sys.* built in).
    =========================================================================
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common.pb-c.h"
#include "gw_json.h"
#include "gw_route.h"
#include "ts_config.h"
#include "ts_zmq.h"

#define LINE_MAX_BYTES (64 * 1024)
#define REPLY_TIMEOUT_MS 3000
#define TS_FRAME_MAX_BYTES_TOOL (4 * 1024 * 1024)

static void
s_descriptors (const char *method, const ProtobufCMessageDescriptor **req,
               const ProtobufCMessageDescriptor **rep)
{
    *req = *rep = NULL;
    if (!strcmp (method, "sys.Health")) {
        *req = &tashan__empty__descriptor;
        *rep = &tashan__health_reply__descriptor;
    }
    else if (!strcmp (method, "sys.Backup")) {
        *req = &tashan__backup_request__descriptor;
        *rep = &tashan__backup_reply__descriptor;
    }
    else if (!strcmp (method, "sys.Fetch")) {
        *req = &tashan__fetch_request__descriptor;
        *rep = &tashan__fetch_reply__descriptor;
    }
#define S_FIND(svc) \
    for (size_t i = 0; !*req && i < gw_routes_##svc##_count; i++) \
        if (!strcmp (gw_routes_##svc [i].rpc, method)) { \
            *req = gw_routes_##svc [i].request; \
            *rep = gw_routes_##svc [i].reply; \
        }
    TS_SERVICES (S_FIND)
#undef S_FIND
}

//  Wait for one reply and print it.
static void
s_print_reply (void *sock, const ProtobufCMessageDescriptor *rep_desc)
{
    uint8_t *buf = malloc (TS_FRAME_MAX_BYTES_TOOL);
    int n = zmq_recv (sock, buf, TS_FRAME_MAX_BYTES_TOOL, 0);
    Tashan__Reply *reply = n >= 0 ? tashan__reply__unpack (NULL, (size_t) n, buf) : NULL;
    if (!reply || !reply->status) {
        printf ("0\tno reply\t\n");
        free (buf);
        return;
    }
    char *json = NULL;
    if (rep_desc && reply->status->code < 400) {
        ProtobufCMessage *msg = protobuf_c_message_unpack (rep_desc, NULL, reply->body.len,
                                                           reply->body.data);
        json = msg ? gw_json_print (msg) : NULL;
        if (msg)
            protobuf_c_message_free_unpacked (msg, NULL);
    }
    printf ("%u\t%s\t%s\n", reply->status->code, reply->status->message, json ? json : "");
    free (json);
    tashan__reply__free_unpacked (reply, NULL);
    free (buf);
}

static void
s_call (void *sock, uint64_t corr_id, char *args)
{
    char *method = strtok (args, " "), *role = strtok (NULL, " "), *binding = strtok (NULL, " ");
    char *json = strtok (NULL, "\n");
    const ProtobufCMessageDescriptor *req_desc, *rep_desc;
    s_descriptors (method ? method : "", &req_desc, &rep_desc);
    char err [GW_JSON_ERR_SIZE] = "unknown method";
    ProtobufCMessage *body = req_desc && json
                           ? gw_json_parse (req_desc, json, strlen (json), NULL, err, sizeof err)
                           : NULL;
    if (!body || !role || !binding) {
        printf ("-1\tbad script line: %s\t\n", err);
        if (body)
            protobuf_c_message_free_unpacked (body, NULL);
        return;
    }
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = role;
    caller.binding = strcmp (binding, "-") ? binding : "";
    caller.principal = "zmq-call";
    Tashan__Request req = TASHAN__REQUEST__INIT;
    req.corr_id = corr_id;
    req.method = method;
    req.caller = strcmp (role, "-") ? &caller : NULL;
    req.body.len = protobuf_c_message_get_packed_size (body);
    req.body.data = malloc (req.body.len + 1);
    protobuf_c_message_pack (body, req.body.data);
    size_t size = protobuf_c_message_get_packed_size (&req.base);
    uint8_t *buf = malloc (size + 1);
    protobuf_c_message_pack (&req.base, buf);
    zmq_send (sock, buf, size, 0);
    free (buf);
    free (req.body.data);
    protobuf_c_message_free_unpacked (body, NULL);
    s_print_reply (sock, rep_desc);
}

static void
s_raw (void *sock, const char *hex)
{
    size_t n = strlen (hex) / 2;
    uint8_t *buf = malloc (n + 1);
    for (size_t i = 0; i < n; i++)
        sscanf (hex + 2 * i, "%2hhx", &buf [i]);
    zmq_send (sock, buf, n, 0);
    free (buf);
    s_print_reply (sock, NULL);
}

int
main (int argc, char **argv)
{
    ts_config cfg;
    if (ts_config_parse (&cfg, argc, argv, "tashan-zmq-call", "test client", "SERVICE",
                         true) != TS_CONFIG_RUN || cfg.argc != 1)
        return 2;
    const char *endpoint = ts_config_endpoint (&cfg, cfg.argv [0]);
    char err [512];
    void *sock = endpoint ? ts_zmq_dealer (endpoint, &cfg, false, err, sizeof err) : NULL;
    if (!sock) {
        fprintf (stderr, "tashan-zmq-call: %s\n", endpoint ? err : "unknown service");
        return 2;
    }
    int timeout_ms = REPLY_TIMEOUT_MS;
    zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    char *line = malloc (LINE_MAX_BYTES);
    for (uint64_t corr_id = 1; fgets (line, LINE_MAX_BYTES, stdin); corr_id++) {
        line [strcspn (line, "\n")] = 0;
        if (!strncmp (line, "call ", 5))
            s_call (sock, corr_id, line + 5);
        else if (!strncmp (line, "raw ", 4))
            s_raw (sock, line + 4);
        else if (!strncmp (line, "sleep ", 6))
            usleep ((useconds_t) atoi (line + 6) * 1000);
        fflush (stdout);
    }
    free (line);
    zmq_close (sock);
    ts_zmq_term ();
    return 0;
}
