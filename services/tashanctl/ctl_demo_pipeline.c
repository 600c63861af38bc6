/*  ctl_demo_pipeline - many calls to one daemon in flight at once, for
    the demo's parts (ctl_demo_year.c, ctl_demo_volunteers.c): a window
    of requests on one DEALER (a line), so the daemon applies them in
    groups, one commit each, as it does for the gateway, instead of one
    socket and one round trip per call. Replies are matched by
    correlation id. Calls that depend on the one before go one at a time
    on a line kept open, which saves the socket (and its handshake) a
    call. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#include "ctl_demo.h"
#include "ts_zmq.h"

#define PIPELINE_WINDOW 64
#define PIPELINE_WAIT_MS 30000      //  for the next reply, on a loaded machine

static void
s_send (void *sock, ctl_demo_call *c, uint64_t corr_id, ts_arena *arena)
{
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = (char *) (c->role ? c->role : "system");
    caller.binding = (char *) (c->binding ? c->binding : "");
    caller.principal = (char *) (c->principal ? c->principal : "tashanctl");
    Tashan__Request req = TASHAN__REQUEST__INIT;
    req.corr_id = corr_id;
    req.method = (char *) c->method;
    req.caller = &caller;
    size_t body_size = protobuf_c_message_get_packed_size (c->req);
    req.body.data = ts_arena_alloc (arena, body_size ? body_size : 1);
    req.body.len = protobuf_c_message_pack (c->req, req.body.data);
    size_t size = protobuf_c_message_get_packed_size (&req.base);
    uint8_t *buf = ts_arena_alloc (arena, size);
    protobuf_c_message_pack (&req.base, buf);
    if (zmq_send (sock, buf, size, 0) != (int) size)
        c->code = 503;
}

struct _ctl_demo_line {
    void *sock;                     //  DEALER to the daemon; NULL: none could be made
    uint64_t corr_base;             //  corr ids of earlier runs: their late replies dropped
};

ctl_demo_line *
ctl_demo_line_new (ctl_t *ctl, const char *service)
{
    assert (ctl && service);
    ctl_demo_line *self = calloc (1, sizeof *self);
    assert (self);
    char err [256];
    self->sock = ts_zmq_dealer (ts_config_endpoint (&ctl->cfg, service), &ctl->cfg, false,
                                err, sizeof err);
    if (!self->sock)
        fprintf (stderr, "tashanctl: demo: no socket to %s: %s\n", service, err);
    return self;
}

void
ctl_demo_line_destroy (ctl_demo_line **self_p)
{
    assert (self_p);
    ctl_demo_line *self = *self_p;
    if (!self)
        return;
    if (self->sock) {
        int linger_ms = 0;
        zmq_setsockopt (self->sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
        zmq_close (self->sock);
    }
    free (self);
    *self_p = NULL;
}

//  One reply off the socket into its call; false when none came in time.
static bool
s_receive (ctl_demo_line *self, ctl_demo_call *calls, size_t sent,
           const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena, size_t *answered)
{
    zmq_pollitem_t item = { self->sock, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, PIPELINE_WAIT_MS) != 1)
        return false;
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, self->sock, 0) >= 0) {
        Tashan__Reply *rep = (Tashan__Reply *) protobuf_c_message_unpack (
            &tashan__reply__descriptor, ts_arena_pb (arena), zmq_msg_size (&msg),
            zmq_msg_data (&msg));
        if (rep && rep->status && rep->corr_id > self->corr_base
        &&  rep->corr_id <= self->corr_base + sent) {
            ctl_demo_call *c = &calls [rep->corr_id - self->corr_base - 1];
            c->code = rep->status->code;
            if (c->code < 400 && reply_desc) {
                c->reply = protobuf_c_message_unpack (reply_desc, ts_arena_pb (arena),
                                                      rep->body.len, rep->body.data);
                if (!c->reply)
                    c->code = 500;
            }
            (*answered)++;
        }
    }
    zmq_msg_close (&msg);
    return true;
}

void
ctl_demo_line_run (ctl_demo_line *self, ctl_demo_call *calls, size_t n,
                   const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena)
{
    assert (self && (calls || n == 0));
    for (size_t i = 0; i < n; i++) {
        calls [i].code = self->sock ? 504 : 503;
        calls [i].reply = NULL;
    }
    if (!self->sock)
        return;
    size_t sent = 0, answered = 0;
    //  A reply answers one call at most, so `answered` counts up to `sent`.
    while (answered < sent || sent < n) {
        while (sent < n && sent - answered < PIPELINE_WINDOW) {
            s_send (self->sock, &calls [sent], self->corr_base + sent + 1, arena);
            sent++;
        }
        if (!s_receive (self, calls, sent, reply_desc, arena, &answered))
            break;                  //  the rest stay 504
    }
    self->corr_base += n;
}

unsigned
ctl_demo_line_call (ctl_demo_line *self, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena,
                    void *reply)
{
    ctl_demo_call call = { .method = method, .req = req };
    ctl_demo_line_run (self, &call, 1, reply_desc, arena);
    if (reply)
        *(ProtobufCMessage **) reply = call.code < 400 ? call.reply : NULL;
    return call.code;
}

void
ctl_demo_pipeline (ctl_t *ctl, const char *service, ctl_demo_call *calls, size_t n,
                   const ProtobufCMessageDescriptor *reply_desc, ts_arena *arena)
{
    ctl_demo_line *line = ctl_demo_line_new (ctl, service);
    ctl_demo_line_run (line, calls, n, reply_desc, arena);
    ctl_demo_line_destroy (&line);
}
