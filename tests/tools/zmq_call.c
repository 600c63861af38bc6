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
        deadline MS                     later calls carry deadline_ms now
                                        + MS (negative: already past;
                                        0: none, the default)
        batch N                         the next N calls go in one
                                        sys.Batch message (ts_batch.h)
    Each request prints one line: CODE <tab> MESSAGE <tab> REPLY-JSON
    (0 when no reply came within 3 s; a batch's lines in the order of its
    calls, each its own reply's, or the batch's one error when it was
    refused whole). Request and reply messages are found by method name in
    the gateway's route tables (sys.* built in).
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
#include "ts_batch.h"
#include "ts_config.h"
#include "ts_service.h"
#include "ts_time.h"
#include "ts_zmq.h"

#define LINE_MAX_BYTES (64 * 1024)
#define REPLY_TIMEOUT_MS 3000
#define TS_FRAME_MAX_BYTES_TOOL (4 * 1024 * 1024)
#define BATCH_BIT (UINT64_C (1) << 40)  //  a batch's corr_id, beside the calls'

//  The batch being collected (batch N): its calls' corr ids, reply
//  messages and, once answered, their printed lines.
static struct {
    ts_batch *entries;
    size_t left;                    //  calls still to come
    size_t count;
    uint64_t corr_ids [TS_BATCH_MAX];
    const ProtobufCMessageDescriptor *rep_descs [TS_BATCH_MAX];
    char *lines [TS_BATCH_MAX];
} s_batch;
static int64_t s_deadline_ms;       //  deadline MS: offset for later calls, 0 none

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

//  The line a reply prints (malloc'd).
static char *
s_reply_line (const Tashan__Reply *reply, const ProtobufCMessageDescriptor *rep_desc)
{
    char *json = NULL;
    if (rep_desc && reply->status->code < 400) {
        ProtobufCMessage *msg = protobuf_c_message_unpack (rep_desc, NULL, reply->body.len,
                                                           reply->body.data);
        json = msg ? gw_json_print (msg) : NULL;
        if (msg)
            protobuf_c_message_free_unpacked (msg, NULL);
    }
    size_t size = strlen (reply->status->message) + (json ? strlen (json) : 0) + 32;
    char *line = malloc (size);
    snprintf (line, size, "%u\t%s\t%s", reply->status->code, reply->status->message,
              json ? json : "");
    free (json);
    return line;
}

//  Wait for one reply (NULL when none came in time).
static Tashan__Reply *
s_recv_reply (void *sock)
{
    uint8_t *buf = malloc (TS_FRAME_MAX_BYTES_TOOL);
    int n = zmq_recv (sock, buf, TS_FRAME_MAX_BYTES_TOOL, 0);
    Tashan__Reply *reply = n >= 0 ? tashan__reply__unpack (NULL, (size_t) n, buf) : NULL;
    free (buf);
    if (reply && !reply->status) {
        tashan__reply__free_unpacked (reply, NULL);
        reply = NULL;
    }
    return reply;
}

//  Wait for one reply and print it.
static void
s_print_reply (void *sock, const ProtobufCMessageDescriptor *rep_desc)
{
    Tashan__Reply *reply = s_recv_reply (sock);
    if (!reply) {
        printf ("0\tno reply\t\n");
        return;
    }
    char *line = s_reply_line (reply, rep_desc);
    printf ("%s\n", line);
    free (line);
    tashan__reply__free_unpacked (reply, NULL);
}

//  A reply to one of the batch's calls: its line.
static void
s_batch_take (const Tashan__Reply *reply)
{
    for (size_t i = 0; i < s_batch.count; i++)
        if (s_batch.corr_ids [i] == reply->corr_id && !s_batch.lines [i])
            s_batch.lines [i] = s_reply_line (reply, s_batch.rep_descs [i]);
}

//  Send the collected batch, wait for its calls' replies (in one or more
//  ReplyBatch messages, or alone), print them in call order.
static void
s_batch_send (void *sock, uint64_t batch_corr_id)
{
    size_t size = ts_batch_sealed_size (s_batch.entries, batch_corr_id);
    uint8_t *buf = malloc (size + 1);
    ts_batch_seal (s_batch.entries, batch_corr_id, buf);
    zmq_send (sock, buf, size, 0);
    free (buf);
    ts_arena *arena = ts_arena_new ();
    for (size_t answered = 0; answered < s_batch.count; ) {
        Tashan__Reply *reply = s_recv_reply (sock);
        if (!reply)
            break;
        Tashan__ReplyBatch *replies = NULL;
        if (reply->corr_id == batch_corr_id && reply->status->code == 200)
            replies = ts_batch_replies (reply, arena);
        for (size_t i = 0; replies && i < replies->n_replies; i++)
            s_batch_take (replies->replies [i]);
        for (size_t i = 0; reply->corr_id == batch_corr_id && !replies && i < s_batch.count; i++)
            if (!s_batch.lines [i])
                s_batch.lines [i] = s_reply_line (reply, NULL);   //  refused whole
        s_batch_take (reply);
        tashan__reply__free_unpacked (reply, NULL);
        answered = 0;
        for (size_t i = 0; i < s_batch.count; i++)
            answered += s_batch.lines [i] != NULL;
    }
    for (size_t i = 0; i < s_batch.count; i++) {
        printf ("%s\n", s_batch.lines [i] ? s_batch.lines [i] : "0\tno reply\t");
        free (s_batch.lines [i]);
        s_batch.lines [i] = NULL;
    }
    ts_arena_destroy (&arena);
    ts_batch_clear (s_batch.entries);
    s_batch.count = 0;
}

//  Send a call's request, or keep it for the batch being collected.
static void
s_send_request (void *sock, const Tashan__Request *req,
                const ProtobufCMessageDescriptor *rep_desc)
{
    if (s_batch.left > 0) {
        ts_batch_add (s_batch.entries, &req->base);
        s_batch.corr_ids [s_batch.count] = req->corr_id;
        s_batch.rep_descs [s_batch.count++] = rep_desc;
        if (--s_batch.left == 0)
            s_batch_send (sock, BATCH_BIT | req->corr_id);
        return;
    }
    size_t size = protobuf_c_message_get_packed_size (&req->base);
    uint8_t *buf = malloc (size + 1);
    protobuf_c_message_pack (&req->base, buf);
    zmq_send (sock, buf, size, 0);
    free (buf);
    s_print_reply (sock, rep_desc);
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
    req.deadline_ms = s_deadline_ms ? ts_time_now_ms () + s_deadline_ms : 0;
    s_send_request (sock, &req, rep_desc);
    free (req.body.data);
    protobuf_c_message_free_unpacked (body, NULL);
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
    s_batch.entries = ts_batch_new (false);
    for (uint64_t corr_id = 1; fgets (line, LINE_MAX_BYTES, stdin); corr_id++) {
        line [strcspn (line, "\n")] = 0;
        if (!strncmp (line, "call ", 5))
            s_call (sock, corr_id, line + 5);
        else if (!strncmp (line, "raw ", 4))
            s_raw (sock, line + 4);
        else if (!strncmp (line, "sleep ", 6))
            usleep ((useconds_t) atoi (line + 6) * 1000);
        else if (!strncmp (line, "deadline ", 9))
            s_deadline_ms = atoll (line + 9);
        else if (!strncmp (line, "batch ", 6) && s_batch.left == 0) {
            int n = atoi (line + 6);
            s_batch.left = n > 0 && n <= TS_BATCH_MAX ? (size_t) n : 0;
        }
        fflush (stdout);
    }
    free (line);
    ts_batch_destroy (&s_batch.entries);
    zmq_close (sock);
    ts_zmq_term ();
    return 0;
}
